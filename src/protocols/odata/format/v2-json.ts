/**
 * OData 2.0 "verbose" JSON (MS-ODATA §2.2.6.3): what Salesforce Connect's "OData 2.0" data sources read when their
 * Format is JSON. `{"d":{"__count":"91","results":[{"__metadata":{…},…}],"__next":"…"}}` for a collection,
 * `{"d":{…}}` for one entity.
 *
 * Hand-written: no maintained npm library writes verbose JSON (it was dropped with OData 4.0; the JavaScript
 * libraries that knew it, datajs and the old WCF clients, only read it). The format is fixed and small.
 *
 * Values differ from the rows' (and from v4) where MS-ODATA says so:
 *   Edm.Int64, Edm.Decimal   JSON strings ("12.50": a Decimal with a Scale is written with exactly that many
 *                            fraction digits, as .NET's decimal and SAP Gateway write money)
 *   Edm.Date (v2 DateTime)   "\/Date(<ms since the epoch>)\/" — the date's midnight UTC
 *   Edm.DateTimeOffset       "\/Date(<ms>+0000)\/" (the instant in UTC; the suffix is the offset in minutes)
 *   Edm.Double               a number; NaN and ±Infinity as "NaN", "INF", "-INF"
 *   __count                  a string
 * Dates are written with the escaped solidus, `\/Date(…)\/`, as MS-ODATA specifies and WCF Data Services wrote: it
 * is what tells a date apart from a string that happens to read /Date(…)/ for the .NET readers that look at the raw
 * text; a JSON parser gives "/Date(…)/" either way. That is why entities are concatenated rather than
 * JSON.stringify'd (which would double the backslash); strings still go through JSON.stringify for their escaping.
 */
import type { EntitySet, Model, Property } from '../model/model.js';
import type { RowValue } from '../evaluate/values.js';
import { decimalText, entityPath } from './keys.js';
import type { EntityOut, EntityWriteContext, FeedOut } from './types.js';

export const V2_JSON = 'application/json;charset=utf-8';

type ValueWriter = (v: RowValue) => string;

const jsonValue: ValueWriter = (v) => JSON.stringify(v);

/** `\/Date(ms)\/` as JSON text (the backslashes are JSON's escape of the solidus) */
const jsonDate = (ms: number, suffix: string): string => (Number.isNaN(ms) ? 'null' : `"\\/Date(${ms}${suffix})\\/"`);

/** the v2 JSON text of a value of property `p` (the rows' values, evaluate/values.ts) */
function writerOf(p: Property): ValueWriter {
  switch (p.type) {
    case 'Edm.Int64':
      return (v) => (typeof v === 'number' ? `"${decimalText(v)}"` : JSON.stringify(v));
    case 'Edm.Decimal': {
      const scale = p.scale;
      return (v) => (typeof v === 'number' ? `"${fixedDecimal(v, scale)}"` : JSON.stringify(v));
    }
    case 'Edm.Double':
      return (v) => (typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? '"NaN"' : v > 0 ? '"INF"' : '"-INF"') : JSON.stringify(v));
    case 'Edm.Date':
      // YYYY-MM-DD: Date.parse reads a date-only form as midnight UTC
      return (v) => (typeof v === 'string' ? jsonDate(Date.parse(v), '') : JSON.stringify(v));
    case 'Edm.DateTimeOffset':
      return (v) => (typeof v === 'string' ? jsonDate(Date.parse(v), '+0000') : JSON.stringify(v));
    default:
      return jsonValue;
  }
}

/** a Decimal with exactly `scale` fraction digits when the property has a Scale, else as short as it reads */
export function fixedDecimal(v: number, scale: number | undefined): string {
  if (scale === undefined || !(Math.abs(v) < 1e21)) return decimalText(v);
  return v.toFixed(scale);
}

/** What is the same for every entity of one response: the properties' names as JSON and their writers. */
interface Plan {
  root: string;
  set: EntitySet;
  typeJson: string;
  names: string[];
  writers: ValueWriter[];
  properties: readonly Property[];
}

function planOf(ctx: EntityWriteContext): Plan {
  return {
    root: ctx.serviceRoot,
    set: ctx.set,
    typeJson: JSON.stringify(ctx.set.entityType.qualifiedName),
    names: ctx.properties.map((p) => `${JSON.stringify(p.name)}:`),
    writers: ctx.properties.map(writerOf),
    properties: ctx.properties,
  };
}

function entityText(plan: Plan, entity: EntityOut): string {
  const uri = JSON.stringify(plan.root + entityPath(plan.set, entity.key, 'v2'));
  let s = `{"__metadata":{"id":${uri},"uri":${uri},"type":${plan.typeJson}`;
  if (entity.etag !== undefined) s += `,"etag":${JSON.stringify(entity.etag)}`;
  s += '}';
  const row = entity.row;
  const { names, writers, properties } = plan;
  for (let i = 0; i < names.length; i++) {
    const v = row[properties[i].name];
    s += `,${names[i]}${v === null || v === undefined ? 'null' : writers[i](v)}`;
  }
  return `${s}}`;
}

/** A collection: `{"d":{"__count":"N"?,"results":[…],"__next":"…"?}}` */
export function feedV2Json(ctx: EntityWriteContext, feed: FeedOut): string {
  const plan = planOf(ctx);
  let s = '{"d":{';
  if (feed.count !== undefined) s += `"__count":"${feed.count}",`;
  s += '"results":[';
  for (let i = 0; i < feed.entities.length; i++) s += (i === 0 ? '' : ',') + entityText(plan, feed.entities[i]);
  s += ']';
  if (feed.nextLink !== undefined) s += `,"__next":${JSON.stringify(feed.nextLink)}`;
  return `${s}}}`;
}

/** One entity: `{"d":{"__metadata":{…},…}}` */
export function entityV2Json(ctx: EntityWriteContext, entity: EntityOut): string {
  return `{"d":${entityText(planOf(ctx), entity)}}`;
}

/** The service document: `{"d":{"EntitySets":["Customers",…]}}` */
export function serviceDocumentV2Json(model: Model): string {
  return JSON.stringify({ d: { EntitySets: model.entitySets.map((s) => s.name) } });
}

/** An error response body: `{"error":{"code":"…","message":{"lang":"en","value":"…"}}}` */
export function errorV2Json(error: { code: string; message: string }): string {
  return JSON.stringify({ error: { code: error.code, message: { lang: 'en', value: error.message } } });
}
