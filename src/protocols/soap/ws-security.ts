/**
 * WS-Security UsernameToken (OASIS Username Token Profile 1.0) for a SOAP system that requires it
 * (`systems.<name>.auth: wsse`, users from `auth.users`): the client identifier the pipeline asks who is calling.
 *
 * - PasswordText: the password as sent; PasswordDigest: Base64(SHA-1(nonce bytes + Created + password)), which
 *   needs a Nonce and a Created;
 * - Created must lie within five minutes of the server's clock, and a nonce is accepted once per user within that
 *   window (a replayed token is refused), as WSS servers do (the profile recommends both);
 * - a refusal is a fault with the profile's fault codes (wsse:InvalidSecurity, wsse:InvalidSecurityToken,
 *   wsse:FailedAuthentication) and, as everywhere, an error code leading the faultstring;
 * - the token's Username becomes the exchange's client (the journal's `client`, rate limits per client).
 * Hand-written: the profile is a few lines of hashing, and the npm WS-Security packages are clients, not verifiers.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Exchange, Reply } from '../../engine/exchange.js';
import type { ClientIdentifier } from '../../engine/seams.js';
import { headerIdentity } from '../../engine/seams.js';
import { faultReply } from './envelope.js';
import { versionOf, WSSE_NS, type ParsedSoap } from './soap-engine.js';
import type { XmlElement } from '../xml/xml-reader.js';

export const WSU_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const PROFILE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0';
export const PASSWORD_TEXT = `${PROFILE}#PasswordText`;
export const PASSWORD_DIGEST = `${PROFILE}#PasswordDigest`;

/** how far Created may be from the server's clock, either way; also how long a nonce is remembered */
export const FRESHNESS_MS = 5 * 60_000;
/** nonces remembered per workspace at most (the oldest are forgotten first) */
const MAX_NONCES = 100_000;

export interface WsseUser {
  username: string;
  password: string;
}

type FaultName = 'InvalidSecurity' | 'InvalidSecurityToken' | 'FailedAuthentication';

export function wsSecurity(users: readonly WsseUser[]): ClientIdentifier {
  const passwords = new Map(users.map((u) => [u.username, u.password]));
  /** per workspace: `user nonce` → when it may be forgotten */
  const nonces = new WeakMap<object, Map<string, number>>();

  const refuse = (exchange: Exchange, name: FaultName, code: string, message: string): Reply =>
    faultReply(versionOf(exchange), { side: 'client', specific: { prefix: 'wsse', uri: WSSE_NS, local: name }, text: `${code}: ${message}` });

  return {
    identify(exchange) {
      const parsed = exchange.parsed as ParsedSoap | undefined;
      // the WSDL is served to anyone (Salesforce's Generate from WSDL fetches it without credentials)
      if (parsed === undefined) return headerIdentity.identify(exchange);
      const security = parsed.envelope.headers.find((h) => h.uri === WSSE_NS && h.local === 'Security');
      if (!security) return refuse(exchange, 'InvalidSecurity', 'SECURITY_HEADER_MISSING', 'this service requires a WS-Security header with a UsernameToken');
      const token = child(security, WSSE_NS, 'UsernameToken');
      if (!token) return refuse(exchange, 'InvalidSecurityToken', 'USERNAME_TOKEN_MISSING', 'the WS-Security header holds no UsernameToken');
      const username = child(token, WSSE_NS, 'Username')?.text.trim();
      const passwordElement = child(token, WSSE_NS, 'Password');
      if (!username || !passwordElement) return refuse(exchange, 'InvalidSecurityToken', 'INVALID_TOKEN', 'the UsernameToken needs a Username and a Password');
      const type = passwordElement.attrs.find((a) => a.local === 'Type' && a.uri === '')?.value.trim() ?? PASSWORD_TEXT;
      if (type !== PASSWORD_TEXT && type !== PASSWORD_DIGEST) return refuse(exchange, 'InvalidSecurityToken', 'INVALID_TOKEN', `the password type ${type} is not supported; use PasswordText or PasswordDigest`);
      const nonceText = child(token, WSSE_NS, 'Nonce')?.text.trim();
      const created = child(token, WSU_NS, 'Created')?.text.trim();
      if (type === PASSWORD_DIGEST && (!nonceText || !created)) return refuse(exchange, 'InvalidSecurityToken', 'INVALID_TOKEN', 'a PasswordDigest needs a Nonce and a wsu:Created');

      const now = exchange.startedAt;
      if (created !== undefined) {
        const at = Date.parse(created);
        if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(created) || Number.isNaN(at)) {
          return refuse(exchange, 'InvalidSecurityToken', 'INVALID_TOKEN', `wsu:Created "${created.slice(0, 40)}" is not a dateTime with a time zone`);
        }
        if (Math.abs(at - now) > FRESHNESS_MS) return refuse(exchange, 'FailedAuthentication', 'MESSAGE_EXPIRED', `the token was created at ${created}, more than 5 minutes from the server's time`);
      }
      const expected = passwords.get(username);
      const password = passwordElement.text;
      const nonce = nonceText === undefined ? undefined : Buffer.from(nonceText, 'base64');
      const ok =
        expected !== undefined &&
        (type === PASSWORD_TEXT ? same(password, expected) : same(password.trim(), digest(nonce!, created!, expected)));
      if (!ok) return refuse(exchange, 'FailedAuthentication', 'FAILED_AUTHENTICATION', 'the security token could not be authenticated: unknown user or wrong password');

      if (nonceText !== undefined) {
        let seen = nonces.get(exchange.workspace);
        if (!seen) nonces.set(exchange.workspace, (seen = new Map()));
        const key = `${username} ${nonceText}`;
        const until = seen.get(key);
        if (until !== undefined && until > now) return refuse(exchange, 'FailedAuthentication', 'NONCE_REPLAYED', 'this nonce was already used: a UsernameToken is accepted once');
        remember(seen, key, now);
      }
      exchange.auth = { grant: null, method: 'wsse', scopes: [], flags: [] };
      return username;
    },
  };
}

export function digest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')])).digest('base64');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function child(element: XmlElement, uri: string, local: string): XmlElement | undefined {
  return element.children.find((c) => c.uri === uri && c.local === local);
}

function remember(seen: Map<string, number>, key: string, now: number): void {
  seen.delete(key);
  seen.set(key, now + 2 * FRESHNESS_MS);
  if (seen.size <= MAX_NONCES) return;
  for (const [k, until] of seen) {
    if (seen.size <= MAX_NONCES && until > now) break;
    seen.delete(k);
  }
}
