/**
 * Test support: a small ERP state and its entity sets as RowSources (page.ts), built only from the model's row
 * builders (src/systems/erp/odata-model.ts) and the state's read API — what the HTTP layer will do. InvoiceLines scan from a key
 * without reading the lines before it (InvoiceLineId = global index + 1), which is the fast path of page().
 */
import { customerRow, invoiceLineKey, invoiceLineRow, invoiceRow, loadErpModel, productRow, salesOrderRow } from '../../../../src/systems/erp/odata-model.js';
import type { EntityType } from '../../../../src/protocols/odata/model/model.js';
import type { Row, RowSource, RowValue } from '../../../../src/protocols/odata/evaluate/index.js';
import { ErpState } from '../../../../src/systems/erp/state.js';
import { ManualClock } from '../../../../src/util/clock.js';

export const START = Date.UTC(2026, 2, 1, 9, 0, 0);
export const model = loadErpModel();
export const typeOf = (set: string): EntityType => model.entitySet(set)!.entityType;

export function smallState(sizes = { customers: 50, invoices: 200, invoiceLines: 2000 }): { state: ErpState; clock: ManualClock } {
  const clock = new ManualClock(START);
  return { state: new ErpState({ seed: 42, clock, ...sizes }), clock };
}

const source = (rows: () => Iterable<Row>, extra: Partial<RowSource> = {}): RowSource => ({ [Symbol.iterator]: () => rows()[Symbol.iterator](), ...extra });

function* lines(state: ErpState, from: number): IterableIterator<Row> {
  for (let g = from; g < state.invoiceLineCount; g++) yield invoiceLineRow(state.invoiceLineAt(g));
}

/** the set's rows, live (each iteration reads the state as it is then) */
export function rowSource(state: ErpState, set: string): RowSource {
  switch (set) {
    case 'Customers':
      return source(function* () {
        for (const c of state.customers()) yield customerRow(state, c);
      }, {
        // customer ids are 10-digit, zero-padded: their string order is their number order, which customers() walks
        scanFrom: function* (after: RowValue | undefined) {
          for (const c of state.customers(after === undefined ? undefined : String(after))) yield customerRow(state, c);
        },
      });
    case 'Products':
      return source(() => state.products.map(productRow));
    case 'SalesOrders':
      return source(function* () {
        for (const o of state.salesOrders()) yield salesOrderRow(o);
      });
    case 'Invoices':
      return source(function* () {
        for (let i = 0; i < state.invoiceCount; i++) yield invoiceRow(state.invoiceAt(i));
      });
    case 'InvoiceLines':
      return source(() => lines(state, 0), {
        // InvoiceLineId k is line k − 1: the rows after key k start at line k
        scanFrom: (after: RowValue | undefined) => lines(state, after === undefined ? 0 : Math.max(0, Math.min(state.invoiceLineCount, Math.floor(Number(after))))),
        size: () => state.invoiceLineCount,
      });
    default:
      throw new Error(`no set ${set}`);
  }
}

export const allRows = (state: ErpState, set: string): Row[] => [...rowSource(state, set)];
export { invoiceLineKey };
