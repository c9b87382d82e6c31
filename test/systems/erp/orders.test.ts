/**
 * CreateSalesOrder, GetSalesOrder and CancelSalesOrder: a created order (OPEN, dated by the clock, SAP line
 * numbers, the customer's currency), the idempotent replay by ExternalOrderNumber (same id, no effect, no state
 * change) and its conflict, every refusal checked before anything is written (CUSTOMER_NOT_FOUND,
 * CUSTOMER_BLOCKED, PRODUCT_NOT_FOUND, CREDIT_LIMIT_EXCEEDED creating nothing and consuming no number), and the
 * compensating cancel that gives the credit back.
 */
import { describe, expect, it } from 'vitest';
import type { ErpState } from '../../../src/systems/erp/index.js';
import { customerWhere, erp, SMALL, START } from './fixtures.js';

const FIRST_CREATED = String(70_000_001 + SMALL.invoices).padStart(10, '0');
const nthCreated = (n: number) => String(70_000_001 + SMALL.invoices + n).padStart(10, '0');

/** a customer that can order without a credit limit */
const unlimited = (state: ErpState) => customerWhere(state, (c) => !c.blocked && c.creditLimitCents === null);
/** a customer that can order, with a credit limit */
const limited = (state: ErpState) => customerWhere(state, (c) => !c.blocked && c.creditLimitCents !== null);

function order(customer: string, extra: Record<string, unknown> = {}) {
  return {
    ExternalOrderNumber: 'SF-ORD-1',
    CustomerId: customer,
    Line: [
      { ProductId: 'MAT-000001', Quantity: 2 },
      { ProductId: 'MAT-000250', Quantity: 1 },
      { ProductId: 'MAT-000017', Quantity: 5 },
    ],
    ...extra,
  };
}

describe('CreateSalesOrder', () => {
  it('creates an OPEN order dated by the clock, in the customer currency, lines numbered 10, 20, 30', () => {
    const f = erp();
    const customer = unlimited(f.state);
    f.clock.set(Date.UTC(2026, 3, 15, 23, 59, 0));
    const result = f.call('CreateSalesOrder', order(customer, { RequestedDeliveryDate: '2026-05-01' }));
    const p = (id: string) => f.state.product(id)!;
    const lines = [
      { LineNumber: 10, ProductId: 'MAT-000001', Description: p('MAT-000001').description, Quantity: 2, UnitPrice: p('MAT-000001').unitPriceCents / 100, NetAmount: (2 * p('MAT-000001').unitPriceCents) / 100 },
      { LineNumber: 20, ProductId: 'MAT-000250', Description: p('MAT-000250').description, Quantity: 1, UnitPrice: p('MAT-000250').unitPriceCents / 100, NetAmount: p('MAT-000250').unitPriceCents / 100 },
      { LineNumber: 30, ProductId: 'MAT-000017', Description: p('MAT-000017').description, Quantity: 5, UnitPrice: p('MAT-000017').unitPriceCents / 100, NetAmount: (5 * p('MAT-000017').unitPriceCents) / 100 },
    ];
    const total = 2 * p('MAT-000001').unitPriceCents + p('MAT-000250').unitPriceCents + 5 * p('MAT-000017').unitPriceCents;
    expect(result.body).toEqual({
      SalesOrder: {
        SalesOrderId: FIRST_CREATED,
        ExternalOrderNumber: 'SF-ORD-1',
        CustomerId: customer,
        OrderStatus: 'OPEN',
        OrderDate: '2026-04-15',
        RequestedDeliveryDate: '2026-05-01',
        CurrencyCode: f.state.customer(customer)!.currencyCode,
        NetAmount: total / 100,
        CancellationReason: null,
        Line: lines,
        CreatedAt: '2026-04-15T23:59:00.000Z',
        ChangedAt: '2026-04-15T23:59:00.000Z',
      },
      Created: true,
    });
    expect(result.effects).toEqual([{ entity: 'SalesOrder', id: FIRST_CREATED, action: 'created' }]);
    expect(f.state.openOrderValueCents(customer)).toBe(total);
    expect(f.call('GetCustomer', { CustomerId: customer }).body.Customer.OpenOrderValue).toBe(total / 100);
  });

  it('the same ExternalOrderNumber with the same content returns the same order: Created false, no effect, no state change', () => {
    const f = erp();
    const customer = unlimited(f.state);
    const first = f.call('CreateSalesOrder', order(customer, { RequestedDeliveryDate: null }));
    const revision = f.state.revision;
    f.clock.advance(3_600_000);
    // RequestedDeliveryDate absent and nil are the same content
    const again = f.call('CreateSalesOrder', order(customer));
    expect(again.body).toEqual({ SalesOrder: first.body.SalesOrder, Created: false });
    expect(again.effects).toBeUndefined();
    expect(again.changedState).toBe(false);
    expect(f.state.revision).toBe(revision);
    expect(f.state.salesOrderCount()).toBe(SMALL.invoices + 1);
    expect(f.state.openOrderValueCents(customer)).toBe(first.body.SalesOrder.NetAmount * 100);
    // the next new order gets the next number: the replay consumed none
    expect(f.call('CreateSalesOrder', order(customer, { ExternalOrderNumber: 'SF-ORD-2' })).body.SalesOrder.SalesOrderId).toBe(nthCreated(1));
  });

  it.each([
    ['another customer', (c: string, other: string) => order(other)],
    ['other lines', (c: string) => order(c, { Line: [{ ProductId: 'MAT-000001', Quantity: 3 }] })],
    ['lines in another order', (c: string) => order(c, { Line: [...order(c).Line].reverse() })],
    ['another requested date', (c: string) => order(c, { RequestedDeliveryDate: '2026-06-01' })],
  ])('the same ExternalOrderNumber with %s is EXTERNAL_ORDER_NUMBER_IN_USE naming the order', (_, variant) => {
    const f = erp();
    const customer = unlimited(f.state);
    const other = customerWhere(f.state, (c) => !c.blocked && c.creditLimitCents === null && c.id !== customer);
    f.call('CreateSalesOrder', order(customer));
    const result = f.call('CreateSalesOrder', variant(customer, other));
    expect(result.fault).toMatchObject({ code: 'EXTERNAL_ORDER_NUMBER_IN_USE', side: 'client' });
    expect(result.fault.message).toContain(FIRST_CREATED);
    expect(f.state.salesOrderCount()).toBe(SMALL.invoices + 1);
  });

  it('an unknown customer is CUSTOMER_NOT_FOUND, a blocked one CUSTOMER_BLOCKED; nothing is created', () => {
    const f = erp();
    expect(f.call('CreateSalesOrder', order('0001999999')).fault).toMatchObject({ code: 'CUSTOMER_NOT_FOUND', side: 'server' });
    const blocked = customerWhere(f.state, (c) => c.blocked);
    const result = f.call('CreateSalesOrder', order(blocked));
    expect(result.fault).toMatchObject({ code: 'CUSTOMER_BLOCKED', side: 'server' });
    expect(result.fault.message).toContain(blocked);
    expect(f.state.salesOrderCount()).toBe(SMALL.invoices);
    expect(f.state.revision).toBe(0);
    expect(f.state.salesOrderByExternalNumber('SF-ORD-1')).toBeUndefined();
  });

  it('unknown products are PRODUCT_NOT_FOUND with a problem per bad line (1-based paths)', () => {
    const f = erp();
    const customer = unlimited(f.state);
    const result = f.call(
      'CreateSalesOrder',
      order(customer, {
        Line: [
          { ProductId: 'MAT-000001', Quantity: 1 },
          { ProductId: 'MAT-000251', Quantity: 1 },
          { ProductId: 'MAT-000000', Quantity: 1 },
        ],
      }),
    );
    expect(result.fault).toMatchObject({
      code: 'PRODUCT_NOT_FOUND',
      problems: [
        { path: 'Line[2]/ProductId', text: expect.stringContaining('MAT-000251') },
        { path: 'Line[3]/ProductId', text: expect.stringContaining('MAT-000000') },
      ],
    });
    expect(f.state.salesOrderCount()).toBe(SMALL.invoices);
  });

  it('every seeded product can be ordered', () => {
    const f = erp();
    const customer = unlimited(f.state);
    const ids = f.state.products.map((p) => p.id);
    for (let k = 0; k < ids.length; k += 100) {
      const Line = ids.slice(k, k + 100).map((ProductId) => ({ ProductId, Quantity: 1 }));
      expect(f.call('CreateSalesOrder', order(customer, { ExternalOrderNumber: `ALL-${k}`, Line })).body?.Created).toBe(true);
    }
  });

  it('an order above the credit limit is CREDIT_LIMIT_EXCEEDED with the numbers, and creates nothing', () => {
    const f = erp();
    const customer = limited(f.state);
    const limit = f.state.customer(customer)!.creditLimitCents!;
    const price = f.state.product('MAT-000001')!.unitPriceCents;
    // fill most of the limit, then ask for more than what is left
    const fits = Math.floor((limit * 0.6) / price);
    const first = f.call('CreateSalesOrder', order(customer, { Line: [{ ProductId: 'MAT-000001', Quantity: fits }] }));
    expect(first.body.Created).toBe(true);
    const open = fits * price;
    const revision = f.state.revision;
    const tooMuch = Math.floor((limit - open) / price) + 1;
    const refused = f.call('CreateSalesOrder', order(customer, { ExternalOrderNumber: 'SF-ORD-2', Line: [{ ProductId: 'MAT-000001', Quantity: tooMuch }] }));
    expect(refused.fault).toMatchObject({ code: 'CREDIT_LIMIT_EXCEEDED', side: 'server' });
    const money = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
    for (const n of [tooMuch * price, open, open + tooMuch * price, limit]) expect(refused.fault.message).toContain(money(n));
    // nothing created: open value unchanged, the number unused, the external number free
    expect(f.state.openOrderValueCents(customer)).toBe(open);
    expect(f.state.revision).toBe(revision);
    expect(f.state.salesOrderByExternalNumber('SF-ORD-2')).toBeUndefined();
    const fitting = f.call('CreateSalesOrder', order(customer, { ExternalOrderNumber: 'SF-ORD-2', Line: [{ ProductId: 'MAT-000001', Quantity: tooMuch - 1 }] }));
    expect(fitting.body.SalesOrder.SalesOrderId).toBe(nthCreated(1));
  });

  it('exactly the credit limit is allowed; a customer without a limit is never refused', () => {
    const f = erp();
    const customer = limited(f.state);
    f.call('UpsertCustomer', { ExternalId: 'X-1', Name: 'Exact Ltd', Country: 'GB', CurrencyCode: 'GBP', CreditLimit: f.state.product('MAT-000002')!.unitPriceCents / 10 });
    const exact = f.state.customerByExternalId('X-1')!.id;
    expect(f.call('CreateSalesOrder', order(exact, { ExternalOrderNumber: 'E-1', Line: [{ ProductId: 'MAT-000002', Quantity: 10 }] })).body?.Created).toBe(true);
    expect(f.call('CreateSalesOrder', order(exact, { ExternalOrderNumber: 'E-2', Line: [{ ProductId: 'MAT-000002', Quantity: 1 }] })).fault?.code).toBe('CREDIT_LIMIT_EXCEEDED');
    expect(customer).toBeDefined();
    const free = unlimited(f.state);
    expect(f.call('CreateSalesOrder', order(free, { Line: [{ ProductId: 'MAT-000002', Quantity: 100_000 }] })).body?.Created).toBe(true);
  });
});

describe('GetSalesOrder', () => {
  it('finds an order by SalesOrderId, by ExternalOrderNumber, or by both when they agree', () => {
    const f = erp();
    const created = f.call('CreateSalesOrder', order(unlimited(f.state))).body.SalesOrder;
    expect(f.call('GetSalesOrder', { SalesOrderId: FIRST_CREATED }).body.SalesOrder).toEqual(created);
    expect(f.call('GetSalesOrder', { ExternalOrderNumber: 'SF-ORD-1' }).body.SalesOrder).toEqual(created);
    expect(f.call('GetSalesOrder', { SalesOrderId: FIRST_CREATED, ExternalOrderNumber: 'SF-ORD-1' }).body.SalesOrder).toEqual(created);
    expect(f.call('GetSalesOrder', { SalesOrderId: null, ExternalOrderNumber: 'SF-ORD-1' }).body.SalesOrder).toEqual(created);
  });

  it('reads a seeded order: INVOICED, with its invoice lines', () => {
    const f = erp();
    const invoice = f.state.invoiceAt(3);
    const result = f.call('GetSalesOrder', { SalesOrderId: '0070000004' });
    expect(result.body.SalesOrder).toMatchObject({ SalesOrderId: '0070000004', OrderStatus: 'INVOICED', ExternalOrderNumber: null, CustomerId: invoice.customerId });
    expect(result.body.SalesOrder.Line).toHaveLength(invoice.lineCount);
  });

  it('neither id is REQUIRED_FIELD_MISSING (client); an unknown one ORDER_NOT_FOUND', () => {
    const f = erp();
    f.call('CreateSalesOrder', order(unlimited(f.state)));
    expect(f.call('GetSalesOrder', {}).fault).toMatchObject({ code: 'REQUIRED_FIELD_MISSING', side: 'client' });
    expect(f.call('GetSalesOrder', { SalesOrderId: null, ExternalOrderNumber: null }).fault).toMatchObject({ code: 'REQUIRED_FIELD_MISSING', side: 'client' });
    expect(f.call('GetSalesOrder', { SalesOrderId: nthCreated(1) }).fault).toMatchObject({ code: 'ORDER_NOT_FOUND', side: 'server' });
    expect(f.call('GetSalesOrder', { SalesOrderId: '0070000000' }).fault?.code).toBe('ORDER_NOT_FOUND');
    expect(f.call('GetSalesOrder', { ExternalOrderNumber: 'NOPE' }).fault?.code).toBe('ORDER_NOT_FOUND');
    expect(f.call('GetSalesOrder', { SalesOrderId: FIRST_CREATED, ExternalOrderNumber: 'NOPE' }).fault?.code).toBe('ORDER_NOT_FOUND');
  });
});

describe('CancelSalesOrder', () => {
  it('cancels an OPEN order: CancellationReason set, the open value released, an effect', () => {
    const f = erp();
    const customer = limited(f.state);
    const created = f.call('CreateSalesOrder', order(customer)).body.SalesOrder;
    f.clock.advance(120_000);
    const result = f.call('CancelSalesOrder', { SalesOrderId: created.SalesOrderId, Reason: 'Customer changed their mind' });
    expect(result.body.SalesOrder).toEqual({
      ...created,
      OrderStatus: 'CANCELLED',
      CancellationReason: 'Customer changed their mind',
      ChangedAt: new Date(START + 120_000).toISOString(),
    });
    expect(result.effects).toEqual([{ entity: 'SalesOrder', id: created.SalesOrderId, action: 'cancelled' }]);
    expect(f.state.openOrderValueCents(customer)).toBe(0);
    expect(f.call('GetSalesOrder', { SalesOrderId: created.SalesOrderId }).body.SalesOrder.OrderStatus).toBe('CANCELLED');
  });

  it('cancelling restores the credit a refused order needed (the compensating action)', () => {
    const f = erp();
    const customer = limited(f.state);
    const limit = f.state.customer(customer)!.creditLimitCents!;
    const price = f.state.product('MAT-000003')!.unitPriceCents;
    const half = Math.floor(limit / 2 / price) + 1; // two of these do not fit
    const first = f.call('CreateSalesOrder', order(customer, { Line: [{ ProductId: 'MAT-000003', Quantity: half }] })).body.SalesOrder;
    const second = order(customer, { ExternalOrderNumber: 'SF-ORD-2', Line: [{ ProductId: 'MAT-000003', Quantity: half }] });
    expect(f.call('CreateSalesOrder', second).fault?.code).toBe('CREDIT_LIMIT_EXCEEDED');
    f.call('CancelSalesOrder', { SalesOrderId: first.SalesOrderId });
    expect(f.call('GetCustomer', { CustomerId: customer }).body.Customer.OpenOrderValue).toBe(0);
    const retried = f.call('CreateSalesOrder', second);
    expect(retried.body.Created).toBe(true);
    expect(f.state.openOrderValueCents(customer)).toBe(half * price);
  });

  it('cancelling a cancelled order answers it unchanged: no effect, changedState false', () => {
    const f = erp();
    const created = f.call('CreateSalesOrder', order(unlimited(f.state))).body.SalesOrder;
    const cancelled = f.call('CancelSalesOrder', { SalesOrderId: created.SalesOrderId, Reason: 'first' }).body.SalesOrder;
    const revision = f.state.revision;
    f.clock.advance(1000);
    const again = f.call('CancelSalesOrder', { SalesOrderId: created.SalesOrderId, Reason: 'second' });
    expect(again.body.SalesOrder).toEqual(cancelled);
    expect(again.effects).toBeUndefined();
    expect(again.changedState).toBe(false);
    expect(f.state.revision).toBe(revision);
  });

  it('an INVOICED order is ORDER_NOT_CANCELLABLE; an unknown one ORDER_NOT_FOUND', () => {
    const f = erp();
    const result = f.call('CancelSalesOrder', { SalesOrderId: '0070000001' });
    expect(result.fault).toMatchObject({ code: 'ORDER_NOT_CANCELLABLE', side: 'server' });
    expect(result.fault.message).toContain('INVOICED');
    expect(f.call('CancelSalesOrder', { SalesOrderId: FIRST_CREATED }).fault?.code).toBe('ORDER_NOT_FOUND');
    expect(f.state.revision).toBe(0);
  });
});
