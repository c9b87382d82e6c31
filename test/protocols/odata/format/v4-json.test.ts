/**
 * v4-json.ts, read as a client reads it: JSON.parse of collections, single entities, delta responses, the service
 * document and errors over the real ERP model and rows — context URLs (with $select, /$entity, /$delta), the
 * order of the control information, value encodings, and @removed entries.
 */
import { describe, expect, it } from 'vitest';
import { entityV4, errorV4, feedV4, serviceDocumentV4, V4_JSON } from '../../../../src/protocols/odata/format/v4-json.js';
import type { EntityWriteContext } from '../../../../src/protocols/odata/format/types.js';
import type { Property } from '../../../../src/protocols/odata/model/model.js';
import { contextOf, model, out, ROOT, rowsOf, setOf } from './support.js';

type Json = Record<string, unknown>;
const parse = (text: string): Json => JSON.parse(text) as Json;
const UPDATED = '2026-03-01T09:00:00.000Z';

describe('feedV4', () => {
  const ctx = contextOf('Customers');
  const rows = rowsOf('Customers');

  it('context, count, value, nextLink in that order; every entity its ETag first, then the properties in declaration order', () => {
    const text = feedV4(ctx, {
      entities: rows.map((r, i) => out(ctx, r, `W/"${i + 1}"`)),
      count: 91,
      nextLink: `${ROOT}Customers?$skiptoken=abc`,
      updated: UPDATED,
    });
    const doc = parse(text);
    expect(Object.keys(doc)).toEqual(['@odata.context', '@odata.count', 'value', '@odata.nextLink']);
    expect(doc['@odata.context']).toBe(`${ROOT}$metadata#Customers`);
    expect(doc['@odata.count']).toBe(91);
    expect(doc['@odata.nextLink']).toBe(`${ROOT}Customers?$skiptoken=abc`);
    const value = doc.value as Json[];
    expect(value).toHaveLength(rows.length);
    const declared = setOf('Customers').entityType.properties.map((p) => p.name);
    for (const [i, entity] of value.entries()) {
      expect(Object.keys(entity)).toEqual(['@odata.etag', ...declared]);
      expect(entity['@odata.etag']).toBe(`W/"${i + 1}"`);
      const { '@odata.etag': _etag, ...props } = entity;
      expect(props).toEqual(rows[i]);
    }
    // the ETag is a JSON string holding the quotes
    expect(text).toContain('"@odata.etag":"W/\\"1\\""');
  });

  it('values as the rows hold them: Decimal and Int32 as numbers, dates and instants as text, null as null, booleans', () => {
    const lines = rowsOf('InvoiceLines');
    const lctx = contextOf('InvoiceLines');
    const doc = parse(feedV4(lctx, { entities: lines.map((r) => out(lctx, r)), updated: UPDATED }));
    const first = (doc.value as Json[])[0];
    expect(typeof first.InvoiceLineId).toBe('number');
    expect(typeof first.UnitPrice).toBe('number');
    expect(first.UnitPrice).toBe(lines[0].UnitPrice);
    const orders = rowsOf('SalesOrders');
    const octx = contextOf('SalesOrders');
    const o = (parse(feedV4(octx, { entities: orders.map((r) => out(octx, r)), updated: UPDATED })).value as Json[])[0];
    expect(o.OrderDate).toMatch(/^\d{4}-\d\d-\d\d$/);
    expect(o.CreatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(o.ExternalOrderNumber).toBeNull();
    expect('@odata.etag' in o).toBe(false);
    const c = (parse(feedV4(ctx, { entities: rows.map((r) => out(ctx, r)), updated: UPDATED })).value as Json[]).find((x) => x.CreditLimit === null);
    expect(c).toBeDefined();
    expect(c!.Blocked).toBe(false);
  });

  it('no count, no links: only context and value; an empty page is an empty array', () => {
    const doc = parse(feedV4(ctx, { entities: [], updated: UPDATED }));
    expect(doc).toEqual({ '@odata.context': `${ROOT}$metadata#Customers`, value: [] });
  });

  it('with $select: the context names the properties, entities have only them, in the $select order', () => {
    const sctx = contextOf('Customers', ['Name', 'City', 'CustomerId']);
    const doc = parse(feedV4(sctx, { entities: rows.map((r) => out(sctx, r)), count: 5, updated: UPDATED }));
    expect(doc['@odata.context']).toBe(`${ROOT}$metadata#Customers(Name,City,CustomerId)`);
    for (const e of doc.value as Json[]) expect(Object.keys(e)).toEqual(['Name', 'City', 'CustomerId']);
  });

  it('a delta response: $delta context, changed entities, then one @removed entry per removed key, then the delta link', () => {
    const removed = ['0001000099', "O'Brien & Co"];
    const doc = parse(
      feedV4(ctx, {
        entities: rows.slice(0, 2).map((r) => out(ctx, r, 'W/"7"')),
        delta: true,
        removed,
        deltaLink: `${ROOT}Customers?$deltatoken=42`,
        updated: UPDATED,
      }),
    );
    expect(Object.keys(doc)).toEqual(['@odata.context', 'value', '@odata.deltaLink']);
    expect(doc['@odata.context']).toBe(`${ROOT}$metadata#Customers/$delta`);
    expect(doc['@odata.deltaLink']).toBe(`${ROOT}Customers?$deltatoken=42`);
    const value = doc.value as Json[];
    expect(value).toHaveLength(4);
    expect(value[0].CustomerId).toBe(rows[0].CustomerId);
    expect(value[2]).toEqual({ '@removed': { reason: 'deleted' }, '@id': `${ROOT}Customers('0001000099')`, CustomerId: '0001000099' });
    expect(value[3]).toEqual({ '@removed': { reason: 'deleted' }, '@id': `${ROOT}Customers('O''Brien%20%26%20Co')`, CustomerId: "O'Brien & Co" });
  });

  it('a delta response with $select: the context keeps the list; a changed entity without its key carries its @id', () => {
    const sctx = contextOf('Customers', ['Name']);
    const doc = parse(feedV4(sctx, { entities: [out(sctx, rows[0])], delta: true, removed: [], updated: UPDATED }));
    expect(doc['@odata.context']).toBe(`${ROOT}$metadata#Customers(Name)/$delta`);
    expect((doc.value as Json[])[0]).toEqual({ '@id': `${ROOT}Customers('${rows[0].CustomerId as string}')`, Name: rows[0].Name });
  });

  it('removed keys are ignored outside a delta response', () => {
    const doc = parse(feedV4(ctx, { entities: [], removed: ['X'], updated: UPDATED }));
    expect(doc.value).toEqual([]);
  });

  it('InvoiceLines removed by number keep the number', () => {
    const lctx = contextOf('InvoiceLines');
    const doc = parse(feedV4(lctx, { entities: [], delta: true, removed: [5], updated: UPDATED }));
    expect((doc.value as Json[])[0]).toEqual({ '@removed': { reason: 'deleted' }, '@id': `${ROOT}InvoiceLines(5)`, InvoiceLineId: 5 });
  });

  it('strings with quotes, backslashes, control characters and non-BMP text survive JSON.parse unchanged', () => {
    const nasty = 'a"b\\c\n\u0001 😀 </script> \u2028';
    const row = { ...rows[0], Name: nasty };
    const doc = parse(feedV4(ctx, { entities: [out(ctx, row)], updated: UPDATED }));
    expect((doc.value as Json[])[0].Name).toBe(nasty);
  });

  it('an Edm.Double that is not finite is written as "NaN", "INF", "-INF" (JSON has no such numbers)', () => {
    const set = setOf('Products');
    const double: Property = { name: 'Weight', type: 'Edm.Double', nullable: true };
    const dctx: EntityWriteContext = { serviceRoot: ROOT, set, properties: [set.entityType.property('ProductId')!, double], selected: true };
    const doc = parse(
      feedV4(dctx, {
        entities: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5].map((w, i) => ({ row: { ProductId: `P${i}`, Weight: w }, key: `P${i}` })),
        updated: UPDATED,
      }),
    );
    expect((doc.value as Json[]).map((e) => e.Weight)).toEqual(['NaN', 'INF', '-INF', 1.5]);
  });

  it('a page of 1,000 invoice lines is written fast (the traffic path)', () => {
    const lctx = contextOf('InvoiceLines');
    const base = rowsOf('InvoiceLines');
    const entities = Array.from({ length: 1_000 }, (_, i) => out(lctx, { ...base[i % base.length], InvoiceLineId: i + 1 }));
    const feed = { entities, count: 1_000_000, nextLink: `${ROOT}InvoiceLines?$skiptoken=1000`, updated: UPDATED };
    feedV4(lctx, feed);
    const start = performance.now();
    for (let i = 0; i < 20; i++) feedV4(lctx, feed);
    const each = (performance.now() - start) / 20;
    // typically well under 2 ms; the bound only catches an accidental quadratic or per-value regex
    expect(each).toBeLessThan(25);
    expect((parse(feedV4(lctx, feed)).value as Json[]).length).toBe(1_000);
  });
});

describe('entityV4', () => {
  const ctx = contextOf('SalesOrders');
  const row = rowsOf('SalesOrders')[0];

  it('context …/$entity, the ETag, then the properties', () => {
    const doc = parse(entityV4(ctx, out(ctx, row, 'W/"3"')));
    expect(Object.keys(doc)).toEqual(['@odata.context', '@odata.etag', ...setOf('SalesOrders').entityType.properties.map((p) => p.name)]);
    expect(doc['@odata.context']).toBe(`${ROOT}$metadata#SalesOrders/$entity`);
    expect(doc['@odata.etag']).toBe('W/"3"');
    const { '@odata.context': _c, '@odata.etag': _e, ...props } = doc;
    expect(props).toEqual(row);
  });

  it('with $select: $metadata#SalesOrders(OrderStatus)/$entity', () => {
    const sctx = contextOf('SalesOrders', ['OrderStatus']);
    expect(parse(entityV4(sctx, out(sctx, row)))).toEqual({ '@odata.context': `${ROOT}$metadata#SalesOrders(OrderStatus)/$entity`, OrderStatus: row.OrderStatus });
  });
});

describe('serviceDocumentV4', () => {
  it('every entity set of the model, in order, with its URL', () => {
    expect(parse(serviceDocumentV4(ROOT, model))).toEqual({
      '@odata.context': `${ROOT}$metadata`,
      value: model.entitySets.map((s) => ({ name: s.name, kind: 'EntitySet', url: s.name })),
    });
  });
});

describe('errorV4', () => {
  it('code and message; target and details when given', () => {
    expect(parse(errorV4({ code: 'CUSTOMER_NOT_FOUND', message: 'no customer 1' }))).toEqual({ error: { code: 'CUSTOMER_NOT_FOUND', message: 'no customer 1' } });
    const doc = parse(
      errorV4({
        code: 'INVALID_BODY',
        message: 'the body has 2 problems',
        target: 'Customers',
        details: [{ code: 'INVALID_VALUE', message: 'Name must not be null', target: 'Name' }, { code: 'INVALID_VALUE', message: 'x' }],
      }),
    );
    expect(doc).toEqual({
      error: {
        code: 'INVALID_BODY',
        message: 'the body has 2 problems',
        target: 'Customers',
        details: [{ code: 'INVALID_VALUE', message: 'Name must not be null', target: 'Name' }, { code: 'INVALID_VALUE', message: 'x' }],
      },
    });
  });
});

it('the content type promises minimal metadata, streaming, numbers as numbers, UTF-8', () => {
  expect(V4_JSON).toBe('application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8');
});
