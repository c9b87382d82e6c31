/**
 * Verifying a JWT assertion a client presents to the token endpoint (issue #13): the `assertion` of the JWT
 * bearer grant (RFC 7523 §2.1) and the `client_assertion` of private_key_jwt (RFC 7523 §2.2), as a Salesforce
 * External Credential signs them (SALESFORCE.md §1: header `{"kid":"<certificate name>","alg":"RS256"}`, claims
 * iss, sub, aud, nbf, iat, exp — exp two minutes ahead by default). Groundwork: nothing calls it yet; the token
 * endpoint will, and turn each refusal into `400 invalid_grant` (the bearer grant) or `401 invalid_client` (a
 * client assertion) with the description given here, which says which check failed.
 *
 * jose does the cryptography and the standard claim checks; this file decides what is acceptable before jose sees
 * the token, and words the refusals:
 *   - size and shape: at most 16 KB, three base64url parts, a JSON header and payload;
 *   - algorithm: RS256 or RS512 only — `none`, HS256 (the public key used as an HMAC secret: algorithm
 *     confusion), ES*, PS* are refused by name before any key is touched;
 *   - the key: the client's registered certificate (PEM; its `kid` is not compared: Salesforce sends the
 *     certificate's name there) or its JWKS (the `kid` must name one of its RSA keys; a JWKS of one key may be used
 *     without a kid);
 *   - claims: `iss` the client, `sub` present, `aud` one of the accepted audiences (the issuer, the token endpoint),
 *     `exp` required and not past, `nbf` and `iat` not in the future — with a clock skew (60 s) — and a `jti`, when
 *     there is one, used once (`firstUse`, kept by the caller until the assertion expires).
 * Time is the caller's clock (the workspace's), never Date.now: the same requests at the same clock times give the
 * same answers.
 */
import type { JSONWebKeySet, JWK, JWTPayload } from 'jose';

/** jose, loaded by the first assertion: the server starts without it (~45 ms), as most runs verify none */
type Jose = typeof import('jose');
let jose: Promise<Jose> | undefined;
const loadJose = () => (jose ??= import('jose'));

export const ASSERTION_ALGORITHMS = ['RS256', 'RS512'] as const;
/** longer than any assertion a real client sends (a few hundred bytes to 2 KB), short enough to bound the work */
export const MAX_ASSERTION_LENGTH = 16 * 1024;
export const DEFAULT_CLOCK_SKEW_S = 60;

/** How the client's assertions are verified: its registered certificate (PEM) or its JWKS. */
export type AssertionKeys = { certificate: string } | { jwks: JSONWebKeySet };

export interface AssertionPolicy {
  /** the `iss` expected: the client's id (for the bearer grant, the client the assertion names must be this one) */
  issuer: string;
  /** acceptable `aud` values: the authorization server's issuer URL and its token endpoint URL */
  audiences: readonly string[];
  /** the clock, in ms since the epoch */
  now: number;
  clockSkewS?: number;
  /**
   * Records a `jti` as used until `expiresAt` (ms) and says whether this was its first use; an assertion whose jti
   * was seen before is a replay. Absent: jti is not tracked.
   */
  firstUse?(jti: string, expiresAt: number): boolean;
}

export type AssertionClaims = JWTPayload & { iss: string; sub: string; exp: number };

export type AssertionResult = { ok: true; claims: AssertionClaims } | { ok: false; error: 'invalid_request' | 'invalid_grant'; description: string };

const refuse = (description: string, error: 'invalid_request' | 'invalid_grant' = 'invalid_grant'): AssertionResult => ({ ok: false, error, description });

export async function verifyAssertion(jwt: unknown, keys: AssertionKeys, policy: AssertionPolicy): Promise<AssertionResult> {
  const { decodeProtectedHeader, errors, importJWK, importX509, jwtVerify } = await loadJose();
  if (typeof jwt !== 'string' || jwt === '') return refuse('the assertion is missing', 'invalid_request');
  if (jwt.length > MAX_ASSERTION_LENGTH) return refuse(`the assertion is ${jwt.length} characters long; at most ${MAX_ASSERTION_LENGTH} are accepted`);
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(jwt)) return refuse('the assertion is not a JWT (three base64url parts separated by dots)');

  let alg: unknown;
  let kid: unknown;
  try {
    ({ alg, kid } = decodeProtectedHeader(jwt));
  } catch {
    return refuse('the assertion header is not base64url-encoded JSON');
  }
  if (alg === 'none' || alg === undefined) return refuse('the assertion is not signed (alg none); sign it with RS256 or RS512');
  if (typeof alg !== 'string' || !(ASSERTION_ALGORITHMS as readonly string[]).includes(alg)) {
    return refuse(`the assertion is signed with ${String(alg).slice(0, 20)}; only RS256 and RS512 are accepted`);
  }

  let key: Awaited<ReturnType<Jose['importX509']>>;
  try {
    if ('certificate' in keys) key = await importX509(keys.certificate, alg);
    else {
      const jwk = keyFromSet(keys.jwks, kid);
      if (typeof jwk === 'string') return refuse(jwk);
      key = (await importJWK({ ...jwk, alg }, alg)) as typeof key;
    }
  } catch (err) {
    return refuse(`the client's registered key cannot verify ${alg} (${err instanceof Error ? err.message : String(err)})`);
  }

  const skew = policy.clockSkewS ?? DEFAULT_CLOCK_SKEW_S;
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(jwt, key, {
      algorithms: [alg],
      issuer: policy.issuer,
      audience: [...policy.audiences],
      currentDate: new Date(policy.now),
      clockTolerance: skew,
      requiredClaims: ['iss', 'sub', 'aud', 'exp'],
    }));
  } catch (err) {
    return refuse(claimProblem(err, policy, errors));
  }
  // jose accepts an iat in the future; an assertion cannot have been issued later than now (give or take the skew)
  if (typeof payload.iat === 'number' && payload.iat * 1000 > policy.now + skew * 1000) {
    return refuse(`the assertion was issued in the future (iat ${new Date(payload.iat * 1000).toISOString()})`);
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') return refuse('the assertion has no subject (sub)');
  if (payload.jti !== undefined && policy.firstUse) {
    if (typeof payload.jti !== 'string' || payload.jti === '') return refuse('the assertion has an empty or non-string jti');
    if (!policy.firstUse(payload.jti, (payload.exp as number) * 1000 + skew * 1000)) return refuse(`the assertion's jti ${payload.jti.slice(0, 80)} was used before: an assertion is single-use`);
  }
  return { ok: true, claims: payload as AssertionClaims };
}

/** The RSA key of a JWKS that `kid` names (a set of one RSA key may be used without a kid), or why none fits. */
function keyFromSet(jwks: JSONWebKeySet, kid: unknown): JWK | string {
  const rsa = (jwks.keys ?? []).filter((k) => k.kty === 'RSA' && (k.use === undefined || k.use === 'sig'));
  if (rsa.length === 0) return "the client's JWKS has no RSA signing key";
  if (kid === undefined) return rsa.length === 1 ? rsa[0] : "the assertion names no key (kid) and the client's JWKS holds several";
  const found = rsa.find((k) => k.kid === kid);
  return found ?? `the assertion's key ${JSON.stringify(String(kid).slice(0, 80))} is not in the client's JWKS (kid ${rsa.map((k) => k.kid ?? '(none)').join(', ')})`;
}

/** Which check failed, in words a developer can act on. */
function claimProblem(err: unknown, policy: AssertionPolicy, errors: Jose['errors']): string {
  if (err instanceof errors.JWTExpired) return `the assertion expired (exp ${expOf(err.payload)}, now ${new Date(policy.now).toISOString()})`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return "the assertion's signature does not verify with the client's registered key";
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return `the assertion has no ${err.claim} claim`;
    switch (err.claim) {
      case 'iss':
        return `the assertion's issuer (iss) is ${JSON.stringify(err.payload.iss)}, not the client ${JSON.stringify(policy.issuer)}`;
      case 'aud':
        return `the assertion's audience (aud) is ${JSON.stringify(err.payload.aud)}; it must be one of ${policy.audiences.map((a) => JSON.stringify(a)).join(', ')}`;
      case 'nbf':
        return `the assertion is not valid yet (nbf ${new Date((err.payload.nbf as number) * 1000).toISOString()})`;
      case 'iat':
        return 'the assertion has a malformed issued-at time (iat)';
      default:
        return `the assertion's ${err.claim} claim is not acceptable: ${err.reason}`;
    }
  }
  if (err instanceof errors.JWTInvalid || err instanceof errors.JWSInvalid) return `the assertion is malformed (${err.message})`;
  return `the assertion was refused (${err instanceof Error ? err.message : String(err)})`;
}

function expOf(payload: JWTPayload): string {
  return typeof payload.exp === 'number' ? new Date(payload.exp * 1000).toISOString() : String(payload.exp);
}
