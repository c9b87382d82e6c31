/**
 * The reads of an entity set: a query (one page, server-driven paging by $skiptoken next links that keep the
 * request's other options), the count (/$count), one entity by key (ETag, If-None-Match → 304), and the change
 * tracking of OData 4.0: a query carrying `Prefer: odata.track-changes` gets `Preference-Applied` and, on its last
 * page, an `@odata.deltaLink`; following it (`delta`) answers the entities changed since — changed ones as rows,
 * removed ones (and ones that no longer pass the link's $filter) as `@removed` — paged like any result, with a new
 * delta link on the last page.
 */
import { originOf } from '../../engine/base-url.js';
import type { Exchange, Reply } from '../../engine/exchange.js';
import { decodeDeltaToken, encodeDeltaToken } from './delta-token.js';
import { encodeSkipToken, requestDigest } from './evaluate/skiptoken.js';
import type { Row, RowValue } from './evaluate/values.js';
import { entityPath } from './format/index.js';
import type { EntityOut, EntityWriteContext, FeedOut } from './format/types.js';
import type { ODataEntitySetHandler } from './handler.js';
import type { EntitySet } from './model/model.js';
import type { ODataEngine, ParsedOData } from './odata-engine.js';
import { optionText, runPlan } from './query-plan.js';
import { emptyReply, entityReply, errorReply, feedReply, textReply } from './respond.js';

export interface ReadContext {
  engine: ODataEngine;
  exchange: Exchange;
  state: unknown;
  parsed: ParsedOData;
  /** the absolute service root, ending in '/' */
  root: string;
  handler: ODataEntitySetHandler<unknown>;
}

/** `https://host[/w/ws]/mount/`, or the problem with the Host header. */
export function serviceRootOf(exchange: Exchange, mount: string): string | { problem: string } {
  const origin = originOf(exchange);
  if ('badHost' in origin) return { problem: `The Host header "${origin.badHost}" is not a host name; links in the response are built from it.` };
  return `${origin.origin}${exchange.prefix}${mount}/`;
}

function setOf(ctx: ReadContext): EntitySet {
  const r = ctx.parsed.resource;
  if (r.kind !== 'collection' && r.kind !== 'entity' && r.kind !== 'count') throw new Error('not an entity set resource');
  return r.set;
}

export function writeContext(ctx: ReadContext, set: EntitySet): EntityWriteContext {
  const select = ctx.parsed.plan?.select;
  const type = set.entityType;
  return {
    serviceRoot: ctx.root,
    set,
    properties: select && !select.all ? select.properties.map((name) => type.property(name)!) : type.properties,
    selected: select !== undefined && !select.all,
  };
}

/** a row as written: projected, with its key and ETag */
export function entityOut(ctx: ReadContext, set: EntitySet, row: Row): EntityOut {
  const key = row[set.entityType.key[0]];
  const out: EntityOut = { row: ctx.parsed.plan ? ctx.parsed.plan.select.project(row) : row, key };
  const token = ctx.handler.etag?.(ctx.state, row);
  if (token !== undefined) out.etag = `W/"${token}"`;
  return out;
}

/** The request's preferences (RFC 7240), lower-cased names: odata.track-changes, odata.maxpagesize=N, return=… */
export function preferences(exchange: Exchange): Map<string, string> {
  const out = new Map<string, string>();
  const header = exchange.headers.prefer;
  const text = Array.isArray(header) ? header.join(',') : header;
  if (!text) return out;
  for (const part of text.split(',')) {
    const [name, value = ''] = part.split(';')[0].split('=');
    if (name.trim()) out.set(name.trim().toLowerCase(), value.trim().replace(/^"|"$/g, ''));
  }
  return out;
}

function pageSizeOf(ctx: ReadContext, prefs: Map<string, string>, applied: string[]): number {
  const size = ctx.engine.options.pageSize;
  const asked = Number(prefs.get('odata.maxpagesize'));
  if (ctx.engine.dialect === 'v4' && Number.isSafeInteger(asked) && asked > 0 && asked < size) {
    applied.push(`odata.maxpagesize=${asked}`);
    return asked;
  }
  return size;
}

/** The request's URL with its $skiptoken replaced by `token` (the next link keeps every other option as sent). */
function linkWith(ctx: ReadContext, set: EntitySet, replace: string, value: string, drop: readonly string[] = []): string {
  const kept = ctx.exchange.rawQuery
    .split('&')
    .filter((part) => {
      if (part === '') return false;
      const name = safeDecode(part.split('=')[0]).replace(/^\$/, '').toLowerCase();
      return name !== replace && !drop.includes(name);
    });
  kept.push(`$${replace}=${value}`);
  return `${ctx.root}${set.name}?${kept.join('&')}`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** the options a delta link carries besides its token: the tracked query's $filter, $select and $search */
function deltaLink(ctx: ReadContext, set: EntitySet, token: string): string {
  const kept = ctx.exchange.rawQuery.split('&').filter((part) => /^\$?(filter|select|search)=/i.test(part) || /^doSearch=/.test(part));
  kept.push(`$deltatoken=${token}`);
  return `${ctx.root}${set.name}?${kept.join('&')}`;
}

/** what a delta link is bound to: the entity set and the tracked query (not its order or page) */
function deltaDigest(ctx: ReadContext, set: EntitySet): string {
  const q = ctx.parsed.query!;
  return requestDigest({ entitySet: `${set.name}/delta`, filter: optionText(q.filter), select: optionText(q.select), search: optionText(q.search), doSearch: q.doSearch });
}

/**
 * A change-tracked read: asked for with the preference, or a later page of one (its next link's token carries the
 * tracked position, and a client following next links need not repeat the header)
 */
function changeTracked(ctx: ReadContext, prefs: Map<string, string>): boolean {
  if (ctx.engine.dialect !== 'v4' || ctx.handler.changedKeys === undefined || ctx.engine.definition.position === undefined) return false;
  return prefs.has('odata.track-changes') || ctx.parsed.plan?.after?.p !== undefined;
}

function withPreferences(reply: Reply, applied: string[]): Reply {
  if (applied.length) reply.headers['preference-applied'] = applied.join(', ');
  return reply;
}

export function serveQuery(ctx: ReadContext): Reply {
  const set = setOf(ctx);
  const plan = ctx.parsed.plan!;
  const prefs = preferences(ctx.exchange);
  const applied: string[] = [];
  const pageSize = pageSizeOf(ctx, prefs, applied);
  const position = ctx.engine.definition.position?.(ctx.state);
  const tracked = changeTracked(ctx, prefs);
  if (tracked) applied.push('odata.track-changes');
  const result = runPlan(plan, ctx.handler, ctx.state, {
    pageSize,
    count: plan.query.count === true,
    position,
    tracking: tracked ? (plan.after?.p ?? position) : undefined,
  });
  const feed: FeedOut = {
    entities: result.rows.map((row) => entityOut(ctx, set, row)),
    count: result.count,
    updated: new Date(ctx.exchange.startedAt).toISOString(),
  };
  if (result.nextToken !== undefined) feed.nextLink = linkWith(ctx, set, 'skiptoken', result.nextToken);
  else if (tracked) {
    const from = plan.after?.p ?? position!;
    feed.deltaLink = deltaLink(ctx, set, encodeDeltaToken({ epoch: ctx.exchange.workspace.states.epoch, position: from }, deltaDigest(ctx, set)));
  }
  return withPreferences(feedReply(ctx.parsed.voice, writeContext(ctx, set), feed), applied);
}

export function serveCount(ctx: ReadContext): Reply {
  const plan = ctx.parsed.plan!;
  const result = runPlan(plan, ctx.handler, ctx.state, { pageSize: 1, count: true, position: ctx.engine.definition.position?.(ctx.state) });
  return textReply(200, ctx.parsed.voice, 'text/plain;charset=utf-8', String(result.count ?? 0));
}

export function serveEntity(ctx: ReadContext): Reply {
  const resource = ctx.parsed.resource;
  if (resource.kind !== 'entity') throw new Error('not an entity');
  const row = ctx.handler.byKey(ctx.state, resource.key);
  if (!row) return notFound(ctx, resource.set, resource.key);
  const out = entityOut(ctx, resource.set, row);
  const ifNoneMatch = ctx.exchange.headers['if-none-match'];
  if (out.etag !== undefined && typeof ifNoneMatch === 'string' && etagListMatches(ifNoneMatch, out.etag)) {
    const reply = emptyReply(304, ctx.parsed.voice);
    reply.headers.etag = out.etag;
    return reply;
  }
  return entityReply(200, ctx.parsed.voice, writeContext(ctx, resource.set), out, new Date(ctx.exchange.startedAt).toISOString());
}

export function notFound(ctx: ReadContext, set: EntitySet, key: RowValue): Reply {
  return errorReply(404, ctx.parsed.voice, {
    code: 'NOT_FOUND',
    message: `No ${set.entityType.name} with ${set.entityType.key[0]} ${JSON.stringify(key)} exists: ${entityPath(set, key, ctx.engine.dialect)} was not found.`,
  });
}

/** If-Match / If-None-Match: `*`, or a list of entity tags compared weakly (W/"3" matches "3"). */
export function etagListMatches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const want = opaque(etag);
  return header.split(',').some((tag) => opaque(tag.trim()) === want);
}

function opaque(tag: string): string {
  const t = tag.startsWith('W/') ? tag.slice(2) : tag;
  return t.startsWith('"') && t.endsWith('"') && t.length >= 2 ? t.slice(1, -1) : t;
}

/** Following a delta link: the entities changed after its position, in key order, paged. */
export function serveDelta(ctx: ReadContext): Reply {
  const set = setOf(ctx);
  const plan = ctx.parsed.plan!;
  const q = plan.query;
  const voice = ctx.parsed.voice;
  if (!plan.order.keyOrder || q.top !== undefined || q.skip !== undefined) {
    return errorReply(400, voice, { code: 'NOT_SUPPORTED', message: 'A delta link is read as it was given: $orderby, $top and $skip are not supported with $deltatoken.' });
  }
  const current = ctx.engine.definition.position!(ctx.state);
  const epoch = ctx.exchange.workspace.states.epoch;
  const digest = deltaDigest(ctx, set);
  const from = decodeDeltaToken(q.deltatoken!, digest, { epoch, position: current }).position;
  const to = plan.after?.p ?? current;
  const afterKey = plan.after?.k[plan.after.k.length - 1];
  const prefs = preferences(ctx.exchange);
  const applied: string[] = [];
  const pageSize = pageSizeOf(ctx, prefs, applied);

  const keys = ctx.handler.changedKeys!(ctx.state, from, to);
  let start = 0;
  if (afterKey !== undefined && afterKey !== null) while (start < keys.length && (keys[start] as string | number) <= (afterKey as string | number)) start++;
  const slice = keys.slice(start, start + pageSize);
  const entities: EntityOut[] = [];
  const removed: RowValue[] = [];
  for (const key of slice) {
    const row = ctx.handler.byKey(ctx.state, key);
    if (row && (!plan.filter || plan.filter(row))) entities.push(entityOut(ctx, set, row));
    else removed.push(key);
  }
  const feed: FeedOut = { entities, removed, delta: true, updated: new Date(ctx.exchange.startedAt).toISOString() };
  if (start + pageSize < keys.length) {
    const last = slice[slice.length - 1];
    const token = encodeSkipToken({ k: plan.order.keys.map((k) => (k.property === set.entityType.key[0] ? last : null)), n: 0, p: to }, plan.digest);
    feed.nextLink = linkWith(ctx, set, 'skiptoken', token);
  } else {
    feed.deltaLink = deltaLink(ctx, set, encodeDeltaToken({ epoch, position: to }, digest));
  }
  return withPreferences(feedReply(voice, writeContext(ctx, set), feed), applied);
}
