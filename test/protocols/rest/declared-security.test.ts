/**
 * A user contract's declared security enforced (issue #14 §1, "Security requirements"), on a document shaped like
 * the Swagger Petstore 3 example: API keys in a header, the query or a cookie, HTTP Basic and bearer are checked for
 * presence, OAuth 2.0 for validity and scopes against understudy's authorization server; `security: []` opts out;
 * an alternative satisfied is enough, and both schemes of one alternative are needed; a refusal is a 401 with a
 * challenge for each scheme of the first alternative, in the 401 shape the operation declares (else problem+json). `--no-auth` and `systems.custom[].auth` replace it.
 */
import { describe, expect, it } from 'vitest';
import { parseClient, type OAuthClient } from '../../../src/auth/clients.js';
import { call, json, start } from '../../helpers.js';

const STORE = new URL('../../fixtures/third-party/secured-store.openapi.yaml', import.meta.url).pathname;
const OFF = { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false }, erp: { enabled: false }, outbound: { enabled: false } } as const;

function client(raw: Record<string, unknown>): OAuthClient {
  const parsed = parseClient(raw, 'config');
  if ('errors' in parsed) throw new Error(JSON.stringify(parsed.errors));
  return parsed.client;
}

const CLIENTS = [
  client({ id: 'shop', secret: 'shop-secret', scopes: ['read:pets', 'write:pets'] }),
  client({ id: 'browser', secret: 'browser-secret', scopes: ['read:pets'] }),
];

async function token(base: string, id: string, secret: string): Promise<string> {
  const r = await call(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=client_credentials&client_id=${id}&client_secret=${secret}` });
  return r.body.access_token;
}

describe("a user contract's declared security", () => {
  it('API keys in a header, the query or a cookie, HTTP Basic and bearer: present or 401 with a challenge per scheme', async () => {
    const s = await start({ contracts: [`${STORE}@/store`], systems: OFF });
    const url = (path: string) => `${s.url}/store${path}`;

    const none = await call(url('/inventory'));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('ApiKey realm="understudy", header="api_key"');
    // in the 401 shape the operation declares
    expect(none.body).toEqual({ code: 401, message: 'This operation requires the header api_key (api_key).' });
    expect((await call(url('/inventory'), { headers: { api_key: 'anything' } })).status).toBe(200);

    // security: [] opts out
    expect((await call(url('/health'))).status).toBe(200);

    // alternatives: a query key or Basic
    const reports = await call(url('/reports'));
    expect(reports.status).toBe(401);
    expect(reports.headers.get('www-authenticate')).toBe('ApiKey realm="understudy", query="key"');
    expect(reports.body.detail).toBe('This operation requires the query parameter key (report_key), or Authorization: Basic (basic).');
    expect((await call(url('/reports?key=k1'))).status).toBe(200);
    const basic = await call(url('/reports'), { headers: { authorization: `Basic ${Buffer.from('ana:pw').toString('base64')}` } });
    expect(basic.status).toBe(200);

    // one alternative of two schemes: a cookie and a bearer, both
    const cookieOnly = await call(url('/session'), { headers: { cookie: 'theme=dark; SESSIONID=abc' } });
    expect(cookieOnly.status).toBe(401);
    expect(cookieOnly.headers.get('www-authenticate')).toBe('ApiKey realm="understudy", cookie="SESSIONID", Bearer realm="understudy"');
    expect((await call(url('/session'), { headers: { cookie: 'theme=dark; SESSIONID=abc', authorization: 'Bearer vendor-token' } })).status).toBe(200);
    expect((await call(url('/session'), { headers: { cookie: 'SESSIONID=', authorization: 'Bearer vendor-token' } })).status).toBe(401);

    s.engine.flush();
    const entries = (await call(`${s.url}/__admin/journal?status=200`)).body.entries.reverse();
    expect(entries.map((e: any) => `${e.operation} ${e.client} ${e.auth?.method ?? '-'}`)).toEqual([
      'getInventory anonymous apikey',
      'health anonymous -',
      'getReports anonymous apikey',
      'getReports ana basic',
      'getSession anonymous apikey',
    ]);
  });

  it("OAuth 2.0: a token of understudy's authorization server with the requirement's scopes", async () => {
    const s = await start({ contracts: [`${STORE}@/store`], systems: OFF, auth: { clients: CLIENTS } });
    const add = (headers: Record<string, string>) => call(`${s.url}/store/pets`, { method: 'POST', ...json({ name: 'Rex' }, headers) });
    const missing = await add({});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="understudy", scope="write:pets read:pets"');
    const forged = await add({ authorization: 'Bearer not-one-of-ours' });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const reader = await token(s.url, 'browser', 'browser-secret');
    const narrow = await add({ authorization: `Bearer ${reader}` });
    expect(narrow.status).toBe(403);
    expect(narrow.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect((await call(`${s.url}/store/pets`, { headers: { authorization: `Bearer ${reader}` } })).status).toBe(200);
    const writer = await token(s.url, 'shop', 'shop-secret');
    const added = await add({ authorization: `Bearer ${writer}` });
    expect(added.status).toBe(200);
    s.engine.flush();
    const [entry] = (await call(`${s.url}/__admin/journal?operation=addPet&status=200`)).body.entries;
    expect(entry).toMatchObject({ client: 'shop', auth: { method: 'bearer', grant: 'client_credentials', required: ['write:pets', 'read:pets'] } });
  });

  it('--no-auth turns it off; systems.custom[].auth replaces it with one of understudy\'s checks', async () => {
    const open = await start({ contracts: [`${STORE}@/store`], systems: OFF, noAuth: true });
    expect((await call(`${open.url}/store/inventory`)).status).toBe(200);
    const keyed = await start({
      contracts: [`${STORE}@/store`],
      contractAuth: { [`${STORE}@/store`]: 'apikey' },
      systems: OFF,
      auth: { apiKeys: [{ key: 'vendor-key-1', client: 'billing' }] },
    });
    // the declared api_key header no longer counts: understudy's X-API-Key does
    expect((await call(`${keyed.url}/store/inventory`, { headers: { api_key: 'anything' } })).status).toBe(401);
    expect((await call(`${keyed.url}/store/health`, { headers: { 'x-api-key': 'vendor-key-1' } })).status).toBe(200);
  });
});
