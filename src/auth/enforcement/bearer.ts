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
import type { Exchange, Reply } from '../../engine/exchange.js';
import type { ClientIdentifier } from '../../engine/seams.js';
import { headerIdentity } from '../../engine/seams.js';
import type { MountedSystem, OperationInfo } from '../../engine/system.js';
import type { RefreshLinks } from '../refresh-links.js';
import type { AccessTokens } from '../server/access-tokens.js';
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

/** RFC 6750 §2.1: `Bearer` and a b64token */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function bearerIdentity(options: BearerOptions): ClientIdentifier {
  const { tokens, links, invalidStatus } = options;
  const invalidToken = (exchange: Exchange, description: string) =>
    refuse(exchange, invalidStatus, challenge('Bearer', { error: 'invalid_token', error_description: description }), `The access token was refused: ${description}.`);

  return {
    identify(exchange) {
      const authorization = exchange.headers.authorization;
      if (authorization === undefined || !/^Bearer\s/i.test(authorization)) {
        exchange.client = headerIdentity.identify(exchange) as string;
        return refuse(exchange, invalidStatus, challenge('Bearer'), 'This service requires an OAuth access token: send Authorization: Bearer <token> (from /oauth/token).');
      }
      const m = BEARER.exec(authorization);
      if (!m) return refuse(exchange, 400, challenge('Bearer', { error: 'invalid_request', error_description: 'the Authorization header is not Bearer and one token' }), 'The Authorization header is malformed: send Bearer and one token.');
      const state = exchange.workspace.states.get(options.authorizationServer) as AuthState;
      const verdict = tokens.check(m[1], exchange.workspace.name, state, exchange.startedAt);
      if (!verdict.ok) {
        // a token this server signed names its client, whose refresh and replay can then be followed
        if (verdict.claims && verdict.why !== 'other-workspace') {
          exchange.client = verdict.claims.client_id;
          links.refused(exchange, verdict.claims.client_id);
        } else exchange.client = headerIdentity.identify(exchange) as string;
        return invalidToken(exchange, verdict.description);
      }
      const claims = verdict.claims;
      const granted = claims.scope === '' ? [] : claims.scope.split(' ');
      const required = exchange.operation ? options.scopesFor(exchange.operation, exchange) : [];
      exchange.client = claims.client_id;
      exchange.auth = { grant: claims.gty, method: 'bearer', scopes: granted, required: [...required], flags: [], token: { id: claims.jti, issuedAt: claims.iat * 1000 } };
      const replayOf = links.used(exchange, claims.client_id, claims.jti);
      if (replayOf) exchange.auth.replayOf = replayOf;
      const missing = required.filter((s) => !granted.includes(s));
      if (missing.length) {
        return refuse(
          exchange,
          403,
          challenge('Bearer', { error: 'insufficient_scope', error_description: `this operation needs ${missing.join(' ')}`, scope: required.join(' ') }),
          `The access token lacks the scope ${missing.join(', ')} that ${exchange.operation!.id} needs (it has ${granted.join(', ') || 'none'}).`,
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
