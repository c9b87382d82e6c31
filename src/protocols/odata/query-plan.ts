/**
 * A read's query options, parsed (query/), typed against the entity set's type and compiled (evaluate/) once per
 * request, in validateRequest: a 400 that names the problem before any handler runs. The plan then runs over the
 * set's rows (run()): through an index when the filter pins an indexed property (`InvoiceId eq '…'` reads one
 * invoice's lines of a million), in key order when the order allows it, with the count cached per (query, state
 * position) so that walking a large result by next links with $count=true counts once, not once per page.
 */
import type { EntitySet, Property } from './model/model.js';
import type { ODataEntitySetHandler } from './handler.js';
import {
  allOf,
  compileDoSearch,
  compileFilter,
  compileOrderBy,
  compileSearch,
  compileSelect,
  decodeSkipToken,
  page,
  QueryTypeError,
  requestDigest,
  type CompiledOrder,
  type CompiledSelect,
  type Page,
  type PagePosition,
  type RowPredicate,
  type RowSource,
} from './evaluate/index.js';
import type { Row, RowValue } from './evaluate/values.js';
import type { FilterExpr, ODataDialect, ParsedQuery } from './query/index.js';

export interface QueryPlan {
  set: EntitySet;
  query: ParsedQuery;
  /** $filter and $search / doSearch together */
  filter?: RowPredicate;
  order: CompiledOrder;
  select: CompiledSelect;
  /** binds $skiptoken and $deltatoken to these options (computed when a token is read or minted: hashing costs) */
  readonly digest: string;
  /** what the count depends on (set, $filter, $search), for the count cache */
  readonly countDigest: string;
  /** the decoded $skiptoken */
  after?: PagePosition;
  /** a conjunct `property eq value` on a property the handler may index */
  pinned?: { property: string; value: RowValue };
}

/**
 * The deepest $skip a read ordered by anything but the key may ask for: such a page keeps the $skip + page rows
 * that sort first while it reads every row (evaluate/page.ts), so `$orderby=Description&$skip=999000` over a
 * million lines would hold a million rows (seconds, hundreds of MB). Key order skips by scanning, at no memory
 * cost, and next links page any order without skipping.
 */
export const MAX_ORDERED_SKIP = 100_000;

/** Compiles the options of a read of `set`; throws QueryTypeError / SkipTokenError (400s). */
export function planQuery(set: EntitySet, query: ParsedQuery, dialect: ODataDialect): QueryPlan {
  const type = set.entityType;
  const filter = query.filter && compileFilter(type, query.filter, { dialect });
  const search = query.search ? compileSearch(type, query.search) : query.doSearch !== undefined ? compileDoSearch(type, query.doSearch) : undefined;
  const order = compileOrderBy(type, query.orderby);
  const select = compileSelect(type, query.select);
  let digest: string | undefined;
  let countDigest: string | undefined;
  const plan: QueryPlan = {
    set,
    query,
    filter: allOf(filter, search),
    order,
    select,
    get digest() {
      digest ??= requestDigest({
        entitySet: set.name,
        filter: optionText(query.filter),
        orderby: optionText(query.orderby),
        select: optionText(query.select),
        search: optionText(query.search),
        doSearch: query.doSearch,
      });
      return digest;
    },
    get countDigest() {
      countDigest ??= requestDigest({ entitySet: set.name, filter: optionText(query.filter), search: optionText(query.search), doSearch: query.doSearch });
      return countDigest;
    },
  };
  if (!order.keyOrder && query.skip !== undefined && query.skip > MAX_ORDERED_SKIP) {
    throw new QueryTypeError(
      '$skip',
      0,
      `a $skip beyond ${MAX_ORDERED_SKIP.toLocaleString('en-US')} with $orderby on anything but the key is not supported; page with the next links (server-driven paging), or order by ${type.key.join(',')}`,
    );
  }
  if (query.skiptoken !== undefined) plan.after = decodeSkipToken(query.skiptoken, plan.digest, order);
  if (query.filter) plan.pinned = pinnedEquality(set, query.filter);
  return plan;
}

/** an option's parsed form as text, the same for the same query however it was spaced */
export function optionText(v: unknown): string | undefined {
  return v === undefined ? undefined : JSON.stringify(v, withoutPositions);
}

/** positions say where in the text a node was; the same query written with other spacing is the same query */
function withoutPositions(key: string, value: unknown): unknown {
  return key === 'pos' ? undefined : value;
}

/** A top-level conjunct `Property eq literal` (either way round) whose literal is a value of the property. */
function pinnedEquality(set: EntitySet, expr: FilterExpr): QueryPlan['pinned'] {
  if (expr.kind === 'and') return pinnedEquality(set, expr.left) ?? pinnedEquality(set, expr.right);
  if (expr.kind !== 'compare' || expr.op !== 'eq') return undefined;
  const [prop, lit] = expr.left.kind === 'property' ? [expr.left, expr.right] : [expr.right, expr.left];
  if (prop.kind !== 'property' || lit.kind !== 'literal') return undefined;
  const property = set.entityType.property(prop.name);
  if (!property) return undefined;
  const value = rowValueOf(property, lit.type, lit.value);
  return value === undefined ? undefined : { property: property.name, value };
}

function rowValueOf(p: Property, literalType: string, value: unknown): RowValue | undefined {
  if (p.type === 'Edm.String' && literalType === 'Edm.String') return value as string;
  if ((p.type === 'Edm.Int32' || p.type === 'Edm.Int16' || p.type === 'Edm.Int64') && typeof value === 'number' && Number.isSafeInteger(value)) return value;
  return undefined;
}

/** counts by state object (a reset or rebuilt state starts afresh), then by query and state position */
const counts = new WeakMap<object, Map<string, number>>();
const MAX_CACHED_COUNTS = 256;

export interface RunOptions {
  pageSize: number;
  /** $count=true / $inlinecount=allpages */
  count: boolean;
  /** the state's change position (the count cache's validity), when the system has one */
  position?: number;
  /** the skiptoken carries this too (a change-tracked read: the delta link's position, fixed at the first page) */
  tracking?: number;
}

/** One page of the plan over the handler's rows. */
export function runPlan<S>(plan: QueryPlan, handler: ODataEntitySetHandler<S>, state: S, options: RunOptions): Page {
  const source = sourceFor(plan, handler, state);
  const cacheKey = options.position === undefined || !options.count ? undefined : `${plan.countDigest} ${options.position}`;
  const cache = cacheKey === undefined ? undefined : cacheOf(state as object);
  const cached = cacheKey === undefined ? undefined : cache!.get(cacheKey);
  const result = page(source, {
    filter: plan.filter,
    order: plan.order,
    pageSize: options.pageSize,
    skip: plan.query.skip,
    top: plan.query.top,
    after: plan.after,
    count: options.count && cached === undefined,
    digest: () => plan.digest,
    tracking: options.tracking,
  });
  if (options.count) {
    if (cached !== undefined) result.count = cached;
    else if (cacheKey !== undefined && result.count !== undefined) {
      if (cache!.size >= MAX_CACHED_COUNTS) cache!.clear();
      cache!.set(cacheKey, result.count);
    }
  }
  return result;
}

function cacheOf(state: object): Map<string, number> {
  let cache = counts.get(state);
  if (!cache) counts.set(state, (cache = new Map()));
  return cache;
}

/** The rows to read: the index's candidates when the filter pins an indexed property, else the whole set. */
function sourceFor<S>(plan: QueryPlan, handler: ODataEntitySetHandler<S>, state: S): RowSource {
  const all = handler.rows(state);
  const pinned = plan.pinned;
  if (!pinned || !handler.equal || handler.equal(state, pinned.property, pinned.value) === undefined) return all;
  const keyProperty = plan.set.entityType.key[0];
  // asked afresh for every pass (a page, then its count): a handler may answer with a one-shot generator; read
  // lazily, so that a page stops one row past what it needs ($top=50 of an invoice's hundred lines builds 51)
  const candidates = (): Iterable<Row> => handler.equal!(state, pinned.property, pinned.value)!;
  return {
    [Symbol.iterator]: () => candidates()[Symbol.iterator](),
    *scanFrom(afterKey: RowValue | undefined): Iterable<Row> {
      for (const row of candidates()) {
        if (afterKey === undefined || afterKey === null || (row[keyProperty] as string | number) > (afterKey as string | number)) yield row;
      }
    },
  };
}
