/**
 * The streamed inventory export: NDJSON and CSV, one record per SKU, delivered in chunks of many lines.
 */
import { describe, expect, it } from 'vitest';
import { csvField } from '../../../src/systems/wms/export-handlers.js';
import { callChecked, drain, wms } from './fixtures.js';

describe('exportInventory', () => {
  it('streams 10,000 SKUs as NDJSON, in chunks of many lines, each line an inventory record', async () => {
    const f = wms({ skus: 10_000 });
    const result = await callChecked(f, 'exportInventory', { query: {} });
    expect(result.status).toBe(200);
    expect(result.headers?.['content-type']).toBe('application/x-ndjson');
    expect(result.headers?.['content-disposition']).toBe('attachment; filename="inventory.ndjson"');
    expect(result.body).toBeUndefined();
    const chunks = await drain(result.stream!);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.length).toBeLessThanOrEqual(100); // many lines per chunk, not one
    const text = chunks.join('');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(10_000);
    expect(JSON.parse(lines[0]).sku).toBe('SKU-1');
    expect(JSON.parse(lines[9_999]).sku).toBe('SKU-10000');
    expect(JSON.parse(lines[41])).toEqual((await callChecked(f, 'getInventory', { params: { sku: 'SKU-42' } })).body);
  });

  it('streams CSV with a header row and one row per SKU', async () => {
    const f = wms({ skus: 10_000, warehouses: 2 });
    const result = await callChecked(f, 'exportInventory', { query: { format: 'csv' } });
    expect(result.headers?.['content-type']).toBe('text/csv; charset=utf-8');
    const text = (await drain(result.stream!)).join('');
    const rows = text.split('\r\n');
    expect(rows.pop()).toBe(''); // every row ends with CRLF
    expect(rows).toHaveLength(10_001);
    expect(rows[0]).toBe('sku,name,category,unitOfMeasure,onHand,reserved,available,updatedAt,version,available_WH-RTM-01,available_WH-ATL-01');
    const inventory = (await callChecked(f, 'getInventory', { params: { sku: 'SKU-3' } })).body;
    const item = (await callChecked(f, 'getItem', { params: { sku: 'SKU-3' } })).body;
    expect(rows[3]).toBe(
      [
        'SKU-3',
        item.name,
        item.category,
        item.unitOfMeasure,
        inventory.onHand,
        inventory.reserved,
        inventory.available,
        inventory.updatedAt,
        inventory.version,
        inventory.warehouses[0].available,
        inventory.warehouses[1].available,
      ].join(','),
    );
  });

  it('shows writes made before the export', async () => {
    const f = wms({ skus: 100 });
    f.state.onHand.set([20, 0, 0], f.state.cell(6, 0));
    await callChecked(f, 'createReservation', { body: { externalOrderId: 'SO-1', lines: [{ sku: 'SKU-7', quantity: 5 }] } });
    const lines = (await drain((await f.call('exportInventory', { query: { format: 'ndjson' } })).stream!)).join('').trimEnd().split('\n');
    expect(JSON.parse(lines[6])).toMatchObject({ sku: 'SKU-7', onHand: 20, reserved: 5, available: 15, version: 2 });
  });

  it('quotes CSV fields that need it', () => {
    expect(csvField('Plain name')).toBe('Plain name');
    expect(csvField('Bolts, M6')).toBe('"Bolts, M6"');
    expect(csvField('12" ruler')).toBe('"12"" ruler"');
  });
});
