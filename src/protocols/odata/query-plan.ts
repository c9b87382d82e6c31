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
  /**
   * a conjunct `property eq value` on a property the handler may index, or a disjunction of them on one property
   * (`CustomerId eq 'a' or CustomerId eq 'b' …`: what Salesforce sends to resolve a page of lookups)
   */
  pinned?: { property: string; values: RowValue[] };
  /** conditions the filter evaluates per row (comparisons, function calls, search terms): a scan's work per row */
  conditions: number;
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
    conditions: conditionsOf(query.filter) + searchTermsOf(query.search) + (query.doSearch !== undefined ? 1 : 0),
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

/**
 * What the filter implies about one property: that it equals one of a few literals — from a top-level conjunct
 * `Property eq literal` (either way round), or a disjunction whose every side implies that of the same property.
 */
function pinnedEquality(set: EntitySet, expr: FilterExpr): QueryPlan['pinned'] {
  if (expr.kind === 'and') return pinnedEquality(set, expr.left) ?? pinnedEquality(set, expr.right);
  if (expr.kind === 'or') {
    // each side implies its property is one of its values, so the union of both sides' rows holds every match
    // (a superset is enough: the filter still applies); both sides must pin the same property
    const left = pinnedEquality(set, expr.left);
    const right = left && pinnedEquality(set, expr.right);
    if (!left || !right || left.property !== right.property) return undefined;
    return { property: left.property, values: [...left.values, ...right.values] };
  }
  if (expr.kind !== 'compare' || expr.op !== 'eq') return undefined;
  const [prop, lit] = expr.left.kind === 'property' ? [expr.left, expr.right] : [expr.right, expr.left];
  if (prop.kind !== 'property' || lit.kind !== 'literal') return undefined;
  const property = set.entityType.property(prop.name);
  if (!property) return undefined;
  const value = rowValueOf(property, lit.type, lit.value);
  return value === undefined ? undefined : { property: property.name, values: [value] };
}

/** comparisons and function calls in a filter: what it evaluates per row, at most */
function conditionsOf(expr: FilterExpr | undefined): number {
  if (expr === undefined) return 0;
  switch (expr.kind) {
    case 'and':
    case 'or':
      return conditionsOf(expr.left) + conditionsOf(expr.right);
    case 'not':
      return conditionsOf(expr.operand);
    case 'compare':
      return 1 + conditionsOf(expr.left) + conditionsOf(expr.right);
    case 'call':
      return 1 + expr.args.reduce((n, a) => n + conditionsOf(a), 0);
    default:
      return 0;
  }
}

function searchTermsOf(expr: ParsedQuery['search']): number {
  if (expr === undefined) return 0;
  if (expr.kind === 'term') return 1;
  if (expr.kind === 'not') return searchTermsOf(expr.operand);
  return searchTermsOf(expr.left) + searchTermsOf(expr.right);
}

/**
 * The most condition evaluations one read may cost when it scans a set (rows × conditions): about two seconds of
 * the event loop, during which nothing else is answered. Salesforce's own filters are far below it (its default
 * search is one contains() per text property: ~3,000,000 over a million lines); 300 contains() OR'd over the same
 * lines (3 × 10⁸) took 21 s before this bound.
 */
export const MAX_SCAN_WORK = 30_000_000;

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
  const rows = source.size?.();
  if (rows !== undefined && plan.conditions > 1 && rows * plan.conditions > MAX_SCAN_WORK) {
    throw new QueryTypeError(
      '$filter',
      0,
      `${plan.conditions} conditions over the ${rows.toLocaleString('en-US')} rows of ${plan.set.name} are more than this server evaluates for one request (at most ${MAX_SCAN_WORK.toLocaleString('en-US')} row × condition evaluations); use fewer conditions, or pin an indexed property with eq (its key, for one)`,
    );
  }
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
  if (!pinned || !handler.equal || handler.equal(state, pinned.property, pinned.values[0]) === undefined) return all;
  const keyProperty = plan.set.entityType.key[0];
  const after = (afterKey: RowValue | undefined) => (row: Row) =>
    afterKey === undefined || afterKey === null || (row[keyProperty] as string | number) > (afterKey as string | number);
  if (pinned.values.length === 1) {
    // asked afresh for every pass (a page, then its count): a handler may answer with a one-shot generator; read
    // lazily, so that a page stops one row past what it needs ($top=50 of an invoice's hundred lines builds 51)
    const candidates = (): Iterable<Row> => handler.equal!(state, pinned.property, pinned.values[0])!;
    return {
      [Symbol.iterator]: () => candidates()[Symbol.iterator](),
      *scanFrom(afterKey: RowValue | undefined): Iterable<Row> {
        const keep = after(afterKey);
        for (const row of candidates()) if (keep(row)) yield row;
      },
    };
  }
  // several values: each one's rows, merged into key order once (a page of lookups is a few rows each)
  const byKey = new Map<RowValue, Row>();
  for (const value of new Set(pinned.values)) for (const row of handler.equal(state, pinned.property, value) ?? []) byKey.set(row[keyProperty], row);
  const rows = [...byKey.values()].sort((a, b) => ((a[keyProperty] as string | number) < (b[keyProperty] as string | number) ? -1 : 1));
  return Object.assign(rows, { scanFrom: (afterKey: RowValue | undefined) => rows.filter(after(afterKey)) });
}
