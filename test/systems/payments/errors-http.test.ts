/**
 * Bad, hostile and absurd input to the gateway, through real sockets: every refusal is Stripe's error object
 * (`invalid_request_error` with the `param` at fault, in Stripe's notation), never problem+json and never a 5xx;
 * nothing is half-written (no charge, no ledger line, no stored key: the same key then works); the server keeps
 * serving; card numbers never come back, in answers or in the journal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/util/clock.js';
import { ManualScheduler } from '../../../src/util/scheduler.js';
import { call, rawRequest, start } from '../../helpers.js';
import { charges, expectConforms, expectJournalConforms, get, ledger, order, pay, post } from './http-support.js';

const bases: string[] = [];
afterEach(async () => {
  for (const base of bases.splice(0)) await expectJournalConforms(base);
});

async function server(options: Parameters<typeof start>[0] = {}) {
  const s = await start({ seed: 5, ...options });
  bases.push(s.url);
  return s.url;
}

/** nothing changed: no charge, no money, and the key is still free */
async function expectNothingWritten(url: string, key: string): Promise<void> {
  expect(await charges(url)).toEqual([]);
  expect(await ledger(url)).toEqual([]);
  const fresh = await post(url, '/customers', {}, { key });
  expect(fresh.status).toBe(201);
  expect(fresh.headers.get('idempotent-replayed')).toBeNull();
}

describe('charges refused before anything executes', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['a negative amount', { amount: -100 }, 'amount'],
    ['a zero amount', { amount: 0 }, 'amount'],
    ['a fractional amount', { amount: 10.5 }, 'amount'],
    ['an amount as a string', { amount: '4999' }, 'amount'],
    ['an amount above the cap', { amount: 100_000_000 }, 'amount'],
    ['an absurd amount', { amount: 1e308 }, 'amount'],
    ['an unknown currency', { currency: 'xyz' }, 'currency'],
    ['an uppercase currency', { currency: 'USD' }, 'currency'],
    ['a malformed payment method', { payment_method: '../../etc/passwd' }, 'payment_method'],
    ['a malformed customer', { customer: 'cus_<script>' }, 'customer'],
    ['metadata that is not strings', { metadata: { order_id: 7 } }, 'metadata[order_id]'],
    ['an unknown field', { amount_in_dollars: 49.99 }, 'amount_in_dollars'],
  ];
  for (const [what, change, param] of cases) {
    it(`${what}: 400 invalid_request_error, param ${param}`, async () => {
      const url = await server();
      const r = await post(url, '/charges', order(1, change), { key: 'bad-1' });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ type: 'invalid_request_error', param, message: expect.any(String) });
      await expectNothingWritten(url, 'bad-1');
    });
  }

  it('a missing required field names it', async () => {
    const url = await server();
    const { amount: _, ...rest } = order(1);
    const r = await post(url, '/charges', rest);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ type: 'invalid_request_error', param: 'amount' });
  });

  it('the amount cap is systems.payments.maxAmount, the cap itself allowed', async () => {
    const url = await server({ systems: { payments: { maxAmount: 1000 } } });
    const over = await post(url, '/charges', order(1, { amount: 1001 }), { key: 'cap' });
    expect(over.status).toBe(400);
    expect(over.body.error).toMatchObject({ type: 'invalid_request_error', param: 'amount' });
    expect(over.body.error.message).toMatch(/1000/);
    await expectNothingWritten(url, 'cap');
    expect((await post(url, '/charges', order(1, { amount: 1000 }), { key: 'cap-ok' })).status).toBe(201);
    const refundOver = await post(url, '/refunds', { charge: (await charges(url))[0].id, amount: 1001 });
    expect(refundOver.status).toBe(400);
    expect(refundOver.body.error.param).toBe('amount');
  });

  it('a customer or payment method that does not exist: 404 resource_missing with the param, stored under the key', async () => {
    const url = await server();
    const noCustomer = await post(url, '/charges', order(1, { customer: 'cus_doesNotExist' }), { key: 'nf-1' });
    expect(noCustomer.status).toBe(404);
    expect(noCustomer.body.error).toMatchObject({ type: 'invalid_request_error', code: 'resource_missing', param: 'customer' });
    expect((await post(url, '/charges', order(1, { customer: 'cus_doesNotExist' }), { key: 'nf-1' })).headers.get('idempotent-replayed')).toBe('true');
    const noMethod = await post(url, '/charges', order(1, { payment_method: 'pm_card_doesNotExist' }));
    expect(noMethod.status).toBe(404);
    expect(noMethod.body.error).toMatchObject({ code: 'resource_missing', param: 'payment_method' });
    expect(await charges(url)).toEqual([]);
  });
});

describe('the Idempotency-Key itself', () => {
  for (const [what, key] of [
    ['256 characters', 'k'.repeat(256)],
    ['a space', 'two words'],
    ['a non-ASCII character', 'clé'],
  ] as const) {
    it(`refuses a key with ${what}: 400 param Idempotency-Key, nothing executed`, async () => {
      const url = await server();
      const r = await call(`${url}/payments/v1/charges`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': Buffer.from(key, 'utf8').toString('latin1') },
        body: JSON.stringify(order(1)),
      });
      expectConforms('POST', '/charges', r);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ type: 'invalid_request_error', param: 'Idempotency-Key' });
      expect(await charges(url)).toEqual([]);
    });
  }

  it('takes a key of exactly 255 characters', async () => {
    const url = await server();
    expect((await post(url, '/charges', order(1), { key: 'k'.repeat(255) })).status).toBe(201);
  });
});

describe('refunds and captures refused', () => {
  it('an unknown charge (404), a failed one, an uncaptured one, one refunded in full, an over-refund: nothing changes', async () => {
    const url = await server();
    const captured = (await post(url, '/charges', order(1))).body;
    const failed = (await post(url, '/charges', order(2, { payment_method: 'pm_card_chargeDeclined' }))).body.error.charge;
    const authorized = (await post(url, '/charges', order(3, { capture: false }))).body;
    const before = await ledger(url);

    const unknown = await post(url, '/refunds', { charge: 'ch_doesNotExist' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'resource_missing', param: 'charge' });
    for (const id of [failed, authorized.id]) {
      const r = await post(url, '/refunds', { charge: id });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'charge_not_refundable', param: 'charge' });
    }
    const over = await post(url, '/refunds', { charge: captured.id, amount: 5000 });
    expect(over.body.error).toMatchObject({ code: 'amount_too_large', param: 'amount' });
    expect((await get(url, `/charges/${captured.id}`)).body.amount_refunded).toBe(0);
    expect(await ledger(url)).toEqual(before);

    expect((await post(url, '/refunds', { charge: captured.id })).status).toBe(201);
    const twice = await post(url, '/refunds', { charge: captured.id, amount: 1 });
    expect(twice.status).toBe(400);
    expect(twice.body.error.code).toBe('charge_already_refunded');

    expect((await post(url, '/charges/ch_doesNotExist/capture', undefined)).status).toBe(404);
    const capturedAgain = await post(url, `/charges/${captured.id}/capture`, undefined);
    expect(capturedAgain.body.error.code).toBe('charge_already_captured');
    const failedCapture = await post(url, `/charges/${failed}/capture`, undefined);
    expect(failedCapture.status).toBe(400);
    expect((await get(url, `/charges/${authorized.id}`)).body.status).toBe('succeeded');
  });
});

describe('requests that are not what the gateway takes', () => {
  it('answers in Stripe\'s shape: not JSON, the wrong media type, an absurd form, too large, an unknown path or method, a malformed id', async () => {
    const url = await server({ limits: { bodyBytes: 64 * 1024 } });
    const notJson = await pay(url, 'POST', '/charges', { raw: '{"amount": 4999,', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.type).toBe('invalid_request_error');
    const text = await pay(url, 'POST', '/charges', { raw: 'amount=4999&currency=usd', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    expect(text.body.error).toMatchObject({ type: 'invalid_request_error', message: expect.stringMatching(/application\/x-www-form-urlencoded/) });
    const form = (raw: string) => pay(url, 'POST', '/charges', { raw, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const deep = await form(`amount=1&currency=usd&payment_method=pm_card_visa&metadata${'[a]'.repeat(12)}=x`);
    expect(deep.status).toBe(400);
    expect(deep.body.error.message).toMatch(/depth/);
    const many = await form(Array.from({ length: 1001 }, (_, i) => `metadata[k${i}]=v`).join('&'));
    expect(many.status).toBe(400);
    expect(many.body.error.message).toMatch(/parameter/i);
    const notInt = await form('amount=49.99&currency=usd&payment_method=pm_card_visa');
    expect(notInt.body.error).toMatchObject({ type: 'invalid_request_error', param: 'amount' });
    const xxe = await pay(url, 'POST', '/charges', {
      raw: '<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]><charge>&x;</charge>',
      headers: { 'content-type': 'application/xml' },
    });
    expect(xxe.status).toBe(415);
    expect(xxe.text).not.toContain('root:');
    const huge = await pay(url, 'POST', '/charges', { raw: JSON.stringify({ ...order(1), description: 'x'.repeat(70 * 1024) }), headers: { 'content-type': 'application/json' } });
    expect(huge.status).toBe(413);
    expect(huge.body.error.type).toBe('invalid_request_error');
    const nowhere = await get(url, '/subscriptions');
    expect(nowhere.status).toBe(404);
    const wrongMethod = await pay(url, 'DELETE', '/charges');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.error.type).toBe('invalid_request_error');
    const badId = await get(url, '/charges/42');
    expect(badId.status).toBe(400);
    expect(badId.body.error).toMatchObject({ type: 'invalid_request_error', param: 'id' });
    const traversal = await rawRequest(url, '/payments/v1/charges/..%2F..%2Fetc%2Fpasswd');
    expect(traversal.status).toBe(400);
    expect(traversal.body.error.param).toBe('id');
    const unknownQuery = await get(url, '/charges?expand=customer');
    expect(unknownQuery.status).toBe(400);
    expect(unknownQuery.body.error.param).toBe('expand');
    const badLimit = await get(url, '/charges?limit=1000');
    expect(badLimit.body.error.param).toBe('limit');
    expect(await charges(url)).toEqual([]);
    // and it still serves
    expect((await post(url, '/charges', order(2))).status).toBe(201);
  });

  it('never shows a card number: not in answers, not in the journal', async () => {
    const url = await server();
    const numbers = ['4242 4242 4242 4242', '4000000000000002', '4242424242424241', '4111111111111111'];
    const statuses: number[] = [];
    for (const number of numbers) {
      const r = await post(url, '/payment_methods', { type: 'card', card: { number, exp_month: 1, exp_year: 2099, cvc: '987' } });
      statuses.push(r.status);
      expect(r.text).not.toContain(number.replace(/ /g, '').slice(0, 12));
    }
    // a test card, a decline test card (declined when charged), a number failing Luhn, a real card
    expect(statuses).toEqual([201, 201, 402, 402]);
    // refused by the contract (too many digits) and refused before validation (a rate limit): masked all the same
    const tooLong = await post(url, '/payment_methods', { type: 'card', card: { number: '42424242424242424242', exp_month: 1, exp_year: 2099 } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.param).toBe('card[number]');
    expect(tooLong.text).not.toContain('4242424242');
    const entries = (await call(`${url}/__admin/journal?operation=createPaymentMethod&limit=100`)).body.entries;
    expect(entries).toHaveLength(numbers.length + 1);
    for (const e of entries) {
      const full = (await call(`${url}/__admin/journal/${e.id}`)).body;
      const text = JSON.stringify(full);
      for (const number of [...numbers, '42424242424242424242']) {
        const digits = number.replace(/ /g, '');
        expect(text).not.toContain(digits.slice(0, 12));
        expect(text).not.toContain(number.slice(0, 14));
      }
      expect(text).not.toContain('"987"');
      expect(full.request.body.text).toMatch(/\*{4}/);
    }
  });
});

describe('the built-in rate-limited profile', () => {
  it('admits 25 gateway requests a second per client, then 429 with Retry-After and Stripe\'s rate_limit error; the key is journaled on every attempt', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 2, 9, 0, 0));
    const url = await server({ profile: 'rate-limited', clock, scheduler: new ManualScheduler(clock) });
    const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => post(url, '/charges', order(i), { key: `burst-${i}`, client: 'apex-batch' })));
    const refused = burst.filter((r) => r.status === 429);
    expect(burst.filter((r) => r.status === 201)).toHaveLength(25);
    expect(refused).toHaveLength(15);
    for (const r of refused) {
      expect(r.body.error).toMatchObject({ type: 'invalid_request_error', code: 'rate_limit' });
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // another client has its own bucket; a refused request executed nothing and stored nothing under its key
    expect((await post(url, '/charges', order(99), { client: 'someone-else' })).status).toBe(201);
    expect(await charges(url)).toHaveLength(26);
    const limited = (await call(`${url}/__admin/journal?status=429&limit=100`)).body.entries;
    expect(limited).toHaveLength(15);
    expect(limited.every((e: any) => /^burst-\d+$/.test(e.key) && e.effects.length === 0)).toBe(true);
    // a second later the bucket has refilled: the refused ones go through with their keys, executed once
    clock.advance(1000);
    const key: string = limited[0].key;
    const retried = await post(url, '/charges', order(Number(key.slice('burst-'.length))), { key, client: 'apex-batch' });
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(await charges(url)).toHaveLength(27);
  });
});

describe('form-encoded bodies, as Stripe takes them', () => {
  it('reads bracket notation and the schema\'s types, and compares parameters whatever the encoding', async () => {
    const url = await server();
    const form = 'amount=4999&currency=usd&payment_method=pm_card_visa&capture=false&description=Order%201&metadata%5Border_id%5D=1';
    const charged = await pay(url, 'POST', '/charges', { raw: form, key: 'form-1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(charged.status).toBe(201);
    expect(charged.body).toMatchObject({ amount: 4999, captured: false, description: 'Order 1', metadata: { order_id: '1' } });
    // the same parameters as JSON, under the same key: the same request
    const asJson = await post(url, '/charges', order(1, { capture: false }), { key: 'form-1' });
    expect(asJson.headers.get('idempotent-replayed')).toBe('true');
    expect(asJson.body.id).toBe(charged.body.id);
    // a card number in a form is masked in the journal like one in JSON
    const card = await pay(url, 'POST', '/payment_methods', {
      raw: 'type=card&card[number]=4242424242424242&card[exp_month]=12&card[exp_year]=2031&card[cvc]=321',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(card.status).toBe(201);
    const [entry] = (await call(`${url}/__admin/journal?operation=createPaymentMethod`)).body.entries;
    const full = JSON.stringify((await call(`${url}/__admin/journal/${entry.id}`)).body);
    expect(full).not.toContain('424242424242');
    expect(full).not.toContain('=321');
    // a keyless form charge is journaled under its order, as a JSON one is
    await pay(url, 'POST', '/charges', { raw: 'amount=100&currency=usd&payment_method=pm_card_visa&metadata[order_id]=SO-5', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect((await call(`${url}/__admin/journal?key=SO-5`)).body.entries).toHaveLength(1);
  });
});
