/**
 * Charges, asynchronous capture, refunds, the ledger and customers, as the contract's operation descriptions say.
 */
import { describe, expect, it } from 'vitest';
import { CAPTURE_FAILURE_CODE } from '../../../src/systems/payments/state.js';
import { charge, payments, type Fixture } from './fixtures.js';

function authorized(f: Fixture, extra: Record<string, unknown> = {}) {
  const made = f.call('createCharge', { body: charge({ capture: false, ...extra }) });
  expect(made.status).toBe(201);
  return made.body;
}

describe('customers', () => {
  it('creates with every field optional and reads back; unknown ids are 404 with param id', () => {
    const f = payments();
    const empty = f.call('createCustomer');
    expect(empty.status).toBe(201);
    expect(empty.body).toMatchObject({ object: 'customer', email: null, name: null, description: null, metadata: {} });
    expect(empty.body.id).toMatch(/^cus_[A-Za-z0-9]+$/);
    expect(empty.body.created).toBe(Math.floor(f.clock.now() / 1000));
    const full = f.call('createCustomer', { body: { email: 'jenny@example.com', name: 'Jenny', description: 'Acct', metadata: { sf: '001' } } });
    expect(full.effects).toEqual([{ entity: 'customer', id: full.body.id, action: 'created' }]);
    expect(f.call('getCustomer', { params: { id: full.body.id } }).body).toEqual(full.body);
    expect(full.body.id).not.toBe(empty.body.id);
    const missing = f.call('getCustomer', { params: { id: 'cus_nobody' } });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'resource_missing', param: 'id', message: "No such customer: 'cus_nobody'" });
  });
});

describe('charges', () => {
  it('captures at once by default: 201, a ledger charge entry, ids matching the contract', () => {
    const f = payments();
    const cus = f.call('createCustomer').body.id;
    const made = f.call('createCharge', { body: charge({ customer: cus, description: 'Order 42', metadata: { order_id: '42' } }), key: 'k1', client: 'org-a' });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      object: 'charge',
      amount: 4999,
      amount_captured: 4999,
      amount_refunded: 0,
      captured: true,
      paid: true,
      refunded: false,
      status: 'succeeded',
      customer: cus,
      description: 'Order 42',
      metadata: { order_id: '42' },
      outcome: { network_status: 'approved_by_network', type: 'authorized', reason: null },
    });
    expect(made.body.id).toMatch(/^ch_[A-Za-z0-9]+$/);
    const ledger = f.call('listLedgerEntries').body.data;
    expect(ledger).toEqual([
      expect.objectContaining({ type: 'charge', amount: 4999, charge: made.body.id, refund: null, customer: cus, description: 'Order 42', client: 'org-a', idempotency_key: 'k1' }),
    ]);
    expect(ledger[0].id).toMatch(/^txn_[A-Za-z0-9]+$/);
  });

  it('only authorizes with capture false: no money moves', () => {
    const f = payments();
    const ch = authorized(f);
    expect(ch).toMatchObject({ captured: false, amount_captured: 0, paid: true, status: 'succeeded' });
    expect(f.state.ledger).toHaveLength(0);
  });

  it('an unknown customer is a 404 with param customer, before the card is charged', () => {
    const f = payments();
    const result = f.call('createCharge', { body: charge({ customer: 'cus_nobody', payment_method: 'pm_card_chargeDeclined' }) });
    expect(result.status).toBe(404);
    expect(result.body.error).toMatchObject({ code: 'resource_missing', param: 'customer' });
    expect(f.state.charges).toHaveLength(0);
  });

  it('GET answers the charge as it is now, 404 with param id for an unknown one', () => {
    const f = payments();
    const made = f.call('createCharge', { body: charge() });
    expect(f.call('getCharge', { params: { id: made.body.id } }).body).toEqual(made.body);
    expect(f.call('getCharge', { params: { id: 'ch_nothing' } }).body.error).toMatchObject({ code: 'resource_missing', param: 'id', message: "No such charge: 'ch_nothing'" });
  });

  it('lists newest first, limit 10 by default, paged with starting_after, failed charges included, filtered by customer', () => {
    const f = payments();
    const cus = f.call('createCustomer').body.id;
    const ids: string[] = [];
    for (let i = 0; i < 13; i++) {
      f.clock.advance(1000);
      const pm = i === 5 ? 'pm_card_chargeDeclined' : 'pm_card_visa';
      const r = f.call('createCharge', { body: charge({ amount: 100 + i, payment_method: pm, ...(i % 3 === 0 ? { customer: cus } : {}) }) });
      ids.push(r.status === 402 ? r.body.error.charge : r.body.id);
    }
    const newest = [...ids].reverse();
    const first = f.call('listCharges', { baseUrl: '/w/ci-7/payments/v1' }).body;
    expect(first.data.map((c: any) => c.id)).toEqual(newest.slice(0, 10));
    expect(first.has_more).toBe(true);
    expect(first.url).toBe('/w/ci-7/payments/v1/charges');
    const second = f.call('listCharges', { query: { starting_after: first.data[9].id } }).body;
    expect(second.data.map((c: any) => c.id)).toEqual(newest.slice(10));
    expect(second.has_more).toBe(false);
    expect(f.call('listCharges', { query: { limit: 13 } }).body.has_more).toBe(false);
    expect(f.call('listCharges', { query: { limit: 12 } }).body.has_more).toBe(true);

    const mine = f.call('listCharges', { query: { customer: cus, limit: 100 } }).body.data.map((c: any) => c.id);
    expect(mine).toEqual(newest.filter((_, i) => (12 - i) % 3 === 0));
    // starting_after of a charge outside the filter still pages by time
    const afterOther = f.call('listCharges', { query: { customer: cus, starting_after: ids[7] } }).body.data.map((c: any) => c.id);
    expect(afterOther).toEqual([ids[6], ids[3], ids[0]]);
    expect(f.call('listCharges', { query: { customer: 'cus_nobody' } }).body).toMatchObject({ data: [], has_more: false });
    const bad = f.call('listCharges', { query: { starting_after: 'ch_nothing' } });
    expect(bad.status).toBe(404);
    expect(bad.body.error).toMatchObject({ code: 'resource_missing', param: 'starting_after' });
  });
});

describe('asynchronous capture', () => {
  it('202 pending now; succeeded at the due time with a capture ledger entry stamped with it', () => {
    const f = payments({ captureDelayMs: 2000 });
    const ch = authorized(f);
    f.clock.advance(500);
    const started = f.call('captureCharge', { params: { id: ch.id }, key: 'cap', client: 'org-b' });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ id: ch.id, status: 'pending', captured: false, amount_captured: 0, paid: true });
    expect(started.effects).toEqual([{ entity: 'charge', id: ch.id, action: 'capture-started' }]);
    const startedAt = f.clock.now();

    f.clock.advance(1999);
    expect(f.call('getCharge', { params: { id: ch.id } }).body.status).toBe('pending');
    expect(f.state.ledger).toHaveLength(0);

    // read long after: the outcome is stamped with the due time, not the time of the read
    f.clock.advance(60_000);
    const settled = f.call('getCharge', { params: { id: ch.id } }).body;
    expect(settled).toMatchObject({ status: 'succeeded', captured: true, amount_captured: ch.amount, paid: true });
    const [entry] = f.call('listLedgerEntries').body.data;
    expect(entry).toMatchObject({ type: 'capture', amount: ch.amount, charge: ch.id, client: 'org-b', idempotency_key: 'cap' });
    expect(entry.created).toBe(Math.floor((startedAt + 2000) / 1000));
    expect(f.state.changes.since(0, 10).at(-1)).toMatchObject({ type: 'charge.succeeded', at: startedAt + 2000 });
  });

  it('fails at the due time with captureFailureRate 1: failed, processing_error, no ledger entry', () => {
    const f = payments({ captureFailureRate: 1 });
    const ch = authorized(f);
    f.call('captureCharge', { params: { id: ch.id } });
    f.clock.advance(2000);
    const failed = f.call('getCharge', { params: { id: ch.id } }).body;
    expect(failed).toMatchObject({ status: 'failed', paid: false, captured: false, amount_captured: 0, failure_code: CAPTURE_FAILURE_CODE });
    expect(failed.failure_message).toBeTruthy();
    // the outcome as it was when the charge was made
    expect(failed.outcome.network_status).toBe('approved_by_network');
    expect(f.state.ledger).toHaveLength(0);
    expect(f.state.changes.since(0, 10).at(-1)).toMatchObject({ type: 'charge.failed', id: ch.id });
  });

  it('draws failures from the seed and the charge: a rate of one half fails some and not others, the same way every time', () => {
    const outcomes = (seed: number) => {
      const f = payments({ captureFailureRate: 0.5, seed });
      const ids = Array.from({ length: 40 }, () => authorized(f).id);
      for (const id of ids) f.call('captureCharge', { params: { id } });
      f.clock.advance(2000);
      f.call('listCharges');
      return ids.map((id) => f.state.chargeById.get(id)!.status);
    };
    const a = outcomes(7);
    expect(a).toEqual(outcomes(7));
    expect(a.filter((s) => s === 'failed').length).toBeGreaterThan(5);
    expect(a.filter((s) => s === 'succeeded').length).toBeGreaterThan(5);
    expect(outcomes(8)).not.toEqual(a);
  });

  it('settles captures in due order, each at its own time', () => {
    const f = payments({ captureDelayMs: 1000 });
    const a = authorized(f);
    const b = authorized(f);
    f.call('captureCharge', { params: { id: a.id } });
    f.clock.advance(300);
    f.call('captureCharge', { params: { id: b.id } });
    f.clock.advance(700);
    f.call('listCharges');
    expect(f.state.chargeById.get(a.id)!.status).toBe('succeeded');
    expect(f.state.chargeById.get(b.id)!.status).toBe('pending');
    f.clock.advance(300);
    f.call('listCharges');
    expect(f.state.ledger.map((e) => [e.charge, e.created - f.state.ledger[0].created])).toEqual([
      [a.id, 0],
      [b.id, 300],
    ]);
  });

  it('refuses: unknown (404 id), captured or pending (charge_already_captured), failed; a replay answers the first 202', () => {
    const f = payments();
    expect(f.call('captureCharge', { params: { id: 'ch_nothing' } }).body.error).toMatchObject({ code: 'resource_missing', param: 'id' });
    const captured = f.call('createCharge', { body: charge() }).body;
    const already = f.call('captureCharge', { params: { id: captured.id } });
    expect(already.status).toBe(400);
    expect(already.body.error.code).toBe('charge_already_captured');
    const failedId = f.call('createCharge', { body: charge({ payment_method: 'pm_card_chargeDeclined' }) }).body.error.charge;
    const failed = f.call('captureCharge', { params: { id: failedId } });
    expect(failed.status).toBe(400);
    expect(failed.body.error.message).toMatch(/failed/);
    expect(failed.changedState).toBe(false);

    const ch = authorized(f);
    const first = f.call('captureCharge', { params: { id: ch.id }, key: 'cap' });
    expect(f.call('captureCharge', { params: { id: ch.id } }).body.error.code).toBe('charge_already_captured');
    f.clock.advance(5000);
    const replay = f.call('captureCharge', { params: { id: ch.id }, key: 'cap' });
    expect(replay.status).toBe(202);
    expect(replay.body).toEqual(first.body);
    expect(replay.body.status).toBe('pending');
    expect(f.call('getCharge', { params: { id: ch.id } }).body.status).toBe('succeeded');
  });

  it('captureDelayMs 0 settles on the next request', () => {
    const f = payments({ captureDelayMs: 0 });
    const ch = authorized(f);
    expect(f.call('captureCharge', { params: { id: ch.id } }).body.status).toBe('pending');
    expect(f.call('getCharge', { params: { id: ch.id } }).body.status).toBe('succeeded');
  });
});

describe('refunds', () => {
  it('partial then full: amount_refunded grows, refunded once all is back, negative ledger entries, then charge_already_refunded', () => {
    const f = payments();
    const ch = f.call('createCharge', { body: charge({ amount: 5000 }) }).body;
    const partial = f.call('createRefund', { body: { charge: ch.id, amount: 1000, reason: 'requested_by_customer', metadata: { case: '7' } }, key: 'r1' });
    expect(partial.status).toBe(201);
    expect(partial.body).toMatchObject({ object: 'refund', amount: 1000, charge: ch.id, currency: 'usd', reason: 'requested_by_customer', status: 'succeeded', metadata: { case: '7' } });
    expect(partial.body.id).toMatch(/^re_[A-Za-z0-9]+$/);
    expect(partial.effects).toEqual([
      { entity: 'refund', id: partial.body.id, action: 'created' },
      { entity: 'charge', id: ch.id, action: 'refunded' },
    ]);
    expect(f.call('getCharge', { params: { id: ch.id } }).body).toMatchObject({ amount_refunded: 1000, refunded: false });

    const over = f.call('createRefund', { body: { charge: ch.id, amount: 4001 } });
    expect(over.status).toBe(400);
    expect(over.body.error).toMatchObject({ code: 'amount_too_large', param: 'amount' });
    expect(over.body.error.message).toContain('4000');

    // no amount: all that is left
    const rest = f.call('createRefund', { body: { charge: ch.id } });
    expect(rest.body.amount).toBe(4000);
    expect(rest.body.reason).toBeNull();
    expect(f.call('getCharge', { params: { id: ch.id } }).body).toMatchObject({ amount_refunded: 5000, refunded: true });
    const again = f.call('createRefund', { body: { charge: ch.id, amount: 1 } });
    expect(again.body.error).toMatchObject({ code: 'charge_already_refunded', param: 'charge' });

    const ledger = f.call('listLedgerEntries', { query: { charge: ch.id } }).body.data;
    expect(ledger.map((e: any) => [e.type, e.amount, e.refund])).toEqual([
      ['refund', -4000, rest.body.id],
      ['refund', -1000, partial.body.id],
      ['charge', 5000, null],
    ]);
    expect(ledger[1].idempotency_key).toBe('r1');
    expect(ledger.reduce((sum: number, e: any) => sum + e.amount, 0)).toBe(0);
  });

  it('refuses a failed, an only authorized and a pending charge (charge_not_refundable) and an unknown one (404 param charge)', () => {
    const f = payments();
    const failedId = f.call('createCharge', { body: charge({ payment_method: 'pm_card_chargeDeclined' }) }).body.error.charge;
    const auth = authorized(f);
    const pending = authorized(f);
    f.call('captureCharge', { params: { id: pending.id } });
    for (const id of [failedId, auth.id, pending.id]) {
      const r = f.call('createRefund', { body: { charge: id } });
      expect(r.status, id).toBe(400);
      expect(r.body.error).toMatchObject({ type: 'invalid_request_error', code: 'charge_not_refundable', param: 'charge' });
      expect(r.changedState).toBe(false);
    }
    const missing = f.call('createRefund', { body: { charge: 'ch_nothing' } });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'resource_missing', param: 'charge' });
    expect(f.state.refunds.size).toBe(0);
    expect(f.state.ledger).toHaveLength(0);
    // once the capture settled it can be refunded
    f.clock.advance(2000);
    expect(f.call('createRefund', { body: { charge: pending.id } }).status).toBe(201);
  });
});

describe('ledger', () => {
  it('filters by charge and customer, pages with starting_after, 404 for an unknown entry', () => {
    const f = payments();
    const cus = f.call('createCustomer').body.id;
    const a = f.call('createCharge', { body: charge({ customer: cus, amount: 100 }) }).body;
    f.clock.advance(1000);
    const b = f.call('createCharge', { body: charge({ amount: 200 }) }).body;
    f.clock.advance(1000);
    f.call('createRefund', { body: { charge: a.id, amount: 50 } });
    f.call('createCharge', { body: charge({ payment_method: 'pm_card_chargeDeclined' }) });
    f.call('createCharge', { body: charge({ capture: false }) });

    const all = f.call('listLedgerEntries').body.data;
    expect(all.map((e: any) => [e.type, e.amount])).toEqual([
      ['refund', -50],
      ['charge', 200],
      ['charge', 100],
    ]);
    expect(f.call('listLedgerEntries', { query: { customer: cus } }).body.data.map((e: any) => e.amount)).toEqual([-50, 100]);
    expect(f.call('listLedgerEntries', { query: { charge: b.id } }).body.data.map((e: any) => e.amount)).toEqual([200]);
    expect(f.call('listLedgerEntries', { query: { charge: 'ch_nothing' } }).body.data).toEqual([]);
    const page = f.call('listLedgerEntries', { query: { limit: 1 } }).body;
    expect(page.has_more).toBe(true);
    expect(page.url).toBe('/payments/v1/ledger');
    const next = f.call('listLedgerEntries', { query: { limit: 2, starting_after: page.data[0].id } }).body;
    expect(next.data.map((e: any) => e.id)).toEqual([all[1].id, all[2].id]);
    expect(next.has_more).toBe(false);
    expect(f.call('listLedgerEntries', { query: { starting_after: 'txn_nothing' } }).body.error).toMatchObject({ code: 'resource_missing', param: 'starting_after' });
  });
});

describe('absurd input the handlers decide on', () => {
  it('metadata keys that name Object.prototype members are kept as plain data', () => {
    const f = payments();
    const metadata = JSON.parse('{"__proto__":"x","constructor":"y","order_id":"SO-9"}');
    const made = f.call('createCharge', { body: charge({ metadata }) });
    expect(Object.keys(made.body.metadata).sort()).toEqual(['__proto__', 'constructor', 'order_id']);
    expect(JSON.stringify(f.call('getCharge', { params: { id: made.body.id } }).body.metadata)).toBe(JSON.stringify(made.body.metadata));
  });

  it('ids that name Object.prototype members name nothing', () => {
    const f = payments();
    expect(f.call('getCustomer', { params: { id: 'cus_constructor' } }).status).toBe(404);
    expect(f.call('getCharge', { params: { id: 'ch_toString' } }).status).toBe(404);
    expect(f.call('createCharge', { body: charge({ payment_method: 'pm_card_hasOwnProperty' }) }).status).toBe(404);
    expect(f.call('createRefund', { body: { charge: 'ch_constructor' } }).status).toBe(404);
  });

  it('the cap itself is allowed, one more is refused; starting_after the oldest charge is an empty last page', () => {
    const f = payments({ maxAmount: 99_999_999 });
    const max = f.call('createCharge', { body: charge({ amount: 99_999_999 }) });
    expect(max.status).toBe(201);
    expect(f.call('createRefund', { body: { charge: max.body.id, amount: 99_999_999 } }).status).toBe(201);
    expect(f.call('listCharges', { query: { starting_after: max.body.id } }).body).toMatchObject({ data: [], has_more: false });
    const low = payments({ maxAmount: 1 });
    expect(low.call('createCharge', { body: charge({ amount: 1 }) }).status).toBe(201);
    expect(low.call('createCharge', { body: charge({ amount: 2 }) }).body.error.param).toBe('amount');
  });

  it('a refund of exactly what is left refunds the charge; the same once more is refused, changing nothing', () => {
    const f = payments();
    const ch = f.call('createCharge', { body: charge({ amount: 300 }) }).body;
    f.call('createRefund', { body: { charge: ch.id, amount: 100 } });
    expect(f.call('createRefund', { body: { charge: ch.id, amount: 200 } }).status).toBe(201);
    const refused = f.call('createRefund', { body: { charge: ch.id, amount: 200 } });
    expect(refused.body.error.code).toBe('charge_already_refunded');
    expect(f.state.ledger.map((e) => e.amount)).toEqual([300, -100, -200]);
  });
});
