/**
 * keys.ts: the key predicates the server writes in ids, edit links and Location headers — each type in each
 * dialect, read back by the server's own literal parser (so what it writes it also reads), and percent-encoded
 * so that any key stays one path segment.
 */
import { describe, expect, it } from 'vitest';
import { decimalText, entityPath, keyLiteral } from '../../../../src/protocols/odata/format/keys.js';
import type { Property, PrimitiveType } from '../../../../src/protocols/odata/model/model.js';
import { parseLiteral } from '../../../../src/protocols/odata/query/literals.js';
import type { RowValue } from '../../../../src/protocols/odata/evaluate/values.js';
import { rowsOf, setOf } from './support.js';

const prop = (type: PrimitiveType, extra: Partial<Property> = {}): Property => ({ name: 'K', type, nullable: false, ...extra });

describe('keyLiteral', () => {
  const cases: [PrimitiveType, RowValue, string, string][] = [
    ['Edm.String', '0000100001', "'0000100001'", "'0000100001'"],
    ['Edm.Int16', 7, '7', '7'],
    ['Edm.Int32', -42, '-42', '-42'],
    ['Edm.Int64', 9007199254740991, '9007199254740991', '9007199254740991L'],
    ['Edm.Decimal', 12.5, '12.5', '12.5M'],
    ['Edm.Double', 1.5, '1.5', '1.5d'],
    ['Edm.Guid', '01234567-89ab-cdef-0123-456789abcdef', '01234567-89ab-cdef-0123-456789abcdef', "guid'01234567-89ab-cdef-0123-456789abcdef'"],
    ['Edm.Boolean', true, 'true', 'true'],
    ['Edm.Date', '2026-01-05', '2026-01-05', "datetime'2026-01-05T00%3A00%3A00'"],
    ['Edm.DateTimeOffset', '2026-01-05T10:00:00.000Z', '2026-01-05T10%3A00%3A00.000Z', "datetimeoffset'2026-01-05T10%3A00%3A00.000Z'"],
  ];

  it.each(cases)('%s %j → v4 %s, v2 %s', (type, value, v4, v2) => {
    expect(keyLiteral(prop(type), value, 'v4')).toBe(v4);
    expect(keyLiteral(prop(type), value, 'v2')).toBe(v2);
  });

  it.each(cases)('%s %j: the query parser reads what is written, in both dialects', (type, value) => {
    for (const dialect of ['v2', 'v4'] as const) {
      const lit = parseLiteral(decodeURIComponent(keyLiteral(prop(type), value, dialect)), dialect);
      expect(lit.kind).toBe('literal');
      if (lit.kind !== 'literal') continue;
      if (type === 'Edm.Date' && dialect === 'v2') expect(lit.value).toBe(`${value as string}T00:00:00`);
      else expect(lit.value).toBe(value);
    }
  });

  it('doubles the quotes of a string and percent-encodes what is unsafe in a path segment, keeping quotes and parentheses', () => {
    expect(keyLiteral(prop('Edm.String'), "O'Brien (Ltd)", 'v4')).toBe("'O''Brien%20(Ltd)'");
    const nasty = "a/b?c#d&e=f+g h%ü'";
    const literal = keyLiteral(prop('Edm.String'), nasty, 'v2');
    expect(literal).toBe("'a%2Fb%3Fc%23d%26e%3Df%2Bg%20h%25%C3%BC'''");
    const lit = parseLiteral(decodeURIComponent(literal), 'v2');
    expect(lit).toMatchObject({ type: 'Edm.String', value: nasty });
  });

  it('non-finite doubles are NaN, INF and -INF', () => {
    expect(keyLiteral(prop('Edm.Double'), Number.NaN, 'v4')).toBe('NaN');
    expect(keyLiteral(prop('Edm.Double'), Number.POSITIVE_INFINITY, 'v4')).toBe('INF');
    expect(keyLiteral(prop('Edm.Double'), Number.NEGATIVE_INFINITY, 'v2')).toBe('-INF');
  });

  it('a null key is a programming error, not a literal', () => {
    expect(() => keyLiteral(prop('Edm.String'), null, 'v4')).toThrow(/null/);
  });
});

describe('entityPath', () => {
  it('the ERP sets: string keys quoted, InvoiceLines by number', () => {
    const customer = rowsOf('Customers')[0];
    expect(entityPath(setOf('Customers'), customer.CustomerId, 'v4')).toBe(`Customers('${customer.CustomerId as string}')`);
    expect(entityPath(setOf('InvoiceLines'), 5, 'v4')).toBe('InvoiceLines(5)');
    expect(entityPath(setOf('InvoiceLines'), 5, 'v2')).toBe('InvoiceLines(5)');
    expect(entityPath(setOf('Products'), 'MAT-000001', 'v2')).toBe("Products('MAT-000001')");
  });
});

describe('decimalText', () => {
  it('plain digits, never an exponent', () => {
    expect(decimalText(12.5)).toBe('12.5');
    expect(decimalText(1e21)).toBe('1000000000000000000000');
    expect(decimalText(-1.5e22)).toBe('-15000000000000000000000');
    expect(decimalText(1e-7)).toBe('0.0000001');
    expect(decimalText(-1.25e-8)).toBe('-0.0000000125');
    expect(decimalText(0)).toBe('0');
  });
});
