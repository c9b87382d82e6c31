/**
 * The ERP's change log (OData change tracking): every write is one revision, and every customer and sales order it
 * created, changed or deleted is logged under it; changedKeys(set, from, to) answers the ids logged with
 * from < revision <= to, distinct and ascending. A customer's OpenOrderValue is shown on the customer, so a write
 * that moves it (an order created, cancelled, deleted, its net amount changed) bumps the customer's version and
 * changedAt and logs the customer too — whichever protocol wrote.
 */
import { describe, expect, it } from 'vitest';
import type { ErpState, SalesOrderFields } from '../../../src/systems/erp/index.js';
import { customerWhere, erp } from './fixtures.js';

const unlimited = (s: ErpState) => customerWhere(s, (c) => !c.blocked && c.creditLimitCents === null);

function lineless(customerId: string, netCents: number, extra: Partial<SalesOrderFields> = {}): SalesOrderFields {
  return {
    externalOrderNumber: null,
    customerId,
    status: 'OPEN',
    orderDate: '2026-03-01',
    requestedDeliveryDate: null,
    currencyCode: 'EUR',
    netCents,
    cancellationReason: null,
    lines: [],
    invoiceId: null,
    ...extra,
  };
}

describe('the change log', () => {
  it('a fresh state has revision 0 and no changes', () => {
    const f = erp();
    expect(f.state.revision).toBe(0);
    expect(f.state.changedKeys('Customers', 0, 100)).toEqual([]);
    expect(f.state.changedKeys('SalesOrders', 0, 100)).toEqual([]);
  });

  it('each write is one revision; what it touched is logged under it', () => {
    const f = erp();
    const c = unlimited(f.state);
    const seeded = [...f.state.customers()][3];

    const created = f.call('UpsertCustomer', { ExternalId: 'SF-1', Name: 'One', Country: 'GB', CurrencyCode: 'GBP' }).body.Customer.CustomerId;
    expect(f.state.revision).toBe(1);
    expect(f.state.changedKeys('Customers', 0, 1)).toEqual([created]);

    f.call('UpsertCustomer', { ExternalId: seeded.externalId, City: 'Elsewhere' });
    expect(f.state.revision).toBe(2);
    expect(f.state.changedKeys('Customers', 1, 2)).toEqual([seeded.id]);

    // an order: the order and its customer (whose open order value moved), under the same revision
    const order = f.call('CreateSalesOrder', { ExternalOrderNumber: 'SO-1', CustomerId: c, Line: [{ ProductId: 'MAT-000001', Quantity: 1 }] }).body.SalesOrder.SalesOrderId;
    expect(f.state.revision).toBe(3);
    expect(f.state.changedKeys('SalesOrders', 2, 3)).toEqual([order]);
    expect(f.state.changedKeys('Customers', 2, 3)).toEqual([c]);

    // refusals and idempotent repeats write nothing
    f.call('CreateSalesOrder', { ExternalOrderNumber: 'SO-1', CustomerId: c, Line: [{ ProductId: 'MAT-000001', Quantity: 1 }] });
    f.call('CreateSalesOrder', { ExternalOrderNumber: 'SO-2', CustomerId: '0009999999', Line: [{ ProductId: 'MAT-000001', Quantity: 1 }] });
    f.call('UpsertCustomer', { ExternalId: 'SF-1', Name: 'One' });
    expect(f.state.revision).toBe(3);

    f.call('CancelSalesOrder', { SalesOrderId: order });
    expect(f.state.revision).toBe(4);
    expect(f.state.changedKeys('SalesOrders', 3, 4)).toEqual([order]);
    expect(f.state.changedKeys('Customers', 3, 4)).toEqual([c]);

    f.state.deleteSalesOrder(order);
    expect(f.state.revision).toBe(5);
    expect(f.state.changedKeys('SalesOrders', 4, 5)).toEqual([order]);
    // a cancelled order's value was released already: its customer did not change
    expect(f.state.changedKeys('Customers', 4, 5)).toEqual([]);

    f.state.deleteCustomer(created);
    expect(f.state.revision).toBe(6);
    expect(f.state.changedKeys('Customers', 5, 6)).toEqual([created]);
    expect(f.state.changedKeys('SalesOrders', 5, 6)).toEqual([]);
  });

  it('changedKeys: from exclusive, to inclusive, distinct, ascending, deletes included', () => {
    const f = erp();
    const customers = [...f.state.customers()];
    const [a, b, c, d] = [customers[9], customers[2], customers[30], customers[5]];
    // revision 1..4: customers touched in a scrambled order, some twice
    f.state.updateCustomer(a.id, { city: 'A' }); // 1
    f.state.updateCustomer(b.id, { city: 'B' }); // 2
    f.state.updateCustomer(a.id, { city: 'AA' }); // 3
    const created = f.state.createCustomer({ externalId: null, name: 'X', email: null, city: null, country: 'DE', currencyCode: 'EUR', creditLimitCents: null, blocked: false }); // 4
    f.state.updateCustomer(c.id, { city: 'C' }); // 5
    f.state.deleteCustomer(created.id); // 6
    f.state.updateCustomer(d.id, { city: 'D' }); // 7
    expect(f.state.revision).toBe(7);

    expect(f.state.changedKeys('Customers', 0, 7)).toEqual([b.id, d.id, a.id, c.id, created.id].sort());
    expect(f.state.changedKeys('Customers', 0, 7)).toEqual([b.id, d.id, a.id, c.id, created.id]);
    expect(f.state.changedKeys('Customers', 1, 3)).toEqual([b.id, a.id]);
    expect(f.state.changedKeys('Customers', 2, 3)).toEqual([a.id]);
    expect(f.state.changedKeys('Customers', 3, 3)).toEqual([]);
    expect(f.state.changedKeys('Customers', 5, 6)).toEqual([created.id]);
    expect(f.state.changedKeys('Customers', 6, 100)).toEqual([d.id]);
    expect(f.state.changedKeys('Customers', 7, 100)).toEqual([]);
    expect(f.state.changedKeys('Customers', 4, 2)).toEqual([]);
    expect(f.state.changedKeys('Customers', -5, 1)).toEqual([a.id]);
    expect(f.state.changedKeys('SalesOrders', 0, 7)).toEqual([]);
  });

  it('agrees with a brute-force reading of the overlays over many writes', () => {
    const f = erp({ seed: 3 });
    const c = unlimited(f.state);
    const touched: Array<{ revision: number; set: 'Customers' | 'SalesOrders'; id: string }> = [];
    const log = (set: 'Customers' | 'SalesOrders', id: string) => touched.push({ revision: f.state.revision, set, id });
    const customers = [...f.state.customers()];
    const orders: string[] = [];
    for (let k = 0; k < 60; k++) {
      f.clock.advance(1000);
      switch (k % 5) {
        case 0: {
          const x = customers[(k * 7) % customers.length];
          f.state.updateCustomer(x.id, { city: `City ${k}` });
          log('Customers', x.id);
          break;
        }
        case 1:
        case 2: {
          const o = f.state.createSalesOrder(lineless(c, 100 * k));
          orders.push(o.id);
          log('SalesOrders', o.id);
          log('Customers', c);
          break;
        }
        case 3: {
          const o = orders[(k * 3) % orders.length];
          if (f.state.salesOrder(o)?.status === 'OPEN') {
            f.state.updateSalesOrder(o, { status: 'CANCELLED', cancellationReason: `k${k}` });
            log('SalesOrders', o);
            log('Customers', c);
          }
          break;
        }
        case 4: {
          const o = orders.shift()!;
          const wasOpen = f.state.salesOrder(o)?.status === 'OPEN';
          f.state.deleteSalesOrder(o);
          log('SalesOrders', o);
          if (wasOpen) log('Customers', c);
          break;
        }
      }
    }
    const R = f.state.revision;
    for (const set of ['Customers', 'SalesOrders'] as const) {
      for (let from = 0; from <= R; from += 3) {
        for (const to of [from, from + 1, from + 7, R]) {
          const expected = [...new Set(touched.filter((t) => t.set === set && t.revision > from && t.revision <= to).map((t) => t.id))].sort();
          expect(f.state.changedKeys(set, from, to), `${set} (${from}, ${to}]`).toEqual(expected);
        }
      }
    }
  });
});

describe('OpenOrderValue on the customer', () => {
  it('an order created through SOAP bumps its customer: version, changedAt, OpenOrderValue in GetCustomer', () => {
    const f = erp();
    const c = unlimited(f.state);
    const before = f.state.customer(c)!;
    const shown = f.call('GetCustomer', { CustomerId: c }).body.Customer;
    f.clock.advance(5 * 60_000);
    const order = f.call('CreateSalesOrder', { ExternalOrderNumber: 'SO-OV', CustomerId: c, Line: [{ ProductId: 'MAT-000010', Quantity: 3 }] }).body.SalesOrder;
    const after = f.state.customer(c)!;
    expect(after.version).toBe(before.version + 1);
    expect(after.changedAt).toBe(f.clock.now());
    const now = f.call('GetCustomer', { CustomerId: c }).body.Customer;
    expect(now.OpenOrderValue).toBeCloseTo(shown.OpenOrderValue + order.NetAmount, 2);
    expect(now.ChangedAt).toBe(new Date(f.clock.now()).toISOString());
    // nothing else about the customer changed
    expect({ ...after, changedAt: 0, version: 0 }).toEqual({ ...before, changedAt: 0, version: 0 });

    f.clock.advance(60_000);
    f.call('CancelSalesOrder', { SalesOrderId: order.SalesOrderId, Reason: 'no longer needed' });
    expect(f.state.customer(c)!.version).toBe(before.version + 2);
    expect(f.state.customer(c)!.changedAt).toBe(f.clock.now());
    expect(f.call('GetCustomer', { CustomerId: c }).body.Customer.OpenOrderValue).toBe(shown.OpenOrderValue);
    // cancelling again changes nothing
    f.call('CancelSalesOrder', { SalesOrderId: order.SalesOrderId });
    expect(f.state.customer(c)!.version).toBe(before.version + 2);
  });

  it('a net amount change bumps the customer once; a write that leaves the value alone does not bump it', () => {
    const f = erp();
    const c = unlimited(f.state);
    const v0 = f.state.customer(c)!.version;
    const o = f.state.createSalesOrder(lineless(c, 500));
    expect(f.state.customer(c)!.version).toBe(v0 + 1);
    f.state.updateSalesOrder(o.id, { netCents: 800 });
    expect(f.state.customer(c)!.version).toBe(v0 + 2);
    expect(f.state.openOrderValueCents(c)).toBe(800);
    expect(f.state.changedKeys('Customers', f.state.revision - 1, f.state.revision)).toEqual([c]);
    // the delivery date is not part of the open value
    f.state.updateSalesOrder(o.id, { requestedDeliveryDate: '2026-06-01' });
    expect(f.state.customer(c)!.version).toBe(v0 + 2);
    expect(f.state.changedKeys('Customers', f.state.revision - 1, f.state.revision)).toEqual([]);
    // a zero-value order moves nothing
    f.state.createSalesOrder(lineless(c, 0));
    expect(f.state.customer(c)!.version).toBe(v0 + 2);
    // deleting an open order releases its value: a change of the customer
    f.state.deleteSalesOrder(o.id);
    expect(f.state.customer(c)!.version).toBe(v0 + 3);
    expect(f.state.openOrderValueCents(c)).toBe(0);
    expect(f.state.changedKeys('Customers', f.state.revision - 1, f.state.revision)).toEqual([c]);
  });
});
