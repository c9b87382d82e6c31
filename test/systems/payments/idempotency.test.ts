/**
 * Stripe's idempotency rules (the contract's API description, SALESFORCE.md §6), one test per rule, calling the
 * handlers as the engine would on a ManualClock. "Stored nothing" is proven by what a later request with the key
 * gets, "no effects" by the ledger, the charge list and the change list.
 */
import { describe, expect, it } from 'vitest';
import { card, charge, payments, type Fixture } from './fixtures.js';

const KEY = '8a1f5c2e-4b7d-4e3a-9c6f-2d1e0b9a7c54';

function counts(f: Fixture) {
  return { charges: f.state.charges.length, ledger: f.state.ledger.length, changes: f.state.changes.latestSeq, keys: f.state.keys.size };
}

describe('idempotency', () => {
  it('replays the first answer for the same key and parameters: same status and body, Idempotent-Replayed, nothing executed again', () => {
    const f = payments();
    const first = f.call('createCharge', { body: charge(), key: KEY });
    expect(first.status).toBe(201);
    expect(first.headers?.['idempotent-replayed']).toBeUndefined();
    expect(first.key).toBe(KEY);
    expect(first.changedState).toBe(true);
    expect(first.effects).toEqual([{ entity: 'charge', id: first.body.id, action: 'created' }]);
    const before = counts(f);

    f.clock.advance(60_000);
    // key order does not matter: the body is compared as a value
    const { payment_method, currency, amount } = charge();
    const retry = f.call('createCharge', { body: { payment_method, currency, amount }, key: KEY });
    expect(retry.status).toBe(first.status);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers?.['idempotent-replayed']).toBe('true');
    expect(retry.key).toBe(KEY);
    expect(retry.changedState).toBe(false);
    expect(retry.effects).toBeUndefined();
    expect(counts(f)).toEqual(before);
    expect(f.state.ledger).toHaveLength(1);
  });

  it('replays the body as it was first answered, not as the object is now', () => {
    const f = payments();
    const first = f.call('createCharge', { body: charge(), key: KEY });
    f.call('createRefund', { body: { charge: first.body.id, amount: 1000 } });
    const retry = f.call('createCharge', { body: charge(), key: KEY });
    expect(retry.body.amount_refunded).toBe(0);
    expect(f.call('getCharge', { params: { id: first.body.id } }).body.amount_refunded).toBe(1000);
  });

  it('refuses the key with other parameters (400 idempotency_error) and keeps the stored answer', () => {
    const f = payments();
    const first = f.call('createCharge', { body: charge(), key: KEY });
    const before = counts(f);
    const other = f.call('createCharge', { body: charge({ amount: 5000 }), key: KEY });
    expect(other.status).toBe(400);
    expect(other.body.error.type).toBe('idempotency_error');
    expect(other.body.error.message).toMatch(/only be used with the same parameters/);
    expect(other.changedState).toBe(false);
    expect(other.headers?.['idempotent-replayed']).toBeUndefined();
    expect(counts(f)).toEqual(before);
    // the stored answer is still there
    expect(f.call('createCharge', { body: charge(), key: KEY }).body).toEqual(first.body);
  });

  it('refuses the key on another endpoint, including the same operation on another path id', () => {
    const f = payments();
    const a = f.call('createCharge', { body: charge({ capture: false }) });
    const b = f.call('createCharge', { body: charge({ capture: false }) });
    f.call('createCustomer', { body: { name: 'Jenny' }, key: KEY });
    const elsewhere = f.call('createCharge', { body: charge(), key: KEY });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.error.type).toBe('idempotency_error');
    expect(elsewhere.body.error.message).toMatch(/same endpoint/);

    const capture = f.call('captureCharge', { params: { id: a.body.id }, key: 'cap-1' });
    expect(capture.status).toBe(202);
    const otherId = f.call('captureCharge', { params: { id: b.body.id }, key: 'cap-1' });
    expect(otherId.status).toBe(400);
    expect(otherId.body.error.type).toBe('idempotency_error');
    expect(f.state.chargeById.get(b.body.id)!.status).toBe('succeeded');
  });

  it('answers 409 while a pm_card_slow request holds its key, stores nothing for it, and replays once it has finished', () => {
    const f = payments({ slowMs: 2000 });
    const first = f.call('createCharge', { body: charge({ payment_method: 'pm_card_slow' }), key: KEY });
    expect(first.status).toBe(201);
    expect(first.holdMs).toBe(2000);
    // the charge is made at once; the transport holds the answer
    expect(f.state.charges).toHaveLength(1);
    const before = counts(f);

    f.clock.advance(1999);
    const concurrent = f.call('createCharge', { body: charge({ payment_method: 'pm_card_slow' }), key: KEY });
    expect(concurrent.status).toBe(409);
    expect(concurrent.body.error).toMatchObject({ type: 'idempotency_error', code: 'idempotency_key_in_use' });
    expect(concurrent.changedState).toBe(false);
    expect(concurrent.key).toBe(KEY);
    // even with other parameters: in use comes first
    expect(f.call('createCharge', { body: charge({ amount: 1 }), key: KEY }).status).toBe(409);
    expect(counts(f)).toEqual(before);

    f.clock.advance(1);
    const after = f.call('createCharge', { body: charge({ payment_method: 'pm_card_slow' }), key: KEY });
    expect(after.status).toBe(201);
    expect(after.body).toEqual(first.body);
    expect(after.headers?.['idempotent-replayed']).toBe('true');
    expect(after.holdMs).toBeUndefined();
    expect(counts(f)).toEqual(before);
  });

  it('slowMs is configurable and applies without a key too', () => {
    const f = payments({ slowMs: 750 });
    expect(f.call('createCharge', { body: charge({ payment_method: 'pm_card_slow' }) }).holdMs).toBe(750);
    expect(f.call('createCharge', { body: charge() }).holdMs).toBeUndefined();
  });

  it('stores a 500 api_error and replays it; no charge, no ledger line, no event', () => {
    const f = payments();
    const first = f.call('createCharge', { body: charge({ payment_method: 'pm_card_apiError' }), key: KEY });
    expect(first.status).toBe(500);
    expect(first.body.error.type).toBe('api_error');
    expect(first.changedState).toBe(true);
    expect(f.state.charges).toHaveLength(0);
    expect(f.state.ledger).toHaveLength(0);
    expect(f.state.changes.latestSeq).toBe(0);
    const retry = f.call('createCharge', { body: charge({ payment_method: 'pm_card_apiError' }), key: KEY });
    expect(retry.status).toBe(500);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers?.['idempotent-replayed']).toBe('true');
    // a new key tries again
    expect(f.call('createCharge', { body: charge({ payment_method: 'pm_card_apiError' }), key: 'new' }).headers?.['idempotent-replayed']).toBeUndefined();
  });

  it('without a key, a 500 changes nothing (not logged) and a decline does (its failed charge is kept)', () => {
    const f = payments();
    expect(f.call('createCharge', { body: charge({ payment_method: 'pm_card_apiError' }) }).changedState).toBe(false);
    expect(f.call('createCharge', { body: charge({ customer: 'cus_nobody' }) }).changedState).toBe(false);
    const declined = f.call('createCharge', { body: charge({ payment_method: 'pm_card_chargeDeclined' }) });
    expect(declined.status).toBe(402);
    expect(declined.changedState).toBe(true);
  });

  it('stores a decline and replays it with the same failed charge; a new key makes a new failed charge', () => {
    const f = payments();
    const first = f.call('createCharge', { body: charge({ payment_method: 'pm_card_insufficientFunds' }), key: KEY });
    expect(first.status).toBe(402);
    const retry = f.call('createCharge', { body: charge({ payment_method: 'pm_card_insufficientFunds' }), key: KEY });
    expect(retry.status).toBe(402);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers?.['idempotent-replayed']).toBe('true');
    expect(f.state.charges).toHaveLength(1);
    const again = f.call('createCharge', { body: charge({ payment_method: 'pm_card_insufficientFunds' }), key: 'another' });
    expect(again.body.error.charge).not.toBe(first.body.error.charge);
    expect(f.state.charges).toHaveLength(2);
  });

  it('stores 404s and refund refusals (400 about the state of an object) like successes', () => {
    const f = payments();
    const missing = f.call('createCharge', { body: charge({ customer: 'cus_nobody' }), key: 'k404' });
    expect(missing.status).toBe(404);
    expect(missing.changedState).toBe(true);
    // the customer appearing later does not change the stored answer
    expect(f.call('createCharge', { body: charge({ customer: 'cus_nobody' }), key: 'k404' })).toMatchObject({ status: 404, headers: { 'idempotent-replayed': 'true' } });

    const made = f.call('createCharge', { body: charge({ amount: 100 }) });
    const over = f.call('createRefund', { body: { charge: made.body.id, amount: 101 }, key: 'kover' });
    expect(over.status).toBe(400);
    expect(over.body.error.code).toBe('amount_too_large');
    expect(over.changedState).toBe(true);
    expect(f.call('createRefund', { body: { charge: made.body.id, amount: 101 }, key: 'kover' }).headers?.['idempotent-replayed']).toBe('true');
  });

  it('keeps keys per client: two clients with the same key do not meet', () => {
    const f = payments();
    const a = f.call('createCharge', { body: charge(), key: KEY, client: 'sf-sandbox' });
    const b = f.call('createCharge', { body: charge(), key: KEY, client: 'other-org' });
    expect(b.status).toBe(201);
    expect(b.headers?.['idempotent-replayed']).toBeUndefined();
    expect(b.body.id).not.toBe(a.body.id);
    // other parameters under the other client's key are no conflict either
    expect(f.call('createCharge', { body: charge({ amount: 7 }), key: KEY, client: 'third' }).status).toBe(201);
    expect(f.state.charges).toHaveLength(3);
  });

  it('expires keys idempotencyKeyTtlMs after first use: reuse after that executes anew', () => {
    const ttl = 3_600_000;
    const f = payments({ idempotencyKeyTtlMs: ttl });
    const first = f.call('createCharge', { body: charge(), key: KEY });
    f.clock.advance(ttl - 1);
    expect(f.call('createCharge', { body: charge(), key: KEY }).body.id).toBe(first.body.id);
    f.clock.advance(1);
    const fresh = f.call('createCharge', { body: charge(), key: KEY });
    expect(fresh.headers?.['idempotent-replayed']).toBeUndefined();
    expect(fresh.body.id).not.toBe(first.body.id);
    // and other parameters are fine once expired
    f.clock.advance(ttl);
    expect(f.call('createCharge', { body: charge({ amount: 1 }), key: KEY }).status).toBe(201);
  });

  it('drops expired keys in catchUp, even on reads', () => {
    const f = payments({ idempotencyKeyTtlMs: 1000 });
    f.call('createCustomer', { key: 'a' });
    f.call('createCustomer', { key: 'b' });
    expect(f.state.keys.size).toBe(2);
    f.clock.advance(1000);
    f.call('listCharges');
    expect(f.state.keys.size).toBe(0);
  });

  it('a failed validation-like check (an amount above a lowered maxAmount) stores nothing under the key', () => {
    const f = payments({ maxAmount: 10_000 });
    const refused = f.call('createCharge', { body: charge({ amount: 10_001 }), key: KEY });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', param: 'amount' });
    expect(refused.changedState).toBe(false);
    expect(refused.key).toBe(KEY);
    expect(f.state.keys.size).toBe(0);
    expect(f.state.charges).toHaveLength(0);
    // the cap itself is allowed, and the key is free for it
    const ok = f.call('createCharge', { body: charge({ amount: 10_000 }), key: KEY });
    expect(ok.status).toBe(201);
    expect(ok.headers?.['idempotent-replayed']).toBeUndefined();
    // refunds are bounded the same way
    const refund = f.call('createRefund', { body: { charge: ok.body.id, amount: 10_001 }, key: 'r' });
    expect(refund.status).toBe(400);
    expect(refund.body.error.param).toBe('amount');
    expect(refund.body.error.code).toBeUndefined();
    expect(f.state.keys.size).toBe(1);
  });

  it('compares payment method parameters on the sanitized body: two test cards differ, the same card replays', () => {
    const f = payments();
    const first = f.call('createPaymentMethod', { body: card('4242 4242 4242 4242'), key: KEY });
    expect(first.status).toBe(201);
    // spacing is not a parameter: the same card
    expect(f.call('createPaymentMethod', { body: card('4242424242424242'), key: KEY }).body).toEqual(first.body);
    const other = f.call('createPaymentMethod', { body: card('4000 0000 0000 0002'), key: KEY });
    expect(other.status).toBe(400);
    expect(other.body.error.type).toBe('idempotency_error');
  });

  it('stores a 402 card refusal of POST /payment_methods under the key, and nothing without one', () => {
    const f = payments();
    const without = f.call('createPaymentMethod', { body: card('4242 4242 4242 4241') });
    expect(without.status).toBe(402);
    expect(without.changedState).toBe(false);
    const keyed = f.call('createPaymentMethod', { body: card('4242 4242 4242 4241'), key: KEY });
    expect(keyed.changedState).toBe(true);
    expect(f.call('createPaymentMethod', { body: card('4242 4242 4242 4241'), key: KEY }).headers?.['idempotent-replayed']).toBe('true');
  });

  it('treats an absent body as {} for createCustomer', () => {
    const f = payments();
    const first = f.call('createCustomer', { key: KEY });
    expect(f.call('createCustomer', { body: {}, key: KEY }).body).toEqual(first.body);
    expect(f.call('createCustomer', { body: { name: 'x' }, key: KEY }).status).toBe(400);
  });

  it('keeps at most maxObjects keys, dropping the oldest (a dropped key executes anew)', () => {
    const f = payments({ maxObjects: 2 });
    const a = f.call('createCharge', { body: charge(), key: 'a' });
    f.call('createCharge', { body: charge(), key: 'b' });
    f.call('createCharge', { body: charge(), key: 'c' });
    expect(f.state.keys.size).toBe(2);
    expect(f.call('createCharge', { body: charge(), key: 'c' }).headers?.['idempotent-replayed']).toBe('true');
    expect(f.call('createCharge', { body: charge(), key: 'a' }).body.id).not.toBe(a.body.id);
  });

  it('GETs ignore the header', () => {
    const f = payments();
    const made = f.call('createCharge', { body: charge() });
    const got = f.call('getCharge', { params: { id: made.body.id }, key: KEY });
    expect(got.status).toBe(200);
    expect(got.key).toBeUndefined();
    expect(f.state.keys.size).toBe(0);
  });
});
