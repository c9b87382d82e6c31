/**
 * Bulk stock adjustments: the 500 cap (413), per-item outcomes, sequential evaluation within a request, and
 * allOrNone.
 */
import { describe, expect, it } from 'vitest';
import { callChecked, snapshot, wms, type Fixture } from './fixtures.js';

function adjustments(n: number, delta = 1) {
  return Array.from({ length: n }, (_, i) => ({ sku: `SKU-${(i % 1000) + 1}`, warehouseId: 'WH-RTM-01', delta, reason: 'receipt' }));
}

/** SKU-1 in Rotterdam: 10 on hand, 4 of them reserved. */
async function withReservation(): Promise<Fixture> {
  const f = wms();
  f.state.onHand.set([10, 0, 0], f.state.cell(0, 0));
  await callChecked(f, 'createReservation', { body: { externalOrderId: 'SO-1', lines: [{ sku: 'SKU-1', quantity: 4 }] } });
  return f;
}

describe('adjustStock', () => {
  it('refuses more than 500 adjustments with 413 and applies nothing', async () => {
    const f = wms();
    const before = snapshot(f.state);
    const refused = await callChecked(f, 'adjustStock', { body: { adjustments: adjustments(501) } });
    expect(refused.status).toBe(413);
    expect(refused.body).toMatchObject({ type: 'urn:understudy:problem:too-many-adjustments', limit: 500, received: 501 });
    expect(snapshot(f.state)).toEqual(before);

    const accepted = await callChecked(f, 'adjustStock', { body: { adjustments: adjustments(500) } });
    expect(accepted.status).toBe(200);
    expect(accepted.body.applied).toBe(500);
    expect(f.state.onHand[f.state.cell(499, 0)]).toBe(before.onHand[f.state.cell(499, 0)] + 1);
  });

  it('applies valid adjustments and rejects the others with a reason each', async () => {
    const f = await withReservation();
    f.state.onHand.set([0, 5, 0], f.state.cell(3, 0));
    f.clock.advance(1_000);
    const result = await callChecked(f, 'adjustStock', {
      body: {
        adjustments: [
          { sku: 'SKU-1', warehouseId: 'WH-RTM-01', delta: -5, reason: 'damage' }, // 10 → 5, reserved 4: fine
          { sku: 'SKU-1', warehouseId: 'WH-RTM-01', delta: -2, reason: 'damage' }, // 5 → 3 < 4 reserved
          { sku: 'SKU-2', warehouseId: 'WH-RTM-01', delta: -1_000_000, reason: 'correction' },
          { sku: 'SKU-0', warehouseId: 'WH-RTM-01', delta: 1, reason: 'receipt' },
          { sku: 'SKU-3', warehouseId: 'WH-LHR-01', delta: 1, reason: 'receipt' },
          { sku: 'SKU-1', warehouseId: 'WH-RTM-01', delta: 7, reason: 'receipt' }, // 5 → 12
          { sku: 'SKU-4', warehouseId: 'WH-ATL-01', delta: 999_999_999, reason: 'receipt' }, // 5 → over the cap
        ],
      },
    });
    expect(result.status).toBe(200);
    expect(result.body.applied).toBe(2);
    expect(result.body.rejected).toBe(5);
    expect(result.body.results.map((r: any) => [r.status, r.reason])).toEqual([
      ['applied', null],
      ['rejected', 'below-reserved'],
      ['rejected', 'negative-stock'],
      ['rejected', 'unknown-sku'],
      ['rejected', 'unknown-warehouse'],
      ['applied', null],
      ['rejected', 'capacity-exceeded'],
    ]);
    expect(result.body.results[0]).toMatchObject({ onHand: 5, reserved: 4, available: 1 });
    expect(result.body.results[5]).toMatchObject({ onHand: 12, reserved: 4, available: 8 });
    expect(result.body.results[3]).toMatchObject({ onHand: null, reserved: null, available: null });

    const sku1 = (await callChecked(f, 'getInventory', { params: { sku: 'SKU-1' } })).body;
    expect(sku1.warehouses[0]).toMatchObject({ onHand: 12, reserved: 4, available: 8 });
    // one change per SKU per request, however many adjustments touched it
    expect(sku1.version).toBe(3);
    expect(sku1.updatedAt).toBe(new Date(f.clock.now()).toISOString());
    expect(result.effects).toEqual([{ entity: 'inventory', id: 'SKU-1', action: 'adjusted' }]);
  });

  it('with allOrNone, answers 422 and applies nothing when any adjustment is rejected', async () => {
    const f = await withReservation();
    const before = snapshot(f.state);
    const result = await callChecked(f, 'adjustStock', {
      query: { allOrNone: true },
      body: {
        adjustments: [
          { sku: 'SKU-1', warehouseId: 'WH-RTM-01', delta: 3, reason: 'receipt' },
          { sku: 'SKU-1', warehouseId: 'WH-RTM-01', delta: -10, reason: 'damage' }, // 13 → 3 < 4 reserved
        ],
      },
    });
    expect(result.status).toBe(422);
    expect(result.body.type).toBe('urn:understudy:problem:adjustments-rejected');
    expect(result.body.results.map((r: any) => r.status)).toEqual(['not-applied', 'rejected']);
    expect(result.effects ?? []).toEqual([]);
    expect(snapshot(f.state)).toEqual(before);
  });

  it('with allOrNone, applies everything when nothing is rejected', async () => {
    const f = await withReservation();
    const result = await callChecked(f, 'adjustStock', {
      query: { allOrNone: true },
      body: {
        adjustments: [
          { sku: 'SKU-1', warehouseId: 'WH-RTM-01', delta: 3, reason: 'receipt' },
          { sku: 'SKU-1', warehouseId: 'WH-RTM-01', delta: -9, reason: 'damage' }, // 13 → 4 = reserved: allowed
        ],
      },
    });
    expect(result.status).toBe(200);
    expect(result.body.applied).toBe(2);
    expect(f.state.onHand[f.state.cell(0, 0)]).toBe(4);
    expect(f.state.availableAt(f.state.cell(0, 0))).toBe(0);
  });
});
