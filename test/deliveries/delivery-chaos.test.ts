/**
 * Delivery chaos end to end (the profile's `deliveries:` section): a lost first attempt, forged and stale
 * signatures that a receiver using Stripe's verifier rejects, a reorder window released out of order, a delay,
 * and the determinism CI relies on: the same seed, subscriptions and traffic give the same faults.
 */
import Stripe from 'stripe';
import { describe, expect, it, vi } from 'vitest';
import { call, json, start } from '../helpers.js';
import { Sink } from './sink.js';

const stripe = new Stripe('sk_test_understudy');
const SECRET = 'whsec_chaos';

/** a receiver that verifies signatures the way a Stripe integration does, and refuses what does not verify */
async function verifyingSink(): Promise<Sink> {
  const s = await Sink.start();
  s.answer = (r) => {
    try {
      stripe.webhooks.constructEvent(r.body, r.headers['stripe-signature'] as string, SECRET);
      return 200;
    } catch {
      return 400;
    }
  };
  return s;
}

async function serverWith(profile: string, seed = 31) {
  const server = await start({ seed });
  const put = await call(`${server.url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: profile });
  expect(put.status, put.text).toBe(200);
  return server;
}

async function subscribe(url: string, hooks: Sink, events = ['reservation.created']): Promise<void> {
  const r = await call(`${url}/__admin/subscriptions`, json({ url: hooks.url, events, secret: SECRET, retry: { base: '10ms', maxAttempts: 5 } }));
  expect(r.status).toBe(201);
}

async function reserve(url: string, n: number, tag: string): Promise<void> {
  for (let i = 1; i <= n; i++) {
    const r = await call(`${url}/wms/v1/reservations`, json({ externalOrderId: `${tag}-${i}`, lines: [{ sku: `SKU-${i}`, quantity: 1 }] }));
    expect(r.status).toBe(201);
  }
}

async function settled(url: string, count: number): Promise<any[]> {
  return vi.waitFor(
    async () => {
      const list = (await call(`${url}/__admin/deliveries?limit=1000`)).body.deliveries as any[];
      expect(list.filter((d) => d.status === 'delivered' && d.nextAttemptAt === null)).toHaveLength(count);
      return list.reverse(); // oldest first
    },
    { timeout: 15_000, interval: 20 },
  );
}

describe('delivery chaos', () => {
  it('drop: the first attempt is lost, recorded as such, and the retry delivers', async () => {
    const server = await serverWith('name: drops\ndeliveries:\n  - id: lossy\n    drop: {}\n');
    expect((await call(`${server.url}/__admin/chaos`)).body.deliveries).toEqual([{ id: 'lossy', faults: ['drop'] }]);
    const hooks = await verifyingSink();
    await subscribe(server.url, hooks);
    await reserve(server.url, 2, 'DROP');
    const list = await settled(server.url, 2);
    for (const d of list) {
      expect(d.attempts[0]).toMatchObject({ status: null, faults: [{ kind: 'drop' }] });
      expect(d.attempts[0].error).toMatch(/dropped/);
      expect(d.attempts[1]).toMatchObject({ status: 200, faults: [] });
    }
    // the receiver saw each event once: the lost attempt never reached it
    expect(hooks.received).toHaveLength(2);
  });

  it('badSignature and staleTimestamp: the receiver rejects the forged attempt, and accepts the genuine retry', async () => {
    for (const kind of ['badSignature', 'staleTimestamp']) {
      const server = await serverWith(`name: forged\ndeliveries:\n  - ${kind}: {}\n`);
      const hooks = await verifyingSink();
      await subscribe(server.url, hooks);
      await reserve(server.url, 1, kind);
      const [d] = await settled(server.url, 1);
      expect(d.attempts.map((a: any) => a.status), kind).toEqual([400, 200]);
      expect(d.attempts[0].faults).toEqual([{ kind }]);
      if (kind === 'staleTimestamp') {
        // the forged one is a genuine signature, only old: a receiver with no tolerance check would accept it
        const stale = hooks.received[0];
        expect(() => stripe.webhooks.constructEvent(stale.body, stale.headers['stripe-signature'] as string, SECRET, 10 ** 9)).not.toThrow();
      }
    }
  });

  it('reorder: a window of 5 is released in another order than the events happened', async () => {
    const server = await serverWith('name: shuffled\ndeliveries:\n  - reorder: { window: 5, maxWait: 10s }\n');
    const hooks = await verifyingSink();
    await subscribe(server.url, hooks);
    await reserve(server.url, 5, 'ORDER');
    const list = await settled(server.url, 5);
    const happened = list.map((d) => d.eventId);
    const started = [...list].sort((a, b) => Date.parse(a.attempts[0].at) - Date.parse(b.attempts[0].at) || 0).map((d) => d.eventId);
    const arrived = hooks.received.map((r) => r.event.id);
    expect(new Set(arrived)).toEqual(new Set(happened));
    expect(arrived).not.toEqual(happened);
    expect(started).not.toEqual(happened);
  });

  it('delay: the first attempt waits the drawn delay after the event', async () => {
    const server = await serverWith('name: slow\ndeliveries:\n  - delay: 300ms\n');
    const hooks = await verifyingSink();
    await subscribe(server.url, hooks);
    await reserve(server.url, 1, 'LATE');
    const [d] = await settled(server.url, 1);
    expect(d.faults).toEqual([expect.objectContaining({ kind: 'delay', ms: 300 })]);
    expect(Date.parse(d.attempts[0].at) - Date.parse(d.queuedAt)).toBeGreaterThanOrEqual(300);
  });

  it('the same seed, subscriptions and traffic give the same faults and the same events', async () => {
    const profile = 'name: mixed\ndeliveries:\n  - duplicate: { probability: 0.5, copies: 2 }\n    drop: { probability: 0.5 }\n    delay: { distribution: uniform, min: 0ms, max: 50ms }\n';
    const runs: any[][] = [];
    for (let run = 0; run < 2; run++) {
      const server = await serverWith(profile, 99);
      const hooks = await verifyingSink();
      await subscribe(server.url, hooks);
      await reserve(server.url, 8, 'SAME');
      const list = await settled(server.url, 8);
      runs.push(list.map((d) => ({ event: d.eventType, faults: d.faults, attempts: d.attempts.map((a: any) => a.faults), duplicates: d.duplicates })));
    }
    expect(runs[1]).toEqual(runs[0]);
    // and the draws vary: some events were dropped or duplicated, some not
    expect(new Set(runs[0].map((r) => JSON.stringify(r.attempts))).size).toBeGreaterThan(1);
  });

  it('a broken deliveries section is refused with its line and path, and the old profile stays', async () => {
    const server = await start();
    const r = await call(`${server.url}/__admin/chaos`, {
      method: 'PUT',
      headers: { 'content-type': 'application/yaml' },
      body: 'name: broken\ndeliveries:\n  - match: { event: "inventroy.*" }\n    duplicate: { copies: 1 }\n    teleport: {}\n',
    });
    expect(r.status).toBe(400);
    const paths = r.body.errors.map((e: any) => `${e.line}:${e.path}`);
    expect(paths).toEqual(expect.arrayContaining([expect.stringMatching(/^3:deliveries\.0\.match\.event/), expect.stringMatching(/^4:deliveries\.0\.duplicate\.copies/), expect.stringMatching(/^5:deliveries\.0\.teleport/)]));
    expect((await call(`${server.url}/__admin/chaos`)).body.profile.name).toBe('calm');
  });
});
