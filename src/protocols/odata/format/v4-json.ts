/**
 * OData 4.0 JSON (OData JSON Format 4.0, odata.metadata=minimal): collections, single entities, delta responses,
 * the service document and errors, as Salesforce Connect's "OData 4.0" and "OData 4.01" data sources read them.
 *
 * Written here rather than with a library: the npm OData servers bring their own model, routing and query
 * evaluation, and none can write a response for rows it did not fetch itself. The format is small: one object per
 * entity, control information first (`@odata.etag`), then the properties in $select order, and the whole document
 * JSON.stringify'd once — the fastest way V8 has to write a page of a thousand rows.
 *
 * Values are the rows' own (evaluate/values.ts): JSON-side already. Edm.Decimal and Edm.Int64 are JSON numbers,
 * which is what IEEE754Compatible=false (the content type below) promises; Edm.Double's NaN and ±Infinity, which
 * JSON has no number for, are the strings "NaN", "INF" and "-INF".
 *
 * Delta responses (change tracking) use OData 4.01's deleted-entity form, which Salesforce's External Change Data
 * Capture reads: `{"@removed":{"reason":"deleted"},"@id":"…","CustomerId":"…"}` — the id and the key property both,
 * so a 4.0 client that looks for the key finds it too.
 */
import type { Model, Property } from '../model/model.js';
import type { Row, RowValue } from '../evaluate/values.js';
import { entityPath } from './keys.js';
import type { EntityOut, EntityWriteContext, FeedOut } from './types.js';

export const V4_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/** `<root>$metadata#Customers` or `<root>$metadata#Customers(Name,City)` with $select */
function contextOf(ctx: EntityWriteContext): string {
  const base = `${ctx.serviceRoot}$metadata#${ctx.set.name}`;
  if (!ctx.selected) return base;
  let names = '';
  for (const p of ctx.properties) names += names === '' ? p.name : `,${p.name}`;
  return `${base}(${names})`;
}

/** any Edm.Double among the written properties (its non-finite values need their string forms) */
const hasDouble = (properties: readonly Property[]): boolean => properties.some((p) => p.type === 'Edm.Double');

function doubleValue(v: RowValue): RowValue {
  if (typeof v !== 'number' || Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'INF' : '-INF';
}

/** One entity as a plain object in the order it is written: `@odata.etag` (when given), then the properties. */
function entityObject(properties: readonly Property[], entity: EntityOut, doubles: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (entity.etag !== undefined) out['@odata.etag'] = entity.etag;
  const row: Row = entity.row;
  if (doubles) {
    for (const p of properties) out[p.name] = p.type === 'Edm.Double' ? doubleValue(row[p.name] ?? null) : (row[p.name] ?? null);
  } else {
    for (const p of properties) out[p.name] = row[p.name] ?? null;
  }
  return out;
}

/** A collection of entities, or a delta response when `feed.delta`. */
export function feedV4(ctx: EntityWriteContext, feed: FeedOut): string {
  const doubles = hasDouble(ctx.properties);
  const keyName = ctx.set.entityType.key[0];
  // a changed entity of a delta response must be identifiable: when $select left the key out, it carries its id
  const idNeeded = feed.delta === true && !ctx.properties.some((p) => p.name === keyName);
  // a whole row without control information is written as it is: rows carry every property of their type in
  // declaration order (handler.ts), and stringifying the row a handler built is twice as fast as copying it
  const asIs = !ctx.selected && !doubles && !idNeeded;
  const value: unknown[] = new Array(feed.entities.length);
  for (let i = 0; i < feed.entities.length; i++) {
    const entity = feed.entities[i];
    if (asIs && entity.etag === undefined) {
      value[i] = entity.row;
      continue;
    }
    const o = entityObject(ctx.properties, entity, doubles);
    value[i] = idNeeded ? { '@id': ctx.serviceRoot + entityPath(ctx.set, entity.key, 'v4'), ...o } : o;
  }
  if (feed.delta && feed.removed) {
    for (const key of feed.removed) {
      value.push({ '@removed': { reason: 'deleted' }, '@id': ctx.serviceRoot + entityPath(ctx.set, key, 'v4'), [keyName]: key });
    }
  }
  const doc: Record<string, unknown> = { '@odata.context': feed.delta ? `${contextOf(ctx)}/$delta` : contextOf(ctx) };
  if (feed.count !== undefined) doc['@odata.count'] = feed.count;
  doc.value = value;
  if (feed.nextLink !== undefined) doc['@odata.nextLink'] = feed.nextLink;
  if (feed.deltaLink !== undefined) doc['@odata.deltaLink'] = feed.deltaLink;
  return JSON.stringify(doc);
}

/** One entity (a read by key, the answer to a create or an update with return=representation). */
export function entityV4(ctx: EntityWriteContext, entity: EntityOut): string {
  const doc: Record<string, unknown> = { '@odata.context': `${contextOf(ctx)}/$entity` };
  if (entity.etag !== undefined) doc['@odata.etag'] = entity.etag;
  const row = entity.row;
  for (const p of ctx.properties) doc[p.name] = p.type === 'Edm.Double' ? doubleValue(row[p.name] ?? null) : (row[p.name] ?? null);
  return JSON.stringify(doc);
}

/** The service document: every entity set, by name and relative URL. */
export function serviceDocumentV4(serviceRoot: string, model: Model): string {
  return JSON.stringify({
    '@odata.context': `${serviceRoot}$metadata`,
    value: model.entitySets.map((s) => ({ name: s.name, kind: 'EntitySet', url: s.name })),
  });
}

export interface ErrorDetailV4 {
  code: string;
  message: string;
  target?: string;
}

export interface ErrorV4 extends ErrorDetailV4 {
  details?: ErrorDetailV4[];
}

/** An error response body: `{"error":{"code","message","target"?,"details"?}}` */
export function errorV4(error: ErrorV4): string {
  const detail = (d: ErrorDetailV4) => (d.target === undefined ? { code: d.code, message: d.message } : { code: d.code, message: d.message, target: d.target });
  const out: Record<string, unknown> = detail(error);
  if (error.details !== undefined && error.details.length > 0) out.details = error.details.map(detail);
  return JSON.stringify({ error: out });
}
