/**
 * The gateway judged by a client nobody here wrote: Stripe's own Node library (stripe-node), pointed at understudy
 * the way a Named Credential points Apex at it: the same host and paths, under a base URL (`…/payments`, so
 * `/v1/charges` is `/payments/v1/charges`). It sends Stripe's form encoding, parses the answers into its own types
 * and errors, and brings its own retry logic: an Idempotency-Key on every POST and a retry after a connection
 * that closed. Under a lost acknowledgement that retry is safe here exactly as it is at Stripe: one charge.
 */
import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { call, start } from '../../helpers.js';
import { charges, expectJournalConforms, ledger } from './http-support.js';

const bases: string[] = [];
afterEach(async () => {
  for (const base of bases.splice(0)) await expectJournalConforms(base);
});

type MakeRequest = (host: string, port: string, path: string, method: string, headers: object, data: string, protocol: string, timeout: number) => Promise<unknown>;

/**
 * stripe-node against understudy at `url`: its node HTTP client with the base path a Named Credential would add,
 * and `beforeAttempt(n)` called before the nth request it sends (from 0), to change the weather between attempts.
 */
async function stripeAt(url: string, options: { maxNetworkRetries?: number; beforeAttempt?: (n: number) => Promise<void> } = {}) {
  const { hostname, port } = new URL(url);
  const inner = Stripe.createNodeHttpClient();
  const makeRequest = (inner as unknown as { makeRequest: MakeRequest }).makeRequest.bind(inner);
  let attempts = 0;
  (inner as unknown as { makeRequest: MakeRequest }).makeRequest = async (host, p, path, ...rest) => {
    await options.beforeAttempt?.(attempts++);
    return makeRequest(host, p, `/payments${path}`, ...rest);
  };
  return new Stripe('sk_test_understudy', {
    host: hostname,
    port: Number(port),
    protocol: 'http',
    httpClient: inner,
    maxNetworkRetries: options.maxNetworkRetries ?? 0,
  });
}

async function server(profile?: string) {
  const s = await start({ seed: 17, ...(profile ? { profile } : {}) });
  bases.push(s.url);
  return s.url;
}

describe('stripe-node against the gateway', () => {
  it('creates customers, payment methods, charges and refunds, reads and pages them, in its own types', async () => {
    const url = await server();
    const stripe = await stripeAt(url);
    const customer = await stripe.customers.create({ name: 'Jenny Rosen', email: 'jenny@example.com', metadata: { salesforce_account_id: '001xx000003DGb2' } });
    expect(customer).toMatchObject({ object: 'customer', id: expect.stringMatching(/^cus_/), metadata: { salesforce_account_id: '001xx000003DGb2' } });
    const card = await stripe.paymentMethods.create({ type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2034, cvc: '123' } });
    expect(card.card).toMatchObject({ brand: 'visa', last4: '4242', exp_month: 12, exp_year: 2034 });

    const made: Stripe.Charge[] = [];
    for (let n = 1; n <= 3; n++) {
      made.push(await stripe.charges.create({ amount: 1000 * n, currency: 'eur', payment_method: card.id, customer: customer.id, metadata: { order_id: `SO-${n}` } } as Stripe.ChargeCreateParams));
    }
    expect(made.map((c) => [c.amount, c.captured, c.status])).toEqual([
      [1000, true, 'succeeded'],
      [2000, true, 'succeeded'],
      [3000, true, 'succeeded'],
    ]);
    expect((await stripe.charges.retrieve(made[1].id)).metadata).toEqual({ order_id: 'SO-2' });
    // its auto-pagination follows starting_after through the list envelope
    const listed = await stripe.charges.list({ customer: customer.id, limit: 2 }).autoPagingToArray({ limit: 10 });
    expect(listed.map((c) => c.id)).toEqual(made.map((c) => c.id).reverse());

    const refund = await stripe.refunds.create({ charge: made[0].id, amount: 400, reason: 'requested_by_customer' });
    expect(refund).toMatchObject({ object: 'refund', amount: 400, status: 'succeeded', charge: made[0].id });
    expect(await stripe.charges.retrieve(made[0].id)).toMatchObject({ amount_refunded: 400, refunded: false });

    // capture: false, then the asynchronous capture answers pending
    const authorized = await stripe.charges.create({ amount: 500, currency: 'eur', payment_method: 'pm_card_mastercard', capture: false } as Stripe.ChargeCreateParams);
    expect(authorized).toMatchObject({ captured: false, amount_captured: 0 });
    expect(await stripe.charges.capture(authorized.id)).toMatchObject({ status: 'pending' });
  });

  it('raises its own error classes, with Stripe\'s codes, for declines and bad parameters', async () => {
    const url = await server();
    const stripe = await stripeAt(url);
    const declined = await stripe.charges.create({ amount: 4999, currency: 'usd', payment_method: 'pm_card_insufficientFunds' } as Stripe.ChargeCreateParams).catch((e) => e);
    expect(declined).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(declined).toMatchObject({ statusCode: 402, code: 'card_declined', decline_code: 'insufficient_funds', charge: expect.stringMatching(/^ch_/) });
    const invalid = await stripe.charges.create({ amount: -1, currency: 'usd', payment_method: 'pm_card_visa' } as Stripe.ChargeCreateParams).catch((e) => e);
    expect(invalid).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(invalid).toMatchObject({ statusCode: 400, param: 'amount' });
    const missing = await stripe.charges.retrieve('ch_doesNotExist').catch((e) => e);
    expect(missing).toMatchObject({ type: 'StripeInvalidRequestError', statusCode: 404, code: 'resource_missing' });
    const unknown = await stripe.charges.create({ amount: 100, currency: 'usd', payment_method: 'pm_card_visa', shipping_speed: 'fast' } as unknown as Stripe.ChargeCreateParams).catch((e) => e);
    expect(unknown).toMatchObject({ statusCode: 400, param: 'shipping_speed', message: 'Received unknown parameter: shipping_speed' });
    expect(await ledger(url)).toEqual([]);
  });

  it('replays a request with its idempotency key, as it reads the replay header', async () => {
    const url = await server();
    const stripe = await stripeAt(url);
    const params = { amount: 2500, currency: 'gbp', payment_method: 'pm_card_visa', metadata: { order_id: 'SO-77' } } as Stripe.ChargeCreateParams;
    const first = await stripe.charges.create(params, { idempotencyKey: 'SO-77-charge' });
    const again = await stripe.charges.create(params, { idempotencyKey: 'SO-77-charge' });
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    const other = await stripe.charges.create({ ...params, amount: 2600 }, { idempotencyKey: 'SO-77-charge' }).catch((e) => e);
    expect(other).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(await charges(url)).toHaveLength(1);
  });

  it('its own retry after a lost acknowledgement charges once: the key it added is replayed', async () => {
    const lostAck = 'name: lost-ack\nrules:\n  - id: ack-lost\n    match: { system: payments, operation: createCharge }\n    faults: [ { lostAck: { as: reset } } ]\n';
    const url = await server();
    expect((await call(`${url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: lostAck })).status).toBe(200);
    // the gateway recovers after the first attempt (the retry is stripe-node's own: after a closed connection it
    // retries once, with the Idempotency-Key it put on the first attempt)
    const stripe = await stripeAt(url, {
      beforeAttempt: async (n) => {
        if (n === 1) expect((await call(`${url}/__admin/chaos?profile=calm`, { method: 'PUT' })).status).toBe(200);
      },
    });
    const charge = await stripe.charges.create({ amount: 4999, currency: 'usd', payment_method: 'pm_card_visa', metadata: { order_id: 'SO-99' } } as Stripe.ChargeCreateParams);
    expect(charge.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(await charges(url)).toMatchObject([{ id: charge.id }]);
    expect(await ledger(url)).toHaveLength(1);

    const attempts = (await call(`${url}/__admin/journal?operation=createCharge`)).body.entries.reverse();
    expect(attempts.map((e: any) => e.status)).toEqual([0, 201]);
    expect(attempts[0].key).toMatch(/^stripe-node-retry-/);
    expect(attempts[1].key).toBe(attempts[0].key);
    expect(attempts[0].faults).toMatchObject([{ kind: 'lostAck' }]);
    expect((await call(`${url}/__admin/payments/duplicates`)).body.duplicates).toEqual([]);
  });
});
