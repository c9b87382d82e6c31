/**
 * Reservation expiry (systems.wms.reservationTtl): an active hold lapses at its expiresAt, gives its stock back
 * and says so in GET and the change feed; a shipment under way stops the clock. Expiry happens lazily before
 * each request, so these tests move a ManualClock and look, and check that looking in between changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/util/clock.js';
import { call, json, start } from '../../helpers.js';
import { callChecked, snapshot, wms, type Fixture } from './fixtures.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;

interface Change {
  seq: number;
  entity: string;
  id: string;
  updatedAt: string;
  data: any;
}

/** SKU-n whose first warehouse has at least `min` units available. */
function skuWithStock(f: Fixture, min: number): string {
  for (let i = 0; i < f.state.skuCount; i++) {
    if (f.state.availableAt(f.state.cell(i, 0)) >= min) return `SKU-${i + 1}`;
  }
  throw new Error('no SKU with enough stock');
}

async function reserve(f: Fixture, externalOrderId: string, sku: string, quantity = 3) {
  const result = await callChecked(f, 'createReservation', { body: { externalOrderId, lines: [{ sku, quantity, warehouseId: 'WH-RTM-01' }] } });
  expect(result.status).toBe(201);
  return result.body;
}

async function inventory(f: Fixture, sku: string) {
  return (await callChecked(f, 'getInventory', { params: { sku } })).body;
}

async function reservation(f: Fixture, id: string) {
  return (await callChecked(f, 'getReservation', { params: { reservationId: id } })).body;
}

/** Every change after `cursor` (all of them without one), paging to the end. */
async function changesAfter(f: Fixture, cursor?: string): Promise<{ changes: Change[]; cursor: string }> {
  const changes: Change[] = [];
  for (;;) {
    const result = await callChecked(f, 'listChanges', { query: { limit: 1000, ...(cursor ? { cursor } : {}) } });
    expect(result.status).toBe(200);
    changes.push(...result.body.changes);
    cursor = result.body.nextCursor as string;
    if (!result.body.hasMore) return { changes, cursor };
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('reservation expiry', () => {
  it('releases an active hold at expiresAt: status expired, stock back, both in the feed stamped at expiresAt', async () => {
    const f = wms({ reservationTtlMs: HOUR });
    const t0 = f.clock.now();
    const sku = skuWithStock(f, 5);
    const before = await inventory(f, sku);
    const { cursor } = await changesAfter(f);

    const created = await reserve(f, 'SO-EXP-1', sku, 5);
    expect(created.expiresAt).toBe(iso(t0 + HOUR));
    expect((await inventory(f, sku)).available).toBe(before.available - 5);

    f.clock.advance(HOUR - 1);
    expect((await reservation(f, created.id)).status).toBe('active');

    // long past the deadline: the expiry is still dated at the deadline, not at the read
    f.clock.advance(3 * HOUR);
    const expired = await reservation(f, created.id);
    expect(expired).toMatchObject({ status: 'expired', expiresAt: iso(t0 + HOUR), updatedAt: iso(t0 + HOUR), releasedAt: null, version: 2 });
    const after = await inventory(f, sku);
    expect(after).toMatchObject({ available: before.available, reserved: before.reserved, onHand: before.onHand, updatedAt: iso(t0 + HOUR) });

    const { changes } = await changesAfter(f, cursor);
    expect(changes.map((c) => [c.entity, c.id, c.updatedAt])).toEqual([
      ['inventory', sku, iso(t0 + HOUR)],
      ['reservation', created.id, iso(t0 + HOUR)],
    ]);
    expect(changes[1].data).toEqual(expired);
  });

  it('expires holds in deadline order, each at its own deadline', async () => {
    const f = wms({ reservationTtlMs: HOUR });
    const t0 = f.clock.now();
    const sku = skuWithStock(f, 9);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await reserve(f, `SO-ORD-${i}`, sku)).id);
      f.clock.advance(10 * MINUTE);
    }
    const { cursor } = await changesAfter(f);
    f.clock.advance(5 * HOUR);
    const { changes } = await changesAfter(f, cursor);
    const reservations = changes.filter((c) => c.entity === 'reservation');
    expect(reservations.map((c) => [c.id, c.data.status, c.updatedAt])).toEqual([
      [ids[0], 'expired', iso(t0 + HOUR)],
      [ids[1], 'expired', iso(t0 + HOUR + 10 * MINUTE)],
      [ids[2], 'expired', iso(t0 + HOUR + 20 * MINUTE)],
    ]);
    expect((await inventory(f, sku)).reserved).toBe(0);
  });

  it('gives the same state whether or not anything was read on the way (with the stock simulation running)', async () => {
    const script = async (readEveryMs: number | undefined) => {
      const f = wms({ seed: 11, skus: 200, reservationTtlMs: HOUR, changeRatePerSecond: 0.5 });
      const sku = skuWithStock(f, 20);
      await reserve(f, 'SO-D-1', sku, 4);
      f.clock.advance(7 * MINUTE);
      await reserve(f, 'SO-D-2', 'SKU-1', 1);
      f.clock.advance(13 * MINUTE);
      await reserve(f, 'SO-D-3', sku, 2);
      // two hours pass: either in one step or with a read every few minutes
      const end = f.clock.now() + 2 * HOUR;
      if (readEveryMs !== undefined) {
        while (f.clock.now() + readEveryMs < end) {
          f.clock.advance(readEveryMs);
          await f.call('getInventory', { params: { sku } });
        }
      }
      f.clock.set(end);
      const { changes } = await changesAfter(f);
      const list = (await callChecked(f, 'listReservations', {})).body;
      return { changes, list, onHand: Array.from(f.state.onHand), reserved: Array.from(f.state.reserved) };
    };
    const straight = await script(undefined);
    const watched = await script(7 * MINUTE + 3);
    expect(straight.list.reservations.map((r: any) => r.status)).toEqual(['expired', 'expired', 'expired']);
    expect(watched).toEqual(straight);
  });

  it('answers releasing an expired reservation with 200 and it unchanged, and refuses to ship it', async () => {
    const f = wms({ reservationTtlMs: HOUR });
    const sku = skuWithStock(f, 3);
    const created = await reserve(f, 'SO-EXP-2', sku);
    f.clock.advance(HOUR);
    const expired = await reservation(f, created.id);
    expect(expired.status).toBe('expired');
    const before = snapshot(f.state);

    const released = await callChecked(f, 'releaseReservation', { params: { reservationId: created.id } });
    expect(released.status).toBe(200);
    expect(released.body).toEqual(expired);
    expect(released.effects ?? []).toEqual([]);

    const ship = await callChecked(f, 'createShipment', { body: { reservationId: created.id } });
    expect(ship.status).toBe(409);
    expect(ship.body).toMatchObject({ type: 'urn:understudy:problem:reservation-not-active', reservationStatus: 'expired' });

    const repeat = await callChecked(f, 'createReservation', { body: { externalOrderId: 'SO-EXP-2', lines: [{ sku, quantity: 3, warehouseId: 'WH-RTM-01' }] } });
    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(expired);
    expect(snapshot(f.state)).toEqual(before);
  });

  it('lists expired reservations under status=expired', async () => {
    const f = wms({ reservationTtlMs: HOUR });
    const sku = skuWithStock(f, 6);
    const a = await reserve(f, 'SO-L-1', sku);
    f.clock.advance(HOUR / 2);
    const b = await reserve(f, 'SO-L-2', sku);
    f.clock.advance(HOUR / 2);
    const expired = await callChecked(f, 'listReservations', { query: { status: 'expired' } });
    expect(expired.body.reservations.map((r: any) => r.id)).toEqual([a.id]);
    const active = await callChecked(f, 'listReservations', { query: { status: 'active' } });
    expect(active.body.reservations.map((r: any) => r.id)).toEqual([b.id]);
  });

  it('stops the clock while a shipment is under way; cancelling it gives the hold a fresh TTL', async () => {
    const f = wms({ reservationTtlMs: HOUR });
    const sku = skuWithStock(f, 3);
    const created = await reserve(f, 'SO-SHIP-1', sku);
    f.clock.advance(30 * MINUTE);
    const shipment = (await callChecked(f, 'createShipment', { body: { reservationId: created.id } })).body;
    expect(await reservation(f, created.id)).toMatchObject({ status: 'active', expiresAt: null, shipmentId: shipment.id });
    await callChecked(f, 'updateShipmentStatus', { params: { shipmentId: shipment.id }, body: { status: 'picked' } });

    // far beyond the original deadline: the pick is in progress, the hold stays
    f.clock.advance(5 * HOUR);
    const held = await reservation(f, created.id);
    expect(held).toMatchObject({ status: 'active', expiresAt: null });
    const reservedWhileShipping = (await inventory(f, sku)).reserved;
    expect(reservedWhileShipping).toBe(3);

    const cancelledAt = f.clock.now();
    await callChecked(f, 'updateShipmentStatus', { params: { shipmentId: shipment.id }, body: { status: 'cancelled' } });
    expect(await reservation(f, created.id)).toMatchObject({ status: 'active', shipmentId: null, expiresAt: iso(cancelledAt + HOUR) });

    f.clock.advance(HOUR - 1);
    expect((await reservation(f, created.id)).status).toBe('active');
    f.clock.advance(1);
    expect(await reservation(f, created.id)).toMatchObject({ status: 'expired', expiresAt: iso(cancelledAt + HOUR) });
    expect((await inventory(f, sku)).reserved).toBe(0);
  });

  it('never expires a shipped (fulfilled) reservation nor gives its stock back', async () => {
    const f = wms({ reservationTtlMs: HOUR });
    const sku = skuWithStock(f, 3);
    const before = await inventory(f, sku);
    const created = await reserve(f, 'SO-SHIP-2', sku);
    const shipment = (await callChecked(f, 'createShipment', { body: { reservationId: created.id } })).body;
    for (const status of ['picked', 'packed', 'shipped']) {
      await callChecked(f, 'updateShipmentStatus', { params: { shipmentId: shipment.id }, body: { status } });
    }
    f.clock.advance(10 * HOUR);
    expect((await reservation(f, created.id)).status).toBe('fulfilled');
    const after = await inventory(f, sku);
    expect(after.onHand).toBe(before.onHand - 3);
    expect(after.reserved).toBe(before.reserved);
  });

  it('gives a released hold its stock back once, not again at its deadline', async () => {
    const f = wms({ reservationTtlMs: HOUR });
    const sku = skuWithStock(f, 3);
    const before = await inventory(f, sku);
    const created = await reserve(f, 'SO-REL-1', sku);
    f.clock.advance(10 * MINUTE);
    await callChecked(f, 'releaseReservation', { params: { reservationId: created.id } });
    const released = await reservation(f, created.id);
    const afterRelease = snapshot(f.state);
    f.clock.advance(2 * HOUR);
    expect(await reservation(f, created.id)).toEqual(released);
    expect(released.status).toBe('released');
    expect((await inventory(f, sku)).available).toBe(before.available);
    expect(snapshot(f.state)).toEqual(afterRelease);
  });

  it('never expires anything with a TTL of 0, and says so with expiresAt null', async () => {
    const f = wms({ reservationTtlMs: 0 });
    const sku = skuWithStock(f, 3);
    const created = await reserve(f, 'SO-NEVER', sku);
    expect(created.expiresAt).toBeNull();
    f.clock.advance(365 * 24 * HOUR);
    expect(await reservation(f, created.id)).toMatchObject({ status: 'active', expiresAt: null });
  });

  it('keeps its deadline queue proportional to the holds that can still expire', async () => {
    const f = wms({ reservationTtlMs: 24 * HOUR });
    const sku = skuWithStock(f, 1);
    for (let i = 0; i < 5000; i++) {
      const r = await reserve(f, `SO-Q-${i}`, sku, 1);
      await f.call('releaseReservation', { params: { reservationId: r.id } });
    }
    const queue = (f.state as unknown as { expiry: { queue: { length: number } } }).expiry.queue;
    expect(queue.length).toBeLessThan(2100);
  });
});

describe('reservation expiry over HTTP', () => {
  it('defaults to 24 hours and shows the expiry through GET', async () => {
    const clock = new ManualClock(Date.UTC(2026, 3, 1, 12, 0, 0));
    const server = await start({ clock, systems: { wms: { skus: 50 } } });
    const short = await start({ clock, systems: { wms: { skus: 50, reservationTtlMs: 15 * MINUTE } } });
    const order = { externalOrderId: 'SF-EXP-1', lines: [{ sku: 'SKU-1', quantity: 1 }] };

    const daily = await call(`${server.url}/wms/v1/reservations`, json(order));
    expect(daily.status).toBe(201);
    expect(daily.body.expiresAt).toBe(iso(clock.now() + 24 * HOUR));

    const created = await call(`${short.url}/wms/v1/reservations`, json(order));
    expect(created.body.expiresAt).toBe(iso(clock.now() + 15 * MINUTE));
    clock.advance(15 * MINUTE);
    const got = await call(`${short.url}/wms/v1/reservations/${created.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ status: 'expired', updatedAt: created.body.expiresAt });
    expect((await call(`${server.url}/wms/v1/reservations/${daily.body.id}`)).body.status).toBe('active');

    // the engine checked the expired reservation against the contract too
    const journal = await call(`${short.url}/__admin/journal?operation=getReservation`);
    expect(journal.body.entries[0].contract).toMatchObject({ valid: true });
  });
});
