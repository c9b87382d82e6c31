/**
 * Replies the transport holds (injected latency, a slow payment's execution time) and the client that gives up
 * first: the journal entry ends when the client closed the connection, with status 0 and nothing written, so it
 * shows how long the client waited (what a timeout judgement needs), not when the reply would have been ready. A
 * write held this way has happened all the same: its effects stay on the entry. Time passes on a ManualClock.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { call, json, start } from '../helpers.js';

const LATENCY = 'name: slow\nrules:\n  - id: slow-reads\n    match: { system: wms, method: GET }\n    faults: [ { latency: 5s } ]\n';

async function server() {
  const clock = new ManualClock(Date.UTC(2026, 11, 2, 9, 0, 0));
  const scheduler = new ManualScheduler(clock);
  const s = await start({ seed: 3, clock, scheduler });
  return { url: s.url, clock, scheduler };
}

/** a request the client abandons once the server holds its reply, `after` ms of clock time later */
async function abandon(scheduler: ManualScheduler, url: string, init: RequestInit = {}, after = 1500): Promise<void> {
  const controller = new AbortController();
  const request = fetch(url, { ...init, signal: controller.signal }).catch((err: Error) => err);
  await scheduler.whenPending();
  scheduler.advance(after);
  controller.abort();
  expect(await request).toBeInstanceOf(Error);
}

async function entries(url: string, query: string): Promise<any[]> {
  // the entry is recorded when the server sees the connection close: ask until it is there
  for (let i = 0; i < 200; i++) {
    const page = (await call(`${url}/__admin/journal?${query}`)).body.entries;
    if (page.length > 0) return page;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return [];
}

describe('a held reply the client gives up on', () => {
  it('is journaled when the client closed the connection, as status 0 with nothing written', async () => {
    const { url, scheduler } = await server();
    expect((await call(`${url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: LATENCY })).status).toBe(200);
    await abandon(scheduler, `${url}/wms/v1/inventory/SKU-1`);
    const [entry] = await entries(url, 'operation=getInventory');
    expect(entry.status).toBe(0);
    expect(entry.transportError).toMatch(/client closed the connection while the reply was held \(for 5000 ms/);
    expect(entry.faults).toMatchObject([{ kind: 'latency' }]);
    // it ended when the client left, 1.5 s in: recorded while the clock still stands there, the 5 s hold's timer
    // gone with it (before, the entry waited for the hold to fall due and carried the status never written)
    expect(scheduler.pending).toEqual([]);
  });

  it('keeps the effects of a write whose answer was held (a slow charge): it happened, the client never heard', async () => {
    const { url, scheduler } = await server();
    await abandon(scheduler, `${url}/payments/v1/charges`, json({ amount: 4999, currency: 'usd', payment_method: 'pm_card_slow' }, { 'idempotency-key': 'slow-1' }), 800);
    const [entry] = await entries(url, 'operation=createCharge');
    expect(entry).toMatchObject({ status: 0, key: 'slow-1', effects: [{ entity: 'charge', action: 'created' }] });
    expect(scheduler.pending).toEqual([]);
    // the charge exists; the key is still executing for another 1.2 s, then replays it
    expect((await call(`${url}/payments/v1/charges`)).body.data).toHaveLength(1);
    scheduler.advance(1200);
    const replay = await call(`${url}/payments/v1/charges`, json({ amount: 4999, currency: 'usd', payment_method: 'pm_card_slow' }, { 'idempotency-key': 'slow-1' }));
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });
});
