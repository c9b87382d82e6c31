/**
 * The ERP's OData face (issue #12): one entity-set handler per set of contracts/erp.csdl.xml over the same
 * ErpState SOAP serves. The OData engine (src/protocols/odata) does everything protocol-shaped; this file is the
 * ERP's side of handler.ts — rows, key lookups, equality indexes, ETags and change tracking — and wires in the
 * writes (odata-writes.ts), which apply SOAP's rules.
 *
 * Rows are built on demand from the state's read API with odata-model.ts's builders, never materialised as a whole:
 * a walk of the million InvoiceLines by next links reads one page per request (scanFrom starts at the line's
 * global index), a count without $filter is the state's count (size), and SalesOrders rows come from order
 * headers, so a scan of the seeded orders computes none of their lines.
 *
 * Equality indexes (`equal`): the keys of every set, the external keys (ExternalId, ExternalOrderNumber), a
 * customer's invoices and sales orders (CustomerId), and an invoice's lines (InvoiceId: one contiguous range).
 *
 * Key order: the string keys are fixed-width ids (10 digits; MAT-NNNNNN for products), so their string order — the
 * order the engine compares keys in — is their numeric order, and the state's id-ordered iteration is key order.
 * scanFrom also takes a key that is no id of this ERP (a forged or foreign $skiptoken): it starts at the first id
 * that sorts after it. InvoiceLines are keyed by an Int32 (global index + 1).
 *
 * ETags: Customers and SalesOrders give the record's version, which every change of a row value bumps (the
 * customer's OpenOrderValue included: state.ts). The read-only sets (Products, Invoices, InvoiceLines) are seeded
 * and never change, so they give no ETag: an ETag that can never differ tells a client nothing, and If-Match has
 * nothing to protect on a set that takes no writes.
 */
import type { RowSource } from '../../protocols/odata/evaluate/page.js';
import type { Row, RowValue } from '../../protocols/odata/evaluate/values.js';
import type { ODataEntitySetHandler, ODataSystemDefinition } from '../../protocols/odata/handler.js';
import { documentId, INVOICE_BASE } from './ids.js';
import { customerRow, erpRowByKey, invoiceLineRow, invoiceRow, productRow, salesOrderRow, type ErpEntitySetName } from './odata-model.js';
import { customerWrites, ERP_ODATA_READ_ONLY, salesOrderWrites } from './odata-writes.js';
import type { ErpState } from './state.js';

export { ERP_ODATA_ERROR_CODES, ERP_ODATA_READ_ONLY, type ErpODataErrorCode } from './odata-writes.js';

/** the first number (0 .. 10^10) whose 10-digit id sorts after `key`; 0 for no key */
export function firstNumberAfter(key: RowValue | undefined): number {
  if (key === undefined || key === null) return 0;
  const k = String(key);
  // ids are fixed-width, so documentId is monotonic in string order: a binary search over the number range
  let lo = 0;
  let hi = 10_000_000_000;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (documentId(mid) > k) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** the id to hand the state's keyset iteration (customers(afterId), salesOrders(afterId)) for rows after `key` */
function afterIdFor(key: RowValue | undefined): string | undefined {
  const first = firstNumberAfter(key);
  return first === 0 ? undefined : documentId(first - 1);
}

/** a RowSource from a key-ordered scan and a size */
function source(scan: (afterKey: RowValue | undefined) => Iterable<Row>, size: () => number): RowSource {
  return { [Symbol.iterator]: () => scan(undefined)[Symbol.iterator](), scanFrom: scan, size };
}

function* mapped<T>(items: Iterable<T>, row: (item: T) => Row): Generator<Row> {
  for (const item of items) yield row(item);
}

function byKey(set: ErpEntitySetName) {
  return (state: ErpState, key: RowValue): Row | undefined => (typeof key === 'string' || typeof key === 'number' ? erpRowByKey(state, set, key) : undefined);
}

/** the row (or none) a unique string property's value names; undefined (not indexed) for a null or a non-string */
function one(value: RowValue, find: (v: string) => Row | undefined): Row[] | undefined {
  if (typeof value !== 'string') return undefined;
  const row = find(value);
  return row ? [row] : [];
}

const customers: ODataEntitySetHandler<ErpState> = {
  rows: (state) => source((after) => mapped(state.customers(afterIdFor(after)), (c) => customerRow(state, c)), () => state.customerCount()),
  byKey: byKey('Customers'),
  equal(state, property, value) {
    if (property === 'CustomerId') return one(value, (id) => erpRowByKey(state, 'Customers', id));
    if (property === 'ExternalId') {
      return one(value, (external) => {
        const c = state.customerByExternalId(external);
        return c && customerRow(state, c);
      });
    }
    return undefined;
  },
  etag: (state, row) => String(state.customer(row.CustomerId as string)?.version ?? 0),
  changedKeys: (state, from, to) => state.changedKeys('Customers', from, to),
  ...customerWrites,
};

const products: ODataEntitySetHandler<ErpState> = {
  rows: (state) =>
    source(
      (after) => mapped(after === undefined || after === null ? state.products : state.products.filter((p) => p.id > String(after)), productRow),
      () => state.products.length,
    ),
  byKey: byKey('Products'),
  equal: (state, property, value) => (property === 'ProductId' ? one(value, (id) => erpRowByKey(state, 'Products', id)) : undefined),
};

const salesOrders: ODataEntitySetHandler<ErpState> = {
  // headers: a listing computes no seeded order's lines (10,000 orders × 100 lines by default)
  rows: (state) => source((after) => mapped(state.salesOrderHeaders(afterIdFor(after)), salesOrderRow), () => state.salesOrderCount()),
  byKey: byKey('SalesOrders'),
  equal(state, property, value) {
    if (property === 'SalesOrderId') return one(value, (id) => erpRowByKey(state, 'SalesOrders', id));
    if (property === 'ExternalOrderNumber') {
      return one(value, (external) => {
        const o = state.salesOrderByExternalNumber(external);
        return o && salesOrderRow(o);
      });
    }
    // a customer's orders (Salesforce's related list on a customer asks `CustomerId eq '…'`)
    if (property === 'CustomerId' && typeof value === 'string') return state.customerSalesOrderHeaders(value).map(salesOrderRow);
    return undefined;
  },
  etag: (state, row) => String(state.salesOrder(row.SalesOrderId as string)?.version ?? 0),
  changedKeys: (state, from, to) => state.changedKeys('SalesOrders', from, to),
  ...salesOrderWrites,
};

function* invoicesFrom(state: ErpState, first: number): Generator<Row> {
  for (let i = Math.max(0, first); i < state.invoiceCount; i++) yield invoiceRow(state.invoiceAt(i));
}

const invoices: ODataEntitySetHandler<ErpState> = {
  rows: (state) => source((after) => invoicesFrom(state, firstNumberAfter(after) - INVOICE_BASE), () => state.invoiceCount),
  byKey: byKey('Invoices'),
  equal(state, property, value) {
    if (property === 'InvoiceId') return one(value, (id) => erpRowByKey(state, 'Invoices', id));
    // a customer's invoices, ascending (an index the seed keeps)
    if (property === 'CustomerId' && typeof value === 'string') return mapped(state.customerInvoiceIndexes(value), (i) => invoiceRow(state.invoiceAt(i)));
    return undefined;
  },
};

/** lines [from, to) by global index, built one at a time */
function* linesBetween(state: ErpState, from: number, to: number): Generator<Row> {
  for (let g = from; g < to; g++) yield invoiceLineRow(state.invoiceLineAt(g));
}

/** the global index of the first line whose key (index + 1) is greater than `key` */
function firstLineAfter(state: ErpState, key: RowValue | undefined): number {
  if (key === undefined || key === null) return 0;
  const n = typeof key === 'number' ? key : Number(key);
  if (Number.isNaN(n)) return 0;
  return Math.min(state.invoiceLineCount, Math.max(0, Math.floor(n)));
}

const invoiceLines: ODataEntitySetHandler<ErpState> = {
  rows: (state) => source((after) => linesBetween(state, firstLineAfter(state, after), state.invoiceLineCount), () => state.invoiceLineCount),
  byKey: byKey('InvoiceLines'),
  equal(state, property, value) {
    if (property === 'InvoiceLineId') {
      if (typeof value !== 'number') return undefined;
      const row = erpRowByKey(state, 'InvoiceLines', value);
      return row ? [row] : [];
    }
    // an invoice's lines are one contiguous range of global indexes
    if (property === 'InvoiceId' && typeof value === 'string') {
      const i = state.invoiceIndexOf(value);
      if (i === undefined) return [];
      const { lineStart, lineCount } = state.invoiceAt(i);
      return linesBetween(state, lineStart, lineStart + lineCount);
    }
    return undefined;
  },
};

export const erpODataDefinition: ODataSystemDefinition<ErpState> = {
  name: 'erp',
  sets: { Customers: customers, Products: products, SalesOrders: salesOrders, Invoices: invoices, InvoiceLines: invoiceLines },
  readOnly: ERP_ODATA_READ_ONLY,
  keys: { SalesOrders: 'ExternalOrderNumber', Customers: 'ExternalId' },
  position: (state) => state.revision,
};
