/**
 * OData 2.0 AtomPub (MS-ODATA §2.2.6.2, RFC 4287/5023): feeds, entries, the service document and errors, as
 * Salesforce Connect's "OData 2.0" data sources read them when their Format is AtomPub (the default: SALESFORCE.md
 * §8a).
 *
 * Written as strings, by hand: no maintained npm library writes OData Atom (the OData libraries that still exist
 * are 4.0 and JSON-only; generic XML builders know nothing of m:properties, m:type or m:null), and the format is
 * fixed and small — a feed of entries, each one a fixed head and a flat list of properties. Text and attribute
 * values go through escapeXml (the shared xml-reader's), after characters XML 1.0 cannot carry at all (control
 * characters other than tab and line breaks, U+FFFE/U+FFFF) have been replaced by U+FFFD, so that whatever a row
 * holds, the document stays well-formed.
 *
 * Values as Atom writes them (text, with m:type naming the v2 type of every non-string property):
 *   Edm.Date (v2 Edm.DateTime)  2026-01-05T00:00:00
 *   Edm.DateTimeOffset          2026-01-05T10:00:00.000Z (the row's ISO 8601 instant)
 *   Edm.Decimal                 12.50 (exactly Scale fraction digits when the property has a Scale)
 *   Edm.Boolean                 true / false
 *   null                        <d:Name m:null="true"/> (with its m:type when it has one)
 *
 * Every entry needs an <updated>: an entity's own (EntityOut.updated, e.g. its ChangedAt) when the engine gives
 * one, else the feed's.
 */
import { escapeXml } from '../../xml/xml-reader.js';
import type { Model, Property } from '../model/model.js';
import type { RowValue } from '../evaluate/values.js';
import { decimalText, entityPath } from './keys.js';
import { fixedDecimal } from './v2-json.js';
import type { EntityOut, EntityWriteContext, FeedOut } from './types.js';

export const ATOM_FEED = 'application/atom+xml;type=feed;charset=utf-8';
export const ATOM_ENTRY = 'application/atom+xml;type=entry;charset=utf-8';
export const ATOM_SERVICE = 'application/atomsvc+xml;charset=utf-8';
export const XML = 'application/xml;charset=utf-8';

export const ATOM_NS = 'http://www.w3.org/2005/Atom';
export const APP_NS = 'http://www.w3.org/2007/app';
export const DATASERVICES_NS = 'http://schemas.microsoft.com/ado/2007/08/dataservices';
export const METADATA_NS = 'http://schemas.microsoft.com/ado/2007/08/dataservices/metadata';
export const SCHEME_NS = 'http://schemas.microsoft.com/ado/2007/08/dataservices/scheme';

const DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';
const NAMESPACES = `xmlns="${ATOM_NS}" xmlns:d="${DATASERVICES_NS}" xmlns:m="${METADATA_NS}"`;

// one test per value in the common case (nothing to do); the markup characters and what XML 1.0 cannot carry
const NEEDS_WORK = /[&<>"'\r\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

/** text for element content or an attribute value */
function xmlText(s: string): string {
  return NEEDS_WORK.test(s) ? escapeXml(s.replace(NOT_XML, '\uFFFD')) : s;
}

/** the v2 type name of a property (v2 has no Edm.Date: it is Edm.DateTime there, as in edmx-v2.ts) */
const v2TypeOf = (p: Property): string => (p.type === 'Edm.Date' ? 'Edm.DateTime' : p.type);

type TextWriter = (v: Exclude<RowValue, null>) => string;

function textWriterOf(p: Property): TextWriter {
  switch (p.type) {
    case 'Edm.String':
    case 'Edm.Guid':
      return (v) => xmlText(String(v));
    case 'Edm.Int64':
      return (v) => (typeof v === 'number' ? decimalText(v) : xmlText(String(v)));
    case 'Edm.Decimal': {
      const scale = p.scale;
      return (v) => (typeof v === 'number' ? fixedDecimal(v, scale) : xmlText(String(v)));
    }
    case 'Edm.Double':
      return (v) => (typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? 'NaN' : v > 0 ? 'INF' : '-INF') : xmlText(String(v)));
    case 'Edm.Date':
      return (v) => `${xmlText(String(v))}T00:00:00`;
    default:
      return (v) => xmlText(String(v));
  }
}

/** What is the same for every entry of one response: each property's tags and value writer. */
interface Plan {
  ctx: EntityWriteContext;
  /** `<category …/><link rel="edit" title="Customer" href="` */
  category: string;
  open: string[];
  close: string[];
  nulls: string[];
  writers: TextWriter[];
}

function planOf(ctx: EntityWriteContext): Plan {
  const type = ctx.set.entityType;
  const plan: Plan = {
    ctx,
    category: `<category term="${xmlText(type.qualifiedName)}" scheme="${SCHEME_NS}"/>`,
    open: [],
    close: [],
    nulls: [],
    writers: [],
  };
  for (const p of ctx.properties) {
    const typed = p.type === 'Edm.String' ? '' : ` m:type="${v2TypeOf(p)}"`;
    plan.open.push(`<d:${p.name}${typed}>`);
    plan.close.push(`</d:${p.name}>`);
    plan.nulls.push(`<d:${p.name}${typed} m:null="true"/>`);
    plan.writers.push(textWriterOf(p));
  }
  return plan;
}

/** the inside of an <entry> (everything after its start tag) */
function entryBody(plan: Plan, entity: EntityOut, updated: string): string {
  const { ctx } = plan;
  const path = entityPath(ctx.set, entity.key, 'v2');
  let s = `<id>${xmlText(ctx.serviceRoot + path)}</id>${plan.category}<link rel="edit" title="${xmlText(ctx.set.entityType.name)}" href="${xmlText(path)}"/>`;
  s += `<title/><updated>${xmlText(updated)}</updated><author><name/></author><content type="application/xml"><m:properties>`;
  const row = entity.row;
  const { properties } = ctx;
  for (let i = 0; i < properties.length; i++) {
    const v = row[properties[i].name];
    s += v === null || v === undefined ? plan.nulls[i] : plan.open[i] + plan.writers[i](v) + plan.close[i];
  }
  return `${s}</m:properties></content></entry>`;
}

const etagAttribute = (entity: EntityOut): string => (entity.etag === undefined ? '' : ` m:etag="${xmlText(entity.etag)}"`);

/** A collection as an Atom feed: `<m:count>` with $inlinecount=allpages, `<link rel="next">` when there is a next page. */
export function feedAtom(ctx: EntityWriteContext, feed: FeedOut): string {
  const plan = planOf(ctx);
  const name = xmlText(ctx.set.name);
  let s = `${DECLARATION}<feed xml:base="${xmlText(ctx.serviceRoot)}" ${NAMESPACES}>`;
  s += `<id>${xmlText(ctx.serviceRoot + ctx.set.name)}</id><title type="text">${name}</title><updated>${xmlText(feed.updated)}</updated>`;
  s += `<link rel="self" title="${name}" href="${name}"/>`;
  if (feed.count !== undefined) s += `<m:count>${feed.count}</m:count>`;
  for (const entity of feed.entities) s += `<entry${etagAttribute(entity)}>${entryBody(plan, entity, entity.updated ?? feed.updated)}`;
  if (feed.nextLink !== undefined) s += `<link rel="next" href="${xmlText(feed.nextLink)}"/>`;
  return `${s}</feed>`;
}

/** One entity as a standalone Atom entry document. */
export function entryAtom(ctx: EntityWriteContext, entity: EntityOut, updated: string): string {
  return `${DECLARATION}<entry xml:base="${xmlText(ctx.serviceRoot)}" ${NAMESPACES}${etagAttribute(entity)}>${entryBody(planOf(ctx), entity, updated)}`;
}

/** The AtomPub service document: one collection per entity set. */
export function serviceDocumentAtom(serviceRoot: string, model: Model): string {
  let s = `${DECLARATION}<service xml:base="${xmlText(serviceRoot)}" xmlns="${APP_NS}" xmlns:atom="${ATOM_NS}"><workspace><atom:title>Default</atom:title>`;
  for (const set of model.entitySets) {
    const name = xmlText(set.name);
    s += `<collection href="${name}"><atom:title>${name}</atom:title></collection>`;
  }
  return `${s}</workspace></service>`;
}

/** An error response body in XML (MS-ODATA §2.2.8.1.1). */
export function errorV2Xml(error: { code: string; message: string }): string {
  return `${DECLARATION}<error xmlns="${METADATA_NS}"><code>${xmlText(error.code)}</code><message xml:lang="en">${xmlText(error.message)}</message></error>`;
}
