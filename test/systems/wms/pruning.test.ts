/**
 * limits.objects: a workspace keeps at most that many finished reservations and shipments, pruning the oldest
 * finished first and never an active one; the change feed's history goes with them, and a cursor from before
 * the pruned horizon is answered 410 instead of silently skipping what was pruned.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/util/clock.js';
import { call, json, start } from '../../helpers.js';
import { callChecked, snapshot, wms, type Fixture } from './fixtures.js';

/** Enough stock in the first warehouse of SKU-1 and SKU-2 for every test here. */
function stocked(options: Parameters<typeof wms>[0] = {}): Fixture {
  const f = wms({ skus: 50, ...options });
  f.state.onHand[f.state.cell(0, 0)] = 10_000;
  f.state.onHand[f.state.cell(1, 0)] = 10_000;
  return f;
}

async function reserve(f: Fixture, externalOrderId: string, quantity = 1, sku = 'SKU-1') {
  const result = await callChecked(f, 'createReservation', { body: { externalOrderId, lines: [{ sku, quantity, warehouseId: 'WH-RTM-01' }] } });
  expect(result.status).toBe(201);
  return result.body;
}

async function release(f: Fixture, id: string) {
  const result = await callChecked(f, 'releaseReservation', { params: { reservationId: id } });
  expect(result.status).toBe(200);
  return result.body;
}

/** Creates and releases `n` reservations: `n` finished records. */
async function churn(f: Fixture, prefix: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    f.clock.advance(1_000);
    const r = await reserve(f, `${prefix}-${i}`);
    await release(f, r.id);
    ids.push(r.id);
  }
  return ids;
}

async function getReservation(f: Fixture, id: string) {
  return callChecked(f, 'getReservation', { params: { reservationId: id } });
}

async function ship(f: Fixture, reservationId: string, through: string[]) {
  const shipment = (await callChecked(f, 'createShipment', { body: { reservationId } })).body;
  for (const status of through) {
    f.clock.advance(1_000);
    const moved = await callChecked(f, 'updateShipmentStatus', { params: { shipmentId: shipment.id }, body: { status } });
    expect(moved.status).toBe(200);
  }
  return shipment;
}

describe('pruning finished records', () => {
  it('keeps the newest maxObjects finished records and every active one', async () => {
    const f = stocked({ maxObjects: 10 });
    const active: string[] = [];
    for (let i = 0; i < 5; i++) active.push((await reserve(f, `SO-ACTIVE-${i}`)).id);
    const finished = await churn(f, 'SO-DONE', 30);

    for (const id of active) expect((await getReservation(f, id)).body.status, id).toBe('active');
    for (const id of finished.slice(-10)) expect((await getReservation(f, id)).body.status, id).toBe('released');
    for (const id of finished.slice(0, 20)) {
      const gone = await getReservation(f, id);
      expect(gone.status, id).toBe(404);
      expect(gone.body.type).toBe('urn:understudy:problem:reservation-not-found');
      expect(gone.body.detail).toMatch(/pruned/);
    }
    expect(f.state.reservations.size).toBe(15);
    expect(f.state.retiredCount).toBe(10);
    // the active ones still hold their stock
    expect(f.state.reserved[f.state.cell(0, 0)]).toBe(5);
  });

  it('says "pruned" only for ids that existed', async () => {
    const f = stocked({ maxObjects: 1 });
    await churn(f, 'SO-P', 2);
    expect((await getReservation(f, 'RES-000001')).body.detail).toMatch(/pruned/);
    for (const id of ['RES-000099', 'RES-0000001']) {
      const never = await getReservation(f, id);
      expect(never.status).toBe(404);
      expect(never.body.detail).toBe(`No reservation ${id}.`);
    }
  });

  it('prunes in the order records finished, not the order they were created', async () => {
    const f = stocked({ maxObjects: 2 });
    const a = await reserve(f, 'SO-A');
    const b = await reserve(f, 'SO-B');
    const c = await reserve(f, 'SO-C');
    await release(f, b.id);
    await release(f, c.id);
    await release(f, a.id);
    // three finished, two kept: b finished first
    expect((await getReservation(f, b.id)).status).toBe(404);
    expect((await getReservation(f, c.id)).status).toBe(200);
    expect((await getReservation(f, a.id)).status).toBe(200);
  });

  it('prunes expired reservations like released ones', async () => {
    const f = stocked({ maxObjects: 2, reservationTtlMs: 60_000 });
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await reserve(f, `SO-E-${i}`)).id);
    f.clock.advance(60_000);
    // the read triggers the expiries; the two that expired first are pruned
    expect((await getReservation(f, ids[3])).body.status).toBe('expired');
    expect((await getReservation(f, ids[0])).status).toBe(404);
    expect((await getReservation(f, ids[1])).status).toBe(404);
    expect((await getReservation(f, ids[2])).body.status).toBe('expired');
    expect(f.state.reserved[f.state.cell(0, 0)]).toBe(0);
  });

  it('treats a repeat of a pruned externalOrderId as a new order (the idempotency horizon), a kept one as a repeat', async () => {
    const f = stocked({ maxObjects: 3 });
    const [first] = await churn(f, 'SO-H', 4);
    const kept = 'RES-000004';
    const body = (externalOrderId: string) => ({ externalOrderId, lines: [{ sku: 'SKU-1', quantity: 1, warehouseId: 'WH-RTM-01' }] });

    const repeatKept = await callChecked(f, 'createReservation', { body: body('SO-H-3') });
    expect(repeatKept.status).toBe(200);
    expect(repeatKept.body).toMatchObject({ id: kept, status: 'released' });

    const reserved = f.state.reserved[f.state.cell(0, 0)];
    const again = await callChecked(f, 'createReservation', { body: body('SO-H-0') });
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ id: 'RES-000005', status: 'active', externalOrderId: 'SO-H-0' });
    expect(again.body.id).not.toBe(first);
    expect(f.state.reserved[f.state.cell(0, 0)]).toBe(reserved + 1);
  });

  it('refuses writes on pruned ids and changes nothing', async () => {
    const f = stocked({ maxObjects: 1 });
    await churn(f, 'SO-R', 2);
    const before = snapshot(f.state);
    const released = await callChecked(f, 'releaseReservation', { params: { reservationId: 'RES-000001' } });
    expect(released.status).toBe(404);
    expect(released.body.detail).toMatch(/pruned/);
    const shipment = await callChecked(f, 'createShipment', { body: { reservationId: 'RES-000001' } });
    expect(shipment.status).toBe(422);
    expect(shipment.body).toMatchObject({ type: 'urn:understudy:problem:unknown-reservation' });
    expect(shipment.body.detail).toMatch(/pruned/);
    expect(snapshot(f.state)).toEqual(before);
  });

  it('keeps a shipped shipment readable and movable after its fulfilled reservation was pruned', async () => {
    const f = stocked({ maxObjects: 3 });
    const r = await reserve(f, 'SO-SHIP', 4, 'SKU-2');
    const shipment = await ship(f, r.id, ['picked', 'packed', 'shipped']);
    const shippedView = (await callChecked(f, 'getShipment', { params: { shipmentId: shipment.id } })).body;
    await churn(f, 'SO-FILL', 3);

    expect((await getReservation(f, r.id)).status).toBe(404);
    const kept = await callChecked(f, 'getShipment', { params: { shipmentId: shipment.id } });
    expect(kept.status).toBe(200);
    expect(kept.body).toEqual(shippedView);
    expect(kept.body).toMatchObject({ reservationId: r.id, externalOrderId: 'SO-SHIP', lines: [{ sku: 'SKU-2', warehouseId: 'WH-RTM-01', quantity: 4 }] });

    const delivered = await callChecked(f, 'updateShipmentStatus', { params: { shipmentId: shipment.id }, body: { status: 'delivered' } });
    expect(delivered.status).toBe(200);
    expect(delivered.body.status).toBe('delivered');

    // delivered is finished too: three more finished records push it out
    await churn(f, 'SO-FILL2', 3);
    const gone = await callChecked(f, 'getShipment', { params: { shipmentId: shipment.id } });
    expect(gone.status).toBe(404);
    expect(gone.body.detail).toMatch(/pruned/);
  });

  it('prunes cancelled shipments while their reservation stays active, and still names the next shipment', async () => {
    const f = stocked({ maxObjects: 1 });
    const r = await reserve(f, 'SO-CANCEL', 2);
    const cancelled = await ship(f, r.id, ['cancelled']);
    await churn(f, 'SO-C', 1);
    expect((await callChecked(f, 'getShipment', { params: { shipmentId: cancelled.id } })).status).toBe(404);
    const next = await ship(f, r.id, []);
    expect(next.id).toBe('SHP-000002');
    expect((await getReservation(f, r.id)).body).toMatchObject({ status: 'active', shipmentId: 'SHP-000002' });
  });

  it('pages listReservations over pruned gaps with stable ids', async () => {
    const f = stocked({ maxObjects: 4 });
    const held1 = await reserve(f, 'SO-K-1');
    await churn(f, 'SO-G', 6);
    const held2 = await reserve(f, 'SO-K-2');
    await churn(f, 'SO-G2', 2);

    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await callChecked(f, 'listReservations', { query: { limit: 2, ...(cursor ? { cursor } : {}) } });
      ids.push(...page.body.reservations.map((r: any) => r.id));
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    expect(ids).toEqual([held1.id, 'RES-000006', 'RES-000007', held2.id, 'RES-000009', 'RES-000010']);
  });

  it('keeps storage and feed history bounded through thousands of finished records', async () => {
    const f = stocked({ maxObjects: 100 });
    await churn(f, 'SO-BULK', 5_000);
    expect(f.state.reservations.size).toBe(100);
    expect(f.state.retiredCount).toBe(100);
    expect(f.state.reservations.issued).toBe(5_000);
    // live entries: the touched SKU and 100 reservations; dead ones are compacted away in bulk
    expect(f.state.changes.appendedLength).toBeLessThan(101 + 2 * 1_100);
  });
});

describe('the change feed after pruning', () => {
  async function drain(f: Fixture, query: Record<string, unknown>) {
    const changes: any[] = [];
    let cursor = query.cursor as string | undefined;
    for (;;) {
      const page = await callChecked(f, 'listChanges', { query: { limit: 1000, ...query, ...(cursor ? { cursor } : {}) } });
      expect(page.status).toBe(200);
      changes.push(...page.body.changes);
      cursor = page.body.nextCursor;
      if (!page.body.hasMore) return { changes, cursor: cursor! };
    }
  }

  it('answers a cursor from before the pruned horizon with 410, and lets a cursor after it resume', async () => {
    const f = stocked({ maxObjects: 3 });
    const { cursor: beforeAll } = await drain(f, {});
    const sinceStart = new Date(f.clock.now()).toISOString();
    await churn(f, 'SO-F', 2);
    const { cursor: afterTwo } = await drain(f, { cursor: beforeAll });
    await churn(f, 'SO-F2', 2);
    // four finished, three kept: RES-000001 is pruned, and its last change lay after `beforeAll`
    const gone = await callChecked(f, 'listChanges', { query: { cursor: beforeAll } });
    expect(gone.status).toBe(410);
    expect(gone.headers?.['content-type']).toBe('application/problem+json');
    expect(gone.body).toMatchObject({ type: 'urn:understudy:problem:cursor-expired', status: 410, title: 'Gone' });
    expect(gone.body.detail).toMatch(/updatedSince/);

    // the cursor taken after RES-000001's release has missed nothing
    const resumed = await drain(f, { cursor: afterTwo });
    expect(resumed.changes.filter((c) => c.entity === 'reservation').map((c) => c.id)).toEqual(['RES-000003', 'RES-000004']);

    // the way back: updatedSince shows what is still kept, never the pruned record
    const fromTime = await drain(f, { updatedSince: sinceStart });
    expect(fromTime.changes.filter((c) => c.entity === 'reservation').map((c) => c.id)).toEqual(['RES-000002', 'RES-000003', 'RES-000004']);
    expect(fromTime.changes.map((c) => c.id)).not.toContain('RES-000001');
  });

  it('keeps the changed record in the feed when the log compacts on that very change', async () => {
    const f = stocked();
    let { cursor } = await drain(f, {});
    for (let i = 0; i < 1_200; i++) {
      f.clock.advance(1);
      await f.call('adjustStock', { body: { adjustments: [{ sku: 'SKU-1', warehouseId: 'WH-RTM-01', delta: 1, reason: 'receipt' }] } });
      const page = await drain(f, { cursor });
      expect(page.changes.map((c) => c.id), `after adjustment ${i + 1}`).toEqual(['SKU-1']);
      cursor = page.cursor;
    }
  });
});

describe('pruning over HTTP', () => {
  it('answers pruned records 404 and an expired cursor 410, both within the contract', async () => {
    const clock = new ManualClock(Date.UTC(2026, 4, 1));
    const server = await start({ clock, limits: { objects: 2 }, systems: { wms: { skus: 50 } } });
    const url = (path: string) => `${server.url}/w/prune/wms/v1${path}`;
    const first = await call(url('/changes?limit=1000'));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      clock.advance(1_000);
      const created = await call(url('/reservations'), json({ externalOrderId: `SF-P-${i}`, lines: [{ sku: 'SKU-5', quantity: 1 }] }));
      expect(created.status).toBe(201);
      expect((await call(url(`/reservations/${created.body.id}`), { method: 'DELETE' })).status).toBe(200);
      ids.push(created.body.id);
    }
    const pruned = await call(url(`/reservations/${ids[0]}`));
    expect(pruned.status).toBe(404);
    expect(pruned.body.detail).toMatch(/pruned/);
    const gone = await call(url(`/changes?cursor=${first.body.nextCursor}`));
    expect(gone.status).toBe(410);
    expect(gone.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    const journal = await call(`${server.url}/w/prune/__admin/journal?operation=listChanges&limit=1`);
    expect(journal.body.entries[0]).toMatchObject({ status: 410, contract: { valid: true } });
  });
});
