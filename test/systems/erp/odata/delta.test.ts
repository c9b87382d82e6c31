/**
 * Change tracking for External Change Data Capture (SALESFORCE.md §9): Salesforce sends `$top=0` with
 * `Prefer: odata.track-changes`, keeps the `@odata.deltaLink`, and polls it. Following a link answers exactly the
 * entities created, changed or removed since it was issued — removals (and entities that left the tracked
 * $filter) as `@removed` entries — and a new link; a large delta pages like any result; a link from before a
 * reset is gone (410), and a chaos rule on `<Set>.delta` can make any link fail the way that stops Salesforce.
 */
import { describe, expect, it } from 'vitest';
import { call } from '../../../helpers.js';
import { odataServer, V4 } from './odata-support.js';

const post = (url: string, body: unknown) => call(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const patch = (url: string, body: unknown) => call(url, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const customer = (n: number, country = 'DE') => ({ Name: `Delta Test ${n}`, Country: country, CurrencyCode: 'EUR', ExternalId: `DELTA-${n}` });

async function track(base: string, query = ''): Promise<string> {
  const res = await call(`${base}${V4}/Customers?$top=0${query}`, { headers: { prefer: 'odata.track-changes' } });
  expect(res.status, res.text).toBe(200);
  expect(res.headers.get('preference-applied')).toBe('odata.track-changes');
  return res.body['@odata.deltaLink'];
}

/** follows a delta link through all its pages */
async function follow(link: string): Promise<{ changed: any[]; removed: any[]; deltaLink: string; pages: number }> {
  const changed: any[] = [];
  const removed: any[] = [];
  let pages = 0;
  let next = link;
  for (;;) {
    const res = await call(next);
    expect(res.status, res.text).toBe(200);
    expect(res.body['@odata.context']).toMatch(/\$metadata#Customers(\([A-Za-z,]+\))?\/\$delta$/);
    pages++;
    for (const entry of res.body.value) (entry['@removed'] ? removed : changed).push(entry);
    if (res.body['@odata.nextLink']) {
      expect(res.body['@odata.deltaLink']).toBeUndefined();
      next = res.body['@odata.nextLink'];
      continue;
    }
    return { changed, removed, deltaLink: res.body['@odata.deltaLink'], pages };
  }
}

describe('delta links', () => {
  it('return exactly the creates, updates and removals since the link, then nothing', async () => {
    const server = await odataServer();
    const link = await track(server.url);
    expect((await follow(link)).changed).toEqual([]);

    const created = await post(`${server.url}${V4}/Customers`, customer(1));
    const createdId = created.body.CustomerId;
    expect((await patch(`${server.url}${V4}/Customers('0001000005')`, { City: 'Bath' })).status).toBe(204);
    const shortLived = (await post(`${server.url}${V4}/Customers`, customer(2))).body.CustomerId;
    expect((await call(`${server.url}${V4}/Customers('${shortLived}')`, { method: 'DELETE' })).status).toBe(204);
    // an order changes its customer's OpenOrderValue: the customer is part of the delta
    expect((await post(`${server.url}${V4}/SalesOrders`, { CustomerId: '0001000008', NetAmount: 10 })).status).toBe(201);

    const delta = await follow(link);
    expect(delta.changed.map((c) => c.CustomerId).sort()).toEqual([createdId, '0001000005', '0001000008'].sort());
    expect(delta.changed.find((c) => c.CustomerId === '0001000005')).toMatchObject({ City: 'Bath', '@odata.etag': expect.any(String) });
    expect(delta.changed.find((c) => c.CustomerId === '0001000008').OpenOrderValue).toBe(10);
    expect(delta.removed).toEqual([{ '@removed': { reason: 'deleted' }, '@id': `${server.url}${V4}/Customers('${shortLived}')`, CustomerId: shortLived }]);

    // the new link starts where this one ended
    expect((await follow(delta.deltaLink)).changed).toEqual([]);
    expect((await patch(`${server.url}${V4}/Customers('${createdId}')`, { City: 'Kiel' })).status).toBe(204);
    const later = await follow(delta.deltaLink);
    expect(later.changed.map((c) => c.CustomerId)).toEqual([createdId]);
    // the first link still answers everything since it was issued
    expect((await follow(link)).changed).toHaveLength(3);
  });

  it('a tracked read that pages carries its delta link on the last page, without the header repeated, from where it started', async () => {
    const server = await odataServer({ systems: { erp: { odataPageSize: 20 } } });
    const first = await call(`${server.url}${V4}/Customers`, { headers: { prefer: 'odata.track-changes' } });
    expect(first.body['@odata.deltaLink']).toBeUndefined();
    // a change while the pages are read: the delta link must still report it
    const changed = (await post(`${server.url}${V4}/Customers`, customer(300))).body.CustomerId;
    let page = first;
    while (page.body['@odata.nextLink']) page = await call(page.body['@odata.nextLink']);
    expect(page.body['@odata.deltaLink']).toBeDefined();
    expect((await follow(page.body['@odata.deltaLink'])).changed.map((c) => c.CustomerId)).toEqual([changed]);
  });

  it('a large delta pages (next links), with the delta link on the last page only', async () => {
    const server = await odataServer({ systems: { erp: { odataPageSize: 5 } } });
    const link = await track(server.url);
    const ids: string[] = [];
    for (let n = 0; n < 12; n++) ids.push((await post(`${server.url}${V4}/Customers`, customer(100 + n))).body.CustomerId);
    const delta = await follow(link);
    expect(delta.pages).toBe(3);
    expect(delta.changed.map((c) => c.CustomerId)).toEqual(ids);
    expect((await follow(delta.deltaLink)).changed).toEqual([]);
  });

  it('a tracked $filter: entities that leave it are @removed, and $select applies', async () => {
    const server = await odataServer();
    const link = await track(server.url, "&$filter=Country eq 'DE'&$select=CustomerId,Name,Country");
    expect(link).toContain('$filter=');
    const de = (await post(`${server.url}${V4}/Customers`, customer(7, 'DE'))).body.CustomerId;
    const moved = (await call(`${server.url}${V4}/Customers?$filter=Country eq 'DE'&$top=1`)).body.value[0].CustomerId;
    expect((await patch(`${server.url}${V4}/Customers('${moved}')`, { Country: 'FR' })).status).toBe(204);
    const delta = await follow(link);
    expect(delta.changed.map((c) => Object.keys(c).sort())).toEqual([['@odata.etag', 'Country', 'CustomerId', 'Name']]);
    expect(delta.changed[0].CustomerId).toBe(de);
    expect(delta.removed.map((r) => r.CustomerId)).toEqual([moved]);
  });

  it('a link from before a reset is gone (410); a damaged one is a 400; both in the OData error format', async () => {
    const server = await odataServer();
    const link = await track(server.url);
    expect((await call(`${server.url}/__admin/reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"scope":"state"}' })).status).toBe(200);
    const gone = await call(link);
    expect(gone.status).toBe(410);
    expect(gone.body.error).toMatchObject({ code: 'GONE', message: expect.stringContaining('track-changes') });
    const damaged = await call(`${server.url}${V4}/Customers?$deltatoken=AAAA`);
    expect(damaged.status).toBe(400);
    expect(damaged.body.error.message).toContain('$deltatoken');
  });

  it('chaos: status 410 on Customers.delta makes the poll fail as Salesforce would see it, and the journal names the operation', async () => {
    const server = await odataServer();
    const link = await track(server.url);
    const profile = { name: 'delta-gone', rules: [{ id: 'gone', match: { operation: 'Customers.delta' }, faults: [{ status: { code: 410 } }] }] };
    expect((await call(`${server.url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(profile) })).status).toBe(200);
    const res = await call(link);
    expect(res.status).toBe(410);
    expect(res.body.error.code).toBe('GONE');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    // a query is not a delta: the rule leaves it alone
    expect((await call(`${server.url}${V4}/Customers?$top=1`)).status).toBe(200);
    const journal = await call(`${server.url}/__admin/journal?operation=Customers.delta`);
    expect(journal.body.entries[0]).toMatchObject({ system: 'erp', protocol: 'odata', operation: 'Customers.delta', status: 410 });
  });
});

describe('the report card reads OData traffic', () => {
  it('polling.waste: delta polls that bring nothing fail, polls that each bring a change pass; fetch.overFetching sees $select', async () => {
    const server = await odataServer();
    const as = (client: string) => ({ headers: { 'x-understudy-client': client } });
    const pollDelta = async (client: string, polls: number, between?: () => Promise<unknown>) => {
      let link = (await call(`${server.url}${V4}/Customers?$top=0`, { headers: { prefer: 'odata.track-changes', 'x-understudy-client': client } })).body['@odata.deltaLink'];
      for (let i = 0; i < polls; i++) {
        if (between) await between();
        const res = await call(link, as(client));
        expect(res.status).toBe(200);
        link = res.body['@odata.deltaLink'];
      }
    };
    await pollDelta('idle-cdc', 6);
    let n = 0;
    await pollDelta('busy-cdc', 6, () => post(`${server.url}${V4}/Customers`, customer(500 + n++)));
    // Salesforce always selects; a client that reads whole entities over-fetches
    for (let i = 0; i < 3; i++) await call(`${server.url}${V4}/Customers?$select=CustomerId,Name&$top=5`, as('selective'));
    for (let i = 0; i < 3; i++) await call(`${server.url}${V4}/Customers?$top=5`, as('whole-rows'));
    const report = (await call(`${server.url}/__admin/report`)).body;
    const check = (client: string, id: string) => report.clients.find((c: any) => c.client === client).checks.find((c: any) => c.id === id);
    expect(check('idle-cdc', 'polling.waste')).toMatchObject({ status: 'fail', value: { polls: 6, empty: 6 } });
    expect(check('busy-cdc', 'polling.waste')).toMatchObject({ status: 'pass', value: { polls: 6, empty: 0 } });
    expect(check('selective', 'fetch.overFetching').status).toBe('pass');
    expect(['warn', 'fail']).toContain(check('whole-rows', 'fetch.overFetching').status);
  });
});
