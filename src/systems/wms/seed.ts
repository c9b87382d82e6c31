/**
 * The seeded starting stock: on-hand quantities per SKU × warehouse and each SKU's last-changed timestamp.
 *
 * A workspace's state starts as a copy of this template. The template is a pure function of
 * (seed, SKU count, warehouse count), so it is built once and shared (bounded) by every workspace with the same
 * configuration; creating a workspace's state is then a few typed-array copies, whatever the catalogue size.
 *
 * Seeded timestamps are spread over the 90 days before SEED_EPOCH_MS and never depend on the current time, so
 * that the same seed gives byte-identical data on every machine and every day. They increase with the SKU
 * index, which lets the change feed binary-search the seeded part by `updatedSince`.
 */
import { seededRandom } from '../../util/seeded-random.js';

/** 2026-01-01T00:00:00Z: every seeded timestamp lies before it. */
export const SEED_EPOCH_MS = Date.UTC(2026, 0, 1);

const SEEDED_UPDATES_SPAN_S = 90 * 86_400;
/** Share of SKU × warehouse cells that start out of stock. */
const OUT_OF_STOCK_SHARE = 0.12;
const MAX_SEEDED_ON_HAND = 600;

export interface StockTemplate {
  /** on hand per cell; cell = skuIndex * warehouseCount + warehouseIndex */
  readonly onHand: Int32Array;
  /** last change per SKU (ms since epoch), non-decreasing in the SKU index */
  readonly updatedAt: Float64Array;
}

/** Most templates kept: each holds (warehouses × 4 + 8) bytes per SKU. */
const TEMPLATES_REMEMBERED = 2;
const templates = new Map<string, StockTemplate>();

export function stockTemplate(seed: number, skuCount: number, warehouseCount: number): StockTemplate {
  const key = `${seed}:${skuCount}:${warehouseCount}`;
  let template = templates.get(key);
  if (template === undefined) {
    if (templates.size >= TEMPLATES_REMEMBERED) templates.delete(templates.keys().next().value as string);
    template = buildTemplate(seed, skuCount, warehouseCount);
    templates.set(key, template);
  }
  return template;
}

function buildTemplate(seed: number, skuCount: number, warehouseCount: number): StockTemplate {
  // One stream for the whole template: a per-SKU generator would hash a key per SKU, which costs more than the
  // numbers themselves at 1,000,000 SKUs. SKU i's stock depends only on (seed, warehouses, i).
  const next = seededRandom(seed, 'stock', warehouseCount);
  const onHand = new Int32Array(skuCount * warehouseCount);
  const updatedAt = new Float64Array(skuCount);
  const spanStart = SEED_EPOCH_MS - SEEDED_UPDATES_SPAN_S * 1000;
  for (let sku = 0; sku < skuCount; sku++) {
    for (let w = 0; w < warehouseCount; w++) {
      const inStock = next() >= OUT_OF_STOCK_SHARE;
      // squared: most cells hold a little, a few hold a lot
      const quantity = 1 + Math.floor(next() ** 2 * MAX_SEEDED_ON_HAND);
      onHand[sku * warehouseCount + w] = inStock ? quantity : 0;
    }
    // (sku + r) / skuCount increases strictly with sku, so the whole-second floor never decreases
    const offsetS = Math.floor(((sku + next()) * SEEDED_UPDATES_SPAN_S) / skuCount);
    updatedAt[sku] = spanStart + offsetS * 1000;
  }
  return { onHand, updatedAt };
}
