/**
 * Judged by a client nobody here wrote: @odata/client (OData V2/V4, npm), used as its README shows, against both
 * services — queries with its filter builder and system options, counts, reads by key, and a create, update and
 * delete; on v2 with its own CSRF handling (it fetches the token with `X-CSRF-Token: fetch` and echoes it), which
 * the v2 service requires by default. Every answer it parses must be what the server holds.
 */
import { OData } from '@odata/client';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../../src/server.js';
import { call } from '../../../helpers.js';
import { getJson, odataServer, V2, V4 } from './odata-support.js';

interface Customer {
  CustomerId: string;
  Name: string;
  City: string | null;
  Country: string;
  CurrencyCode: string;
  ExternalId: string | null;
}

let server: RunningServer;
let everyone: Customer[];

beforeAll(async () => {
  server = await odataServer();
  everyone = (await getJson(`${server.url}${V4}/Customers`)).body.value;
});

describe.each([
  { version: 'v4' as const, root: V4 },
  { version: 'v2' as const, root: V2 },
])('@odata/client against the $version service', ({ version, root }) => {
  const client = () => OData.New({ serviceEndpoint: `${server.url}${root}/`, version, processCsrfToken: version === 'v2' } as Parameters<typeof OData.New>[0]);

  it('queries with a filter, ordering, paging options and a selection', async () => {
    const customers = client().getEntitySet<Customer>('Customers');
    const options = customers
      .newOptions()
      .filter(customers.newFilter().property('Country').eqString('US'))
      .orderby('Name', 'asc')
      .top(5)
      .select(['CustomerId', 'Name', 'Country']);
    const rows = await customers.query(options);
    const expected = everyone
      .filter((c) => c.Country === 'US')
      .sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0))
      .slice(0, 5);
    expect(rows.map((r) => r.CustomerId)).toEqual(expected.map((c) => c.CustomerId));
    expect(rows.every((r) => r.Country === 'US')).toBe(true);
  });

  it('counts, and reads one entity by key', async () => {
    const customers = client().getEntitySet<Customer>('Customers');
    expect(await customers.count()).toBe(everyone.length);
    const one = await customers.retrieve(everyone[7].CustomerId);
    expect(one.Name).toBe(everyone[7].Name);
    expect(one.CustomerId).toBe(everyone[7].CustomerId);
  });

  it('creates, updates and deletes a customer (v2: with the CSRF token it fetches itself)', async () => {
    const customers = client().getEntitySet<Customer>('Customers');
    const created = await customers.create({ Name: `Client Test ${version}`, Country: 'DE', CurrencyCode: 'EUR', ExternalId: `ODATA-CLIENT-${version}` });
    expect(created.CustomerId).toMatch(/^\d{10}$/);
    await customers.update(created.CustomerId, { City: 'Dresden' });
    const read = (await getJson(`${server.url}${V4}/Customers('${created.CustomerId}')`)).body;
    expect(read).toMatchObject({ Name: `Client Test ${version}`, City: 'Dresden' });
    await customers.delete(created.CustomerId);
    expect((await call(`${server.url}${V4}/Customers('${created.CustomerId}')`)).status).toBe(404);
  });
});
