/**
 * POST /stock-adjustments: bulk changes of on-hand stock (receipts, cycle counts, damage), at most 500 per
 * request. Adjustments are evaluated in order against the stock as the earlier ones of the same request left it,
 * on a scratch copy of the touched cells; only when the outcome is known is anything written, so allOrNone can
 * refuse the whole batch without undoing anything.
 */
import { problem, type RestHandler, type RestResult } from '../../protocols/rest/handler.js';
import { stockEffects } from './handler-support.js';
import { MAX_ON_HAND, type WmsState } from './state.js';

/** The bulk cap (PRODUCT.md §6): enforced here rather than with maxItems so the answer is 413, not 400. */
export const MAX_ADJUSTMENTS = 500;

interface Adjustment {
  sku: string;
  warehouseId: string;
  delta: number;
  reason: string;
}

type RejectionReason = 'unknown-sku' | 'unknown-warehouse' | 'negative-stock' | 'below-reserved' | 'capacity-exceeded';

interface AdjustmentResult {
  index: number;
  sku: string;
  warehouseId: string;
  delta: number;
  status: 'applied' | 'rejected' | 'not-applied';
  reason: RejectionReason | null;
  message: string | null;
  onHand: number | null;
  reserved: number | null;
  available: number | null;
}

export const adjustStock: RestHandler<WmsState> = (req, state): RestResult => {
  const adjustments = (req.body as { adjustments: Adjustment[] }).adjustments;
  if (adjustments.length > MAX_ADJUSTMENTS) {
    const detail = `At most ${MAX_ADJUSTMENTS} adjustments per request; received ${adjustments.length}. Nothing was applied.`;
    return problem(413, 'too-many-adjustments', detail, { limit: MAX_ADJUSTMENTS, received: adjustments.length });
  }
  const allOrNone = req.query.allOrNone === true;

  // on hand per touched cell as the adjustments so far leave it; written back only at the end
  const scratch = new Map<number, number>();
  const skuOfCell = new Map<number, number>();
  const results = adjustments.map((adjustment, index): AdjustmentResult => {
    const outcome = { index, sku: adjustment.sku, warehouseId: adjustment.warehouseId, delta: adjustment.delta };
    const skuIndex = state.skuIndex(adjustment.sku);
    const warehouseIndex = state.warehouseIndex(adjustment.warehouseId);
    if (skuIndex < 0 || warehouseIndex < 0) {
      const reason = skuIndex < 0 ? 'unknown-sku' : 'unknown-warehouse';
      const message = skuIndex < 0 ? `No SKU ${adjustment.sku}.` : `No warehouse ${adjustment.warehouseId}.`;
      return { ...outcome, status: 'rejected', reason, message, onHand: null, reserved: null, available: null };
    }
    const cell = state.cell(skuIndex, warehouseIndex);
    const onHand = scratch.get(cell) ?? state.onHand[cell];
    const reserved = state.reserved[cell];
    const after = onHand + adjustment.delta;
    const rejection = rejectionOf(onHand, reserved, adjustment.delta);
    if (rejection !== undefined) {
      return { ...outcome, status: 'rejected', ...rejection, onHand, reserved, available: onHand - reserved };
    }
    scratch.set(cell, after);
    skuOfCell.set(cell, skuIndex);
    return { ...outcome, status: 'applied', reason: null, message: null, onHand: after, reserved, available: after - reserved };
  });

  const rejected = results.filter((r) => r.status === 'rejected').length;
  if (allOrNone && rejected > 0) {
    const withheld = results.map((r): AdjustmentResult => (r.status === 'applied' ? { ...r, status: 'not-applied' } : r));
    const detail = `${rejected} of ${results.length} adjustments were rejected; with allOrNone nothing was applied.`;
    return problem(422, 'adjustments-rejected', detail, { results: withheld });
  }

  const at = state.stamp();
  for (const [cell, onHand] of scratch) state.onHand[cell] = onHand;
  const touchedSkus = [...new Set(skuOfCell.values())];
  for (const skuIndex of touchedSkus) state.touchSku(skuIndex, at);
  return {
    status: 200,
    body: { applied: results.length - rejected, rejected, results },
    effects: stockEffects(touchedSkus, 'adjusted'),
  };
};

function rejectionOf(onHand: number, reserved: number, delta: number): { reason: RejectionReason; message: string } | undefined {
  const after = onHand + delta;
  if (after < 0) return { reason: 'negative-stock', message: `On hand ${onHand} + delta ${delta} would be negative.` };
  if (after < reserved) {
    return { reason: 'below-reserved', message: `On hand ${onHand} + delta ${delta} would fall below the ${reserved} reserved.` };
  }
  if (after > MAX_ON_HAND) return { reason: 'capacity-exceeded', message: `On hand would exceed ${MAX_ON_HAND}.` };
  return undefined;
}
