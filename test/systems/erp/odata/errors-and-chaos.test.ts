/**
 * What an OData client meets when things go wrong, in each version's error format (never problem+json): unknown
 * sets and paths, unsupported forms, bad methods, hostile and absurd input — and chaos, which applies to OData as
 * everywhere: `status` bodies in the OData error shape, outages, `etagConflict` and `csrfExpiry` and the recovery
 * each expects. The journal names OData operations the same for both versions, and health lists the mounts.
 */
import { describe, expect, it } from 'vitest';
import { call, rawRequest } from '../../../helpers.js';
import { atom, child, csrfToken, getJson, odataServer, V2, V4 } from './odata-support.js';

async function profile(base: string, rules: unknown[]): Promise<void> {
  const res = await call(`${base}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'test', rules }) });
  expect(res.status, res.text).toBe(200);
}

describe('refusals in the OData error format', () => {
  it('an unknown entity set is a 404 naming the sets; unsupported paths and options are 400s that say so', async () => {
    const server = await odataServer();
    const unknown = await call(`${server.url}${V4}/Shippers`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('Customers, Products, SalesOrders, Invoices, InvoiceLines') });
    const v2 = await call(`${server.url}${V2}/Shippers`);
    expect(v2.status).toBe(404);
    expect(child(atom(v2.text), 'code')!.text).toBe('NOT_FOUND');
    for (const [path, status, words] of [
      [`${V4}/Customers('0001000001')/SalesOrders`, 400, 'not supported'],
      [`${V4}/Customers('0001000001')/Name/$value`, 400, 'not supported'],
      [`${V4}/$batch`, 400, 'not supported'],
      [`${V4}/Customers?$expand=SalesOrders`, 400, '$expand is not supported'],
      [`${V4}/Customers?$format=atom`, 400, 'JSON only'],
      [`${V4}/Customers(42)`, 400, 'Edm.String'],
      [`${V4}/InvoiceLines('x')`, 400, 'Edm.Int32'],
      [`${V4}/Customers(Name='x')`, 400, 'keyed by CustomerId'],
      [`${V4}/Customers?$filter=Nmae eq 'x'`, 400, 'Name'],
      [`${V4}/Customers?$filter=Name eq 5`, 400, 'Edm.String'],
      [`${V4}/Customers?$orderby=Name desc&$skiptoken=bm90LWEtdG9rZW4`, 400, 'not a token'],
      [`${V4}/Customers?$top=-1`, 400, 'non-negative'],
      [`${V4}/Customers?$top=99999999999999999999`, 400, 'too large'],
      [`${V2}/Customers?$search=Acme`, 400, 'doSearch'],
      [`${V2}/Customers?$count=true`, 400, '$inlinecount'],
      [`${V4}/Customers?$inlinecount=allpages`, 400, '$count=true'],
      // a deep $skip in another order than the key would hold every row it skips: refused, next links page instead
      [`${V4}/InvoiceLines?$orderby=Description&$skip=100001&$top=5`, 400, 'page with the next links'],
    ] as const) {
      const res = await getJson(`${server.url}${path}`);
      expect(res.status, path).toBe(status);
      const message = typeof res.body.error.message === 'string' ? res.body.error.message : res.body.error.message.value;
      expect(message, path).toContain(words);
    }
    const missing = await call(`${server.url}${V4}/Customers('9999999999')`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toContain("Customers('9999999999')");
  });

  it('a method a resource does not take is 405 with Allow', async () => {
    const server = await odataServer();
    const onSet = await call(`${server.url}${V4}/InvoiceLines`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(onSet.status).toBe(405);
    expect(onSet.headers.get('allow')).toBe('GET, HEAD');
    const onEntity = await call(`${server.url}${V4}/Customers('0001000001')`, { method: 'POST' });
    expect(onEntity.status).toBe(405);
    expect(onEntity.headers.get('allow')).toBe('GET, HEAD, PUT, PATCH, DELETE');
    expect((await call(`${server.url}${V4}/Customers('0001000001')`, { method: 'MERGE', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(405);
    expect((await call(`${server.url}${V4}/$metadata`, { method: 'DELETE' })).status).toBe(405);
  });

  it('hostile and absurd input: traversal, a huge query, a bad Host, deep nesting — a 4xx each, and the server keeps serving', async () => {
    const server = await odataServer();
    expect((await rawRequest(server.url, `${V4}/../../etc/passwd`)).status).toBeGreaterThanOrEqual(400);
    expect((await rawRequest(server.url, `${V4}/Customers('..%2F..%2Fetc%2Fpasswd')`)).status).toBe(404);
    expect((await rawRequest(server.url, `${V4}/Customers('%E0%A4%A')`)).status).toBe(400);
    const long = await rawRequest(server.url, `${V4}/Customers?$filter=${encodeURIComponent(`${'('.repeat(5000)}Name eq 'x'${')'.repeat(5000)}`)}`);
    expect(long.status).toBe(400);
    expect(long.body.error.message).toMatch(/nested too deeply/);
    const badHost = await rawRequest(server.url, `${V4}/Customers?$top=1`, { headers: { host: 'evil.example/<script>' } });
    expect(badHost.status).toBe(400);
    // named in a JSON string (never in markup a browser would run)
    expect(badHost.headers.get('content-type')).toMatch(/^application\/json/);
    expect(badHost.body.error.message).toContain('is not a host name');
    const forwarded = await getJson(`${server.url}${V4}/Customers?$top=1`, { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'erp.example.com' });
    expect(forwarded.body['@odata.context']).toBe('https://erp.example.com/erp/odata/v4/$metadata#Customers');
    expect((await call(`${server.url}${V4}/Customers?$top=1`)).status).toBe(200);
  });
});

describe('chaos on OData', () => {
  it('a status fault answers in the version\'s error format: v4 JSON, v2 JSON or XML as negotiated', async () => {
    const server = await odataServer();
    await profile(server.url, [{ id: 'down', match: { system: 'erp', path: '/erp/odata/**' }, faults: [{ status: { code: 503, retryAfter: '5s' } }] }]);
    const v4 = await call(`${server.url}${V4}/Customers`);
    expect(v4.status).toBe(503);
    expect(v4.headers.get('retry-after')).toBe('5');
    expect(v4.body.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: expect.any(String) });
    expect(v4.headers.get('content-type')).not.toContain('problem');
    const v2json = await getJson(`${server.url}${V2}/Customers`);
    expect(v2json.body.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: { lang: 'en', value: expect.any(String) } });
    const v2xml = await call(`${server.url}${V2}/Customers`);
    expect(v2xml.headers.get('content-type')).toMatch(/^application\/xml/);
    expect(child(atom(v2xml.text), 'code')!.text).toBe('SERVICE_UNAVAILABLE');
    // SOAP is the same system but another path: the rule leaves it alone
    expect((await call(`${server.url}/erp/soap?wsdl`)).status).toBe(200);
  });

  it('etagConflict: a current If-Match still gets 412 and nothing changes; reads and creates are skipped', async () => {
    const server = await odataServer();
    await profile(server.url, [{ id: 'conflict', match: { system: 'erp' }, faults: ['etagConflict'] }]);
    const read = await call(`${server.url}${V4}/Customers('0001000001')`);
    expect(read.status).toBe(200);
    const res = await call(`${server.url}${V4}/Customers('0001000001')`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', 'if-match': read.headers.get('etag')! },
      body: JSON.stringify({ City: 'York' }),
    });
    expect(res.status).toBe(412);
    expect(res.body.error.code).toBe('PRECONDITION_FAILED');
    expect((await call(`${server.url}${V4}/Customers('0001000001')`)).body.City).toBe(read.body.City);
    const journal = await call(`${server.url}/__admin/journal?operation=Customers.update`);
    expect(journal.body.entries[0].faults).toEqual([expect.objectContaining({ rule: 'conflict', kind: 'etagConflict' })]);
    const reads = await call(`${server.url}/__admin/journal?operation=Customers.read&limit=1`);
    expect(reads.body.entries[0].faults[0]).toMatchObject({ kind: 'etagConflict', skipped: expect.stringContaining('not an OData update or delete') });
  });

  it('csrfExpiry: the token fetched before stops working; a new fetch and a retry succeed (the recovery a client must do)', async () => {
    const server = await odataServer();
    const token = await csrfToken(server.url, V2);
    await profile(server.url, [{ id: 'expire', match: { operation: 'Customers.update' }, faults: ['csrfExpiry'] }]);
    const url = `${server.url}${V2}/Customers('0001000002')`;
    const first = await call(url, { method: 'MERGE', headers: { 'content-type': 'application/json', 'x-csrf-token': token }, body: JSON.stringify({ City: 'Denver' }) });
    expect(first.status).toBe(403);
    expect(first.headers.get('x-csrf-token')).toBe('Required');
    expect(first.text).toContain('CSRF token validation failed');
    await profile(server.url, []);
    const again = await call(url, { method: 'MERGE', headers: { 'content-type': 'application/json', 'x-csrf-token': token }, body: JSON.stringify({ City: 'Denver' }) });
    expect(again.status).toBe(403);
    const fresh = await csrfToken(server.url, V2);
    expect(fresh).not.toBe(token);
    const retried = await call(url, { method: 'MERGE', headers: { 'content-type': 'application/json', 'x-csrf-token': fresh }, body: JSON.stringify({ City: 'Denver' }) });
    expect(retried.status, retried.text).toBe(204);
  });

  it('drift: the answer a client gets breaks the model, and the journal\'s contract says where', async () => {
    const server = await odataServer();
    await profile(server.url, [{ id: 'drift', match: { operation: 'Customers.query' }, faults: [{ drift: { remove: ['value.*.Name'], rename: { 'value.*.City': 'Town' }, retype: ['value.*.Blocked'] } }] }]);
    const res = await call(`${server.url}${V4}/Customers?$top=2`);
    expect(res.status).toBe(200);
    expect(res.body.value[0].Name).toBeUndefined();
    expect(res.body.value[0].Town).toBeDefined();
    const listed = await call(`${server.url}/__admin/journal?operation=Customers.query&limit=1`);
    const entry = (await call(`${server.url}/__admin/journal/${listed.body.entries[0].id}`)).body;
    expect(entry.contract.valid).toBe(false);
    const messages = entry.contract.errors.map((e: any) => `${e.pointer} ${e.message}`);
    expect(messages).toEqual(
      expect.arrayContaining(['/value/0/Name Name is missing', '/value/0/Town Town is not a property of Customer', '/value/0/City City is missing', '/value/0/Blocked Blocked must be a boolean']),
    );
    // an answer the engine wrote itself is not read again, and has nothing to report
    await profile(server.url, []);
    await call(`${server.url}${V4}/Customers?$top=2`);
    const clean = await call(`${server.url}/__admin/journal?operation=Customers.query&limit=1`);
    expect((await call(`${server.url}/__admin/journal/${clean.body.entries[0].id}`)).body.contract).toMatchObject({ valid: true });
  });

  it('the journal: protocol odata, system erp, the same operation names for v2 and v4; health lists the OData mounts', async () => {
    const server = await odataServer();
    await call(`${server.url}${V4}/Customers?$top=1`);
    await call(`${server.url}${V2}/Customers?$top=1`);
    await call(`${server.url}${V4}/Customers/$count`);
    await call(`${server.url}${V2}/Customers('0001000001')`);
    await call(`${server.url}${V4}/$metadata`);
    await call(`${server.url}${V2}/`);
    const journal = (await call(`${server.url}/__admin/journal?system=erp`)).body.entries;
    expect(journal.map((e: any) => [e.protocol, e.operation])).toEqual([
      ['odata', 'service'],
      ['odata', 'metadata'],
      ['odata', 'Customers.read'],
      ['odata', 'Customers.count'],
      ['odata', 'Customers.query'],
      ['odata', 'Customers.query'],
    ]);
    expect(journal[2].key).toBe('0001000001');
    const health = (await call(`${server.url}/__admin/health`)).body;
    expect(health.systems).toEqual(
      expect.arrayContaining([
        { name: 'erp', mount: '/erp/soap', protocol: 'soap' },
        { name: 'erp', mount: '/erp/odata/v4', protocol: 'odata' },
        { name: 'erp', mount: '/erp/odata/v2', protocol: 'odata' },
      ]),
    );
  });
});
