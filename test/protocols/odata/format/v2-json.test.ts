/**
 * v2-json.ts (MS-ODATA verbose JSON), read as a v2 client reads it: `d.results`, `__count` as a string,
 * `__next`, `__metadata` (id, uri, type, etag), Int64/Decimal as strings with the property's scale, dates as
 * \/Date(ms)\/ and instants as \/Date(ms+0000)\/ — over the real ERP model and rows.
 */
import { describe, expect, it } from 'vitest';
import { entityV2Json, errorV2Json, feedV2Json, fixedDecimal, serviceDocumentV2Json, V2_JSON } from '../../../../src/protocols/odata/format/v2-json.js';
import type { EntityWriteContext } from '../../../../src/protocols/odata/format/types.js';
import type { Property } from '../../../../src/protocols/odata/model/model.js';
import { contextOf, model, out, ROOT_V2 as ROOT, rowsOf, setOf } from './support.js';

type Json = Record<string, unknown>;
const parse = (text: string): Json => JSON.parse(text) as Json;
const UPDATED = '2026-03-01T09:00:00.000Z';
const d = (text: string): Json => parse(text).d as Json;

describe('feedV2Json', () => {
  const ctx = contextOf('Customers', undefined, ROOT);
  const rows = rowsOf('Customers');

  it('{"d":{"__count":"N","results":[…],"__next":"…"}}: the count is a string', () => {
    const doc = parse(feedV2Json(ctx, { entities: rows.map((r) => out(ctx, r)), count: 91, nextLink: `${ROOT}Customers?$skiptoken='x'&$top=5`, updated: UPDATED }));
    expect(Object.keys(doc)).toEqual(['d']);
    const body = doc.d as Json;
    expect(Object.keys(body)).toEqual(['__count', 'results', '__next']);
    expect(body.__count).toBe('91');
    expect(body.__next).toBe(`${ROOT}Customers?$skiptoken='x'&$top=5`);
    expect(body.results).toHaveLength(rows.length);
  });

  it('without count and next link: only results', () => {
    expect(parse(feedV2Json(ctx, { entities: [], updated: UPDATED }))).toEqual({ d: { results: [] } });
  });

  it('each entity: __metadata (id, uri, type, etag) first, then the properties in declaration order', () => {
    const body = d(feedV2Json(ctx, { entities: rows.map((r, i) => out(ctx, r, `W/"${i}"`)), updated: UPDATED }));
    const declared = setOf('Customers').entityType.properties.map((p) => p.name);
    for (const [i, e] of (body.results as Json[]).entries()) {
      expect(Object.keys(e)).toEqual(['__metadata', ...declared]);
      const uri = `${ROOT}Customers('${rows[i].CustomerId as string}')`;
      expect(e.__metadata).toEqual({ id: uri, uri, type: 'Understudy.Erp.Customer', etag: `W/"${i}"` });
    }
    const noEtag = d(feedV2Json(ctx, { entities: [out(ctx, rows[0])], updated: UPDATED }));
    expect(Object.keys((noEtag.results as Json[])[0].__metadata as Json)).toEqual(['id', 'uri', 'type']);
  });

  it('Decimal as a string with the property scale, Int32 as a number, null as null, booleans', () => {
    const body = d(feedV2Json(ctx, { entities: rows.map((r) => out(ctx, r)), updated: UPDATED }));
    const results = body.results as Json[];
    for (const [i, e] of results.entries()) {
      expect(e.OpenOrderValue).toBe((rows[i].OpenOrderValue as number).toFixed(2));
      expect(e.CreditLimit).toBe(rows[i].CreditLimit === null ? null : (rows[i].CreditLimit as number).toFixed(2));
      expect(e.Blocked).toBe(rows[i].Blocked);
      expect(e.Name).toBe(rows[i].Name);
    }
    // 160000 with Scale 2 → "160000.00"; 0 → "0.00"
    expect(results.some((e) => e.CreditLimit === '160000.00')).toBe(true);
    expect(results[0].OpenOrderValue).toBe('0.00');
    const lctx = contextOf('InvoiceLines', undefined, ROOT);
    const line = (d(feedV2Json(lctx, { entities: [out(lctx, { ...rowsOf('InvoiceLines')[0], UnitPrice: 12.5 })], updated: UPDATED })).results as Json[])[0];
    expect(line.UnitPrice).toBe('12.50');
    expect(line.Quantity).toBeTypeOf('number');
    expect(line.InvoiceLineId).toBe(1);
  });

  it('Edm.Date as "/Date(ms)/" (midnight UTC), Edm.DateTimeOffset as "/Date(ms+0000)/", written with the escaped solidus', () => {
    const octx = contextOf('SalesOrders', undefined, ROOT);
    const orders = rowsOf('SalesOrders');
    const text = feedV2Json(octx, { entities: orders.map((r) => out(octx, r)), updated: UPDATED });
    expect(text).toContain(`"OrderDate":"\\/Date(${Date.parse(orders[0].OrderDate as string)})\\/"`);
    const results = d(text).results as Json[];
    for (const [i, e] of results.entries()) {
      expect(e.OrderDate).toBe(`/Date(${Date.parse(`${orders[i].OrderDate as string}T00:00:00Z`)})/`);
      expect(e.CreatedAt).toBe(`/Date(${Date.parse(orders[i].CreatedAt as string)}+0000)/`);
      if (orders[i].RequestedDeliveryDate === null) expect(e.RequestedDeliveryDate).toBeNull();
    }
    expect(results[0].OrderDate).toBe('/Date(1703808000000)/'); // 2023-12-29
  });

  it('Int64 as a string; a Double as a number, or "NaN"/"INF"/"-INF"', () => {
    const set = setOf('Products');
    const big: Property = { name: 'Big', type: 'Edm.Int64', nullable: true };
    const dbl: Property = { name: 'Weight', type: 'Edm.Double', nullable: true };
    const c: EntityWriteContext = { serviceRoot: ROOT, set, properties: [big, dbl], selected: true };
    const values = [
      [9007199254740991, 1.5],
      [-3, Number.NaN],
      [0, Number.POSITIVE_INFINITY],
      [null, Number.NEGATIVE_INFINITY],
    ];
    const results = d(feedV2Json(c, { entities: values.map(([b, w], i) => ({ row: { Big: b, Weight: w }, key: `P${i}` })), updated: UPDATED })).results as Json[];
    expect(results.map((e) => [e.Big, e.Weight])).toEqual([
      ['9007199254740991', 1.5],
      ['-3', 'NaN'],
      ['0', 'INF'],
      [null, '-INF'],
    ]);
  });

  it('with $select: only the selected properties; __metadata still names the entity by its key', () => {
    const sctx = contextOf('Customers', ['Name'], ROOT);
    const e = (d(feedV2Json(sctx, { entities: [out(sctx, rows[1])], updated: UPDATED })).results as Json[])[0];
    expect(Object.keys(e)).toEqual(['__metadata', 'Name']);
    expect((e.__metadata as Json).uri).toBe(`${ROOT}Customers('${rows[1].CustomerId as string}')`);
  });

  it('strings with quotes, backslashes, "/Date(0)/" look-alikes and control characters survive', () => {
    const nasty = 'x"y\\z /Date(0)/ \\/Date(1)\\/ \u0000\u001f 😀';
    const e = (d(feedV2Json(ctx, { entities: [out(ctx, { ...rows[0], Name: nasty, CustomerId: "it's/1" })], updated: UPDATED })).results as Json[])[0];
    expect(e.Name).toBe(nasty);
    expect((e.__metadata as Json).uri).toBe(`${ROOT}Customers('it''s%2F1')`);
  });
});

describe('entityV2Json', () => {
  it('{"d":{"__metadata":…,…}} with the properties as in a feed', () => {
    const ctx = contextOf('Invoices', undefined, ROOT);
    const row = rowsOf('Invoices')[0];
    const body = d(entityV2Json(ctx, out(ctx, row, 'W/"9"')));
    expect(body.__metadata).toEqual({ id: `${ROOT}Invoices('${row.InvoiceId as string}')`, uri: `${ROOT}Invoices('${row.InvoiceId as string}')`, type: 'Understudy.Erp.Invoice', etag: 'W/"9"' });
    expect(body.InvoiceDate).toBe(`/Date(${Date.parse(row.InvoiceDate as string)})/`);
    expect(body.NetAmount).toBe((row.NetAmount as number).toFixed(2));
    expect(body.LineCount).toBe(row.LineCount);
  });
});

describe('serviceDocumentV2Json, errorV2Json', () => {
  it('the entity set names', () => {
    expect(parse(serviceDocumentV2Json(model))).toEqual({ d: { EntitySets: ['Customers', 'Products', 'SalesOrders', 'Invoices', 'InvoiceLines'] } });
  });
  it('an error: code, and the message with its language', () => {
    expect(parse(errorV2Json({ code: 'ORDER_LOCKED', message: 'the order is "INVOICED"' }))).toEqual({
      error: { code: 'ORDER_LOCKED', message: { lang: 'en', value: 'the order is "INVOICED"' } },
    });
  });
  it('the content type', () => {
    expect(V2_JSON).toBe('application/json;charset=utf-8');
  });
});

describe('fixedDecimal', () => {
  it('exactly Scale digits; as short as it reads without one; never an exponent', () => {
    expect(fixedDecimal(12.5, 2)).toBe('12.50');
    expect(fixedDecimal(0, 2)).toBe('0.00');
    expect(fixedDecimal(-0.1, 2)).toBe('-0.10');
    expect(fixedDecimal(9999999999999.99, 2)).toBe('9999999999999.99');
    expect(fixedDecimal(1.005, 3)).toBe('1.005');
    expect(fixedDecimal(12.5, undefined)).toBe('12.5');
    expect(fixedDecimal(12, 0)).toBe('12');
    expect(fixedDecimal(1e-7, undefined)).toBe('0.0000001');
  });
});
