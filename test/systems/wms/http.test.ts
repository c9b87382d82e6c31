/**
 * The WMS through real sockets: the two routes the product promises (GET /inventory/{sku}, POST + DELETE
 * /reservations), workspace isolation, the streamed export, and the engine's own verdict (journal `contract`)
 * that every response the handlers produced matches the contract.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/server.js';
import { ManualClock } from '../../../src/util/clock.js';
import { call, json, start } from '../../helpers.js';

let server: RunningServer;
let clock: ManualClock;

beforeAll(async () => {
  clock = new ManualClock(Date.UTC(2026, 2, 1, 9, 0, 0));
  server = await start({ clock, seed: 42, systems: { wms: { skus: 200, warehouses: 3 } } });
});

const url = (path: string) => `${server.url}${path}`;

/** A SKU with at least `min` units available in total, in the given workspace. */
async function skuWithStock(prefix: string, min: number): Promise<{ sku: string; available: number }> {
  for (let n = 1; n <= 200; n++) {
    const { body } = await call(url(`${prefix}/wms/v1/inventory/SKU-${n}`));
    if (body.available >= min) return { sku: body.sku, available: body.available };
  }
  throw new Error('no SKU with enough stock');
}

describe('WMS over HTTP', () => {
  it('answers GET /wms/v1/inventory/SKU-1 with the stock record, and 404 problem+json for unknown SKUs', async () => {
    const res = await call(url('/wms/v1/inventory/SKU-1'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(res.body)).toEqual(['sku', 'name', 'onHand', 'reserved', 'available', 'warehouses', 'updatedAt', 'version']);
    expect(res.body.warehouses).toHaveLength(3);
    expect(res.body.available).toBe(res.body.onHand - res.body.reserved);

    const missing = await call(url('/wms/v1/inventory/SKU-201'));
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(missing.body).toMatchObject({ type: 'urn:understudy:problem:sku-not-found', status: 404 });
  });

  it('reserves with POST /wms/v1/reservations (201, then 200 on repeat) and releases with DELETE', async () => {
    const { sku, available } = await skuWithStock('', 5);
    const order = { externalOrderId: 'SF-00001', lines: [{ sku, quantity: 5 }] };

    const created = await call(url('/wms/v1/reservations'), json(order));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ externalOrderId: 'SF-00001', status: 'active' });
    expect(created.headers.get('location')).toBe(`/wms/v1/reservations/${created.body.id}`);
    expect((await call(url(`/wms/v1/inventory/${sku}`))).body.available).toBe(available - 5);

    const repeated = await call(url('/wms/v1/reservations'), json(order));
    expect(repeated.status).toBe(200);
    expect(repeated.body.id).toBe(created.body.id);
    expect((await call(url(`/wms/v1/inventory/${sku}`))).body.available).toBe(available - 5);

    const tooMuch = await call(url('/wms/v1/reservations'), json({ externalOrderId: 'SF-00002', lines: [{ sku, quantity: 1_000_000 }] }));
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body.type).toBe('urn:understudy:problem:insufficient-stock');

    const released = await call(url(`/wms/v1/reservations/${created.body.id}`), { method: 'DELETE' });
    expect(released.status).toBe(200);
    expect(released.body.status).toBe('released');
    expect((await call(url(`/wms/v1/inventory/${sku}`))).body.available).toBe(available);
    expect((await call(url(`/wms/v1/reservations/${created.body.id}`), { method: 'DELETE' })).status).toBe(200);
  });

  it('keeps workspaces apart', async () => {
    const { sku, available } = await skuWithStock('/w/a', 3);
    const created = await call(url('/w/a/wms/v1/reservations'), json({ externalOrderId: 'SF-A1', lines: [{ sku, quantity: 3 }] }));
    expect(created.status).toBe(201);
    expect(created.body.id).toBe('RES-000001');
    expect(created.headers.get('location')).toBe('/w/a/wms/v1/reservations/RES-000001');

    expect((await call(url(`/w/a/wms/v1/inventory/${sku}`))).body.available).toBe(available - 3);
    expect((await call(url(`/w/b/wms/v1/inventory/${sku}`))).body.available).toBe(available);
    expect((await call(url('/w/b/wms/v1/reservations/RES-000001'))).status).toBe(404);
    // the same order number is a new reservation in the other workspace
    const inB = await call(url('/w/b/wms/v1/reservations'), json({ externalOrderId: 'SF-A1', lines: [{ sku, quantity: 1 }] }));
    expect(inB.status).toBe(201);
    expect((await call(url(`/w/a/wms/v1/inventory/${sku}`))).body.available).toBe(available - 3);
  });

  it('streams the CSV export', async () => {
    const res = await call(url('/w/export/wms/v1/exports/inventory?format=csv'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = res.text.split('\r\n').filter(Boolean);
    expect(rows).toHaveLength(201);
    expect(rows[0].startsWith('sku,name,category,')).toBe(true);
  });

  it('answers bad input with 4xx problems: contract violations, foreign cursors, oversized batches', async () => {
    expect((await call(url('/w/bad/wms/v1/items?limit=5000'))).status).toBe(400);
    expect((await call(url('/w/bad/wms/v1/items?colour=red'))).status).toBe(400);
    const cursor = await call(url('/w/bad/wms/v1/changes?cursor=bm9wZQ'));
    expect(cursor.status).toBe(400);
    expect(cursor.body.type).toBe('urn:understudy:problem:invalid-cursor');
    const lines = await call(url('/w/bad/wms/v1/reservations'), json({ externalOrderId: 'X', lines: [{ sku: 'SKU-1', quantity: 0 }] }));
    expect(lines.status).toBe(400);
    const adjustments = Array.from({ length: 501 }, () => ({ sku: 'SKU-1', warehouseId: 'WH-RTM-01', delta: 1, reason: 'receipt' }));
    const bulk = await call(url('/w/bad/wms/v1/stock-adjustments'), json({ adjustments }));
    expect(bulk.status).toBe(413);
    expect(bulk.body).toMatchObject({ type: 'urn:understudy:problem:too-many-adjustments', limit: 500, received: 501 });
  });

  it('changes nothing when a write is refused: malformed, oversize, wrong type, invalid UTF-8, short stock', async () => {
    const ws = '/w/refused';
    const before = (await call(url(`${ws}/wms/v1/inventory/SKU-1`))).body;
    const feedBefore = (await call(url(`${ws}/wms/v1/changes?limit=1000`))).body.changes.length;
    const post = (body: string | Buffer, type = 'application/json') =>
      call(url(`${ws}/wms/v1/reservations`), { method: 'POST', headers: { 'content-type': type }, body });
    const valid = JSON.stringify({ externalOrderId: 'SO-REFUSED', lines: [{ sku: 'SKU-1', quantity: 1 }] });

    expect((await post('{"externalOrderId": "SO-REFUSED", "lines": [')).status).toBe(400);
    expect((await post(valid, 'text/plain')).status).toBe(415);
    const notUtf8 = Buffer.concat([Buffer.from('{"externalOrderId":"SO-'), Buffer.from([0xff, 0xfe]), Buffer.from('","lines":[{"sku":"SKU-1","quantity":1}]}')]);
    expect((await post(notUtf8)).status).toBe(400);
    expect((await post(JSON.stringify({ externalOrderId: 'SO-REFUSED', lines: [{ sku: 'SKU-1', quantity: 1 }], padding: 'x'.repeat(11 * 1024 * 1024) }))).status).toBe(413);
    const short = await post(JSON.stringify({ externalOrderId: 'SO-REFUSED', lines: [{ sku: 'SKU-1', quantity: before.available + 1 }] }));
    expect(short.status).toBe(409);
    const unknown = await post(JSON.stringify({ externalOrderId: 'SO-REFUSED', lines: [{ sku: 'SKU-1', quantity: 1 }, { sku: 'SKU-999999', quantity: 1 }] }));
    expect(unknown.status).toBe(422);

    expect((await call(url(`${ws}/wms/v1/inventory/SKU-1`))).body).toEqual(before);
    expect((await call(url(`${ws}/wms/v1/changes?limit=1000`))).body.changes.length).toBe(feedBefore);
    expect((await call(url(`${ws}/wms/v1/reservations?externalOrderId=SO-REFUSED`))).body.reservations).toEqual([]);
    // and the refused order number is still free to use
    expect((await post(valid)).status).toBe(201);
  });

  it('journals every exchange with a valid response per the contract, and the effects and keys', async () => {
    for (const ws of ['a', 'bad']) {
      const { body } = await call(url(`/w/${ws}/__admin/journal?limit=100`));
      expect(body.entries.length).toBeGreaterThan(0);
      const responseErrors = body.entries.flatMap((e: any) => e.contract.errors.filter((err: any) => err.in === 'response'));
      expect(responseErrors).toEqual([]);
    }
    const { body } = await call(url('/w/a/__admin/journal?limit=100'));
    const create = body.entries.find((e: any) => e.operation === 'createReservation');
    expect(create).toMatchObject({ status: 201, key: 'SF-A1' });
    expect(create.effects[0]).toEqual({ entity: 'reservation', id: 'RES-000001', action: 'created' });
  });
});
