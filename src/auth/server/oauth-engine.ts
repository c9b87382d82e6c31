/**
 * The authorization server as a protocol engine, so that its traffic takes the one pipeline every request takes:
 * journaled (system and protocol `oauth`, the authenticated client as `client`), and open to chaos — a slow or
 * failing token endpoint is `latency` / `status` / `outage` matched on `path: /oauth/token`, and a status fault
 * answers in RFC 6749's error shape (`errorReply`).
 *
 * Operations (journal `operation`, chaos `match.operation`): `discovery`, `authorize`, `token`, `jwks`,
 * `introspect`, `revoke`. Parameters are read once, in resolve, so that the caller can be named before anything
 * is checked (identify) and refused in validate: the token, introspection and revocation endpoints take a form
 * (RFC 6749 §3.2); the authorization endpoint its query, or the consent form it posts.
 */
import type { Exchange, Reply } from '../../engine/exchange.js';
import { statusTitle } from '../../engine/problem.js';
import { originOf } from '../../engine/base-url.js';
import type { OperationInfo, ProtocolEngine, Resolution } from '../../engine/system.js';
import type { ClientIdentifier } from '../../engine/seams.js';
import { CLIENT_NAME, headerIdentity } from '../../engine/seams.js';
import { readTokenForm } from '../token-request.js';
import type { AccessTokens } from './access-tokens.js';
import { authorizeEndpoint } from './authorize-endpoint.js';
import { claimedClient, header } from './client-authentication.js';
import type { AuthServerContext } from './context.js';
import { discoveryDocument, jwksDocument } from './metadata.js';
import { errorCodeFor, htmlPage, oauthError } from './responses.js';
import { tokenEndpoint } from './token-endpoint.js';
import { introspectEndpoint, revokeEndpoint } from './token-management.js';

type OperationId = 'discovery' | 'authorize' | 'token' | 'jwks' | 'introspect' | 'revoke';

interface Route {
  operation: OperationInfo & { id: OperationId };
  methods: readonly string[];
}

const op = (id: OperationId, template: string, safe: boolean): OperationInfo & { id: OperationId } => ({ id, template, safe });

const ROUTES: Record<string, Route> = {
  '/.well-known/openid-configuration': { operation: op('discovery', '/.well-known/openid-configuration', true), methods: ['GET', 'HEAD'] },
  '/.well-known/oauth-authorization-server': { operation: op('discovery', '/.well-known/oauth-authorization-server', true), methods: ['GET', 'HEAD'] },
  '/oauth/authorize': { operation: op('authorize', '/oauth/authorize', false), methods: ['GET', 'POST'] },
  '/oauth/token': { operation: op('token', '/oauth/token', false), methods: ['POST'] },
  '/oauth/jwks': { operation: op('jwks', '/oauth/jwks', true), methods: ['GET', 'HEAD'] },
  '/oauth/introspect': { operation: op('introspect', '/oauth/introspect', true), methods: ['POST'] },
  '/oauth/revoke': { operation: op('revoke', '/oauth/revoke', false), methods: ['POST'] },
};

/** What resolve read: the parameters, or why they could not be read. */
type Parsed = { params: Map<string, string> } | { refusal: Reply };

export class OAuthEngine implements ProtocolEngine {
  readonly protocol = 'oauth' as const;
  /** one per route and method (HEAD goes with GET), so that chaos profiles can match `method` too */
  readonly operations: readonly OperationInfo[] = Object.values(ROUTES).flatMap((r) => r.methods.filter((m) => m !== 'HEAD').map((method) => ({ ...r.operation, method })));

  constructor(
    private readonly context: AuthServerContext,
    private readonly tokens: AccessTokens,
  ) {}

  resolve(exchange: Exchange): Resolution {
    const route = ROUTES[exchange.path];
    if (!route) return { reply: oauthError(404, 'invalid_request', `There is no endpoint ${exchange.path.slice(0, 200)} here: the authorization server serves ${Object.keys(ROUTES).join(', ')}.`) };
    if (!route.methods.includes(exchange.method)) {
      const reply = oauthError(405, 'invalid_request', `${exchange.path} takes ${route.methods.join(' or ')}, not ${exchange.method}.`);
      reply.headers.allow = route.methods.join(', ');
      return { reply };
    }
    exchange.parsed = this.read(exchange, route.operation.id);
    return { operation: route.operation, params: {} };
  }

  private read(exchange: Exchange, id: OperationId): Parsed | undefined {
    if (id === 'discovery' || id === 'jwks') return undefined;
    if (exchange.method === 'GET') {
      // the authorization request: its query, each parameter once (RFC 6749 §3.1)
      const params = new Map<string, string>();
      for (const [name, value] of new URLSearchParams(exchange.rawQuery)) {
        if (params.has(name)) return { refusal: htmlPage(400, 'Bad authorization request', `<p>${name.slice(0, 60).replace(/[<>&"]/g, '')} is given more than once.</p>`) };
        if (value !== '') params.set(name, value);
      }
      return { params };
    }
    const form = readTokenForm(exchange.body, header(exchange.headers['content-type']));
    if ('params' in form) return form;
    return { refusal: id === 'authorize' ? htmlPage(400, 'Bad authorization request', `<p>${form.description}</p>`) : oauthError(form.status, form.error, form.description) };
  }

  validateRequest(exchange: Exchange): Reply | undefined {
    const parsed = exchange.parsed as Parsed | undefined;
    return parsed && 'refusal' in parsed ? parsed.refusal : undefined;
  }

  invoke(exchange: Exchange): Reply | Promise<Reply> {
    const id = exchange.operation!.id as OperationId;
    const origin = originOf(exchange);
    if ('badHost' in origin) return oauthError(400, 'invalid_request', `The Host header ${JSON.stringify(origin.badHost)} is not a host name; the issuer is built from it.`);
    const issuer = origin.origin + exchange.prefix;
    if (id === 'discovery') return discoveryDocument(issuer);
    if (id === 'jwks') return jwksDocument(this.context.keys);
    const params = (exchange.parsed as { params: Map<string, string> }).params;
    switch (id) {
      case 'token':
        return tokenEndpoint(this.context, exchange, params, issuer);
      case 'authorize':
        return authorizeEndpoint(this.context, exchange, params, issuer);
      case 'introspect':
        return introspectEndpoint(this.context, this.tokens, exchange, params, issuer);
      case 'revoke':
        return revokeEndpoint(this.context, this.tokens, exchange, params, issuer);
    }
  }

  checkResponse(): void {
    // no contract to check against: RFC 6749's shapes are built by the endpoints themselves
  }

  errorReply(status: number, title: string, detail: string, _extra?: Record<string, unknown>, exchange?: Exchange): Reply {
    if (exchange?.operation?.id === 'authorize') return htmlPage(status, statusTitle(status), `<p>${detail.replace(/[<>&"]/g, '')}</p>`);
    const basic = /^Basic\s/i.test(header(exchange?.headers.authorization) ?? '');
    return oauthError(status, errorCodeFor(status, title), detail, { basic });
  }
}

/**
 * Who calls the authorization server, before anything is checked: the client the request claims (Basic, client_id,
 * an assertion's iss), so that chaos counts per client; the endpoints replace it with the authenticated client.
 */
export const claimedCaller: ClientIdentifier = {
  identify(exchange) {
    const parsed = exchange.parsed as Parsed | undefined;
    const params = parsed && 'params' in parsed ? parsed.params : undefined;
    const claimed = params ? claimedClient(params, header(exchange.headers.authorization)) : undefined;
    return claimed !== undefined && CLIENT_NAME.test(claimed) ? claimed : headerIdentity.identify(exchange);
  },
};
