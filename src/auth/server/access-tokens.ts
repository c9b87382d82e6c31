/**
 * Reading an access token this server issued: its signature (our key, our header only), its claims, and whether
 * it is still good in this workspace — not expired, not revoked, issued here. Shared by the protected systems
 * (enforcement/bearer.ts) and the introspection endpoint, so both give the same verdict.
 *
 * Verified tokens are remembered (a bounded map from the token's text to its claims): a client sends the same
 * token on every call until it expires, and an RSA verification per call would cost more than the call.
 */
import type { SigningKey } from './signing-key.js';
import type { AccessTokenClaims } from './token-endpoint.js';
import { isRevoked, type AuthState } from './state.js';

export type TokenVerdict =
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; why: 'unknown' | 'other-workspace' | 'expired' | 'revoked'; description: string; claims?: AccessTokenClaims };

/** tokens remembered at most (the oldest forgotten first) */
const MAX_REMEMBERED = 10_000;

/** how much of a token's end keys the cache: within its signature, so as random as the signature is */
const KEY_CHARS = 48;

export class AccessTokens {
  /**
   * by the token's last characters (hashing the whole ~800-character token on every call cost more than the rest
   * of the check), confirmed by comparing the whole token
   */
  private readonly verified = new Map<string, { token: string; claims: AccessTokenClaims }>();

  constructor(private readonly keys: SigningKey) {}

  /** The token's claims when this server signed it, else undefined. */
  claimsOf(token: string): AccessTokenClaims | undefined {
    const key = token.length > KEY_CHARS ? token.slice(-KEY_CHARS) : token;
    const known = this.verified.get(key);
    if (known !== undefined && known.token === token) return known.claims;
    // only tokens this server signed are remembered: garbage must not push real ones out
    if (token.length > 8192) return undefined;
    const payload = this.keys.verifyOwn(token);
    if (payload === undefined || !wellFormed(payload)) return undefined;
    if (this.verified.size >= MAX_REMEMBERED) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(key, { token, claims: payload });
    return payload;
  }

  /** The verdict on `token` in `workspace` at `now` (ms). */
  check(token: string, workspace: string, state: AuthState, now: number): TokenVerdict {
    const claims = this.claimsOf(token);
    if (!claims) return { ok: false, why: 'unknown', description: 'the access token is not one this server issued' };
    if (claims.ws !== workspace) return { ok: false, why: 'other-workspace', description: `the access token was issued in workspace ${claims.ws}, not ${workspace}`, claims };
    if (claims.exp * 1000 <= now) return { ok: false, why: 'expired', description: `the access token expired at ${new Date(claims.exp * 1000).toISOString()}`, claims };
    if (isRevoked(state, claims.jti, claims.fam)) return { ok: false, why: 'revoked', description: 'the access token was revoked', claims };
    return { ok: true, claims };
  }
}

function wellFormed(p: Record<string, unknown>): p is AccessTokenClaims & Record<string, unknown> {
  return (
    typeof p.sub === 'string' &&
    typeof p.client_id === 'string' &&
    typeof p.scope === 'string' &&
    typeof p.jti === 'string' &&
    typeof p.ws === 'string' &&
    typeof p.gty === 'string' &&
    typeof p.iat === 'number' &&
    typeof p.exp === 'number' &&
    (p.fam === undefined || typeof p.fam === 'string')
  );
}
