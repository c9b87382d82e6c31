/**
 * Snapshots (snapshot.ts): a restored state must answer and behave exactly as the original from then on, and
 * anything that is not a snapshot of this state's kind, version and options must be refused with a clear error.
 *
 * The equivalence checks drive the real handlers with a seeded pseudo-random script of writes and clock moves
 * (forward, far forward, and back), with expiries, background changes and pruning all happening, and compare
 * every read and every write's answer of the original and of its restored copies. The last describe block
 * proves those checks can fail: it takes snapshots that lost one part and expects the comparison to notice.
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { serialize } from 'node:v8';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RestRequest, RestResult } from '../../../src/protocols/rest/handler.js';
import { ChangeLog } from '../../../src/systems/wms/change-log.js';
import { encodeCursor } from '../../../src/systems/wms/cursor.js';
import { ReservationExpiry } from '../../../src/systems/wms/expiry.js';
import { createWmsSystem, type WmsOptions } from '../../../src/systems/wms/index.js';
import { RecordTable } from '../../../src/systems/wms/record-table.js';
import { allowedTransitions } from '../../../src/systems/wms/shipment-lifecycle.js';
import { StockSimulation } from '../../../src/systems/wms/simulation.js';
import { FORMAT_VERSION, restoreWms, snapshotWms } from '../../../src/systems/wms/snapshot.js';
import {
  reservationIdOf,
  shipmentIdOf,
  WmsState,
  type StoredReservation,
  type StoredShipment,
  type WmsStateOptions,
} from '../../../src/systems/wms/state.js';
import { ManualClock } from '../../../src/util/clock.js';
import { randomInt, seededRandom } from '../../../src/util/seeded-random.js';
import { drain } from './fixtures.js';

const SEED = 11;
const START = Date.UTC(2026, 2, 1, 9, 0, 0);
/** Few SKUs (so writes collide), a simulated change every 5 s, holds of 45 s, and at most 6 finished records. */
const SYSTEM: WmsOptions = { skus: 40, warehouses: 3, changeRatePerSecond: 0.2, reservationTtlMs: 45_000, maxObjects: 6 };
const WAREHOUSES = ['WH-RTM-01', 'WH-ATL-01', 'WH-SIN-01'];
const system = createWmsSystem(SYSTEM);

function stateOptions(clock: ManualClock, overrides: Partial<WmsStateOptions> = {}): WmsStateOptions {
  return {
    seed: SEED,
    clock,
    skuCount: SYSTEM.skus,
    warehouseCount: SYSTEM.warehouses,
    changeRatePerSecond: SYSTEM.changeRatePerSecond,
    reservationTtlMs: SYSTEM.reservationTtlMs,
    maxObjects: SYSTEM.maxObjects,
    ...overrides,
  };
}

/** A state on its own clock, called through the handlers as the REST engine calls them (with catch-up). */
interface Driver {
  state: WmsState;
  clock: ManualClock;
}

function fresh(): Driver {
  const clock = new ManualClock(START);
  return { state: system.createState({ seed: SEED, clock }), clock };
}

function restored(snapshot: Buffer, at: number): Driver {
  const clock = new ManualClock(at);
  return { state: restoreWms(snapshot, stateOptions(clock)), clock };
}

/** What a call answers, streams drained, so that two answers can be compared. */
async function call(d: Driver, operationId: string, parts: Partial<Pick<RestRequest, 'params' | 'query' | 'body'>> = {}): Promise<unknown> {
  const req: RestRequest = {
    operationId,
    params: parts.params ?? {},
    query: parts.query ?? {},
    headers: {},
    // each state gets its own copy: a stored shipTo is the request's object
    body: structuredClone(parts.body),
    client: 'test',
    workspace: 'default',
    baseUrl: '/wms/v1',
  };
  const { stream, ...result }: RestResult = await system.handlers[operationId](req, d.state);
  return stream === undefined ? result : { ...result, streamed: await drain(stream) };
}

// --- the script ------------------------------------------------------------------------------------------------

/** One step: a clock move, then a write. */
interface Step {
  clock: { advance: number } | { back: number };
  operationId: string;
  parts: Partial<Pick<RestRequest, 'params' | 'query' | 'body'>>;
}

/** Step k: a pure function of k and of the reference state (which ids exist, and in which status). */
function plan(k: number, reference: WmsState): Step {
  const next = seededRandom(SEED, 'script', k);
  const roll = next();
  // mostly a few seconds; now and then past the TTL, or ten hours (more simulated changes than one catch-up applies), or back
  const clock =
    roll < 0.01 ? { advance: 10 * 3_600_000 }
    : roll < 0.1 ? { advance: randomInt(next, 30_000, 90_000) }
    : roll < 0.18 ? { back: randomInt(next, 1, 8_000) }
    : { advance: randomInt(next, 0, 6_000) };
  const pick = <T>(list: T[]): T => list[randomInt(next, 0, list.length - 1)];
  // mostly an active reservation without a shipment (which can be shipped or released), else any id, the next one included
  const free = [...reference.reservations.from(0)].filter((r) => r.status === 'active' && r.shipmentIndex < 0);
  const reservationId = free.length > 0 && next() < 0.6 ? pick(free).id : reservationIdOf(randomInt(next, 0, reference.reservations.issued));
  // mostly a shipment under way, else any
  const live = [...reference.shipments.from(0)].filter((s) => allowedTransitions(s.status).length > 0);
  const shipmentNumber = live.length > 0 && next() < 0.6 ? pick(live).index : randomInt(next, 0, reference.shipments.issued);
  const op = next();

  if (op < 0.35) {
    const order = randomInt(next, 1, 30);
    // half the time an order's lines are always the same (idempotent repeats), otherwise new (conflicts)
    const linesFrom = next() < 0.5 ? seededRandom(SEED, 'lines', order) : next;
    const lines = Array.from({ length: randomInt(linesFrom, 1, 3) }, () => ({
      sku: `SKU-${randomInt(linesFrom, 1, 41)}`,
      quantity: randomInt(linesFrom, 1, 40),
      ...(linesFrom() < 0.5 ? { warehouseId: WAREHOUSES[randomInt(linesFrom, 0, 2)] } : {}),
    }));
    return { clock, operationId: 'createReservation', parts: { body: { externalOrderId: `SO-${order}`, lines } } };
  }
  if (op < 0.47) return { clock, operationId: 'releaseReservation', parts: { params: { reservationId } } };
  if (op < 0.62) {
    const shipTo = next() < 0.5 ? { name: 'Ada', line1: 'Keizersgracht 1', city: 'Amsterdam', postalCode: '1015', countryCode: 'NL' } : undefined;
    // every other step a service too (by k, not by a draw: the steps after this one stay as they were)
    const service = k % 2 === 0 ? { service: 'express' } : {};
    return { clock, operationId: 'createShipment', parts: { body: { reservationId, carrier: 'DHL', ...service, ...(shipTo ? { shipTo } : {}) } } };
  }
  if (op < 0.85) {
    // mostly a move the lifecycle allows, so that shipments get delivered and cancelled
    const current = reference.shipments.get(shipmentNumber)?.status;
    const allowed = current === undefined ? [] : allowedTransitions(current);
    // allowed[0] is the next step forward
    const roll = next();
    const status =
      allowed.length > 0 && roll < 0.9 ? allowed[roll < 0.75 ? 0 : allowed.length - 1] : ['picked', 'shipped', 'cancelled'][randomInt(next, 0, 2)];
    const body = next() < 0.3 ? { status, trackingNumber: `TRK${k}` } : { status };
    return { clock, operationId: 'updateShipmentStatus', parts: { params: { shipmentId: shipmentIdOf(shipmentNumber) }, body } };
  }
  const adjustments = Array.from({ length: randomInt(next, 1, 4) }, () => ({
    sku: `SKU-${randomInt(next, 1, 41)}`,
    warehouseId: WAREHOUSES[randomInt(next, 0, 2)],
    delta: randomInt(next, -150, 80),
    reason: 'cycle-count',
  }));
  return { clock, operationId: 'adjustStock', parts: { body: { adjustments }, query: next() < 0.4 ? { allOrNone: true } : {} } };
}

async function apply(d: Driver, step: Step): Promise<unknown> {
  if ('back' in step.clock) d.clock.set(d.clock.now() - step.clock.back);
  else d.clock.advance(step.clock.advance);
  return call(d, step.operationId, step.parts);
}

/** Every read the API offers over the state, keyed by what was read. */
async function readAll(d: Driver): Promise<Map<string, unknown>> {
  const reads = new Map<string, unknown>();
  const read = async (name: string, operationId: string, parts?: Partial<Pick<RestRequest, 'params' | 'query' | 'body'>>) => {
    reads.set(name, await call(d, operationId, parts));
  };
  const { state } = d;

  // the change feed from the start, page by page, and from cursors part-way, at the horizon and by time
  let cursor: string | undefined;
  for (let page = 0; ; page++) {
    const result = (await call(d, 'listChanges', { query: { limit: 25, ...(cursor ? { cursor } : {}) } })) as { body: { hasMore: boolean; nextCursor: string } };
    reads.set(`listChanges page ${page}`, result);
    if (!result.body.hasMore) break;
    cursor = result.body.nextCursor;
  }
  for (const seq of [Math.floor(state.changes.latestSeq / 2), state.changes.horizon, state.changes.latestSeq - 3]) {
    await read(`listChanges after ${seq}`, 'listChanges', { query: { cursor: encodeCursor('changes', Math.max(0, seq)), limit: 1000 } });
  }
  await read('listChanges since 2 min ago', 'listChanges', { query: { updatedSince: new Date(d.clock.now() - 120_000).toISOString(), limit: 1000 } });

  cursor = undefined;
  for (let page = 0; ; page++) {
    const result = (await call(d, 'listReservations', { query: { limit: 4, ...(cursor ? { cursor } : {}) } })) as { body: { nextCursor: string | null } };
    reads.set(`listReservations page ${page}`, result);
    if (result.body.nextCursor === null) break;
    cursor = result.body.nextCursor;
  }
  for (const status of ['active', 'released', 'expired', 'fulfilled']) await read(`listReservations ${status}`, 'listReservations', { query: { status } });
  for (let order = 1; order <= 30; order++) await read(`listReservations SO-${order}`, 'listReservations', { query: { externalOrderId: `SO-${order}` } });

  // every id ever issued, pruned ones included, and the next one
  for (let i = 0; i <= state.reservations.issued; i++) {
    const id = reservationIdOf(i);
    await read(`getReservation ${id}`, 'getReservation', { params: { reservationId: id } });
    reads.set(`wasPruned ${id}`, state.wasPruned('reservation', id));
  }
  for (let i = 0; i <= state.shipments.issued; i++) {
    const id = shipmentIdOf(i);
    await read(`getShipment ${id}`, 'getShipment', { params: { shipmentId: id } });
    reads.set(`wasPruned ${id}`, state.wasPruned('shipment', id));
  }

  for (let sku = 1; sku <= SYSTEM.skus; sku++) await read(`getInventory SKU-${sku}`, 'getInventory', { params: { sku: `SKU-${sku}` } });
  for (const sku of ['SKU-1', 'SKU-40']) await read(`getItem ${sku}`, 'getItem', { params: { sku } });
  for (const warehouseId of WAREHOUSES) await read(`listWarehouseStock ${warehouseId}`, 'listWarehouseStock', { params: { warehouseId }, query: { limit: 1000 } });
  await read('exportInventory', 'exportInventory', { query: { format: 'csv' } });

  reads.set('simulation', state.simulationSettings());
  reads.set('counts', {
    latestSeq: state.changes.latestSeq,
    horizon: state.changes.horizon,
    appendedLength: state.changes.appendedLength,
    retired: state.retiredCount,
    reservations: [state.reservations.size, state.reservations.issued],
    shipments: [state.shipments.size, state.shipments.issued],
  });
  return reads;
}

/** Names of the reads in which two states differ. */
function differences(expected: Map<string, unknown>, actual: Map<string, unknown>): string[] {
  const names = new Set([...expected.keys(), ...actual.keys()]);
  return [...names].filter((name) => !isDeepStrictEqual(expected.get(name), actual.get(name)));
}

/**
 * Compares every read of the original and each copy, runs steps [from, to) on all of them, moves every clock on
 * by `idle` ms and compares again; returns where any copy answered differently: a read (before or after), a
 * write's answer, or the state's snapshot.
 */
async function continueAndCompare(original: Driver, copies: Driver[], from: number, to: number, idle = 0): Promise<string[]> {
  const before = await readAll(original);
  const diverged: string[] = [];
  for (const copy of copies) diverged.push(...differences(before, await readAll(copy)).map((name) => `before: ${name}`));
  for (let k = from; k < to; k++) {
    const step = plan(k, original.state);
    const expected = await apply(original, step);
    for (const copy of copies) {
      if (!isDeepStrictEqual(await apply(copy, step), expected)) diverged.push(`step ${k} ${step.operationId}`);
    }
  }
  for (const d of [original, ...copies]) d.clock.advance(idle);
  // pending expiries and simulated changes included: taken before the reads catch up
  const bytes = snapshotWms(original.state);
  for (const copy of copies) if (!snapshotWms(copy.state).equals(bytes)) diverged.push('snapshot');
  const reads = await readAll(original);
  for (const copy of copies) diverged.push(...differences(reads, await readAll(copy)));
  return diverged;
}

async function run(d: Driver, from: number, to: number): Promise<void> {
  for (let k = from; k < to; k++) await apply(d, plan(k, d.state));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a restored state', () => {
  it('answers every read and every later write exactly as the original', async () => {
    const original = fresh();
    const copies: Driver[] = [];
    const seen = new Set<string>();
    let k = 0;
    // where to snapshot, and how the clock moves just before: forward leaves expiries and simulated changes due
    // but not yet applied; back leaves the clock behind the last stamp
    for (const [until, move] of [[30, 50_000], [90, -5_000], [170, 50_000], [260, 120_000], [320, -3_000]]) {
      // the copies restored so far go through the same steps as the original
      for (; k < until; k++) {
        const step = plan(k, original.state);
        const expected = (await apply(original, step)) as { status: number };
        for (const [i, copy] of copies.entries()) expect(await apply(copy, step), `step ${k} on copy ${i}`).toStrictEqual(expected);
        seen.add(`${step.operationId} ${expected.status}`);
        for (const r of original.state.reservations.from(0)) seen.add(`reservation ${r.status}${r.status === 'active' && r.expiresAt !== null ? ' holding' : ''}`);
        for (const s of original.state.shipments.from(0)) seen.add(`shipment ${s.status}`);
      }
      if (original.state.changes.horizon > 0) seen.add('pruned');

      for (const d of [original, ...copies]) d.clock.set(d.clock.now() + move);
      const bytes = snapshotWms(original.state);
      for (const copy of copies) expect(snapshotWms(copy.state).equals(bytes)).toBe(true);
      copies.push(restored(bytes, original.clock.now()));
      expect(snapshotWms(restoreWms(bytes, stateOptions(new ManualClock()))).equals(bytes)).toBe(true);

      const reads = await readAll(original);
      for (const copy of copies) expect(differences(reads, await readAll(copy))).toEqual([]);
    }

    // the script did exercise what a snapshot must carry
    expect([...seen]).toEqual(
      expect.arrayContaining([
        'createReservation 201', 'createReservation 200', 'createReservation 409', 'createReservation 422',
        'releaseReservation 200', 'releaseReservation 404', 'createShipment 201', 'createShipment 409',
        'updateShipmentStatus 200', 'updateShipmentStatus 409', 'adjustStock 200', 'adjustStock 422',
        'reservation active holding', 'reservation active', 'reservation released', 'reservation expired', 'reservation fulfilled',
        'shipment created', 'shipment picked', 'shipment shipped', 'shipment delivered', 'shipment cancelled', 'pruned',
      ]),
    );
    const { state } = original;
    expect(Array.from({ length: state.reservations.issued }, (_, i) => state.reservations.wasRemoved(i))).toContain(true);
    expect(Array.from({ length: state.shipments.issued }, (_, i) => state.shipments.wasRemoved(i))).toContain(true);
    // background changes: far more inventory versions than the writes made
    expect(state.version.reduce((sum, v) => sum + v - 1, 0)).toBeGreaterThan(1_000);
  });

  it('gives back identical bytes when snapshotted again, and keeps shared objects shared', async () => {
    const original = fresh();
    let shared = 0;
    for (let k = 0; k < 300; k += 10) {
      await run(original, k, k + 10);
      const bytes = snapshotWms(original.state);
      const copy = restoreWms(bytes, stateOptions(new ManualClock(original.clock.now())));
      expect(snapshotWms(copy).equals(bytes)).toBe(true);

      for (const shipment of copy.shipments.from(0)) {
        const reservation = copy.reservations.get(shipment.reservationIndex);
        if (reservation === undefined) continue;
        expect(shipment.allocations).toBe(reservation.allocations);
        shared++;
      }
      for (const reservation of copy.reservations.from(0)) expect(copy.reservationFor(reservation.externalOrderId)).toBe(reservation);
    }
    expect(shared).toBeGreaterThan(0);
  });

  it('depends on what records hold, not on how V8 happens to store their arrays', async () => {
    const original = fresh();
    await run(original, 0, 100);
    const bytes = snapshotWms(original.state);
    // the same lines in a holey array, as Array.prototype.map returns once the JIT has optimised the handler
    const reservation = [...original.state.reservations.from(0)].find((r) => r.lines.length > 0)!;
    const holey = new Array(reservation.lines.length);
    reservation.lines.forEach((line, i) => (holey[i] = line));
    reservation.lines = holey;
    expect(snapshotWms(original.state).equals(bytes)).toBe(true);
  });

  it('runs on the caller\'s clock', async () => {
    const original = fresh();
    await run(original, 0, 40);
    const clock = new ManualClock(original.clock.now());
    const copy = restoreWms(snapshotWms(original.state), stateOptions(clock));
    expect(copy.clock).toBe(clock);
    // simulated changes fall due by the new clock, counted from when the original started
    const before = copy.changes.latestSeq;
    clock.advance(60_000);
    copy.catchUp();
    expect(copy.changes.latestSeq).toBeGreaterThan(before);
  });

  it('keeps a simulation an admin changed: its rate as written, a pause, and the changes made before', async () => {
    const original = fresh();
    const command = (input: unknown) => (d: Driver) => system.applyCommand!(d.state, 'simulation', input);
    const copies: Driver[] = [];
    let k = 0;
    // the configured 0.2/s, then faster (as written), paused, and running again at another rate
    for (const [until, change] of [[40, { rate: '90/m' }], [80, { running: false }], [120, { rate: '3/s', running: true }], [160, { rate: '0.5/s' }]] as const) {
      expect(await continueAndCompare(original, copies, k, until, 20_000)).toEqual([]);
      k = until;
      for (const d of [original, ...copies]) command(change)(d);
      copies.push(restored(snapshotWms(original.state), original.clock.now()));
    }
    expect(original.state.simulationSettings()).toEqual({ running: true, rate: '0.5/s' });
    expect(await continueAndCompare(original, copies, k, k + 40, 50_000)).toEqual([]);
  });

  it('keeps a simulation an admin started where none was configured', async () => {
    const options = (clock: ManualClock) => stateOptions(clock, { changeRatePerSecond: undefined });
    const clock = new ManualClock(START);
    const original = { state: new WmsState(options(clock)), clock };
    expect(original.state.simulationSettings()).toEqual({ running: false, rate: '0/s' });
    clock.advance(1_000);
    original.state.configureSimulation({ rate: { perSecond: 2, text: '2/s' } });
    clock.advance(30_000);
    const bytes = snapshotWms(original.state);
    const copyClock = new ManualClock(clock.now());
    const copy = { state: restoreWms(bytes, options(copyClock)), clock: copyClock };
    expect(copy.state.simulationSettings()).toEqual({ running: true, rate: '2/s' });
    expect(await continueAndCompare(original, [copy], 0, 40, 30_000)).toEqual([]);
  });

  it('shares nothing with the snapshot buffer or with another state restored from it', async () => {
    const original = fresh();
    await run(original, 0, 120);
    const bytes = snapshotWms(original.state);
    const first = restored(bytes, original.clock.now());
    const second = restored(bytes, original.clock.now());
    bytes.fill(0);
    expect(await continueAndCompare(original, [first], 120, 160)).toEqual([]);
    // the second saw none of that
    const reference = fresh();
    await run(reference, 0, 120);
    expect(await continueAndCompare(reference, [second], 120, 130)).toEqual([]);
  });

  it('lists only the SKUs that changed while few did, and all columns once most have', () => {
    const clock = new ManualClock(START);
    const options = { seed: SEED, clock, skuCount: 100_000, warehouseCount: 3 };
    const state = new WmsState(options);
    for (let sku = 0; sku < 50; sku++) state.touchSku(sku * 1000, state.stamp());
    const sparse = snapshotWms(state);
    // 100,000 SKUs of whole columns would be 4.4 MB
    expect(sparse.length).toBeLessThan(20_000);
    expect(snapshotWms(restoreWms(sparse, options)).equals(sparse)).toBe(true);

    for (let sku = 0; sku < 100_000; sku++) state.touchSku(sku, state.stamp());
    const dense = snapshotWms(state);
    expect(dense.length).toBeGreaterThan(4_400_000);
    const copy = restoreWms(dense, options);
    expect(snapshotWms(copy).equals(dense)).toBe(true);
    // whole columns are the state's own, not views of the snapshot
    dense.fill(0);
    expect(copy.version).toEqual(state.version);
    expect(copy.onHand).toEqual(state.onHand);
    expect(copy.skuSeq).toEqual(state.skuSeq);
  });

  it('keeps a direct change of stock that bypassed the version (as tests make)', () => {
    const clock = new ManualClock(START);
    const options = { seed: SEED, clock, skuCount: 50, warehouseCount: 3 };
    const state = new WmsState(options);
    state.onHand[state.cell(7, 1)] = 12_345;
    expect(restoreWms(snapshotWms(state), options).onHand).toEqual(state.onHand);
  });

  it('keeps allocations shared between shipments when their reservation holds other ones', async () => {
    // a shipment made, cancelled, and made again: both shipments hold the reservation's allocations
    const d = fresh();
    await call(d, 'createReservation', { body: { externalOrderId: 'SO-X', lines: [{ sku: 'SKU-1', quantity: 2 }, { sku: 'SKU-2', quantity: 1 }] } });
    const reservation = d.state.reservationFor('SO-X')!;
    await call(d, 'createShipment', { body: { reservationId: reservation.id, carrier: 'DHL' } });
    await call(d, 'updateShipmentStatus', { params: { shipmentId: shipmentIdOf(0) }, body: { status: 'cancelled' } });
    await call(d, 'createShipment', { body: { reservationId: reservation.id, carrier: 'DHL' } });
    // a direct change, as tests make: the reservation now holds an equal copy, the shipments still share the original
    const allocations = reservation.allocations;
    reservation.allocations = structuredClone(allocations);

    const bytes = snapshotWms(d.state);
    const copy = restoreWms(bytes, stateOptions(new ManualClock(d.clock.now())));
    const [first, second] = [copy.shipments.get(0)!, copy.shipments.get(1)!];
    expect(second.allocations).toBe(first.allocations);
    expect(first.allocations).not.toBe(copy.reservations.get(reservation.index)!.allocations);
    expect(first.allocations).toEqual(allocations);
    expect(snapshotWms(copy).equals(bytes)).toBe(true);
  });

  it('restores from a buffer at any place in memory (columns that cannot be read in place are copied)', async () => {
    const original = fresh();
    await run(original, 0, 120);
    const bytes = snapshotWms(original.state);
    const unaligned = Buffer.alloc(bytes.length + 1).subarray(1);
    expect(unaligned.byteOffset % 8).not.toBe(0);
    bytes.copy(unaligned);
    const copy = restored(unaligned, original.clock.now());
    expect(snapshotWms(copy.state).equals(bytes)).toBe(true);
    unaligned.fill(0);
    expect(await continueAndCompare(original, [copy], 120, 160)).toEqual([]);
  });
});

describe('refusing what it cannot restore', () => {
  async function aSnapshot(): Promise<Buffer> {
    const d = fresh();
    await run(d, 0, 60);
    return snapshotWms(d.state);
  }
  const options = () => stateOptions(new ManualClock(START));

  it('refuses a buffer that is not a WMS snapshot', () => {
    const next = seededRandom(SEED, 'garbage');
    const garbage = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(next() * 256)));
    for (const buffer of [garbage, Buffer.alloc(0), Buffer.from('{"kind":"wms"}')]) {
      expect(() => restoreWms(buffer, options())).toThrow(/^wms snapshot: not a WMS snapshot/);
    }
  });

  it('refuses a truncated snapshot', async () => {
    const bytes = await aSnapshot();
    expect(() => restoreWms(bytes.subarray(0, bytes.length - 1), options())).toThrow(/^wms snapshot: truncated \(\d+ of \d+ payload bytes\)/);
    expect(() => restoreWms(bytes.subarray(0, 100), options())).toThrow(/truncated/);
    expect(() => restoreWms(bytes.subarray(0, 12), options())).toThrow(/truncated .*header/);
  });

  it('refuses a corrupted snapshot', async () => {
    const bytes = await aSnapshot();
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(flipped.length / 2)] ^= 0x40;
    expect(() => restoreWms(flipped, options())).toThrow('wms snapshot: corrupt (checksum mismatch)');
    expect(() => restoreWms(Buffer.concat([bytes, Buffer.from([0])]), options())).toThrow(/corrupt/);
  });

  it('refuses a well-framed snapshot whose content is not a state', async () => {
    const bytes = await aSnapshot();
    const next = seededRandom(SEED, 'garbage payload');
    const garbage = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(next() * 256)));
    expect(() => restoreWms(reframed(bytes, garbage), options())).toThrow(/^wms snapshot: corrupt \(/);
    expect(() => restoreWms(reframed(bytes, Buffer.from([2, 0, 0, 0, 0x7b, 0x7d])), options())).toThrow('wms snapshot: corrupt (the document lists no strings or no columns)');

    const cases: Array<[(doc: any) => void, string]> = [
      [(doc) => delete doc.changes, 'changes is missing'],
      [(doc) => (doc.columns.find((c: [string]) => c[0] === 'reservations.index')[0] = 'renamed'), 'column reservations.index is missing'],
      [(doc) => doc.columns.find((c: [string]) => c[0] === 'reservations.index')[2]++, 'the columns end at byte'],
      [(doc) => (doc.strings = []), 'is not a string'],
      [(doc) => (doc.shipTo = []), 'addresses for'],
      [(doc) => (doc.reservations.issued = 1), 'record table: bad order'],
      [(doc) => (doc.options.skuCount = 'forty'), 'the options are not recorded'],
      [(doc) => (doc.simulation = null), 'simulation missing although a rate is configured'],
      [(doc) => (doc.simulation.offset = -1), 'stock simulation: bad progress'],
      [(doc) => (doc.simulation.rate = 'fast'), 'stock simulation: bad progress'],
    ];
    for (const [change, says] of cases) {
      expect(() => restoreWms(withDocument(bytes, change), options()), says).toThrow(`wms snapshot: corrupt (`);
      expect(() => restoreWms(withDocument(bytes, change), options()), says).toThrow(says);
    }
    // the unchanged document restores: the cases fail for what they change
    expect(snapshotWms(restoreWms(withDocument(bytes, () => {}), options())).equals(bytes)).toBe(true);

    const original = fresh();
    tamper(RecordTable.prototype, (data) => ({ ...data, removedInOrder: data.removedInOrder + 1 }));
    expect(() => restoreWms(snapshotWms(original.state), options())).toThrow('wms snapshot: corrupt (record table: removed count does not match the order)');
  });

  it('refuses another format version', async () => {
    const bytes = Buffer.from(await aSnapshot());
    bytes.writeUInt32LE(FORMAT_VERSION + 1, 8);
    expect(() => restoreWms(bytes, options())).toThrow(`wms snapshot: format version ${FORMAT_VERSION + 1}, this build reads versions 2 and ${FORMAT_VERSION}`);
  });

  it('reads a format 2 snapshot (the version before runtime simulation changes) and goes on as if never stopped', () => {
    // written by the previous release: seed 9, 20 SKUs, 2 warehouses, 2 changes a second, 10 s after its start
    const bytes = readFileSync(new URL('../../fixtures/wms-snapshot-format-2.bin', import.meta.url));
    expect(bytes.readUInt32LE(8)).toBe(2);
    const started = Date.UTC(2026, 5, 1);
    const shape = { seed: 9, skuCount: 20, warehouseCount: 2, changeRatePerSecond: 2, reservationTtlMs: 0, maxObjects: 100 };
    const restoredClock = new ManualClock(started + 10_000);
    const restored = restoreWms(bytes, { ...shape, clock: restoredClock });
    const liveClock = new ManualClock(started);
    const live = new WmsState({ ...shape, clock: liveClock });
    liveClock.advance(10_000);
    live.catchUp();
    expect(Array.from(restored.onHand)).toEqual(Array.from(live.onHand));
    expect(restored.changes.latestSeq).toBe(39);
    expect(restored.simulationSettings()).toEqual({ running: true, rate: '2/s' });
    for (const clock of [restoredClock, liveClock]) clock.advance(30_000);
    restored.catchUp();
    live.catchUp();
    expect(Array.from(restored.onHand)).toEqual(Array.from(live.onHand));
    expect(restored.changes.latestSeq).toBe(live.changes.latestSeq);
  });

  it('refuses a format 1 snapshot (v8.serialize of the state) with the version message', () => {
    // framed as format 1 framed it: the same header, then V8's serialisation of the state
    const payload = serialize({ options: { seed: SEED }, stock: { skus: null }, state: { lastStamp: START } });
    const v1 = Buffer.concat([Buffer.from('USWMSNAP', 'latin1'), Buffer.alloc(12), payload]);
    v1.writeUInt32LE(1, 8);
    v1.writeUInt32LE(payload.length, 12);
    v1.writeUInt32LE(crc32(payload), 16);
    expect(FORMAT_VERSION).toBe(3);
    expect(() => restoreWms(v1, options())).toThrow('wms snapshot: format version 1, this build reads versions 2 and 3');
  });

  it.each([
    ['seed', { seed: SEED + 1 }, `seed ${SEED} (restoring with ${SEED + 1})`],
    ['skuCount', { skuCount: 41 }, 'skuCount 40 (restoring with 41)'],
    ['warehouseCount', { warehouseCount: 2 }, 'warehouseCount 3 (restoring with 2)'],
    ['changeRatePerSecond', { changeRatePerSecond: undefined }, 'changeRatePerSecond 0.2 (restoring with 0)'],
    ['reservationTtlMs', { reservationTtlMs: 60_000 }, 'reservationTtlMs 45000 (restoring with 60000)'],
    ['maxObjects', { maxObjects: undefined }, 'maxObjects 6 (restoring with Infinity)'],
  ] as const)('refuses a snapshot taken with another %s, naming it', async (_name, overrides, says) => {
    const bytes = await aSnapshot();
    expect(() => restoreWms(bytes, stateOptions(new ManualClock(START), overrides))).toThrow(`wms snapshot: taken with other options: ${says}`);
  });

  it('names every option that differs', async () => {
    const bytes = await aSnapshot();
    expect(() => restoreWms(bytes, stateOptions(new ManualClock(START), { seed: 1, skuCount: 10 }))).toThrow(
      `wms snapshot: taken with other options: seed ${SEED} (restoring with 1), skuCount 40 (restoring with 10)`,
    );
  });
});

/** `snapshot` with `payload` in place of its own, the header's length and checksum made to match. */
function reframed(snapshot: Buffer, payload: Buffer): Buffer {
  const bytes = Buffer.concat([snapshot.subarray(0, 20), payload]);
  bytes.writeUInt32LE(payload.length, 12);
  bytes.writeUInt32LE(crc32(payload), 16);
  return bytes;
}

/**
 * `snapshot` with its payload's JSON document changed by `change`, its columns as they were (re-aligned: they
 * start at the first multiple of 8 bytes after the document), framed to pass the checksum.
 */
function withDocument(snapshot: Buffer, change: (document: any) => void): Buffer {
  const aligned = (offset: number) => Math.ceil(offset / 8) * 8;
  const length = snapshot.readUInt32LE(20);
  const document = JSON.parse(snapshot.toString('utf8', 24, 24 + length));
  change(document);
  const json = Buffer.from(JSON.stringify(document));
  const documentLength = Buffer.alloc(4);
  documentLength.writeUInt32LE(json.length);
  const padding = Buffer.alloc(aligned(24 + json.length) - (24 + json.length));
  return reframed(snapshot, Buffer.concat([documentLength, json, padding, snapshot.subarray(aligned(24 + length))]));
}

/** Replaces what `proto.toData()` returns with `change(what it returned)`, until vi.restoreAllMocks(). */
function tamper<T>(proto: { toData(): T }, change: (data: T) => T): void {
  const toData = proto.toData;
  vi.spyOn(proto, 'toData').mockImplementation(function (this: unknown) {
    return change(toData.call(this));
  });
}

/** Changes the records the tables' toData() return (copies: the state's own records stay as they are). */
function tamperRecords(change: (record: StoredReservation | StoredShipment) => StoredReservation | StoredShipment): void {
  tamper(RecordTable.prototype as RecordTable<StoredReservation | StoredShipment>, (d) => ({ ...d, records: d.records.map(change) }));
}

const isReservation = (record: StoredReservation | StoredShipment): record is StoredReservation => 'linesSignature' in record;

function tamperReservations(change: (reservation: StoredReservation) => StoredReservation): void {
  tamperRecords((record) => (isReservation(record) ? change(record) : record));
}

function tamperShipments(change: (shipment: StoredShipment) => StoredShipment): void {
  tamperRecords((record) => (isReservation(record) ? record : change(record)));
}

describe('the comparison notices a snapshot that lost a part', () => {
  const emptyQueue = { items: new Float64Array(0), head: 0 };
  const sabotages: Array<[string, () => void]> = [
    ['on-hand stock', () => tamper(WmsState.prototype, (d) => ({ ...d, onHand: d.onHand.map((n) => Math.max(0, n - 1)) }))],
    ['reserved stock', () => tamper(WmsState.prototype, (d) => ({ ...d, reserved: new Int32Array(d.reserved.length) }))],
    ['SKU versions', () => tamper(WmsState.prototype, (d) => ({ ...d, version: new Uint32Array(d.version.length).fill(1) }))],
    ['SKU change times', () => tamper(WmsState.prototype, (d) => ({ ...d, updatedAt: d.updatedAt.map((t) => t - 1) }))],
    ['SKU feed positions', () => tamper(WmsState.prototype, (d) => ({ ...d, skuSeq: d.skuSeq.map((_, i) => i + 1) }))],
    ['the last stamp', () => tamper(WmsState.prototype, (d) => ({ ...d, lastStamp: 0 }))],
    ['the external order index', () => tamper(WmsState.prototype, (d) => ({ ...d, externalOrderIndex: new Float64Array(0) }))],
    ['the retirement queue', () => tamper(WmsState.prototype, (d) => ({ ...d, retired: emptyQueue }))],
    ['the expiry queue', () => tamper(ReservationExpiry.prototype, (d) => ({ ...d, queue: emptyQueue }))],
    ['the simulation progress', () => tamper(StockSimulation.prototype, (d) => ({ ...d, applied: 0 }))],
    ['the simulation start', () => tamper(StockSimulation.prototype, (d) => ({ ...d, startedAt: d.startedAt + 2_500 }))],
    ['the simulation offset', () => tamper(StockSimulation.prototype, (d) => ({ ...d, offset: d.offset + 1 }))],
    ['the simulation pause', () => tamper(StockSimulation.prototype, (d) => ({ ...d, paused: true }))],
    ['the simulation rate', () => tamper(StockSimulation.prototype, (d) => ({ ...d, changesPerSecond: d.changesPerSecond * 2 }))],
    ['the simulation rate as written', () => tamper(StockSimulation.prototype, (d) => ({ ...d, rate: '5/h' }))],
    [
      'the change feed entries',
      () => tamper(ChangeLog.prototype, (d) => ({ ...d, seqs: new Float64Array(0), entities: new Uint8Array(0), refs: new Float64Array(0), stamps: new Float64Array(0) })),
    ],
    ['the change feed horizon', () => tamper(ChangeLog.prototype, (d) => ({ ...d, prunedUpTo: 0 }))],
    ['the superseded count', () => tamper(ChangeLog.prototype, (d) => ({ ...d, superseded: 0 }))],
    ['the issued count', () => tamper(RecordTable.prototype, (d) => ({ ...d, issued: d.issued + 1 }))],
    // the records' fields, each written to a column of its own
    ['record versions', () => tamperRecords((r) => ({ ...r, version: r.version + 1 }))],
    ['record change times', () => tamperRecords((r) => ({ ...r, updatedAt: r.updatedAt - 1 }))],
    ['reservation deadlines', () => tamperReservations((r) => ({ ...r, expiresAt: r.expiresAt === null ? null : r.expiresAt + 1 }))],
    ['reservation lines', () => tamperReservations((r) => ({ ...r, lines: r.lines.map((line) => ({ ...line, quantity: line.quantity + 1 })) }))],
    [
      'reservation allocations',
      () => tamperReservations((r) => ({ ...r, allocations: r.allocations.map((line) => line.map((a) => ({ ...a, quantity: a.quantity + 1 }))) })),
    ],
    ['shipment histories', () => tamperShipments((s) => ({ ...s, history: s.history.slice(0, 1) }))],
    ['shipment addresses', () => tamperShipments((s) => ({ ...s, shipTo: null }))],
    ['shipment tracking numbers', () => tamperShipments((s) => ({ ...s, trackingNumber: null }))],
  ];

  it.each(sabotages)('%s', async (_part, sabotage) => {
    const original = fresh();
    await run(original, 0, 150);
    // behind the last stamp, as after a clock step back, so that the next write's stamp depends on it
    original.clock.set(original.clock.now() - 60_000);
    sabotage();
    const bytes = snapshotWms(original.state);
    vi.restoreAllMocks();
    const copy = restored(bytes, original.clock.now());
    expect(await continueAndCompare(original, [copy], 150, 230, 50_000)).not.toEqual([]);
  });
});
