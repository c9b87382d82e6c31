/**
 * Stripe's idempotency rules (SALESFORCE.md §6, the contract's API description), through real sockets, as a
 * retrying integration meets them: a replay gets the first answer marked `Idempotent-Replayed: true` and executes
 * nothing; other parameters or another endpoint under the key is a 400 `idempotency_error`; a key still executing
 * is a 409 that stores nothing; errors after execution began (a decline, a 500) are stored and replayed; a
 * request that failed validation stores nothing; keys belong to one client in one workspace and expire. And the
 * issue's central case: a lost acknowledgement on POST /charges, retried with the key (one charge) and without it
 * (two charges, listed by /__admin/payments/duplicates). Time passes on a ManualClock, never by sleeping.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/util/clock.js';
import { ManualScheduler } from '../../../src/util/scheduler.js';
import { call, start } from '../../helpers.js';
import { charges, expectJournalConforms, get, ledger, order, post } from './http-support.js';

const bases: string[] = [];
afterEach(async () => {
  for (const base of bases.splice(0)) await expectJournalConforms(base);
});

async function server(options: Parameters<typeof start>[0] = {}) {
  const s = await start({ seed: 9, ...options });
  bases.push(s.url);
  return s;
}

function onManualClock() {
  const clock = new ManualClock(Date.UTC(2026, 11, 2, 9, 0, 0));
  return { clock, scheduler: new ManualScheduler(clock) };
}

async function journal(base: string, query: string): Promise<any[]> {
  const page = await call(`${base}/__admin/journal?${query}&limit=1000`);
  expect(page.status).toBe(200);
  return page.body.entries;
}

describe('Idempotency-Key on POST /charges', () => {
  it('replays the first answer, marked, and executes nothing again', async () => {
    const { url } = await server();
    const first = await post(url, '/charges', order(1), { key: 'order-1-charge' });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await post(url, '/charges', order(1), { key: 'order-1-charge' });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
    // parameters compared as values: key order and whitespace do not matter
    const reordered = await call(`${url}/payments/v1/charges`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'order-1-charge' },
      body: ` { "metadata": {"order_id": "1"}, "description": "Order 1", "payment_method": "pm_card_visa", "currency": "usd", "amount": 4999 } `,
    });
    expect(reordered.status).toBe(201);
    expect(reordered.headers.get('idempotent-replayed')).toBe('true');

    expect(await charges(url)).toHaveLength(1);
    expect(await ledger(url)).toMatchObject([{ type: 'charge', amount: 4999, charge: first.body.id, idempotency_key: 'order-1-charge' }]);
    // the journal: every attempt carries the key; only the first changed anything
    const entries = await journal(url, 'operation=createCharge');
    expect(entries.map((e) => e.key)).toEqual(['order-1-charge', 'order-1-charge', 'order-1-charge']);
    const byTime = [...entries].sort((a, b) => a.id - b.id);
    expect(byTime[0].effects).toEqual([{ entity: 'charge', id: first.body.id, action: expect.any(String) }]);
    expect(byTime[1].effects).toEqual([]);
    expect(byTime[2].effects).toEqual([]);
  });

  it('refuses the key with other parameters or on another endpoint (400 idempotency_error), and keeps the stored answer', async () => {
    const { url } = await server();
    const first = await post(url, '/charges', order(2), { key: 'k-2' });
    expect(first.status).toBe(201);
    const otherAmount = await post(url, '/charges', order(2, { amount: 5000 }), { key: 'k-2' });
    expect(otherAmount.status).toBe(400);
    expect(otherAmount.body.error).toMatchObject({ type: 'idempotency_error', message: expect.stringMatching(/same parameters/) });
    expect(otherAmount.headers.get('idempotent-replayed')).toBeNull();
    const otherEndpoint = await post(url, '/customers', { name: 'Jenny Rosen' }, { key: 'k-2' });
    expect(otherEndpoint.status).toBe(400);
    expect(otherEndpoint.body.error.type).toBe('idempotency_error');
    const replay = await post(url, '/charges', order(2), { key: 'k-2' });
    expect(replay.status).toBe(201);
    expect(replay.body.id).toBe(first.body.id);
    expect(await charges(url)).toHaveLength(1);
  });

  it('keeps keys per client and per workspace: the same key from two clients charges twice', async () => {
    const { url } = await server();
    const a = await post(url, '/charges', order(3), { key: 'shared', client: 'sf-prod' });
    const b = await post(url, '/charges', order(3), { key: 'shared', client: 'sf-uat' });
    const elsewhere = await post(`${url}/w/other`, '/charges', order(3), { key: 'shared', client: 'sf-prod' });
    bases.push(`${url}/w/other`);
    for (const r of [a, b, elsewhere]) {
      expect(r.status).toBe(201);
      expect(r.headers.get('idempotent-replayed')).toBeNull();
    }
    expect(a.body.id).not.toBe(b.body.id);
    expect((await ledger(url)).map((e) => e.client).sort()).toEqual(['sf-prod', 'sf-uat']);
    expect(await ledger(`${url}/w/other`)).toHaveLength(1);
    const replay = await post(url, '/charges', order(3), { key: 'shared', client: 'sf-uat' });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.id).toBe(b.body.id);
  });

  it('stores nothing for a request that failed validation: the key is still free', async () => {
    const { url } = await server();
    for (const bad of [order(4, { amount: -5 }), order(4, { amount: 0 }), order(4, { amount: 49.99 }), order(4, { currency: 'USD' }), order(4, { currency: 'xyz' })]) {
      const refused = await post(url, '/charges', bad, { key: 'k-4' });
      expect(refused.status, JSON.stringify(bad)).toBe(400);
      expect(refused.body.error.type).toBe('invalid_request_error');
    }
    const ok = await post(url, '/charges', order(4), { key: 'k-4' });
    expect(ok.status).toBe(201);
    expect(ok.headers.get('idempotent-replayed')).toBeNull();
    expect(await charges(url)).toHaveLength(1);
  });

  it('stores a decline (402) and replays it; the failed charge is kept once and moves no money', async () => {
    const { url } = await server();
    const declined = await post(url, '/charges', order(5, { payment_method: 'pm_card_insufficientFunds' }), { key: 'k-5' });
    expect(declined.status).toBe(402);
    expect(declined.body.error).toMatchObject({ type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds', charge: expect.stringMatching(/^ch_/) });
    const replay = await post(url, '/charges', order(5, { payment_method: 'pm_card_insufficientFunds' }), { key: 'k-5' });
    expect(replay.status).toBe(402);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.text).toBe(declined.text);
    expect(await charges(url)).toMatchObject([{ id: declined.body.error.charge, status: 'failed', paid: false }]);
    expect(await ledger(url)).toEqual([]);
  });

  it('stores a 500 that came after execution began (pm_card_apiError) and replays it; no charge, no money', async () => {
    const { url } = await server();
    const failed = await post(url, '/charges', order(6, { payment_method: 'pm_card_apiError' }), { key: 'k-6' });
    expect(failed.status).toBe(500);
    expect(failed.body.error.type).toBe('api_error');
    const replay = await post(url, '/charges', order(6, { payment_method: 'pm_card_apiError' }), { key: 'k-6' });
    expect(replay.status).toBe(500);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await charges(url)).toEqual([]);
    expect(await ledger(url)).toEqual([]);
    // a new key is a new attempt, which fails the same way
    expect((await post(url, '/charges', order(6, { payment_method: 'pm_card_apiError' }), { key: 'k-6b' })).headers.get('idempotent-replayed')).toBeNull();
  });

  it('answers 409 while a request with the key is still executing (pm_card_slow), then replays it', async () => {
    const { clock, scheduler } = onManualClock();
    const { url } = await server({ clock, scheduler });
    const body = order(7, { payment_method: 'pm_card_slow' });
    const first = post(url, '/charges', body, { key: 'k-7' });
    await scheduler.whenPending();
    expect(scheduler.pending).toEqual([2000]);
    // the charge is executing: the same key, even with other parameters, is in use
    for (const retry of [body, order(7, { payment_method: 'pm_card_slow', amount: 1 })]) {
      const busy = await post(url, '/charges', retry, { key: 'k-7' });
      expect(busy.status).toBe(409);
      expect(busy.body.error).toMatchObject({ type: 'idempotency_error', code: 'idempotency_key_in_use' });
      expect(busy.headers.get('idempotent-replayed')).toBeNull();
    }
    scheduler.advance(1999);
    expect((await post(url, '/charges', body, { key: 'k-7' })).status).toBe(409);
    scheduler.advance(1);
    const answered = await first;
    expect(answered.status).toBe(201);
    const replay = await post(url, '/charges', body, { key: 'k-7' });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.id).toBe(answered.body.id);
    expect(await charges(url)).toHaveLength(1);
  });

  it('forgets a key idempotencyKeyTtl after its first use: reusing it then is a new request', async () => {
    const { clock, scheduler } = onManualClock();
    const { url } = await server({ clock, scheduler, systems: { payments: { idempotencyKeyTtlMs: 60_000 } } });
    const first = await post(url, '/charges', order(8), { key: 'k-8' });
    clock.advance(59_999);
    expect((await post(url, '/charges', order(8), { key: 'k-8' })).headers.get('idempotent-replayed')).toBe('true');
    clock.advance(1);
    const anew = await post(url, '/charges', order(8), { key: 'k-8' });
    expect(anew.status).toBe(201);
    expect(anew.headers.get('idempotent-replayed')).toBeNull();
    expect(anew.body.id).not.toBe(first.body.id);
    expect(await charges(url)).toHaveLength(2);
  });

  it('replays refunds and captures too, and a GET ignores the header', async () => {
    const { url } = await server();
    const charge = await post(url, '/charges', order(9), { key: 'k-9' });
    const refund = await post(url, '/refunds', { charge: charge.body.id, amount: 1000 }, { key: 'k-9-refund' });
    expect(refund.status).toBe(201);
    const again = await post(url, '/refunds', { charge: charge.body.id, amount: 1000 }, { key: 'k-9-refund' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(refund.body.id);
    expect((await get(url, `/charges/${charge.body.id}`, { key: 'k-9-refund' })).body.amount_refunded).toBe(1000);
    // an over-refund is an answer about the charge's state: stored under its key like a success
    const over = await post(url, '/refunds', { charge: charge.body.id, amount: 4000 }, { key: 'k-9-over' });
    expect(over.status).toBe(400);
    expect(over.body.error).toMatchObject({ code: 'amount_too_large', param: 'amount' });
    expect((await post(url, '/refunds', { charge: charge.body.id, amount: 4000 }, { key: 'k-9-over' })).headers.get('idempotent-replayed')).toBe('true');
    expect((await ledger(url)).map((e) => e.amount)).toEqual([-1000, 4999]);
  });
});

describe('a lost acknowledgement on POST /charges', () => {
  const LOST_ACK = 'name: lost-ack\nrules:\n  - id: charge-ack-lost\n    match: { system: payments, operation: createCharge }\n    faults: [ { lostAck: { as: reset } } ]\n';

  async function lose(url: string): Promise<void> {
    const put = await call(`${url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: LOST_ACK });
    expect(put.status).toBe(200);
  }
  async function calm(url: string): Promise<void> {
    expect((await call(`${url}/__admin/chaos?profile=calm`, { method: 'PUT' })).status).toBe(200);
  }

  it('with the key: the charge exists, the caller saw a failure, its retry gets the original back and the ledger shows one charge', async () => {
    const { url } = await server();
    await lose(url);
    await expect(fetch(`${url}/payments/v1/charges`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'ack-1' }, body: JSON.stringify(order(10)) })).rejects.toThrow();
    await calm(url);
    const made = await charges(url);
    expect(made).toHaveLength(1);

    const retry = await post(url, '/charges', order(10), { key: 'ack-1' });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body.id).toBe(made[0].id);
    expect(await ledger(url)).toHaveLength(1);
    expect((await call(`${url}/__admin/payments/duplicates`)).body.duplicates).toEqual([]);

    const entries = (await journal(url, 'key=ack-1')).sort((a, b) => a.id - b.id);
    expect(entries.map((e) => e.status)).toEqual([0, 201]);
    expect(entries[0].faults).toMatchObject([{ kind: 'lostAck' }]);
    expect(entries[0].effects).toHaveLength(1);
    expect(entries[1].effects).toEqual([]);
  });

  it('without a key: the retry charges again, and /__admin/payments/duplicates lists the pair', async () => {
    const { url } = await server();
    await lose(url);
    await expect(fetch(`${url}/payments/v1/charges`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-understudy-client': 'apex' }, body: JSON.stringify(order(11)) })).rejects.toThrow();
    await calm(url);
    const retry = await post(url, '/charges', order(11), { client: 'apex' });
    expect(retry.status).toBe(201);
    const made = await charges(url);
    expect(made).toHaveLength(2);
    expect(await ledger(url)).toHaveLength(2);

    const found = await call(`${url}/__admin/payments/duplicates`);
    expect(found.status).toBe(200);
    expect(found.body.duplicates).toHaveLength(1);
    expect(found.body.duplicates[0]).toMatchObject({ client: 'apex', amount: 4999, currency: 'usd' });
    expect(found.body.duplicates[0].charges.map((c: any) => c.id).sort()).toEqual(made.map((c) => c.id).sort());
    // a different order of the same customer and amount is not a duplicate; nor is another client's
    await post(url, '/charges', order(12), { client: 'apex' });
    await post(url, '/charges', order(11), { client: 'someone-else' });
    expect((await call(`${url}/__admin/payments/duplicates`)).body.duplicates).toHaveLength(1);
  });
});

describe('GET /__admin/payments/duplicates', () => {
  it('takes a window, and refuses a malformed one or an unknown parameter', async () => {
    const { clock, scheduler } = onManualClock();
    const { url } = await server({ clock, scheduler });
    await post(url, '/charges', order(20));
    clock.advance(5 * 60_000);
    await post(url, '/charges', order(20));
    expect((await call(`${url}/__admin/payments/duplicates?window=10m`)).body.duplicates).toHaveLength(1);
    expect((await call(`${url}/__admin/payments/duplicates?window=1m`)).body.duplicates).toEqual([]);
    for (const bad of ['window=soon', 'window=0s', 'window=30d', 'window=1m&window=2m', 'since=1h']) {
      const r = await call(`${url}/__admin/payments/duplicates?${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.body.detail).toMatch(/window|parameter/);
    }
  });

  it('is a 404 that says why on a server without the gateway', async () => {
    const { url } = await start({ systems: { payments: { enabled: false } } });
    const r = await call(`${url}/__admin/payments/duplicates`);
    expect(r.status).toBe(404);
    expect(r.body.detail).toMatch(/systems\.payments\.enabled: false/);
  });
});
