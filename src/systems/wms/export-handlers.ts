/**
 * GET /exports/inventory: every SKU's stock as NDJSON or CSV, streamed. The body is produced by an async
 * generator in chunks of LINES_PER_CHUNK lines, so a 1,000,000-SKU export never exists in memory as a whole,
 * the transport can apply backpressure between chunks, and other requests get the event loop between them.
 */
import type { RestHandler } from '../../protocols/rest/handler.js';
import type { WmsState } from './state.js';
import { inventoryView, iso } from './views.js';

const LINES_PER_CHUNK = 1_000;

type ExportFormat = 'ndjson' | 'csv';

export const exportInventory: RestHandler<WmsState> = (req, state) => {
  const format: ExportFormat = req.query.format === 'csv' ? 'csv' : 'ndjson';
  return {
    status: 200,
    headers: {
      'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
      'content-disposition': `attachment; filename="inventory.${format}"`,
    },
    stream: inventoryChunks(state, format),
  };
};

/** The export body, chunk by chunk. Each row reflects the SKU as it is when its chunk is written. */
export async function* inventoryChunks(state: WmsState, format: ExportFormat): AsyncGenerator<string> {
  if (format === 'csv') yield csvHeader(state);
  const line = format === 'csv' ? csvLine : ndjsonLine;
  for (let start = 0; start < state.skuCount; start += LINES_PER_CHUNK) {
    const end = Math.min(state.skuCount, start + LINES_PER_CHUNK);
    let chunk = '';
    for (let index = start; index < end; index++) chunk += line(state, index);
    yield chunk;
  }
}

function ndjsonLine(state: WmsState, index: number): string {
  return JSON.stringify(inventoryView(state, index, state.catalogue.peek(index))) + '\n';
}

const CSV_COLUMNS = ['sku', 'name', 'category', 'unitOfMeasure', 'onHand', 'reserved', 'available', 'updatedAt', 'version'];

export function csvHeader(state: WmsState): string {
  return [...CSV_COLUMNS, ...state.warehouses.map((w) => `available_${w.warehouseId}`)].join(',') + '\r\n';
}

function csvLine(state: WmsState, index: number): string {
  const item = state.catalogue.peek(index);
  const firstCell = state.cell(index, 0);
  let onHand = 0;
  let reserved = 0;
  const perWarehouse: number[] = [];
  for (let w = 0; w < state.warehouseCount; w++) {
    onHand += state.onHand[firstCell + w];
    reserved += state.reserved[firstCell + w];
    perWarehouse.push(state.availableAt(firstCell + w));
  }
  const fields = [
    item.sku,
    csvField(item.name),
    item.category,
    item.unitOfMeasure,
    onHand,
    reserved,
    onHand - reserved,
    iso(state.updatedAt[index]),
    state.version[index],
    ...perWarehouse,
  ];
  return fields.join(',') + '\r\n';
}

/** RFC 4180: quote a field that contains a comma, quote or line break, doubling the quotes inside. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
