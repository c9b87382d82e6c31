/**
 * JWT assertions as a Salesforce External Credential signs them (SALESFORCE.md §1: header kid = the certificate's
 * name, RS256 or RS512; claims iss, sub, aud, nbf, iat, exp two minutes ahead), built with jose as a client would,
 * and the refusals issue #13 lists: malformed, oversize, `alg: none`, HS256 signed with the public key (algorithm
 * confusion), another algorithm family, expired, not yet valid, issued in the future, wrong issuer or audience,
 * no subject or expiry, another key's signature, an unknown kid, a replayed jti — each refused with the check that
 * failed. test/fixtures/auth/client.{key,crt} is a throwaway key pair made for these tests (openssl, 100 years).
 */
import { readFileSync } from 'node:fs';
import { exportJWK, generateKeyPair, importPKCS8, importX509, SignJWT, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_ASSERTION_LENGTH, verifyAssertion, type AssertionKeys, type AssertionPolicy } from '../../src/auth/jwt-assertion.js';

const CERT = readFileSync(new URL('../fixtures/auth/client.crt', import.meta.url), 'utf8');
const KEY = readFileSync(new URL('../fixtures/auth/client.key', import.meta.url), 'utf8');
const NOW = Date.UTC(2026, 11, 3, 9, 0, 0);
const T = NOW / 1000;
const ISSUER = 'https://understudy.example.com/w/uat';
const TOKEN_URL = `${ISSUER}/oauth/token`;

let jwks: AssertionKeys;
const byCertificate: AssertionKeys = { certificate: CERT };

const policy = (extra: Partial<AssertionPolicy> = {}): AssertionPolicy => ({ issuer: 'sf-orders', audiences: [ISSUER, TOKEN_URL], now: NOW, ...extra });

/** an assertion as Salesforce builds it, with `claims` replacing or adding claims (undefined removes one) */
async function assertion(claims: Record<string, unknown> = {}, alg: 'RS256' | 'RS512' = 'RS256', kid = 'jwtcert'): Promise<string> {
  const key = await importPKCS8(KEY, alg);
  const payload: Record<string, unknown> = { iss: 'sf-orders', sub: 'integration@example.com', aud: ISSUER, nbf: T, iat: T, exp: T + 120, ...claims };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  return new SignJWT(payload as JWTPayload).setProtectedHeader({ kid, typ: 'JWT', alg }).sign(key);
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

beforeAll(async () => {
  const publicJwk = await exportJWK(await importX509(CERT, 'RS256'));
  jwks = { jwks: { keys: [{ ...publicJwk, kid: 'jwtcert', use: 'sig' }] } };
});

describe('accepted', () => {
  it.each(['RS256', 'RS512'] as const)('%s against the registered certificate and against the JWKS', async (alg) => {
    const jwt = await assertion({}, alg);
    for (const keys of [byCertificate, jwks]) {
      const result = await verifyAssertion(jwt, keys, policy());
      expect(result).toMatchObject({ ok: true, claims: { iss: 'sf-orders', sub: 'integration@example.com' } });
    }
  });

  it('the token endpoint as audience, a clock 50 s off either way, and a fresh jti', async () => {
    expect((await verifyAssertion(await assertion({ aud: TOKEN_URL }), jwks, policy())).ok).toBe(true);
    expect((await verifyAssertion(await assertion({ aud: [TOKEN_URL, 'https://other'] }), jwks, policy())).ok).toBe(true);
    expect((await verifyAssertion(await assertion({ nbf: T + 50, iat: T + 50 }), jwks, policy())).ok).toBe(true);
    expect((await verifyAssertion(await assertion({ exp: T - 50 }), jwks, policy())).ok).toBe(true);
    const seen = new Set<string>();
    const firstUse = (jti: string) => !seen.has(jti) && Boolean(seen.add(jti));
    expect((await verifyAssertion(await assertion({ jti: 'a-1' }), jwks, policy({ firstUse }))).ok).toBe(true);
    expect((await verifyAssertion(await assertion({ jti: 'a-2' }), jwks, policy({ firstUse }))).ok).toBe(true);
  });
});

describe('refused, saying which check failed', () => {
  const refusal = async (jwt: unknown, keys: AssertionKeys = byCertificate, p: AssertionPolicy = policy()) => {
    const result = await verifyAssertion(jwt, keys, p);
    if (result.ok) throw new Error('accepted');
    return result;
  };

  it('missing, not a JWT, oversize, a header that is not JSON', async () => {
    expect(await refusal(undefined)).toEqual({ ok: false, error: 'invalid_request', description: 'the assertion is missing' });
    expect((await refusal('not-a-jwt')).description).toMatch(/not a JWT/);
    expect((await refusal('a.b.c.d')).description).toMatch(/not a JWT/);
    expect((await refusal(`${'a'.repeat(MAX_ASSERTION_LENGTH)}.b.c`)).description).toMatch(/at most 16384/);
    expect((await refusal(`${Buffer.from('{oops').toString('base64url')}.${b64({})}.sig`)).description).toMatch(/header is not base64url-encoded JSON/);
  });

  it('alg none, HS256 signed with the public key (algorithm confusion), ES256', async () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: 'sf-orders', sub: 'x', aud: ISSUER, exp: T + 60 })}.`;
    expect((await refusal(unsigned)).description).toMatch(/not signed \(alg none\)/);
    const confused = await new SignJWT({ iss: 'sf-orders', sub: 'x', aud: ISSUER, exp: T + 60 }).setProtectedHeader({ alg: 'HS256', kid: 'jwtcert' }).sign(new TextEncoder().encode(CERT));
    for (const keys of [byCertificate, jwks]) expect((await refusal(confused, keys)).description).toBe('the assertion is signed with HS256; only RS256 and RS512 are accepted');
    const ec = await generateKeyPair('ES256');
    const es = await new SignJWT({ iss: 'sf-orders', sub: 'x', aud: ISSUER, exp: T + 60 }).setProtectedHeader({ alg: 'ES256' }).sign(ec.privateKey);
    expect((await refusal(es)).description).toMatch(/signed with ES256/);
  });

  it('expired, not yet valid, issued in the future (beyond the 60 s skew)', async () => {
    expect((await refusal(await assertion({ exp: T - 61 }))).description).toMatch(/^the assertion expired \(exp 2026-12-03T08:58:59.000Z, now 2026-12-03T09:00:00.000Z\)$/);
    expect((await refusal(await assertion({ nbf: T + 61 }))).description).toMatch(/not valid yet \(nbf 2026-12-03T09:01:01.000Z\)/);
    expect((await refusal(await assertion({ iat: T + 61 }))).description).toMatch(/issued in the future/);
    // a smaller skew applies when given
    expect((await refusal(await assertion({ exp: T - 5 }), byCertificate, policy({ clockSkewS: 1 }))).description).toMatch(/expired/);
  });

  it('another issuer or audience, no subject, no expiry', async () => {
    expect((await refusal(await assertion({ iss: 'someone-else' }))).description).toBe('the assertion\'s issuer (iss) is "someone-else", not the client "sf-orders"');
    expect((await refusal(await assertion({ aud: 'https://login.salesforce.com' }))).description).toMatch(/audience \(aud\) is "https:\/\/login.salesforce.com"; it must be one of/);
    expect((await refusal(await assertion({ sub: undefined }))).description).toBe('the assertion has no sub claim');
    expect((await refusal(await assertion({ exp: undefined }))).description).toBe('the assertion has no exp claim');
  });

  it("another key's signature, an unknown kid, a JWKS that cannot say which key", async () => {
    const other = await generateKeyPair('RS256');
    const forged = await new SignJWT({ iss: 'sf-orders', sub: 'x', aud: ISSUER, exp: T + 60 }).setProtectedHeader({ alg: 'RS256', kid: 'jwtcert' }).sign(other.privateKey);
    for (const keys of [byCertificate, jwks]) expect((await refusal(forged, keys)).description).toBe("the assertion's signature does not verify with the client's registered key");
    expect((await refusal(await assertion({}, 'RS256', 'rotated-2027'), jwks)).description).toMatch(/key "rotated-2027" is not in the client's JWKS \(kid jwtcert\)/);
    const two: AssertionKeys = { jwks: { keys: [...(jwks as { jwks: { keys: object[] } }).jwks.keys, { ...(await exportJWK(other.publicKey)), kid: 'b' }] as never } };
    const noKid = await new SignJWT({ iss: 'sf-orders', sub: 'x', aud: ISSUER, exp: T + 60 }).setProtectedHeader({ alg: 'RS256' }).sign(await importPKCS8(KEY, 'RS256'));
    expect((await refusal(noKid, two)).description).toMatch(/names no key \(kid\) and the client's JWKS holds several/);
    expect((await verifyAssertion(noKid, jwks, policy())).ok).toBe(true);
    expect((await refusal(noKid, { jwks: { keys: [] } })).description).toBe("the client's JWKS has no RSA signing key");
  });

  it('a replayed jti, and a certificate that is not one', async () => {
    const seen = new Set<string>();
    const firstUse = (jti: string) => !seen.has(jti) && Boolean(seen.add(jti));
    const jwt = await assertion({ jti: 'once' });
    expect((await verifyAssertion(jwt, jwks, policy({ firstUse }))).ok).toBe(true);
    expect((await refusal(jwt, jwks, policy({ firstUse }))).description).toMatch(/jti once was used before: an assertion is single-use/);
    expect((await refusal(await assertion(), { certificate: '-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----' })).description).toMatch(/registered key cannot verify RS256/);
  });
});
