/**
 * A user contract's own declared security (issue #14 §1): an operation whose `security` requirement names an
 * `apiKey` (header, query or cookie), `http` (basic, bearer …), `oauth2` or `openIdConnect` scheme refuses a call
 * that carries none of the credentials one alternative of the requirement asks for, with `401` and a
 * `WWW-Authenticate` challenge for each scheme of its first alternative — what Prism checks, and what a vendor's
 * API does before anything else. `security: []` (or an empty alternative) opts an operation out; `--no-auth` turns
 * it all off; `systems.custom[].auth` replaces it with one of understudy's own checks.
 *
 * API keys, Basic and plain bearer schemes are checked for presence: the vendor's keys and passwords are not
 * understudy's to know. OAuth 2.0 and OpenID Connect schemes are checked for validity too: the token must be one of
 * understudy's authorization server, unexpired, unrevoked, with the scopes the requirement names (bearer.ts).
 */
import type { Exchange } from '../../engine/exchange.js';
import { CLIENT_NAME, headerIdentity, type ClientIdentifier } from '../../engine/seams.js';
import { basicCredentials } from './basic.js';
import type { SecurityAlternative, SecurityScheme } from '../../protocols/rest/operations.js';
import { parseCookies } from '../../protocols/rest/read/parameter-styles.js';
import { challenge, refuse } from './refusal.js';

/** an operation that may carry a security requirement (the REST engine's CompiledOperation) */
interface Secured {
  security?: SecurityAlternative[];
}

export function contractSecurity(oauth: ClientIdentifier, invalidStatus = 401): ClientIdentifier {
  return {
    identify(exchange) {
      const alternatives = (exchange.operation as Secured | undefined)?.security;
      if (!alternatives || alternatives.length === 0 || alternatives.some((a) => a.length === 0)) return headerIdentity.identify(exchange);
      const met = alternatives.find((alternative) => alternative.every((scheme) => present(scheme, exchange)));
      if (!met) {
        const first = alternatives[0];
        const wanted = alternatives.map((a) => a.map(describe).join(' and ')).join(', or ');
        return refuse(exchange, invalidStatus, first.map(challengeFor).join(', '), `This operation requires ${wanted}.`);
      }
      // an OAuth scheme: the token must be valid, with the requirement's scopes
      if (met.some((s) => s.type === 'oauth2' || s.type === 'openIdConnect')) return oauth.identify(exchange);
      const basic = met.find((s) => s.type === 'http' && s.scheme === 'basic');
      exchange.auth = { grant: null, method: basic ? 'basic' : met[0].type === 'apiKey' ? 'apikey' : 'bearer', scopes: [], flags: [] };
      return (basic && basicUser(exchange)) || (headerIdentity.identify(exchange) as string);
    },
    refuseToken: oauth.refuseToken,
  };
}

function present(scheme: SecurityScheme, exchange: Exchange): boolean {
  const authorization = exchange.headers.authorization ?? '';
  switch (scheme.type) {
    case 'apiKey':
      if (scheme.in === 'header') return nonEmpty(exchange.headers[scheme.parameter.toLowerCase()]);
      if (scheme.in === 'query') return new URLSearchParams(exchange.rawQuery).get(scheme.parameter) ? true : false;
      return cookie(exchange, scheme.parameter) !== undefined;
    case 'http':
      return authorization.toLowerCase().startsWith(`${scheme.scheme} `) && authorization.length > scheme.scheme.length + 1;
    case 'oauth2':
    case 'openIdConnect':
      return /^bearer\s+\S/i.test(authorization);
  }
}

function describe(scheme: SecurityScheme): string {
  switch (scheme.type) {
    case 'apiKey':
      return `the ${scheme.in} ${scheme.in === 'header' ? scheme.parameter : `parameter ${scheme.parameter}`} (${scheme.name})`;
    case 'http':
      return `Authorization: ${capitalized(scheme.scheme)} (${scheme.name})`;
    default:
      return `an OAuth access token from understudy's /oauth/token${scheme.scopes.length ? ` with ${scheme.scopes.join(' ')}` : ''} (${scheme.name})`;
  }
}

function challengeFor(scheme: SecurityScheme): string {
  switch (scheme.type) {
    case 'apiKey':
      return challenge('ApiKey', { [scheme.in]: scheme.parameter });
    case 'http':
      return challenge(capitalized(scheme.scheme));
    default:
      return challenge('Bearer', scheme.scopes.length ? { scope: scheme.scopes.join(' ') } : {});
  }
}

function capitalized(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function nonEmpty(value: string | string[] | undefined): boolean {
  return Array.isArray(value) ? value.some((v) => v !== '') : value !== undefined && value !== '';
}

/** the named cookie's value, when the Cookie header carries it non-empty (read as cookie parameters are read) */
function cookie(exchange: Exchange, name: string): string | undefined {
  const value = parseCookies(exchange.headers.cookie)[name];
  return value === undefined || value === '' ? undefined : value;
}

/** the username of Basic credentials, when it is a client name */
function basicUser(exchange: Exchange): string | undefined {
  const username = basicCredentials(exchange.headers.authorization)?.username;
  return username !== undefined && CLIENT_NAME.test(username) ? username : undefined;
}
