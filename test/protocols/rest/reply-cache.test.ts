/**
 * The reply cache (src/protocols/rest/reply-cache.ts), as a client sees it: a repeated read answers the same bytes,
 * and never a stale one — not after a write, not after background changes fall due, not in another workspace or
 * under another base URL; a drifted reply is checked as what was sent and does not poison later replies.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/util/clock.js';
import { call, json, start } from '../../helpers.js';

async function journalOf(url: string, operation: string) {
  return (await call(`${url}/__admin/journal?operation=${operation}&limit=10`)).body.entries as Array<{ contract: { valid: boolean; errors: unknown[] } }>;
}

describe('reply cache', () => {
  it('answers a repeated read with the same bytes, and a read after a write with the new state', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 1, 9, 0, 0));
    const s = await start({ clock });
    // the same poll before and after the write: empty, then the change
    const poll = `${s.url}/wms/v1/changes?limit=50&updatedSince=${encodeURIComponent(new Date(clock.now()).toISOString())}`;
    expect((await call(poll)).body.changes).toEqual([]);
    const first = await call(`${s.url}/wms/v1/inventory/SKU-7`);
    const again = await call(`${s.url}/wms/v1/inventory/SKU-7`);
    expect(again.text).toBe(first.text);

    const reserved = await call(`${s.url}/wms/v1/reservations`, json({ externalOrderId: 'SO-CACHE-1', lines: [{ sku: 'SKU-7', quantity: 3 }] }));
    expect(reserved.status).toBe(201);
    const after = await call(`${s.url}/wms/v1/inventory/SKU-7`);
    expect(after.body.reserved).toBe(first.body.reserved + 3);
    expect(after.body.available).toBe(first.body.available - 3);

    const feed = await call(poll);
    expect(feed.body.changes.map((c: { id: string }) => c.id)).toContain('SKU-7');
  });

  it('sees background changes that fell due since the stored reply (simulation on the fake clock)', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 1, 9, 0, 0));
    const s = await start({ clock, systems: { wms: { skus: 3, changeRatePerSecond: 10 } } });
    const page = async () => (await call(`${s.url}/wms/v1/changes?limit=50`)).text;
    const before = await page();
    expect(await page()).toBe(before);
    clock.advance(1_000); // ten stock changes fall due
    const after = await page();
    expect(after).not.toBe(before);
    expect(await page()).toBe(after);
  });

  it('keeps workspaces and the base URL apart', async () => {
    const s = await start();
    await call(`${s.url}/w/cache-a/wms/v1/reservations`, json({ externalOrderId: 'SO-A', lines: [{ sku: 'SKU-1', quantity: 5 }] }));
    const inA = await call(`${s.url}/w/cache-a/wms/v1/inventory/SKU-1`);
    const inB = await call(`${s.url}/w/cache-b/wms/v1/inventory/SKU-1`);
    expect(inA.body.reserved).toBe(inB.body.reserved + 5);

    const listA = await call(`${s.url}/w/cache-a/wms/v1/reservations`);
    const listB = await call(`${s.url}/w/cache-b/wms/v1/reservations`);
    expect(listA.text).toContain('SO-A');
    expect(listB.text).not.toContain('SO-A');
  });

  it('checks a drifted reply as sent, and later plain replies as valid again', async () => {
    const s = await start();
    const plain = await call(`${s.url}/wms/v1/inventory/SKU-2`);
    expect((await journalOf(s.url, 'getInventory'))[0].contract.valid).toBe(true);

    const profile = ['name: drift-once', 'rules:', '  - id: drop-sku', '    match: { operation: getInventory }', '    faults:', '      - drift: { remove: [sku] }'].join('\n');
    expect((await call(`${s.url}/__admin/chaos`, { method: 'PUT', body: profile })).status).toBe(200);
    const drifted = await call(`${s.url}/wms/v1/inventory/SKU-2`);
    expect(drifted.body).not.toHaveProperty('sku');
    expect((await journalOf(s.url, 'getInventory'))[0].contract.valid).toBe(false);

    expect((await call(`${s.url}/__admin/chaos?profile=calm`, { method: 'PUT' })).status).toBe(200);
    const again = await call(`${s.url}/wms/v1/inventory/SKU-2`);
    expect(again.text).toBe(plain.text);
    expect((await journalOf(s.url, 'getInventory'))[0].contract.valid).toBe(true);
  });

  it('journals the order key of a reservation read by id, first read and stored reply alike', async () => {
    const s = await start();
    const created = await call(`${s.url}/wms/v1/reservations`, json({ externalOrderId: 'SO-KEYED', lines: [{ sku: 'SKU-4', quantity: 1 }] }));
    const id = created.body.reservationId ?? created.body.id;
    const first = await call(`${s.url}/wms/v1/reservations/${id}`);
    const second = await call(`${s.url}/wms/v1/reservations/${id}`);
    expect(second.text).toBe(first.text);
    const reads = (await call(`${s.url}/__admin/journal?operation=getReservation`)).body.entries as Array<{ key: string | null }>;
    expect(reads.map((e) => e.key)).toEqual(['SO-KEYED', 'SO-KEYED']);
  });

  it('starts over after a reset of state', async () => {
    const s = await start();
    const seeded = await call(`${s.url}/wms/v1/inventory/SKU-3`);
    await call(`${s.url}/wms/v1/reservations`, json({ externalOrderId: 'SO-R', lines: [{ sku: 'SKU-3', quantity: 1 }] }));
    expect((await call(`${s.url}/wms/v1/inventory/SKU-3`)).body.reserved).toBe(seeded.body.reserved + 1);
    await call(`${s.url}/__admin/reset`, json({ scope: 'state' }));
    expect((await call(`${s.url}/wms/v1/inventory/SKU-3`)).text).toBe(seeded.text);
  });
});
