/**
 * Events flow while nobody calls: the stock simulation and reservation expiry run on the workspace's timer once
 * someone is subscribed, on a ManualClock and ManualScheduler (time moves only when the test says), and what
 * arrives matches the change feed. Config-file subscriptions deliver from the start, in their own workspace.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { call, json, start } from '../helpers.js';
import { Sink } from './sink.js';

const START = Date.UTC(2026, 6, 1, 9, 0, 0);

const sink = (): Promise<Sink> => Sink.start();

/** moves time on in steps, letting the attempts the timers started reach the sink between steps */
async function advance(scheduler: ManualScheduler, ms: number, step = 100): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    scheduler.advance(Math.min(step, ms - done));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('events without requests', () => {
  it('the stock simulation pushes inventory.changed events on its own, the same changes the feed shows', async () => {
    const clock = new ManualClock(START);
    const scheduler = new ManualScheduler(clock);
    const server = await start({ clock, scheduler, seed: 41, systems: { wms: { skus: 50 } } });
    const hooks = await sink();
    expect((await call(`${server.url}/__admin/subscriptions`, json({ url: hooks.url, events: ['inventory.changed'], secret: 'sim' }))).status).toBe(201);
    const before = await call(`${server.url}/wms/v1/changes?limit=1000`);
    const cursor = before.body.nextCursor;
    const put = await call(`${server.url}/__admin/wms/simulation`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rate: '10/s' }) });
    expect(put.status).toBe(200);

    // 3 s of simulated time, no API call in between: about 30 changes must arrive
    await advance(scheduler, 3000);
    await hooks.waitFor((got) => got.length >= 25, 'the simulated changes');
    const feed = await call(`${server.url}/wms/v1/changes?cursor=${cursor}&limit=1000`);
    const latest = new Map(feed.body.changes.map((c: any) => [c.id, c.data]));
    const pushed = new Map(hooks.received.map((r) => [r.event.data.sku, r.event.data]));
    // the feed (polled after) shows each SKU at its latest; every pushed SKU is in it, and the latest pushes agree
    for (const [sku, data] of pushed) {
      expect(latest.has(sku), sku).toBe(true);
      if (JSON.stringify(latest.get(sku)) !== JSON.stringify(data)) expect(Date.parse((latest.get(sku) as any).updatedAt)).toBeGreaterThan(Date.parse(data.updatedAt));
    }
    expect(hooks.received.every((r) => r.event.type === 'inventory.changed')).toBe(true);
  });

  it('a reservation that expires sends reservation.expired when its hold lapses, with no request', async () => {
    const clock = new ManualClock(START);
    const scheduler = new ManualScheduler(clock);
    const server = await start({ clock, scheduler, seed: 42, systems: { wms: { reservationTtlMs: 60_000 } } });
    const hooks = await sink();
    await call(`${server.url}/__admin/subscriptions`, json({ url: hooks.url, events: ['reservation.*'], secret: 'ttl' }));
    const made = await call(`${server.url}/wms/v1/reservations`, json({ externalOrderId: 'TTL-1', lines: [{ sku: 'SKU-1', quantity: 1 }] }));
    expect(made.status).toBe(201);
    await advance(scheduler, 200);
    await hooks.waitFor((got) => got.some((r) => r.event.type === 'reservation.created'));
    await advance(scheduler, 61_000, 1000);
    await hooks.waitFor((got) => got.some((r) => r.event.type === 'reservation.expired'), 'the expiry');
    const expired = hooks.received.find((r) => r.event.type === 'reservation.expired')!;
    expect(expired.event.data).toMatchObject({ id: made.body.id, status: 'expired' });
    expect((await call(`${server.url}/wms/v1/reservations/${made.body.id}`)).body).toEqual(expired.event.data);
  });

  it('config-file subscriptions deliver from the start, in their workspace only', async () => {
    const hooks = await sink();
    const server = await start({
      subscriptions: [
        { id: 'uat-hooks', workspace: 'uat', target: 'webhook', url: hooks.url, events: ['reservation.created'], secrets: [{ secret: 'cfg', until: null }], retry: null, timeoutMs: null, concurrency: null, salesforce: null },
      ],
    });
    await call(`${server.url}/wms/v1/reservations`, json({ externalOrderId: 'DEFAULT-1', lines: [{ sku: 'SKU-1', quantity: 1 }] }));
    await call(`${server.url}/w/uat/wms/v1/reservations`, json({ externalOrderId: 'UAT-1', lines: [{ sku: 'SKU-1', quantity: 1 }] }));
    await hooks.waitFor((got) => got.length >= 1);
    expect(hooks.received.map((r) => r.event.data.externalOrderId)).toEqual(['UAT-1']);
    expect((await call(`${server.url}/w/uat/__admin/subscriptions`)).body.subscriptions.map((s: any) => [s.id, s.source])).toEqual([['uat-hooks', 'config']]);
    expect((await call(`${server.url}/__admin/subscriptions`)).body.subscriptions).toEqual([]);
  });
});
