/**
 * Snapshots and replay: a state restored from its snapshot answers every read as before and numbers the next
 * documents the same; a state rebuilt by replaying the write log at its clock times is the same state; a snapshot
 * taken with another seed or other sizes, or that is not an ERP snapshot, is refused.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/util/clock.js';
import { customerWhere, erp, fixtureOf, replay, SMALL, START, type Fixture } from './fixtures.js';

/** a workspace's worth of writes: customers inserted and updated, orders created, replayed, refused and cancelled */
function busy(): Fixture {
  const f = erp({ seed: 9 });
  const free = customerWhere(f.state, (c) => !c.blocked && c.creditLimitCents === null);
  const seeded = customerWhere(f.state, (c) => c.externalId !== null && !c.blocked);
  f.call('UpsertCustomer', { ExternalId: 'SF-1', Name: 'One Ltd', Country: 'GB', CurrencyCode: 'GBP', CreditLimit: 5000 });
  f.clock.advance(1500);
  f.call('UpsertCustomer', { ExternalId: f.state.customer(seeded)!.externalId, City: null, CreditLimit: 99999.99 });
  for (let k = 0; k < 5; k++) {
    f.clock.advance(60_000);
    f.call('CreateSalesOrder', { ExternalOrderNumber: `SO-${k}`, CustomerId: k % 2 ? free : seeded, Line: [{ ProductId: `MAT-00000${k + 1}`, Quantity: k + 1 }] });
  }
  f.call('CreateSalesOrder', { ExternalOrderNumber: 'SO-1', CustomerId: free, Line: [{ ProductId: 'MAT-000002', Quantity: 2 }] });
  f.call('CreateSalesOrder', { ExternalOrderNumber: 'SO-big', CustomerId: f.state.customerByExternalId('SF-1')!.id, Line: [{ ProductId: 'MAT-000001', Quantity: 100_000 }] });
  f.clock.advance(3_600_000);
  f.call('CancelSalesOrder', { SalesOrderId: f.state.salesOrderByExternalNumber('SO-2')!.id, Reason: 'duplicate' });
  return f;
}

/** what a client can read after the writes above */
function answers(f: Fixture) {
  const calls: Array<[string, Record<string, unknown>]> = [
    ...[...f.state.customers()].map((c): [string, Record<string, unknown>] => ['GetCustomer', { CustomerId: c.id }]),
    ...['SO-0', 'SO-1', 'SO-2', 'SO-3', 'SO-4', 'SO-big'].map((n): [string, Record<string, unknown>] => ['GetSalesOrder', { ExternalOrderNumber: n }]),
    ['GetSalesOrder', { SalesOrderId: '0070000001' }],
    ['ListInvoices', { PageSize: 200 }],
    ['GetInvoice', { InvoiceId: '0090000400' }],
  ];
  return { calls: calls.map(([op, body]) => f.call(op, body)), revision: f.state.revision, orders: [...f.state.salesOrders()].slice(-10) };
}

describe('ERP snapshots', () => {
  it('a restored state answers the same as before, and goes on numbering the same', () => {
    const f = busy();
    const bytes = f.system.snapshotState!(f.state);
    const clock = new ManualClock(f.clock.now());
    const restored = fixtureOf(f.system, f.system.restoreState!(bytes, { seed: 9, clock }), clock, 9);
    expect(answers(restored)).toEqual(answers(f));
    expect(f.system.snapshotState!(restored.state).equals(bytes)).toBe(true);
    // the next writes come out the same on both
    const next = (x: Fixture) => [
      x.call('UpsertCustomer', { ExternalId: 'SF-2', Name: 'Two Ltd', Country: 'IE', CurrencyCode: 'EUR' }),
      x.call('CreateSalesOrder', { ExternalOrderNumber: 'SO-9', CustomerId: x.state.customerByExternalId('SF-1')!.id, Line: [{ ProductId: 'MAT-000009', Quantity: 1 }] }),
      x.call('CreateSalesOrder', { ExternalOrderNumber: 'SO-0', CustomerId: x.state.salesOrderByExternalNumber('SO-0')!.customerId, Line: [{ ProductId: 'MAT-000001', Quantity: 1 }] }),
    ];
    expect(next(restored)).toEqual(next(f));
    // the open order values came back with the orders
    const sf1 = f.state.customerByExternalId('SF-1')!.id;
    expect(restored.state.openOrderValueCents(sf1)).toBe(f.state.openOrderValueCents(sf1));
  });

  it('replaying the write log at its clock times rebuilds the same state', () => {
    const f = busy();
    // refused and idempotent calls are not in the log
    expect(f.log.map((w) => w.operation)).toEqual(['UpsertCustomer', 'UpsertCustomer', ...Array(5).fill('CreateSalesOrder'), 'CancelSalesOrder']);
    const rebuilt = replay(f.system, 9, f.log);
    expect(f.system.snapshotState!(rebuilt).toString()).toBe(f.system.snapshotState!(f.state).toString());
  });

  it('a fresh state snapshots to overlays only, whatever the seeded size', () => {
    const f = erp();
    expect(f.system.snapshotState!(f.state).length).toBeLessThan(400);
  });

  it('refuses a snapshot of another seed, other sizes, or bytes that are not an ERP snapshot', () => {
    const f = busy();
    const bytes = f.system.snapshotState!(f.state);
    const clock = new ManualClock(START);
    expect(() => f.system.restoreState!(bytes, { seed: 10, clock })).toThrow(/seed 9 \(now 10\)/);
    const other = erp({ seed: 9, invoiceLines: SMALL.invoiceLines + 1 }).system;
    expect(() => other.restoreState!(bytes, { seed: 9, clock })).toThrow(/other options: invoiceLines 20000 \(now 20001\)/);
    expect(() => f.system.restoreState!(Buffer.from('{nope'), { seed: 9, clock })).toThrow(/not JSON/);
    expect(() => f.system.restoreState!(Buffer.from('{"format":"understudy-payments-snapshot"}'), { seed: 9, clock })).toThrow(/not an ERP snapshot/);
    const data = JSON.parse(bytes.toString());
    data.nextOrderNumber = 1;
    expect(() => f.system.restoreState!(Buffer.from(JSON.stringify(data)), { seed: 9, clock })).toThrow(/corrupt/);
  });
});

