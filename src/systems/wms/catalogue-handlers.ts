/**
 * Read-only handlers for the catalogue and stock levels: items, warehouses, a warehouse's stock and one SKU's
 * inventory. GET /inventory/{sku} is the benchmarked hot path: an index parse, a cached descriptor and a few
 * typed-array reads, nothing proportional to the catalogue.
 */
import type { RestHandler, RestResult } from '../../protocols/rest/handler.js';
import { encodeCursor } from './cursor.js';
import { cursorPosition, notFound, pageSize } from './handler-support.js';
import type { WmsState } from './state.js';
import { inventoryView, stockLevelView } from './views.js';

export const listItems: RestHandler<WmsState> = (req, state) => {
  const start = cursorPosition(req, 'items', state.skuCount);
  if (typeof start !== 'number') return start;
  const limit = pageSize(req);
  const category: string | undefined = req.query.category;
  const items = [];
  let index = start;
  // with a category filter a page may scan past non-matching SKUs (about 11 of every 12)
  for (; index < state.skuCount && items.length < limit; index++) {
    if (category !== undefined && state.catalogue.category(index) !== category) continue;
    items.push({ ...state.catalogue.item(index) });
  }
  return { status: 200, body: { items, nextCursor: index < state.skuCount ? encodeCursor('items', index) : null } };
};

export const getItem: RestHandler<WmsState> = (req, state) => {
  const index = state.skuIndex(req.params.sku);
  if (index < 0) return notFound('sku', req.params.sku);
  // a copy: the descriptor is shared by every workspace, and later stages (chaos drift) may edit the body
  return { status: 200, body: { ...state.catalogue.item(index) } };
};

export const listWarehouses: RestHandler<WmsState> = (_req, state) => ({
  status: 200,
  body: { warehouses: state.warehouses.map((w) => ({ ...w })) },
});

export const getWarehouse: RestHandler<WmsState> = (req, state) => {
  const index = state.warehouseIndex(req.params.warehouseId);
  if (index < 0) return notFound('warehouse', req.params.warehouseId);
  return { status: 200, body: { ...state.warehouses[index] } };
};

export const listWarehouseStock: RestHandler<WmsState> = (req, state): RestResult => {
  const warehouseIndex = state.warehouseIndex(req.params.warehouseId);
  if (warehouseIndex < 0) return notFound('warehouse', req.params.warehouseId);
  const start = cursorPosition(req, 'stock', state.skuCount);
  if (typeof start !== 'number') return start;
  const end = Math.min(state.skuCount, start + pageSize(req));
  const items = [];
  for (let index = start; index < end; index++) items.push(stockLevelView(state, index, warehouseIndex));
  return {
    status: 200,
    body: {
      warehouseId: state.warehouses[warehouseIndex].warehouseId,
      items,
      nextCursor: end < state.skuCount ? encodeCursor('stock', end) : null,
    },
  };
};

export const getInventory: RestHandler<WmsState> = (req, state) => {
  const index = state.skuIndex(req.params.sku);
  if (index < 0) return notFound('sku', req.params.sku);
  return { status: 200, body: inventoryView(state, index, state.catalogue.item(index)) };
};
