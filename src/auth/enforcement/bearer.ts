/**
 * `auth: oauth` on a system: every call carries an access token from understudy's authorization server (RFC 6750),
 * issued in the same workspace, unexpired, unrevoked, with the scopes the operation needs.
 *
 * - no token, or not a bearer token: `auth.invalidTokenStatus` (401) with `WWW-Authenticate: Bearer realm=…` and no
 *   error code (RFC 6750 §3.1: a request without credentials gets none);
 * - a token that is malformed, forged, expired, revoked or from another workspace: the same status with
 *   `error="invalid_token"` and a description. A 401 is what makes a Named Credential refresh its token
 *   (SALESFORCE.md §1); the status is configurable because an External Credential can list other refresh codes;
 * - a token without a scope the operation needs: `403` with `error="insufficient_scope"` and `scope=` the needed ones.
 * Refusals are in the system's own error shape (refusal.ts). The token's client becomes the exchange's client (rate
 * limits, the report card), and the journal's `auth` records its grant and scopes next to the ones needed, and
 * links a refused call to the refresh and the replay that follow it (refresh-links.ts).
 */
import type { AuthRecord, Exchange, Reply } from '../../engine/exchange.js';
import type { ClientIdentifier } from '../../engine/seams.js';
import { headerIdentity } from '../../engine/seams.js';
import type { MountedSystem, OperationInfo } from '../../engine/system.js';
import type { RefreshLinks } from '../refresh-links.js';
import type { AccessTokens } from '../server/access-tokens.js';
import type { AccessTokenClaims } from '../server/token-endpoint.js';
import type { AuthState } from '../server/state.js';
import { challenge, refuse } from './refusal.js';

export interface BearerOptions {
  tokens: AccessTokens;
  /** the authorization server's mount, whose state in the workspace knows what is revoked */
  authorizationServer: MountedSystem;
  links: RefreshLinks;
  /** auth.invalidTokenStatus */
  invalidStatus: number;
  /** the scopes the operation needs */
  scopesFor(operation: OperationInfo, exchange: Exchange): readonly string[];
}

/** RFC 6750 §2.1's b64token, checked only for tokens not already known (the known ones passed it) */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** the token after `Bearer ` (any case, any number of spaces), or undefined for another scheme */
function bearerToken(authorization: string): string | undefined {
  if (authorization.length < 8 || authorization.charCodeAt(6) !== 32 || authorization.slice(0, 6).toLowerCase() !== 'bearer') return undefined;
  return authorization.slice(7).trim();
}

/**
 * The journal's record of a call with a token: the same for every call of one operation with one token, so it is
 * made once (and the journal serializes it once: entry-codec.ts), and copied only to add a replay link.
 */
const records = new WeakMap<AccessTokenClaims, Map<string, AuthRecord>>();

function recordOf(claims: AccessTokenClaims, operation: string, required: readonly string[]): AuthRecord {
  let byOperation = records.get(claims);
  if (!byOperation) records.set(claims, (byOperation = new Map()));
  let record = byOperation.get(operation);
  if (!record) {
    const granted = claims.scope === '' ? [] : claims.scope.split(' ');
    record = { grant: claims.gty, method: 'bearer', scopes: granted, required: [...required], flags: [], token: { id: claims.jti, issuedAt: claims.iat * 1000 } };
    byOperation.set(operation, record);
  }
  return record;
}

export function bearerIdentity(options: BearerOptions): ClientIdentifier {
  const { tokens, links, invalidStatus } = options;
  const invalidToken = (exchange: Exchange, description: string) =>
    refuse(exchange, invalidStatus, challenge('Bearer', { error: 'invalid_token', error_description: description }), `The access token was refused: ${description}.`);

  return {
    identify(exchange) {
      const authorization = exchange.headers.authorization;
      const token = authorization === undefined ? undefined : bearerToken(authorization);
      if (token === undefined) {
        exchange.client = headerIdentity.identify(exchange) as string;
        return refuse(exchange, invalidStatus, challenge('Bearer'), 'This service requires an OAuth access token: send Authorization: Bearer <token> (from /oauth/token).');
      }
      const state = exchange.workspace.states.get(options.authorizationServer) as AuthState;
      const verdict = tokens.check(token, exchange.workspace.name, state, exchange.startedAt);
      if (!verdict.ok) {
        if (verdict.why === 'unknown' && !B64TOKEN.test(token)) {
          return refuse(exchange, 400, challenge('Bearer', { error: 'invalid_request', error_description: 'the Authorization header is not Bearer and one token' }), 'The Authorization header is malformed: send Bearer and one token.');
        }
        // a token this server signed names its client, whose refresh and replay can then be followed
        if (verdict.claims && verdict.why !== 'other-workspace') {
          exchange.client = verdict.claims.client_id;
          links.refused(exchange, verdict.claims.client_id);
        } else exchange.client = headerIdentity.identify(exchange) as string;
        return invalidToken(exchange, verdict.description);
      }
      const claims = verdict.claims;
      const operation = exchange.operation;
      const required = operation ? options.scopesFor(operation, exchange) : [];
      const record = recordOf(claims, operation?.id ?? '', required);
      exchange.client = claims.client_id;
      const replayOf = links.used(exchange, claims.client_id, claims.jti);
      exchange.auth = replayOf ? { ...record, replayOf } : record;
      for (const scope of required) {
        if (record.scopes.includes(scope)) continue;
        const missing = required.filter((s) => !record.scopes.includes(s));
        return refuse(
          exchange,
          403,
          challenge('Bearer', { error: 'insufficient_scope', error_description: `this operation needs ${missing.join(' ')}`, scope: required.join(' ') }),
          `The access token lacks the scope ${missing.join(', ')} that ${operation!.id} needs (it has ${record.scopes.join(', ') || 'none'}).`,
        );
      }
      return claims.client_id;
    },

    refuseToken(exchange: Exchange, description: string): Reply {
      links.refused(exchange, exchange.client);
      return invalidToken(exchange, description);
    },
  };
}
