/**
 * The subscription admin routes: what they accept, every way they refuse (400 naming the field, nothing stored),
 * secret rotation, deletion, config-file subscriptions, and the reset scopes that touch deliveries.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { call, json, start } from '../helpers.js';
import { Sink } from './sink.js';


/** which of `secrets` a delivery's Stripe-Signature verifies with, in header order */
function signedWith(received: { headers: Record<string, unknown>; body: string }, secrets: string[]): string[] {
  const parts = String(received.headers['stripe-signature']).split(',');
  const t = parts.find((p) => p.startsWith('t='))!.slice(2);
  return parts
    .filter((p) => p.startsWith('v1='))
    .map((p) => secrets.find((s) => createHmac('sha256', s).update(`${t}.${received.body}`).digest('hex') === p.slice(3)) ?? '?');
}

const good = { url: 'http://127.0.0.1:9/hooks', events: ['inventory.*'], secret: 'whsec_1' };

describe('subscription admin routes', () => {
  it('refuses bad subscriptions with the field at fault, and stores nothing', async () => {
    const server = await start();
    const cases: Array<[unknown, string]> = [
      [{ ...good, url: 'ftp://example.com/x' }, 'url'],
      [{ ...good, url: 'file:///etc/passwd' }, 'url'],
      [{ ...good, url: 'not a url' }, 'url'],
      [{ ...good, url: undefined }, 'url'],
      [{ ...good, events: [] }, 'events'],
      [{ ...good, events: 'inventory.*' }, 'events'],
      [{ ...good, events: ['inventroy.*'] }, 'events.0'],
      [{ ...good, events: ['inventory.changed', 'invoice.*'] }, 'events.1'],
      [{ ...good, events: ['../../etc'] }, 'events.0'],
      [{ ...good, secret: undefined }, 'secret'],
      [{ ...good, secret: '' }, 'secret'],
      [{ ...good, target: 'email' }, 'target'],
      [{ ...good, retry: { base: 'soon' } }, 'retry.base'],
      [{ ...good, retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
      [{ ...good, retry: { jitter: true } }, 'retry.jitter'],
      [{ ...good, timeout: '10 seconds' }, 'timeout'],
      [{ ...good, timeout: '1d' }, 'timeout'],
      [{ ...good, concurrency: 0 }, 'concurrency'],
      [{ ...good, concurrency: 1e9 }, 'concurrency'],
      [{ ...good, colour: 'red' }, 'colour'],
      [{ target: 'salesforce-platform-event', events: ['inventory.*'] }, 'salesforce'],
      [{ target: 'salesforce-platform-event', events: ['inventory.*'], salesforce: { instanceUrl: 'gopher://x' } }, 'salesforce.instanceUrl'],
      [[good], ''],
      ['just a string', ''],
    ];
    for (const [body, field] of cases) {
      const r = await call(`${server.url}/__admin/subscriptions`, json(body));
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(r.body.errors.map((e: any) => e.field), JSON.stringify(body)).toContain(field);
    }
    // not JSON at all
    expect((await call(`${server.url}/__admin/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"url":' })).status).toBe(400);
    expect((await call(`${server.url}/__admin/subscriptions`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'url=x' })).status).toBe(415);
    expect((await call(`${server.url}/__admin/subscriptions`)).body).toEqual({ subscriptions: [] });
    // the server still serves
    expect((await call(`${server.url}/wms/v1/inventory/SKU-1`)).status).toBe(200);
  });

  it('creates, shows (without secrets), rotates and deletes; unknown ids are 404', async () => {
    const server = await start();
    const created = await call(`${server.url}/__admin/subscriptions`, json({ ...good, retry: { base: '200ms', maxAttempts: 3 }, timeout: '2s', concurrency: 4 }));
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(created.body).toMatchObject({ id, target: 'webhook', url: good.url, events: good.events, source: 'api', timeout: '2000ms', concurrency: 4 });
    expect(JSON.stringify(created.body)).not.toContain('whsec_1');
    expect((await call(`${server.url}/__admin/subscriptions/${id}`)).body.id).toBe(id);
    expect((await call(`${server.url}/__admin/subscriptions`)).body.subscriptions).toHaveLength(1);
    expect((await call(`${server.url}/__admin/subscriptions/sub_999999`)).status).toBe(404);
    expect((await call(`${server.url}/__admin/subscriptions/..%2F..%2Fetc`)).status).toBe(404);

    for (const [body, field] of [
      [{ secret: 'new', grace: 'forever' }, 'grace'],
      [{ grace: '1h' }, 'secret'],
      [{ secret: 'new', grace: '1h', extra: 1 }, 'extra'],
    ] as const) {
      const r = await call(`${server.url}/__admin/subscriptions/${id}/rotate-secret`, json(body));
      expect(r.status).toBe(400);
      expect(r.body.errors.map((e: any) => e.field)).toContain(field);
    }
    const rotated = await call(`${server.url}/__admin/subscriptions/${id}/rotate-secret`, json({ secret: 'whsec_2', grace: '24h' }));
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret.previousValidUntil).not.toBeNull();
    expect((await call(`${server.url}/__admin/subscriptions/sub_999999/rotate-secret`, json({ secret: 'x', grace: '1h' }))).status).toBe(404);

    expect((await call(`${server.url}/__admin/subscriptions/${id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await call(`${server.url}/__admin/subscriptions/${id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await call(`${server.url}/__admin/subscriptions`)).body.subscriptions).toHaveLength(0);
  });

  it('during a rotation both secrets sign; after the grace only the new one', async () => {
    const server = await start();
    const hooks = await Sink.start();
    const { body } = await call(`${server.url}/__admin/subscriptions`, json({ url: hooks.url, events: ['reservation.created'], secret: 'old-secret' }));
    await call(`${server.url}/__admin/subscriptions/${body.id}/rotate-secret`, json({ secret: 'new-secret', grace: '1h' }));
    await call(`${server.url}/wms/v1/reservations`, json({ externalOrderId: 'ROT-1', lines: [{ sku: 'SKU-1', quantity: 1 }] }));
    await hooks.waitFor((got) => got.length === 1);
    expect(signedWith(hooks.received[0], ['old-secret', 'new-secret', 'newest'])).toEqual(['new-secret', 'old-secret']);
    // a second rotation without grace: new-secret stops at once; old-secret's hour is not over
    await call(`${server.url}/__admin/subscriptions/${body.id}/rotate-secret`, json({ secret: 'newest', grace: '0s' }));
    await call(`${server.url}/wms/v1/reservations`, json({ externalOrderId: 'ROT-2', lines: [{ sku: 'SKU-1', quantity: 1 }] }));
    await hooks.waitFor((got) => got.length === 2);
    expect(signedWith(hooks.received[1], ['old-secret', 'new-secret', 'newest'])).toEqual(['newest', 'old-secret']);
  });

  it('deleting a subscription ends its deliveries under way: dead, saying why, and no more attempts', async () => {
    const server = await start();
    const hooks = await Sink.start();
    hooks.answer = () => 503;
    const { body } = await call(`${server.url}/__admin/subscriptions`, json({ url: hooks.url, events: ['reservation.created'], secret: 's', retry: { base: '1h' } }));
    await call(`${server.url}/wms/v1/reservations`, json({ externalOrderId: 'DEL-1', lines: [{ sku: 'SKU-1', quantity: 1 }] }));
    await vi.waitFor(async () => expect((await call(`${server.url}/__admin/deliveries?status=retrying`)).body.deliveries).toHaveLength(1));
    expect((await call(`${server.url}/__admin/subscriptions/${body.id}`, { method: 'DELETE' })).status).toBe(200);
    const [d] = (await call(`${server.url}/__admin/deliveries`)).body.deliveries;
    expect(d).toMatchObject({ status: 'dead', nextAttemptAt: null });
    expect(d.attempts.at(-1)).toMatchObject({ status: null, error: 'the subscription was deleted' });
    expect((await call(`${server.url}/__admin/deliveries/${d.id}/redeliver`, { method: 'POST' })).status).toBe(409);
  });

  it('the query of GET /__admin/deliveries is checked', async () => {
    const server = await start();
    for (const q of ['status=lost', 'limit=0', 'limit=5000', 'cursor=nope!', 'colour=red', 'status=dead&status=pending']) {
      const r = await call(`${server.url}/__admin/deliveries?${q}`);
      expect(r.status, q).toBe(400);
    }
    const r = await call(`${server.url}/__admin/deliveries?colour=red`);
    expect(r.body.errors[0].name).toBe('colour');
    expect((await call(`${server.url}/__admin/deliveries`)).body).toEqual({ deliveries: [], nextCursor: null });
  });

  it('reset: deliveries forgets deliveries only, state also cancels retries, all also removes admin-made subscriptions', async () => {
    const hooks = await Sink.start();
    hooks.answer = () => 500;
    const server = await start({
      subscriptions: [
        { id: 'from-config', workspace: 'default', target: 'webhook', url: hooks.url, events: ['inventory.*'], secrets: [{ secret: 'c', until: null }], retry: null, timeoutMs: null, concurrency: null, salesforce: null },
      ],
    });
    const api = await call(`${server.url}/__admin/subscriptions`, json({ url: hooks.url, events: ['reservation.*'], secret: 'a', retry: { base: '1h' } }));
    expect(api.status).toBe(201);
    expect((await call(`${server.url}/__admin/subscriptions/from-config`, { method: 'DELETE' })).status).toBe(409);
    await call(`${server.url}/wms/v1/reservations`, json({ externalOrderId: 'RS-1', lines: [{ sku: 'SKU-1', quantity: 1 }] }));
    await vi.waitFor(async () => expect((await call(`${server.url}/__admin/deliveries?status=retrying`)).body.deliveries.length).toBe(2));

    expect((await call(`${server.url}/__admin/reset`, json({ scope: 'deliveries' }))).status).toBe(200);
    expect((await call(`${server.url}/__admin/deliveries`)).body.deliveries).toHaveLength(0);
    expect((await call(`${server.url}/__admin/subscriptions`)).body.subscriptions).toHaveLength(2);
    expect((await call(`${server.url}/wms/v1/reservations/${'RES-000001'}`)).status).toBe(200); // state untouched

    expect((await call(`${server.url}/__admin/reset`, json({ scope: 'state' }))).status).toBe(200);
    expect((await call(`${server.url}/__admin/subscriptions`)).body.subscriptions).toHaveLength(2);
    expect((await call(`${server.url}/wms/v1/reservations/RES-000001`)).status).toBe(404);

    expect((await call(`${server.url}/__admin/reset`, json({ scope: 'all' }))).status).toBe(200);
    const left = (await call(`${server.url}/__admin/subscriptions`)).body.subscriptions;
    expect(left.map((s: any) => s.id)).toEqual(['from-config']);
  });
});
