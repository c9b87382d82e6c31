/**
 * The Edm types the ERP's model does not use but the model supports (Edm.Guid, Int16, Int64, Double) and a
 * composite key, on a hand-built entity type: GUIDs compare case-insensitively against v4 bare and v2 guid'…'
 * literals, numbers of every literal type compare numerically, and a composite key orders as a whole (no key-order
 * fast path, since a source scans by one key value).
 */
import { describe, expect, test } from 'vitest';
import type { EntityType, Property } from '../../../../src/protocols/odata/model/model.js';
import { compileFilter, compileOrderBy, page, QueryTypeError, type Row } from '../../../../src/protocols/odata/evaluate/index.js';
import { parseFilter, parseOrderBy, type ODataDialect } from '../../../../src/protocols/odata/query/index.js';

const properties: Property[] = [
  { name: 'Region', type: 'Edm.String', nullable: false },
  { name: 'Seq', type: 'Edm.Int16', nullable: false },
  { name: 'Token', type: 'Edm.Guid', nullable: true },
  { name: 'Big', type: 'Edm.Int64', nullable: true },
  { name: 'Ratio', type: 'Edm.Double', nullable: true },
];
const type: EntityType = {
  name: 'Thing',
  qualifiedName: 'Test.Thing',
  key: ['Region', 'Seq'],
  properties,
  navigationProperties: [],
  property: (n) => properties.find((p) => p.name === n),
  navigationProperty: () => undefined,
};
const rows: Row[] = [
  { Region: 'EU', Seq: 2, Token: '0123ABCD-89AB-CDEF-0123-456789ABCDEF', Big: 9_000_000_000, Ratio: 0.5 },
  { Region: 'EU', Seq: 1, Token: null, Big: null, Ratio: -1.25 },
  { Region: 'AM', Seq: 7, Token: 'ffffffff-0000-0000-0000-000000000000', Big: -3, Ratio: null },
];
const where = (text: string, dialect: ODataDialect = 'v4'): string[] => rows.filter(compileFilter(type, parseFilter(text, dialect))).map((r) => `${r.Region}${r.Seq}`);

describe('other Edm types', () => {
  test('Edm.Guid: case-insensitive, v4 bare and v2 guid literals, ordered', () => {
    expect(where('Token eq 0123abcd-89ab-cdef-0123-456789abcdef')).toEqual(['EU2']);
    expect(where("Token eq guid'0123ABCD-89ab-cdef-0123-456789abcdef'", 'v2')).toEqual(['EU2']);
    expect(where('Token gt 10000000-0000-0000-0000-000000000000')).toEqual(['AM7']);
    expect(where('Token eq null')).toEqual(['EU1']);
    expect(() => where("Token eq '0123abcd-89ab-cdef-0123-456789abcdef'")).toThrow(/expected Edm\.Guid, e\.g\. an unquoted GUID/);
  });

  test('Int16, Int64 and Double against Int32, Int64, Decimal and Double literals', () => {
    expect(where('Big gt 8999999999')).toEqual(['EU2']);
    expect(where('Big lt 0L', 'v2')).toEqual(['AM7']);
    expect(where('Ratio lt -1')).toEqual(['EU1']);
    expect(where('Ratio eq 5E-1')).toEqual(['EU2']);
    expect(where('Ratio eq 0.5f', 'v2')).toEqual(['EU2']);
    expect(where('Seq ge 2')).toEqual(['EU2', 'AM7']);
    expect(where('Seq eq 1 or Seq eq 7.0')).toEqual(['EU1', 'AM7']);
  });

  test('a composite key orders as a whole and takes the general path', () => {
    const order = compileOrderBy(type, undefined);
    expect(order.keyOrder).toBe(false);
    expect(order.keys.map((k) => k.property)).toEqual(['Region', 'Seq']);
    expect(page(rows, { order, pageSize: 2 }).rows.map((r) => `${r.Region}${r.Seq}`)).toEqual(['AM7', 'EU1']);
    const byRatio = compileOrderBy(type, parseOrderBy('Ratio desc'));
    expect([...rows].sort(byRatio.compare).map((r) => r.Ratio)).toEqual([0.5, -1.25, null]);
  });

  test('a property of a type the evaluator does not compare would be refused by name', () => {
    expect(() => compileFilter(type, parseFilter('Nope eq 1', 'v4'))).toThrow(QueryTypeError);
  });
});
