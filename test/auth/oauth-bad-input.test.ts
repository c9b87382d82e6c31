/**
 * The authorization server (issue #13) against every bad input the issue lists, over real sockets: each refused
 * with the RFC 6749 error and status it calls for, and each leaving the server serving (after every test a client
 * still gets a token and reads the WMS with it).
 *
 *   JWT bearer assertions     malformed, alg none, HS256 signed with the public key (algorithm confusion), wrong
 *                             audience, expired, not yet valid (beyond the 60 s skew), an unknown kid against a
 *                             JWKS, a replayed jti, oversize → 400 invalid_grant; missing → 400 invalid_request
 *   private_key_jwt           the same assertions as client authentication → 401 invalid_client
 *   authorization code        a replayed code (invalid_grant, and what the first redemption issued is revoked),
 *                             a PKCE verifier that does not match, a challenge without its verifier, a verifier
 *                             without a challenge, a requirePkce client without a challenge (error=invalid_request
 *                             at the redirect URI), an unregistered redirect URI (a 400 page, never a Location)
 *   token endpoint            unknown grant, a grant or scope the client may not have, a wrong secret (Basic: with
 *                             WWW-Authenticate: Basic), a JSON body, GET (405 + Allow), Cache-Control: no-store
 *   protected WMS             a forged access token (signature altered, claims altered, another key, alg none) and
 *                             an expired one → 401 error="invalid_token"; a new token → 200
 *
 * Time is a ManualClock set to the real time at start (assertions carry real-looking times), moved by advance();
 * nothing sleeps.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { decodeJwt, exportJWK, generateKeyPair, importPKCS8, importX509, SignJWT, type JWTPayload } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseClient, type OAuthClient } from '../../src/auth/clients.js';
import type { RunningServer } from '../../src/server.js';
import { ManualClock } from '../../src/util/clock.js';
import { call, start, type JsonResponse } from '../helpers.js';

const CERT = readFileSync(new URL('../fixtures/auth/client.crt', import.meta.url), 'utf8');
const KEY = readFileSync(new URL('../fixtures/auth/client.key', import.meta.url), 'utf8');
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const CLIENT_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const REDIRECT = 'https://app.example.com/callback';
const OTHER_REDIRECT = 'https://app.example.com/other';
const TTL_MS = 10 * 60_000;

function client(raw: Record<string, unknown>): OAuthClient {
  const parsed = parseClient(raw, 'config');
  if ('errors' in parsed) throw new Error(JSON.stringify(parsed.errors));
  return parsed.client;
}

let server: RunningServer;
let clock: ManualClock;
let issuer: string;
let tokenUrl: string;

beforeAll(async () => {
  const jwks = { keys: [{ ...(await exportJWK(await importX509(CERT, 'RS256'))), kid: 'key-2026', use: 'sig' }] };
  clock = new ManualClock(Date.now());
  server = await start({
    clock,
    systems: { wms: { auth: 'oauth', skus: 20 } },
    auth: {
      autoApprove: true,
      tokenTtlMs: TTL_MS,
      clients: [
        client({ id: 'app', secret: 'app-secret', grants: ['client_credentials'], scopes: ['wms.read'] }),
        client({ id: 'sf-jwt', certificate: CERT, grants: [JWT_BEARER], scopes: ['wms.read'] }),
        client({ id: 'sf-jwks', jwks, grants: [JWT_BEARER, 'client_credentials'], scopes: ['wms.read'] }),
        client({ id: 'sf-signed', certificate: CERT, grants: ['client_credentials'], scopes: ['wms.read'] }),
        client({ id: 'web', secret: 'web-secret', grants: ['authorization_code', 'refresh_token'], scopes: ['wms.read', 'wms.write'], redirectUris: [REDIRECT, OTHER_REDIRECT] }),
        client({ id: 'web-once', secret: 'once-secret', grants: ['authorization_code'], scopes: ['wms.read'], redirectUris: [REDIRECT] }),
        client({ id: 'strict', secret: 'strict-secret', grants: ['authorization_code'], scopes: ['wms.read'], redirectUris: [REDIRECT], requirePkce: true }),
      ],
    },
  });
  issuer = server.url;
  tokenUrl = `${issuer}/oauth/token`;
});

// ---------------------------------------------------------------------------------------------------------------
// plumbing

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

function token(params: Record<string, string>, headers: Record<string, string> = {}): Promise<JsonResponse> {
  return call(tokenUrl, { method: 'POST', headers: { ...FORM, ...headers }, body: new URLSearchParams(params) });
}

const wms = (accessToken: string, path = '/wms/v1/warehouses') => call(`${issuer}${path}`, { headers: { authorization: `Bearer ${accessToken}` } });

/** an RFC 6749 §5.2 refusal: status, error code, a description, never cached */
function expectRefusal(res: JsonResponse, status: number, error: string, describes?: RegExp): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/json');
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.body.error).toBe(error);
  expect(typeof res.body.error_description).toBe('string');
  if (describes) expect(res.body.error_description).toMatch(describes);
  expect(res.body.access_token).toBeUndefined();
}

/** the WMS's refusal of a token: 401 with a Bearer challenge naming invalid_token */
function expectInvalidToken(res: JsonResponse): void {
  expect(res.status, res.text).toBe(401);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  const challenge = res.headers.get('www-authenticate')!;
  expect(challenge).toMatch(/^Bearer realm="understudy"/);
  expect(challenge).toContain('error="invalid_token"');
}

const seconds = () => Math.floor(clock.now() / 1000);

/** an assertion as Salesforce signs it (kid = the certificate's name), with `claims` replacing or adding claims */
async function assertion(claims: Record<string, unknown>, options: { alg?: 'RS256' | 'RS512'; kid?: string } = {}): Promise<string> {
  const alg = options.alg ?? 'RS256';
  const now = seconds();
  const payload: Record<string, unknown> = { iss: 'sf-jwt', sub: 'integration@example.com', aud: tokenUrl, iat: now, nbf: now, exp: now + 120, ...claims };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  return new SignJWT(payload as JWTPayload).setProtectedHeader({ kid: options.kid ?? 'jwtcert', typ: 'JWT', alg }).sign(await importPKCS8(KEY, alg));
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** the refusals every assertion check shares: each built for the client `iss` (with `sub`), against its keys */
async function badAssertions(iss: string, sub: string): Promise<Array<[string, string, RegExp]>> {
  const now = seconds();
  const claims = { iss, sub, aud: tokenUrl, iat: now, exp: now + 120 };
  const kid = iss === 'sf-jwks' ? 'key-2026' : 'jwtcert';
  // HS256 with the public key (the certificate's PEM text, as a confused verifier would hold it) as the HMAC secret
  const hmacSecret = new TextEncoder().encode(CERT);
  const confused = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid }).sign(hmacSecret);
  return [
    ['malformed (not three base64url parts)', 'this-is.not a.jwt!', /not a JWT/],
    ['malformed (a header that is not JSON)', `${Buffer.from('{nope').toString('base64url')}.${b64(claims)}.c2ln`, /header/],
    ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, /alg none/],
    ['HS256 signed with the public key (algorithm confusion)', confused, /HS256/],
    ['wrong audience', await assertion({ iss, sub, aud: 'https://login.salesforce.com' }, { kid }), /audience/],
    ['expired (beyond the 60 s skew)', await assertion({ iss, sub, iat: now - 300, nbf: now - 300, exp: now - 61 }, { kid }), /expired/],
    ['not yet valid (nbf beyond the 60 s skew)', await assertion({ iss, sub, nbf: now + 120, exp: now + 240 }, { kid }), /not valid yet/],
    ['issued in the future', await assertion({ iss, sub, iat: now + 120, nbf: undefined, exp: now + 240 }, { kid }), /future/],
    ['signed by another key', await signedByAnotherKey({ ...claims, nbf: now }, kid), /signature/],
    ['oversize (> 16 KB)', await assertion({ iss, sub, padding: 'x'.repeat(17 * 1024) }, { kid }), /characters long/],
  ];
}

async function signedByAnotherKey(claims: JWTPayload, kid: string): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(privateKey);
}

/** client credentials for `app`: the token every "still serving" check uses */
async function appToken(): Promise<string> {
  const res = await token({ grant_type: 'client_credentials' }, { authorization: basic('app', 'app-secret') });
  expect(res.status, res.text).toBe(200);
  return res.body.access_token;
}

/** An authorization request for `clientId` (auto-approved): the redirect's query. */
async function authorize(params: Record<string, string>): Promise<{ status: number; location: string | null; query: URLSearchParams; text: string }> {
  const res = await fetch(`${issuer}/oauth/authorize?${new URLSearchParams({ response_type: 'code', ...params })}`, { redirect: 'manual' });
  const location = res.headers.get('location');
  return { status: res.status, location, query: location ? new URL(location).searchParams : new URLSearchParams(), text: await res.text() };
}

const VERIFIER = 'a-verifier-of-forty-three-or-more-characters-0123456789';
const challengeOf = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

async function codeFor(clientId: string, extra: Record<string, string> = {}): Promise<string> {
  const back = await authorize({ client_id: clientId, redirect_uri: REDIRECT, state: 'st-1', ...extra });
  expect(back.status, back.text).toBe(302);
  const code = back.query.get('code');
  expect(code, back.location ?? '').toBeTruthy();
  return code!;
}

// every test leaves the server serving
afterEach(async () => {
  const res = await wms(await appToken());
  expect(res.status, res.text).toBe(200);
});

// ---------------------------------------------------------------------------------------------------------------

describe('JWT bearer grant: each bad assertion is 400 invalid_grant saying which check failed', () => {
  it('a good assertion is accepted (the baseline the refusals below differ from)', async () => {
    const res = await token({ grant_type: JWT_BEARER, assertion: await assertion({}) });
    expect(res.status, res.text).toBe(200);
    expect((await wms(res.body.access_token)).status).toBe(200);
    // an nbf inside the 60 s skew is accepted
    const skewed = await token({ grant_type: JWT_BEARER, assertion: await assertion({ nbf: seconds() + 50, iat: seconds() + 50 }) });
    expect(skewed.status, skewed.text).toBe(200);
  });

  it('each refusal (certificate client)', async () => {
    for (const [name, jwt, describes] of await badAssertions('sf-jwt', 'integration@example.com')) {
      const res = await token({ grant_type: JWT_BEARER, assertion: jwt });
      expect(res.status, `${name}: ${res.text}`).toBe(400);
      expect(res.body.error, name).toBe('invalid_grant');
      expect(res.body.error_description, name).toMatch(describes);
    }
  });

  it('an unknown kid against a JWKS-registered client', async () => {
    const res = await token({ grant_type: JWT_BEARER, assertion: await assertion({ iss: 'sf-jwks' }, { kid: 'key-2019' }) });
    expectRefusal(res, 400, 'invalid_grant', /key-2019.*not in the client's JWKS/);
    // the right kid is accepted
    expect((await token({ grant_type: JWT_BEARER, assertion: await assertion({ iss: 'sf-jwks' }, { kid: 'key-2026' }) })).status).toBe(200);
  });

  it('a replayed jti: the second use is invalid_grant', async () => {
    const jwt = await assertion({ jti: 'sf-0001' });
    expect((await token({ grant_type: JWT_BEARER, assertion: jwt })).status).toBe(200);
    expectRefusal(await token({ grant_type: JWT_BEARER, assertion: jwt }), 400, 'invalid_grant', /jti.*used before|single-use/);
    // another jti is fine
    expect((await token({ grant_type: JWT_BEARER, assertion: await assertion({ jti: 'sf-0002' }) })).status).toBe(200);
  });

  it('an iss that is no client, a client_id that is not the iss, a missing assertion', async () => {
    expectRefusal(await token({ grant_type: JWT_BEARER, assertion: await assertion({ iss: 'nobody' }) }), 400, 'invalid_grant', /not a registered client/);
    expectRefusal(await token({ grant_type: JWT_BEARER, client_id: 'sf-jwks', assertion: await assertion({}) }), 400, 'invalid_grant', /client_id/);
    expectRefusal(await token({ grant_type: JWT_BEARER }), 400, 'invalid_request', /assertion/);
  });

  it('RS512 with the same checks: a wrong audience is refused, the right one accepted', async () => {
    expectRefusal(await token({ grant_type: JWT_BEARER, assertion: await assertion({ aud: `${issuer}/oauth/authorize` }, { alg: 'RS512' }) }), 400, 'invalid_grant', /audience/);
    expect((await token({ grant_type: JWT_BEARER, assertion: await assertion({ aud: issuer }, { alg: 'RS512' }) })).status).toBe(200);
  });
});

describe('private_key_jwt: the same bad client assertions are 401 invalid_client', () => {
  const withAssertion = (jwt: string, clientId?: string) =>
    token({ grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION, client_assertion: jwt, ...(clientId ? { client_id: clientId } : {}) });

  it('a good client assertion is accepted', async () => {
    const res = await withAssertion(await assertion({ iss: 'sf-signed', sub: 'sf-signed', aud: issuer, jti: 'ca-good' }));
    expect(res.status, res.text).toBe(200);
    expect(decodeJwt(res.body.access_token)).toMatchObject({ client_id: 'sf-signed', sub: 'sf-signed' });
  });

  it('each refusal, with and without client_id', async () => {
    for (const [name, jwt] of await badAssertions('sf-signed', 'sf-signed')) {
      for (const clientId of ['sf-signed', undefined]) {
        const res = await withAssertion(jwt, clientId);
        expect(res.status, `${name} (client_id ${clientId}): ${res.text}`).toBe(401);
        expect(res.body.error, name).toBe('invalid_client');
        expect(res.headers.get('cache-control')).toBe('no-store');
        // not Basic: no Basic challenge
        expect(res.headers.get('www-authenticate')).toBeNull();
      }
    }
  });

  it('an unknown kid against a JWKS client, a replayed jti, a sub that is not the client', async () => {
    const unknownKid = await assertion({ iss: 'sf-jwks', sub: 'sf-jwks', aud: issuer }, { kid: 'key-2019' });
    expectRefusal(await withAssertion(unknownKid, 'sf-jwks'), 401, 'invalid_client', /key-2019/);

    const once = await assertion({ iss: 'sf-jwks', sub: 'sf-jwks', aud: issuer, jti: 'ca-once' }, { kid: 'key-2026' });
    expect((await withAssertion(once, 'sf-jwks')).status).toBe(200);
    expectRefusal(await withAssertion(once, 'sf-jwks'), 401, 'invalid_client', /jti/);

    expectRefusal(await withAssertion(await assertion({ iss: 'sf-signed', sub: 'someone-else', aud: issuer })), 401, 'invalid_client', /sub/);
  });
});

describe('authorization code', () => {
  it('a replayed code: invalid_grant, and the access and refresh tokens of the first redemption are revoked', async () => {
    const code = await codeFor('web');
    const redeem = () => token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }, { authorization: basic('web', 'web-secret') });
    const first = await redeem();
    expect(first.status, first.text).toBe(200);
    expect((await wms(first.body.access_token)).status).toBe(200);

    expectRefusal(await redeem(), 400, 'invalid_grant', /used already/);
    expectInvalidToken(await wms(first.body.access_token));
    expectRefusal(await token({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token }, { authorization: basic('web', 'web-secret') }), 400, 'invalid_grant');
  });

  it('a replayed code of a client without refresh tokens also revokes the access token the first redemption gave', async () => {
    const code = await codeFor('web-once');
    const redeem = () => token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'web-once', client_secret: 'once-secret' });
    const first = await redeem();
    expect(first.status, first.text).toBe(200);
    expect(first.body.refresh_token).toBeUndefined();
    expect((await wms(first.body.access_token)).status).toBe(200);
    expectRefusal(await redeem(), 400, 'invalid_grant');
    expectInvalidToken(await wms(first.body.access_token));
  });

  it('PKCE: a verifier that does not match, a challenge sent without a verifier, a verifier without a challenge', async () => {
    const auth = { authorization: basic('web', 'web-secret') };
    const code = await codeFor('web', { code_challenge: challengeOf(VERIFIER), code_challenge_method: 'S256' });
    expectRefusal(await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: `${VERIFIER}x` }, auth), 400, 'invalid_grant', /does not match/);
    expectRefusal(await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }, auth), 400, 'invalid_grant', /code_verifier/);
    // the refusals consumed nothing: the right verifier still redeems it
    expect((await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: VERIFIER }, auth)).status).toBe(200);

    const plain = await codeFor('web');
    expectRefusal(await token({ grant_type: 'authorization_code', code: plain, redirect_uri: REDIRECT, code_verifier: VERIFIER }, auth), 400, 'invalid_grant', /no code_challenge/);
  });

  it('a redirect_uri at the token endpoint other than the authorization request named: invalid_grant', async () => {
    const code = await codeFor('web');
    expectRefusal(await token({ grant_type: 'authorization_code', code, redirect_uri: OTHER_REDIRECT }, { authorization: basic('web', 'web-secret') }), 400, 'invalid_grant', /redirect_uri/);
  });

  it('a code issued to another client, an unknown code, an expired code: invalid_grant', async () => {
    const code = await codeFor('web');
    expectRefusal(await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'web-once', client_secret: 'once-secret' }), 400, 'invalid_grant', /another client/);
    expectRefusal(await token({ grant_type: 'authorization_code', code: 'no-such-code', redirect_uri: REDIRECT }, { authorization: basic('web', 'web-secret') }), 400, 'invalid_grant');
    clock.advance(10 * 60_000 + 1);
    expectRefusal(await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }, { authorization: basic('web', 'web-secret') }), 400, 'invalid_grant', /expired/);
  });

  it('a requirePkce client without code_challenge: back to the redirect URI with error=invalid_request', async () => {
    const back = await authorize({ client_id: 'strict', redirect_uri: REDIRECT, state: 'st-2' });
    expect(back.status).toBe(302);
    expect(back.location!.startsWith(`${REDIRECT}?`)).toBe(true);
    expect(back.query.get('error')).toBe('invalid_request');
    expect(back.query.get('error_description')).toMatch(/PKCE/);
    expect(back.query.get('state')).toBe('st-2');
    expect(back.query.get('code')).toBeNull();
    // with one, it gets its code
    expect(await codeFor('strict', { code_challenge: challengeOf(VERIFIER), code_challenge_method: 'S256' })).toBeTruthy();
  });

  it('a plain (not S256) challenge, an unknown response_type, a scope beyond the client: errors at the redirect URI', async () => {
    const plain = await authorize({ client_id: 'web', redirect_uri: REDIRECT, code_challenge: VERIFIER, code_challenge_method: 'plain' });
    expect(plain.query.get('error')).toBe('invalid_request');
    const token_ = await authorize({ client_id: 'web', redirect_uri: REDIRECT, response_type: 'token' });
    expect(token_.query.get('error')).toBe('unsupported_response_type');
    const scope = await authorize({ client_id: 'web', redirect_uri: REDIRECT, scope: 'wms.read wms.admin' });
    expect(scope.query.get('error')).toBe('invalid_scope');
  });

  it('a redirect URI the client did not register: a 400 page and no Location header (GET and the consent POST)', async () => {
    for (const redirectUri of ['https://evil.example.com/callback', `${REDIRECT}/../evil`, `${REDIRECT}?x=1`]) {
      const res = await authorize({ client_id: 'web', redirect_uri: redirectUri, state: 'st-3' });
      expect(res.status, redirectUri).toBe(400);
      expect(res.location).toBeNull();
      expect(res.text).toContain('Redirect URI not registered');
      expect(res.text).not.toContain('<form');
    }
    const posted = await fetch(`${issuer}/oauth/authorize`, {
      method: 'POST',
      headers: FORM,
      body: new URLSearchParams({ response_type: 'code', client_id: 'web', redirect_uri: 'https://evil.example.com/cb', decision: 'approve' }),
      redirect: 'manual',
    });
    expect(posted.status).toBe(400);
    expect(posted.headers.get('location')).toBeNull();
    // an unknown client: a page too, never a redirect
    const unknown = await authorize({ client_id: 'nobody', redirect_uri: REDIRECT });
    expect(unknown.status).toBe(400);
    expect(unknown.location).toBeNull();
  });
});

describe('the token endpoint (RFC 6749 §5.2)', () => {
  it('an unknown grant: unsupported_grant_type; no grant: invalid_request', async () => {
    expectRefusal(await token({ grant_type: 'urn:example:magic' }, { authorization: basic('app', 'app-secret') }), 400, 'unsupported_grant_type');
    expectRefusal(await token({ grant_type: 'implicit' }, { authorization: basic('app', 'app-secret') }), 400, 'unsupported_grant_type');
    expectRefusal(await token({ scope: 'wms.read' }, { authorization: basic('app', 'app-secret') }), 400, 'invalid_request', /grant_type/);
  });

  it("a grant not in the client's grants: unauthorized_client", async () => {
    expectRefusal(await token({ grant_type: 'password', username: 'u', password: 'p' }, { authorization: basic('app', 'app-secret') }), 400, 'unauthorized_client', /may not use the password grant/);
    expectRefusal(await token({ grant_type: 'client_credentials' }, { authorization: basic('web', 'web-secret') }), 400, 'unauthorized_client');
  });

  it("a scope beyond the client's: invalid_scope", async () => {
    expectRefusal(await token({ grant_type: 'client_credentials', scope: 'wms.read wms.write' }, { authorization: basic('app', 'app-secret') }), 400, 'invalid_scope', /wms\.write/);
  });

  it('a wrong secret: 401 invalid_client, with WWW-Authenticate: Basic when Basic was used', async () => {
    const viaBasic = await token({ grant_type: 'client_credentials' }, { authorization: basic('app', 'wrong') });
    expectRefusal(viaBasic, 401, 'invalid_client');
    expect(viaBasic.headers.get('www-authenticate')).toMatch(/^Basic /);

    const viaBody = await token({ grant_type: 'client_credentials', client_id: 'app', client_secret: 'wrong' });
    expectRefusal(viaBody, 401, 'invalid_client');
    expect(viaBody.headers.get('www-authenticate')).toBeNull();

    const unknown = await token({ grant_type: 'client_credentials' }, { authorization: basic('nobody', 'x') });
    expectRefusal(unknown, 401, 'invalid_client');
    expect(unknown.headers.get('www-authenticate')).toMatch(/^Basic /);
    const garbage = await token({ grant_type: 'client_credentials' }, { authorization: 'Basic !!!' });
    expectRefusal(garbage, 401, 'invalid_client');
    expect(garbage.headers.get('www-authenticate')).toMatch(/^Basic /);
    // no credentials at all
    expectRefusal(await token({ grant_type: 'client_credentials' }), 401, 'invalid_client');
    // two ways at once
    expectRefusal(await token({ grant_type: 'client_credentials', client_id: 'app', client_secret: 'app-secret' }, { authorization: basic('app', 'app-secret') }), 400, 'invalid_request', /more than one way/);
  });

  it('a JSON body, a repeated parameter, an empty body: 400 invalid_request', async () => {
    const asJson = await call(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic('app', 'app-secret') }, body: JSON.stringify({ grant_type: 'client_credentials' }) });
    expectRefusal(asJson, 400, 'invalid_request', /form/);
    const repeated = await call(tokenUrl, { method: 'POST', headers: { ...FORM, authorization: basic('app', 'app-secret') }, body: 'grant_type=client_credentials&scope=wms.read&scope=wms.read' });
    expectRefusal(repeated, 400, 'invalid_request', /more than once/);
    const empty = await call(tokenUrl, { method: 'POST', headers: { ...FORM, authorization: basic('app', 'app-secret') }, body: '' });
    expectRefusal(empty, 400, 'invalid_request');
  });

  it('GET /oauth/token: 405 with Allow: POST', async () => {
    const res = await call(`${tokenUrl}?grant_type=client_credentials`, { headers: { authorization: basic('app', 'app-secret') } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(res.body.error).toBe('invalid_request');
  });

  it('Cache-Control: no-store on token responses, granted or refused', async () => {
    const granted = await token({ grant_type: 'client_credentials' }, { authorization: basic('app', 'app-secret') });
    expect(granted.status).toBe(200);
    expect(granted.headers.get('cache-control')).toBe('no-store');
    expect(granted.headers.get('pragma')).toBe('no-cache');
    const refused = await token({ grant_type: 'client_credentials' }, { authorization: basic('app', 'wrong') });
    expect(refused.headers.get('cache-control')).toBe('no-store');
  });
});

describe('access tokens on the WMS', () => {
  it('no token: 401 with a Bearer challenge and no error code; a malformed header: 400 invalid_request', async () => {
    const none = await call(`${issuer}/wms/v1/warehouses`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm="understudy"$/);
    const malformed = await call(`${issuer}/wms/v1/warehouses`, { headers: { authorization: 'Bearer two tokens' } });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('www-authenticate')).toContain('error="invalid_request"');
  });

  it('forged: signature altered, claims altered, signed by another key with our kid, alg none → 401 invalid_token', async () => {
    const real = await appToken();
    const [header, payload, signature] = real.split('.');
    const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11);
    const claims = decodeJwt(real);
    const elevated = b64({ ...claims, scope: 'wms.read wms.write' });
    const { privateKey } = await generateKeyPair('RS256');
    const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString());
    const otherKey = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid }).sign(privateKey);
    expect(otherKey.split('.')[0]).toBe(header);
    for (const forged of [`${header}.${payload}.${flipped}`, `${header}.${elevated}.${signature}`, otherKey, `${b64({ alg: 'none', typ: 'at+jwt', kid })}.${payload}.`, 'not-a-jwt']) {
      const res = await wms(forged);
      expectInvalidToken(res);
      expect(res.headers.get('www-authenticate')).toContain('not one this server issued');
    }
    expect((await wms(real)).status).toBe(200);
  });

  it('expired: 401 invalid_token once the clock passes the token TTL, then a new token → 200', async () => {
    const old = await appToken();
    expect((await wms(old)).status).toBe(200);
    clock.advance(TTL_MS - 1000);
    expect((await wms(old)).status).toBe(200);
    clock.advance(1000);
    const refused = await wms(old);
    expectInvalidToken(refused);
    expect(refused.headers.get('www-authenticate')).toContain('expired');
    const fresh = await appToken();
    expect((await wms(fresh)).status).toBe(200);
  });

  it('a token of another workspace: 401 invalid_token', async () => {
    const res = await call(`${issuer}/w/other/oauth/token`, { method: 'POST', headers: { ...FORM, authorization: basic('app', 'app-secret') }, body: 'grant_type=client_credentials' });
    expect(res.status).toBe(200);
    expectInvalidToken(await wms(res.body.access_token));
  });
});
