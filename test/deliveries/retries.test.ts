/**
 * At least once: a receiver that fails is retried with exponential backoff and equal jitter (checked on the
 * recorded attempt times, on a ManualClock: base 1 s, factor 2), one that always fails ends in the
 * dead-letter list, and a dead letter can be redelivered.
 */
import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { call, json, start } from '../helpers.js';
import { Sink } from './sink.js';

const sink = (): Promise<Sink> => Sink.start();

async function deliveriesOf(url: string, query = ''): Promise<any[]> {
  const r = await call(`${url}/__admin/deliveries?limit=1000${query}`);
  expect(r.status).toBe(200);
  return r.body.deliveries;
}

/** the deliveries once `test` holds for them (vi.waitFor polls the admin API until it does) */
function until(url: string, test: (d: any[]) => boolean): Promise<any[]> {
  return vi.waitFor(
    async () => {
      const all = await deliveriesOf(url);
      if (!test(all)) throw new Error(`not yet: ${JSON.stringify(all.map((d) => [d.id, d.status, d.attempts.length]))}`);
      return all;
    },
    { timeout: 15_000, interval: 20 },
  );
}

describe('retries', () => {
  it('a receiver failing the first 3 attempts gets the event on the 4th, after backoff with equal jitter', async () => {
    // time moves only when the test says: each retry fires exactly when it is due, and an attempt is answered at
    // the clock time it started, so the waits on record are exactly the policy's draws
    const clock = new ManualClock(Date.UTC(2026, 7, 1));
    const scheduler = new ManualScheduler(clock);
    const server = await start({ seed: 3, clock, scheduler, systems: { wms: { reservationTtlMs: 0 } } });
    const hooks = await sink();
    const failures = new Map<string, number>();
    hooks.answer = (r) => {
      const n = failures.get(r.event.id) ?? 0;
      failures.set(r.event.id, n + 1);
      return n < 3 ? 503 : 200;
    };
    const base = 1000;
    const sub = await call(`${server.url}/__admin/subscriptions`, json({ url: hooks.url, events: ['reservation.created'], secret: 's3cret', retry: { base: `${base}ms`, factor: 2, maxAttempts: 10 } }));
    expect(sub.status).toBe(201);
    expect(sub.body.retry).toMatchObject({ base: '1s', factor: 2, maxAttempts: 10 });
    const made = await call(`${server.url}/wms/v1/reservations`, json({ externalOrderId: 'R-1', lines: [{ sku: 'SKU-1', quantity: 1 }] }));
    expect(made.status).toBe(201);

    // attempt by attempt: fire the one timer pending (the next attempt), then wait for its outcome on record
    for (let n = 1; n <= 4; n++) {
      await scheduler.whenPending(1);
      expect(scheduler.pending).toHaveLength(1);
      scheduler.advance(scheduler.pending[0]);
      await hooks.waitFor((got) => got.length === n, `attempt ${n}`);
      await until(server.url, (all) => all[0]?.attempts.length === n);
    }
    const [delivery] = await deliveriesOf(server.url);
    expect(delivery.status).toBe('delivered');
    expect(delivery.attempts.map((a: any) => a.status)).toEqual([503, 503, 503, 200]);
    expect(new Set(hooks.received.map((r) => r.event.id)).size).toBe(1); // the same event id every time
    const waits = delivery.attempts.slice(1).map((a: any, i: number) => Date.parse(a.at) - Date.parse(delivery.attempts[i].at));
    waits.forEach((waited: number, i: number) => {
      const d = base * 2 ** i;
      // uniform in [d/2, d] after the previous answer
      expect(waited, `wait before attempt ${i + 2}`).toBeGreaterThanOrEqual(d / 2);
      expect(waited, `wait before attempt ${i + 2}`).toBeLessThanOrEqual(d);
    });
    // jittered: not simply d/2 or d every time
    expect(waits.some((w: number, i: number) => w !== base * 2 ** i && w !== (base * 2 ** i) / 2)).toBe(true);
  });

  it('a receiver that always fails ends in the dead-letter list; redeliver makes a new attempt with the same event id', async () => {
    const server = await start({ seed: 4 });
    const hooks = await sink();
    let healthy = false;
    hooks.answer = () => (healthy ? 204 : 500);
    const sub = await call(`${server.url}/__admin/subscriptions`, json({ url: hooks.url, events: ['reservation.created'], secret: 's3cret', retry: { base: '10ms', maxAttempts: 3 } }));
    expect(sub.status).toBe(201);
    expect((await call(`${server.url}/wms/v1/reservations`, json({ externalOrderId: 'R-2', lines: [{ sku: 'SKU-2', quantity: 1 }] }))).status).toBe(201);

    const [dead] = await until(server.url, (all) => all[0]?.status === 'dead');
    expect(dead.attempts).toHaveLength(3);
    expect(dead.attempts.every((a: any) => a.status === 500)).toBe(true);
    expect(dead.timeToAckMs).toBeNull();
    expect(await deliveriesOf(server.url, '&status=dead')).toHaveLength(1);
    expect(await deliveriesOf(server.url, '&status=delivered')).toHaveLength(0);
    expect((await call(`${server.url}/__admin/workspace`)).body.deliveries).toEqual({ subscriptions: 1, pending: 0, retrying: 0, delivered: 0, dead: 1 });

    healthy = true;
    const redelivered = await call(`${server.url}/__admin/deliveries/${dead.id}/redeliver`, { method: 'POST' });
    expect(redelivered.status).toBe(202);
    const [done] = await until(server.url, (all) => all[0]?.status === 'delivered');
    expect(done.attempts.map((a: any) => a.status)).toEqual([500, 500, 500, 204]);
    expect(hooks.received.at(-1)!.event.id).toBe(dead.eventId);

    expect((await call(`${server.url}/__admin/deliveries/dlv_99999999/redeliver`, { method: 'POST' })).status).toBe(404);
  });

  it('a receiver that hangs is abandoned after the timeout and does not hold up another subscriber', async () => {
    const server = await start({ seed: 5 });
    const stuck = await sink();
    const fine = await sink();
    stuck.answer = () => 'hang';
    await call(`${server.url}/__admin/subscriptions`, json({ url: stuck.url, events: ['*'], secret: 'a', timeout: '100ms', retry: { base: '10ms', maxAttempts: 2 }, concurrency: 1 }));
    await call(`${server.url}/__admin/subscriptions`, json({ url: fine.url, events: ['*'], secret: 'b' }));
    for (let i = 0; i < 3; i++) await call(`${server.url}/wms/v1/reservations`, json({ externalOrderId: `H-${i}`, lines: [{ sku: 'SKU-3', quantity: 1 }] }));
    await fine.waitFor((got) => got.filter((r) => r.event.type === 'reservation.created').length === 3, 'all three reservations at the healthy receiver');
    const stuckDeliveries = await until(server.url, (all) => all.filter((d) => d.subscription === 'sub_000001').every((d) => d.status === 'dead'));
    for (const d of stuckDeliveries.filter((x) => x.subscription === 'sub_000001')) {
      expect(d.attempts.map((a: any) => a.error)).toEqual(['timeout', 'timeout']);
    }
  });
});
