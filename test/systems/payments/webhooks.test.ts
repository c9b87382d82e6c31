/**
 * The gateway's webhooks end to end, through real sockets to a local sink: charge.succeeded, charge.failed,
 * charge.refunded and refund.succeeded as Stripe event objects, signed so that Stripe's own library verifies
 * them, each body matching the contract's WebhookEvent, `data.object` being the object as GET showed it then.
 * The asynchronous capture (202 pending, the outcome later by webhook and on GET) runs with a shortened
 * captureDelay and the test waits for the webhook, never for time; the exact moment it settles is checked on a
 * ManualClock.
 */
import Stripe from 'stripe';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadContract } from '../../../src/protocols/rest/contract.js';
import { describeErrors, SchemaCompiler } from '../../../src/protocols/rest/schemas/schema-compiler.js';
import { ManualClock } from '../../../src/util/clock.js';
import { ManualScheduler } from '../../../src/util/scheduler.js';
import { Sink, type Received } from '../../deliveries/sink.js';
import { call, json, start } from '../../helpers.js';
import { expectJournalConforms, get, ledger, order, post } from './http-support.js';

const stripe = new Stripe('sk_test_understudy');
const SECRET = 'whsec_payments_test';
const contract = await loadContract(fileURLToPath(new URL('../../../contracts/payments.openapi.yaml', import.meta.url)), { validate: false });
const webhookEvent = new SchemaCompiler(contract).responseBody('#/components/schemas/WebhookEvent', 'WebhookEvent');

const bases: string[] = [];
afterEach(async () => {
  for (const base of bases.splice(0)) await expectJournalConforms(base);
});

/** a server whose captures settle `captureDelayMs` after they start, and a sink subscribed to every gateway event */
async function setUp(payments: { captureDelayMs?: number; captureFailureRate?: number } = {}, events = ['charge.*', 'refund.*']) {
  const server = await start({ seed: 11, systems: { payments: { captureDelayMs: 50, ...payments } } });
  bases.push(server.url);
  const sink = await Sink.start();
  const subscribed = await call(`${server.url}/__admin/subscriptions`, json({ url: sink.url, events, secret: SECRET }));
  expect(subscribed.status).toBe(201);
  return { url: server.url, sink };
}

/** the event as a Stripe receiver checks it: signature (Stripe's verifier, raw body), shape (the contract) */
function verified(r: Received): any {
  const event = stripe.webhooks.constructEvent(r.body, r.headers['stripe-signature'] as string, SECRET);
  expect(webhookEvent(event) ? [] : describeErrors(webhookEvent.errors, 'body'), r.body).toEqual([]);
  expect(event).toMatchObject({ object: 'event', id: expect.stringMatching(/^evt_[A-Za-z0-9_-]{24}$/) });
  expect(Number.isInteger(event.created)).toBe(true);
  return event;
}

const ofType = (sink: Sink, type: string) => sink.received.filter((r) => r.event.type === type).map(verified);

describe('payment webhooks', () => {
  it('charge.succeeded carries the charge as GET shows it, signed and in Stripe\'s event shape', async () => {
    const { url, sink } = await setUp();
    const charge = await post(url, '/charges', order(1), { key: 'w-1' });
    expect(charge.status).toBe(201);
    await sink.waitFor((got) => got.some((r) => r.event.type === 'charge.succeeded'), 'charge.succeeded');
    const [event] = ofType(sink, 'charge.succeeded');
    expect(event.data.object).toEqual((await get(url, `/charges/${charge.body.id}`)).body);
    expect(event.created).toBe(charge.body.created);
  });

  it('a decline sends charge.failed with the failed charge', async () => {
    const { url, sink } = await setUp();
    const declined = await post(url, '/charges', order(2, { payment_method: 'pm_card_chargeDeclined' }));
    expect(declined.status).toBe(402);
    await sink.waitFor((got) => got.some((r) => r.event.type === 'charge.failed'), 'charge.failed');
    const [event] = ofType(sink, 'charge.failed');
    expect(event.data.object).toMatchObject({ id: declined.body.error.charge, status: 'failed', paid: false, failure_code: 'card_declined' });
  });

  it('a refund sends refund.succeeded and charge.refunded; the full refund marks the charge refunded', async () => {
    const { url, sink } = await setUp();
    const charge = await post(url, '/charges', order(3));
    const part = await post(url, '/refunds', { charge: charge.body.id, amount: 999 });
    expect(part.status).toBe(201);
    const rest = await post(url, '/refunds', { charge: charge.body.id, reason: 'duplicate' });
    expect(rest.status).toBe(201);
    expect(rest.body.amount).toBe(4000);
    await sink.waitFor((got) => got.filter((r) => r.event.type === 'charge.refunded').length === 2 && got.filter((r) => r.event.type === 'refund.succeeded').length === 2, 'two refunds');
    const refunds = ofType(sink, 'refund.succeeded').map((e) => e.data.object);
    expect(refunds).toEqual(expect.arrayContaining([part.body, rest.body]));
    const refunded = ofType(sink, 'charge.refunded').map((e) => e.data.object);
    expect(refunded.map((c) => [c.amount_refunded, c.refunded]).sort()).toEqual([
      [4999, true],
      [999, false],
    ]);
    expect((await ledger(url)).map((e) => [e.type, e.amount])).toEqual([
      ['refund', -4000],
      ['refund', -999],
      ['charge', 4999],
    ]);
  });

  it('an asynchronous capture answers 202 pending; charge.succeeded follows when it settles, with a capture in the ledger', async () => {
    const { url, sink } = await setUp();
    const authorized = await post(url, '/charges', order(4, { capture: false }));
    expect(authorized.body).toMatchObject({ status: 'succeeded', captured: false, amount_captured: 0 });
    expect(await ledger(url)).toEqual([]);
    const capture = await post(url, `/charges/${authorized.body.id}/capture`, undefined, { key: 'cap-4' });
    expect(capture.status).toBe(202);
    expect(capture.body).toMatchObject({ id: authorized.body.id, status: 'pending', captured: false });
    await sink.waitFor((got) => got.some((r) => r.event.type === 'charge.succeeded' && r.event.data.object.captured === true), 'the settled capture');
    const settled = ofType(sink, 'charge.succeeded').find((e) => e.data.object.captured)!;
    expect(settled.data.object).toMatchObject({ status: 'succeeded', captured: true, amount_captured: 4999 });
    expect((await get(url, `/charges/${authorized.body.id}`)).body).toEqual(settled.data.object);
    expect(await ledger(url)).toMatchObject([{ type: 'capture', amount: 4999, charge: authorized.body.id }]);
    // the replay of the capture is its first answer, pending, whatever the charge is now; and it sends nothing
    const replay = await post(url, `/charges/${authorized.body.id}/capture`, undefined, { key: 'cap-4' });
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.status).toBe('pending');
    const again = await post(url, `/charges/${authorized.body.id}/capture`, undefined, { key: 'cap-4-again' });
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('charge_already_captured');
  });

  it('with captureFailureRate 1 every capture fails: charge.failed, no money moved', async () => {
    const { url, sink } = await setUp({ captureFailureRate: 1 });
    const authorized = await post(url, '/charges', order(5, { capture: false }));
    expect((await post(url, `/charges/${authorized.body.id}/capture`, undefined)).status).toBe(202);
    await sink.waitFor((got) => got.some((r) => r.event.type === 'charge.failed'), 'the failed capture');
    const [failed] = ofType(sink, 'charge.failed');
    expect(failed.data.object).toMatchObject({ id: authorized.body.id, status: 'failed', paid: false, failure_code: 'processing_error' });
    expect(await ledger(url)).toEqual([]);
    const refund = await post(url, '/refunds', { charge: authorized.body.id });
    expect(refund.status).toBe(400);
    expect(refund.body.error).toMatchObject({ code: 'charge_not_refundable', param: 'charge' });
  });

  it('replays emit nothing; a subscription gets only the types it asked for', async () => {
    const { url, sink } = await setUp({}, ['refund.succeeded']);
    const charge = await post(url, '/charges', order(6), { key: 'w-6' });
    await post(url, '/charges', order(6), { key: 'w-6' });
    const refund = await post(url, '/refunds', { charge: charge.body.id, amount: 1 }, { key: 'w-6-r' });
    await post(url, '/refunds', { charge: charge.body.id, amount: 1 }, { key: 'w-6-r' });
    await sink.waitFor((got) => got.length >= 1, 'the refund');
    // a second refund makes a second event: once it is here, anything the replays sent would be too
    await post(url, '/refunds', { charge: charge.body.id, amount: 2 });
    await sink.waitFor((got) => got.length >= 2, 'the second refund');
    expect(sink.received.map((r) => r.event.type)).toEqual(['refund.succeeded', 'refund.succeeded']);
    expect(ofType(sink, 'refund.succeeded').map((e) => e.data.object.id)[0]).toBe(refund.body.id);
    const deliveries = (await call(`${url}/__admin/deliveries?limit=100`)).body.deliveries;
    expect(deliveries).toHaveLength(2);
  });
});

describe('capture timing', () => {
  it('settles exactly captureDelay after the capture started, on GET, whether or not anyone reads in between', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 2, 9, 0, 0));
    const server = await start({ seed: 12, clock, scheduler: new ManualScheduler(clock) });
    bases.push(server.url);
    const url = server.url;
    const a = (await post(url, '/charges', order(7, { capture: false }))).body.id;
    const b = (await post(url, '/charges', order(8, { capture: false }))).body.id;
    expect((await post(url, `/charges/${a}/capture`, undefined)).status).toBe(202);
    expect((await post(url, `/charges/${b}/capture`, undefined)).status).toBe(202);
    clock.advance(1999);
    expect((await get(url, `/charges/${a}`)).body.status).toBe('pending');
    clock.advance(1);
    expect((await get(url, `/charges/${a}`)).body).toMatchObject({ status: 'succeeded', captured: true });
    // b was never read while pending: it settled at its due time all the same
    clock.advance(60_000);
    const entries = await ledger(url);
    expect(entries.map((e) => [e.charge, e.type, e.created])).toEqual(
      expect.arrayContaining([
        [a, 'capture', Date.UTC(2026, 11, 2, 9, 0, 2) / 1000],
        [b, 'capture', Date.UTC(2026, 11, 2, 9, 0, 2) / 1000],
      ]),
    );
  });
});
