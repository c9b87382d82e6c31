/**
 * The authorization server (issue #13) driven by clients nobody here wrote: openid-client 6 (a certified OAuth
 * client) for discovery, client credentials (client_secret_post, client_secret_basic, private_key_jwt), the
 * authorization code flow with PKCE (auto-approved, and through the consent page's Approve and Deny buttons),
 * refresh token rotation and reuse, introspection and revocation; and jose building JWT bearer assertions exactly as
 * a Salesforce External Credential does (SALESFORCE.md §1: header kid = the certificate's name, RS256 or RS512,
 * claims iss, sub, aud = the token endpoint, iat, nbf, exp two minutes ahead). Every token it issues is then used
 * on the WMS under `auth: oauth`: reads need wms.read, writes wms.write.
 *
 * The servers run on a ManualClock set to the real time at start: openid-client signs its client assertions with
 * the real clock, so the server's must be near it (60 s skew); nothing sleeps.
 * test/fixtures/auth/client.{key,crt} is the throwaway RSA key pair the assertion tests use.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeJwt, exportJWK, importPKCS8, importX509, jwtVerify, SignJWT, type JSONWebKeySet } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseClient, type OAuthClient } from '../../src/auth/clients.js';
import type { RunningServer, ServerOptions } from '../../src/server.js';
import { ManualClock } from '../../src/util/clock.js';
import { call, json, start } from '../helpers.js';

const CERT = readFileSync(new URL('../fixtures/auth/client.crt', import.meta.url), 'utf8');
const KEY = readFileSync(new URL('../fixtures/auth/client.key', import.meta.url), 'utf8');
/** never fetched: the tests read the 302's Location instead of following it */
const REDIRECT = 'http://127.0.0.1:9/callback';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const GRANTS = ['client_credentials', JWT_BEARER, 'authorization_code', 'refresh_token', 'password'];
const USER = { username: 'integration.user', password: 'legacy-pa55word' };
/** a new order each time (the WMS answers a repeated externalOrderId with the reservation it made, 200) */
let orders = 0;
const order = () => ({ externalOrderId: `SF-${String(++orders).padStart(5, '0')}`, lines: [{ sku: 'SKU-1', quantity: 1 }] });

function client(raw: Record<string, unknown>): OAuthClient {
  const parsed = parseClient(raw, 'config');
  if ('errors' in parsed) throw new Error(JSON.stringify(parsed.errors));
  return parsed.client;
}

const CLIENTS = (jwks: JSONWebKeySet): OAuthClient[] => [
  client({ id: 'sf-post', secret: 'post-secret+/%', grants: ['client_credentials'], scopes: ['wms.read', 'wms.write'] }),
  client({ id: 'sf-basic', secret: 'basic secret:with:colons', grants: ['client_credentials'], scopes: ['wms.read', 'wms.write'] }),
  client({ id: 'sf-reader', secret: 'reader-secret', grants: ['client_credentials'], scopes: ['wms.read'] }),
  client({ id: 'sf-signed', certificate: CERT, grants: ['client_credentials'], scopes: ['wms.read', 'wms.write'] }),
  client({ id: 'sf-web', secret: 'web-secret', grants: ['authorization_code', 'refresh_token'], scopes: ['wms.read', 'wms.write'], redirectUris: [REDIRECT] }),
  client({ id: 'sf-jwt', certificate: CERT, grants: [JWT_BEARER], scopes: ['wms.read', 'wms.write'] }),
  client({ id: 'sf-jwks', jwks, grants: [JWT_BEARER], scopes: ['wms.read'] }),
  client({ id: 'sf-legacy', secret: 'legacy-secret', grants: ['password'], scopes: ['wms.read'] }),
];

let jwks: JSONWebKeySet;
let server: RunningServer;
let clock: ManualClock;
let issuer: string;

async function oauthServer(extra: ServerOptions['auth'] = {}, options: Partial<ServerOptions> = {}): Promise<{ server: RunningServer; clock: ManualClock; issuer: string }> {
  const clock = new ManualClock(Date.now());
  const server = await start({
    clock,
    systems: { wms: { auth: 'oauth', skus: 20 } },
    auth: { clients: CLIENTS(jwks), users: [USER], autoApprove: true, tokenTtlMs: 3_600_000, ...extra },
    ...options,
  });
  return { server, clock, issuer: server.url };
}

beforeAll(async () => {
  jwks = { keys: [{ ...(await exportJWK(await importX509(CERT, 'RS256'))), kid: 'sf-jwks-key-1', use: 'sig' }] };
  ({ server, clock, issuer } = await oauthServer());
});

// ---------------------------------------------------------------------------------------------------------------
// plumbing

/** openid-client's view of a server: discovery over plain http (the tests' servers are not TLS) */
function discover(at: string, clientId: string, auth?: oidc.ClientAuth): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(at), clientId, undefined, auth, { execute: [oidc.allowInsecureRequests] });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function wmsRead(base: string, token: string) {
  return call(`${base}/wms/v1/warehouses`, { headers: bearer(token) });
}

async function wmsWrite(base: string, token: string) {
  return call(`${base}/wms/v1/reservations`, json(order(), bearer(token)));
}

async function journal(s: RunningServer, query = ''): Promise<any[]> {
  s.engine.flush();
  const res = await call(`${s.url}/__admin/journal?limit=1000${query}`);
  expect(res.status, res.text).toBe(200);
  return res.body.entries;
}

/** the client's latest token request in the journal */
async function lastTokenEntry(s: RunningServer, clientId: string): Promise<any> {
  const entries = (await journal(s, '&system=oauth')).filter((e) => e.operation === 'token' && e.client === clientId);
  expect(entries.length).toBeGreaterThan(0);
  // newest first
  return entries[0];
}

/** what openid-client throws for an OAuth error response: the RFC 6749 error code and the status */
async function oauthFailure(promise: Promise<unknown>): Promise<{ error: string; status: number }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof oidc.ResponseBodyError) return { error: err.error, status: err.status };
    if (err instanceof oidc.WWWAuthenticateChallengeError) return { error: String(err.cause[0]?.parameters.error ?? ''), status: err.status };
    if (err instanceof oidc.AuthorizationResponseError) return { error: err.error, status: 0 };
    throw err;
  }
  throw new Error('expected the request to fail');
}

/** Follows the authorization URL once (auto-approved): the 302's Location, the redirect back to the client. */
async function authorize(url: URL): Promise<URL> {
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status, await res.clone().text()).toBe(302);
  return new URL(res.headers.get('location')!);
}

/** an authorization request for sf-web with PKCE (S256) and a state, as openid-client builds it */
async function codeRequest(config: oidc.Configuration, scope = 'wms.read wms.write') {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  return { url, verifier, state };
}

/** a JWT bearer assertion as a Salesforce External Credential signs it (SALESFORCE.md §1) */
async function salesforceAssertion(options: { iss: string; aud: string; alg?: 'RS256' | 'RS512'; kid?: string; sub?: string; now?: number }): Promise<string> {
  const alg = options.alg ?? 'RS256';
  const now = Math.floor((options.now ?? clock.now()) / 1000);
  return new SignJWT({ iss: options.iss, sub: options.sub ?? 'integration@example.com', aud: options.aud, iat: now, nbf: now, exp: now + 120 })
    .setProtectedHeader({ kid: options.kid ?? 'jwtcert', typ: 'JWT', alg })
    .sign(await importPKCS8(KEY, alg));
}

// ---------------------------------------------------------------------------------------------------------------

describe('discovery', () => {
  it('openid-client reads the root issuer: five grants, three client auth methods, S256 only, endpoints under the issuer', async () => {
    const config = await discover(issuer, 'sf-post');
    const meta = config.serverMetadata();
    expect(meta.issuer).toBe(issuer);
    expect([...(meta.grant_types_supported ?? [])].sort()).toEqual([...GRANTS].sort());
    expect(meta.token_endpoint_auth_methods_supported).toEqual(['client_secret_post', 'client_secret_basic', 'private_key_jwt']);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    for (const [key, path] of Object.entries({ authorization_endpoint: 'authorize', token_endpoint: 'token', jwks_uri: 'jwks', introspection_endpoint: 'introspect', revocation_endpoint: 'revoke' })) {
      expect(meta[key]).toBe(`${issuer}/oauth/${path}`);
    }
    // RFC 8414's name for the same document
    const rfc8414 = await call(`${issuer}/.well-known/oauth-authorization-server`);
    expect(rfc8414.status).toBe(200);
    expect(rfc8414.body.issuer).toBe(issuer);
  });

  it('a workspace is its own issuer: its tokens are accepted there and refused (401) at the root, and the other way round', async () => {
    const teamA = `${issuer}/w/team-a`;
    const config = await discover(teamA, 'sf-post', oidc.ClientSecretPost('post-secret+/%'));
    expect(config.serverMetadata().issuer).toBe(teamA);
    expect(config.serverMetadata().token_endpoint).toBe(`${teamA}/oauth/token`);

    const { access_token: teamToken } = await oidc.clientCredentialsGrant(config, { scope: 'wms.read' });
    expect(decodeJwt(teamToken)).toMatchObject({ iss: teamA, ws: 'team-a' });
    expect((await wmsRead(teamA, teamToken)).status).toBe(200);
    const atRoot = await wmsRead(issuer, teamToken);
    expect(atRoot.status).toBe(401);
    expect(atRoot.headers.get('www-authenticate')).toContain('error="invalid_token"');

    const root = await discover(issuer, 'sf-post', oidc.ClientSecretPost('post-secret+/%'));
    const { access_token: rootToken } = await oidc.clientCredentialsGrant(root, { scope: 'wms.read' });
    expect((await wmsRead(issuer, rootToken)).status).toBe(200);
    expect((await wmsRead(teamA, rootToken)).status).toBe(401);
  });
});

describe('client credentials', () => {
  it.each([
    ['client_secret_post', 'sf-post', () => oidc.ClientSecretPost('post-secret+/%')],
    ['client_secret_basic', 'sf-basic', () => oidc.ClientSecretBasic('basic secret:with:colons')],
  ] as const)('%s: a signed RS256 access token the WMS accepts, journaled with its method', async (method, id, auth) => {
    const config = await discover(issuer, id, auth());
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'wms.read wms.write' });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.expires_in).toBe(3600);
    expect(tokens.scope).toBe('wms.read wms.write');
    expect(tokens.refresh_token).toBeUndefined();

    // the token verifies against the published JWKS, as RFC 9068 has it
    const keys = (await call(`${issuer}/oauth/jwks`)).body;
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, createLocalJWKSet(keys), { issuer, audience: issuer, typ: 'at+jwt', currentDate: new Date(clock.now()) });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ sub: id, client_id: id, scope: 'wms.read wms.write', ws: 'default', gty: 'client_credentials' });
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(typeof payload.jti).toBe('string');

    expect((await wmsRead(issuer, tokens.access_token)).status).toBe(200);
    expect((await wmsWrite(issuer, tokens.access_token)).status).toBe(201);
    const entry = await lastTokenEntry(server, id);
    expect(entry).toMatchObject({ system: 'oauth', client: id, auth: { grant: 'client_credentials', method, scopes: ['wms.read', 'wms.write'] } });
    const calls = (await journal(server, '&system=wms')).filter((e) => e.client === id);
    expect(calls[0].auth).toMatchObject({ grant: 'client_credentials', method: 'bearer', required: ['wms.write'] });
  });

  it('no scope asked for: every scope the client may have', async () => {
    const config = await discover(issuer, 'sf-reader', oidc.ClientSecretBasic('reader-secret'));
    const tokens = await oidc.clientCredentialsGrant(config);
    expect(tokens.scope).toBe('wms.read');
  });

  it('a token with wms.read only: reads 200, a write 403 insufficient_scope naming the scope needed', async () => {
    const config = await discover(issuer, 'sf-reader', oidc.ClientSecretPost('reader-secret'));
    const { access_token } = await oidc.clientCredentialsGrant(config, { scope: 'wms.read' });
    expect((await wmsRead(issuer, access_token)).status).toBe(200);
    const write = await wmsWrite(issuer, access_token);
    expect(write.status).toBe(403);
    expect(write.headers.get('content-type')).toContain('application/problem+json');
    const challenge = write.headers.get('www-authenticate')!;
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="wms.write"');
  });

  it('private_key_jwt: openid-client signs the client assertion with the key of the registered certificate', async () => {
    const privateKey = await importPKCS8(KEY, 'RS256');
    const config = await discover(issuer, 'sf-signed', oidc.PrivateKeyJwt({ key: privateKey, kid: 'jwtcert' }));
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'wms.read' });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: 'sf-signed', client_id: 'sf-signed', scope: 'wms.read', gty: 'client_credentials' });
    expect((await wmsRead(issuer, tokens.access_token)).status).toBe(200);
    expect((await lastTokenEntry(server, 'sf-signed')).auth).toMatchObject({ grant: 'client_credentials', method: 'private_key_jwt' });
    // every assertion openid-client makes has a fresh jti: a second grant works too
    expect((await oidc.clientCredentialsGrant(config, { scope: 'wms.read' })).access_token).not.toBe(tokens.access_token);
  });
});

describe('authorization code with PKCE, refresh token rotation', () => {
  it('auto-approved: code → tokens → WMS; each refresh rotates; reusing a rotated refresh token revokes the whole grant', async () => {
    const config = await discover(issuer, 'sf-web', oidc.ClientSecretBasic('web-secret'));
    const { url, verifier, state } = await codeRequest(config);
    const back = await authorize(url);
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(back.searchParams.get('state')).toBe(state);
    expect(back.searchParams.get('iss')).toBe(issuer);

    const first = await oidc.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state });
    expect(first.refresh_token).toBeDefined();
    expect(decodeJwt(first.access_token)).toMatchObject({ sub: 'user', client_id: 'sf-web', scope: 'wms.read wms.write', gty: 'authorization_code' });
    expect((await wmsRead(issuer, first.access_token)).status).toBe(200);
    expect((await wmsWrite(issuer, first.access_token)).status).toBe(201);
    expect((await lastTokenEntry(server, 'sf-web')).auth).toMatchObject({ grant: 'authorization_code', method: 'client_secret_basic' });

    const second = await oidc.refreshTokenGrant(config, first.refresh_token!);
    expect(second.refresh_token).toBeDefined();
    expect(second.refresh_token).not.toBe(first.refresh_token);
    const claims = decodeJwt(second.access_token);
    // a refreshed token keeps its grant and its family
    expect(claims).toMatchObject({ sub: 'user', gty: 'authorization_code', fam: decodeJwt(first.access_token).fam });
    expect((await wmsRead(issuer, second.access_token)).status).toBe(200);
    expect((await lastTokenEntry(server, 'sf-web')).auth).toMatchObject({ grant: 'refresh_token' });

    // a narrower access token on refresh, and the grant's scopes again on the next one
    const narrow = await oidc.refreshTokenGrant(config, second.refresh_token!, { scope: 'wms.read' });
    expect(narrow.scope).toBe('wms.read');
    expect((await wmsWrite(issuer, narrow.access_token)).status).toBe(403);
    const wide = await oidc.refreshTokenGrant(config, narrow.refresh_token!);
    expect(wide.scope).toBe('wms.read wms.write');

    // the rotated token presented again: invalid_grant, and every token of the grant is revoked
    expect(await oauthFailure(oidc.refreshTokenGrant(config, first.refresh_token!))).toEqual({ error: 'invalid_grant', status: 400 });
    expect(await oauthFailure(oidc.refreshTokenGrant(config, wide.refresh_token!))).toEqual({ error: 'invalid_grant', status: 400 });
    for (const token of [first.access_token, second.access_token, wide.access_token]) {
      const refused = await wmsRead(issuer, token);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect(refused.body.detail).toContain('revoked');
    }
    // the server goes on serving the client: a new authorization works
    const again = await codeRequest(config);
    const tokens = await oidc.authorizationCodeGrant(config, await authorize(again.url), { pkceCodeVerifier: again.verifier, expectedState: again.state });
    expect((await wmsRead(issuer, tokens.access_token)).status).toBe(200);
  });

  it('the revocation a reused refresh token causes survives a restart (it is a logged command)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'understudy-oauth-'));
    try {
      const first = await oauthServer({}, { dataDir });
      const config = await discover(first.issuer, 'sf-web', oidc.ClientSecretPost('web-secret'));
      const { url, verifier, state } = await codeRequest(config);
      const a = await oidc.authorizationCodeGrant(config, await authorize(url), { pkceCodeVerifier: verifier, expectedState: state });
      const b = await oidc.refreshTokenGrant(config, a.refresh_token!);
      expect(await oauthFailure(oidc.refreshTokenGrant(config, a.refresh_token!))).toEqual({ error: 'invalid_grant', status: 400 });
      expect((await wmsRead(first.issuer, b.access_token)).status).toBe(401);
      await first.server.close(100);
      // the client's pool may still hold a keep-alive socket to the old server (its close not yet read, on a busy
      // machine): one call while nothing listens lets it find out, so the restarted server is met on a fresh socket
      await fetch(`${first.issuer}/oauth/jwks`).catch(() => undefined);

      const second = await oauthServer({}, { dataDir, port: first.server.port });
      expect((await wmsRead(second.issuer, b.access_token)).status).toBe(401);
      const config2 = await discover(second.issuer, 'sf-web', oidc.ClientSecretPost('web-secret'));
      expect(await oauthFailure(oidc.refreshTokenGrant(config2, b.refresh_token!))).toEqual({ error: 'invalid_grant', status: 400 });
      await second.server.close(100);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  describe('through the consent page (no autoApprove)', () => {
    let consent: Awaited<ReturnType<typeof oauthServer>>;
    beforeAll(async () => {
      consent = await oauthServer({ autoApprove: false });
    });

    /** the page's one form: its action and its fields (hidden inputs) */
    async function consentForm(url: URL): Promise<{ action: URL; fields: URLSearchParams; buttons: string[] }> {
      const page = await fetch(url, { redirect: 'manual' });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(page.headers.get('location')).toBeNull();
      const html = await page.text();
      expect(html.match(/<form /g)).toHaveLength(1);
      const form = /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(html)!;
      const fields = new URLSearchParams();
      for (const m of form[2].matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields.set(m[1], m[2].replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c))));
      const buttons = [...form[2].matchAll(/<button type="submit" name="decision" value="([a-z]+)">/g)].map((m) => m[1]);
      return { action: new URL(form[1], url), fields, buttons };
    }

    async function submit(form: { action: URL; fields: URLSearchParams }, decision: string): Promise<URL> {
      const body = new URLSearchParams(form.fields);
      body.set('decision', decision);
      const res = await fetch(form.action, { method: 'POST', body, redirect: 'manual' });
      expect(res.status, await res.clone().text()).toBe(302);
      return new URL(res.headers.get('location')!);
    }

    it('Approve: a code for the redirect URI, which openid-client redeems', async () => {
      const config = await discover(consent.issuer, 'sf-web', oidc.ClientSecretPost('web-secret'));
      const { url, verifier, state } = await codeRequest(config, 'wms.read');
      const form = await consentForm(url);
      expect(form.action.href).toBe(`${consent.issuer}/oauth/authorize`);
      expect(form.buttons).toEqual(['approve', 'deny']);
      expect(form.fields.get('code_challenge_method')).toBe('S256');
      expect(form.fields.get('state')).toBe(state);
      const back = await submit(form, 'approve');
      expect(back.searchParams.get('code')).toBeTruthy();
      const tokens = await oidc.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state });
      expect(tokens.scope).toBe('wms.read');
      expect((await wmsRead(consent.issuer, tokens.access_token)).status).toBe(200);
    });

    it('Deny: back to the redirect URI with error=access_denied and the state; openid-client reports it', async () => {
      const config = await discover(consent.issuer, 'sf-web', oidc.ClientSecretPost('web-secret'));
      const { url, verifier, state } = await codeRequest(config);
      const back = await submit(await consentForm(url), 'deny');
      expect(back.origin + back.pathname).toBe(REDIRECT);
      expect(back.searchParams.get('error')).toBe('access_denied');
      expect(back.searchParams.get('state')).toBe(state);
      expect(back.searchParams.get('code')).toBeNull();
      expect(await oauthFailure(oidc.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state }))).toMatchObject({ error: 'access_denied' });
    });

    it('an Approve the page did not send is refused with a page, never a code: forged, altered, or from a page over 10 minutes old', async () => {
      const config = await discover(consent.issuer, 'sf-web', oidc.ClientSecretPost('web-secret'));
      const { url } = await codeRequest(config, 'wms.read');
      const form = await consentForm(url);
      const post = async (fields: URLSearchParams) => {
        const res = await fetch(form.action, { method: 'POST', body: fields, redirect: 'manual' });
        return { status: res.status, location: res.headers.get('location'), text: await res.text() };
      };
      const forged = new URLSearchParams(form.fields);
      forged.delete('consent');
      forged.set('decision', 'approve');
      const altered = new URLSearchParams(form.fields);
      altered.set('scope', 'wms.read wms.write');
      altered.set('decision', 'approve');
      for (const fields of [forged, altered]) {
        const refused = await post(fields);
        expect(refused.status).toBe(400);
        expect(refused.location).toBeNull();
        expect(refused.text).toContain('This form has expired');
      }
      consent.clock.advance(10 * 60_000 + 1);
      const late = new URLSearchParams(form.fields);
      late.set('decision', 'approve');
      expect((await post(late)).status).toBe(400);
    });
  });
});

describe('introspection and revocation', () => {
  it('a live token is active; revoked, it is inactive and the WMS refuses it', async () => {
    const config = await discover(issuer, 'sf-basic', oidc.ClientSecretBasic('basic secret:with:colons'));
    const { access_token } = await oidc.clientCredentialsGrant(config, { scope: 'wms.read' });
    const live = await oidc.tokenIntrospection(config, access_token);
    expect(live).toMatchObject({ active: true, client_id: 'sf-basic', sub: 'sf-basic', scope: 'wms.read', iss: issuer, token_type: 'Bearer' });
    expect(live.exp! - live.iat!).toBe(3600);

    await oidc.tokenRevocation(config, access_token);
    expect(await oidc.tokenIntrospection(config, access_token)).toEqual({ active: false });
    const refused = await wmsRead(issuer, access_token);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
    // revoking again, or revoking garbage, is still 200 (RFC 7009 §2.2)
    await oidc.tokenRevocation(config, access_token);
    await oidc.tokenRevocation(config, 'not-a-token');
    expect(await oidc.tokenIntrospection(config, 'not-a-token')).toEqual({ active: false });
  });

  it('a refresh token: introspected as active, revoked with its whole grant', async () => {
    const config = await discover(issuer, 'sf-web', oidc.ClientSecretPost('web-secret'));
    const { url, verifier, state } = await codeRequest(config);
    const tokens = await oidc.authorizationCodeGrant(config, await authorize(url), { pkceCodeVerifier: verifier, expectedState: state });
    expect(await oidc.tokenIntrospection(config, tokens.refresh_token!)).toMatchObject({ active: true, client_id: 'sf-web', token_type: 'refresh_token' });
    await oidc.tokenRevocation(config, tokens.refresh_token!, { token_type_hint: 'refresh_token' });
    expect(await oidc.tokenIntrospection(config, tokens.refresh_token!)).toEqual({ active: false });
    expect(await oidc.tokenIntrospection(config, tokens.access_token)).toEqual({ active: false });
    expect((await wmsRead(issuer, tokens.access_token)).status).toBe(401);
    expect(await oauthFailure(oidc.refreshTokenGrant(config, tokens.refresh_token!))).toEqual({ error: 'invalid_grant', status: 400 });
  });

  it('a client cannot introspect with a wrong secret (401 invalid_client)', async () => {
    const config = await discover(issuer, 'sf-basic', oidc.ClientSecretBasic('wrong'));
    expect(await oauthFailure(oidc.tokenIntrospection(config, 'whatever'))).toMatchObject({ status: 401 });
  });
});

describe('JWT bearer grant, assertions as Salesforce signs them', () => {
  it.each(['RS256', 'RS512'] as const)('%s against the registered certificate (kid = the certificate name, not compared), aud = the token endpoint', async (alg) => {
    const config = await discover(issuer, 'sf-jwt', oidc.None());
    const assertion = await salesforceAssertion({ iss: 'sf-jwt', aud: `${issuer}/oauth/token`, alg });
    const tokens = await oidc.genericGrantRequest(config, JWT_BEARER, { assertion, scope: 'wms.read' });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: 'integration@example.com', client_id: 'sf-jwt', gty: JWT_BEARER, scope: 'wms.read' });
    expect(tokens.refresh_token).toBeUndefined();
    expect((await wmsRead(issuer, tokens.access_token)).status).toBe(200);
    expect((await wmsWrite(issuer, tokens.access_token)).status).toBe(403);
    expect((await lastTokenEntry(server, 'sf-jwt')).auth).toMatchObject({ grant: JWT_BEARER, method: 'private_key_jwt' });
  });

  it('against a registered JWKS (matched by kid), the issuer as aud, sent with plain fetch and no client_id', async () => {
    const assertion = await salesforceAssertion({ iss: 'sf-jwks', aud: issuer, kid: 'sf-jwks-key-1', sub: 'ops@example.com' });
    const res = await call(`${issuer}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }),
    });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'wms.read' });
    expect(decodeJwt(res.body.access_token)).toMatchObject({ sub: 'ops@example.com', client_id: 'sf-jwks' });
    expect((await wmsRead(issuer, res.body.access_token)).status).toBe(200);
  });
});

describe('password grant', () => {
  it('works, and every use is flagged insecure-flow in the journal', async () => {
    const config = await discover(issuer, 'sf-legacy', oidc.ClientSecretPost('legacy-secret'));
    const tokens = await oidc.genericGrantRequest(config, 'password', { username: USER.username, password: USER.password });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: USER.username, client_id: 'sf-legacy', gty: 'password' });
    expect((await wmsRead(issuer, tokens.access_token)).status).toBe(200);
    const entry = await lastTokenEntry(server, 'sf-legacy');
    expect(entry.auth.grant).toBe('password');
    expect(entry.auth.method).toBe('client_secret_post');
    expect(entry.auth.flags).toContain('insecure-flow');
    // a wrong password: invalid_grant, and no token
    expect(await oauthFailure(oidc.genericGrantRequest(config, 'password', { username: USER.username, password: 'nope' }))).toEqual({ error: 'invalid_grant', status: 400 });
  });
});

describe('an expired token, then a new one', () => {
  it('401 invalid_token once the clock passes exp, 200 with the token the client fetches next (journal links refresh and replay)', async () => {
    const s = await oauthServer({ tokenTtlMs: 5 * 60_000 });
    const config = await discover(s.issuer, 'sf-post', oidc.ClientSecretPost('post-secret+/%'));
    const old = await oidc.clientCredentialsGrant(config, { scope: 'wms.read' });
    expect((await wmsRead(s.issuer, old.access_token)).status).toBe(200);
    s.clock.advance(5 * 60_000);
    const expired = await wmsRead(s.issuer, old.access_token);
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    const fresh = await oidc.clientCredentialsGrant(config, { scope: 'wms.read' });
    expect((await wmsRead(s.issuer, fresh.access_token)).status).toBe(200);

    const entries = await journal(s.server);
    const refused = entries.find((e) => e.system === 'wms' && e.status === 401);
    const refresh = entries.find((e) => e.operation === 'token' && e.auth?.refreshOf !== undefined && e.auth.refreshOf !== null);
    const replay = entries.find((e) => e.system === 'wms' && e.auth?.replayOf !== undefined && e.auth.replayOf !== null);
    expect(refresh?.auth.refreshOf).toBe(refused.id);
    expect(replay?.auth.replayOf).toBe(refused.id);
  });
});
