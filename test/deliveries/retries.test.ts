/**
 * At least once: a receiver that fails is retried with exponential backoff and equal jitter (checked on the
 * recorded attempt times, with a shortened policy: base 40 ms, factor 2), one that always fails ends in the
 * dead-letter list, and a dead letter can be redelivered.
 */
import { describe, expect, it, vi } from 'vitest';
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
    const server = await start({ seed: 3 });
    const hooks = await sink();
    const failures = new Map<string, number>();
    hooks.answer = (r) => {
      const n = failures.get(r.event.id) ?? 0;
      failures.set(r.event.id, n + 1);
      return n < 3 ? 503 : 200;
    };
    const base = 40;
    const sub = await call(`${server.url}/__admin/subscriptions`, json({ url: hooks.url, events: ['reservation.created'], secret: 's3cret', retry: { base: `${base}ms`, factor: 2, maxAttempts: 10 } }));
    expect(sub.status).toBe(201);
    expect(sub.body.retry).toMatchObject({ base: '40ms', factor: 2, maxAttempts: 10 });
    const made = await call(`${server.url}/wms/v1/reservations`, json({ externalOrderId: 'R-1', lines: [{ sku: 'SKU-1', quantity: 1 }] }));
    expect(made.status).toBe(201);

    const [delivery] = await until(server.url, (all) => all.length === 1 && all[0].status === 'delivered');
    expect(delivery.attempts.map((a: any) => a.status)).toEqual([503, 503, 503, 200]);
    expect(hooks.received).toHaveLength(4);
    expect(new Set(hooks.received.map((r) => r.event.id)).size).toBe(1); // the same event id every time
    for (let n = 1; n < delivery.attempts.length; n++) {
      const previous = delivery.attempts[n - 1];
      const answeredAt = Date.parse(previous.at) + previous.latencyMs;
      const waited = Date.parse(delivery.attempts[n].at) - answeredAt;
      const d = base * 2 ** (n - 1);
      // uniform in [d/2, d] after the previous answer (ms rounding on both ends; timers may run late, never early)
      expect(waited, `wait before attempt ${n + 1}`).toBeGreaterThanOrEqual(d / 2 - 2);
      expect(waited, `wait before attempt ${n + 1}`).toBeLessThanOrEqual(d + 250);
    }
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
