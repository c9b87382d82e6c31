/**
 * Reserved stock: planning where a reservation's lines come from, and the three moves of reserved units
 * (hold when reserving, give back when releasing, consume when shipping).
 *
 * Planning never writes: a reservation is all or nothing, so the plan is checked completely (unknown SKUs,
 * shortages on every line) before anything is held. Lines of one request are planned in order against what the
 * earlier lines already claimed, so two lines for the same SKU cannot both count the same units.
 */
import type { Allocation, WmsState } from './state.js';

export interface LineRequest {
  sku: string;
  quantity: number;
  warehouseId?: string;
}

export interface Shortage {
  sku: string;
  /** the warehouse the line asked for; null when any would do */
  warehouseId: string | null;
  requested: number;
  /** what this line could have had, after earlier lines of the request */
  available: number;
}

export type AllocationPlan =
  | { outcome: 'allocated'; allocations: Allocation[][] }
  | { outcome: 'unknown'; unknownSkus: string[]; unknownWarehouses: string[] }
  | { outcome: 'short'; shortages: Shortage[] };

/** Where each line's units would come from: its own warehouse, or greedily in warehouse order. */
export function planAllocations(state: WmsState, lines: readonly LineRequest[]): AllocationPlan {
  const skuIndexes = lines.map((line) => state.skuIndex(line.sku));
  const warehouseIndexes = lines.map((line) => (line.warehouseId === undefined ? -1 : state.warehouseIndex(line.warehouseId)));
  const unknownSkus = new Set<string>();
  const unknownWarehouses = new Set<string>();
  lines.forEach((line, i) => {
    if (skuIndexes[i] < 0) unknownSkus.add(line.sku);
    if (line.warehouseId !== undefined && warehouseIndexes[i] < 0) unknownWarehouses.add(line.warehouseId);
  });
  if (unknownSkus.size > 0 || unknownWarehouses.size > 0) {
    return { outcome: 'unknown', unknownSkus: [...unknownSkus], unknownWarehouses: [...unknownWarehouses] };
  }

  const claimed = new Map<number, number>();
  const unclaimed = (cell: number) => Math.max(0, state.availableAt(cell) - (claimed.get(cell) ?? 0));
  const allocations: Allocation[][] = [];
  const shortages: Shortage[] = [];
  lines.forEach((line, i) => {
    const skuIndex = skuIndexes[i];
    const candidates =
      warehouseIndexes[i] >= 0 ? [warehouseIndexes[i]] : Array.from({ length: state.warehouseCount }, (_, w) => w);
    const available = candidates.reduce((sum, w) => sum + unclaimed(state.cell(skuIndex, w)), 0);
    if (available < line.quantity) {
      shortages.push({ sku: line.sku, warehouseId: line.warehouseId ?? null, requested: line.quantity, available });
      allocations.push([]);
      return;
    }
    const lineAllocations: Allocation[] = [];
    let remaining = line.quantity;
    for (const w of candidates) {
      if (remaining === 0) break;
      const cell = state.cell(skuIndex, w);
      const take = Math.min(remaining, unclaimed(cell));
      if (take === 0) continue;
      claimed.set(cell, (claimed.get(cell) ?? 0) + take);
      lineAllocations.push({ skuIndex, warehouseIndex: w, quantity: take });
      remaining -= take;
    }
    allocations.push(lineAllocations);
  });
  return shortages.length > 0 ? { outcome: 'short', shortages } : { outcome: 'allocated', allocations };
}

/** Reserves the planned units. Returns the SKU indexes touched (each once). */
export function holdStock(state: WmsState, allocations: readonly Allocation[][], at: number): number[] {
  return moveStock(state, allocations, at, (cell, quantity) => {
    state.reserved[cell] += quantity;
  });
}

/** Gives reserved units back to `available` (a released reservation). */
export function releaseStock(state: WmsState, allocations: readonly Allocation[][], at: number): number[] {
  return moveStock(state, allocations, at, (cell, quantity) => {
    state.reserved[cell] -= quantity;
  });
}

/** Ships reserved units: they leave the warehouse, so on hand and reserved both drop. */
export function consumeStock(state: WmsState, allocations: readonly Allocation[][], at: number): number[] {
  return moveStock(state, allocations, at, (cell, quantity) => {
    state.reserved[cell] -= quantity;
    state.onHand[cell] -= quantity;
  });
}

function moveStock(
  state: WmsState,
  allocations: readonly Allocation[][],
  at: number,
  move: (cell: number, quantity: number) => void,
): number[] {
  const touched = new Set<number>();
  for (const line of allocations) {
    for (const a of line) {
      move(state.cell(a.skuIndex, a.warehouseIndex), a.quantity);
      touched.add(a.skuIndex);
    }
  }
  for (const skuIndex of touched) state.touchSku(skuIndex, at);
  return [...touched];
}
