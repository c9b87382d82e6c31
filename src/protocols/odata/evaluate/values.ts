/**
 * The value domain evaluation works in: generic rows (the JSON-side values src/systems/erp/odata-model.ts builds — strings, numbers,
 * booleans, YYYY-MM-DD dates, ISO 8601 instants, null) and the few kinds of value OData compares. One place decides
 * how an Edm type compares, so $filter, $orderby and the $skiptoken's sort keys can never disagree:
 *
 *   string    ordinal (UTF-16 code units), case-sensitive — deterministic, what a key-range scan would do
 *   number    Int16/32/64, Decimal, Double (and v2's Single): numerically, whatever the literal's own type
 *   boolean   false < true
 *   guid      lower-cased text
 *   instant   Edm.Date, Edm.DateTimeOffset and v2's Edm.DateTime as milliseconds since the epoch (fractions kept):
 *             a Date is its midnight UTC, a v2 datetime'…' (no offset) is read as UTC (SAP KBA 2933028: Gateway
 *             treats it so), so `OrderDate ge 2026-01-05T00:00:00Z` and `CreatedAt ge 2026-01-05` both mean what
 *             they say, and a v2 client comparing a Date property (DateTime in the v2 EDMX) with datetime'…' works.
 */
import type { PrimitiveType } from '../model/model.js';

export type RowValue = string | number | boolean | null;
/** One entity as the evaluator sees it: property name → JSON-side value. */
export type Row = Readonly<Record<string, RowValue>>;

export type Kind = 'string' | 'number' | 'boolean' | 'guid' | 'instant';

export function kindOf(type: PrimitiveType | string): Kind | undefined {
  switch (type) {
    case 'Edm.String':
      return 'string';
    case 'Edm.Boolean':
      return 'boolean';
    case 'Edm.Int16':
    case 'Edm.Int32':
    case 'Edm.Int64':
    case 'Edm.Decimal':
    case 'Edm.Double':
    case 'Edm.Single':
      return 'number';
    case 'Edm.Guid':
      return 'guid';
    case 'Edm.Date':
    case 'Edm.DateTime':
    case 'Edm.DateTimeOffset':
      return 'instant';
    default:
      return undefined;
  }
}

const DATE_TIME = /^(-?\d{4,})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?(Z|[+-]\d\d:\d\d)?)?$/;

/**
 * Milliseconds since the epoch of a date (midnight UTC), a date-time with an offset, or an offset-less one (UTC).
 * NaN for text that is none of them. Fractions beyond milliseconds are kept as a fraction of a millisecond.
 */
export function instantOf(text: string): number {
  // the rows' canonical forms (YYYY-MM-DD, toISOString) are what Date.parse reads fastest and exactly
  if (text.length === 10 || (text.length === 24 && text.charCodeAt(23) === 90 /* Z */)) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) return ms;
  }
  const m = DATE_TIME.exec(text);
  if (!m) return NaN;
  const t = new Date(0);
  t.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  let ms = t.getTime();
  if (m[4] !== undefined) ms += ((Number(m[4]) * 60 + Number(m[5])) * 60 + Number(m[6] ?? 0)) * 1000;
  if (m[7] !== undefined) ms += Number(`0.${m[7]}`) * 1000;
  if (m[8] !== undefined && m[8] !== 'Z') {
    const sign = m[8][0] === '-' ? -1 : 1;
    ms -= sign * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6))) * 60_000;
  }
  return ms;
}

/** year, month (1–12) and day of a date or date-time text as written (in its own offset); NaN when unreadable. */
export function datePart(text: string, part: 'year' | 'month' | 'day'): number {
  if (text.charCodeAt(4) === 45 /* - */ && text.charCodeAt(0) !== 45) {
    // YYYY-MM-DD…: the common case without a regex
    if (part === 'year') return Number(text.slice(0, 4));
    return Number(part === 'month' ? text.slice(5, 7) : text.slice(8, 10));
  }
  const m = /^(-?\d{4,})-(\d\d)-(\d\d)/.exec(text);
  if (!m) return NaN;
  return Number(part === 'year' ? m[1] : part === 'month' ? m[2] : m[3]);
}

/** The comparable form of a row value of `kind` (instants as ms, GUIDs lower-cased); null stays null. */
export function normalize(kind: Kind, v: RowValue): RowValue {
  if (v === null) return null;
  if (kind === 'instant') return typeof v === 'string' ? instantOf(v) : NaN;
  if (kind === 'guid') return typeof v === 'string' ? v.toLowerCase() : v;
  return v;
}

/**
 * Orders two non-null normalized values of one kind: negative, 0, positive; NaN when they are unordered (a NaN
 * number), so that every comparison but `ne` is false for them.
 */
export function compareValues(a: RowValue, b: RowValue): number {
  if (a === b) return 0;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : NaN;
  if (typeof a === 'boolean') return a ? 1 : -1;
  return (a as string) < (b as string) ? -1 : 1;
}

/** Characters (code points) of a string, as MaxLength counts them. */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}
