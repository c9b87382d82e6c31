/**
 * OAuth clients of the authorization server (PRODUCT.md §1 `auth.clients`, `POST /__admin/clients`): what one is,
 * and the one check both the config file and the admin API run on it, so that both refuse the same things with
 * the same words. A client's certificate and JWKS are checked here, once, as keys the assertions of its JWT
 * bearer and private_key_jwt requests will be verified against (RSA only: those assertions are RS256 or RS512).
 */
import { BlockList, isIP } from 'node:net';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { CLIENT_NAME } from '../engine/seams.js';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const GRANTS = ['client_credentials', JWT_BEARER_GRANT, 'authorization_code', 'refresh_token', 'password'] as const;
export type Grant = (typeof GRANTS)[number];

/** A client as the authorization server knows it. */
export interface OAuthClient {
  id: string;
  /** the current secret; absent: a client that authenticates by assertion, or a public one */
  secret?: string;
  /** secrets replaced by a rotation, each accepted until its time (ms) */
  previousSecrets: Array<{ secret: string; until: number }>;
  grants: Grant[];
  scopes: string[];
  /** the registered signing certificate (PEM), for JWT bearer and private_key_jwt assertions */
  certificate?: string;
  /** or a JWKS of RSA public keys, matched by `kid` */
  jwks?: { keys: Array<Record<string, unknown>> };
  redirectUris: string[];
  /** the authorization code flow demands a PKCE code_challenge */
  requirePkce: boolean;
  /** CIDRs the token endpoint accepts this client's requests from; empty: anywhere */
  ipAllowlist: string[];
  /** where it was declared: the config file (known in every workspace) or the admin API (one workspace) */
  source: 'config' | 'admin';
}

export interface ClientProblem {
  /** the field, dotted (`redirectUris.0`) */
  path: string;
  message: string;
}

/** scope-token of RFC 6749 §3.3 */
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;
const FIELDS = new Set(['id', 'secret', 'grants', 'scopes', 'certificate', 'jwks', 'redirectUris', 'requirePkce', 'ipAllowlist']);
const MAX_CERTIFICATE = 64 * 1024;
const MAX_LIST = 100;

/**
 * Checks a client's fields (the config file's, with its certificate and JWKS already read from their files, or
 * an admin request's JSON) and returns the client, or every problem found.
 */
export function parseClient(raw: unknown, source: OAuthClient['source']): { client: OAuthClient } | { errors: ClientProblem[] } {
  const errors: ClientProblem[] = [];
  const fail = (path: string, message: string) => errors.push({ path, message });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { errors: [{ path: '', message: 'a client is a JSON object' }] };
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) if (!FIELDS.has(key)) fail(key, `unknown field (a client has ${[...FIELDS].join(', ')})`);

  const id = r.id;
  if (typeof id !== 'string' || !CLIENT_NAME.test(id)) fail('id', 'an id is 1-80 of A-Z a-z 0-9 . _ : @ -');
  const secret = r.secret;
  if (secret !== undefined && (typeof secret !== 'string' || secret.length < 1 || secret.length > 512)) fail('secret', 'a secret is a string of 1-512 characters');

  const grants = stringList(r.grants, 'grants', fail) ?? ['client_credentials'];
  for (const [i, g] of grants.entries()) if (!(GRANTS as readonly string[]).includes(g)) fail(`grants.${i}`, `unknown grant ${JSON.stringify(g)} (one of ${GRANTS.join(', ')})`);
  const scopes = stringList(r.scopes, 'scopes', fail) ?? [];
  for (const [i, s] of scopes.entries()) if (!SCOPE.test(s)) fail(`scopes.${i}`, `${JSON.stringify(s.slice(0, 40))} is not a scope (printable ASCII, no spaces, quotes or backslashes)`);

  let certificate: string | undefined;
  if (r.certificate !== undefined) {
    if (typeof r.certificate !== 'string' || r.certificate.length > MAX_CERTIFICATE) fail('certificate', 'a certificate is PEM text (at most 64 KB)');
    else {
      const problem = certificateProblem(r.certificate);
      if (problem) fail('certificate', problem);
      else certificate = r.certificate;
    }
  }
  let jwks: OAuthClient['jwks'];
  if (r.jwks !== undefined) {
    const problems = jwksProblems(r.jwks);
    for (const p of problems) fail(p.path, p.message);
    if (problems.length === 0) jwks = r.jwks as OAuthClient['jwks'];
  }
  if (r.certificate !== undefined && r.jwks !== undefined) fail('jwks', 'give a certificate or a JWKS, not both');

  const redirectUris = stringList(r.redirectUris, 'redirectUris', fail) ?? [];
  for (const [i, uri] of redirectUris.entries()) {
    const problem = redirectUriProblem(uri);
    if (problem) fail(`redirectUris.${i}`, problem);
  }
  const requirePkce = r.requirePkce ?? false;
  if (typeof requirePkce !== 'boolean') fail('requirePkce', 'requirePkce is true or false');
  const ipAllowlist = stringList(r.ipAllowlist, 'ipAllowlist', fail) ?? [];
  for (const [i, cidr] of ipAllowlist.entries()) if (!isCidr(cidr)) fail(`ipAllowlist.${i}`, `${JSON.stringify(cidr.slice(0, 60))} is not an address or CIDR range (203.0.113.0/24, 2001:db8::/32)`);

  // what each grant needs to be usable at all
  const keyed = r.certificate !== undefined || r.jwks !== undefined;
  if (grants.includes(JWT_BEARER_GRANT) && !keyed) fail('grants', `the JWT bearer grant verifies assertions against the client's certificate or JWKS: give one`);
  if (grants.includes('authorization_code') && redirectUris.length === 0) fail('redirectUris', 'the authorization code grant needs at least one redirect URI');
  if (grants.includes('client_credentials') && secret === undefined && !keyed) fail('secret', 'the client credentials grant needs a secret, a certificate or a JWKS to authenticate the client');

  if (errors.length) return { errors };
  return {
    client: {
      id: id as string,
      ...(secret !== undefined ? { secret: secret as string } : {}),
      previousSecrets: [],
      grants: [...new Set(grants)] as Grant[],
      scopes: [...new Set(scopes)],
      ...(certificate !== undefined ? { certificate } : {}),
      ...(jwks !== undefined ? { jwks } : {}),
      redirectUris,
      requirePkce: requirePkce as boolean,
      ipAllowlist,
      source,
    },
  };
}

function stringList(value: unknown, path: string, fail: (path: string, message: string) => void): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > MAX_LIST || value.some((v) => typeof v !== 'string')) {
    fail(path, `${path} is a list of at most ${MAX_LIST} strings`);
    return [];
  }
  return value as string[];
}

/** why a PEM text is not an RSA certificate understudy can verify signatures with, or undefined */
export function certificateProblem(pem: string): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return 'not a PEM X.509 certificate (-----BEGIN CERTIFICATE----- …)';
  }
  if (cert.publicKey.asymmetricKeyType !== 'rsa') return `the certificate's key is ${cert.publicKey.asymmetricKeyType}, but assertions are verified with RS256 or RS512: it must be an RSA key`;
  return undefined;
}

/** when a certificate stops being valid (ms), for the expiry flags */
export function certificateValidTo(pem: string): number | undefined {
  try {
    return Date.parse(new X509Certificate(pem).validTo);
  } catch {
    return undefined;
  }
}

function jwksProblems(value: unknown): ClientProblem[] {
  const bad = (path: string, message: string): ClientProblem[] => [{ path, message }];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return bad('jwks', 'a JWKS is an object { "keys": [ … ] }');
  const keys = (value as Record<string, unknown>).keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_LIST) return bad('jwks.keys', `a JWKS has 1-${MAX_LIST} keys`);
  const problems: ClientProblem[] = [];
  keys.forEach((key, i) => {
    if (key === null || typeof key !== 'object' || Array.isArray(key)) return problems.push({ path: `jwks.keys.${i}`, message: 'a key is a JWK object' });
    const k = key as Record<string, unknown>;
    if (k.kty !== 'RSA') return problems.push({ path: `jwks.keys.${i}.kty`, message: `kty must be RSA (assertions are RS256 or RS512), not ${JSON.stringify(k.kty)}` });
    if (k.d !== undefined || k.p !== undefined) return problems.push({ path: `jwks.keys.${i}`, message: 'this key holds private parts (d, p …): register the public key only' });
    if (k.kid !== undefined && (typeof k.kid !== 'string' || k.kid.length === 0 || k.kid.length > 256)) return problems.push({ path: `jwks.keys.${i}.kid`, message: 'kid is a string of 1-256 characters' });
    try {
      createPublicKey({ key: k as import('node:crypto').JsonWebKey, format: 'jwk' });
    } catch {
      problems.push({ path: `jwks.keys.${i}`, message: 'not a usable RSA public key (n and e, base64url)' });
    }
    return undefined;
  });
  return problems;
}

function redirectUriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `${JSON.stringify(uri.slice(0, 80))} is not an absolute URI`;
  }
  if (url.hash) return 'a redirect URI has no fragment (RFC 6749 §3.1.2)';
  if (url.protocol === 'javascript:' || url.protocol === 'data:') return `${url.protocol} redirect URIs are refused`;
  return undefined;
}

function isCidr(text: string): boolean {
  const [address, bits, ...rest] = text.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** Whether `address` (as node reports a socket's remote address) falls in one of the ranges; empty: everywhere. */
export function allowedFrom(ipAllowlist: readonly string[], address: string): boolean {
  if (ipAllowlist.length === 0) return true;
  const list = new BlockList();
  for (const cidr of ipAllowlist) {
    const [net, bits] = cidr.split('/');
    const type = isIP(net) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(net, type);
    else list.addSubnet(net, Number(bits), type);
  }
  // an IPv4 client on a dual-stack socket is reported as ::ffff:a.b.c.d
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const plain = mapped ? mapped[1] : address;
  return list.check(plain, isIP(plain) === 6 ? 'ipv6' : 'ipv4');
}
