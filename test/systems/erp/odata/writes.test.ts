/**
 * Writes over OData as a Salesforce Connect writable external object (or any OData client) makes them: POST,
 * PATCH/PUT (v2 also MERGE and X-HTTP-Method tunnelling), DELETE on Customers and SalesOrders; ETags with If-Match
 * (412 on a stale one) and If-None-Match (304); the SAP CSRF convention per systems.erp.csrf; gzip bodies and Atom
 * entries; and the one ERP behind both protocols: what OData writes, SOAP reads, and the reverse. Every refusal
 * leaves the data as it was.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { call } from '../../../helpers.js';
import { elementText, postRaw } from '../soap-support.js';
import { atom, csrfToken, entryProperties, getJson, odataServer, V2, V4, write } from './odata-support.js';

const soapEnvelope = (body: string) =>
  `<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>${body}</env:Body></env:Envelope>`;
const soap = (base: string, body: string) => postRaw(base, soapEnvelope(body), { 'content-type': 'text/xml; charset=utf-8', soapaction: '""' });

const NEW_CUSTOMER = { Name: 'Northwind Test GmbH', Country: 'DE', CurrencyCode: 'EUR', City: 'Berlin', ExternalId: 'SF-ODATA-1', CreditLimit: 5000.5 };

describe('Customers: create, read, update, delete (v4)', () => {
  it('POST creates (201, Location, ETag); PATCH changes (204, new ETag); a stale If-Match gets 412; DELETE removes', async () => {
    const server = await odataServer();
    const created = await call(`${server.url}${V4}/Customers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(NEW_CUSTOMER) });
    expect(created.status, created.text).toBe(201);
    const id = created.body.CustomerId;
    expect(created.headers.get('location')).toBe(`${server.url}${V4}/Customers('${id}')`);
    const etag1 = created.headers.get('etag')!;
    expect(etag1).toMatch(/^W\/".+"$/);
    expect(created.body).toMatchObject({ Name: 'Northwind Test GmbH', CreditLimit: 5000.5, OpenOrderValue: 0, Blocked: false, '@odata.etag': etag1 });

    const patched = await call(`${server.url}${V4}/Customers('${id}')`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', 'if-match': etag1 },
      body: JSON.stringify({ City: 'Hamburg' }),
    });
    expect(patched.status, patched.text).toBe(204);
    const etag2 = patched.headers.get('etag')!;
    expect(etag2).not.toBe(etag1);

    const stale = await call(`${server.url}${V4}/Customers('${id}')`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', 'if-match': etag1 },
      body: JSON.stringify({ City: 'Munich' }),
    });
    expect(stale.status).toBe(412);
    expect(stale.body.error).toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringContaining('changed since it was read') });
    const read = await call(`${server.url}${V4}/Customers('${id}')`);
    expect(read.body.City).toBe('Hamburg');
    expect(read.headers.get('etag')).toBe(etag2);
    expect((await call(`${server.url}${V4}/Customers('${id}')`, { headers: { 'if-none-match': etag2 } })).status).toBe(304);

    // PUT replaces: what it does not send goes back to null
    const put = await call(`${server.url}${V4}/Customers('${id}')`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Name: 'Northwind Test GmbH', Country: 'DE', CurrencyCode: 'EUR', Blocked: false, ExternalId: 'SF-ODATA-1' }),
    });
    expect(put.status, put.text).toBe(204);
    expect((await call(`${server.url}${V4}/Customers('${id}')`)).body).toMatchObject({ City: null, CreditLimit: null, Email: null });

    const deleted = await call(`${server.url}${V4}/Customers('${id}')`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    const gone = await call(`${server.url}${V4}/Customers('${id}')`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('NOT_FOUND');
  });

  it('read-only properties a client sends are ignored (Salesforce edits send every field); unknown and ill-typed ones are refused', async () => {
    const server = await odataServer();
    const all = (await call(`${server.url}${V4}/Customers('0001000001')`)).body;
    const { '@odata.context': _c, '@odata.etag': _e, ...fields } = all;
    const edit = await call(`${server.url}${V4}/Customers('0001000001')`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...fields, City: 'Leeds', OpenOrderValue: 999999, ChangedAt: '2000-01-01T00:00:00.000Z' }),
    });
    expect(edit.status, edit.text).toBe(204);
    const after = (await call(`${server.url}${V4}/Customers('0001000001')`)).body;
    expect(after.City).toBe('Leeds');
    expect(after.OpenOrderValue).toBe(all.OpenOrderValue);
    expect(after.ChangedAt).not.toBe('2000-01-01T00:00:00.000Z');

    const before = (await call(`${server.url}${V4}/Customers('0001000002')`)).text;
    for (const [body, problem] of [
      [{ Nickname: 'x' }, 'Nickname is not a property of Customer'],
      [{ Name: 42 }, 'Name must be a string'],
      [{ Name: 'x'.repeat(81) }, 'longer than 80'],
      [{ CreditLimit: 1.234 }, 'more than 2 digits after the point'],
      [{ SalesOrders: [] }, 'navigation property'],
      [{ Name: null }, 'must not be null'],
    ] as const) {
      const res = await call(`${server.url}${V4}/Customers('0001000002')`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.message).toContain(problem);
    }
    for (const [headers, body, status] of [
      [{ 'content-type': 'application/json' }, '{"Name":', 400],
      [{ 'content-type': 'application/json' }, '[1,2]', 400],
      [{ 'content-type': 'text/plain' }, 'Name=x', 415],
      [{ 'content-type': 'application/json', 'content-encoding': 'br' }, '{}', 415],
      [{ 'content-type': 'application/json', 'content-encoding': 'gzip' }, 'not gzip', 400],
    ] as const) {
      const res = await call(`${server.url}${V4}/Customers('0001000002')`, { method: 'PATCH', headers, body });
      expect(res.status, body).toBe(status);
      expect(res.body.error.message.length).toBeGreaterThan(10);
    }
    expect((await call(`${server.url}${V4}/Customers('0001000002')`)).text).toBe(before);
  });

  it('a gzip-compressed body (Compress Requests) is read; one that expands past the body limit is refused with 413', async () => {
    const server = await odataServer({ limits: { bodyBytes: 64 * 1024 } });
    const body = gzipSync(Buffer.from(JSON.stringify({ ...NEW_CUSTOMER, ExternalId: 'SF-GZIP-1' })));
    const created = await call(`${server.url}${V4}/Customers`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body });
    expect(created.status, created.text).toBe(201);
    const listed = await call(`${server.url}/__admin/journal?operation=Customers.create&limit=1`);
    const journaled = await call(`${server.url}/__admin/journal/${listed.body.entries[0].id}`);
    // the journal keeps what the client meant, not the compressed bytes
    expect(JSON.stringify(journaled.body.request.body)).toContain('SF-GZIP-1');
    const bomb = gzipSync(Buffer.alloc(5 * 1024 * 1024, 32));
    const refused = await call(`${server.url}${V4}/Customers`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: bomb });
    expect(refused.status).toBe(413);
    expect((await call(`${server.url}/__admin/health`)).status).toBe(200);
  });

  it('domain rules refuse in the ERP\'s own codes and change nothing', async () => {
    const server = await odataServer();
    const count = async () => (await call(`${server.url}${V4}/Customers/$count`)).text;
    const before = await count();
    const missing = await call(`${server.url}${V4}/Customers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Name: 'No Country' }) });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('REQUIRED_FIELD_MISSING');
    const taken = await call(`${server.url}${V4}/Customers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...NEW_CUSTOMER, ExternalId: 'LEGACY-000002' }) });
    expect(taken.status).toBe(409);
    expect(await count()).toBe(before);
    // invoices are read-only, and a customer with invoices cannot be deleted
    expect((await call(`${server.url}${V4}/Invoices`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(405);
    const withDocs = (await call(`${server.url}${V4}/Invoices?$top=1`)).body.value[0].CustomerId;
    const refused = await call(`${server.url}${V4}/Customers('${withDocs}')`, { method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect(await count()).toBe(before);
  });
});

describe('SalesOrders, and one ERP behind SOAP and OData', () => {
  it('an order created over OData is read over SOAP; one created over SOAP is read, cancelled and deleted over OData', async () => {
    const server = await odataServer();
    const customer = '0001000003';
    const created = await call(`${server.url}${V4}/SalesOrders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ CustomerId: customer, ExternalOrderNumber: 'SF-SO-1', NetAmount: 250 }),
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ OrderStatus: 'OPEN', LineCount: 0, NetAmount: 250, CurrencyCode: 'GBP' });
    const viaSoap = await soap(server.url, `<GetSalesOrder xmlns="urn:understudy:erp:v1"><SalesOrderId>${created.body.SalesOrderId}</SalesOrderId></GetSalesOrder>`);
    expect(viaSoap.status, viaSoap.text).toBe(200);
    expect(elementText(viaSoap.text, 'ExternalOrderNumber')).toBe('SF-SO-1');
    // the open order shows on the customer, over both protocols
    expect((await call(`${server.url}${V4}/Customers('${customer}')`)).body.OpenOrderValue).toBe(250);
    const soapCustomer = await soap(server.url, `<GetCustomer xmlns="urn:understudy:erp:v1"><CustomerId>${customer}</CustomerId></GetCustomer>`);
    expect(elementText(soapCustomer.text, 'OpenOrderValue')).toBe('250.00');

    const made = await soap(
      server.url,
      `<CreateSalesOrder xmlns="urn:understudy:erp:v1"><ExternalOrderNumber>SOAP-1</ExternalOrderNumber><CustomerId>${customer}</CustomerId><Line><ProductId>MAT-000007</ProductId><Quantity>2</Quantity></Line></CreateSalesOrder>`,
    );
    const soapOrder = elementText(made.text, 'SalesOrderId')!;
    const read = await call(`${server.url}${V4}/SalesOrders('${soapOrder}')`);
    expect(read.body).toMatchObject({ ExternalOrderNumber: 'SOAP-1', LineCount: 1, OrderStatus: 'OPEN' });
    const cancelled = await call(`${server.url}${V4}/SalesOrders('${soapOrder}')`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', 'if-match': read.headers.get('etag')! },
      body: JSON.stringify({ OrderStatus: 'CANCELLED', CancellationReason: 'customer request' }),
    });
    expect(cancelled.status, cancelled.text).toBe(204);
    const soapRead = await soap(server.url, `<GetSalesOrder xmlns="urn:understudy:erp:v1"><SalesOrderId>${soapOrder}</SalesOrderId></GetSalesOrder>`);
    expect(elementText(soapRead.text, 'OrderStatus')).toBe('CANCELLED');
    expect((await call(`${server.url}${V4}/SalesOrders('${soapOrder}')`, { method: 'DELETE' })).status).toBe(204);
    const gone = await soap(server.url, `<GetSalesOrder xmlns="urn:understudy:erp:v1"><SalesOrderId>${soapOrder}</SalesOrderId></GetSalesOrder>`);
    expect(gone.text).toContain('ORDER_NOT_FOUND');
    // an invoiced order is locked
    const invoiced = (await call(`${server.url}${V4}/SalesOrders?$filter=OrderStatus eq 'INVOICED'&$top=1`)).body.value[0].SalesOrderId;
    const locked = await call(`${server.url}${V4}/SalesOrders('${invoiced}')`, { method: 'DELETE' });
    expect(locked.status).toBe(409);
    expect(locked.body.error.code).toBe('ORDER_LOCKED');
  });
});

describe('CSRF (systems.erp.csrf, v2 by default)', () => {
  it('v2 writes need the token: without it 403 "CSRF token validation failed"; with a fetched one they pass', async () => {
    const server = await odataServer();
    const before = (await call(`${server.url}${V2}/Customers/$count`)).text;
    const refused = await call(`${server.url}${V2}/Customers`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(NEW_CUSTOMER) });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('x-csrf-token')).toBe('Required');
    expect(refused.text).toContain('CSRF token validation failed');
    expect(refused.body.error.message.value).toContain('CSRF token validation failed');
    const wrong = await call(`${server.url}${V2}/Customers`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': 'guess' }, body: JSON.stringify(NEW_CUSTOMER) });
    expect(wrong.status).toBe(403);
    expect((await call(`${server.url}${V2}/Customers/$count`)).text).toBe(before);

    const created = await write(server.url, V2, 'POST', '/Customers', NEW_CUSTOMER);
    expect(created.status, created.text).toBe(201);
    expect(created.body.d.__metadata.uri).toMatch(/Customers\('\d{10}'\)$/);
    // v4 needs none by default
    expect((await call(`${server.url}${V4}/Customers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...NEW_CUSTOMER, ExternalId: 'SF-V4' }) })).status).toBe(201);
  });

  it('csrf: both protects v4 too; csrf: none protects neither', async () => {
    const both = await odataServer({ systems: { erp: { csrf: 'both' } } });
    expect((await call(`${both.url}${V4}/Customers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(NEW_CUSTOMER) })).status).toBe(403);
    expect((await write(both.url, V4, 'POST', '/Customers', NEW_CUSTOMER)).status).toBe(201);
    const none = await odataServer({ systems: { erp: { csrf: 'none' } } });
    expect((await call(`${none.url}${V2}/Customers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(NEW_CUSTOMER) })).status).toBe(201);
  });

  it('v2 MERGE, X-HTTP-Method tunnelling and an Atom entry body', async () => {
    const server = await odataServer();
    const token = await csrfToken(server.url, V2);
    const merge = await call(`${server.url}${V2}/Customers('0001000004')`, {
      method: 'MERGE',
      headers: { 'content-type': 'application/json', 'x-csrf-token': token },
      body: JSON.stringify({ d: { City: 'Detroit' } }),
    });
    expect(merge.status, merge.text).toBe(204);
    const tunnelled = await call(`${server.url}${V2}/Customers('0001000004')`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': token, 'x-http-method': 'MERGE' },
      body: JSON.stringify({ Email: 'billing@meridian.example' }),
    });
    expect(tunnelled.status, tunnelled.text).toBe(204);
    const entry = `<?xml version="1.0" encoding="utf-8"?><entry xmlns="http://www.w3.org/2005/Atom" xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"><content type="application/xml"><m:properties><d:Name>Atom Created Ltd</d:Name><d:Country>GB</d:Country><d:CurrencyCode>GBP</d:CurrencyCode><d:CreditLimit m:type="Edm.Decimal">1200.00</d:CreditLimit><d:City m:null="true"/></m:properties></content></entry>`;
    const created = await call(`${server.url}${V2}/Customers`, { method: 'POST', headers: { 'content-type': 'application/atom+xml', 'x-csrf-token': token }, body: entry });
    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('content-type')).toMatch(/^application\/atom\+xml/);
    const props = entryProperties(atom(created.text));
    expect(props).toMatchObject({ Name: 'Atom Created Ltd', CreditLimit: '1200.00', City: null });
    const read = (await getJson(`${server.url}${V4}/Customers('0001000004')`)).body;
    expect(read).toMatchObject({ City: 'Detroit', Email: 'billing@meridian.example' });
  });

  it('hostile Atom: a DOCTYPE (XXE) is refused before anything is read, and nothing changes', async () => {
    const server = await odataServer();
    const token = await csrfToken(server.url, V2);
    const before = (await call(`${server.url}${V4}/Customers/$count`)).text;
    const xxe = `<?xml version="1.0"?><!DOCTYPE entry [<!ENTITY x SYSTEM "file:///etc/passwd">]><entry xmlns="http://www.w3.org/2005/Atom" xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"><content type="application/xml"><m:properties><d:Name>&x;</d:Name><d:Country>GB</d:Country><d:CurrencyCode>GBP</d:CurrencyCode></m:properties></content></entry>`;
    const res = await call(`${server.url}${V2}/Customers`, { method: 'POST', headers: { 'content-type': 'application/atom+xml', 'x-csrf-token': token }, body: xxe });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/DOCTYPE/i);
    expect(res.text).not.toContain('root:');
    expect((await call(`${server.url}${V4}/Customers/$count`)).text).toBe(before);
  });
});
