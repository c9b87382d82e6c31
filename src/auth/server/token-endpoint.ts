/**
 * `POST /oauth/token` (RFC 6749 §3.2, §4-6; RFC 7523): every request an External Credential sends (SALESFORCE.md
 * §1), answered as RFC 6749 §5 has it.
 *
 *   client_credentials   the client alone: secret in the Basic header or the body, or a private_key_jwt assertion
 *   JWT bearer           `assertion`, verified against the certificate or JWKS of the client its `iss` names; the
 *                        token's subject is the assertion's `sub`; each refusal says which check failed
 *   authorization_code   a code from /oauth/authorize, once, with its redirect_uri and (when a code_challenge was
 *                        sent) the PKCE S256 verifier; a refresh token when the client may use that grant
 *   refresh_token        rotated on every use; presenting a rotated one again revokes the whole grant
 *   password             accepted (auth.users), and flagged `insecure-flow` in the journal every time
 *
 * Refusals: unauthenticated client `401 invalid_client`, grant not allowed `400 unauthorized_client`, a scope the
 * client may not have `400 invalid_scope`, unknown grant `400 unsupported_grant_type`, a bad code, refresh token,
 * assertion or password `400 invalid_grant`, a missing parameter `400 invalid_request`.
 *
 * Everything is checked first (asynchronously: signatures); what must be remembered (a code or refresh token
 * consumed, a jti used, a refresh token issued — or, for a code or refresh token presented again, its grant
 * revoked) is then one logged command on the state, which checks again what a concurrent request could have
 * changed. The access token itself is a signed JWT (RFC 9068) and is not stored.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Exchange, Reply } from '../../engine/exchange.js';
import { CommandError } from '../../engine/system.js';
import { allowedFrom, GRANTS, JWT_BEARER_GRANT, type Grant } from '../clients.js';
import { verifyAssertion } from '../jwt-assertion.js';
import { authenticateClient, header, keysOf, signingFlags, unverifiedIssuer, type AuthenticatedClient } from './client-authentication.js';
import { presentedClient } from '../token-request.js';
import { authStateOf, type AuthServerContext } from './context.js';
import { oauthError, oauthJson } from './responses.js';
import { AUTH_COMMANDS, clientOf, hashSecret, jtiUsed, newSecret, type AuthState, type IssueResult, type TokenInput } from './state.js';

/** What an access token says (RFC 9068 claims, plus the workspace, the grant and the grant family). */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  client_id: string;
  scope: string;
  iat: number;
  exp: number;
  jti: string;
  /** the workspace it was issued in: it is accepted there only */
  ws: string;
  /** the grant it came from (a refreshed token keeps its original grant) */
  gty: Grant;
  /** the grant family (authorization code and refresh token grants), revoked as one */
  fam?: string;
}

type Refusal = { status: number; error: string; description: string; basic?: boolean; claimed?: string };

const refusal = (status: number, error: string, description: string): Refusal => ({ status, error, description });

export async function tokenEndpoint(context: AuthServerContext, exchange: Exchange, params: ReadonlyMap<string, string>, issuer: string): Promise<Reply> {
  const state = authStateOf(context, exchange);
  const outcome = await grantFor(context, exchange, state, params, issuer);
  if ('error' in outcome) {
    if (outcome.claimed !== undefined) exchange.client = outcome.claimed;
    // what the client tried, refused or not: a password grant attempted is the insecure flow the report card fails
    const tried = params.get('grant_type');
    if (tried !== undefined && (GRANTS as readonly string[]).includes(tried)) {
      const presented = presentedClient(params, header(exchange.headers.authorization));
      const method = 'client' in presented ? presented.client.method : 'none';
      exchange.auth = { grant: tried, method, scopes: [], flags: tried === 'password' ? ['insecure-flow'] : [] };
    }
    return oauthError(outcome.status, outcome.error, outcome.description, { basic: outcome.basic });
  }
  const { auth, grant, tokenGrant, sub, scopes, input, flags } = outcome;
  const client = auth.client;
  exchange.client = client.id;
  exchange.auth = { grant, method: auth.method, scopes, flags: [...auth.flags, ...flags] };
  let issued: IssueResult;
  try {
    // only a token that consumes something (a code, a refresh token, a jti) or carries a refresh token changes the
    // state: a plain client-credentials or password token is a signature, not a logged write
    const changes = input.consumes !== undefined || input.refresh !== undefined;
    issued = changes ? ((await exchange.workspace.states.command(context.system(), AUTH_COMMANDS.token, input)) as IssueResult) : undefined;
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    exchange.auth.scopes = [];
    return oauthError(400, 'invalid_grant', err.message);
  }
  // a code or refresh token used again: refused, and its grant revoked (a logged change, so it survives a restart)
  if (issued !== undefined) {
    exchange.auth.scopes = [];
    return oauthError(400, 'invalid_grant', issued.refused);
  }
  const now = Math.floor(state.clock.now() / 1000);
  const ttl = Math.max(1, Math.floor(context.settings.tokenTtlMs / 1000));
  const claims: AccessTokenClaims = {
    iss: issuer,
    sub,
    aud: issuer,
    client_id: client.id,
    scope: scopes.join(' '),
    iat: now,
    exp: now + ttl,
    jti: randomUUID(),
    ws: exchange.workspace.name,
    gty: tokenGrant,
    ...(outcome.family !== undefined ? { fam: outcome.family } : {}),
  };
  const accessToken = await context.keys.sign({ ...claims });
  const refreshOf = context.links.issued(exchange, client.id, claims.jti);
  if (refreshOf) exchange.auth.refreshOf = refreshOf;
  return oauthJson(200, {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: ttl,
    scope: claims.scope,
    ...(outcome.refreshToken !== undefined ? { refresh_token: outcome.refreshToken } : {}),
  });
}

interface Granted {
  auth: AuthenticatedClient;
  /** the grant asked for (the journal's), and the grant the token stands for (a refresh keeps the original) */
  grant: Grant;
  tokenGrant: Grant;
  sub: string;
  scopes: string[];
  flags: string[];
  input: TokenInput;
  family?: string;
  refreshToken?: string;
}

async function grantFor(context: AuthServerContext, exchange: Exchange, state: AuthState, params: ReadonlyMap<string, string>, issuer: string): Promise<Granted | Refusal> {
  const grantType = params.get('grant_type');
  if (grantType === undefined) return refusal(400, 'invalid_request', `grant_type is missing (one of ${GRANTS.join(', ')})`);
  if (!(GRANTS as readonly string[]).includes(grantType)) return refusal(400, 'unsupported_grant_type', `the grant ${JSON.stringify(grantType.slice(0, 100))} is not supported (one of ${GRANTS.join(', ')})`);
  const grant = grantType as Grant;
  // the audiences an assertion may name: the issuer, or the token endpoint's URL (RFC 7523 §3)
  const audiences = [issuer, `${issuer}/`, `${issuer}/oauth/token`];

  const auth: (AuthenticatedClient & { sub?: string }) | Refusal = grant === JWT_BEARER_GRANT ? await bearerAssertionClient(exchange, state, params, audiences) : await authenticateClient(exchange, state, params, audiences);
  if ('error' in auth) return auth;
  const client = auth.client;
  const claimed = client.id;
  const refuse = (status: number, error: string, description: string): Refusal => ({ status, error, description, claimed });
  if (!client.grants.includes(grant)) return refuse(400, 'unauthorized_client', `client ${client.id} may not use the ${grant} grant (it may use ${client.grants.join(', ')})`);

  const requested = params.get('scope')?.split(' ').filter(Boolean);
  const beyond = requested?.filter((s) => !client.scopes.includes(s)) ?? [];
  if (beyond.length) return refuse(400, 'invalid_scope', `client ${client.id} may not have ${beyond.join(', ')} (its scopes: ${client.scopes.join(', ') || 'none'})`);
  // no scope asked for: everything the client may have (the report card then judges the breadth)
  const scopes = requested ? [...new Set(requested)] : client.scopes;
  const consumes: TokenInput['consumes'] = auth.jti ? { jti: auth.jti } : undefined;
  const base = { auth, grant, input: { client: client.id, consumes } };

  switch (grant) {
    case 'client_credentials':
      if (auth.method === 'none') return refuse(400, 'unauthorized_client', `client ${client.id} is public (no secret, no keys): the client credentials grant needs an authenticated client`);
      return { ...base, tokenGrant: grant, sub: client.id, scopes, flags: [] };

    case JWT_BEARER_GRANT:
      return { ...base, tokenGrant: grant, sub: auth.sub!, scopes, flags: [] };

    case 'password': {
      const username = params.get('username');
      const password = params.get('password');
      if (username === undefined || password === undefined) return refuse(400, 'invalid_request', 'the password grant needs username and password');
      const user = context.settings.users.find((u) => u.username === username);
      if (!user || !same(user.password, password)) return refuse(400, 'invalid_grant', 'the username or password is wrong');
      // accepted for legacy realism, and flagged every time: a stored password is what an audit finds first
      return { ...base, tokenGrant: grant, sub: username, scopes, flags: ['insecure-flow'] };
    }

    case 'authorization_code': {
      const code = params.get('code');
      if (code === undefined) return refuse(400, 'invalid_request', 'the authorization code grant needs code');
      const codeHash = hashSecret(code);
      const entry = state.codes.get(codeHash);
      const now = state.clock.now();
      if (!entry || entry.expiresAt <= now) return refuse(400, 'invalid_grant', 'the authorization code is unknown or has expired (codes live 10 minutes)');
      if (entry.client !== client.id) return refuse(400, 'invalid_grant', `the authorization code was issued to another client, not ${client.id}`);
      const redirectUri = params.get('redirect_uri');
      if (entry.redirectUri !== '' && redirectUri !== entry.redirectUri) {
        return refuse(400, 'invalid_grant', `redirect_uri must repeat the authorization request's (${entry.redirectUri})`);
      }
      const verifier = params.get('code_verifier');
      if (entry.challenge !== undefined) {
        if (verifier === undefined) return refuse(400, 'invalid_grant', 'the authorization request sent a code_challenge: send its code_verifier');
        if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return refuse(400, 'invalid_grant', 'code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)');
        if (!same(createHash('sha256').update(verifier).digest('base64url'), entry.challenge)) return refuse(400, 'invalid_grant', 'the code_verifier does not match the code_challenge (S256)');
      } else if (verifier !== undefined) return refuse(400, 'invalid_grant', 'a code_verifier was sent, but the authorization request sent no code_challenge');
      const family = randomUUID();
      const refreshToken = client.grants.includes('refresh_token') ? newSecret() : undefined;
      return {
        ...base,
        tokenGrant: grant,
        sub: entry.sub,
        scopes: entry.scopes,
        flags: [],
        family,
        refreshToken,
        input: {
          client: client.id,
          family,
          consumes: { ...consumes, codeHash },
          ...(refreshToken ? { refresh: { hash: hashSecret(refreshToken), family, sub: entry.sub, scopes: entry.scopes, grant } } : {}),
        },
      };
    }

    case 'refresh_token': {
      const presented = params.get('refresh_token');
      if (presented === undefined) return refuse(400, 'invalid_request', 'the refresh token grant needs refresh_token');
      const refreshHash = hashSecret(presented);
      const entry = state.refreshTokens.get(refreshHash);
      if (!entry || state.revokedFamilies.has(entry.family)) return refuse(400, 'invalid_grant', 'the refresh token is unknown or revoked');
      if (entry.client !== client.id) return refuse(400, 'invalid_grant', `the refresh token was issued to another client, not ${client.id}`);
      const narrower = requested?.filter((s) => !entry.scopes.includes(s)) ?? [];
      if (narrower.length) return refuse(400, 'invalid_scope', `the refresh token's grant does not include ${narrower.join(', ')} (it has ${entry.scopes.join(', ')})`);
      const granted = requested ? [...new Set(requested)] : entry.scopes;
      const refreshToken = newSecret();
      return {
        ...base,
        tokenGrant: entry.grant,
        sub: entry.sub,
        scopes: granted,
        flags: [],
        family: entry.family,
        refreshToken,
        // the new refresh token keeps the original grant's scopes, so a narrower access token can be widened again
        input: { client: client.id, consumes: { ...consumes, refreshHash }, refresh: { hash: hashSecret(refreshToken), family: entry.family, sub: entry.sub, scopes: entry.scopes, grant: entry.grant } },
      };
    }
  }
}

/**
 * The JWT bearer grant authenticates by its assertion: the client is its `iss`, verified against that client's
 * certificate or JWKS; each failure is `400 invalid_grant` saying which check failed (a missing assertion
 * `invalid_request`). Client credentials sent beside it must name the same client and be right.
 */
async function bearerAssertionClient(
  exchange: Exchange,
  state: AuthState,
  params: ReadonlyMap<string, string>,
  audiences: readonly string[],
): Promise<(AuthenticatedClient & { sub?: string }) | Refusal> {
  const assertion = params.get('assertion');
  if (assertion === undefined) return refusal(400, 'invalid_request', 'the JWT bearer grant needs an assertion');
  const issuer = unverifiedIssuer(assertion);
  const client = issuer === undefined ? undefined : clientOf(state, issuer);
  if (issuer === undefined) {
    // let the verifier say what is wrong with it (not a JWT, no iss ...)
    const result = await verifyAssertion(assertion, { jwks: { keys: [] } }, { issuer: '', audiences, now: state.clock.now() });
    return refusal(400, result.ok ? 'invalid_grant' : result.error, result.ok ? 'the assertion has no iss' : result.description);
  }
  if (!client) return { ...refusal(400, 'invalid_grant', `the assertion's iss ${JSON.stringify(issuer)} is not a registered client`), claimed: issuer };
  const refuse = (status: number, error: string, description: string): Refusal => ({ status, error, description, claimed: client.id });
  let method: AuthenticatedClient['method'] = 'none';
  const sentCredentials = exchange.headers.authorization !== undefined || params.has('client_secret') || params.has('client_assertion');
  if (sentCredentials) {
    const authenticated = await authenticateClient(exchange, state, params, audiences);
    if ('error' in authenticated) return authenticated;
    if (authenticated.client.id !== client.id) return refuse(400, 'invalid_grant', `the assertion's iss ${client.id} is not the authenticated client ${authenticated.client.id}`);
    method = authenticated.method;
  } else if (params.has('client_id') && params.get('client_id') !== client.id) {
    return refuse(400, 'invalid_grant', `the assertion's iss ${client.id} is not the client_id sent`);
  }
  if (!allowedFrom(client.ipAllowlist, exchange.remoteAddress)) return refuse(401, 'invalid_client', `client ${client.id} may not call from ${exchange.remoteAddress}: it is outside the client's IP allowlist`);
  const keys = keysOf(client);
  if (!keys) return refuse(400, 'invalid_grant', `client ${client.id} has no certificate or JWKS registered to verify the assertion with`);
  const now = state.clock.now();
  const result = await verifyAssertion(assertion, keys, { issuer: client.id, audiences, now, firstUse: (jti) => !jtiUsed(state, client.id, jti, now) });
  if (!result.ok) return refuse(400, result.error, result.description);
  const jti = typeof result.claims.jti === 'string' ? { key: `${client.id} ${result.claims.jti}`, until: result.claims.exp * 1000 } : undefined;
  // the client proved itself by signing: as private_key_jwt does, unless it also authenticated another way
  return { client, method: method === 'none' ? 'private_key_jwt' : method, flags: signingFlags(client, now), jti, sub: result.claims.sub };
}

function same(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}
