/**
 * What the format tests share: the real ERP model and rows of a small seeded ERP state, and write contexts for
 * its sets the way the engine builds them.
 */
import type { EntityOut, EntityWriteContext } from '../../../../src/protocols/odata/format/types.js';
import type { EntitySet, Property } from '../../../../src/protocols/odata/model/model.js';
import type { Row } from '../../../../src/protocols/odata/evaluate/values.js';
import {
  customerRow,
  invoiceLineRow,
  invoiceRow,
  loadErpModel,
  productRow,
  salesOrderRow,
  type ErpEntitySetName,
} from '../../../../src/systems/erp/odata-model.js';
import { ErpState } from '../../../../src/systems/erp/state.js';
import { ManualClock } from '../../../../src/util/clock.js';

export const model = loadErpModel();
export const ROOT = 'https://understudy.test/w/ws1/erp/odata/v4/';
export const ROOT_V2 = 'https://understudy.test/w/ws1/erp/odata/v2/';

export const state = new ErpState({ seed: 1, clock: new ManualClock(Date.UTC(2026, 2, 1, 9)), customers: 5, invoices: 10, invoiceLines: 40 });

export function setOf(name: ErpEntitySetName): EntitySet {
  return model.entitySet(name)!;
}

/** every row of the small state, per set */
export function rowsOf(name: ErpEntitySetName): Row[] {
  switch (name) {
    case 'Customers':
      return [...state.customers()].map((c) => customerRow(state, c));
    case 'Products':
      return state.products.slice(0, 20).map(productRow);
    case 'SalesOrders':
      return [...state.salesOrders()].map(salesOrderRow);
    case 'Invoices':
      return Array.from({ length: state.invoiceCount }, (_, i) => invoiceRow(state.invoiceAt(i)));
    case 'InvoiceLines':
      return Array.from({ length: state.invoiceLineCount }, (_, i) => invoiceLineRow(state.invoiceLineAt(i)));
  }
}

/** the context of a response for a set: every property, or the $select list */
export function contextOf(name: ErpEntitySetName, select?: string[], root = ROOT): EntityWriteContext {
  const set = setOf(name);
  const properties: Property[] = select ? select.map((n) => set.entityType.property(n)!) : [...set.entityType.properties];
  return { serviceRoot: root, set, properties, selected: select !== undefined };
}

/** an entity to write: the row projected to the context's properties, its key, an ETag */
export function out(ctx: EntityWriteContext, row: Row, etag?: string): EntityOut {
  const projected: Record<string, Row[string]> = {};
  for (const p of ctx.properties) projected[p.name] = row[p.name];
  return { row: projected, key: row[ctx.set.entityType.key[0]], ...(etag === undefined ? {} : { etag }) };
}

export const ERP_SETS: ErpEntitySetName[] = ['Customers', 'Products', 'SalesOrders', 'Invoices', 'InvoiceLines'];
