/**
 * auth.flow and auth.scopes: how the client authenticated (issue #13, PRODUCT.md §8), read from the `auth` the
 * journal records on each exchange: its calls (ClientView.attempts) and its exchanges with understudy's
 * authorization server (ClientView.authServer: token requests, which carry the grant asked for and the flags).
 *
 * auth.flow
 *   fail  the password grant, on any token request (grant password, flagged insecure-flow) or on any call whose
 *         token came from it (a refreshed token keeps its grant): a stored user password, no rotation story of its
 *         own, no scoping to the integration's job, and the first thing a security audit flags (the seed's
 *         "Username-Password Flow (Avoid)"). Evidence: those entries.
 *   warn  no password grant, but calls sent a user's password themselves: HTTP Basic or a WS-Security
 *         UsernameToken (auth.users serves Basic, WS-Security and the password grant alike). The same secret the
 *         password grant is failed for, sent on every call — yet not a fail, because a system that offers only
 *         Basic or WS-Security leaves the client no other way in; the advice is to keep the password in a Named
 *         Credential, owned and rotated, and to move to OAuth where the system offers it. Evidence: those calls.
 *   pass  every credential was something else: OAuth tokens from client credentials, JWT bearer, the
 *         authorization code flow (refresh tokens included), API keys, TLS client certificates. The explanation
 *         names the grants and the other credentials used.
 *   n/a   no exchange of the client carried credentials understudy checked (its systems run with auth none).
 *
 * auth.scopes
 *   warn  over-scoping: the scopes its access tokens carried on its calls, together, are more than the scopes
 *         those calls needed, together (the seed's least privilege: a leaked token should only do the
 *         integration's job). Unions, not per token: a client with one token for two systems is judged by what it
 *         did with both. Evidence: the calls whose token carried an unused scope.
 *   warn  a certificate flagged certificate-expiring (a registered signing certificate, for JWT bearer and
 *         private_key_jwt, or a TLS client certificate, expiring within 30 days): the seed's "certificate expiring
 *         silently eighteen months after go-live", seen while there is still time to rotate it.
 *   fail  a certificate flagged certificate-expired: no longer ahead of time. Calls with an expired TLS client
 *         certificate are already refused; an expired signing certificate understudy still verifies assertions
 *         with (it checks the key, not the dates), but any authorization server that checks the certificate refuses
 *         them — the outage the warning exists to prevent has arrived.
 *   pass  its tokens carried only scopes its calls needed, and no certificate was flagged.
 *   n/a   no call carried scopes and no exchange flagged a certificate.
 *   One result, the worst of the findings; each finding has its sentence in the explanation. Scopes its calls
 *   needed that no token carried (those calls were refused with 403 insufficient_scope) are named as well, without
 *   changing the status: the refusals themselves are the client's to see.
 *
 * Each result's value carries the data: grants, client authentication methods and call credentials (auth.flow);
 * scopes granted, carried, needed, unused and missing, and the flagged certificates (auth.scopes).
 */
import { JWT_BEARER_GRANT } from '../../auth/clients.js';
import type { Attempt } from '../attempts.js';
import { plural, result, type ClientCheck } from '../context.js';
import type { CheckStatus } from '../types.js';

const PASSWORD_GRANT = 'password';
const INSECURE_FLOW = 'insecure-flow';
const EXPIRING = 'certificate-expiring';
const EXPIRED = 'certificate-expired';
/** RFC 7591's name for a client that authenticated with a TLS client certificate (the journal's auth.method) */
const TLS_CLIENT_AUTH = 'tls_client_auth';
/** credentials that are a user's password, sent on every call */
const PASSWORD_CREDENTIALS = new Set(['basic', 'wsse']);

const GRANT_NAMES: Record<string, string> = {
  client_credentials: 'client credentials',
  [JWT_BEARER_GRANT]: 'JWT bearer',
  authorization_code: 'authorization code',
  refresh_token: 'refresh token',
  password: 'password',
};

const CREDENTIAL_NAMES: Record<string, string> = {
  apikey: 'an API key',
  basic: 'HTTP Basic (a user and password)',
  wsse: 'a WS-Security UsernameToken (a user and password)',
  [TLS_CLIENT_AUTH]: 'a TLS client certificate',
};

export const authFlow: ClientCheck = (client) => {
  // the token requests the authorization server granted (a refused one records no auth)
  const tokenRequests = client.authServer.filter((a) => a.operation === 'token' && a.grant !== null);
  const credentialed = client.attempts.filter((a) => a.authMethod !== null);
  if (tokenRequests.length === 0 && credentialed.length === 0) {
    return [
      result(
        'auth.flow',
        'n/a',
        `No call of ${client.client} carried a token from understudy's authorization server, or any other credential it checks (an API key, Basic, WS-Security, a client certificate): the systems it called run with auth none, so its authentication flow could not be judged.`,
      ),
    ];
  }
  const withGrant = byArrival([...tokenRequests, ...credentialed.filter((a) => a.grant !== null)]);
  const grants = distinct(withGrant.map((a) => a.grant!));
  const callCredentials = countBy(credentialed, (a) => a.authMethod!);
  const value = {
    /** every grant: asked for at the token endpoint, or behind a call's token */
    grants,
    tokenRequests: tokenRequests.length,
    /** how it authenticated to the token endpoint: client_secret_basic, client_secret_post, private_key_jwt, none */
    clientAuthentication: distinct(tokenRequests.map((a) => a.authMethod).filter((m): m is string => m !== null)),
    /** its calls by credential: bearer, apikey, basic, wsse, tls_client_auth */
    callCredentials,
  };
  const password = withGrant.filter((a) => a.grant === PASSWORD_GRANT || a.authFlags.includes(INSECURE_FLOW));
  if (password.length) {
    const requests = new Set(tokenRequests);
    const asked = password.filter((a) => requests.has(a)).length;
    return [
      result(
        'auth.flow',
        'fail',
        `${client.client} used the password grant (${plural(asked, 'token request')}, ${plural(password.length - asked, 'call')} with its tokens): a user's password stored with the integration, with no rotation of its own, no scoping to the integration's job, and the first thing a security audit flags. Use the JWT bearer flow (a certificate, no user in the loop) or client credentials, through a Named Credential and its External Credential.`,
        password.map((a) => a.id),
        value,
      ),
    ];
  }
  const used = credentialsUsed(grants, callCredentials);
  const sentPassword = credentialed.filter((a) => PASSWORD_CREDENTIALS.has(a.authMethod!));
  if (sentPassword.length) {
    return [
      result(
        'auth.flow',
        'warn',
        `${client.client} authenticated with ${used}. ${plural(sentPassword.length, 'call')} sent a user's password itself, the very secret the password grant is failed for, on every call. Keep it in a Named Credential (an External Credential with an owner and a rotation date), never in code or custom settings, and move to OAuth (JWT bearer or client credentials) where the system offers it.`,
        sentPassword.map((a) => a.id),
        value,
      ),
    ];
  }
  return [result('auth.flow', 'pass', `${client.client} authenticated with ${used}.`, [...tokenRequests.slice(0, 20), ...credentialed.slice(0, 30)].map((a) => a.id), value)];
};

export const authScopes: ClientCheck = (client) => {
  const bearer = client.attempts.filter((a) => a.authMethod === 'bearer');
  const carried = union(bearer.map((a) => a.scopes));
  const needed = union(bearer.map((a) => a.requiredScopes));
  const unused = carried.filter((s) => !needed.includes(s));
  const missing = needed.filter((s) => !carried.includes(s));
  const granted = union(client.authServer.filter((a) => a.operation === 'token').map((a) => a.scopes));
  const flagged = byArrival([...client.authServer, ...client.attempts].filter((a) => a.authFlags.includes(EXPIRING) || a.authFlags.includes(EXPIRED)));
  if (carried.length === 0 && flagged.length === 0) {
    return [
      result(
        'auth.scopes',
        'n/a',
        `No call of ${client.client} carried scopes from understudy's authorization server, and no certificate it presented or signed with was flagged, so scope breadth and certificate expiry could not be judged.`,
      ),
    ];
  }
  const certificates = certificatesOf(flagged);
  const value = {
    /** scopes its token requests were granted */
    granted,
    /** scopes its calls' tokens carried, and the scopes those calls needed */
    carried,
    needed,
    /** carried but never needed (over-scoping), needed but never carried (refused with 403 insufficient_scope) */
    unused,
    missing,
    certificates: certificates.map(({ ids, ...c }) => c),
  };
  let status: CheckStatus = 'pass';
  const findings: string[] = [];
  const entries: number[] = [];

  if (unused.length) {
    status = 'warn';
    const unusedSet = new Set(unused);
    const overScoped = bearer.filter((a) => a.scopes.some((s) => unusedSet.has(s)));
    findings.push(
      `${client.client}'s tokens carried ${list(carried)}, but its calls needed ${needed.length ? `only ${list(needed)}` : 'no scope at all'}: ${list(unused)} went unused (${plural(overScoped.length, 'call')} carried ${unused.length === 1 ? 'it' : 'them'}). Ask for the scopes the integration's job needs (the scope the External Credential requests), or register the client with no more: a leaked token can do whatever its scopes allow.`,
    );
    entries.push(...overScoped.slice(0, 30).map((a) => a.id));
  } else if (carried.length) {
    findings.push(`${client.client}'s tokens carried only scopes its calls needed (${list(carried)}).`);
  }
  if (missing.length) {
    findings.push(`Its calls also needed ${list(missing)}, which no token carried: those calls were refused with 403 insufficient_scope.`);
  }

  for (const c of certificates) {
    const expired = c.flag === EXPIRED;
    if (expired) status = 'fail';
    else if (status === 'pass') status = 'warn';
    const tls = c.certificate === 'tls-client';
    const what = tls ? 'TLS client certificate' : 'registered signing certificate (JWT bearer, private_key_jwt)';
    findings.push(
      expired
        ? `${client.client}'s ${what} has expired (${plural(c.entries, 'exchange')} flagged, the last entry ${c.last}): ${tls ? 'its calls are refused' : 'understudy still verified its assertions, but an authorization server that checks the certificate refuses them'}. Rotate it now: a new certificate in Salesforce, registered with the other side.`
        : `${client.client}'s ${what} expires within 30 days (${plural(c.entries, 'exchange')} flagged, the last entry ${c.last}). Rotate it before it does: a new certificate in Salesforce, registered with the other side, and someone who owns the date.`,
    );
    entries.push(...c.ids);
  }
  const evidence = status === 'pass' ? bearer.slice(0, 30).map((a) => a.id) : entries;
  return [result('auth.scopes', status, findings.join(' '), evidence, value)];
};

interface FlaggedCertificate {
  /** certificate-expiring or certificate-expired */
  flag: string;
  /** a TLS client certificate (mutual TLS), or a registered signing certificate (JWT bearer, private_key_jwt) */
  certificate: 'tls-client' | 'signing';
  /** how many exchanges were flagged, the first and the last */
  entries: number;
  first: number;
  last: number;
  /** the first few, for the evidence */
  ids: number[];
}

/** The flagged exchanges by flag and certificate, the expired first (they decide the status). */
function certificatesOf(flagged: readonly Attempt[]): FlaggedCertificate[] {
  const groups = new Map<string, FlaggedCertificate>();
  for (const a of flagged) {
    const flag = a.authFlags.includes(EXPIRED) ? EXPIRED : EXPIRING;
    const certificate = a.authMethod === TLS_CLIENT_AUTH ? 'tls-client' : 'signing';
    const name = `${flag} ${certificate}`;
    const group = groups.get(name);
    if (!group) groups.set(name, { flag, certificate, entries: 1, first: a.id, last: a.id, ids: [a.id] });
    else {
      group.entries++;
      group.last = a.id;
      if (group.ids.length < 10) group.ids.push(a.id);
    }
  }
  return [...groups.values()].sort((a, b) => (a.flag === b.flag ? 0 : a.flag === EXPIRED ? -1 : 1));
}

/** "OAuth (client credentials, refresh token); an API key on 3 calls" */
function credentialsUsed(grants: readonly string[], callCredentials: Record<string, number>): string {
  const parts: string[] = [];
  if (grants.length) parts.push(`OAuth (${grants.map((g) => GRANT_NAMES[g] ?? g).join(', ')})`);
  for (const [method, count] of Object.entries(callCredentials)) {
    if (method !== 'bearer') parts.push(`${CREDENTIAL_NAMES[method] ?? method} on ${plural(count, 'call')}`);
  }
  return parts.join('; ');
}

function byArrival(attempts: Attempt[]): Attempt[] {
  return attempts.sort((a, b) => a.start - b.start || a.id - b.id);
}

function distinct<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/** the scopes of many attempts, together: their lists are shared (attempts.ts), so each distinct list is read once */
function union(lists: ReadonlyArray<readonly string[]>): string[] {
  const out = new Set<string>();
  for (const l of new Set(lists)) for (const s of l) out.add(s);
  return [...out];
}

function countBy(attempts: readonly Attempt[], key: (a: Attempt) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of attempts) {
    const k = key(a);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

function list(scopes: readonly string[]): string {
  return scopes.join(', ');
}
