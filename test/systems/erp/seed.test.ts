/**
 * The seeded base: a pure function of (seed, sizes) — the same seed gives the same data, another seed other data;
 * invoice line ranges cover every line exactly once; invoice totals are the sums of their lines; seeded orders are
 * their invoices' lines; the default sizes build well under a second and are shared by every state.
 */
import { describe, expect, it } from 'vitest';
import { ERP_DEFAULTS } from '../../../src/systems/erp/index.js';
import { buildBase, erpBase, invoiceOfLine, lineStartOf } from '../../../src/systems/erp/seed.js';
import { ErpState } from '../../../src/systems/erp/state.js';
import { ManualClock } from '../../../src/util/clock.js';
import { SMALL, START } from './fixtures.js';

const stateOf = (seed: number, sizes: { customers: number; invoices: number; invoiceLines: number } = SMALL) =>
  new ErpState({ seed, clock: new ManualClock(START), ...sizes });

/** everything a client can read, as plain data */
function dump(state: ErpState) {
  return {
    products: state.products,
    customers: [...state.customers()],
    orders: [...state.salesOrders()],
    invoices: Array.from({ length: state.invoiceCount }, (_, i) => state.invoiceAt(i)),
    lines: Array.from({ length: state.invoiceLineCount }, (_, g) => state.invoiceLineAt(g)),
  };
}

describe('seeded data', () => {
  it('is the same for the same seed, even built without the cache', () => {
    const a = stateOf(7);
    const b = stateOf(7);
    expect(dump(b)).toEqual(dump(a));
    const fresh = buildBase(7, SMALL);
    expect(Array.from(fresh.invoiceNetCents)).toEqual(Array.from(a.base.invoiceNetCents));
    expect(fresh.customers).toEqual(a.base.customers);
  });

  it('differs for another seed', () => {
    const a = dump(stateOf(7));
    const b = dump(stateOf(8));
    expect(b.customers.map((c) => c.name)).not.toEqual(a.customers.map((c) => c.name));
    expect(b.invoices.map((i) => i.customerId)).not.toEqual(a.invoices.map((i) => i.customerId));
    expect(b.lines.map((l) => l.productId)).not.toEqual(a.lines.map((l) => l.productId));
    // the ids are the same ranges whatever the seed
    expect(b.customers.map((c) => c.id)).toEqual(a.customers.map((c) => c.id));
  });

  it('is shared by every state with the same configuration (one base per seed and sizes)', () => {
    expect(stateOf(7).base).toBe(stateOf(7).base);
    expect(erpBase(7, { ...SMALL })).toBe(stateOf(7).base);
    expect(stateOf(7, { ...SMALL, invoiceLines: 20_001 }).base).not.toBe(stateOf(7).base);
  });

  it.each([
    { customers: 3, invoices: 7, invoiceLines: 100 },
    { customers: 10, invoices: 1000, invoiceLines: 999 },
    { customers: 5, invoices: 3, invoiceLines: 0 },
    { customers: 2, invoices: 0, invoiceLines: 0 },
    SMALL,
  ])('line ranges cover exactly the invoice lines once, in order (%o)', (sizes) => {
    const state = stateOf(3, sizes);
    let next = 0;
    for (let i = 0; i < sizes.invoices; i++) {
      const invoice = state.invoiceAt(i);
      expect(invoice.lineStart).toBe(next);
      expect(invoice.lineStart).toBe(lineStartOf(sizes, i));
      for (let k = 0; k < invoice.lineCount; k++) expect(invoiceOfLine(sizes, next + k)).toBe(i);
      next += invoice.lineCount;
    }
    expect(next).toBe(sizes.invoiceLines);
  });

  it('invoice totals are the sums of their lines; lines are priced from their products', () => {
    const state = stateOf(11);
    let all = 0;
    const bad: number[] = [];
    for (let i = 0; i < state.invoiceCount; i++) {
      const lines = state.invoiceLines(i);
      const sum = lines.reduce((s, l) => s + l.netCents, 0);
      expect(state.invoiceAt(i).netCents).toBe(sum);
      all += sum;
      lines.forEach((l, k) => {
        // collected, not expected one by one: 20,000 lines
        const product = state.product(l.productId)!;
        const again = state.invoiceLineAt(l.index);
        const ok =
          l.lineNumber === (k + 1) * 10 &&
          l.unitPriceCents === product.unitPriceCents &&
          l.description === product.description &&
          l.quantity >= 1 &&
          l.netCents === l.quantity * l.unitPriceCents &&
          again.productId === l.productId &&
          again.quantity === l.quantity &&
          again.lineNumber === l.lineNumber &&
          again.invoiceId === l.invoiceId;
        if (!ok) bad.push(l.index);
      });
    }
    expect(bad).toEqual([]);
    expect(all).toBe(Array.from(state.base.invoiceNetCents).reduce((s, v) => s + v, 0));
  });

  it('every invoice bills a seeded INVOICED order with the same lines, customer, currency and amount', () => {
    const state = stateOf(5);
    expect(state.salesOrderCount()).toBe(SMALL.invoices);
    for (let i = 0; i < state.invoiceCount; i += 37) {
      const invoice = state.invoiceAt(i);
      const order = state.salesOrder(invoice.salesOrderId!)!;
      expect(order).toMatchObject({ status: 'INVOICED', invoiceId: invoice.id, customerId: invoice.customerId, currencyCode: invoice.currencyCode, netCents: invoice.netCents });
      expect(order.lines).toEqual(state.invoiceLines(i).map(({ index, invoiceIndex, invoiceId, ...line }) => line));
      expect(order.orderDate <= invoice.invoiceDate).toBe(true);
    }
  });

  it('an invoice with no line or more lines than an order holds bills no seeded order', () => {
    const state = stateOf(5, { customers: 4, invoices: 4, invoiceLines: 402 }); // 100, 101, 100, 101 lines
    const counts = [0, 1, 2, 3].map((i) => state.invoiceAt(i).lineCount);
    expect(counts).toEqual([100, 101, 100, 101]);
    expect([0, 1, 2, 3].map((i) => state.invoiceAt(i).salesOrderId === null)).toEqual([false, true, false, true]);
    expect(state.salesOrderCount()).toBe(2);
    expect([...state.salesOrders()].map((o) => o.invoiceId)).toEqual([state.invoiceAt(0).id, state.invoiceAt(2).id]);
    expect(state.salesOrder('0070000002')).toBeUndefined();
  });

  it('seeded values look like an ERP: ids, products, customers, invoice dates and statuses', () => {
    const state = stateOf(42, ERP_DEFAULTS);
    expect(state.products).toHaveLength(250);
    expect(state.products[0].id).toBe('MAT-000001');
    expect(state.products[249].id).toBe('MAT-000250');
    expect(new Set(state.products.map((p) => p.description)).size).toBe(250);
    const customers = [...state.customers()];
    expect(customers).toHaveLength(500);
    expect(customers[0].id).toBe('0001000000');
    expect(customers[499].id).toBe('0001000499');
    const blocked = customers.filter((c) => c.blocked).length;
    expect(blocked).toBeGreaterThan(0);
    expect(blocked).toBeLessThan(30);
    expect(customers.some((c) => c.creditLimitCents === null)).toBe(true);
    expect(customers.some((c) => c.externalId === null)).toBe(true);
    expect(customers.find((c) => c.externalId !== null)!.externalId).toMatch(/^LEGACY-\d{6}$/);
    expect(new Set(customers.map((c) => c.currencyCode))).toEqual(new Set(['EUR', 'USD', 'GBP']));
    for (const c of customers) expect(c.changedAt).toBeLessThan(Date.UTC(2026, 0, 1));
    expect(state.invoiceAt(0).id).toBe('0090000001');
    expect(state.invoiceAt(9999).id).toBe('0090010000');
    expect(state.invoiceAt(0).invoiceDate).toBe('2024-01-02');
    expect(state.invoiceAt(9999).invoiceDate).toBe('2025-12-31');
    const statuses = new Set(Array.from({ length: 10_000 }, (_, i) => state.invoiceAt(i).status));
    expect(statuses).toEqual(new Set(['OPEN', 'PAID', 'OVERDUE']));
    expect(state.invoiceLineCount).toBe(1_000_000);
    expect(state.invoiceAt(0).lineCount).toBe(100);
  });

  it('builds the default base (1,000,000 lines) in well under a second', () => {
    const times: number[] = [];
    for (let k = 0; k < 3; k++) {
      const t = performance.now();
      buildBase(1000 + k, ERP_DEFAULTS);
      times.push(performance.now() - t);
    }
    const best = Math.min(...times);
    console.log(`erp base (500 customers, 10,000 invoices, 1,000,000 lines): best of 3 ${best.toFixed(1)} ms`);
    expect(best).toBeLessThan(500);
  });
});
