/**
 * Token introspection (RFC 7662) and revocation (RFC 7009), both for authenticated clients only.
 *
 * Introspection answers `{ "active": false }` for anything that is not a live token of this workspace (never why:
 * RFC 7662 §2.2), else the token's client, subject, scopes and times. Revocation answers `200` whether or not the
 * token was known (RFC 7009 §2.2), refuses a token issued to another client, and is a logged command: a revoked
 * access token stays revoked across a restart, and revoking a refresh token revokes its whole grant (the access
 * tokens it gave included).
 */
import type { Exchange, Reply } from '../../engine/exchange.js';
import type { AccessTokens } from './access-tokens.js';
import { authenticateClient } from './client-authentication.js';
import { authStateOf, type AuthServerContext } from './context.js';
import { oauthError, oauthJson } from './responses.js';
import { AUTH_COMMANDS, hashSecret, type AuthState, type RevokeInput } from './state.js';

/** The authenticated client's id (also the exchange's client and auth), or the invalid_client refusal. */
async function callerOf(exchange: Exchange, state: AuthState, params: ReadonlyMap<string, string>, issuer: string, endpoint: string): Promise<string | Reply> {
  const auth = await authenticateClient(exchange, state, params, [issuer, `${issuer}/oauth/${endpoint}`, `${issuer}/oauth/token`]);
  if ('error' in auth) {
    if (auth.claimed !== undefined) exchange.client = auth.claimed;
    return oauthError(auth.status, auth.error, auth.description, { basic: auth.basic });
  }
  exchange.client = auth.client.id;
  exchange.auth = { grant: null, method: auth.method, scopes: [], flags: auth.flags };
  return auth.client.id;
}

export async function introspectEndpoint(context: AuthServerContext, tokens: AccessTokens, exchange: Exchange, params: ReadonlyMap<string, string>, issuer: string): Promise<Reply> {
  const state = authStateOf(context, exchange);
  const caller = await callerOf(exchange, state, params, issuer, 'introspect');
  if (typeof caller !== 'string') return caller;
  const token = params.get('token');
  if (token === undefined) return oauthError(400, 'invalid_request', 'introspection needs token');
  const now = state.clock.now();
  const verdict = tokens.check(token, exchange.workspace.name, state, now);
  if (verdict.ok) {
    const c = verdict.claims;
    return oauthJson(200, { active: true, token_type: 'Bearer', client_id: c.client_id, sub: c.sub, scope: c.scope, iss: c.iss, aud: c.aud, iat: c.iat, exp: c.exp, jti: c.jti });
  }
  const refresh = state.refreshTokens.get(hashSecret(token));
  if (refresh && !refresh.rotated && !state.revokedFamilies.has(refresh.family)) {
    return oauthJson(200, { active: true, token_type: 'refresh_token', client_id: refresh.client, sub: refresh.sub, scope: refresh.scopes.join(' '), iss: issuer, iat: Math.floor(refresh.issuedAt / 1000) });
  }
  return oauthJson(200, { active: false });
}

export async function revokeEndpoint(context: AuthServerContext, tokens: AccessTokens, exchange: Exchange, params: ReadonlyMap<string, string>, issuer: string): Promise<Reply> {
  const state = authStateOf(context, exchange);
  const client = await callerOf(exchange, state, params, issuer, 'revoke');
  if (typeof client !== 'string') return client;
  const token = params.get('token');
  if (token === undefined) return oauthError(400, 'invalid_request', 'revocation needs token');
  const hint = params.get('token_type_hint');
  if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token') return oauthError(400, 'unsupported_token_type', `token_type_hint must be access_token or refresh_token, not ${hint.slice(0, 40)}`);

  let input: RevokeInput | undefined;
  const claims = tokens.claimsOf(token);
  if (claims && claims.ws === exchange.workspace.name) {
    if (claims.client_id !== client) return oauthError(400, 'unauthorized_client', `the token was issued to another client, not ${client}`);
    input = { jti: claims.jti, until: claims.exp * 1000 };
  } else {
    const refreshHash = hashSecret(token);
    const refresh = state.refreshTokens.get(refreshHash);
    if (refresh) {
      if (refresh.client !== client) return oauthError(400, 'unauthorized_client', `the token was issued to another client, not ${client}`);
      input = { refreshHash };
    }
  }
  // an unknown or already invalid token: nothing to do, and the answer is the same (RFC 7009 §2.2)
  if (input) await exchange.workspace.states.command(context.system(), AUTH_COMMANDS.revoke, input);
  return oauthJson(200, {});
}
