/**
 * The $skiptoken of server-driven paging: keyset, not offset. A token holds the last delivered row's sort keys
 * (orderby.ts: the $orderby values and the entity key, in comparable form), how many rows were delivered before
 * the next page (so $top still bounds the whole result), and a digest of the request's other options. The next
 * page is "the rows after those keys", so rows inserted, deleted or changed elsewhere in the order between two
 * page fetches neither shift the page nor cause a row present from the start to be skipped or repeated (an
 * offset would do both).
 *
 * Opaque to clients: base64url of JSON {v, d, n, k, p?}. A token is refused with a clear SkipTokenError when it is
 * not one of ours (not base64url, not JSON, wrong shape or version), too large, or issued for a request whose
 * $filter, $orderby, $select or $search/doSearch (or entity set) differ: following a next link with other options
 * would silently mix two results. Tokens are not secret (a forged one only moves the start of a page), so the
 * digest is a plain hash, not a MAC.
 */
import { createHash } from 'node:crypto';
import { SkipTokenError } from './errors.js';
import type { CompiledOrder } from './orderby.js';
import type { RowValue } from './values.js';

/** Where the next page starts. */
export interface PagePosition {
  /** the sort keys of the last row delivered (CompiledOrder.keyOf) */
  readonly k: readonly RowValue[];
  /** rows delivered so far, after $skip (the next page delivers at most $top − n) */
  readonly n: number;
  /**
   * a change-tracked read's (or a delta's) state position, fixed at its first page: the delta link on its last
   * page starts from there, so that nothing changed while the pages were read is missed
   */
  readonly p?: number;
}

/** The options a token is bound to: the decoded texts as the request carried them (absent: undefined). */
export interface DigestedOptions {
  entitySet: string;
  filter?: string;
  orderby?: string;
  select?: string;
  search?: string;
  doSearch?: string;
}

const VERSION = 1;
/** longest token accepted, in characters; a real one is far shorter unless its keys are long strings */
export const MAX_SKIPTOKEN_LENGTH = 4096;
const MAX_KEY_STRING = 1024;

/** A short digest of the options a token is bound to. */
export function requestDigest(o: DigestedOptions): string {
  const parts = [o.entitySet, o.filter, o.orderby, o.select, o.search, o.doSearch].map((p) => (p === undefined ? null : p));
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}

export function encodeSkipToken(position: PagePosition, digest: string): string {
  const k = position.k.map((v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
  const data: Record<string, unknown> = { v: VERSION, d: digest, n: position.n, k };
  if (position.p !== undefined) data.p = position.p;
  return Buffer.from(JSON.stringify(data), 'utf8').toString('base64url');
}

/**
 * The position a token names, checked: ours, for these options (`digest`), and with keys that fit `order`
 * (their number, and each of its property's kind). Throws SkipTokenError.
 */
export function decodeSkipToken(token: string, digest: string, order: CompiledOrder): PagePosition {
  if (token.length === 0) throw new SkipTokenError('the token is empty; use the next link as the server gave it');
  if (token.length > MAX_SKIPTOKEN_LENGTH) {
    throw new SkipTokenError(`the token is ${token.length} characters long, more than the ${MAX_SKIPTOKEN_LENGTH} a token of this server has`);
  }
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new SkipTokenError('not a token issued by this server (it is not base64url text); use the next link as given');
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new SkipTokenError('not a token issued by this server (damaged or truncated); use the next link as given');
  }
  const bad = (what: string): never => {
    throw new SkipTokenError(`not a token issued by this server (${what}); use the next link as given`);
  };
  if (typeof data !== 'object' || data === null || Array.isArray(data)) bad('not a token object');
  const t = data as Record<string, unknown>;
  if (t.v !== VERSION) bad('unknown version');
  if (typeof t.d !== 'string') bad('no digest');
  if (t.d !== digest) {
    throw new SkipTokenError(
      'the token was issued for a request with other $filter, $orderby, $select or $search options (or another entity set); follow the next link with the options it carries, or start again without $skiptoken',
    );
  }
  if (typeof t.n !== 'number' || !Number.isSafeInteger(t.n) || t.n < 0) bad('bad row count');
  if (!Array.isArray(t.k) || t.k.length !== order.keys.length) bad('its sort keys do not fit this ordering');
  const k = t.k as unknown[];
  k.forEach((v, i) => {
    const key = order.keys[i];
    if (v === null) return;
    const want = key.kind === 'number' || key.kind === 'instant' ? 'number' : key.kind === 'boolean' ? 'boolean' : 'string';
    if (typeof v !== want) bad(`the value for ${key.property} is not a ${want}`);
    if (typeof v === 'string' && v.length > MAX_KEY_STRING) bad(`the value for ${key.property} is too long`);
  });
  if (t.p !== undefined && (typeof t.p !== 'number' || !Number.isSafeInteger(t.p) || t.p < 0)) bad('bad change position');
  return t.p === undefined ? { k: k as RowValue[], n: t.n as number } : { k: k as RowValue[], n: t.n as number, p: t.p as number };
}
