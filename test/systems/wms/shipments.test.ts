/**
 * Shipments: the status lifecycle, illegal transitions, shipping consuming reserved stock, and how shipments
 * and reservations constrain each other.
 */
import { describe, expect, it } from 'vitest';
import { callChecked, snapshot, wms, type Fixture } from './fixtures.js';

/** A fixture with RES-000001 holding 4 × SKU-1 from Rotterdam and 2 × SKU-2 from Atlanta. */
async function reserved(): Promise<Fixture> {
  const f = wms();
  f.state.onHand.set([10, 0, 0], f.state.cell(0, 0));
  f.state.onHand.set([0, 8, 0], f.state.cell(1, 0));
  const result = await callChecked(f, 'createReservation', {
    body: { externalOrderId: 'SO-100', lines: [{ sku: 'SKU-1', quantity: 4 }, { sku: 'SKU-2', quantity: 2 }] },
  });
  expect(result.status).toBe(201);
  return f;
}

async function ship(f: Fixture, body: Record<string, unknown> = {}) {
  return callChecked(f, 'createShipment', { body: { reservationId: 'RES-000001', ...body } });
}

async function moveTo(f: Fixture, status: string, extra: Record<string, unknown> = {}) {
  return callChecked(f, 'updateShipmentStatus', { params: { shipmentId: 'SHP-000001' }, body: { status, ...extra } });
}

async function inventory(f: Fixture, sku: string) {
  return (await callChecked(f, 'getInventory', { params: { sku } })).body;
}

describe('shipment lifecycle', () => {
  it('goes created → picked → packed → shipped → delivered, keeping a timestamped history', async () => {
    const f = await reserved();
    const created = await ship(f, { carrier: 'DHL', service: 'express' });
    expect(created.status).toBe(201);
    expect(created.headers?.location).toBe('/wms/v1/shipments/SHP-000001');
    expect(created.body).toMatchObject({
      id: 'SHP-000001',
      reservationId: 'RES-000001',
      externalOrderId: 'SO-100',
      status: 'created',
      carrier: 'DHL',
      trackingNumber: null,
      allowedTransitions: ['picked', 'cancelled'],
      lines: [
        { sku: 'SKU-1', warehouseId: 'WH-RTM-01', quantity: 4 },
        { sku: 'SKU-2', warehouseId: 'WH-ATL-01', quantity: 2 },
      ],
    });
    expect((await callChecked(f, 'getReservation', { params: { reservationId: 'RES-000001' } })).body.shipmentId).toBe('SHP-000001');

    const times: string[] = [new Date(f.clock.now()).toISOString()];
    for (const status of ['picked', 'packed']) {
      f.clock.advance(60_000);
      times.push(new Date(f.clock.now()).toISOString());
      const moved = await moveTo(f, status);
      expect(moved.status).toBe(200);
      expect(moved.body.status).toBe(status);
      expect(moved.effects).toEqual([{ entity: 'shipment', id: 'SHP-000001', action: status }]);
    }
    // nothing has left the warehouse yet
    expect(await inventory(f, 'SKU-1')).toMatchObject({ onHand: 10, reserved: 4, available: 6 });

    f.clock.advance(60_000);
    times.push(new Date(f.clock.now()).toISOString());
    const shipped = await moveTo(f, 'shipped');
    expect(shipped.body.status).toBe('shipped');
    expect(shipped.body.trackingNumber).toMatch(/^UST\d{12}$/);
    expect(shipped.body.allowedTransitions).toEqual(['delivered']);
    expect(shipped.effects).toEqual([
      { entity: 'shipment', id: 'SHP-000001', action: 'shipped' },
      { entity: 'inventory', id: 'SKU-1', action: 'shipped' },
      { entity: 'inventory', id: 'SKU-2', action: 'shipped' },
      { entity: 'reservation', id: 'RES-000001', action: 'fulfilled' },
    ]);
    // shipping consumes the reserved stock: on hand and reserved both drop, available stays
    expect(await inventory(f, 'SKU-1')).toMatchObject({ onHand: 6, reserved: 0, available: 6 });
    expect(await inventory(f, 'SKU-2')).toMatchObject({ onHand: 6, reserved: 0, available: 6 });
    const reservation = (await callChecked(f, 'getReservation', { params: { reservationId: 'RES-000001' } })).body;
    expect(reservation).toMatchObject({ status: 'fulfilled', fulfilledAt: times[3], shipmentId: 'SHP-000001' });

    f.clock.advance(86_400_000);
    times.push(new Date(f.clock.now()).toISOString());
    const delivered = await moveTo(f, 'delivered');
    expect(delivered.body.allowedTransitions).toEqual([]);
    expect(delivered.body.statusHistory).toEqual(
      ['created', 'picked', 'packed', 'shipped', 'delivered'].map((status, i) => ({ status, at: times[i] })),
    );
    expect((await callChecked(f, 'getShipment', { params: { shipmentId: 'SHP-000001' } })).body).toEqual(delivered.body);
  });

  it('keeps a tracking number given by the caller', async () => {
    const f = await reserved();
    await ship(f);
    for (const status of ['picked', 'packed']) await moveTo(f, status);
    expect((await moveTo(f, 'shipped', { trackingNumber: 'JD0146000012345678' })).body.trackingNumber).toBe('JD0146000012345678');
  });

  it('refuses illegal transitions with 409 and the allowed next states, changing nothing', async () => {
    const f = await reserved();
    await ship(f);
    const before = snapshot(f.state);
    for (const status of ['packed', 'shipped', 'delivered']) {
      const refused = await moveTo(f, status);
      expect(refused.status, status).toBe(409);
      expect(refused.body).toMatchObject({
        type: 'urn:understudy:problem:illegal-transition',
        currentStatus: 'created',
        allowedTransitions: ['picked', 'cancelled'],
      });
    }
    expect(snapshot(f.state)).toEqual(before);

    for (const status of ['picked', 'packed', 'shipped']) await moveTo(f, status);
    const late = await moveTo(f, 'cancelled');
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ currentStatus: 'shipped', allowedTransitions: ['delivered'] });
    await moveTo(f, 'delivered');
    expect((await moveTo(f, 'cancelled')).body.allowedTransitions).toEqual([]);
  });

  it('answers a repeat of the current status with 200 and no change (safe retries)', async () => {
    const f = await reserved();
    await ship(f);
    await moveTo(f, 'picked');
    const before = snapshot(f.state);
    const again = await moveTo(f, 'picked');
    expect(again.status).toBe(200);
    expect(again.effects ?? []).toEqual([]);
    expect(again.body.statusHistory).toHaveLength(2);
    expect(snapshot(f.state)).toEqual(before);
  });

  it('answers 404 for an unknown shipment', async () => {
    const f = await reserved();
    expect((await callChecked(f, 'getShipment', { params: { shipmentId: 'SHP-000001' } })).status).toBe(404);
    expect((await moveTo(f, 'picked')).status).toBe(404);
  });
});

describe('shipments and reservations', () => {
  it('allows one live shipment per reservation, and refuses unknown or inactive reservations', async () => {
    const f = await reserved();
    await ship(f);
    const twice = await ship(f);
    expect(twice.status).toBe(409);
    expect(twice.body).toMatchObject({ type: 'urn:understudy:problem:shipment-exists', shipmentId: 'SHP-000001' });

    const unknown = await callChecked(f, 'createShipment', { body: { reservationId: 'RES-000077' } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.type).toBe('urn:understudy:problem:unknown-reservation');

    await callChecked(f, 'createReservation', { body: { externalOrderId: 'SO-101', lines: [{ sku: 'SKU-1', quantity: 1 }] } });
    await callChecked(f, 'releaseReservation', { params: { reservationId: 'RES-000002' } });
    const inactive = await callChecked(f, 'createShipment', { body: { reservationId: 'RES-000002' } });
    expect(inactive.status).toBe(409);
    expect(inactive.body).toMatchObject({ type: 'urn:understudy:problem:reservation-not-active', reservationStatus: 'released' });
  });

  it('refuses to release a reservation while its shipment is under way, and allows it once cancelled', async () => {
    const f = await reserved();
    await ship(f);
    await moveTo(f, 'picked');
    const blocked = await callChecked(f, 'releaseReservation', { params: { reservationId: 'RES-000001' } });
    expect(blocked.status).toBe(409);
    expect(blocked.body).toMatchObject({ type: 'urn:understudy:problem:shipment-in-progress', shipmentId: 'SHP-000001' });
    expect(await inventory(f, 'SKU-1')).toMatchObject({ reserved: 4 });

    const cancelled = await moveTo(f, 'cancelled');
    expect(cancelled.body.status).toBe('cancelled');
    // cancelling gives the reservation back, still holding its stock
    const reservation = (await callChecked(f, 'getReservation', { params: { reservationId: 'RES-000001' } })).body;
    expect(reservation).toMatchObject({ status: 'active', shipmentId: null });
    expect(await inventory(f, 'SKU-1')).toMatchObject({ onHand: 10, reserved: 4 });

    const released = await callChecked(f, 'releaseReservation', { params: { reservationId: 'RES-000001' } });
    expect(released.status).toBe(200);
    expect(await inventory(f, 'SKU-1')).toMatchObject({ onHand: 10, reserved: 0, available: 10 });
  });

  it('can ship a reservation again after a cancelled shipment, and refuses to release a fulfilled one', async () => {
    const f = await reserved();
    await ship(f);
    await moveTo(f, 'cancelled');
    const second = await ship(f);
    expect(second.status).toBe(201);
    expect(second.body.id).toBe('SHP-000002');
    for (const status of ['picked', 'packed', 'shipped']) {
      await callChecked(f, 'updateShipmentStatus', { params: { shipmentId: 'SHP-000002' }, body: { status } });
    }
    const refused = await callChecked(f, 'releaseReservation', { params: { reservationId: 'RES-000001' } });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ type: 'urn:understudy:problem:reservation-fulfilled', shipmentId: 'SHP-000002' });
  });
});
