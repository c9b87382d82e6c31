/**
 * The webhook target against local receivers, its signatures checked by stripe-node's own verifier (code nobody
 * here wrote), the way a subscriber written for Stripe would check them.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import type { SendRequest } from '../../../src/deliveries/targets/target.js';
import { createWebhookTarget } from '../../../src/deliveries/targets/webhook.js';
import { closedPort, httpSink } from './sinks.js';

const stripe = new Stripe('sk_test_x');
const NEW_SECRET = 'whsec_new_0123456789abcdef';
const OLD_SECRET = 'whsec_old_fedcba9876543210';

const event = { id: 'evt_abc', type: 'inventory.changed', created: '2026-01-01T00:00:00.000Z', system: 'wms', data: { sku: 'SKU-1', onHand: 3, note: 'naïve ✓' } };

function request(overrides: Partial<SendRequest> = {}): SendRequest {
  return { body: JSON.stringify(event), event, timeoutMs: 2000, nowMs: Date.now(), secrets: [NEW_SECRET], ...overrides };
}

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

async function receiver(status = 200, headers: Record<string, string> = {}) {
  const received: Received[] = [];
  const sink = await httpSink((req, res, body) => {
    received.push({ headers: req.headers, body });
    res.writeHead(status, headers).end();
  });
  return { sink, received };
}

function verify(received: Received, secret: string, tolerance?: number) {
  return stripe.webhooks.constructEvent(received.body, received.headers['stripe-signature'] as string, secret, tolerance);
}

describe('webhook target', () => {
  it('POSTs the event as JSON with a Stripe signature a Stripe verifier accepts', async () => {
    const { sink, received } = await receiver(204);
    const target = createWebhookTarget(sink.url.href, { concurrency: 2, userAgent: 'understudy/0.1 (webhooks)' });
    const outcome = await target.send(request());
    target.close();

    expect(outcome.status).toBe(204);
    expect(outcome.error).toBeUndefined();
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(0);
    expect(received).toHaveLength(1);
    expect(received[0].body).toBe(JSON.stringify(event));
    expect(received[0].headers['content-type']).toBe('application/json; charset=utf-8');
    expect(received[0].headers['user-agent']).toBe('understudy/0.1 (webhooks)');
    expect(verify(received[0], NEW_SECRET)).toMatchObject({ id: 'evt_abc', type: 'inventory.changed' });
    expect(() => verify(received[0], OLD_SECRET)).toThrow(Stripe.errors.StripeSignatureVerificationError);
  });

  it('signs with both secrets during a rotation, so either verifies', async () => {
    const { sink, received } = await receiver();
    const target = createWebhookTarget(sink.url.href, { concurrency: 1, userAgent: 'test' });
    await target.send(request({ secrets: [NEW_SECRET, OLD_SECRET] }));
    target.close();
    expect(verify(received[0], NEW_SECRET).id).toBe('evt_abc');
    expect(verify(received[0], OLD_SECRET).id).toBe('evt_abc');
    expect(() => verify(received[0], 'whsec_someone_else')).toThrow(/No signatures found matching/);
  });

  it('forges a signature that no secret verifies (badSignature)', async () => {
    const { sink, received } = await receiver();
    const target = createWebhookTarget(sink.url.href, { concurrency: 1, userAgent: 'test' });
    await target.send(request({ secrets: [NEW_SECRET, OLD_SECRET], signatureFault: 'badSignature' }));
    target.close();
    expect(() => verify(received[0], NEW_SECRET)).toThrow(/No signatures found matching/);
    expect(() => verify(received[0], OLD_SECRET)).toThrow(/No signatures found matching/);
  });

  it('dates a staleTimestamp signature beyond the default 300 s tolerance, correct otherwise', async () => {
    const { sink, received } = await receiver();
    const target = createWebhookTarget(sink.url.href, { concurrency: 1, userAgent: 'test' });
    await target.send(request({ signatureFault: 'staleTimestamp' }));
    target.close();
    expect(() => verify(received[0], NEW_SECRET)).toThrow(/Timestamp outside the tolerance zone/);
    expect(verify(received[0], NEW_SECRET, 1_000_000_000).id).toBe('evt_abc');
  });

  it('sends no signature header when the subscription has no secret', async () => {
    const { sink, received } = await receiver();
    const target = createWebhookTarget(sink.url.href, { concurrency: 1, userAgent: 'test' });
    await target.send(request({ secrets: [] }));
    target.close();
    expect(received[0].headers['stripe-signature']).toBeUndefined();
  });

  it('treats any status but 2xx as a failure, with the Retry-After the receiver asked for', async () => {
    const { sink } = await receiver(503, { 'retry-after': '30' });
    const target = createWebhookTarget(sink.url.href, { concurrency: 1, userAgent: 'test' });
    expect(await target.send(request())).toMatchObject({ status: 503, error: 'HTTP 503', retryAfterMs: 30_000 });
    target.close();
  });

  it('does not follow a redirect', async () => {
    const { sink, received } = await receiver(301, { location: 'https://elsewhere.example/hook' });
    const target = createWebhookTarget(sink.url.href, { concurrency: 1, userAgent: 'test' });
    expect(await target.send(request())).toMatchObject({ status: 301, error: 'redirect to https://elsewhere.example/hook not followed' });
    expect(received).toHaveLength(1);
    target.close();
  });

  it('times out on a silent receiver and reports a refused connection', async () => {
    const silent = await httpSink(() => {});
    const target = createWebhookTarget(silent.url.href, { concurrency: 1, userAgent: 'test' });
    expect(await target.send(request({ timeoutMs: 200 }))).toMatchObject({ status: null, error: 'timeout' });
    target.close();

    const refused = createWebhookTarget((await closedPort()).href, { concurrency: 1, userAgent: 'test' });
    expect(await refused.send(request())).toMatchObject({ status: null, error: 'ECONNREFUSED' });
    refused.close();
  });

  it('holds at most `concurrency` connections to a slow receiver', async () => {
    // a slow receiver: each answer takes 100 ms, so unlimited sends would all be connected long before the first answer
    const sink = await httpSink((_req, res) => setTimeout(() => res.end('ok'), 100));
    const target = createWebhookTarget(sink.url.href, { concurrency: 2, userAgent: 'test' });
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => target.send(request())));
    expect(outcomes.map((o) => o.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(sink.maxOpen).toBe(2);
    expect(sink.sockets).toHaveLength(2);
    target.close();
  });

  it('close() closes its idle kept-alive sockets', async () => {
    const { sink } = await receiver();
    const target = createWebhookTarget(sink.url.href, { concurrency: 1, userAgent: 'test' });
    await target.send(request());
    expect(sink.open).toBe(1);
    const gone = once(sink.sockets[0], 'close');
    target.close();
    await gone;
    expect(sink.open).toBe(0);
  });

  it('refuses a URL it cannot deliver to, and a concurrency below 1', () => {
    expect(() => createWebhookTarget('not a url', { concurrency: 1, userAgent: 'test' })).toThrow('webhook URL "not a url" is not an absolute URL');
    expect(() => createWebhookTarget('ftp://example.com/hook', { concurrency: 1, userAgent: 'test' })).toThrow(/must be http: or https:/);
    expect(() => createWebhookTarget('https://example.com/hook', { concurrency: 0, userAgent: 'test' })).toThrow(/concurrency must be an integer of at least 1/);
  });
});
