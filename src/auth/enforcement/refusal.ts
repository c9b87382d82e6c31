/**
 * How a protected system refuses a caller: in the system's own error shape (problem+json for REST, a SOAP fault,
 * the OData error object), with the `WWW-Authenticate` challenge RFC 7235 requires on a 401 and RFC 6750 puts on
 * a bearer 403. The challenge is what makes a Named Credential refresh its token (SALESFORCE.md §1).
 */
import type { Exchange, Reply } from '../../engine/exchange.js';
import { statusTitle } from '../../engine/problem.js';

/** the realm every challenge names */
export const REALM = 'understudy';

/** One challenge, e.g. `Bearer realm="understudy", error="invalid_token", error_description="…"`. */
export function challenge(scheme: string, params: Record<string, string | undefined> = {}): string {
  const parts = [`realm="${REALM}"`];
  for (const [name, value] of Object.entries(params)) {
    // quoted-string: no quotes or backslashes inside, and nothing outside printable ASCII (RFC 6750 §3)
    if (value !== undefined) parts.push(`${name}="${value.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, ' ')}"`);
  }
  return `${scheme} ${parts.join(', ')}`;
}

/** The system's error reply with the challenge attached. */
export function refuse(exchange: Exchange, status: number, wwwAuthenticate: string, detail: string): Reply {
  const engine = exchange.system!.engine;
  const reply = engine.errorReply(status, statusTitle(status), detail, undefined, exchange);
  reply.headers['www-authenticate'] = wwwAuthenticate;
  return reply;
}
