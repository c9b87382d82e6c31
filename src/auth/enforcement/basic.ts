/**
 * `auth: basic` on a system: HTTP Basic credentials (RFC 7617) of one of `auth.users`, the username becoming the
 * caller — the static username and password an External Credential's Basic protocol (or a Custom header formula on
 * older orgs) sends. Missing or wrong credentials are a 401 in the system's error shape with `WWW-Authenticate:
 * Basic`. Passwords are compared by digest in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ClientIdentifier } from '../../engine/seams.js';
import { CLIENT_NAME } from '../../engine/seams.js';
import { challenge, refuse } from './refusal.js';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** `Authorization: Basic base64(username:password)` read (RFC 7617), or undefined when it is not that */
export function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  const m = header === undefined ? null : /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function basicIdentity(users: ReadonlyArray<{ username: string; password: string }>, invalidStatus = 401): ClientIdentifier {
  const passwords = new Map(users.map((u) => [u.username, digest(u.password)]));
  return {
    identify(exchange) {
      const header = exchange.headers.authorization;
      const wwwAuthenticate = challenge('Basic', { charset: 'UTF-8' });
      const credentials = basicCredentials(header);
      if (!credentials) return refuse(exchange, invalidStatus, wwwAuthenticate, 'This service requires HTTP Basic credentials (Authorization: Basic base64(username:password)).');
      const { username, password } = credentials;
      const expected = passwords.get(username);
      if (username === '' || expected === undefined || !timingSafeEqual(expected, digest(password)) || !CLIENT_NAME.test(username)) {
        return refuse(exchange, invalidStatus, wwwAuthenticate, 'The username or password is wrong.');
      }
      exchange.auth = { grant: null, method: 'basic', scopes: [], flags: [] };
      return username;
    },
  };
}
