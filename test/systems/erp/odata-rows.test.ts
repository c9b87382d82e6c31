/**
 * The model agrees with the ERP's state: every property a set declares has a counterpart in the state's records
 * (the rows built from them have exactly the declared properties), and seeded rows of every set — and rows
 * written through the state — fit their properties: non-nullable ones filled, strings within MaxLength, money
 * within Decimal(15,2), dates and instants in their formats.
 */
import { describe, expect, it } from 'vitest';
import {
  customerRow,
  erpRowByKey,
  invoiceLineIndex,
  invoiceLineKey,
  invoiceLineRow,
  invoiceRow,
  loadErpModel,
  productRow,
  salesOrderRow,
  type ErpEntitySetName,
  type Row,
} from '../../../src/systems/erp/odata-model.js';
import { valueProblem } from '../../../src/protocols/odata/model/model.js';
import { ErpState } from '../../../src/systems/erp/state.js';
import { ManualClock } from '../../../src/util/clock.js';

const SMALL = { customers: 60, invoices: 400, invoiceLines: 20_000 };
const model = loadErpModel();
const state = () => new ErpState({ seed: 42, clock: new ManualClock(Date.UTC(2026, 2, 1, 9)), ...SMALL });

/** every row of a small state, per set (lines: a spread sample) */
function rowsOf(s: ErpState): Record<ErpEntitySetName, Row[]> {
  return {
    Customers: [...s.customers()].map((c) => customerRow(s, c)),
    Products: s.products.map(productRow),
    SalesOrders: [...s.salesOrders()].map(salesOrderRow),
    Invoices: Array.from({ length: s.invoiceCount }, (_, i) => invoiceRow(s.invoiceAt(i))),
    InvoiceLines: Array.from({ length: 2_000 }, (_, k) => invoiceLineRow(s.invoiceLineAt(Math.floor((k * s.invoiceLineCount) / 2_000)))),
  };
}

function problems(set: ErpEntitySetName, rows: Row[]): string[] {
  const type = model.entitySet(set)!.entityType;
  const out: string[] = [];
  for (const row of rows) {
    for (const p of type.properties) {
      const problem = valueProblem(p, row[p.name]);
      if (problem) out.push(`${set}(${String(row[type.key[0]])}): ${problem} (${JSON.stringify(row[p.name])})`);
    }
  }
  return out;
}

describe('the ERP model and the ERP state', () => {
  const s = state();
  const rows = rowsOf(s);

  it.each(model.entitySets.map((set) => set.name as ErpEntitySetName))('%s: a row has exactly the declared properties', (set) => {
    const declared = model.entitySet(set)!.entityType.properties.map((p) => p.name);
    expect(rows[set].length).toBeGreaterThan(0);
    for (const row of rows[set].slice(0, 50)) expect(Object.keys(row)).toEqual(declared);
  });

  it.each(model.entitySets.map((set) => set.name as ErpEntitySetName))('%s: the seeded rows fit their properties', (set) => {
    expect(problems(set, rows[set])).toEqual([]);
  });

  it('has seeded rows that fill the nullable properties too (so their types are exercised)', () => {
    for (const set of model.entitySets) {
      for (const p of set.entityType.properties.filter((x) => x.nullable)) {
        const filled = rows[set.name as ErpEntitySetName].filter((r) => r[p.name] !== null);
        // created/cancelled orders' fields are not seeded: written below
        if (['ExternalOrderNumber', 'CancellationReason'].includes(p.name)) continue;
        expect(filled.length, `${set.name}.${p.name}`).toBeGreaterThan(0);
      }
    }
  });

  it('finds each seeded row by its key, InvoiceLines by global index + 1', () => {
    for (const set of model.entitySets) {
      const name = set.name as ErpEntitySetName;
      const row = rows[name][0];
      expect(erpRowByKey(s, name, row[set.entityType.key[0]] as string | number), name).toEqual(row);
    }
    expect(erpRowByKey(s, 'InvoiceLines', 1)).toMatchObject({ InvoiceLineId: 1, InvoiceId: '0090000001', LineNumber: 10 });
    expect(erpRowByKey(s, 'InvoiceLines', SMALL.invoiceLines)).toMatchObject({ InvoiceLineId: SMALL.invoiceLines, InvoiceId: '0090000400' });
    for (const bad of [0, SMALL.invoiceLines + 1, 1.5, '1']) expect(invoiceLineIndex(s, bad)).toBeUndefined();
    expect(invoiceLineKey(0)).toBe(1);
    expect(erpRowByKey(s, 'Customers', '0001000000')).toMatchObject({ CustomerId: '0001000000' });
    expect(erpRowByKey(s, 'Customers', 'nope')).toBeUndefined();
  });

  it('orders InvoiceLineId as (InvoiceId, LineNumber): keyset paging by the key walks the lines in document order', () => {
    let previous = invoiceLineRow(s.invoiceLineAt(0));
    for (let g = 1; g < 3_000; g++) {
      const row = invoiceLineRow(s.invoiceLineAt(g));
      expect(row.InvoiceLineId).toBe((previous.InvoiceLineId as number) + 1);
      const sameInvoice = row.InvoiceId === previous.InvoiceId;
      expect(sameInvoice ? (row.LineNumber as number) > (previous.LineNumber as number) : (row.InvoiceId as string) > (previous.InvoiceId as string)).toBe(true);
      previous = row;
    }
  });

  it('fits rows written through the state (created and cancelled orders, a created customer) too', () => {
    const w = state();
    const customer = w.createCustomer({
      externalId: 'X'.repeat(40),
      name: 'N'.repeat(80),
      email: null,
      city: null,
      country: 'DE',
      currencyCode: 'EUR',
      creditLimitCents: 999_999_999_999_99,
      blocked: false,
    });
    const seeded = [...w.salesOrders()][0];
    const order = w.createSalesOrder({ ...seeded, externalOrderNumber: 'ORD-1', customerId: customer.id, status: 'OPEN', invoiceId: null, cancellationReason: null });
    const cancelled = w.updateSalesOrder(order.id, { status: 'CANCELLED', cancellationReason: 'R'.repeat(255) });
    expect(problems('Customers', [customerRow(w, customer)])).toEqual([]);
    expect(problems('SalesOrders', [salesOrderRow(order), salesOrderRow(cancelled)])).toEqual([]);
    expect(customerRow(w, customer).OpenOrderValue).toBe(0);
  });

  it('refuses values that do not fit (the checks are not vacuous)', () => {
    const type = model.entitySet('Customers')!.entityType;
    const p = (n: string) => type.property(n)!;
    expect(valueProblem(p('Name'), null)).toMatch(/must not be null/);
    expect(valueProblem(p('Name'), 'x'.repeat(81))).toMatch(/longer than 80/);
    expect(valueProblem(p('CreditLimit'), 1.234)).toMatch(/more than 2 digits after/);
    expect(valueProblem(p('CreditLimit'), 1e14)).toMatch(/digits before the point/);
    expect(valueProblem(p('Blocked'), 'true')).toMatch(/boolean/);
    expect(valueProblem(p('CreatedAt'), '2026-01-01')).toMatch(/offset/);
    expect(valueProblem(p('CreatedAt'), '2026-01-01T00:00:00.1234Z')).toMatch(/more than 3 fractional-second digits/);
    expect(valueProblem(p('CreatedAt'), '2026-01-01T00:00:00.123+02:00')).toBeUndefined();
    expect(valueProblem(model.entityType('Understudy.Erp.SalesOrder')!.property('OrderDate')!, '2026-1-1')).toMatch(/YYYY-MM-DD/);
    expect(valueProblem(model.entityType('Understudy.Erp.InvoiceLine')!.property('Quantity')!, 2 ** 31)).toMatch(/out of range/);
  });
});
