/**
 * $orderby (a total order: ties broken by the key, nulls first ascending and last descending), $select (checked
 * names, `*`, order and repeats) and $search / doSearch (case-sensitive substrings of any String property; words,
 * phrases, AND/OR/NOT) on the small ERP's rows.
 */
import { describe, expect, test } from 'vitest';
import { compileDoSearch, compileOrderBy, compileSearch, compileSelect, QueryTypeError, type Row } from '../../../../src/protocols/odata/evaluate/index.js';
import { parseOrderBy, parseSearch, parseSelect } from '../../../../src/protocols/odata/query/index.js';
import { allRows, smallState, typeOf } from './erp-sources.js';

const { state } = smallState();
const customers = allRows(state, 'Customers');
const orders = allRows(state, 'SalesOrders');

const sorted = (set: string, rows: Row[], orderby?: string): Row[] => [...rows].sort(compileOrderBy(typeOf(set), orderby === undefined ? undefined : parseOrderBy(orderby)).compare);
const ids = (rows: Row[], key = 'CustomerId'): unknown[] => rows.map((r) => r[key]);
const cmp = (a: any, b: any): number => (a < b ? -1 : a > b ? 1 : 0);

function refusal(fn: () => unknown): QueryTypeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof QueryTypeError) return e;
    throw e;
  }
  throw new Error('expected a QueryTypeError');
}

describe('$orderby', () => {
  test('no $orderby is key order; the key ascending is recognised as key order', () => {
    const type = typeOf('Customers');
    expect(compileOrderBy(type, undefined).keyOrder).toBe(true);
    expect(compileOrderBy(type, parseOrderBy('CustomerId')).keyOrder).toBe(true);
    expect(compileOrderBy(type, parseOrderBy('CustomerId asc,Name desc')).keyOrder).toBe(true);
    expect(compileOrderBy(type, parseOrderBy('CustomerId desc')).keyOrder).toBe(false);
    expect(compileOrderBy(type, parseOrderBy('Name')).keyOrder).toBe(false);
    expect(ids(sorted('Customers', [...customers].reverse()))).toEqual(ids(customers));
  });

  test('ties are broken by the key, ascending, whatever the direction', () => {
    const order = compileOrderBy(typeOf('Customers'), parseOrderBy('Country desc'));
    expect(order.keys.map((k) => `${k.property}${k.descending ? '↓' : '↑'}`)).toEqual(['Country↓', 'CustomerId↑']);
    expect(ids(sorted('Customers', [...customers].reverse(), 'Country desc'))).toEqual(
      ids([...customers].sort((a: any, b: any) => cmp(b.Country, a.Country) || cmp(a.CustomerId, b.CustomerId))),
    );
    expect(new Set(customers.map((c) => c.Country)).size).toBeLessThan(20); // there are ties
  });

  test('nulls come first ascending and last descending', () => {
    const asc = sorted('Customers', customers, 'CreditLimit');
    const nulls = customers.filter((c) => c.CreditLimit === null).length;
    expect(nulls).toBeGreaterThan(1);
    expect(asc.slice(0, nulls).every((c) => c.CreditLimit === null)).toBe(true);
    expect(ids(asc.slice(0, nulls))).toEqual(ids(customers.filter((c) => c.CreditLimit === null))); // key order among them
    const desc = sorted('Customers', customers, 'CreditLimit desc');
    expect(desc.slice(-nulls).every((c) => c.CreditLimit === null)).toBe(true);
    expect(ids(desc)).toEqual(
      ids([...customers].sort((a: any, b: any) => (a.CreditLimit === null ? (b.CreditLimit === null ? 0 : 1) : b.CreditLimit === null ? -1 : b.CreditLimit - a.CreditLimit) || cmp(a.CustomerId, b.CustomerId))),
    );
  });

  test('several properties; dates and instants; strings ordinal (capitals before lower case)', () => {
    expect(ids(sorted('SalesOrders', orders, 'CurrencyCode,OrderDate desc'), 'SalesOrderId')).toEqual(
      ids([...orders].sort((a: any, b: any) => cmp(a.CurrencyCode, b.CurrencyCode) || cmp(b.OrderDate, a.OrderDate) || cmp(a.SalesOrderId, b.SalesOrderId)), 'SalesOrderId'),
    );
    expect(ids(sorted('Customers', customers, 'ChangedAt desc'))).toEqual(ids([...customers].sort((a: any, b: any) => cmp(b.ChangedAt, a.ChangedAt) || cmp(a.CustomerId, b.CustomerId))));
    const rows = [{ CustomerId: '1', Name: 'b' }, { CustomerId: '2', Name: 'B' }, { CustomerId: '3', Name: 'a' }, { CustomerId: '4', Name: 'Ä' }];
    expect(ids(sorted('Customers', rows, 'Name'))).toEqual(['2', '3', '1', '4']);
  });

  test('keys in comparable form: instants as ms, so offsets compare correctly', () => {
    const order = compileOrderBy(typeOf('Customers'), parseOrderBy('CreatedAt'));
    expect(order.keyOf({ CustomerId: 'x', CreatedAt: '2024-01-01T01:00:00+02:00' })).toEqual([Date.UTC(2023, 11, 31, 23), 'x']);
    expect(order.compare({ CustomerId: 'a', CreatedAt: '2024-01-01T01:00:00+02:00' }, { CustomerId: 'b', CreatedAt: '2024-01-01T00:00:00.000Z' })).toBeLessThan(0);
  });

  test('unknown names are refused with the near names', () => {
    const e = refusal(() => compileOrderBy(typeOf('Customers'), parseOrderBy('Name,Contry desc')));
    expect(e.message).toBe("$orderby: Customer has no property 'Contry' (names are case-sensitive); did you mean Country? (at 5)");
    expect(refusal(() => compileOrderBy(typeOf('SalesOrders'), parseOrderBy('Customer'))).message).toMatch(/navigation property/);
  });
});

describe('$select', () => {
  const type = typeOf('Customers');
  test('* and no $select: every property, the row as it is', () => {
    for (const s of [undefined, parseSelect('*')]) {
      const sel = compileSelect(type, s);
      expect(sel.all).toBe(true);
      expect(sel.properties).toEqual(type.properties.map((p) => p.name));
      expect(sel.project(customers[0])).toBe(customers[0]);
    }
  });

  test("a list: the client's order, repeats dropped, nulls kept", () => {
    const sel = compileSelect(type, parseSelect('Name,CustomerId,CreditLimit,Name'));
    expect(sel.properties).toEqual(['Name', 'CustomerId', 'CreditLimit']);
    const row = customers.find((c) => c.CreditLimit === null)!;
    expect(sel.project(row)).toEqual({ Name: row.Name, CustomerId: row.CustomerId, CreditLimit: null });
    expect(Object.keys(sel.project(row))).toEqual(['Name', 'CustomerId', 'CreditLimit']);
  });

  test('unknown names and navigation properties are refused', () => {
    expect(refusal(() => compileSelect(type, parseSelect('CustomerId,Emial'))).message).toBe(
      "$select: Customer has no property 'Emial' (names are case-sensitive); did you mean Email? (at 11)",
    );
    expect(refusal(() => compileSelect(type, parseSelect('SalesOrders'))).message).toMatch(/SalesOrders is a navigation property of Customer/);
  });
});

describe('$search and doSearch', () => {
  const type = typeOf('Customers');
  const search = (text: string): unknown[] => ids(customers.filter(compileSearch(type, parseSearch(text))));
  const anyString = (r: any, s: string): boolean => ['CustomerId', 'ExternalId', 'Name', 'Email', 'City', 'Country', 'CurrencyCode'].some((p) => (r[p] ?? '').includes(s));
  const want = (f: (r: any) => boolean): unknown[] => ids(customers.filter(f));

  test('a word: a case-sensitive substring of any String property', () => {
    expect(search('Trading')).toEqual(want((r) => anyString(r, 'Trading')));
    expect(search('Trading').length).toBeGreaterThan(0);
    expect(search('trading')).toEqual(want((r) => anyString(r, 'trading'))); // Email holds "trading" in lower case
    expect(search('TRADING')).toEqual([]);
    expect(search('Munich')).toEqual(want((r) => r.City === 'Munich'));
    expect(search('LEGACY-000002')).toEqual(['0001000001']);
  });

  test('a phrase matches as written; words are ANDed; OR; NOT; parentheses', () => {
    expect(search('"Crescent Trading"')).toEqual(want((r) => anyString(r, 'Crescent Trading')));
    expect(search('"Trading Crescent"')).toEqual([]);
    expect(search('Crescent Trading')).toEqual(want((r) => anyString(r, 'Crescent') && anyString(r, 'Trading')));
    expect(search('Crescent AND Trading')).toEqual(search('Crescent Trading'));
    expect(search('Munich OR Valencia')).toEqual(want((r) => anyString(r, 'Munich') || anyString(r, 'Valencia')));
    expect(search('Trading NOT Crescent')).toEqual(want((r) => anyString(r, 'Trading') && !anyString(r, 'Crescent')));
    expect(search('(Munich OR Valencia) NOT DE')).toEqual(want((r) => (anyString(r, 'Munich') || anyString(r, 'Valencia')) && !anyString(r, 'DE')));
  });

  test('Salesforce: one case-sensitive phrase with punctuation removed (v4 $search, v2 doSearch)', () => {
    // "Ironbridge Distribution GmbH & Co. KG" searched as "GmbH & Co." arrives as "GmbH Co"
    expect(search('GmbH Co')).toEqual(want((r) => anyString(r, 'GmbH') && anyString(r, 'Co')));
    const doSearch = (text: string): unknown[] => ids(customers.filter(compileDoSearch(type, text)));
    expect(doSearch('Crescent Trading')).toEqual(want((r) => anyString(r, 'Crescent Trading')));
    expect(doSearch('  Crescent Trading ')).toEqual(doSearch('Crescent Trading'));
    expect(doSearch('GmbH Co')).toEqual([]); // the row reads "GmbH & Co.": nothing is normalised on the row side
    expect(refusal(() => compileDoSearch(type, '  ')).message).toBe('doSearch: the search text is empty (at 0)');
  });
});
