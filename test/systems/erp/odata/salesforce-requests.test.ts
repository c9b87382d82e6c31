/**
 * Every request shape SALESFORCE.md §3 quotes from Salesforce Help, replayed literally (entity and property names
 * mapped onto the ERP's model: Shippers → Customers, CompanyName → Name, Phone → City, Suppliers → Customers,
 * Orders → InvoiceLines) against both versions, and checked against what Salesforce Connect reads from the answer:
 * `@odata.count` / `__count` (a string), `value` / `d.results`, the next link, only the selected properties.
 * Expected rows are computed from the whole set read without options, never hard-coded.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import type { RunningServer } from '../../../../src/server.js';
import { call } from '../../../helpers.js';
import { atom, atomEntries, child, children, getJson, odataServer, V2, V4, v2Feed } from './odata-support.js';

let server: RunningServer;
let customers: any[];

beforeAll(async () => {
  server = await odataServer();
  customers = (await getJson(`${server.url}${V4}/Customers`)).body.value;
});

/** the customers whose Name or City contains `text`, case-sensitively, in key order */
const searched = (text: string) => customers.filter((c) => c.Name.includes(text) || (c.City ?? '').includes(text));

describe('Validate and Sync', () => {
  it('v4: $metadata is the CSDL and the service document lists every entity set', async () => {
    const metadata = await call(`${server.url}${V4}/$metadata`);
    expect(metadata.status).toBe(200);
    expect(metadata.headers.get('content-type')).toMatch(/^application\/xml/);
    expect(metadata.headers.get('odata-version')).toBe('4.0');
    expect(metadata.text).toContain('<edmx:Edmx Version="4.0"');
    const service = await call(`${server.url}${V4}/`);
    expect(service.body.value.map((s: any) => s.name)).toEqual(['Customers', 'Products', 'SalesOrders', 'Invoices', 'InvoiceLines']);
    expect(service.body['@odata.context']).toBe(`${server.url}${V4}/$metadata`);
  });

  it('v2: $metadata is EDMX 1.0 and the service document is AtomPub by default, JSON when asked', async () => {
    const metadata = await call(`${server.url}${V2}/$metadata`);
    expect(metadata.status).toBe(200);
    expect(metadata.headers.get('dataserviceversion')).toBe('2.0');
    expect(metadata.text).toContain('edmx:Edmx Version="1.0"');
    const service = await call(`${server.url}${V2}/`);
    expect(service.headers.get('content-type')).toMatch(/^application\/atomsvc\+xml/);
    const doc = atom(service.text);
    expect(children(child(doc, 'workspace')!, 'collection').map((c) => c.attrs.find((a) => a.local === 'href')?.value)).toContain('InvoiceLines');
    const asJson = await getJson(`${server.url}${V2}/`);
    expect(asJson.body.d.EntitySets).toContain('Customers');
  });
});

describe('OData 4.0 requests', () => {
  it('GET …/Suppliers?$select=SupplierID&$count=true&$top=26 (any SOQL)', async () => {
    const res = await call(`${server.url}${V4}/Customers?$select=CustomerId&$count=true&$top=26`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body['@odata.context']).toBe(`${server.url}${V4}/$metadata#Customers(CustomerId)`);
    expect(res.body['@odata.count']).toBe(customers.length);
    expect(res.body.value).toHaveLength(26);
    expect(res.body.value[0]).toEqual({ '@odata.etag': expect.stringMatching(/^W\/"/), CustomerId: customers[0].CustomerId });
  });

  it("SELECT City__c … WHERE Country__c='USA' ORDER BY City__c ASC LIMIT 26 → $filter/$orderby/$top", async () => {
    const res = await call(`${server.url}${V4}/Customers?$select=City&$filter=Country eq 'US'&$orderby=City asc&$top=26`);
    expect(res.status).toBe(200);
    const expected = customers
      .filter((c) => c.Country === 'US')
      .sort((a, b) => (a.City < b.City ? -1 : a.City > b.City ? 1 : a.CustomerId < b.CustomerId ? -1 : 1))
      .slice(0, 26)
      .map((c) => c.City);
    expect(expected.length).toBeGreaterThan(1);
    expect(res.body.value.map((r: any) => r.City)).toEqual(expected);
  });

  it("the default search: $filter=contains(CompanyName,'Acme') eq true or contains(Phone,'Acme') eq true", async () => {
    const url = `${server.url}${V4}/Customers?$select=Name,City,CustomerId&$count=true&$filter=contains(Name,'Harbor') eq true or contains(City,'Harbor') eq true&$top=25`;
    const res = await call(url);
    expect(res.status).toBe(200);
    const expected = searched('Harbor');
    expect(expected.length).toBeGreaterThan(0);
    expect(res.body['@odata.count']).toBe(expected.length);
    expect(res.body.value.map((r: any) => r.CustomerId)).toEqual(expected.slice(0, 25).map((c) => c.CustomerId));
    expect(Object.keys(res.body.value[0])).toEqual(['@odata.etag', 'Name', 'City', 'CustomerId']);
  });

  it('"Use Free-Text Search Expressions": $search=Acme', async () => {
    const res = await call(`${server.url}${V4}/Customers?$select=Name,City,CustomerId&$count=true&$search=Chicago&$top=25`);
    expect(res.status).toBe(200);
    expect(res.body['@odata.count']).toBeGreaterThan(0);
    for (const row of res.body.value) expect(`${row.Name} ${row.City}`).toContain('Chicago');
  });

  it('a next link Salesforce followed: …/Orders?$count=true&$select=…&$top=301&$skiptoken=…', async () => {
    const first = await call(`${server.url}${V4}/InvoiceLines?$count=true&$select=InvoiceId,InvoiceLineId,Quantity&$top=301`);
    expect(first.status).toBe(200);
    expect(first.body['@odata.count']).toBe(2000);
    expect(first.body.value).toHaveLength(301);
    expect(first.body['@odata.nextLink']).toBeUndefined();
    // a page size below $top: the server pages, and the link keeps every option
    const paged = await odataServer({ systems: { erp: { odataPageSize: 100 } } });
    const page1 = await call(`${paged.url}${V4}/InvoiceLines?$count=true&$select=InvoiceId,InvoiceLineId,Quantity&$top=301`);
    const next = page1.body['@odata.nextLink'] as string;
    expect(next).toMatch(/\$count=true/);
    expect(next).toMatch(/\$select=InvoiceId,InvoiceLineId,Quantity/);
    expect(next).toMatch(/\$top=301/);
    expect(next).toMatch(/\$skiptoken=[A-Za-z0-9_-]+/);
    const ids: number[] = page1.body.value.map((r: any) => r.InvoiceLineId);
    let link: string | undefined = next;
    while (link) {
      const page = await call(link);
      expect(page.status).toBe(200);
      expect(page.body['@odata.count']).toBe(2000);
      ids.push(...page.body.value.map((r: any) => r.InvoiceLineId));
      link = page.body['@odata.nextLink'];
    }
    expect(ids).toEqual(Array.from({ length: 301 }, (_, i) => i + 1));
  });

  it('EventLogFile example filter: CustomerID eq 12345 (a number key on InvoiceLines; a string key on Customers)', async () => {
    const line = await call(`${server.url}${V4}/InvoiceLines?$filter=InvoiceLineId eq 1234`);
    expect(line.body.value).toHaveLength(1);
    expect(line.body.value[0].InvoiceLineId).toBe(1234);
    const customer = await call(`${server.url}${V4}/Customers?$filter=CustomerId eq '${customers[3].CustomerId}'`);
    expect(customer.body.value).toEqual([customers[3]]);
  });

  it('External Change Data Capture: $top=0 with Prefer: odata.track-changes gets a delta link', async () => {
    const res = await call(`${server.url}${V4}/Customers?$top=0&$count=true`, { headers: { prefer: 'odata.track-changes' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('preference-applied')).toBe('odata.track-changes');
    expect(res.body.value).toEqual([]);
    expect(res.body['@odata.count']).toBe(customers.length);
    expect(res.body['@odata.deltaLink']).toMatch(new RegExp(`^${server.url}${V4}/Customers\\?\\$deltatoken=`));
  });
});

describe('OData 2.0 requests', () => {
  it("the default search: substringof('Acme',CompanyName)+eq+true+or+… with $inlinecount=allpages (JSON)", async () => {
    const url = `${server.url}${V2}/Customers?$select=Name,City,CustomerId&$inlinecount=allpages&$filter=substringof('Harbor',Name)+eq+true+or+substringof('Harbor',City)+eq+true&$top=25`;
    const res = await getJson(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('dataserviceversion')).toBe('2.0');
    const feed = v2Feed(res.body);
    const expected = searched('Harbor');
    expect(feed.count).toBe(String(expected.length));
    expect(feed.results.map((r) => r.CustomerId)).toEqual(expected.slice(0, 25).map((c) => c.CustomerId));
    expect(feed.results[0].__metadata).toMatchObject({ uri: expect.stringContaining(`${V2}/Customers('`), type: 'Understudy.Erp.Customer' });
  });

  it('the same search as AtomPub (no Accept: Atom, what the Format field defaults to)', async () => {
    const url = `${server.url}${V2}/Customers?$select=Name,City,CustomerId&$inlinecount=allpages&$filter=substringof('Harbor',Name)+eq+true+or+substringof('Harbor',City)+eq+true&$top=25`;
    const res = await call(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/atom\+xml/);
    const feed = atom(res.text);
    expect(child(feed, 'count')!.text).toBe(String(searched('Harbor').length));
    expect(atomEntries(feed).map((e) => e.CustomerId)).toEqual(searched('Harbor').slice(0, 25).map((c) => c.CustomerId));
  });

  it('"Custom Query Option for Salesforce Search": doSearch=Acme', async () => {
    const res = await getJson(`${server.url}${V2}/Customers?$select=Name,City,CustomerId&$inlinecount=allpages&doSearch=Harbor&$top=25`);
    expect(res.status).toBe(200);
    const feed = v2Feed(res.body);
    expect(Number(feed.count)).toBeGreaterThan(0);
    for (const row of feed.results) expect(`${row.Name} ${row.City}`).toContain('Harbor');
  });

  it('v2 values: Decimal as a string with its scale, dates as /Date(ms)/', async () => {
    const res = await getJson(`${server.url}${V2}/Invoices?$top=1`);
    const invoice = v2Feed(res.body).results[0];
    expect(invoice.NetAmount).toMatch(/^\d+\.\d{2}$/);
    expect(invoice.InvoiceDate).toMatch(/^\/Date\(\d+\)\/$/);
    const v4 = (await call(`${server.url}${V4}/Invoices?$top=1`)).body.value[0];
    expect(Number(invoice.NetAmount)).toBe(v4.NetAmount);
    expect(Number(/\d+/.exec(invoice.InvoiceDate)![0])).toBe(Date.parse(`${v4.InvoiceDate}T00:00:00Z`));
  });

  it('server-driven paging in both v2 formats: d.__next and <link rel="next">', async () => {
    const paged = await odataServer({ systems: { erp: { odataPageSize: 20 } } });
    const json = v2Feed((await getJson(`${paged.url}${V2}/Customers?$inlinecount=allpages`)).body);
    expect(json.results).toHaveLength(20);
    expect(json.count).toBe(String(customers.length));
    expect(json.next).toMatch(/\$inlinecount=allpages/);
    const feed = atom((await call(`${paged.url}${V2}/Customers?$inlinecount=allpages`)).text);
    const next = children(feed, 'link').find((l) => l.attrs.some((a) => a.local === 'rel' && a.value === 'next'));
    expect(next).toBeDefined();
    const href = next!.attrs.find((a) => a.local === 'href')!.value;
    const second = atomEntries(atom((await call(href)).text));
    expect(second.map((e) => e.CustomerId)).toEqual(customers.slice(20, 40).map((c) => c.CustomerId));
  });
});

/**
 * The same shapes in the other version's words (SALESFORCE.md §3: $count ↔ $inlinecount, contains ↔ substringof,
 * $search ↔ doSearch), so that every shape is answered by both services, and both answer the same rows.
 */
describe.each([
  { version: 'v4', root: V4, count: '$count=true', search: (t: string) => `$search=${t}`, contains: (p: string, t: string) => `contains(${p},'${t}') eq true` },
  { version: 'v2', root: V2, count: '$inlinecount=allpages', search: (t: string) => `doSearch=${t}`, contains: (p: string, t: string) => `substringof('${t}',${p}) eq true` },
])('every shape in $version', ({ version, root, count, search, contains }) => {
  /** rows and count of a JSON answer of either version */
  const read = async (query: string): Promise<{ rows: any[]; count?: number; next?: string }> => {
    const res = await getJson(`${server.url}${root}/${query}`);
    expect(res.status, `${query}: ${res.text.slice(0, 300)}`).toBe(200);
    if (version === 'v4') return { rows: res.body.value, count: res.body['@odata.count'], next: res.body['@odata.nextLink'] };
    const feed = v2Feed(res.body);
    return { rows: feed.results, count: feed.count === undefined ? undefined : Number(feed.count), next: feed.next };
  };

  it('$select=…&<count>&$top=26', async () => {
    const { rows, count: n } = await read(`Customers?$select=CustomerId&${count}&$top=26`);
    expect(n).toBe(customers.length);
    expect(rows.map((r) => r.CustomerId)).toEqual(customers.slice(0, 26).map((c) => c.CustomerId));
  });

  it("$select=City&$filter=Country eq 'US'&$orderby=City asc&$top=26", async () => {
    const { rows } = await read(`Customers?$select=City&$filter=Country eq 'US'&$orderby=City asc&$top=26`);
    const cities = customers.filter((c) => c.Country === 'US').map((c) => c.City).sort().slice(0, 26);
    expect(rows.map((r) => r.City)).toEqual(cities);
  });

  it('the default search filter, with the count', async () => {
    const { rows, count: n } = await read(`Customers?$select=Name,City,CustomerId&${count}&$filter=${contains('Name', 'Harbor')} or ${contains('City', 'Harbor')}&$top=25`);
    expect(n).toBe(searched('Harbor').length);
    expect(rows.map((r) => r.CustomerId)).toEqual(searched('Harbor').slice(0, 25).map((c) => c.CustomerId));
  });

  it('the free-text search option', async () => {
    const { rows, count: n } = await read(`Customers?$select=Name,City,CustomerId&${count}&${search('Harbor')}&$top=25`);
    expect(n).toBe(searched('Harbor').length);
    expect(rows.map((r) => r.CustomerId)).toEqual(searched('Harbor').slice(0, 25).map((c) => c.CustomerId));
  });

  it('$top=301 with a count, and a key filter', async () => {
    const { rows, count: n, next } = await read(`InvoiceLines?${count}&$select=InvoiceId,InvoiceLineId,Quantity&$top=301`);
    expect(n).toBe(2000);
    expect(rows).toHaveLength(301);
    expect(next).toBeUndefined();
    expect((await read('InvoiceLines?$filter=InvoiceLineId eq 1234')).rows.map((r) => r.InvoiceLineId)).toEqual([1234]);
  });
});
