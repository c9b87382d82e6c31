/**
 * One page of a query's result: filter, order, $skip, $top, server page size and the keyset position of a
 * $skiptoken, in one pass over the rows, returning the page, the count ($count=true / $inlinecount=allpages) and
 * the position the next page starts after.
 *
 * Two paths:
 *  - key order (no $orderby, or one starting with the single-property key ascending) and a source that can start
 *    after a key (`scanFrom`): read rows in key order from the token's key and stop one matching row past the
 *    page. Walking 1,000,000 InvoiceLines by next links is then O(page) per page, no sort.
 *  - any other order: one pass over all rows keeping the smallest skip + page + 1 rows after the token's keys in
 *    a bounded heap (O(n log k), never a sort of the whole set).
 *
 * $skip applies to the first page only; a token's position already lies past the skipped rows (so the next link
 * may carry $skip unchanged). $top bounds the whole result: the token counts the rows delivered before it.
 * The count, when asked, is the number of rows passing the filter, regardless of $skip/$top/token; with no filter
 * and a source that knows its size (`size`), it costs nothing.
 */
import type { RowPredicate } from './filter.js';
import type { CompiledOrder } from './orderby.js';
import { encodeSkipToken, type PagePosition } from './skiptoken.js';
import type { Row, RowValue } from './values.js';

/** Rows of an entity set: iterable in any order; optionally scannable in key order and sized. */
export type RowSource = Iterable<Row> & {
  /** the rows whose (single-property) key is greater than `afterKey` (all when undefined), in ascending key order */
  scanFrom?(afterKey: RowValue | undefined): Iterable<Row>;
  /** how many rows there are, when known without reading them */
  size?(): number;
};

export interface PageOptions {
  filter?: RowPredicate;
  order: CompiledOrder;
  /** server page size (systems.erp.odataPageSize) */
  pageSize: number;
  skip?: number;
  top?: number;
  /** the decoded $skiptoken */
  after?: PagePosition;
  /** compute the count */
  count?: boolean;
  /** when given, `nextToken` is minted for `next` (skiptoken.ts: requestDigest); a function is called only then */
  digest?: string | (() => string);
  /** a change-tracked read's state position, carried by every next page's token (PagePosition.p) */
  tracking?: number;
}

export interface Page {
  rows: Row[];
  /** rows passing the filter (when asked) */
  count?: number;
  /** where the next page starts, when there are more rows within $top */
  next?: PagePosition;
  /** `next` as a $skiptoken, when a digest was given */
  nextToken?: string;
}

export function page(source: RowSource, options: PageOptions): Page {
  const { filter, order, after } = options;
  if (!(Number.isSafeInteger(options.pageSize) && options.pageSize > 0)) throw new RangeError(`page size ${options.pageSize}`);
  const delivered = after?.n ?? 0;
  const skip = after ? 0 : (options.skip ?? 0);
  const left = options.top === undefined ? Infinity : Math.max(0, options.top - delivered);
  const want = Math.min(options.pageSize, left);

  let rows: Row[];
  let more: boolean;
  let count: number | undefined;
  if (order.keyOrder && source.scanFrom) {
    ({ rows, more } = scanPage(source.scanFrom(after?.k[0] ?? undefined), filter, skip, want));
    if (options.count) count = !filter && source.size ? source.size() : countRows(source, filter);
  } else {
    ({ rows, more, count } = heapPage(source, options, skip, want));
    if (!options.count) count = undefined;
  }
  const out: Page = { rows };
  if (count !== undefined) out.count = count;
  if (more && rows.length > 0 && delivered + rows.length < (options.top ?? Infinity)) {
    const k = order.keyOf(rows[rows.length - 1]);
    const n = delivered + rows.length;
    const p = options.tracking ?? after?.p;
    out.next = p === undefined ? { k, n } : { k, n, p };
    if (options.digest !== undefined) out.nextToken = encodeSkipToken(out.next, typeof options.digest === 'function' ? options.digest() : options.digest);
  }
  return out;
}

function countRows(source: Iterable<Row>, filter: RowPredicate | undefined): number {
  let n = 0;
  if (!filter) {
    for (const _ of source) n++;
    return n;
  }
  for (const row of source) if (filter(row)) n++;
  return n;
}

function scanPage(rows: Iterable<Row>, filter: RowPredicate | undefined, skip: number, want: number): { rows: Row[]; more: boolean } {
  const out: Row[] = [];
  let skipped = 0;
  for (const row of rows) {
    if (filter && !filter(row)) continue;
    if (skipped < skip) {
      skipped++;
      continue;
    }
    if (out.length === want) return { rows: out, more: true };
    out.push(row);
  }
  return { rows: out, more: false };
}

interface Entry {
  row: Row;
  key: RowValue[];
}

/** One pass keeping the `skip + want + 1` smallest rows after the position in a max-heap. */
function heapPage(source: Iterable<Row>, options: PageOptions, skip: number, want: number): { rows: Row[]; more: boolean; count: number } {
  const { filter, order, after } = options;
  const { keyOf, compareKeys } = order;
  const limit = skip + want + 1;
  const heap: Entry[] = [];
  let count = 0;
  const countAll = options.count === true;
  if (want === 0 && !countAll) return { rows: [], more: false, count: 0 };
  const down = (i: number): void => {
    const n = heap.length;
    const e = heap[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && compareKeys(heap[c + 1].key, heap[c].key) > 0) c++;
      if (compareKeys(heap[c].key, e.key) <= 0) break;
      heap[i] = heap[c];
      i = c;
    }
    heap[i] = e;
  };
  const up = (i: number): void => {
    const e = heap[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (compareKeys(heap[p].key, e.key) >= 0) break;
      heap[i] = heap[p];
      i = p;
    }
    heap[i] = e;
  };
  for (const row of source) {
    if (filter && !filter(row)) continue;
    count++;
    if (want === 0) continue;
    const key = keyOf(row);
    if (after && compareKeys(key, after.k) <= 0) continue;
    if (heap.length < limit) {
      heap.push({ row, key });
      up(heap.length - 1);
    } else if (compareKeys(key, heap[0].key) < 0) {
      heap[0] = { row, key };
      down(0);
    }
  }
  heap.sort((a, b) => compareKeys(a.key, b.key));
  const rows = heap.slice(skip, skip + want).map((e) => e.row);
  return { rows, more: heap.length > skip + want, count };
}
