/**
 * Keyset paging (skiptoken.ts, page.ts), checked the way a client would: for ~20 filters and orderings over the
 * small ERP, walking the result page by page through next tokens (page size 7) yields exactly the rows that
 * plain hand-written JavaScript gets by filtering and sorting all rows; the walk stays exact for the rows present
 * from the start when customers are created between page fetches; $top/$skip/$count across pages; the key-order
 * fast path agrees with the general one; a token used with other options, and hostile tokens, are refused with
 * clear errors.
 */
import { describe, expect, test } from 'vitest';
import {
  allOf,
  compileFilter,
  compileOrderBy,
  compileSearch,
  decodeSkipToken,
  encodeSkipToken,
  MAX_SKIPTOKEN_LENGTH,
  page,
  requestDigest,
  type Row,
  type RowSource,
  SkipTokenError,
} from '../../../../src/protocols/odata/evaluate/index.js';
import { parseFilter, parseOrderBy, parseSearch } from '../../../../src/protocols/odata/query/index.js';
import type { ErpState } from '../../../../src/systems/erp/state.js';
import { allRows, rowSource, smallState, typeOf } from './erp-sources.js';

interface Request {
  set: string;
  filter?: string;
  orderby?: string;
  search?: string;
  top?: number;
  skip?: number;
}

interface Walk {
  rows: Row[];
  pages: number;
  counts: number[];
}

/** Follows next tokens to the end, as a client would; `between` runs after each page. */
function walk(state: ErpState, r: Request, pageSize = 7, between?: (page: number) => void, source?: () => RowSource): Walk {
  const type = typeOf(r.set);
  const filter = allOf(r.filter ? compileFilter(type, parseFilter(r.filter, 'v4')) : undefined, r.search ? compileSearch(type, parseSearch(r.search)) : undefined);
  const order = compileOrderBy(type, r.orderby ? parseOrderBy(r.orderby) : undefined);
  const digest = requestDigest({ entitySet: r.set, filter: r.filter, orderby: r.orderby, search: r.search });
  const out: Walk = { rows: [], pages: 0, counts: [] };
  let token: string | undefined;
  do {
    const after = token === undefined ? undefined : decodeSkipToken(token, digest, order);
    const p = page(source ? source() : rowSource(state, r.set), { filter, order, pageSize, skip: r.skip, top: r.top, after, count: true, digest });
    expect(p.rows.length).toBeLessThanOrEqual(pageSize);
    if (p.nextToken !== undefined) expect(p.rows.length).toBe(pageSize);
    out.rows.push(...p.rows);
    out.counts.push(p.count!);
    token = p.nextToken;
    out.pages++;
    between?.(out.pages - 1);
    if (out.pages > 10_000) throw new Error('endless walk');
  } while (token !== undefined);
  return out;
}

type Sort = [string, 'asc' | 'desc'][];
/** plain JS: nulls first ascending, then the key */
function plainSort(rows: Row[], sort: Sort, key: string): Row[] {
  const c = (a: any, b: any): number => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1);
  return [...rows].sort((a, b) => {
    for (const [p, d] of sort) {
      const x = c(a[p], b[p]) * (d === 'desc' ? -1 : 1);
      if (x !== 0) return x;
    }
    return c(a[key], b[key]);
  });
}

const CASES: { r: Request; f?: (r: any) => boolean; sort: Sort }[] = [
  { r: { set: 'Customers' }, sort: [] },
  { r: { set: 'Customers', filter: "Country eq 'DE'", orderby: 'City' }, f: (r) => r.Country === 'DE', sort: [['City', 'asc']] },
  { r: { set: 'Customers', orderby: 'CreditLimit desc' }, sort: [['CreditLimit', 'desc']] },
  { r: { set: 'Customers', filter: 'CreditLimit gt 100000', orderby: 'CreditLimit' }, f: (r) => r.CreditLimit !== null && r.CreditLimit > 100000, sort: [['CreditLimit', 'asc']] },
  {
    r: { set: 'Customers', filter: "contains(Name,'Tr') eq true or contains(Email,'ron') eq true", orderby: 'Name' },
    f: (r) => r.Name.includes('Tr') || (r.Email ?? '').includes('ron'),
    sort: [['Name', 'asc']],
  },
  { r: { set: 'Customers', filter: "startswith(Name,'C') or endswith(Name,'Ltd')", orderby: 'Country desc,Name' }, f: (r) => r.Name.startsWith('C') || r.Name.endsWith('Ltd'), sort: [['Country', 'desc'], ['Name', 'asc']] },
  { r: { set: 'Customers', filter: 'not Blocked and length(City) gt 6', orderby: 'City desc' }, f: (r) => !r.Blocked && r.City !== null && r.City.length > 6, sort: [['City', 'desc']] },
  { r: { set: 'Customers', search: 'Trading OR Munich', orderby: 'ChangedAt desc' }, f: (r) => JSON.stringify(r).includes('Trading') || r.City === 'Munich', sort: [['ChangedAt', 'desc']] },
  { r: { set: 'SalesOrders', filter: 'year(OrderDate) eq 2024', orderby: 'OrderDate desc' }, f: (r) => r.OrderDate.startsWith('2024'), sort: [['OrderDate', 'desc']] },
  { r: { set: 'SalesOrders', filter: 'RequestedDeliveryDate eq null', orderby: 'NetAmount desc' }, f: (r) => r.RequestedDeliveryDate === null, sort: [['NetAmount', 'desc']] },
  { r: { set: 'SalesOrders', filter: "NetAmount ge 50000 and CurrencyCode ne 'USD'", orderby: 'CurrencyCode,NetAmount' }, f: (r) => r.NetAmount >= 50000 && r.CurrencyCode !== 'USD', sort: [['CurrencyCode', 'asc'], ['NetAmount', 'asc']] },
  { r: { set: 'SalesOrders', orderby: 'RequestedDeliveryDate' }, sort: [['RequestedDeliveryDate', 'asc']] },
  { r: { set: 'Invoices', filter: "InvoiceStatus eq 'OPEN'", orderby: 'DueDate' }, f: (r) => r.InvoiceStatus === 'OPEN', sort: [['DueDate', 'asc']] },
  { r: { set: 'Invoices', filter: 'DueDate lt 2024-06-01', orderby: 'CustomerId,InvoiceDate desc' }, f: (r) => r.DueDate < '2024-06-01', sort: [['CustomerId', 'asc'], ['InvoiceDate', 'desc']] },
  { r: { set: 'InvoiceLines', filter: 'Quantity gt 20' }, f: (r) => r.Quantity > 20, sort: [] },
  { r: { set: 'InvoiceLines', filter: "contains(Description,'Bolt')", orderby: 'Description' }, f: (r) => r.Description.includes('Bolt'), sort: [['Description', 'asc']] },
  { r: { set: 'InvoiceLines', filter: 'InvoiceLineId gt 1500' }, f: (r) => r.InvoiceLineId > 1500, sort: [] },
  { r: { set: 'InvoiceLines', filter: "ProductId eq 'MAT-000173' or Quantity eq 1", orderby: 'Quantity,ProductId desc' }, f: (r) => r.ProductId === 'MAT-000173' || r.Quantity === 1, sort: [['Quantity', 'asc'], ['ProductId', 'desc']] },
  { r: { set: 'InvoiceLines', filter: 'NetAmount gt 20000', orderby: 'NetAmount desc' }, f: (r) => r.NetAmount > 20000, sort: [['NetAmount', 'desc']] },
  { r: { set: 'Products', filter: 'UnitPrice lt 100', orderby: 'UnitPrice desc' }, f: (r) => r.UnitPrice < 100, sort: [['UnitPrice', 'desc']] },
  { r: { set: 'Products', filter: "endswith(Description,'Bolt')" }, f: (r) => r.Description.endsWith('Bolt'), sort: [] },
  { r: { set: 'Invoices', filter: 'LineCount ge 10', orderby: 'NetAmount', top: 40, skip: 3 }, f: (r) => r.LineCount >= 10, sort: [['NetAmount', 'asc']] },
  { r: { set: 'InvoiceLines', filter: 'Quantity lt 5', top: 30, skip: 10 }, f: (r) => r.Quantity < 5, sort: [] },
];

describe('the client-side cross-check: paging with next tokens equals filtering and sorting all rows in plain JS', () => {
  const { state } = smallState();
  test.each(CASES.map((c) => [`${c.r.set}?${Object.entries(c.r).filter(([k]) => k !== 'set').map(([k, v]) => `$${k}=${v}`).join('&')}`, c] as const))('%s', (_, c) => {
    const key = typeOf(c.r.set).key[0];
    const all = allRows(state, c.r.set);
    const matching = plainSort(c.f ? all.filter(c.f) : all, c.sort, key);
    const want = matching.slice(c.r.skip ?? 0, (c.r.skip ?? 0) + (c.r.top ?? Infinity));
    const got = walk(state, c.r);
    expect(got.rows.map((r) => r[key])).toEqual(want.map((r) => r[key]));
    expect(got.counts.every((n) => n === matching.length)).toBe(true);
    expect(want.length).toBeGreaterThan(7); // several pages each
    expect(got.pages).toBe(Math.max(1, Math.ceil(want.length / 7)));
  });
});

describe('keyset paging while rows are inserted underneath', () => {
  const names = ['Aardvark Ltd', 'Zeta Corp', 'Midway GmbH', 'Crescent Trading S.A.', 'Beta AG', 'Omega Inc', 'Ironbridge AB'];
  test.each(['Name', 'Name desc', 'Country,Name', 'CreatedAt desc', 'CustomerId'])('Customers ordered by %s, a customer created after every page', (orderby) => {
    const { state, clock } = smallState();
    const before = allRows(state, 'Customers');
    const want = plainSort(before, orderby.split(',').map((s) => s.split(' ') as [string, 'asc' | 'desc']), 'CustomerId').map((r) => r.CustomerId);
    let n = 0;
    const got = walk(state, { set: 'Customers', orderby }, 7, () => {
      clock.advance(60_000);
      state.createCustomer({ externalId: `NEW-${n}`, name: names[n % names.length], email: null, city: null, country: n % 2 ? 'AT' : 'ZA', currencyCode: 'EUR', creditLimitCents: null, blocked: false });
      n++;
    });
    const ids = got.rows.map((r) => r.CustomerId);
    expect(new Set(ids).size).toBe(ids.length); // nothing repeated
    const original = new Set(want);
    expect(ids.filter((id) => original.has(id))).toEqual(want); // nothing present from the start skipped, in order
    expect(n).toBeGreaterThan(7);
  });

  test('an offset would have repeated rows: the same walk by $skip does (the contrast)', () => {
    const { state } = smallState();
    const order = compileOrderBy(typeOf('Customers'), parseOrderBy('Name'));
    const seen: unknown[] = [];
    for (let skip = 0; skip < 60; skip += 7) {
      seen.push(...page(rowSource(state, 'Customers'), { order, pageSize: 7, skip }).rows.map((r) => r.CustomerId));
      state.createCustomer({ externalId: `X-${skip}`, name: 'Aaa first', email: null, city: null, country: 'AT', currencyCode: 'EUR', creditLimitCents: null, blocked: false });
    }
    expect(new Set(seen).size).toBeLessThan(seen.length);
  });
});

describe('$top, $skip and $count across pages', () => {
  const { state } = smallState();
  const type = typeOf('Invoices');
  const order = compileOrderBy(type, parseOrderBy('DueDate desc'));
  const all = plainSort(allRows(state, 'Invoices'), [['DueDate', 'desc']], 'InvoiceId');

  test('$top bounds the whole result, $skip only the first page (a next link may carry both unchanged)', () => {
    for (const [top, skip] of [[0, 0], [1, 0], [7, 0], [8, 0], [20, 5], [301, 0], [undefined, 190], [5, 198]] as const) {
      const got = walk(state, { set: 'Invoices', orderby: 'DueDate desc', top, skip });
      const want = all.slice(skip, skip + (top ?? Infinity));
      expect(got.rows.map((r) => r.InvoiceId), `top ${top} skip ${skip}`).toEqual(want.map((r) => r.InvoiceId));
    }
  });

  test('$top=0 with $count: no rows, no next, the count', () => {
    expect(page(rowSource(state, 'Invoices'), { order, pageSize: 7, top: 0, count: true })).toEqual({ rows: [], count: 200 });
    expect(page(rowSource(state, 'InvoiceLines'), { order: compileOrderBy(typeOf('InvoiceLines'), undefined), pageSize: 7, top: 0, count: true })).toEqual({ rows: [], count: 2000 });
  });

  test('the last page has no next; an empty result is one empty page', () => {
    const p = page(rowSource(state, 'Invoices'), { order, pageSize: 1000, count: true });
    expect(p.rows).toHaveLength(200);
    expect(p.next).toBeUndefined();
    const none = page(rowSource(state, 'Invoices'), { order, pageSize: 7, filter: () => false, count: true, digest: 'd' });
    expect(none).toEqual({ rows: [], count: 0 });
  });

  test('the key-order fast path (scanFrom) and the general path give the same pages', () => {
    const lines = allRows(state, 'InvoiceLines');
    const plain = (): RowSource => lines; // an array: no scanFrom, no size
    for (const r of [{ set: 'InvoiceLines' }, { set: 'InvoiceLines', filter: 'Quantity eq 7', skip: 3, top: 50 }, { set: 'InvoiceLines', orderby: 'InvoiceLineId', top: 100 }]) {
      const fast = walk(state, r, 7);
      const slow = walk(state, r, 7, undefined, plain);
      expect(fast.rows).toEqual(slow.rows);
      expect(fast.counts).toEqual(slow.counts);
    }
    expect(compileOrderBy(typeOf('InvoiceLines'), undefined).keyOrder).toBe(true);
  });
});

describe('$skiptoken refusals', () => {
  const { state } = smallState();
  const type = typeOf('Customers');
  const order = compileOrderBy(type, parseOrderBy('Name'));
  const digest = requestDigest({ entitySet: 'Customers', orderby: 'Name', filter: "Country eq 'DE'" });
  const first = page(rowSource(state, 'Customers'), { order, pageSize: 3, digest, filter: compileFilter(type, parseFilter("Country eq 'DE'", 'v4')) });
  const token = first.nextToken!;

  function refused(t: string, d = digest, o = order): string {
    try {
      decodeSkipToken(t, d, o);
    } catch (e) {
      expect(e).toBeInstanceOf(SkipTokenError);
      expect((e as SkipTokenError).option).toBe('$skiptoken');
      return (e as Error).message;
    }
    throw new Error('expected the token to be refused');
  }

  test('a token is opaque base64url text and decodes for its own request', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeSkipToken(token, digest, order)).toEqual(first.next);
    expect(first.next!.n).toBe(3);
  });

  test('a token used with other $filter, $orderby, $select, $search or entity set is refused', () => {
    const other = [
      { entitySet: 'Customers', orderby: 'Name', filter: "Country eq 'AT'" },
      { entitySet: 'Customers', orderby: 'Name' },
      { entitySet: 'Customers', orderby: 'Name', filter: "Country eq 'DE'", select: 'Name' },
      { entitySet: 'Customers', orderby: 'Name', filter: "Country eq 'DE'", search: 'x' },
      { entitySet: 'Customers', orderby: 'Name', filter: "Country eq 'DE'", doSearch: 'x' },
      { entitySet: 'Suppliers', orderby: 'Name', filter: "Country eq 'DE'" },
    ];
    for (const o of other) {
      expect(refused(token, requestDigest(o))).toBe(
        '$skiptoken: the token was issued for a request with other $filter, $orderby, $select or $search options (or another entity set); follow the next link with the options it carries, or start again without $skiptoken',
      );
    }
    // the same options give the same digest ($top and $skip are not part of it: the next link carries them)
    expect(requestDigest({ entitySet: 'Customers', orderby: 'Name', filter: "Country eq 'DE'" })).toBe(digest);
  });

  test('hostile tokens: garbage, truncated, forged, wrong shapes, huge', () => {
    const forge = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const notOurs = /^\$skiptoken: not a token issued by this server \(.+\); use the next link as given$/;
    expect(refused('')).toBe('$skiptoken: the token is empty; use the next link as the server gave it');
    expect(refused('10447')).toMatch(notOurs); // Salesforce's example: someone else's token
    expect(refused('%%%')).toMatch(/it is not base64url text/);
    expect(refused('a b')).toMatch(/it is not base64url text/);
    expect(refused(token.slice(0, -6))).toMatch(/damaged or truncated/);
    expect(refused(token.slice(6))).toMatch(notOurs);
    expect(refused('A'.repeat(100_000))).toBe(`$skiptoken: the token is 100000 characters long, more than the ${MAX_SKIPTOKEN_LENGTH} a token of this server has`);
    expect(refused(forge([1, 2]))).toMatch(/not a token object/);
    expect(refused(forge(null))).toMatch(/not a token object/);
    expect(refused(forge({ v: 2, d: digest, n: 0, k: ['x', 'y'] }))).toMatch(/unknown version/);
    expect(refused(forge({ v: 1, n: 0, k: ['x', 'y'] }))).toMatch(/no digest/);
    expect(refused(forge({ v: 1, d: 'forged', n: 0, k: ['x', 'y'] }))).toMatch(/issued for a request with other/);
    expect(refused(forge({ v: 1, d: digest, n: -1, k: ['x', 'y'] }))).toMatch(/bad row count/);
    expect(refused(forge({ v: 1, d: digest, n: 1e300, k: ['x', 'y'] }))).toMatch(/bad row count/);
    expect(refused(forge({ v: 1, d: digest, n: 0, k: ['x'] }))).toMatch(/sort keys do not fit this ordering/);
    expect(refused(forge({ v: 1, d: digest, n: 0, k: 'xy' }))).toMatch(/sort keys do not fit/);
    expect(refused(forge({ v: 1, d: digest, n: 0, k: [5, 'y'] }))).toMatch(/the value for Name is not a string/);
    expect(refused(forge({ v: 1, d: digest, n: 0, k: ['x', { a: 1 }] }))).toMatch(/the value for CustomerId is not a string/);
    expect(refused(forge({ v: 1, d: digest, n: 0, k: ['x'.repeat(2000), 'y'] }))).toMatch(/too long/);
    expect(refused(forge({ __proto__: { v: 1 }, d: digest, n: 0, k: ['x', 'y'] }))).toMatch(/unknown version/);
    // a forged but well-formed token only moves the start of a page
    const t = encodeSkipToken({ k: ['M', '0'], n: 0 }, digest);
    expect(decodeSkipToken(t, digest, order)).toEqual({ k: ['M', '0'], n: 0 });
  });
});
