/**
 * Deleting customers and sales orders (ErpState.deleteCustomer / deleteSalesOrder, for the OData face's DELETE):
 * a deleted record vanishes from every read — by id, by external key, in iteration, in the counts and through
 * SOAP's GetCustomer / GetSalesOrder — its external key is free for a new record, its number is never handed out
 * again, an OPEN order gives its value back to the customer, and only documents without dependants can go. The
 * tombstones survive a snapshot and are checked when one is restored.
 */
import { describe, expect, it } from 'vitest';
import type { ErpState, SalesOrderFields } from '../../../src/systems/erp/index.js';
import { ManualClock } from '../../../src/util/clock.js';
import { customerWhere, erp, fixtureOf, START, type Fixture } from './fixtures.js';

/** more customers than invoices cover: some seeded customers have no invoice (and so can be deleted) */
const SPARSE = { customers: 120, invoices: 60, invoiceLines: 600 } as const;

const FIRST_CREATED_ORDER = 70_000_001 + SPARSE.invoices;

function sparse(): Fixture {
  return erp({ ...SPARSE, seed: 5 });
}

/** a seeded customer without invoices, not blocked, with a LEGACY external id */
const invoiceless = (s: ErpState) => customerWhere(s, (c) => !c.blocked && c.externalId !== null && s.customerInvoiceIndexes(c.id).length === 0);

function lineless(customerId: string, extra: Partial<SalesOrderFields> = {}): SalesOrderFields {
  return {
    externalOrderNumber: null,
    customerId,
    status: 'OPEN',
    orderDate: '2026-03-01',
    requestedDeliveryDate: null,
    currencyCode: 'EUR',
    netCents: 12_345,
    cancellationReason: null,
    lines: [],
    invoiceId: null,
    ...extra,
  };
}

const newCustomer = { ExternalId: 'SF-NEW', Name: 'New Co', Country: 'DE', CurrencyCode: 'EUR' };

describe('deleting a customer', () => {
  it('hides it from every read and the count; SOAP answers CUSTOMER_NOT_FOUND', () => {
    const f = sparse();
    const id = invoiceless(f.state);
    const external = f.state.customer(id)!.externalId!;
    const before = f.state.customerCount();
    const deleted = f.state.deleteCustomer(id);
    expect(deleted.id).toBe(id);
    expect(f.state.customer(id)).toBeUndefined();
    expect(f.state.customerByExternalId(external)).toBeUndefined();
    expect([...f.state.customers()].map((c) => c.id)).not.toContain(id);
    expect([...f.state.customers()]).toHaveLength(before - 1);
    expect(f.state.customerCount()).toBe(before - 1);
    // keyset paging from just before it skips it, from it goes on after it
    const previous = String(Number(id) - 1).padStart(10, '0');
    expect(f.state.customers(previous).next().value!.id).toBe(String(Number(id) + 1).padStart(10, '0'));
    expect(f.state.customers(id).next().value!.id).toBe(String(Number(id) + 1).padStart(10, '0'));
    expect(f.call('GetCustomer', { CustomerId: id }).fault).toMatchObject({ code: 'CUSTOMER_NOT_FOUND' });
  });

  it("frees the external id: UpsertCustomer with it creates a new customer under a new number", () => {
    const f = sparse();
    const id = invoiceless(f.state);
    const external = f.state.customer(id)!.externalId!;
    f.state.deleteCustomer(id);
    const upsert = f.call('UpsertCustomer', { ExternalId: external, Name: 'Reborn GmbH', Country: 'DE', CurrencyCode: 'EUR' });
    expect(upsert.body.Created).toBe(true);
    const reborn = upsert.body.Customer.CustomerId;
    expect(Number(reborn)).toBe(1_000_000 + SPARSE.customers);
    expect(f.state.customerByExternalId(external)!.id).toBe(reborn);
    // and once that one is deleted too, the external id names nobody (the seeded one stays deleted)
    f.state.deleteCustomer(reborn);
    expect(f.state.customerByExternalId(external)).toBeUndefined();
    expect(f.state.customer(id)).toBeUndefined();
  });

  it('never hands a deleted number out again', () => {
    const f = sparse();
    const first = f.call('UpsertCustomer', newCustomer).body.Customer.CustomerId;
    f.state.deleteCustomer(first);
    const second = f.call('UpsertCustomer', newCustomer).body.Customer.CustomerId;
    expect(Number(second)).toBe(Number(first) + 1);
    expect(f.state.customerCount()).toBe(SPARSE.customers + 1);
    expect(f.state.customer(first)).toBeUndefined();
  });

  it('refuses (throws) for a customer with invoices or with any sales order, cancelled ones included, and for an unknown one', () => {
    const f = sparse();
    const invoiced = customerWhere(f.state, (c) => f.state.customerInvoiceIndexes(c.id).length > 0);
    expect(f.state.customerDocuments(invoiced).invoices).toBeGreaterThan(0);
    expect(() => f.state.deleteCustomer(invoiced)).toThrow(/has documents/);

    const id = invoiceless(f.state);
    expect(f.state.customerDocuments(id)).toEqual({ invoices: 0, salesOrders: 0 });
    const order = f.state.createSalesOrder(lineless(id));
    expect(f.state.customerDocuments(id)).toEqual({ invoices: 0, salesOrders: 1 });
    f.state.updateSalesOrder(order.id, { status: 'CANCELLED' });
    const before = JSON.stringify(f.state.overlays());
    expect(() => f.state.deleteCustomer(id)).toThrow(/has documents/);
    expect(JSON.stringify(f.state.overlays())).toBe(before);
    // once its order is gone, it can go
    f.state.deleteSalesOrder(order.id);
    expect(f.state.customerDocuments(id)).toEqual({ invoices: 0, salesOrders: 0 });
    f.state.deleteCustomer(id);
    expect(() => f.state.deleteCustomer(id)).toThrow(/no customer/);
    expect(() => f.state.deleteCustomer('0009999999')).toThrow(/no customer/);
  });

  it("counts a seeded customer's seeded orders among its documents", () => {
    const f = erp();
    const c = customerWhere(f.state, (x) => f.state.customerInvoiceIndexes(x.id).length > 0);
    const orders = [...f.state.salesOrders()].filter((o) => o.customerId === c).length;
    expect(f.state.customerDocuments(c)).toEqual({ invoices: f.state.customerInvoiceIndexes(c).length, salesOrders: orders });
  });
});

describe('deleting a sales order', () => {
  it('hides it from every read and the count; SOAP answers ORDER_NOT_FOUND by id and by external number', () => {
    const f = sparse();
    const customer = customerWhere(f.state, (c) => !c.blocked && c.creditLimitCents === null);
    const created = f.call('CreateSalesOrder', { ExternalOrderNumber: 'SO-DEL', CustomerId: customer, Line: [{ ProductId: 'MAT-000003', Quantity: 2 }] }).body.SalesOrder;
    const count = f.state.salesOrderCount();
    f.state.deleteSalesOrder(created.SalesOrderId);
    expect(f.state.salesOrder(created.SalesOrderId)).toBeUndefined();
    expect(f.state.salesOrderByExternalNumber('SO-DEL')).toBeUndefined();
    expect([...f.state.salesOrders()].map((o) => o.id)).not.toContain(created.SalesOrderId);
    expect(f.state.salesOrderCount()).toBe(count - 1);
    expect([...f.state.salesOrders()]).toHaveLength(count - 1);
    expect(f.call('GetSalesOrder', { SalesOrderId: created.SalesOrderId }).fault).toMatchObject({ code: 'ORDER_NOT_FOUND' });
    expect(f.call('GetSalesOrder', { ExternalOrderNumber: 'SO-DEL' }).fault).toMatchObject({ code: 'ORDER_NOT_FOUND' });
    expect(f.call('CancelSalesOrder', { SalesOrderId: created.SalesOrderId }).fault).toMatchObject({ code: 'ORDER_NOT_FOUND' });
  });

  it('an OPEN order gives its value back; a CANCELLED one had already', () => {
    const f = sparse();
    const customer = customerWhere(f.state, (c) => !c.blocked);
    const open = f.state.openOrderValueCents(customer);
    const a = f.state.createSalesOrder(lineless(customer, { netCents: 1000 }));
    const b = f.state.createSalesOrder(lineless(customer, { netCents: 250 }));
    expect(f.state.openOrderValueCents(customer)).toBe(open + 1250);
    f.state.deleteSalesOrder(a.id);
    expect(f.state.openOrderValueCents(customer)).toBe(open + 250);
    f.state.updateSalesOrder(b.id, { status: 'CANCELLED' });
    expect(f.state.openOrderValueCents(customer)).toBe(open);
    f.state.deleteSalesOrder(b.id);
    expect(f.state.openOrderValueCents(customer)).toBe(open);
  });

  it('frees the external order number: CreateSalesOrder with it creates a new order under a new number', () => {
    const f = sparse();
    const customer = customerWhere(f.state, (c) => !c.blocked && c.creditLimitCents === null);
    const body = { ExternalOrderNumber: 'SO-AGAIN', CustomerId: customer, Line: [{ ProductId: 'MAT-000001', Quantity: 1 }] };
    const first = f.call('CreateSalesOrder', body).body.SalesOrder.SalesOrderId;
    expect(Number(first)).toBe(FIRST_CREATED_ORDER);
    f.state.deleteSalesOrder(first);
    const again = f.call('CreateSalesOrder', body).body;
    expect(again.Created).toBe(true);
    expect(Number(again.SalesOrder.SalesOrderId)).toBe(FIRST_CREATED_ORDER + 1);
    expect(f.state.salesOrderByExternalNumber('SO-AGAIN')!.id).toBe(again.SalesOrder.SalesOrderId);
  });

  it('refuses (throws) for an INVOICED order and an unknown one, changing nothing', () => {
    const f = sparse();
    const seeded = f.state.salesOrders().next().value!;
    expect(seeded.status).toBe('INVOICED');
    const before = JSON.stringify(f.state.overlays());
    expect(() => f.state.deleteSalesOrder(seeded.id)).toThrow(/invoiced/);
    expect(() => f.state.deleteSalesOrder('0079999999')).toThrow(/no sales order/);
    expect(JSON.stringify(f.state.overlays())).toBe(before);
    expect(f.state.salesOrder(seeded.id)).toEqual(seeded);
  });
});

describe('tombstones in snapshots', () => {
  /** customers and orders created, changed and deleted */
  function busy(): Fixture {
    const f = sparse();
    const free = customerWhere(f.state, (c) => !c.blocked && c.creditLimitCents === null);
    f.call('UpsertCustomer', newCustomer);
    f.clock.advance(1000);
    f.state.deleteCustomer(invoiceless(f.state));
    f.clock.advance(1000);
    f.state.deleteCustomer(f.state.customerByExternalId('SF-NEW')!.id);
    f.call('UpsertCustomer', { ...newCustomer, Name: 'Second Co' });
    for (let k = 0; k < 4; k++) {
      f.clock.advance(60_000);
      f.call('CreateSalesOrder', { ExternalOrderNumber: `SO-${k}`, CustomerId: free, Line: [{ ProductId: 'MAT-000002', Quantity: k + 1 }] });
    }
    f.state.deleteSalesOrder(f.state.salesOrderByExternalNumber('SO-1')!.id);
    f.call('CancelSalesOrder', { SalesOrderId: f.state.salesOrderByExternalNumber('SO-2')!.id });
    f.state.deleteSalesOrder(f.state.salesOrderByExternalNumber('SO-2')!.id);
    return f;
  }

  function restored(f: Fixture, bytes = f.system.snapshotState!(f.state)): Fixture {
    const clock = new ManualClock(f.clock.now());
    return fixtureOf(f.system, f.system.restoreState!(bytes, { seed: 5, clock }), clock, 5);
  }

  it('a restored state keeps the tombstones, the change log and the versions, and goes on the same', () => {
    const f = busy();
    const r = restored(f);
    expect(r.state.overlays()).toEqual(f.state.overlays());
    expect(r.state.overlays().deletedCustomers).toHaveLength(2);
    expect(r.state.overlays().deletedSalesOrders).toHaveLength(2);
    expect(r.state.customerCount()).toBe(f.state.customerCount());
    expect(r.state.salesOrderCount()).toBe(f.state.salesOrderCount());
    expect([...r.state.customers()]).toEqual([...f.state.customers()]);
    expect([...r.state.salesOrders()]).toEqual([...f.state.salesOrders()]);
    expect(r.state.changedKeys('Customers', 0, r.state.revision)).toEqual(f.state.changedKeys('Customers', 0, f.state.revision));
    expect(r.state.changedKeys('SalesOrders', 3, 9)).toEqual(f.state.changedKeys('SalesOrders', 3, 9));
    expect(r.state.customerByExternalId('SF-NEW')).toEqual(f.state.customerByExternalId('SF-NEW'));
    const next = (x: Fixture) => [
      x.call('UpsertCustomer', { ExternalId: 'SF-3', Name: 'Three', Country: 'FR', CurrencyCode: 'EUR' }).body,
      x.call('CreateSalesOrder', { ExternalOrderNumber: 'SO-1', CustomerId: x.state.salesOrderByExternalNumber('SO-0')!.customerId, Line: [{ ProductId: 'MAT-000001', Quantity: 1 }] }).body,
      x.state.revision,
    ];
    expect(next(r)).toEqual(next(f));
    expect(r.state.overlays()).toEqual(f.state.overlays());
  });

  it('refuses tombstones and change logs that do not fit the state', () => {
    const f = busy();
    const data = JSON.parse(f.system.snapshotState!(f.state).toString());
    const tampered = (change: (d: any) => void) => {
      const d = structuredClone(data);
      change(d);
      return () => restored(f, Buffer.from(JSON.stringify(d)));
    };
    const invoicedCustomer = Number(customerWhere(f.state, (c) => f.state.customerInvoiceIndexes(c.id).length > 0));
    expect(tampered((d) => (d.deletedCustomers = [...d.deletedCustomers, invoicedCustomer].sort((a: number, b: number) => a - b)))).toThrow(/corrupt \(deleted customer \d+ has invoices\)/);
    expect(tampered((d) => d.deletedCustomers.push(d.nextCustomerNumber))).toThrow(/corrupt \(deleted customer/);
    expect(tampered((d) => d.deletedCustomers.reverse())).toThrow(/corrupt \(deleted customer/);
    expect(tampered((d) => d.deletedCustomers.push(d.customers[d.customers.length - 1].number))).toThrow(/corrupt \(customer \d+ is deleted\)/);
    expect(tampered((d) => d.deletedSalesOrders.unshift(70_000_001))).toThrow(/corrupt \(deleted sales order 70000001\)/);
    expect(tampered((d) => d.deletedSalesOrders.unshift(d.salesOrders[0].number))).toThrow(/corrupt \(sales order \d+ is deleted\)/);
    expect(tampered((d) => delete d.deletedSalesOrders)).toThrow(/corrupt \(no deleted sales orders\)/);
    expect(tampered((d) => delete d.changeLog)).toThrow(/corrupt \(no change log\)/);
    expect(tampered((d) => d.changeLog.Customers.revisions.push(d.revision + 1) && d.changeLog.Customers.numbers.push(1_000_000))).toThrow(/corrupt \(customer change log revision/);
    expect(tampered((d) => d.changeLog.SalesOrders.numbers.pop())).toThrow(/corrupt \(sales order change log\)/);
    expect(tampered((d) => (d.changeLog.SalesOrders.numbers[0] = 5))).toThrow(/corrupt \(sales order change log number 5\)/);
    expect(tampered((d) => d.changeLog.Customers.revisions.reverse())).toThrow(/corrupt \(customer change log revision/);
    // a snapshot of the format before tombstones and the change log
    expect(tampered((d) => (d.version = 1))).toThrow(/format version 1, this build reads version 2/);
  });

  it('a state rebuilt with the same writes at the same clock times has the same overlays', () => {
    const a = busy();
    const b = busy();
    expect(JSON.stringify(b.state.overlays())).toBe(JSON.stringify(a.state.overlays()));
    expect(a.state.now()).toBe(b.state.now());
    expect(a.state.now()).toBeGreaterThan(START);
  });
});
