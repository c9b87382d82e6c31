/**
 * The WMS's seeded state: determinism, the catalogue, stock arithmetic, configuration limits and the lazy
 * background simulation.
 */
import { describe, expect, it } from 'vitest';
import { createWmsSystem } from '../../../src/systems/wms/index.js';
import { SEED_EPOCH_MS } from '../../../src/systems/wms/seed.js';
import { CATEGORIES } from '../../../src/systems/wms/catalogue.js';
import { ManualClock } from '../../../src/util/clock.js';
import { callChecked, wms } from './fixtures.js';

describe('seeded state', () => {
  it('is the same for the same seed and different for another seed', async () => {
    const a = wms({ seed: 7 });
    const b = wms({ seed: 7 });
    const c = wms({ seed: 8 });
    expect(b.state.onHand).toEqual(a.state.onHand);
    expect(b.state.updatedAt).toEqual(a.state.updatedAt);
    expect(c.state.onHand).not.toEqual(a.state.onHand);
    for (const sku of ['SKU-1', 'SKU-500', 'SKU-1000']) {
      const itemA = (await callChecked(a, 'getItem', { params: { sku } })).body;
      const itemB = (await callChecked(b, 'getItem', { params: { sku } })).body;
      const itemC = (await callChecked(c, 'getItem', { params: { sku } })).body;
      expect(itemB).toEqual(itemA);
      expect(itemC).not.toEqual(itemA);
      expect((await b.call('getInventory', { params: { sku } })).body).toEqual((await a.call('getInventory', { params: { sku } })).body);
    }
  });

  it('does not depend on the current time', async () => {
    const early = wms({ seed: 3, clock: new ManualClock(Date.UTC(2020, 0, 1)) });
    const late = wms({ seed: 3, clock: new ManualClock(Date.UTC(2031, 5, 1)) });
    expect(late.state.updatedAt).toEqual(early.state.updatedAt);
    expect((await late.call('getInventory', { params: { sku: 'SKU-9' } })).body).toEqual(
      (await early.call('getInventory', { params: { sku: 'SKU-9' } })).body,
    );
    // every seeded change lies before the seed epoch, in SKU order (the change feed relies on it)
    const stamps = Array.from(early.state.updatedAt);
    expect(Math.max(...stamps)).toBeLessThan(SEED_EPOCH_MS);
    expect(stamps).toEqual([...stamps].sort((x, y) => x - y));
  });

  it('gives a SKU the same stock whatever the catalogue size', () => {
    const small = wms({ seed: 5, skus: 10 });
    const large = wms({ seed: 5, skus: 5000 });
    expect(large.state.onHand.slice(0, 30)).toEqual(small.state.onHand);
  });

  it('starts with a mix of stocked and empty cells and nothing reserved', () => {
    const { state } = wms({ skus: 2000 });
    const cells = Array.from(state.onHand);
    const empty = cells.filter((n) => n === 0).length / cells.length;
    expect(empty).toBeGreaterThan(0.05);
    expect(empty).toBeLessThan(0.25);
    expect(Math.max(...cells)).toBeLessThanOrEqual(600);
    expect(state.reserved.every((n) => n === 0)).toBe(true);
  });
});

describe('inventory and items', () => {
  it('answers GET /inventory/{sku} with totals that add up across warehouses', async () => {
    const f = wms();
    const { status, body } = await callChecked(f, 'getInventory', { params: { sku: 'SKU-1' } });
    expect(status).toBe(200);
    expect(body.sku).toBe('SKU-1');
    expect(body.warehouses.map((w: any) => w.warehouseId)).toEqual(['WH-RTM-01', 'WH-ATL-01', 'WH-SIN-01']);
    expect(body.onHand).toBe(body.warehouses.reduce((n: number, w: any) => n + w.onHand, 0));
    expect(body.available).toBe(body.onHand - body.reserved);
    expect(body.version).toBe(1);
    expect(body.updatedAt).toBe(new Date(f.state.updatedAt[0]).toISOString());
  });

  it('answers 404 problem+json for SKUs that do not exist, including other spellings of real ones', async () => {
    const f = wms({ skus: 100 });
    expect((await callChecked(f, 'getInventory', { params: { sku: 'SKU-100' } })).status).toBe(200);
    for (const sku of ['SKU-101', 'SKU-0', 'SKU-01', 'sku-1', 'SKU-1.0', 'SKU-', 'WIDGET']) {
      const result = await callChecked(f, 'getInventory', { params: { sku } });
      expect(result.status, sku).toBe(404);
      expect(result.headers?.['content-type']).toBe('application/problem+json');
      expect(result.body.type).toBe('urn:understudy:problem:sku-not-found');
    }
    expect((await callChecked(f, 'getItem', { params: { sku: 'SKU-101' } })).status).toBe(404);
  });

  it('describes items plausibly, with a valid EAN-13 and a known category', async () => {
    const f = wms();
    const { body } = await callChecked(f, 'getItem', { params: { sku: 'SKU-42' } });
    expect(CATEGORIES).toContain(body.category);
    expect(body.name.length).toBeGreaterThan(5);
    const digits = body.barcode.split('').map(Number);
    const sum = digits.slice(0, 12).reduce((s: number, d: number, i: number) => s + d * (i % 2 === 0 ? 1 : 3), 0);
    expect((10 - (sum % 10)) % 10).toBe(digits[12]);
  });

  it('pages through every item exactly once', async () => {
    const f = wms({ skus: 250 });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { body } = await callChecked(f, 'listItems', { query: { limit: 100, ...(cursor ? { cursor } : {}) } });
      seen.push(...body.items.map((i: any) => i.sku));
      cursor = body.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => `SKU-${i + 1}`));
  });

  it('filters items by category', async () => {
    const f = wms();
    const { body } = await callChecked(f, 'listItems', { query: { category: 'toys', limit: 20 } });
    expect(body.items.length).toBe(20);
    expect(body.items.every((i: any) => i.category === 'toys')).toBe(true);
  });

  it('refuses a cursor it did not issue', async () => {
    const f = wms();
    for (const cursor of ['abc', Buffer.from('items.5.wrong').toString('base64url'), '']) {
      const result = await callChecked(f, 'listItems', { query: { cursor } });
      expect(result.status).toBe(400);
      expect(result.body.type).toBe('urn:understudy:problem:invalid-cursor');
    }
  });

  it('lists warehouses and one warehouse stock, and 404s unknown warehouses', async () => {
    const f = wms({ skus: 150, warehouses: 5 });
    const { body } = await callChecked(f, 'listWarehouses');
    expect(body.warehouses.map((w: any) => w.warehouseId)).toEqual(['WH-RTM-01', 'WH-ATL-01', 'WH-SIN-01', 'WH-FRA-01', 'WH-DFW-01']);
    expect((await callChecked(f, 'getWarehouse', { params: { warehouseId: 'WH-SIN-01' } })).body.name).toBe('Singapore DC');
    expect((await callChecked(f, 'getWarehouse', { params: { warehouseId: 'WH-XXX-01' } })).status).toBe(404);

    const first = await callChecked(f, 'listWarehouseStock', { params: { warehouseId: 'WH-ATL-01' }, query: { limit: 100 } });
    expect(first.body.items).toHaveLength(100);
    expect(first.body.items[0].onHand).toBe(f.state.onHand[1]);
    const second = await callChecked(f, 'listWarehouseStock', {
      params: { warehouseId: 'WH-ATL-01' },
      query: { cursor: first.body.nextCursor },
    });
    expect(second.body.items.map((i: any) => i.sku)[0]).toBe('SKU-101');
    expect(second.body.items).toHaveLength(50);
    expect(second.body.nextCursor).toBeNull();
    expect((await callChecked(f, 'listWarehouseStock', { params: { warehouseId: 'nope' } })).status).toBe(404);
  });
});

describe('configuration', () => {
  it('refuses out-of-range sizes at start-up', () => {
    expect(() => createWmsSystem({ skus: 0, warehouses: 3 })).toThrow(/skus/);
    expect(() => createWmsSystem({ skus: 1_000_001, warehouses: 3 })).toThrow(/skus/);
    expect(() => createWmsSystem({ skus: 10, warehouses: 11 })).toThrow(/warehouses/);
    expect(() => createWmsSystem({ skus: 10, warehouses: 3, changeRatePerSecond: -1 })).toThrow(/changeRate/);
    expect(() => createWmsSystem({ skus: 10, warehouses: 3, reservationTtlMs: -1 })).toThrow(/reservationTtlMs/);
    expect(() => createWmsSystem({ skus: 10, warehouses: 3, reservationTtlMs: Infinity })).toThrow(/reservationTtlMs/);
    expect(() => createWmsSystem({ skus: 10, warehouses: 3, maxObjects: 0 })).toThrow(/maxObjects/);
    expect(() => createWmsSystem({ skus: 10, warehouses: 3, maxObjects: 2.5 })).toThrow(/maxObjects/);
    expect(createWmsSystem({ skus: 10, warehouses: 10 }).name).toBe('wms');
  });

  it('points at the bundled contract by default', () => {
    expect(createWmsSystem({ skus: 1, warehouses: 1 }).contractFile).toMatch(/contracts[/\\]wms\.openapi\.yaml$/);
  });

  it('creates the state for 1,000 SKUs quickly enough for many workspaces', () => {
    const system = createWmsSystem({ skus: 1000, warehouses: 3 });
    system.createState({ seed: 99, clock: new ManualClock() }); // first one builds the shared template
    const started = performance.now();
    for (let i = 0; i < 50; i++) system.createState({ seed: 99, clock: new ManualClock() });
    // generous: a few ms each even on a slow CI machine
    expect((performance.now() - started) / 50).toBeLessThan(5);
  });
});

describe('background simulation', () => {
  it('changes nothing when no rate is configured', async () => {
    const f = wms();
    const before = f.state.onHand.slice();
    f.clock.advance(3_600_000);
    await f.call('getInventory', { params: { sku: 'SKU-1' } });
    expect(f.state.onHand).toEqual(before);
    expect(f.state.changes.latestSeq).toBe(1000);
  });

  it('applies the changes due for the elapsed clock time, deterministically, when the state is next used', async () => {
    const a = wms({ seed: 11, changeRatePerSecond: 20 });
    const b = wms({ seed: 11, changeRatePerSecond: 20 });
    a.clock.advance(1_000);
    b.clock.advance(1_000);
    expect(a.state.changes.latestSeq).toBe(1000); // nothing happens without a request
    await a.call('listWarehouses');
    await b.call('listWarehouses');
    const changed = a.state.changes.latestSeq - 1000;
    expect(changed).toBeGreaterThan(10); // 20 due; a few may be clamped to no-ops
    expect(changed).toBeLessThanOrEqual(20);
    expect(b.state.onHand).toEqual(a.state.onHand);
    // simulated movements never cut into reserved stock
    for (let cell = 0; cell < a.state.onHand.length; cell++) expect(a.state.onHand[cell]).toBeGreaterThanOrEqual(a.state.reserved[cell]);
    // and they are stamped with their due times, within the elapsed second
    const feed = (await callChecked(a, 'listChanges', { query: { updatedSince: new Date(a.clock.now() - 1_000).toISOString() } })).body;
    const skusChanged = Array.from(a.state.version).filter((v) => v > 1).length;
    expect(feed.changes.length).toBe(skusChanged); // a SKU moved twice appears once
    for (const change of feed.changes) expect(Date.parse(change.updatedAt)).toBeLessThanOrEqual(a.clock.now());
  });
});
