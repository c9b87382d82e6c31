/**
 * Systems behind systems.<name>.auth, seen as a client sees them: the WMS with OAuth (401 with the challenge a
 * Named Credential refreshes on, 200 after the refresh, 403 for a scope too narrow; the journal linking the
 * refused call, the refresh and the replay), the configurable refusal status, the chaos tokenExpiry fault, the
 * payment gateway behind an API key, the ERP behind Basic and OAuth (SOAP and OData alike, the WSDL open), and
 * --no-auth. Time is a ManualClock.
 */
import { describe, expect, it } from 'vitest';
import { parseClient, type OAuthClient } from '../../src/auth/clients.js';
import { ManualClock } from '../../src/util/clock.js';
import { call, json, start } from '../helpers.js';
import { envelope, soapHeaders } from '../systems/erp/soap-chaos-support.js';
import { ERP_NS } from '../systems/erp/soap-support.js';

function client(raw: Record<string, unknown>): OAuthClient {
  const parsed = parseClient(raw, 'config');
  if ('errors' in parsed) throw new Error(JSON.stringify(parsed.errors));
  return parsed.client;
}

const SF = client({ id: 'sf-sandbox', secret: 'sf-secret', grants: ['client_credentials'], scopes: ['wms.read', 'wms.write', 'erp.read', 'erp.write'] });
const READER = client({ id: 'reader', secret: 'reader-secret', grants: ['client_credentials'], scopes: ['wms.read', 'erp.read'] });

const FORM = 'application/x-www-form-urlencoded';

async function token(base: string, id: string, secret: string, scope?: string): Promise<string> {
  const r = await call(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': FORM, authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` },
    body: `grant_type=client_credentials${scope ? `&scope=${encodeURIComponent(scope)}` : ''}`,
  });
  expect(r.status, r.text).toBe(200);
  return r.body.access_token;
}

const bearer = (t: string, more: Record<string, string> = {}) => ({ headers: { authorization: `Bearer ${t}`, ...more } });

async function journal(server: Awaited<ReturnType<typeof start>>, query = ''): Promise<any[]> {
  server.engine.flush();
  return (await call(`${server.url}/__admin/journal?limit=100${query}`)).body.entries;
}

describe('the WMS with auth: oauth', () => {
  it('401 with a Bearer challenge without a token, 401 invalid_token once it expired, 200 after the refresh; the journal links refusal, refresh and replay', async () => {
    const clock = new ManualClock();
    const server = await start({ clock, systems: { wms: { auth: 'oauth' } }, auth: { clients: [SF], tokenTtlMs: 60_000 } });
    const url = `${server.url}/wms/v1/warehouses`;

    const none = await call(url);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="understudy"');
    expect(none.headers.get('content-type')).toBe('application/problem+json');
    expect(none.body).toMatchObject({ type: 'urn:understudy:problem:unauthorized', status: 401 });

    const first = await token(server.url, 'sf-sandbox', 'sf-secret');
    expect((await call(url, bearer(first))).status).toBe(200);
    clock.advance(60_001);
    const expired = await call(url, bearer(first));
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toMatch(/^Bearer realm="understudy", error="invalid_token", error_description="the access token expired at /);

    const second = await token(server.url, 'sf-sandbox', 'sf-secret');
    const replay = await call(url, bearer(second));
    expect(replay.status).toBe(200);
    // a second call with the same token is no replay
    expect((await call(url, bearer(second))).status).toBe(200);

    const entries = (await journal(server)).reverse();
    const refused = entries.find((e) => e.status === 401 && e.client === 'sf-sandbox');
    expect(refused).toMatchObject({ system: 'wms', operation: 'listWarehouses' });
    const refresh = entries.filter((e) => e.system === 'oauth' && e.operation === 'token');
    expect(refresh.map((e) => e.auth.refreshOf ?? null)).toEqual([null, refused.id]);
    expect(refresh[1]).toMatchObject({ protocol: 'oauth', client: 'sf-sandbox', auth: { grant: 'client_credentials', method: 'client_secret_basic', scopes: SF.scopes } });
    const calls = entries.filter((e) => e.system === 'wms' && e.status === 200);
    expect(calls.map((e) => e.auth.replayOf ?? null)).toEqual([null, refused.id, null]);
    expect(calls[1].auth).toMatchObject({ grant: 'client_credentials', method: 'bearer', required: ['wms.read'], flags: [] });
    // the caller is the token's client, whatever the header claims
    expect(entries.find((e) => e.system === 'wms' && e.status === 200).client).toBe('sf-sandbox');
  });

  it('403 insufficient_scope naming the scope for a token without wms.write; the refusal changes nothing', async () => {
    const server = await start({ systems: { wms: { auth: 'oauth' } }, auth: { clients: [READER] } });
    const t = await token(server.url, 'reader', 'reader-secret');
    const before = await call(`${server.url}/wms/v1/inventory/SKU-1`, bearer(t));
    const reservation = { externalOrderId: 'ORD-1', lines: [{ sku: 'SKU-1', quantity: 1 }] };
    const refused = await call(`${server.url}/wms/v1/reservations`, { method: 'POST', ...json(reservation, { authorization: `Bearer ${t}` }) });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toBe(
      'Bearer realm="understudy", error="insufficient_scope", error_description="this operation needs wms.write", scope="wms.write"',
    );
    expect(refused.body.detail).toBe('The access token lacks the scope wms.write that createReservation needs (it has wms.read, erp.read).');
    expect((await call(`${server.url}/wms/v1/inventory/SKU-1`, bearer(t))).body).toEqual(before.body);
    // asking for less than the client may have gives a narrower token
    const narrow = await token(server.url, 'reader', 'reader-secret', 'erp.read');
    expect((await call(`${server.url}/wms/v1/warehouses`, bearer(narrow))).status).toBe(403);
  });

  it('refuses forged, malformed and foreign-workspace tokens, and a token of another scheme', async () => {
    const server = await start({ systems: { wms: { auth: 'oauth' } }, auth: { clients: [SF] } });
    const t = await token(server.url, 'sf-sandbox', 'sf-secret');
    const [h, p, s] = t.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'wms.read wms.write admin' })).toString('base64url');
    for (const forged of [`${h}.${widened}.${s}`, `${h}.${p}.${s.slice(0, -4)}AAAA`, `eyJhbGciOiJub25lIn0.${p}.`, 'not-a-jwt']) {
      const r = await call(`${server.url}/wms/v1/warehouses`, bearer(forged));
      expect(r.status, forged).toBe(401);
      expect(r.headers.get('www-authenticate')).toContain('error="invalid_token"');
    }
    const malformed = await call(`${server.url}/wms/v1/warehouses`, { headers: { authorization: 'Bearer a b' } });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('www-authenticate')).toContain('error="invalid_request"');
    const basic = await call(`${server.url}/wms/v1/warehouses`, { headers: { authorization: 'Basic dTpw' } });
    expect(basic.status).toBe(401);
    expect(basic.headers.get('www-authenticate')).toBe('Bearer realm="understudy"');
    // issued in the default workspace: not accepted in another, and the other's own tokens work there
    const elsewhere = await call(`${server.url}/w/team-a/wms/v1/warehouses`, bearer(t));
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.body.detail).toContain('issued in workspace default, not team-a');
    const own = await token(`${server.url}/w/team-a`, 'sf-sandbox', 'sf-secret');
    expect((await call(`${server.url}/w/team-a/wms/v1/warehouses`, bearer(own))).status).toBe(200);
    expect((await call(`${server.url}/wms/v1/warehouses`, bearer(t))).status).toBe(200);
  });

  it('answers invalid tokens with auth.invalidTokenStatus (an External Credential may refresh on other codes)', async () => {
    const clock = new ManualClock();
    const server = await start({ clock, systems: { wms: { auth: 'oauth' } }, auth: { clients: [SF], tokenTtlMs: 1000, invalidTokenStatus: 419 } });
    const t = await token(server.url, 'sf-sandbox', 'sf-secret');
    clock.advance(1000);
    const r = await call(`${server.url}/wms/v1/warehouses`, bearer(t));
    expect(r.status).toBe(419);
    expect(r.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await call(`${server.url}/wms/v1/warehouses`)).status).toBe(419);
  });
});

describe('chaos tokenExpiry', () => {
  const put = (url: string, profile: string) => call(`${url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: profile });

  it('expire: tokens older than `after` are refused as expired whatever their exp; a fresh token passes', async () => {
    const clock = new ManualClock();
    const server = await start({ clock, systems: { wms: { auth: 'oauth' } }, auth: { clients: [SF] } });
    expect((await put(server.url, 'name: t\nrules:\n  - id: early\n    match: { system: wms }\n    faults:\n      - tokenExpiry: { after: 30s }\n')).status).toBe(200);
    const t = await token(server.url, 'sf-sandbox', 'sf-secret');
    expect((await call(`${server.url}/wms/v1/warehouses`, bearer(t))).status).toBe(200);
    clock.advance(30_000);
    const refused = await call(`${server.url}/wms/v1/warehouses`, bearer(t));
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token", error_description="the access token expired"');
    const fresh = await token(server.url, 'sf-sandbox', 'sf-secret');
    expect((await call(`${server.url}/wms/v1/warehouses`, bearer(fresh))).status).toBe(200);
    const entries = (await journal(server)).reverse();
    const faulted = entries.find((e) => e.status === 401);
    expect(faulted.faults).toEqual([{ rule: 'early', kind: 'tokenExpiry', params: { after: '30s' } }]);
    // the refusal is linked like a real expiry: one refresh, one replay
    expect(entries.filter((e) => e.operation === 'token').at(-1).auth.refreshOf).toBe(faulted.id);
    expect(entries.at(-1).auth.replayOf).toBe(faulted.id);
  });

  it('revoke: tokens issued before the profile became active are refused; invalid-client: the token endpoint answers 401 invalid_client', async () => {
    const clock = new ManualClock();
    const server = await start({ clock, systems: { wms: { auth: 'oauth' } }, auth: { clients: [SF] } });
    const old = await token(server.url, 'sf-sandbox', 'sf-secret');
    clock.advance(1000);
    await put(server.url, 'name: t\nrules:\n  - id: rotated\n    match: { system: wms }\n    faults:\n      - tokenExpiry: { mode: revoke }\n');
    const refused = await call(`${server.url}/wms/v1/warehouses`, bearer(old));
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('the access token was revoked');
    expect((await call(`${server.url}/wms/v1/warehouses`, bearer(await token(server.url, 'sf-sandbox', 'sf-secret')))).status).toBe(200);

    await put(server.url, 'name: t\nrules:\n  - id: idp-down\n    match: { path: /oauth/token }\n    faults:\n      - tokenExpiry: { mode: invalid-client }\n');
    const r = await call(`${server.url}/oauth/token`, { method: 'POST', headers: { 'content-type': FORM }, body: 'grant_type=client_credentials&client_id=sf-sandbox&client_secret=sf-secret' });
    expect(r.status).toBe(401);
    expect(r.body.error).toBe('invalid_client');
    expect(r.headers.get('cache-control')).toBe('no-store');
    // a status fault on the token endpoint answers in RFC 6749's shape too
    await put(server.url, 'name: t\nrules:\n  - id: idp-503\n    match: { path: /oauth/token }\n    faults:\n      - status: { code: 503 }\n');
    const unavailable = await call(`${server.url}/oauth/token`, { method: 'POST', headers: { 'content-type': FORM }, body: 'grant_type=client_credentials&client_id=sf-sandbox&client_secret=sf-secret' });
    expect(unavailable.status).toBe(503);
    expect(unavailable.body).toMatchObject({ error: 'temporarily_unavailable' });
  });

  it('a tokenExpiry on a system without OAuth is noted as skipped', async () => {
    const server = await start();
    await put(server.url, 'name: t\nrules:\n  - id: nothing\n    match: { system: wms }\n    faults:\n      - tokenExpiry\n');
    expect((await call(`${server.url}/wms/v1/warehouses`)).status).toBe(200);
    const [entry] = await journal(server, '&system=wms');
    expect(entry.faults[0]).toMatchObject({ kind: 'tokenExpiry', skipped: expect.stringContaining('no access token') });
  });
});

describe('API keys, Basic, the ERP and --no-auth', () => {
  it('the payment gateway behind X-API-Key: the key names the client; missing or wrong keys get 401 in Stripe shape', async () => {
    const server = await start({ systems: { payments: { auth: 'apikey' } }, auth: { apiKeys: [{ key: 'pk-0123456789', client: 'billing' }] } });
    const url = `${server.url}/payments/v1/customers`;
    const create = (headers: Record<string, string>) => call(url, { method: 'POST', ...json({ email: 'a@example.com' }, headers) });
    const missing = await create({});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('ApiKey realm="understudy", header="X-API-Key"');
    expect(missing.body.error).toMatchObject({ type: 'invalid_request_error' });
    expect((await create({ 'x-api-key': 'pk-wrong-key' })).status).toBe(401);
    const ok = await create({ 'x-api-key': 'pk-0123456789', 'x-understudy-client': 'someone-else' });
    expect(ok.status).toBe(201);
    const [entry] = await journal(server, '&system=payments&status=201');
    expect(entry).toMatchObject({ client: 'billing', auth: { grant: null, method: 'apikey' } });
    // the WMS, left at auth: none, is open
    expect((await call(`${server.url}/wms/v1/warehouses`)).status).toBe(200);
  });

  it('the ERP behind Basic: OData and SOAP check the user, the WSDL stays open', async () => {
    const server = await start({ systems: { erp: { auth: 'basic', customers: 5, invoices: 5, invoiceLines: 10 } }, auth: { users: [{ username: 'legacy', password: 'pw' }] } });
    const odata = `${server.url}/erp/odata/v4/Customers?$top=1`;
    const refused = await call(odata);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Basic realm="understudy", charset="UTF-8"');
    expect(refused.body.error).toMatchObject({ message: expect.stringContaining('HTTP Basic') });
    expect((await call(odata, { headers: { authorization: `Basic ${Buffer.from('legacy:nope').toString('base64')}` } })).status).toBe(401);
    expect((await call(odata, { headers: { authorization: `Basic ${Buffer.from('legacy:pw').toString('base64')}` } })).status).toBe(200);
    const getCustomer = envelope('1.1', `<GetCustomer xmlns="${ERP_NS}"><CustomerId>C-000001</CustomerId></GetCustomer>`);
    const soap = await call(`${server.url}/erp/soap`, { method: 'POST', headers: soapHeaders('1.1', 'GetCustomer'), body: getCustomer });
    expect(soap.status).toBe(401);
    expect(soap.headers.get('www-authenticate')).toContain('Basic');
    expect(soap.text).toContain('HTTP Basic');
    const basic = { ...soapHeaders('1.1', 'GetCustomer'), authorization: `Basic ${Buffer.from('legacy:pw').toString('base64')}` };
    expect((await call(`${server.url}/erp/soap`, { method: 'POST', headers: basic, body: getCustomer })).status).not.toBe(401);
    expect((await call(`${server.url}/erp/soap?wsdl`)).status).toBe(200);
    const [entry] = await journal(server, '&system=erp&status=200&operation=Customers.query');
    expect(entry).toMatchObject({ client: 'legacy', auth: { method: 'basic' } });
  });

  it('the ERP behind OAuth: reads need erp.read, writes erp.write (systems.erp.scopes), on OData and SOAP', async () => {
    const server = await start({ systems: { erp: { auth: 'oauth', customers: 5, invoices: 5, invoiceLines: 10, csrf: 'none' } }, auth: { clients: [READER, SF] } });
    const reader = await token(server.url, 'reader', 'reader-secret');
    const [first] = (await call(`${server.url}/erp/odata/v4/Customers?$top=1`, bearer(reader))).body.value;
    const patch = (t: string) =>
      call(`${server.url}/erp/odata/v4/Customers('${first.CustomerId}')`, { method: 'PATCH', headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' }, body: JSON.stringify({ Name: 'Renamed' }) });
    const refused = await patch(reader);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('scope="erp.write"');
    expect(refused.body.error.message).toContain('Customers.update');
    expect((await patch(await token(server.url, 'sf-sandbox', 'sf-secret'))).status).toBe(204);
    expect((await call(`${server.url}/erp/soap?wsdl`)).status).toBe(200);
  });

  it('--no-auth: every system is open whatever systems.<name>.auth says', async () => {
    const server = await start({ noAuth: true, systems: { wms: { auth: 'oauth' }, payments: { auth: 'apikey' } }, auth: { apiKeys: [{ key: 'pk-0123456789', client: 'x' }] } });
    expect((await call(`${server.url}/wms/v1/warehouses`)).status).toBe(200);
    expect((await call(`${server.url}/payments/v1/customers`, { method: 'POST', ...json({ email: 'a@example.com' }) })).status).toBe(201);
  });
});
