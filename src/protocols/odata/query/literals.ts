/**
 * Primitive literals in URLs (ABNF primitiveLiteral, OData 4.01 ABNF §7) for the types Salesforce Connect maps
 * (SALESFORCE.md §3), in both dialects:
 *
 *   both  null, true/false (any case), 'strings' with '' for a quote, 42, -1.5, 1.5e3, NaN, INF, -INF
 *   v4    2012-09-03, 2012-09-03T13:52:00Z, 2012-09-03T13:52+02:00, 01234567-89ab-cdef-0123-456789abcdef
 *   v2    datetime'2012-09-03T13:52:00', datetimeoffset'2012-09-03T13:52:00Z', guid'…', 12L, 1.5M/1.5m, 2.0d, 1f
 *
 * Each dialect refuses the other's forms with a message naming its own. Other OData literals (duration, time of
 * day, binary, enums, geography/geometry, JSON arrays/objects) are refused as not supported.
 *
 * Written by hand rather than with an npm OData parser: neither one evaluated accepts the v4 filter Salesforce sends by default
 * or knows the v2 dialect (the evaluation table is in index.ts).
 */
import type { LiteralNode } from './ast.js';
import { DIALECT_LABEL, type ODataDialect } from './dialect.js';
import { Cursor, checkText, isDigit, isIdentPart } from './scanner.js';

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/;
const DATE_START = /^-?\d{4,}-\d\d-/;
const GUID_LIKE = /^[0-9a-fA-F]{8}-/;
const QUALIFIED_QUOTED = /^[\p{L}_][\p{L}\p{N}_]*(?:\.[\p{L}_][\p{L}\p{N}_]*)+'/u;
const PREFIXED = /^([\p{L}_][\p{L}\p{N}_]*)'/u;
const INT32_MIN = -2147483648n;
const INT32_MAX = 2147483647n;
const INT64_MIN = -9223372036854775808n;
const INT64_MAX = 9223372036854775807n;

const UNSUPPORTED_PREFIX: Record<string, string> = {
  duration: 'Edm.Duration',
  time: 'Edm.Time',
  binary: 'Edm.Binary',
  x: 'Edm.Binary',
  geography: 'geography',
  geometry: 'geometry',
};

/**
 * Reads the literal at the cursor. Returns null when no literal starts there (a name, an operator, …); throws a
 * QueryError when one starts but is malformed, of the other dialect, or of an unsupported type.
 */
export function readLiteral(c: Cursor, dialect: ODataDialect): LiteralNode | null {
  const start = c.pos;
  const ch = c.peek();
  if (ch === undefined) return null;
  if (ch === "'") return { kind: 'literal', type: 'Edm.String', value: readQuoted(c), pos: start };

  const rest = c.src.slice(start, start + 64);
  if (GUID.test(rest) && !isIdentPart(c.src[start + 36]) && c.src[start + 36] !== '-') {
    if (dialect === 'v2') c.fail(`a bare GUID is OData 4.0; in ${DIALECT_LABEL.v2} write guid'${rest.slice(0, 36)}'`, start);
    c.pos = start + 36;
    return { kind: 'literal', type: 'Edm.Guid', value: rest.slice(0, 36).toLowerCase(), pos: start };
  }
  if (GUID_LIKE.test(rest) && !DATE_START.test(rest)) {
    c.fail('malformed GUID: expected 8-4-4-4-12 hexadecimal digits like 01234567-89ab-cdef-0123-456789abcdef', start);
  }
  if (DATE_START.test(rest)) {
    if (dialect === 'v2') {
      c.fail(`an unquoted date/time is OData 4.0; in ${DIALECT_LABEL.v2} write datetime'yyyy-mm-ddThh:mm:ss'`, start);
    }
    const { text, hasTime } = readDateTime(c, 'required');
    if (isIdentPart(c.peek()) || c.peek() === '.' || c.peek() === ':') c.fail(`unexpected ${c.found()} after the date`);
    return { kind: 'literal', type: hasTime ? 'Edm.DateTimeOffset' : 'Edm.Date', value: text, pos: start };
  }
  if (ch === '-' || ch === '+' || isDigit(ch)) {
    if (c.src.startsWith('-INF', start) && !isIdentPart(c.src[start + 4])) {
      c.pos = start + 4;
      return { kind: 'literal', type: 'Edm.Double', value: -Infinity, text: '-INF', pos: start };
    }
    if (!isDigit(ch) && !isDigit(c.peek(1))) return null; // a negation, refused by the expression parser
    return readNumber(c, dialect);
  }

  if (QUALIFIED_QUOTED.test(rest)) {
    c.fail(`enumeration literals (${rest.slice(0, rest.indexOf("'"))}'…') are not supported`, start);
  }
  const prefixed = PREFIXED.exec(rest);
  if (prefixed) return readPrefixed(c, dialect, prefixed[1]);

  if (c.keyword('true')) return { kind: 'literal', type: 'Edm.Boolean', value: true, pos: start };
  if (c.keyword('false')) return { kind: 'literal', type: 'Edm.Boolean', value: false, pos: start };
  if (c.keyword('null')) return { kind: 'null', pos: start };
  if (c.src.startsWith('INF', start) && !isIdentPart(c.src[start + 3])) {
    c.pos = start + 3;
    return { kind: 'literal', type: 'Edm.Double', value: Infinity, text: 'INF', pos: start };
  }
  if (c.src.startsWith('NaN', start) && !isIdentPart(c.src[start + 3])) {
    c.pos = start + 3;
    return { kind: 'literal', type: 'Edm.Double', value: NaN, text: 'NaN', pos: start };
  }
  return null;
}

/** Parses `text` as exactly one literal (ABNF primitiveLiteral, the decoded form). */
export function parseLiteral(text: string, dialect: ODataDialect, option = ''): LiteralNode {
  checkText(option, text);
  const c: Cursor = new Cursor(option, text);
  const lit = readLiteral(c, dialect);
  if (!lit) c.fail(`expected a literal but found ${c.found()}`);
  if (!c.eof) c.fail(`unexpected ${c.found()} after the literal`);
  return lit;
}

/** A single-quoted string with '' for a quote; the cursor is on the opening quote. */
export function readQuoted(c: Cursor): string {
  const start = c.pos;
  c.pos++;
  let out = '';
  for (;;) {
    const i = c.src.indexOf("'", c.pos);
    if (i < 0) c.fail('unterminated string literal: no closing quote', start);
    out += c.src.slice(c.pos, i);
    if (c.src[i + 1] === "'") {
      out += "'";
      c.pos = i + 2;
      continue;
    }
    c.pos = i + 1;
    return out;
  }
}

function readPrefixed(c: Cursor, dialect: ODataDialect, prefix: string): LiteralNode {
  const start = c.pos;
  const lower = prefix.toLowerCase();
  const unsupported = UNSUPPORTED_PREFIX[lower];
  if (unsupported) c.fail(`${unsupported} literals (${prefix}'…') are not supported`, start);
  if (lower !== 'datetime' && lower !== 'datetimeoffset' && lower !== 'guid') {
    c.fail(`${prefix}'…' is not a literal form this server supports`, start);
  }
  if (dialect === 'v4') {
    const instead =
      lower === 'guid' ? 'an unquoted GUID' : lower === 'datetime' ? 'an unquoted 2012-09-03T13:52:00Z' : 'an unquoted date/time with offset';
    c.fail(`the literal ${prefix}'…' is OData 2.0; in ${DIALECT_LABEL.v4} write ${instead}`, start);
  }
  c.pos += prefix.length;
  const quote = c.pos;
  const body = readQuoted(c);
  const end = c.pos;
  // Parse the quoted text with positions relative to the whole option.
  const inner = new Cursor(c.option, c.src.slice(0, end - 1));
  inner.pos = quote + 1;
  let value: string;
  let type: 'Edm.Guid' | 'Edm.DateTime' | 'Edm.DateTimeOffset';
  if (lower === 'guid') {
    if (!GUID.test(body) || body.length !== 36) inner.fail("expected a GUID like 01234567-89ab-cdef-0123-456789abcdef in guid'…'");
    value = body.toLowerCase();
    type = 'Edm.Guid';
    inner.pos = end - 1;
  } else {
    const { text, hasTime } = readDateTime(inner, lower === 'datetime' ? 'forbidden' : 'required');
    if (!hasTime) inner.fail(`expected 'T' and a time of day in ${prefix}'…'`);
    value = text;
    type = lower === 'datetime' ? 'Edm.DateTime' : 'Edm.DateTimeOffset';
  }
  if (!inner.eof) inner.fail(`unexpected ${inner.found()} in ${prefix}'…'`);
  c.pos = end;
  if (isIdentPart(c.peek())) c.fail(`unexpected ${c.found()} after the literal`);
  return { kind: 'literal', type, value, pos: start };
}

/** ABNF date ["T" timeOfDay offset]; `offset` says whether a time needs an offset (v4, v2 datetimeoffset) or may not have one (v2 datetime). */
function readDateTime(c: Cursor, offset: 'required' | 'forbidden'): { text: string; hasTime: boolean } {
  const start = c.pos;
  if (c.peek() === '-') c.pos++;
  const yearStart = c.pos;
  while (isDigit(c.peek())) c.pos++;
  const year = c.src.slice(yearStart, c.pos);
  if (year.length < 4) c.fail('expected a year of at least 4 digits', yearStart);
  if (year.length > 4 && year[0] === '0') c.fail('a year of more than 4 digits may not start with 0', yearStart);
  c.expect('-', "'-' after the year");
  fixed(c, 2, 1, 12, 'month (01–12)');
  c.expect('-', "'-' after the month");
  fixed(c, 2, 1, 31, 'day (01–31)');
  if (c.peek() !== 'T') return { text: c.src.slice(start, c.pos), hasTime: false };
  c.pos++;
  fixed(c, 2, 0, 23, 'hour (00–23)');
  c.expect(':', "':' after the hour");
  fixed(c, 2, 0, 59, 'minute (00–59)');
  if (c.peek() === ':') {
    c.pos++;
    fixed(c, 2, 0, 60, 'second (00–60)');
    if (c.peek() === '.') {
      c.pos++;
      const f = c.pos;
      while (isDigit(c.peek())) c.pos++;
      if (c.pos === f || c.pos - f > 12) c.fail('expected 1 to 12 digits of fractional seconds', f);
    }
  }
  const z = c.peek();
  if (offset === 'forbidden') {
    if (z === 'Z' || z === '+' || z === '-') c.fail("datetime'…' takes no offset; use datetimeoffset'…' for one");
  } else if (z === 'Z') {
    c.pos++;
  } else if (z === '+' || z === '-') {
    c.pos++;
    fixed(c, 2, 0, 23, 'offset hour (00–23)');
    c.expect(':', "':' in the offset");
    fixed(c, 2, 0, 59, 'offset minute (00–59)');
  } else {
    c.fail(`expected 'Z' or an offset like +02:00 after the time but found ${c.found()}`);
  }
  return { text: c.src.slice(start, c.pos), hasTime: true };
}

function fixed(c: Cursor, digits: number, min: number, max: number, what: string): void {
  const s = c.src.slice(c.pos, c.pos + digits);
  if (s.length !== digits || ![...s].every(isDigit) || isDigit(c.src[c.pos + digits])) c.fail(`expected a ${digits}-digit ${what}`);
  const n = Number(s);
  if (n < min || n > max) c.fail(`expected a ${what} but found ${s}`);
  c.pos += digits;
}

const V2_SUFFIX: Record<string, 'Edm.Int64' | 'Edm.Decimal' | 'Edm.Double' | 'Edm.Single'> = {
  l: 'Edm.Int64',
  m: 'Edm.Decimal',
  d: 'Edm.Double',
  f: 'Edm.Single',
};

function readNumber(c: Cursor, dialect: ODataDialect): LiteralNode {
  const start = c.pos;
  if (c.peek() === '-' || c.peek() === '+') c.pos++;
  while (isDigit(c.peek())) c.pos++;
  let fraction = false;
  let exponent = false;
  if (c.peek() === '.') {
    c.pos++;
    if (!isDigit(c.peek())) c.fail("expected a digit after '.'");
    while (isDigit(c.peek())) c.pos++;
    fraction = true;
  }
  if ((c.peek() === 'e' || c.peek() === 'E') && (isDigit(c.peek(1)) || ((c.peek(1) === '+' || c.peek(1) === '-') && isDigit(c.peek(2))))) {
    c.pos += 2;
    while (isDigit(c.peek())) c.pos++;
    exponent = true;
  }
  const text = c.src.slice(start, c.pos);
  const suffixChar = c.peek();
  let type: 'Edm.Int32' | 'Edm.Int64' | 'Edm.Decimal' | 'Edm.Double' | 'Edm.Single';
  if (suffixChar !== undefined && V2_SUFFIX[suffixChar.toLowerCase()] && !isIdentPart(c.peek(1))) {
    if (dialect === 'v4') {
      c.fail(`the number suffix '${suffixChar}' is OData 2.0; in ${DIALECT_LABEL.v4} write the number without it`);
    }
    type = V2_SUFFIX[suffixChar.toLowerCase()];
    if (type === 'Edm.Int64' && (fraction || exponent)) c.fail(`the suffix '${suffixChar}' (Int64) needs a whole number`);
    if (type === 'Edm.Int64' && !inRange(text, INT64_MIN, INT64_MAX)) c.fail('the number is out of the Int64 range', start);
    c.pos++;
  } else if (fraction || exponent) {
    type = exponent ? 'Edm.Double' : 'Edm.Decimal';
  } else if (inRange(text, INT32_MIN, INT32_MAX)) {
    type = 'Edm.Int32';
  } else if (inRange(text, INT64_MIN, INT64_MAX)) {
    type = 'Edm.Int64';
  } else {
    type = 'Edm.Decimal';
  }
  if (isIdentPart(c.peek()) || c.peek() === '.') c.fail(`unexpected ${c.found()} after the number`);
  return { kind: 'literal', type, value: Number(text), text, pos: start };
}

function inRange(text: string, min: bigint, max: bigint): boolean {
  const n = BigInt(text);
  return n >= min && n <= max;
}

