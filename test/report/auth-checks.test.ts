/**
 * auth.flow and auth.scopes (issue #13): through a server whose WMS takes OAuth tokens, whose gateway takes API
 * keys and whose ERP takes Basic — a client on the password grant, one whose token carries every scope it may
 * have, one that asks for just what it uses, one on an API key, one on Basic, one on no credential at all — and a
 * JWT bearer client whose registered certificate is about to expire, then has (a manual clock walks it past the
 * date). A token request retried after a 503 is no business retry. Then, on attempts built by hand, what a server
 * here does not reach easily: Basic beside WS-Security and OAuth, an expired TLS client certificate, a refreshed
 * token that keeps its password grant; and the journal's auth read in place from an entry's bytes.
 */
import { readFileSync } from 'node:fs';
import { importPKCS8, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { JWT_BEARER_GRANT, parseClient, type OAuthClient } from '../../src/auth/clients.js';
import { LeanEntry } from '../../src/journal/entry-codec.js';
import { Shared, toAttempt, type Attempt } from '../../src/report/attempts.js';
import { authFlow, authScopes } from '../../src/report/checks/auth.js';
import { DEFAULT_SETTINGS, type ClientView, type ReportContext } from '../../src/report/context.js';
import { buildReport } from '../../src/report/report.js';
import type { CheckResult, ClientReport } from '../../src/report/types.js';
import type { RunningServer } from '../../src/server.js';
import { ManualClock } from '../../src/util/clock.js';
import { call, json, start } from '../helpers.js';
import { attemptOf } from './attempt-fixture.js';

const CERT = readFileSync(new URL('../fixtures/auth/client.crt', import.meta.url), 'utf8');
const KEY = readFileSync(new URL('../fixtures/auth/client.key', import.meta.url), 'utf8');
/** test/fixtures/auth/client.crt's notAfter */
const CERT_EXPIRES = Date.UTC(2126, 10, 9, 6, 44, 24);
const DAY = 86_400_000;

function client(raw: Record<string, unknown>): OAuthClient {
  const parsed = parseClient(raw, 'config');
  if (!('client' in parsed)) throw new Error(JSON.stringify(parsed.errors));
  return parsed.client;
}

const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });
const form = (fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(fields).toString(),
});

async function token(server: RunningServer, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<string> {
  const res = await call(`${server.url}/oauth/token`, form(fields, headers));
  expect(res.status, res.text).toBe(200);
  return res.body.access_token as string;
}

const inventory = (server: RunningServer, accessToken: string) => call(`${server.url}/wms/v1/inventory/SKU-1`, { headers: { authorization: `Bearer ${accessToken}` } });

function cardOf(server: RunningServer, name: string, window: { since?: number; until?: number } = {}): ClientReport {
  server.engine.flush();
  const now = server.engine.clock.now();
  const report = buildReport(server.workspaces.default, server.engine.systems, { since: 0, until: Date.UTC(2200, 0, 1), now, ...window });
  const card = report.clients.find((c) => c.client === name);
  expect(card, `no card for ${name}: ${report.clients.map((c) => c.client).join(', ')}`).toBeDefined();
  return card!;
}

const check = (card: ClientReport, id: string): CheckResult => card.checks.find((c) => c.id === id)!;

describe('through a server: OAuth on the WMS, API keys on the gateway', async () => {
  const server = await start({
    seed: 13,
    systems: { wms: { auth: 'oauth' }, payments: { auth: 'apikey' }, erp: { auth: 'basic', customers: 5, invoices: 5, invoiceLines: 10 } },
    auth: {
      users: [{ username: 'legacy', password: 'hunter2' }],
      apiKeys: [{ key: 'k-123', client: 'sf-key' }],
      clients: [
        client({ id: 'sf-pw', secret: 's1', grants: ['password'], scopes: ['wms.read', 'wms.write'] }),
        client({ id: 'sf-broad', secret: 's2', grants: ['client_credentials'], scopes: ['wms.read', 'wms.write'] }),
        client({ id: 'sf-narrow', secret: 's3', grants: ['client_credentials'], scopes: ['wms.read', 'wms.write'] }),
      ],
    },
  });

  it('fails the password grant, citing the token request and the calls its token made', async () => {
    const accessToken = await token(server, { grant_type: 'password', username: 'legacy', password: 'hunter2' }, basic('sf-pw', 's1'));
    expect((await inventory(server, accessToken)).status).toBe(200);
    const card = cardOf(server, 'sf-pw');
    const flow = check(card, 'auth.flow');
    expect(flow.status, flow.explanation).toBe('fail');
    expect(flow.explanation).toMatch(/password grant \(1 token request, 1 call with its tokens\)/);
    expect(flow.explanation).toMatch(/JWT bearer flow .* or client credentials, through a Named Credential/);
    expect(flow.evidence.entries).toHaveLength(2);
    expect(flow.value).toEqual({ grants: ['password'], tokenRequests: 1, clientAuthentication: ['client_secret_basic'], callCredentials: { bearer: 1 } });
    // the token request is the auth checks' alone: no business operation, but still counted on the card
    expect(card.operations).toEqual([
      { system: 'oauth', operation: 'token', attempts: 1, logicalRequests: 1 },
      { system: 'wms', operation: 'getInventory', attempts: 1, logicalRequests: 1 },
    ]);
  });

  it('warns about scopes a token carried and no call needed, and passes a client that asked for what it uses', async () => {
    const broad = await token(server, { grant_type: 'client_credentials' }, basic('sf-broad', 's2'));
    for (let i = 0; i < 2; i++) expect((await inventory(server, broad)).status).toBe(200);
    const card = cardOf(server, 'sf-broad');
    const flow = check(card, 'auth.flow');
    expect(flow.status).toBe('pass');
    expect(flow.explanation).toBe('sf-broad authenticated with OAuth (client credentials).');
    const scopes = check(card, 'auth.scopes');
    expect(scopes.status, scopes.explanation).toBe('warn');
    expect(scopes.explanation).toMatch(/carried wms\.read, wms\.write, but its calls needed only wms\.read: wms\.write went unused \(2 calls carried it\)/);
    expect(scopes.value).toEqual({ granted: ['wms.read', 'wms.write'], carried: ['wms.read', 'wms.write'], needed: ['wms.read'], unused: ['wms.write'], missing: [], certificates: [] });
    expect(scopes.evidence.entries).toHaveLength(2);

    const narrow = await token(server, { grant_type: 'client_credentials', scope: 'wms.read' }, basic('sf-narrow', 's3'));
    expect((await inventory(server, narrow)).status).toBe(200);
    const fits = check(cardOf(server, 'sf-narrow'), 'auth.scopes');
    expect(fits.status, fits.explanation).toBe('pass');
    expect(fits.explanation).toBe("sf-narrow's tokens carried only scopes its calls needed (wms.read).");
    expect(fits.value).toMatchObject({ carried: ['wms.read'], needed: ['wms.read'], unused: [] });
  });

  it('passes an API key (saying so) and has nothing to judge without credentials', async () => {
    const charge = (headers: Record<string, string>) => call(`${server.url}/payments/v1/charges/ch_missing`, { headers });
    expect((await charge({ 'x-api-key': 'k-123' })).status).toBe(404);
    const card = cardOf(server, 'sf-key');
    const flow = check(card, 'auth.flow');
    expect(flow.status, flow.explanation).toBe('pass');
    expect(flow.explanation).toBe('sf-key authenticated with an API key on 1 call.');
    expect(check(card, 'auth.scopes').status).toBe('n/a');

    // the alerts sink checks no credential: its caller is who the header says
    expect((await call(`${server.url}/alerts/slack/services/T0/B0/x`, json({ text: 'hi' }, { 'x-understudy-client': 'plain' }))).status).toBeLessThan(500);
    const plain = cardOf(server, 'plain');
    const none = check(plain, 'auth.flow');
    expect(none.status).toBe('n/a');
    expect(none.explanation).toMatch(/No call of plain carried a token from understudy's authorization server.*run with auth none/);
    expect(none.explanation).not.toMatch(/mounted/);
    expect(check(plain, 'auth.scopes').status).toBe('n/a');
  });

  it('warns about Basic: a user\'s password on every call', async () => {
    expect((await call(`${server.url}/erp/odata/v4/Customers?$top=1`, { headers: basic('legacy', 'hunter2') })).status).toBe(200);
    const flow = check(cardOf(server, 'legacy'), 'auth.flow');
    expect(flow.status, flow.explanation).toBe('warn');
    expect(flow.explanation).toMatch(/^legacy authenticated with HTTP Basic \(a user and password\) on 1 call\. 1 call sent a user's password itself/);
    expect(flow.value).toMatchObject({ grants: [], tokenRequests: 0, callCredentials: { basic: 1 } });
  });

  it('a token request retried after a 503 is not judged as a retry of a business operation', async () => {
    const chaos = (body: string) => call(`${server.url}/__admin/chaos`, { method: 'PUT', body });
    expect((await chaos('name: t\nrules:\n  - id: idp-down\n    match: { system: oauth }\n    faults: [ { status: { code: 503 } } ]\n')).status).toBe(200);
    const refused = await call(`${server.url}/oauth/token`, form({ grant_type: 'client_credentials', scope: 'wms.read' }, basic('sf-narrow', 's3')));
    expect(refused.status).toBe(503);
    expect((await chaos('name: calm\nrules: []\n')).status).toBe(200);
    await token(server, { grant_type: 'client_credentials', scope: 'wms.read' }, basic('sf-narrow', 's3'));
    const card = cardOf(server, 'sf-narrow');
    for (const id of ['retry.strategy', 'retry.bounded', 'idempotency.keyReused', 'idempotency.noDuplicateEffects']) {
      expect(card.checks.filter((c) => c.id === id).map((c) => c.status), id).toEqual(['n/a']);
    }
    expect(card.operations).toContainEqual({ system: 'oauth', operation: 'token', attempts: 3, logicalRequests: 2 });
  });
});

describe('through a server: a JWT bearer client whose signing certificate runs out', async () => {
  const clock = new ManualClock(CERT_EXPIRES - 10 * DAY);
  const server = await start({
    seed: 14,
    clock,
    systems: { wms: { auth: 'oauth' } },
    auth: { clients: [client({ id: 'sf-jwt', grants: [JWT_BEARER_GRANT], scopes: ['wms.read'], certificate: CERT })] },
  });

  async function jwtToken(): Promise<string> {
    const t = Math.floor(clock.now() / 1000);
    const assertion = await new SignJWT({ iss: 'sf-jwt', sub: 'integration@example.com', aud: `${server.url}/oauth/token`, iat: t, exp: t + 120, jti: `j${t}` })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .sign(await importPKCS8(KEY, 'RS256'));
    return token(server, { grant_type: JWT_BEARER_GRANT, assertion });
  }

  it('warns 10 days before the certificate expires, fails once it has', async () => {
    const soon = clock.now();
    expect((await inventory(server, await jwtToken())).status).toBe(200);
    const early = cardOf(server, 'sf-jwt', { since: soon - 1000, until: soon + DAY });
    expect(check(early, 'auth.flow')).toMatchObject({ status: 'pass', explanation: 'sf-jwt authenticated with OAuth (JWT bearer).' });
    const expiring = check(early, 'auth.scopes');
    expect(expiring.status, expiring.explanation).toBe('warn');
    expect(expiring.explanation).toMatch(/tokens carried only scopes its calls needed \(wms\.read\)\. sf-jwt's registered signing certificate .* expires within 30 days \(1 exchange flagged/);
    expect(expiring.value!.certificates).toEqual([{ flag: 'certificate-expiring', certificate: 'signing', entries: 1, first: expect.any(Number), last: expect.any(Number) }]);
    expect(expiring.evidence.entries).toHaveLength(1);

    clock.set(CERT_EXPIRES + DAY);
    const late = clock.now();
    expect((await inventory(server, await jwtToken())).status).toBe(200);
    const after = check(cardOf(server, 'sf-jwt', { since: late - 1000, until: late + DAY }), 'auth.scopes');
    expect(after.status, after.explanation).toBe('fail');
    expect(after.explanation).toMatch(/signing certificate .* has expired .*: understudy still verified its assertions, but an authorization server that checks the certificate refuses them/);
    // over the whole journal: both, the expired first
    const both = check(cardOf(server, 'sf-jwt'), 'auth.scopes');
    expect(both.status).toBe('fail');
    expect((both.value!.certificates as Array<{ flag: string }>).map((c) => c.flag)).toEqual(['certificate-expired', 'certificate-expiring']);
  });
});

// --- attempts built by hand -------------------------------------------------------------------------------------

const attempt = attemptOf;

const tokenRequest = (fields: Partial<Attempt>) => attempt({ system: 'oauth', operation: 'token', method: 'POST', safe: false, ...fields });
const bearerCall = (grant: string, scopes: string[], required: string[], fields: Partial<Attempt> = {}) =>
  attempt({ grant, authMethod: 'bearer', scopes, requiredScopes: required, ...fields });

const CONTEXT: ReportContext = { since: 0, until: 1e12, now: 1e12, settings: DEFAULT_SETTINGS, outages: [], alerts: [], deliveries: [] };
function judge(attempts: Attempt[], authServer: Attempt[] = []): { flow: CheckResult; scopes: CheckResult } {
  const view: ClientView = { client: 'c', attempts, requests: [], authServer };
  return { flow: authFlow(view, CONTEXT)[0], scopes: authScopes(view, CONTEXT)[0] };
}

describe('auth.flow', () => {
  it('fails a refreshed token that keeps its password grant, the refresh itself asked for refresh_token', () => {
    const refresh = tokenRequest({ grant: 'refresh_token', authMethod: 'client_secret_post', scopes: ['wms.read'] });
    const calls = [bearerCall('password', ['wms.read'], ['wms.read']), bearerCall('password', ['wms.read'], ['wms.read'])];
    const { flow } = judge(calls, [refresh]);
    expect(flow.status).toBe('fail');
    expect(flow.evidence.entries).toEqual(calls.map((a) => a.id));
    expect(flow.value).toMatchObject({ grants: ['refresh_token', 'password'], clientAuthentication: ['client_secret_post'] });
  });

  it('fails a password-grant token request by its insecure-flow flag even before any call', () => {
    const asked = tokenRequest({ grant: 'password', authMethod: 'none', scopes: [], authFlags: ['insecure-flow'] });
    expect(judge([], [asked]).flow).toMatchObject({ status: 'fail', evidence: { entries: [asked.id] } });
  });

  it('warns about a password sent on every call (Basic, WS-Security), naming the OAuth used beside it', () => {
    const calls = [
      bearerCall('client_credentials', [], []),
      attempt({ authMethod: 'basic' }),
      attempt({ system: 'erp', authMethod: 'wsse' }),
    ];
    const { flow } = judge(calls);
    expect(flow.status).toBe('warn');
    expect(flow.explanation).toMatch(/^c authenticated with OAuth \(client credentials\); HTTP Basic \(a user and password\) on 1 call; a WS-Security UsernameToken \(a user and password\) on 1 call\. 2 calls sent a user's password itself/);
    expect(flow.evidence.entries).toEqual([calls[1].id, calls[2].id]);
    expect(flow.value).toMatchObject({ callCredentials: { bearer: 1, basic: 1, wsse: 1 } });
  });

  it('passes a client certificate; only granted token requests and credentialed calls count', () => {
    const { flow } = judge([attempt({ authMethod: 'tls_client_auth' }), attempt()], [tokenRequest({ status: 401 }), attempt({ system: 'oauth', operation: 'jwks' })]);
    expect(flow).toMatchObject({ status: 'pass', explanation: 'c authenticated with a TLS client certificate on 1 call.' });
    expect(judge([attempt()], [tokenRequest({ status: 400 })]).flow.status).toBe('n/a');
  });
});

describe('auth.scopes', () => {
  it('unions across tokens and systems: a scope needed by one system is not unused because another did not need it', () => {
    const calls = [bearerCall('client_credentials', ['wms.read', 'payments.write'], ['wms.read']), bearerCall('client_credentials', ['wms.read', 'payments.write'], ['payments.write'], { system: 'payments' })];
    expect(judge(calls).scopes.status).toBe('pass');
  });

  it('says which needed scopes no token carried', () => {
    const { scopes } = judge([bearerCall('client_credentials', ['wms.read'], ['wms.read']), bearerCall('client_credentials', ['wms.read'], ['wms.write'], { status: 403 })]);
    expect(scopes.status).toBe('pass');
    expect(scopes.value).toMatchObject({ unused: [], missing: ['wms.write'] });
    expect(scopes.explanation).toMatch(/also needed wms\.write, which no token carried/);
  });

  it('a token with scopes to a system that needs none is over-scoped', () => {
    const { scopes } = judge([bearerCall('client_credentials', ['erp.read'], [])]);
    expect(scopes).toMatchObject({ status: 'warn', value: { unused: ['erp.read'] } });
    expect(scopes.explanation).toMatch(/its calls needed no scope at all: erp\.read went unused/);
  });

  it('fails an expired TLS client certificate (its calls are refused) and warns about one expiring, with no scopes at all', () => {
    const expired = attempt({ status: 401, authMethod: 'tls_client_auth', authFlags: ['certificate-expired'] });
    const { scopes, flow } = judge([expired]);
    expect(scopes.status).toBe('fail');
    expect(scopes.explanation).toMatch(/^c's TLS client certificate has expired \(1 exchange flagged, the last entry \d+\): its calls are refused\./);
    expect(scopes.evidence.entries).toEqual([expired.id]);
    expect(flow.status).toBe('pass');
    const expiring = judge([attempt({ authMethod: 'tls_client_auth', authFlags: ['certificate-expiring'] })]).scopes;
    expect(expiring.status).toBe('warn');
    expect(expiring.value).toMatchObject({ carried: [], certificates: [{ flag: 'certificate-expiring', certificate: 'tls-client', entries: 1 }] });
  });

  it('has nothing to judge without scopes or flagged certificates', () => {
    const { scopes } = judge([bearerCall('client_credentials', [], []), attempt({ authMethod: 'apikey' })]);
    expect(scopes.status).toBe('n/a');
    expect(scopes.explanation).not.toMatch(/mounted/);
  });
});

// --- the journal's auth, read in place -------------------------------------------------------------------------

/** one journal record as entry-codec.ts lays it out: the head, then 14 fields (u32 length, bytes) */
function record(fields: { client?: string; system?: string; operation?: string; method?: string; extras?: string }): Buffer {
  const values = [fields.method ?? 'GET', '/wms/v1/inventory/SKU-1', '', fields.client ?? 'c', '', fields.system ?? 'wms', 'rest', fields.operation ?? 'getInventoryItem', '127.0.0.1', '', '', fields.extras ?? '', '', ''];
  const head = Buffer.alloc(34);
  head.writeDoubleLE(1000, 0);
  head.writeDoubleLE(1005, 8);
  head.writeDoubleLE(5, 16);
  head.writeUInt16LE(200, 24);
  return Buffer.concat([head, ...values.flatMap((v) => {
    const bytes = Buffer.from(v);
    const size = Buffer.alloc(4);
    size.writeUInt32LE(bytes.length);
    return [size, bytes];
  })]);
}

const extras = (rest: Record<string, unknown>) => JSON.stringify({ faults: [], contractErrors: [], effects: [], ...rest });

describe('reading auth from the journal', () => {
  it('reads the auth at the end of the extras; its links to other entries do not keep equal auths apart', () => {
    const shared = new Shared();
    const auth = { grant: 'client_credentials', method: 'bearer', scopes: ['wms.read', 'wms.write'], required: ['wms.read'], flags: [] };
    const first = toAttempt(1, new LeanEntry().read(record({ extras: extras({ auth: { ...auth, replayOf: 7 } }) }), 0), undefined, shared);
    const second = toAttempt(2, new LeanEntry().read(record({ extras: extras({ auth }) }), 0), undefined, shared);
    expect(first).toMatchObject({ grant: 'client_credentials', authMethod: 'bearer', scopes: ['wms.read', 'wms.write'], requiredScopes: ['wms.read'], authFlags: [] });
    const third = toAttempt(3, new LeanEntry().read(record({ extras: extras({ auth: { ...auth, refreshOf: 3, replayOf: 9 } }) }), 0), undefined, shared);
    expect(second.scopes).toBe(first.scopes);
    expect(third.scopes).toBe(first.scopes);
  });

  it('token requests: grant, client authentication, flags; a transport error beside the auth is still read', () => {
    const text = extras({ transportError: 'client closed the connection before the reply', auth: { grant: 'password', method: 'client_secret_basic', scopes: ['wms.read'], flags: ['insecure-flow'], refreshOf: 3 } });
    const a = toAttempt(5, new LeanEntry().read(record({ system: 'oauth', operation: 'token', method: 'POST', extras: text }), 0), undefined, new Shared());
    expect(a).toMatchObject({ grant: 'password', authMethod: 'client_secret_basic', scopes: ['wms.read'], requiredScopes: [], authFlags: ['insecure-flow'], abandoned: true });
  });

  it('no auth: nulls and empty lists, also beside a transport error or a body problem', () => {
    for (const text of ['', extras({}), extras({ transportError: 'held 5000 ms, then closed without a response' }), extras({ bodyProblem: 'x' })]) {
      const a = toAttempt(9, new LeanEntry().read(record({ extras: text }), 0), undefined, new Shared());
      expect(a).toMatchObject({ grant: null, authMethod: null, scopes: [], requiredScopes: [], authFlags: [] });
    }
  });
});
