/**
 * The ERP's OData model (contracts/erp.csdl.xml) and the ERP state's records as rows of its entity sets. It lives
 * with the ERP, not with the OData protocol, which knows no domain: the protocol reads generic rows, and this is the one
 * place that maps record fields (records.ts: cents, day strings, epoch ms) to the CSDL's property names and
 * values, so that the OData face (next session: queries, serialisers for v4 JSON, v2 JSON and Atom) reads rows,
 * never records, and the tests can check that every declared property has a counterpart in the state.
 *
 * Row values are JSON-side: strings, numbers (Decimal as a number with at most 2 fraction digits: cents / 100),
 * booleans, Edm.Date as YYYY-MM-DD, Edm.DateTimeOffset as ISO 8601 UTC with milliseconds, null. Each serialiser
 * turns them into its own format (v2 JSON: /Date(ms)/ and Decimal as a string; Atom: text).
 *
 * InvoiceLines are keyed by InvoiceLineId = global line index + 1 (the header of the CSDL says why).
 */
import { fileURLToPath } from 'node:url';
import type { Row } from '../../protocols/odata/evaluate/values.js';
import { loadCsdlFile } from '../../protocols/odata/model/csdl-reader.js';
import { edmxV2 } from '../../protocols/odata/model/edmx-v2.js';
import type { Model } from '../../protocols/odata/model/model.js';
import { amount, isoDateTime } from './ids.js';
import type { CustomerRecord, InvoiceLineRecord, InvoiceRecord, Product, SalesOrderHeader, SalesOrderRecord } from './records.js';
import type { ErpState } from './state.js';
import { customerView, invoiceSummaryView, salesOrderFields } from './views.js';

export type { Row, RowValue } from '../../protocols/odata/evaluate/values.js';

/** The same relative URL works from src/systems/erp (vitest) and dist/systems/erp (after tsc): same depth. */
export const ERP_CSDL_FILE = fileURLToPath(new URL('../../../contracts/erp.csdl.xml', import.meta.url));

export const ERP_ENTITY_SETS = ['Customers', 'Products', 'SalesOrders', 'Invoices', 'InvoiceLines'] as const;
export type ErpEntitySetName = (typeof ERP_ENTITY_SETS)[number];

let cached: Model | undefined;

/** The ERP's model, read once per process from contracts/erp.csdl.xml (or from `file`, uncached). */
export function loadErpModel(file?: string): Model {
  if (file !== undefined) return loadCsdlFile(file);
  cached ??= loadCsdlFile(ERP_CSDL_FILE);
  return cached;
}

let cachedV2: string | undefined;

/**
 * The $metadata documents as served: v4 is contracts/erp.csdl.xml as written (the contract, comments and all);
 * v2 is generated from the same model (edmx-v2.ts), once per process.
 */
export function erpMetadata(version: 'v2' | 'v4'): string {
  const model = loadErpModel();
  if (version === 'v4') return model.csdl;
  cachedV2 ??= edmxV2(model);
  return cachedV2;
}

/** InvoiceLineId of global line g, and back (undefined for a key that is not a line's) */
export const invoiceLineKey = (index: number): number => index + 1;
export function invoiceLineIndex(state: ErpState, key: unknown): number | undefined {
  if (typeof key !== 'number' || !Number.isInteger(key) || key < 1 || key > state.invoiceLineCount) return undefined;
  return key - 1;
}

/** a customer as SOAP's GetCustomer shows it is already the Customers row: the same names, the same values */
export function customerRow(state: ErpState, c: CustomerRecord): Row {
  return customerView(state, c) as Row;
}

export function productRow(p: Product): Row {
  return { ProductId: p.id, Description: p.description, UnitPrice: amount(p.unitPriceCents) };
}

/**
 * SOAP's sales order without its lines, with their count and the invoice that billed it; from the order or from
 * its header (ErpState.salesOrderHeaders: a listing that computes no seeded line)
 */
export function salesOrderRow(o: SalesOrderRecord | SalesOrderHeader): Row {
  // in the CSDL's order (the order rows are serialised in): the timestamps last
  const { CreatedAt, ChangedAt, ...head } = salesOrderFields(o);
  return { ...head, LineCount: 'lineCount' in o ? o.lineCount : o.lines.length, InvoiceId: o.invoiceId, CreatedAt, ChangedAt };
}

/** SOAP's InvoiceSummary, with when it last changed */
export function invoiceRow(i: InvoiceRecord): Row {
  return { ...invoiceSummaryView(i), ChangedAt: isoDateTime(i.changedAt) };
}

/** written out, not SOAP's line view spread into it: a scan builds a million of these, and spreading costs tenfold */
export function invoiceLineRow(l: InvoiceLineRecord): Row {
  return {
    InvoiceLineId: invoiceLineKey(l.index),
    InvoiceId: l.invoiceId,
    LineNumber: l.lineNumber,
    ProductId: l.productId,
    Description: l.description,
    Quantity: l.quantity,
    UnitPrice: amount(l.unitPriceCents),
    NetAmount: amount(l.netCents),
  };
}

/** The row of a set by its key value, or undefined (a key lookup, for single-entity reads and tests). */
export function erpRowByKey(state: ErpState, set: ErpEntitySetName, key: string | number): Row | undefined {
  switch (set) {
    case 'Customers': {
      const c = typeof key === 'string' ? state.customer(key) : undefined;
      return c && customerRow(state, c);
    }
    case 'Products': {
      const p = typeof key === 'string' ? state.product(key) : undefined;
      return p && productRow(p);
    }
    case 'SalesOrders': {
      const o = typeof key === 'string' ? state.salesOrder(key) : undefined;
      return o && salesOrderRow(o);
    }
    case 'Invoices': {
      const i = typeof key === 'string' ? state.invoice(key) : undefined;
      return i && invoiceRow(i);
    }
    case 'InvoiceLines': {
      const g = invoiceLineIndex(state, key);
      return g === undefined ? undefined : invoiceLineRow(state.invoiceLineAt(g));
    }
  }
}
