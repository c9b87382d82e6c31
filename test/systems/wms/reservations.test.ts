/**
 * Reservations: idempotency by external order number, all-or-nothing allocation, release as the compensating
 * action, and listing.
 */
import { describe, expect, it } from 'vitest';
import { callChecked, snapshot, wms, type Fixture } from './fixtures.js';

async function inventory(f: Fixture, sku: string) {
  return (await callChecked(f, 'getInventory', { params: { sku } })).body;
}

/** A SKU whose first warehouse holds at least `min` units (seeded stock varies). */
function skuWithStock(f: Fixture, min: number, warehouseIndex = 0): string {
  for (let i = 0; i < f.state.skuCount; i++) {
    if (f.state.availableAt(f.state.cell(i, warehouseIndex)) >= min) return `SKU-${i + 1}`;
  }
  throw new Error('no SKU with enough stock');
}

describe('createReservation', () => {
  it('reserves stock: 201, available lowered and reserved raised by the quantity', async () => {
    const f = wms();
    const sku = skuWithStock(f, 10);
    const before = await inventory(f, sku);
    const result = await callChecked(f, 'createReservation', { body: { externalOrderId: 'SO-1', lines: [{ sku, quantity: 7 }] } });
    expect(result.status).toBe(201);
    expect(result.body).toMatchObject({ id: 'RES-000001', externalOrderId: 'SO-1', status: 'active', expiresAt: null, version: 1 });
    expect(result.body.lines[0].allocations).toEqual([{ warehouseId: 'WH-RTM-01', quantity: 7 }]);
    expect(result.headers?.location).toBe('/wms/v1/reservations/RES-000001');
    expect(result.key).toBe('SO-1');
    expect(result.effects).toEqual([
      { entity: 'reservation', id: 'RES-000001', action: 'created' },
      { entity: 'inventory', id: sku, action: 'reserved' },
    ]);
    const after = await inventory(f, sku);
    expect(after.available).toBe(before.available - 7);
    expect(after.reserved).toBe(before.reserved + 7);
    expect(after.onHand).toBe(before.onHand);
    expect(after.version).toBe(before.version + 1);
    expect(after.updatedAt).toBe(new Date(f.clock.now()).toISOString());
  });

  it('answers a repeat with 200 and the same reservation, without a second effect', async () => {
    const f = wms();
    const sku = skuWithStock(f, 10);
    const body = { externalOrderId: 'SO-2', lines: [{ sku, quantity: 3 }, { sku: 'SKU-2', quantity: 1, warehouseId: 'WH-ATL-01' }] };
    // SKU-2 may be out of stock in Atlanta; make sure it is not
    f.state.onHand[f.state.cell(1, 1)] = 50;
    const first = await callChecked(f, 'createReservation', { body });
    expect(first.status).toBe(201);
    const afterFirst = snapshot(f.state);
    f.clock.advance(5_000);
    const reordered = { externalOrderId: 'SO-2', lines: [body.lines[1], body.lines[0]] };
    for (const repeat of [body, reordered]) {
      const again = await callChecked(f, 'createReservation', { body: repeat });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(again.effects ?? []).toEqual([]);
      expect(again.key).toBe('SO-2');
    }
    expect(snapshot(f.state)).toEqual(afterFirst);
  });

  it('answers the same externalOrderId with different lines with 409 external-order-conflict', async () => {
    const f = wms();
    const sku = skuWithStock(f, 10);
    await callChecked(f, 'createReservation', { body: { externalOrderId: 'SO-3', lines: [{ sku, quantity: 2 }] } });
    const before = snapshot(f.state);
    const conflict = await callChecked(f, 'createReservation', { body: { externalOrderId: 'SO-3', lines: [{ sku, quantity: 3 }] } });
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ type: 'urn:understudy:problem:external-order-conflict', reservationId: 'RES-000001' });
    expect(snapshot(f.state)).toEqual(before);
  });

  it('reserves nothing when any line is short, and lists every short line', async () => {
    const f = wms();
    const plenty = 'SKU-10';
    f.state.onHand.set([50, 0, 0], f.state.cell(9, 0));
    f.state.onHand.set([2, 1, 0], f.state.cell(2, 0));
    const short = await inventory(f, 'SKU-3');
    expect(short.available).toBe(3);
    const before = snapshot(f.state);
    const result = await callChecked(f, 'createReservation', {
      body: {
        externalOrderId: 'SO-4',
        lines: [
          { sku: plenty, quantity: 1 },
          { sku: 'SKU-3', quantity: short.available + 1 },
          { sku: 'SKU-4', quantity: 1_000_000 },
        ],
      },
    });
    expect(result.status).toBe(409);
    expect(result.body.type).toBe('urn:understudy:problem:insufficient-stock');
    const sku4 = await inventory(f, 'SKU-4');
    expect(result.body.shortages).toEqual([
      { sku: 'SKU-3', warehouseId: null, requested: short.available + 1, available: short.available },
      { sku: 'SKU-4', warehouseId: null, requested: 1_000_000, available: sku4.available },
    ]);
    expect(snapshot(f.state)).toEqual(before);
    // the order number was not used up: a corrected retry succeeds
    const retry = await callChecked(f, 'createReservation', { body: { externalOrderId: 'SO-4', lines: [{ sku: plenty, quantity: 1 }] } });
    expect(retry.status).toBe(201);
  });

  it('counts earlier lines of the same request against later ones for the same SKU', async () => {
    const f = wms();
    const sku = 'SKU-5';
    const available = (await inventory(f, sku)).available;
    const half = Math.ceil((available + 1) / 2);
    const result = await callChecked(f, 'createReservation', {
      body: { externalOrderId: 'SO-5', lines: [{ sku, quantity: half }, { sku, quantity: half }] },
    });
    expect(result.status).toBe(409);
    expect(result.body.shortages).toEqual([{ sku, warehouseId: null, requested: half, available: available - half }]);
  });

  it('allocates from the requested warehouse only, or greedily across warehouses in order', async () => {
    const f = wms();
    const s = f.state;
    // SKU-6: 5 in Rotterdam, 0 in Atlanta, 20 in Singapore
    s.onHand.set([5, 0, 20], s.cell(5, 0));
    const greedy = await callChecked(f, 'createReservation', { body: { externalOrderId: 'SO-6', lines: [{ sku: 'SKU-6', quantity: 12 }] } });
    expect(greedy.body.lines[0]).toEqual({
      sku: 'SKU-6',
      quantity: 12,
      warehouseId: null,
      allocations: [
        { warehouseId: 'WH-RTM-01', quantity: 5 },
        { warehouseId: 'WH-SIN-01', quantity: 7 },
      ],
    });
    const pinned = await callChecked(f, 'createReservation', {
      body: { externalOrderId: 'SO-7', lines: [{ sku: 'SKU-6', quantity: 14, warehouseId: 'WH-SIN-01' }] },
    });
    expect(pinned.status).toBe(409);
    expect(pinned.body.shortages).toEqual([{ sku: 'SKU-6', warehouseId: 'WH-SIN-01', requested: 14, available: 13 }]);
    const fits = await callChecked(f, 'createReservation', {
      body: { externalOrderId: 'SO-7', lines: [{ sku: 'SKU-6', quantity: 13, warehouseId: 'WH-SIN-01' }] },
    });
    expect(fits.body.lines[0].allocations).toEqual([{ warehouseId: 'WH-SIN-01', quantity: 13 }]);
    expect((await inventory(f, 'SKU-6')).available).toBe(0);
  });

  it('answers unknown SKUs and warehouses with 422, reserving nothing', async () => {
    const f = wms();
    const before = snapshot(f.state);
    const sku = await callChecked(f, 'createReservation', {
      body: { externalOrderId: 'SO-8', lines: [{ sku: 'SKU-1', quantity: 1 }, { sku: 'SKU-999999', quantity: 1 }] },
    });
    expect(sku.status).toBe(422);
    expect(sku.body).toMatchObject({ type: 'urn:understudy:problem:unknown-sku', unknownSkus: ['SKU-999999'] });
    const warehouse = await callChecked(f, 'createReservation', {
      body: { externalOrderId: 'SO-8', lines: [{ sku: 'SKU-1', quantity: 1, warehouseId: 'WH-NOPE' }] },
    });
    expect(warehouse.status).toBe(422);
    expect(warehouse.body).toMatchObject({ type: 'urn:understudy:problem:unknown-warehouse', unknownWarehouses: ['WH-NOPE'] });
    expect(snapshot(f.state)).toEqual(before);
  });
});

describe('releaseReservation', () => {
  it('restores the stock, and answers a repeat with 200 unchanged', async () => {
    const f = wms();
    const sku = skuWithStock(f, 10);
    const original = await inventory(f, sku);
    await callChecked(f, 'createReservation', { body: { externalOrderId: 'SO-9', lines: [{ sku, quantity: 9 }] } });
    f.clock.advance(60_000);
    const released = await callChecked(f, 'releaseReservation', { params: { reservationId: 'RES-000001' } });
    expect(released.status).toBe(200);
    expect(released.body).toMatchObject({ id: 'RES-000001', status: 'released', releasedAt: new Date(f.clock.now()).toISOString() });
    expect(released.effects).toEqual([
      { entity: 'reservation', id: 'RES-000001', action: 'released' },
      { entity: 'inventory', id: sku, action: 'unreserved' },
    ]);
    const restored = await inventory(f, sku);
    expect(restored).toMatchObject({ onHand: original.onHand, reserved: original.reserved, available: original.available });

    const afterRelease = snapshot(f.state);
    const again = await callChecked(f, 'releaseReservation', { params: { reservationId: 'RES-000001' } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(released.body);
    expect(again.effects ?? []).toEqual([]);
    expect(snapshot(f.state)).toEqual(afterRelease);

    // re-sending the original create returns the released reservation, and does not reserve again
    const recreate = await callChecked(f, 'createReservation', { body: { externalOrderId: 'SO-9', lines: [{ sku, quantity: 9 }] } });
    expect(recreate.status).toBe(200);
    expect(recreate.body).toMatchObject({ id: 'RES-000001', status: 'released' });
    expect(snapshot(f.state)).toEqual(afterRelease);
  });

  it('answers 404 for a reservation that does not exist', async () => {
    const f = wms();
    for (const reservationId of ['RES-000001', 'RES-1', 'nope']) {
      const result = await callChecked(f, 'releaseReservation', { params: { reservationId } });
      expect(result.status).toBe(404);
      expect(result.body.type).toBe('urn:understudy:problem:reservation-not-found');
    }
  });
});

describe('getReservation and listReservations', () => {
  it('finds reservations by id, external order number and status, and pages through them', async () => {
    const f = wms();
    for (let i = 1; i <= 5; i++) {
      await callChecked(f, 'createReservation', { body: { externalOrderId: `SO-${i}`, lines: [{ sku: skuWithStock(f, 1), quantity: 1 }] } });
    }
    await callChecked(f, 'releaseReservation', { params: { reservationId: 'RES-000002' } });
    await callChecked(f, 'releaseReservation', { params: { reservationId: 'RES-000004' } });

    expect((await callChecked(f, 'getReservation', { params: { reservationId: 'RES-000003' } })).body.externalOrderId).toBe('SO-3');
    expect((await callChecked(f, 'getReservation', { params: { reservationId: 'RES-000009' } })).status).toBe(404);

    const byOrder = await callChecked(f, 'listReservations', { query: { externalOrderId: 'SO-4' } });
    expect(byOrder.body.reservations.map((r: any) => r.id)).toEqual(['RES-000004']);
    expect((await callChecked(f, 'listReservations', { query: { externalOrderId: 'SO-4', status: 'active' } })).body.reservations).toEqual([]);

    const released = await callChecked(f, 'listReservations', { query: { status: 'released' } });
    expect(released.body.reservations.map((r: any) => r.id)).toEqual(['RES-000002', 'RES-000004']);

    const page1 = await callChecked(f, 'listReservations', { query: { limit: 2 } });
    expect(page1.body.reservations.map((r: any) => r.id)).toEqual(['RES-000001', 'RES-000002']);
    const page2 = await callChecked(f, 'listReservations', { query: { limit: 2, cursor: page1.body.nextCursor } });
    expect(page2.body.reservations.map((r: any) => r.id)).toEqual(['RES-000003', 'RES-000004']);
    const page3 = await callChecked(f, 'listReservations', { query: { limit: 2, cursor: page2.body.nextCursor } });
    expect(page3.body.reservations.map((r: any) => r.id)).toEqual(['RES-000005']);
    expect(page3.body.nextCursor).toBeNull();

    const foreign = await callChecked(f, 'listReservations', { query: { cursor: 'Zm9v' } });
    expect(foreign.status).toBe(400);
  });
});
