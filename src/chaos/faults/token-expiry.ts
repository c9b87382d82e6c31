/**
 * tokenExpiry: the failures that test whether a Named Credential's token refresh works (SALESFORCE.md §1, §8d).
 *
 *   mode: expire (default)   on a system with `auth: oauth`: a token older than `after` (default 0s) is refused as
 *                            expired, whatever its `exp` — the 401 + `WWW-Authenticate: Bearer error="invalid_token"`
 *                            a real expiry gives, after which the client should fetch a new token and call again
 *   mode: revoke             on such a system: tokens issued before the profile became active are refused as
 *                            revoked (a credential rotated mid-drill); tokens fetched since pass
 *   mode: invalid-client     on `path: /oauth/token`: the token endpoint answers `401 invalid_client`, as when the
 *                            client's secret was rotated underneath the integration
 * A slow or failing token endpoint needs no special kind: `latency`, `status` or `outage` matched on
 * `path: /oauth/token`. The refusal is the protected system's own (enforcement/bearer.ts), so the journal links
 * the refresh and replay that follow it like any other. On a request this mode cannot apply to (no token, not the
 * token endpoint) the journal notes the fault as skipped.
 */
import { parseDuration } from '../../util/units.js';
import { DURATION_SCHEMA, NotApplicable, PASS, type FaultKind } from './fault.js';

interface TokenExpiryParams {
  mode: 'expire' | 'revoke' | 'invalid-client';
  afterMs: number;
}

export const tokenExpiry: FaultKind<TokenExpiryParams> = {
  kind: 'tokenExpiry',
  stage: 'before',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: { mode: { enum: ['expire', 'revoke', 'invalid-client'] }, after: DURATION_SCHEMA },
  },
  compile: (raw) => ({ mode: raw.mode ?? 'expire', afterMs: raw.after !== undefined ? parseDuration(raw.after) : 0 }),
  before(ctx, params) {
    const { exchange } = ctx;
    if (params.mode === 'invalid-client') {
      const engine = exchange.system?.engine;
      if (engine?.protocol !== 'oauth' || exchange.operation?.id !== 'token') throw new NotApplicable('invalid-client applies to the token endpoint (path: /oauth/token)');
      return engine.errorReply(401, 'invalid_client', 'Client authentication failed: the client is unknown or its credentials are not valid.', undefined, exchange);
    }
    const token = exchange.auth?.token;
    const refuse = exchange.system?.auth?.refuseToken;
    if (token === undefined || refuse === undefined) throw new NotApplicable('the request carries no access token of a system with auth: oauth');
    if (params.mode === 'revoke') {
      if (token.issuedAt >= ctx.activatedAt) return PASS;
      return refuse(exchange, 'the access token was revoked');
    }
    const age = ctx.clock.now() - token.issuedAt;
    if (age < params.afterMs) return PASS;
    return refuse(exchange, 'the access token expired');
  },
};
