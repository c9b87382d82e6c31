/**
 * Conformance over HTTP, in the two ways the issue asks:
 *  1. every negative OASIS ABNF case a query option can carry — query strings as sent, expressions as $filter,
 *     search expressions as $search, literals as `CustomerId eq <literal>` — answers 400 with the version's OData
 *     error, and the server keeps serving; the filter forms Salesforce sends (operators, functions, literals of
 *     both versions) answer 200;
 *  2. a cross-check: for a sample of filters, the rows the server returns equal the rows got by fetching the whole
 *     entity set page by page (next links) and filtering on the client.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../../src/server.js';
import { call, rawRequest } from '../../../helpers.js';
import { type AbnfCase, loadCases, RULES } from '../../../protocols/odata/query/abnf-cases.js';
import { getJson, odataServer, V2, V4, v2Feed } from './odata-support.js';

let server: RunningServer;

beforeAll(async () => {
  server = await odataServer({ systems: { erp: { odataPageSize: 7 } } });
});

/**
 * characters a request target cannot carry raw (spaces, quotes, non-ASCII) are percent-encoded; the rest stay as
 * written: existing %XX, valid or not, and a raw '#' (a browser would cut it off as a fragment; a raw HTTP client
 * sends it, and the case says it must be refused)
 */
const target = (text: string): string => text.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%#]/g, (c) => encodeURIComponent(c));

/** how a case's input reaches the server, by rule, or undefined for rules no query option carries */
function queryFor(c: AbnfCase): string | undefined {
  switch (c.Rule) {
    case 'queryOptions':
    case 'filter':
    case 'orderby':
    case 'orderBy':
    case 'select':
    case 'search':
    case 'skiptoken':
    case 'systemQueryOption':
    case 'customQueryOption':
      return c.Input;
    case 'boolCommonExpr':
    case 'boolcommonExpr':
    case 'commonExpr':
    case 'notExpr':
      return `$filter=${c.Input}`;
    case 'searchExpr':
      return `$search=${c.Input}`;
    case 'odataIdentifier':
      return `$select=${c.Input}`;
    default:
      // literal rules
      return Object.prototype.hasOwnProperty.call(RULES, c.Rule) ? `$filter=CustomerId eq ${c.Input}` : undefined;
  }
}

/** negative cases the parser accepts on purpose (abnf-conformance.test.ts LENIENT) */
const LENIENT = new Set(['tRUe', '$search=more&more', '$skiptoken=Not&this']);

describe('negative ABNF cases over HTTP', () => {
  const negatives = loadCases().filter((c) => c.FailAt !== undefined && c.FailAt !== null && queryFor(c) !== undefined && !LENIENT.has(c.Input));

  it('there are enough of them to mean something', () => {
    expect(negatives.length).toBeGreaterThan(30);
  });

  it('each answers 400 with the OData error (v4 JSON), and the server keeps serving', async () => {
    const wrong: string[] = [];
    for (const c of negatives) {
      const res = await rawRequest(server.url, `${V4}/Customers?${target(queryFor(c)!)}`);
      const error = res.body?.error;
      if (res.status !== 400 || typeof error?.code !== 'string' || typeof error?.message !== 'string' || error.message.length < 10) {
        wrong.push(`${c.Rule} | ${c.Name} | ${JSON.stringify(c.Input)} → ${res.status} ${res.text.slice(0, 200)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect((await call(`${server.url}${V4}/Customers?$top=1`)).status).toBe(200);
  });

  it('v2 answers the same refusals in its own error formats (JSON and XML)', async () => {
    for (const c of negatives.slice(0, 20)) {
      const query = target(queryFor(c)!);
      const json = await rawRequest(server.url, `${V2}/Customers?${query}`, { headers: { accept: 'application/json' } });
      expect(json.status, c.Input).toBe(400);
      expect(json.body.error.message).toMatchObject({ lang: 'en', value: expect.any(String) });
      const xml = await rawRequest(server.url, `${V2}/Customers?${query}`);
      expect(xml.status, c.Input).toBe(400);
      expect(xml.text).toMatch(/<error xmlns="http:\/\/schemas.microsoft.com\/ado\/2007\/08\/dataservices\/metadata"><code>[^<]+<\/code><message xml:lang="en">/);
    }
  });
});

/** every customer, read page by page through next links (the page size is 7 here) */
async function everyCustomer(root: string): Promise<any[]> {
  const rows: any[] = [];
  let link: string | undefined = `${server.url}${root}/Customers`;
  while (link) {
    const res = await getJson(link);
    expect(res.status).toBe(200);
    if (root === V4) {
      rows.push(...res.body.value);
      link = res.body['@odata.nextLink'];
    } else {
      const feed = v2Feed(res.body);
      rows.push(...feed.results);
      link = feed.next;
    }
  }
  return rows;
}

/** the server's rows for a filter, all pages */
async function filtered(root: string, filter: string): Promise<any[]> {
  const rows: any[] = [];
  let link: string | undefined = `${server.url}${root}/Customers?$filter=${encodeURIComponent(filter)}`;
  while (link) {
    const res = await getJson(link);
    expect(res.status, `${filter}: ${res.text.slice(0, 300)}`).toBe(200);
    const page = root === V4 ? res.body.value : v2Feed(res.body).results;
    rows.push(...page);
    link = root === V4 ? res.body['@odata.nextLink'] : v2Feed(res.body).next;
  }
  return rows;
}

type Customer = { CustomerId: string; Name: string; City: string | null; Country: string; CreditLimit: number | null; Blocked: boolean; CreatedAt: string; Email: string | null };

/** filters Salesforce sends (or could), with what they mean, for the client-side check */
const V4_FILTERS: Array<[string, (c: Customer) => boolean]> = [
  ["Country eq 'US'", (c) => c.Country === 'US'],
  ["Country ne 'US' and Blocked eq false", (c) => c.Country !== 'US' && !c.Blocked],
  ["contains(Name,'Harbor') eq true or contains(City,'Harbor') eq true", (c) => c.Name.includes('Harbor') || (c.City ?? '').includes('Harbor')],
  ["startswith(Name,'G')", (c) => c.Name.startsWith('G')],
  ["endswith(Name,'Ltd')", (c) => c.Name.endsWith('Ltd')],
  ["not (contains(Name,'a'))", (c) => !c.Name.includes('a')],
  ['CreditLimit gt 100000', (c) => c.CreditLimit !== null && c.CreditLimit > 100000],
  ['CreditLimit le 50000.5 or CreditLimit eq null', (c) => c.CreditLimit === null || c.CreditLimit <= 50000.5],
  ["tolower(City) eq 'chicago'", (c) => (c.City ?? '').toLowerCase() === 'chicago'],
  ["toupper(Country) eq 'GB' and length(Name) gt 20", (c) => c.Country === 'GB' && c.Name.length > 20],
  ["trim(City) eq 'Chicago' and City ne null", (c) => c.City === 'Chicago'],
  ['year(CreatedAt) eq 2022', (c) => c.CreatedAt.startsWith('2022')],
  ['month(CreatedAt) le 3 and day(CreatedAt) ge 15', (c) => Number(c.CreatedAt.slice(5, 7)) <= 3 && Number(c.CreatedAt.slice(8, 10)) >= 15],
  ['CreatedAt ge 2022-06-01T00:00:00Z and CreatedAt lt 2023-01-01T00:00:00.000Z', (c) => c.CreatedAt >= '2022-06-01' && c.CreatedAt < '2023-01-01'],
  ["Name eq 'Oakridge Electronics GmbH & Co. KG'", (c) => c.Name === 'Oakridge Electronics GmbH & Co. KG'],
  ["Email eq null", (c) => c.Email === null],
  ["(Country eq 'DE' or Country eq 'NL') and not (Blocked eq true)", (c) => (c.Country === 'DE' || c.Country === 'NL') && !c.Blocked],
];

const V2_FILTERS: Array<[string, (c: Customer) => boolean]> = [
  ["substringof('Harbor',Name) eq true or substringof('Harbor',City) eq true", (c) => c.Name.includes('Harbor') || (c.City ?? '').includes('Harbor')],
  ["startswith(Name,'G') eq true", (c) => c.Name.startsWith('G')],
  ["CreatedAt ge datetimeoffset'2022-06-01T00:00:00Z'", (c) => c.CreatedAt >= '2022-06-01'],
  ['CreditLimit gt 100000M', (c) => c.CreditLimit !== null && c.CreditLimit > 100000],
  ["Name eq 'O''Brien'", (c) => c.Name === "O'Brien"],
];

describe('the cross-check: server-side filtering equals client-side filtering of the whole set', () => {
  let v4All: Customer[];
  let v2All: any[];
  beforeAll(async () => {
    v4All = await everyCustomer(V4);
    v2All = await everyCustomer(V2);
  });

  it('the whole set read by next links is every customer once, in key order, in both versions', async () => {
    const count = Number((await call(`${server.url}${V4}/Customers/$count`)).text);
    expect(v4All).toHaveLength(count);
    expect(new Set(v4All.map((c) => c.CustomerId)).size).toBe(count);
    expect(v4All.map((c) => c.CustomerId)).toEqual([...v4All.map((c) => c.CustomerId)].sort());
    expect(v2All.map((c) => c.CustomerId)).toEqual(v4All.map((c) => c.CustomerId));
  });

  it.each(V4_FILTERS)('v4 %s', async (filter, predicate) => {
    const expected = v4All.filter(predicate).map((c) => c.CustomerId);
    expect((await filtered(V4, filter)).map((c) => c.CustomerId)).toEqual(expected);
  });

  it.each(V2_FILTERS)('v2 %s', async (filter, predicate) => {
    const expected = v4All.filter(predicate).map((c) => c.CustomerId);
    expect((await filtered(V2, filter)).map((c) => c.CustomerId)).toEqual(expected);
  });

  it('the sample is not vacuous: most filters match some rows and none matches all', () => {
    const sizes = [...V4_FILTERS, ...V2_FILTERS].map(([, p]) => v4All.filter(p).length);
    expect(sizes.filter((n) => n > 0).length).toBeGreaterThan(sizes.length / 2);
    expect(sizes.every((n) => n < v4All.length)).toBe(true);
  });
});

describe('indexed filters answer what a scan would', () => {
  it.each([
    ['InvoiceLines', "InvoiceId eq '0090000007'", 'InvoiceLineId'],
    ['InvoiceLines', "InvoiceId eq '0090000007' and Quantity gt 3", 'InvoiceLineId'],
    ['Invoices', "CustomerId eq '0001000011'", 'InvoiceId'],
    ['SalesOrders', "CustomerId eq '0001000011'", 'SalesOrderId'],
    ['Customers', "ExternalId eq 'LEGACY-000012'", 'CustomerId'],
    ['InvoiceLines', 'InvoiceLineId eq 77', 'InvoiceLineId'],
  ])('%s?$filter=%s: the count, every page (7 rows each) and the $top', async (set, filter, key) => {
    // the same condition, written so that no index can serve it: a scan of every row
    const scanned = `(${filter}) or (${key} eq null)`;
    const read = async (query: string) => (await getJson(`${server.url}${V4}/${set}?${query}`)).body;
    const indexed = await read(`$filter=${encodeURIComponent(filter)}&$count=true`);
    const full = await read(`$filter=${encodeURIComponent(scanned)}&$count=true`);
    expect(indexed['@odata.count']).toBe(full['@odata.count']);
    expect(indexed['@odata.count']).toBeGreaterThan(0);
    const all: any[] = [];
    let page = indexed;
    for (;;) {
      all.push(...page.value);
      if (!page['@odata.nextLink']) break;
      page = (await getJson(page['@odata.nextLink'])).body;
    }
    expect(all.map((r) => r[key])).toHaveLength(indexed['@odata.count']);
    const top = await read(`$filter=${encodeURIComponent(filter)}&$top=2&$orderby=${key} desc`);
    expect(top.value.map((r: any) => r[key])).toEqual(all.map((r) => r[key]).reverse().slice(0, 2));
  });
});

describe('filters Salesforce builds from lookups, and filters too costly to scan', () => {
  it('an or of key equalities (a page of lookups, read through the index) answers the rows of those keys', async () => {
    const server = await odataServer();
    const ids = ['0001000003', '0001000042', '0001000007', '0001000042', '0009999999'];
    const filter = ids.map((id) => `CustomerId eq '${id}'`).join(' or ');
    const res = await getJson(`${server.url}${V4}/Customers?$filter=${encodeURIComponent(filter)}&$count=true`);
    expect(res.status, res.text).toBe(200);
    expect(res.body['@odata.count']).toBe(3);
    expect(res.body.value.map((c: any) => c.CustomerId)).toEqual(['0001000003', '0001000007', '0001000042']);
    const lines = await getJson(`${server.url}${V4}/InvoiceLines?$filter=${encodeURIComponent('(InvoiceId eq \'0090000002\' and Quantity gt 2) or InvoiceLineId eq 5')}&$count=true`);
    const every = (await getJson(`${server.url}${V4}/InvoiceLines?$filter=${encodeURIComponent("InvoiceId eq '0090000002' or InvoiceId eq '0090000001'")}`)).body.value;
    const expected = every.filter((l: any) => (l.InvoiceId === '0090000002' && l.Quantity > 2) || l.InvoiceLineId === 5).map((l: any) => l.InvoiceLineId);
    expect(lines.body.value.map((l: any) => l.InvoiceLineId)).toEqual(expected);
    expect(lines.body['@odata.count']).toBe(expected.length);
  });

  it('hundreds of conditions over a million rows are refused with a 400 that says why, at once', async () => {
    const big = await odataServer({ systems: { erp: { invoiceLines: 1_000_000, invoices: 10_000 } } });
    const filter = Array.from({ length: 300 }, (_, i) => `contains(Description,'zz${i}')`).join(' or ');
    const res = await getJson(`${big.url}${V4}/InvoiceLines?$filter=${encodeURIComponent(filter)}&$top=1`);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/300 conditions over the 1,000,000 rows of InvoiceLines/);
    // the same over the small Customers set is fine
    const customers = await getJson(`${big.url}${V4}/Customers?$filter=${encodeURIComponent(filter.replaceAll('Description', 'Name'))}&$top=1`);
    expect(customers.status).toBe(200);
  });
});
