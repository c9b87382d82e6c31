/**
 * How a stateful collection GET reads its query: filters and paging, worked out once per operation from the
 * parameters it declares, then applied to the records.
 *
 * Filters: a query parameter named like a property of the resource keeps the records whose property equals it
 * (any of the values, when repeated; a record's array property matches when it contains the value); a deepObject
 * parameter (`filter[tag]=dog`) filters by each of its keys that is a property. Paging: only what the operation
 * declares, by the usual names (`limit`/`per_page`/`pageSize`..., `offset`/`skip`, `page`), defaults taken from
 * the parameters' schemas; never more than the answer's array schema allows (maxItems). Anything else the
 * operation declares is accepted and ignored, as before.
 *
 * A list answered inside a wrapper object (`{ data: [...], total, has_more }`) gets its totals, page fields and
 * has-more flags filled from what was listed; its other fields stay as generated.
 */
import type { OpenAPIV3 } from 'openapi-types';
import { allowsNull, objectProperties, resolveSchema, typeOf, type Schema } from './schema-view.js';
import { isPlainObject, setOwn, type JsonObject } from './record-values.js';

const LIMIT_NAMES = new Set(['limit', 'perpage', 'pagesize', 'size', 'maxresults', 'top', '$top']);
const OFFSET_NAMES = new Set(['offset', 'skip', 'start', '$skip']);
const PAGE_NAMES = new Set(['page', 'pagenumber', 'pageno', 'pagenum']);
const TOTAL_NAMES = new Set(['total', 'totalcount', 'totalitems', 'totalresults', 'totalelements', 'totalrecords', 'count', 'totalsize']);
const HAS_MORE_NAMES = new Set(['hasmore', 'hasnext', 'hasnextpage', 'more']);
const NEXT_NAMES = new Set(['next', 'nextpage', 'nexturl', 'nextlink', 'nextcursor', 'nextpagetoken', 'cursor']);
/** array properties a wrapper most likely keeps its records in, when its schema does not say by a $ref */
const ITEMS_NAMES = ['data', 'items', 'results', 'records', 'content', 'entries', 'values', 'list', 'rows', 'elements'];

const plain = (name: string) => name.toLowerCase().replace(/[_-]/g, '');

export interface ListPlan {
  /** query parameters that filter by a property; deepObject ones by each of their properties */
  filters: string[];
  limit?: { name: string; fallback?: number };
  offset?: { name: string; fallback?: number };
  page?: { name: string; fallback?: number; zeroBased: boolean };
  /** the answer's array holds at most this many (its schema's maxItems): a page is never longer */
  maxItems?: number;
  /** where the records go in the answer: a bare array, or a wrapper object's array property */
  shape: { kind: 'array' } | { kind: 'wrapper'; raw: unknown; property: string; fields: Map<string, Schema> };
}

/** The plan for a collection GET, or undefined when its answer is neither an array nor an object holding one. */
export function planList(document: unknown, parameters: OpenAPIV3.ParameterObject[], responseRaw: unknown, resourceSchema: Schema | undefined, resourceProperties: ReadonlyMap<string, Schema>): ListPlan | undefined {
  const plan: ListPlan = { filters: [], shape: { kind: 'array' } };
  for (const p of parameters) {
    if (p.in !== 'query') continue;
    const name = plain(p.name);
    const schema = resolveSchema(document, p.schema);
    const fallback = typeof schema?.default === 'number' ? schema.default : undefined;
    if (LIMIT_NAMES.has(name) && !plan.limit) plan.limit = { name: p.name, fallback };
    else if (OFFSET_NAMES.has(name) && !plan.offset) plan.offset = { name: p.name, fallback };
    else if (PAGE_NAMES.has(name) && !plan.page) plan.page = { name: p.name, fallback, zeroBased: schema?.minimum === 0 };
    else if (resourceProperties.has(p.name) || p.style === 'deepObject') plan.filters.push(p.name);
  }
  const response = resolveSchema(document, responseRaw);
  const type = typeOf(response);
  if (response === undefined) return plan;
  if (type === 'array') {
    if (typeof response.maxItems === 'number') plan.maxItems = response.maxItems;
    return plan;
  }
  if (type !== 'object') return undefined;
  const fields = objectProperties(document, responseRaw);
  const arrays = [...fields].filter(([, s]) => typeOf(s) === 'array');
  const holdsResource = arrays.find(([, s]) => resourceSchema !== undefined && resolveSchema(document, (s as OpenAPIV3.ArraySchemaObject).items) === resourceSchema);
  const byName = ITEMS_NAMES.map((n) => arrays.find(([name]) => plain(name) === n)).find(Boolean);
  const property = (holdsResource ?? byName ?? arrays[0])?.[0];
  if (property === undefined) return undefined;
  plan.shape = { kind: 'wrapper', raw: responseRaw, property, fields };
  const maxItems = fields.get(property)!.maxItems;
  if (typeof maxItems === 'number') plan.maxItems = maxItems;
  return plan;
}

/** the records the query selects, before paging */
export function filterRecords(plan: ListPlan, records: JsonObject[], query: Record<string, unknown>, properties: ReadonlyMap<string, Schema>): JsonObject[] {
  const conditions: Array<[string, unknown]> = [];
  for (const name of plan.filters) {
    const wanted = query[name];
    if (wanted === undefined) continue;
    if (properties.has(name)) conditions.push([name, wanted]);
    else if (isPlainObject(wanted)) for (const [key, value] of Object.entries(wanted)) if (properties.has(key)) conditions.push([key, value]);
  }
  if (conditions.length === 0) return records;
  return records.filter((record) => conditions.every(([name, wanted]) => Object.prototype.hasOwnProperty.call(record, name) && matches(record[name], wanted)));
}

function matches(actual: unknown, wanted: unknown): boolean {
  if (Array.isArray(wanted)) return wanted.some((w) => matches(actual, w));
  if (Array.isArray(actual)) return actual.some((a) => matches(a, wanted));
  if (actual === null || typeof actual === 'object' || wanted === null || typeof wanted === 'object') return actual === wanted;
  return String(actual) === String(wanted);
}

export interface Page {
  records: JsonObject[];
  total: number;
  offset: number;
  limit: number | undefined;
  page: number | undefined;
  more: boolean;
}

/** the page the query asks for, by the paging parameters the operation declares */
export function pageOf(plan: ListPlan, matched: JsonObject[], query: Record<string, unknown>): Page {
  const read = (p: { name: string; fallback?: number } | undefined) => {
    const v = p ? query[p.name] : undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : p?.fallback;
    return n !== undefined && Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined;
  };
  const asked = read(plan.limit);
  const limit = plan.maxItems !== undefined && (asked === undefined || asked > plan.maxItems) ? plan.maxItems : asked;
  let page = read(plan.page);
  let offset = read(plan.offset) ?? 0;
  if (page !== undefined && limit !== undefined) {
    const index = plan.page!.zeroBased ? page : Math.max(page - 1, 0);
    offset = index * limit;
  } else if (page !== undefined && plan.page && !plan.page.zeroBased && page === 0) page = 1;
  const records = matched.slice(offset, limit === undefined ? undefined : offset + limit);
  return { records, total: matched.length, offset, limit, page, more: offset + records.length < matched.length };
}

/** The wrapper object with the page's records in its array, and its totals and page fields telling the truth. */
export function fillWrapper(document: unknown, wrapper: JsonObject, shape: Extract<ListPlan['shape'], { kind: 'wrapper' }>, page: Page, items: unknown[]): JsonObject {
  setOwn(wrapper, shape.property, items);
  fillFields(document, wrapper, shape.fields, page, 0);
  return wrapper;
}

function fillFields(document: unknown, target: JsonObject, fields: ReadonlyMap<string, Schema>, page: Page, depth: number): void {
  for (const [name, schema] of fields) {
    const type = typeOf(schema);
    const key = plain(name);
    const numeric = type === 'integer' || type === 'number';
    if (numeric && TOTAL_NAMES.has(key)) setOwn(target, name, page.total);
    else if (numeric && LIMIT_NAMES.has(key) && page.limit !== undefined) setOwn(target, name, page.limit);
    else if (numeric && OFFSET_NAMES.has(key)) setOwn(target, name, page.offset);
    else if (numeric && PAGE_NAMES.has(key) && page.page !== undefined) setOwn(target, name, page.page);
    else if (type === 'boolean' && HAS_MORE_NAMES.has(key)) setOwn(target, name, page.more);
    else if (NEXT_NAMES.has(key) && !page.more && allowsNull(schema)) setOwn(target, name, null);
    // a `meta` or `pagination` object one level down holds the same fields in many APIs
    else if (type === 'object' && depth === 0 && isPlainObject(target[name])) fillFields(document, target[name] as JsonObject, objectProperties(document, schema), page, 1);
  }
}
