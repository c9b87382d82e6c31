/**
 * Reads the journal's query string (PRODUCT.md §5: system, since, until, status, fault, client, operation, key,
 * limit, cursor) into a JournalQuery, refusing anything unknown or absurd with a message naming the parameter.
 */
import type { JournalQuery } from '../journal/journal.js';

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

const KNOWN = new Set(['system', 'since', 'until', 'status', 'fault', 'client', 'operation', 'key', 'limit', 'cursor']);

/** keys are the caller's own strings (an Idempotency-Key, an order number): allow long ones, not absurd ones */
const MAX_KEY = 1000;

export class QueryError extends Error {
  constructor(readonly errors: Array<{ name: string; message: string }>) {
    super(errors.map((e) => `${e.name}: ${e.message}`).join('; '));
  }
}

/** Cursors are opaque to clients: base64url of "j<id>", so nobody builds them by hand and relies on the format. */
export function encodeCursor(id: number): string {
  return Buffer.from(`j${id}`).toString('base64url');
}

function decodeCursor(cursor: string): number | undefined {
  if (cursor.length > 40 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const m = /^j(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  return m ? Number(m[1]) : undefined;
}

/** ISO 8601 as people write it (a date, or a date and time with an optional zone); Date.parse alone takes "x 2026" */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** A time in a query: ms since the epoch, or ISO 8601; undefined for anything else (GET /__admin/journal, /report). */
export function parseTime(value: string): number | undefined {
  if (/^\d{1,15}$/.test(value)) return Number(value);
  if (!ISO_8601.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** status=503, status=5xx, status=4xx,503, status=0 (no response was written: a reset, a held connection ...) */
function parseStatus(value: string): ((status: number) => boolean) | undefined {
  const tests: Array<(s: number) => boolean> = [];
  for (const part of value.split(',')) {
    const p = part.trim().toLowerCase();
    if (p === '0') tests.push((s) => s === 0);
    else if (/^[1-5]\d\d$/.test(p)) tests.push((s) => s === Number(p));
    else if (/^[1-5]xx$/.test(p)) tests.push((s) => Math.floor(s / 100) === Number(p[0]));
    else return undefined;
  }
  return (s) => tests.some((t) => t(s));
}

export function parseJournalQuery(query: Record<string, unknown>): JournalQuery {
  const errors: Array<{ name: string; message: string }> = [];
  const single = (name: string): string | undefined => {
    const v = query[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      errors.push({ name, message: 'give it once, as a plain value' });
      return undefined;
    }
    return v;
  };
  for (const name of Object.keys(query)) if (!KNOWN.has(name)) errors.push({ name, message: `unknown filter; use ${[...KNOWN].join(', ')}` });

  const out: JournalQuery = { limit: DEFAULT_PAGE };
  const limit = single('limit');
  if (limit !== undefined) {
    if (!/^\d{1,7}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_PAGE) errors.push({ name: 'limit', message: `must be an integer from 1 to ${MAX_PAGE}` });
    else out.limit = Number(limit);
  }
  const cursor = single('cursor');
  if (cursor !== undefined) {
    const before = decodeCursor(cursor);
    if (before === undefined) errors.push({ name: 'cursor', message: 'is not a cursor this server handed out (use nextCursor from the previous page)' });
    else out.before = before;
  }
  for (const name of ['since', 'until'] as const) {
    const v = single(name);
    if (v === undefined) continue;
    const t = parseTime(v);
    if (t === undefined) errors.push({ name, message: 'must be an ISO 8601 date-time or milliseconds since the epoch' });
    else out[name] = t;
  }
  if (out.since !== undefined && out.until !== undefined && out.since > out.until) errors.push({ name: 'until', message: 'is before since' });
  const status = single('status');
  if (status !== undefined) {
    const test = parseStatus(status);
    if (!test) errors.push({ name: 'status', message: 'must be a status code (503), a class (5xx), 0 (no response) or a comma-separated list of those' });
    else out.status = test;
  }
  for (const name of ['system', 'fault', 'client', 'operation'] as const) {
    const v = single(name);
    if (v !== undefined) {
      if (v.length > 200) errors.push({ name, message: 'is longer than 200 characters' });
      else out[name] = v;
    }
  }
  const key = single('key');
  if (key !== undefined) {
    if (key === '') errors.push({ name: 'key', message: 'is empty (entries without a key have key null and cannot be asked for)' });
    else if (key.length > MAX_KEY) errors.push({ name: 'key', message: `is longer than ${MAX_KEY} characters` });
    else out.key = key;
  }
  if (errors.length) throw new QueryError(errors);
  return out;
}
