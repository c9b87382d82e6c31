/**
 * The WMS's business events (events.ts) agree with its change feed: after reservations, shipment status changes,
 * a release, a stock adjustment and an expiry, made through real sockets on a ManualClock, since() from the start
 * position gives exactly the changes GET /wms/v1/changes shows from the cursor of that moment, with the same data
 * (the records as GET shows them), typed by what happened to each record; the same seed and requests give the
 * same events; since() is bounded; tick() applies what fell due and says when to look again.
 */
import { describe, expect, it } from 'vitest';
import type { MountedSystem, SystemChange, SystemEvents } from '../../../src/engine/system.js';
import type { RunningServer } from '../../../src/server.js';
import { MAX_CHANGES_PER_CALL, WMS_EVENT_TYPES, wmsEvents } from '../../../src/systems/wms/events.js';
import { ManualClock } from '../../../src/util/clock.js';
import { call, json, start } from '../../helpers.js';
import { wms as fixture } from './fixtures.js';

const START = Date.UTC(2026, 2, 1, 9, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface Change {
  seq: number;
  entity: string;
  id: string;
  updatedAt: string;
  data: any;
}

const wmsOf = (s: RunningServer): MountedSystem => s.engine.systems.find((x) => x.name === 'wms')!;
const eventsOf = (s: RunningServer): SystemEvents => wmsOf(s).events!;
const stateOf = (s: RunningServer, workspace = 'default') => {
  const lookup = s.workspaces.lookup(workspace);
  if (!('workspace' in lookup)) throw new Error(lookup.error);
  return lookup.workspace.stateOf(wmsOf(s));
};

/** Every change the feed shows after `cursor` (from the start without one), in pages of `limit`, and the last cursor. */
async function feed(url: string, cursor?: string, limit = 7): Promise<{ changes: Change[]; cursor: string }> {
  const changes: Change[] = [];
  for (;;) {
    const page = await call(`${url}/wms/v1/changes?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.status).toBe(200);
    changes.push(...page.body.changes);
    cursor = page.body.nextCursor as string;
    if (!page.body.hasMore) return { changes, cursor };
  }
}

const order = (externalOrderId: string, sku: string, quantity: number) => json({ externalOrderId, lines: [{ sku, quantity }] });
const status = (to: string) => json({ status: to });

/**
 * The traffic every test here sends, at fixed clock times: five reservations, two shipments (one delivered,
 * one cancelled), a release, an adjustment, and an hour for the first holds to expire.
 */
async function traffic(s: RunningServer, clock: ManualClock): Promise<void> {
  const ok = async (path: string, init: RequestInit, expected: number) => {
    const r = await call(`${s.url}/wms/v1${path}`, init);
    expect(r.status, `${init.method} ${path}: ${r.text}`).toBe(expected);
    return r.body;
  };
  for (const [n, sku] of [[1, 'SKU-1'], [2, 'SKU-2'], [3, 'SKU-3'], [5, 'SKU-5']] as const) {
    clock.advance(1_000);
    await ok('/reservations', order(`SO-${n}`, sku, 2), 201);
  }
  clock.advance(1_000);
  await ok('/shipments', json({ reservationId: 'RES-000001', carrier: 'DHL' }), 201);
  for (const to of ['picked', 'packed', 'shipped', 'delivered']) {
    clock.advance(1_000);
    await ok('/shipments/SHP-000001/status', status(to), 200);
  }
  clock.advance(1_000);
  await ok('/reservations/RES-000002', { method: 'DELETE' }, 200);
  clock.advance(1_000);
  await ok('/stock-adjustments', json({ adjustments: [{ sku: 'SKU-9', warehouseId: 'WH-ATL-01', delta: 7, reason: 'receipt' }] }), 200);
  // SO-5: shipped off and cancelled, so its hold restarts and it does not expire with SO-3
  clock.advance(1_000);
  await ok('/shipments', json({ reservationId: 'RES-000004', carrier: 'UPS' }), 201);
  clock.advance(30 * MINUTE);
  await ok('/shipments/SHP-000002/status', status('cancelled'), 200);
  clock.advance(1_000);
  await ok('/reservations', order('SO-6', 'SKU-6', 1), 201);
  // RES-000003 (made at +3 s) lapses at +1 h; RES-000004 and RES-000005 were held again or made 30 min later
  clock.advance(31 * MINUTE);
}

/** What the feed and the events have in common, events in the feed's terms. */
const asFeed = (e: SystemChange) => ({ seq: e.seq, updatedAt: new Date(e.at).toISOString(), data: e.data });
const fromFeed = (c: Change) => ({ seq: c.seq, updatedAt: c.updatedAt, data: c.data });

describe('WMS events', () => {
  it('are the change feed: the same changes from the same position, the same data, typed by what happened', async () => {
    const clock = new ManualClock(START);
    const s = await start({ clock, seed: 5, systems: { wms: { skus: 200, reservationTtlMs: HOUR } } });
    const events = eventsOf(s);
    const from = events.position(stateOf(s));
    const { changes: firstSync, cursor } = await feed(s.url, undefined, 1000);
    // the start position is where a complete first sync of the feed ends
    expect(from).toBe(Math.max(...firstSync.map((c) => c.seq)));
    expect(from).toBe(200);

    await traffic(s, clock);
    // the expiry falls due by the clock alone: tick() applies it, with nobody calling
    expect(events.tick!(stateOf(s))).toBeGreaterThanOrEqual(50);

    const emitted = events.since(stateOf(s), from);
    const { changes } = await feed(s.url, cursor);
    expect(emitted.map(asFeed)).toEqual(changes.map(fromFeed));
    expect(events.position(stateOf(s))).toBe(changes[changes.length - 1].seq);

    const typed = Object.fromEntries(emitted.map((e, i) => [`${changes[i].entity}:${changes[i].id}`, e.type]));
    expect(typed).toEqual({
      'inventory:SKU-5': 'inventory.changed',
      'inventory:SKU-1': 'inventory.changed',
      'inventory:SKU-2': 'inventory.changed',
      'reservation:RES-000001': 'reservation.updated', // fulfilled when its shipment shipped
      'shipment:SHP-000001': 'shipment.status_changed',
      'reservation:RES-000002': 'reservation.released',
      'inventory:SKU-9': 'inventory.changed',
      'reservation:RES-000004': 'reservation.updated', // its shipment was cancelled: detached, held again
      'shipment:SHP-000002': 'shipment.status_changed',
      'inventory:SKU-6': 'inventory.changed',
      'reservation:RES-000005': 'reservation.created',
      'inventory:SKU-3': 'inventory.changed',
      'reservation:RES-000003': 'reservation.expired',
    });
    // each record once, at its latest change: SKU-5 was reserved from and then left alone, SKU-3 got its stock back last
    expect(changes.filter((c) => c.entity === 'inventory').map((c) => c.id)).toEqual(['SKU-5', 'SKU-1', 'SKU-2', 'SKU-9', 'SKU-6', 'SKU-3']);

    // each event's data is its record exactly as GET shows it
    const paths: Record<string, string> = { inventory: 'inventory', reservation: 'reservations', shipment: 'shipments' };
    for (const [i, change] of changes.entries()) {
      const got = await call(`${s.url}/wms/v1/${paths[change.entity]}/${change.id}`);
      expect(emitted[i].data, `${change.entity} ${change.id}`).toEqual(got.body);
      expect(emitted[i].at).toBe(Date.parse(got.body.updatedAt));
    }
    expect(emitted.find((e) => e.type === 'reservation.expired')!.data).toMatchObject({ status: 'expired', expiresAt: new Date(START + 3_000 + HOUR).toISOString() });
    expect(emitted.find((e) => e.type === 'reservation.created')!.data).toMatchObject({ status: 'active', version: 1 });
    expect(emitted.filter((e) => e.type === 'shipment.status_changed').map((e) => (e.data as { status: string }).status)).toEqual(['delivered', 'cancelled']);
  });

  it('a new shipment is a status change too (to created), and a reservation\'s first change is created', async () => {
    const clock = new ManualClock(START);
    const s = await start({ clock, systems: { wms: { skus: 20 } } });
    const events = eventsOf(s);
    const from = events.position(stateOf(s));
    clock.advance(1_000);
    expect((await call(`${s.url}/wms/v1/reservations`, order('SO-1', 'SKU-4', 1))).status).toBe(201);
    expect(events.since(stateOf(s), from).map((e) => e.type)).toEqual(['inventory.changed', 'reservation.created']);
    const afterReservation = events.position(stateOf(s));
    clock.advance(1_000);
    expect((await call(`${s.url}/wms/v1/shipments`, json({ reservationId: 'RES-000001', carrier: 'DHL' }))).status).toBe(201);
    const shipped = events.since(stateOf(s), afterReservation);
    expect(shipped.map((e) => e.type)).toEqual(['shipment.status_changed', 'reservation.updated']);
    expect(shipped[0].data).toMatchObject({ id: 'SHP-000001', status: 'created' });
    expect(shipped[1].data).toMatchObject({ id: 'RES-000001', shipmentId: 'SHP-000001', version: 2 });
  });

  it('lists every type the WMS emits', () => {
    expect(wmsEvents.types).toEqual(WMS_EVENT_TYPES);
    expect([...WMS_EVENT_TYPES].sort()).toEqual([
      'inventory.changed',
      'reservation.created',
      'reservation.expired',
      'reservation.released',
      'reservation.updated',
      'shipment.status_changed',
    ]);
  });

  it('are the same for the same seed and requests', async () => {
    const run = async () => {
      const clock = new ManualClock(START);
      const s = await start({ clock, seed: 9, systems: { wms: { skus: 100, reservationTtlMs: HOUR, changeRatePerSecond: 0.5 } } });
      const from = eventsOf(s).position(stateOf(s));
      await traffic(s, clock);
      eventsOf(s).tick!(stateOf(s));
      return eventsOf(s).since(stateOf(s), from);
    };
    const [a, b] = [await run(), await run()];
    // the simulation's changes (one every 2 s for an hour) are among them
    expect(a.length).toBeGreaterThan(50);
    expect(b).toEqual(a);
  });

  it('answers nothing from the latest position, and at most MAX_CHANGES_PER_CALL at once, to be asked again', () => {
    const f = fixture({ skus: 25_000 });
    expect(wmsEvents.since(f.state, wmsEvents.position(f.state))).toEqual([]);
    // from 0: every seeded inventory record, as a complete first sync of the feed shows them
    const first = wmsEvents.since(f.state, 0);
    expect(first).toHaveLength(MAX_CHANGES_PER_CALL);
    const rest = [];
    for (let from = first[first.length - 1].seq; ; ) {
      const next = wmsEvents.since(f.state, from);
      if (next.length === 0) break;
      rest.push(...next);
      from = next[next.length - 1].seq;
    }
    expect(first.length + rest.length).toBe(25_000);
    expect([...first, ...rest].map((e) => e.seq)).toEqual(Array.from({ length: 25_000 }, (_, i) => i + 1));
  });

  it('tick() applies what fell due and asks to run again as soon as the next change is due', async () => {
    // nothing time-driven: no timer wanted
    expect(wmsEvents.tick!(fixture({ reservationTtlMs: 0 }).state)).toBeUndefined();

    // expiry only: until the next hold lapses, looked for at least every second (at least 50 ms apart)
    const f = fixture({ reservationTtlMs: 10 * MINUTE });
    expect(wmsEvents.tick!(f.state)).toBe(1_000);
    await f.call('createReservation', { body: { externalOrderId: 'SO-1', lines: [{ sku: 'SKU-1', quantity: 1 }] } });
    f.clock.advance(9 * MINUTE + 30_000);
    expect(wmsEvents.tick!(f.state)).toBe(1_000);
    f.clock.advance(29_400);
    expect(wmsEvents.tick!(f.state)).toBe(600);
    f.clock.advance(590);
    expect(wmsEvents.tick!(f.state)).toBe(50);
    const before = wmsEvents.position(f.state);
    f.clock.advance(10);
    expect(wmsEvents.tick!(f.state)).toBe(1_000);
    expect(wmsEvents.since(f.state, before).map((e) => e.type)).toEqual(['inventory.changed', 'reservation.expired']);

    // the simulation: every 1/rate seconds, within [50 ms, 1 s]
    expect(wmsEvents.tick!(fixture({ changeRatePerSecond: 5 }).state)).toBe(200);
    expect(wmsEvents.tick!(fixture({ changeRatePerSecond: 100 }).state)).toBe(50);
    expect(wmsEvents.tick!(fixture({ changeRatePerSecond: 0.1 }).state)).toBe(1_000);
    const simulated = fixture({ changeRatePerSecond: 2 });
    const start = wmsEvents.position(simulated.state);
    simulated.clock.advance(10_000);
    expect(wmsEvents.tick!(simulated.state)).toBe(500);
    expect(wmsEvents.since(simulated.state, start).length).toBeGreaterThan(15);
  });
});
