/**
 * The change feed (GET /changes): a complete first sync, records moving to the end when they change, polling
 * with the last cursor, updatedSince, and refusing cursors the server did not issue.
 */
import { describe, expect, it } from 'vitest';
import { callChecked, wms, type Fixture } from './fixtures.js';

interface Change {
  seq: number;
  entity: string;
  id: string;
  updatedAt: string;
  data: any;
}

/** Pages until hasMore is false; returns every change and the last cursor. */
async function sync(f: Fixture, query: Record<string, unknown> = {}): Promise<{ changes: Change[]; cursor: string; pages: number }> {
  const changes: Change[] = [];
  let cursor: string | undefined = query.cursor as string | undefined;
  let pages = 0;
  for (;;) {
    const result = await callChecked(f, 'listChanges', { query: { ...query, ...(cursor ? { cursor } : {}) } });
    expect(result.status).toBe(200);
    changes.push(...result.body.changes);
    cursor = result.body.nextCursor;
    pages++;
    if (!result.body.hasMore) return { changes, cursor: cursor!, pages };
  }
}

describe('listChanges', () => {
  it('gives a first sync every SKU once, in sequence order, with current data', async () => {
    const f = wms({ skus: 2500 });
    const { changes, pages } = await sync(f, { limit: 1000 });
    expect(pages).toBe(3);
    expect(changes).toHaveLength(2500);
    expect(new Set(changes.map((c) => c.id)).size).toBe(2500);
    expect(changes.every((c) => c.entity === 'inventory')).toBe(true);
    const seqs = changes.map((c) => c.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const stamps = changes.map((c) => Date.parse(c.updatedAt));
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
    const sku7 = changes.find((c) => c.id === 'SKU-7')!;
    expect(sku7.data).toEqual((await callChecked(f, 'getInventory', { params: { sku: 'SKU-7' } })).body);
    expect(sku7.updatedAt).toBe(sku7.data.updatedAt);

    // an old updatedSince gives the same complete sync
    const old = await sync(f, { limit: 1000, updatedSince: '2000-01-01T00:00:00Z' });
    expect(old.changes.map((c) => c.id)).toEqual(changes.map((c) => c.id));
  });

  it('moves a changed record to the end, once, with its newest data', async () => {
    const f = wms({ skus: 300 });
    f.clock.advance(1_000);
    await callChecked(f, 'adjustStock', { body: { adjustments: [{ sku: 'SKU-5', warehouseId: 'WH-RTM-01', delta: 10, reason: 'receipt' }] } });
    f.clock.advance(1_000);
    await callChecked(f, 'adjustStock', { body: { adjustments: [{ sku: 'SKU-5', warehouseId: 'WH-RTM-01', delta: 5, reason: 'receipt' }] } });

    const { changes } = await sync(f, { limit: 100 });
    expect(changes).toHaveLength(300);
    expect(changes.filter((c) => c.id === 'SKU-5')).toHaveLength(1);
    const last = changes[changes.length - 1];
    expect(last).toMatchObject({ entity: 'inventory', id: 'SKU-5', seq: 302, updatedAt: new Date(f.clock.now()).toISOString() });
    expect(last.data.version).toBe(3);
    expect(last.data.warehouses[0].onHand).toBe(f.state.onHand[f.state.cell(4, 0)]);
  });

  it('returns only what changed since the last cursor when polled later', async () => {
    const f = wms({ skus: 200 });
    const first = await sync(f, { limit: 1000 });
    expect(first.changes).toHaveLength(200);

    const idle = await callChecked(f, 'listChanges', { query: { cursor: first.cursor } });
    expect(idle.body).toMatchObject({ changes: [], hasMore: false });

    f.clock.advance(10_000);
    f.state.onHand.set([30, 0, 0], f.state.cell(9, 0));
    await callChecked(f, 'createReservation', { body: { externalOrderId: 'SO-1', lines: [{ sku: 'SKU-10', quantity: 3 }] } });
    const next = await sync(f, { cursor: idle.body.nextCursor });
    expect(next.changes.map((c) => [c.entity, c.id])).toEqual([
      ['inventory', 'SKU-10'],
      ['reservation', 'RES-000001'],
    ]);
    expect(next.changes[1].data).toMatchObject({ id: 'RES-000001', status: 'active' });

    // a release changes both again: they move past the cursor once more
    await callChecked(f, 'releaseReservation', { params: { reservationId: 'RES-000001' } });
    const after = await sync(f, { cursor: next.cursor });
    expect(after.changes.map((c) => c.id)).toEqual(['SKU-10', 'RES-000001']);
    expect(after.changes[1].data.status).toBe('released');
  });

  it('filters by updatedSince with the seeded timestamps', async () => {
    const f = wms({ skus: 1000 });
    const since = f.state.updatedAt[600];
    const expected = Array.from(f.state.updatedAt).filter((t) => t >= since).length;
    const { changes } = await sync(f, { limit: 1000, updatedSince: new Date(since).toISOString() });
    expect(changes).toHaveLength(expected);
    expect(changes.every((c) => Date.parse(c.updatedAt) >= since)).toBe(true);

    const future = await callChecked(f, 'listChanges', { query: { updatedSince: '2099-01-01T00:00:00Z' } });
    expect(future.body).toMatchObject({ changes: [], hasMore: false });
    expect(typeof future.body.nextCursor).toBe('string');
  });

  it('stays correct after many changes to the same records (the log compacts)', async () => {
    const f = wms({ skus: 50 });
    for (let i = 0; i < 3000; i++) {
      f.clock.advance(1);
      await f.call('adjustStock', {
        body: { adjustments: [{ sku: `SKU-${(i % 3) + 1}`, warehouseId: 'WH-SIN-01', delta: 1, reason: 'receipt' }] },
      });
    }
    // superseded entries are dropped, not kept forever
    expect((f.state.changes as unknown as { seqs: number[] }).seqs.length).toBeLessThan(1100);
    const { changes } = await sync(f, { limit: 7 });
    expect(changes).toHaveLength(50);
    expect(changes.slice(-3).map((c) => c.id)).toEqual(['SKU-1', 'SKU-2', 'SKU-3']);
    expect(changes.slice(-3).map((c) => c.data.version)).toEqual([1001, 1001, 1001]);
  });

  it('pages a 1,000,000-SKU feed from a cursor deep inside it', async () => {
    const f = wms({ skus: 1_000_000, warehouses: 1 });
    f.clock.advance(1_000);
    await callChecked(f, 'adjustStock', { body: { adjustments: [{ sku: 'SKU-999999', warehouseId: 'WH-RTM-01', delta: 1, reason: 'receipt' }] } });
    const middle = await callChecked(f, 'listChanges', { query: { updatedSince: '2025-12-31T23:00:00Z', limit: 1000 } });
    // the seeded span ends just before the epoch: only the last SKUs and the adjusted one are that recent
    const ids: string[] = middle.body.changes.map((c: Change) => c.id);
    expect(ids.at(-1)).toBe('SKU-999999');
    expect(ids.filter((id) => id === 'SKU-999999')).toHaveLength(1);
    expect(ids.length).toBeLessThan(1000);
    expect(ids[0]).toMatch(/^SKU-99\d{4}$/);
  });

  it('refuses cursors it did not issue, including ones from another list or beyond the feed', async () => {
    const f = wms({ skus: 100 });
    const items = await callChecked(f, 'listItems', { query: { limit: 10 } });
    const bigger = wms({ skus: 500 });
    const fromBigger = (await callChecked(bigger, 'listChanges', { query: { limit: 400 } })).body.nextCursor;
    for (const cursor of ['not-a-cursor', items.body.nextCursor, fromBigger, Buffer.from('changes.5.x').toString('base64url')]) {
      const result = await callChecked(f, 'listChanges', { query: { cursor } });
      expect(result.status, cursor).toBe(400);
      expect(result.body.type).toBe('urn:understudy:problem:invalid-cursor');
    }
  });
});
