/**
 * Key predicates as the server writes them: the literal inside `Customers('0000100001')`, in each dialect's form,
 * for entity ids, edit links, `__metadata.uri` and the engine's Location headers. The reading side is the query
 * parser's (query/literals.ts); this is its inverse for the types a key can have.
 *
 *   type                v4                                v2
 *   Edm.String          'O''Brien'                        'O''Brien'
 *   Edm.Int16/Int32     42                                42
 *   Edm.Int64           42                                42L
 *   Edm.Decimal         12.5                              12.5M
 *   Edm.Double          1.5  (NaN, INF, -INF)             1.5d
 *   Edm.Guid            01234567-…                        guid'01234567-…'
 *   Edm.Boolean         true                              true
 *   Edm.Date            2026-01-05                        datetime'2026-01-05T00:00:00'
 *   Edm.DateTimeOffset  2026-01-05T10:00:00.000Z          datetimeoffset'2026-01-05T10:00:00.000Z'
 *
 * Characters unsafe in a URL path segment are percent-encoded (encodeURIComponent, which already leaves the
 * quote and the parentheses alone), so a key with a space, a slash, `#`, `?`, `&` or non-ASCII text stays one
 * segment that the server's router decodes back to the same literal.
 */
import type { ODataDialect } from '../query/dialect.js';
import type { EntitySet, Property } from '../model/model.js';
import type { RowValue } from '../evaluate/values.js';

/** The key literal of `value` for `property`, percent-encoded for a URL path segment. */
export function keyLiteral(property: Property, value: RowValue, version: ODataDialect): string {
  return encodeURIComponent(rawKeyLiteral(property, value, version));
}

/** `Customers('0000100001')`, `InvoiceLines(5)`: the set's path to one entity (single-property keys only). */
export function entityPath(set: EntitySet, key: RowValue, version: ODataDialect): string {
  const type = set.entityType;
  if (type.key.length !== 1) throw new Error(`odata: ${set.name} has a composite key; only single-property keys are written`);
  const property = type.property(type.key[0])!;
  return `${set.name}(${keyLiteral(property, key, version)})`;
}

function rawKeyLiteral(p: Property, value: RowValue, version: ODataDialect): string {
  if (value === null) throw new Error(`odata: the key ${p.name} is null`);
  switch (p.type) {
    case 'Edm.String':
      return quoted(String(value));
    case 'Edm.Int16':
    case 'Edm.Int32':
    case 'Edm.Boolean':
      return String(value);
    case 'Edm.Int64':
      return version === 'v2' ? `${String(value)}L` : String(value);
    case 'Edm.Decimal': {
      const text = typeof value === 'number' ? decimalText(value) : String(value);
      return version === 'v2' ? `${text}M` : text;
    }
    case 'Edm.Double': {
      if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'INF' : '-INF';
      return version === 'v2' ? `${String(value)}d` : String(value);
    }
    case 'Edm.Guid':
      return version === 'v2' ? `guid'${String(value)}'` : String(value);
    case 'Edm.Date':
      return version === 'v2' ? `datetime'${String(value)}T00:00:00'` : String(value);
    case 'Edm.DateTimeOffset':
      return version === 'v2' ? `datetimeoffset'${String(value)}'` : String(value);
  }
}

/** 'text' with each quote doubled */
const quoted = (s: string): string => `'${s.includes("'") ? s.replaceAll("'", "''") : s}'`;

/**
 * A number in plain decimal notation (no exponent): what OData's decimal literal and v2 JSON's Decimal string
 * need. JavaScript writes 1e21 and above, and below 1e-6, with an exponent; a Decimal(15, s) never gets there,
 * but a wrong number must still come out as digits.
 */
export function decimalText(n: number): string {
  const text = String(n);
  if (!text.includes('e')) return text;
  const negative = n < 0;
  const [mantissa, exponentText] = (negative ? text.slice(1) : text).split('e');
  const exponent = Number(exponentText);
  const [whole, fraction = ''] = mantissa.split('.');
  const digits = whole + fraction;
  const point = whole.length + exponent;
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${out}` : out;
}
