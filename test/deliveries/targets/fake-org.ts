/**
 * A fake Salesforce org for Platform Event tests: the OAuth token endpoint and the sObject REST resource
 * (SALESFORCE.md §1, §5) on a real local socket. It issues tokens tok-1, tok-2 ... only to a client that
 * presents the right credentials (a JWT assertion is verified with jose and the public key), accepts a publish
 * only with a token it issued and has not revoked, and records every request so tests can count them. Tests
 * script failures by replacing `onToken` / `onPublish` answers.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { jwtVerify } from 'jose';
import { httpSink, type Sink } from './sinks.js';

export interface TokenCall {
  form: URLSearchParams;
  /** the verified assertion's claims (jwt-bearer) */
  claims?: Record<string, unknown>;
}

export interface PublishCall {
  path: string;
  host: string | undefined;
  authorization: string | undefined;
  body: unknown;
}

export interface Answer {
  status: number;
  body: unknown;
}

export interface FakeOrgOptions {
  clientId: string;
  clientSecret?: string;
  /** jwt-bearer: the connected app's certificate (its public key), the expected user and audience */
  publicKeyPem?: string;
  username?: string;
  audience?: string;
  /** the moment the assertion's exp is checked against (ms) */
  now?: () => number;
  /** instance_url in token answers (default: none) */
  instanceUrl?: (org: FakeOrg) => string | undefined;
}

export interface FakeOrg {
  sink: Sink;
  url: string;
  tokenCalls: TokenCall[];
  publishCalls: PublishCall[];
  /** tokens issued and still valid */
  valid: Set<string>;
  /** return an answer to use it instead of the normal behaviour */
  onToken?: (call: TokenCall) => Answer | undefined;
  onPublish?: (call: PublishCall) => Answer | undefined;
}

const INVALID_SESSION = [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }];

export async function startFakeOrg(options: FakeOrgOptions): Promise<FakeOrg> {
  const publicKey: KeyObject | undefined = options.publicKeyPem ? createPublicKey(options.publicKeyPem) : undefined;
  let issued = 0;
  const org = { tokenCalls: [], publishCalls: [], valid: new Set<string>() } as unknown as FakeOrg;

  async function token(form: URLSearchParams): Promise<Answer> {
    const call: TokenCall = { form };
    org.tokenCalls.push(call);
    const grant = form.get('grant_type');
    if (grant === 'client_credentials') {
      if (form.get('client_id') !== options.clientId || form.get('client_secret') !== options.clientSecret) {
        return { status: 400, body: { error: 'invalid_client', error_description: 'invalid client credentials' } };
      }
    } else if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer' && publicKey) {
      try {
        const { payload } = await jwtVerify(form.get('assertion') ?? '', publicKey, {
          algorithms: ['RS256'],
          issuer: options.clientId,
          subject: options.username,
          audience: options.audience,
          currentDate: new Date((options.now ?? Date.now)()),
          requiredClaims: ['exp'],
        });
        call.claims = payload as Record<string, unknown>;
      } catch (err) {
        return { status: 400, body: { error: 'invalid_grant', error_description: `bad assertion: ${(err as Error).message}` } };
      }
    } else {
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'grant type not supported' } };
    }
    const scripted = org.onToken?.(call);
    if (scripted) return scripted;
    const accessToken = `tok-${++issued}`;
    org.valid.add(accessToken);
    const instanceUrl = options.instanceUrl?.(org);
    return { status: 200, body: { access_token: accessToken, token_type: 'Bearer', ...(instanceUrl ? { instance_url: instanceUrl } : {}) } };
  }

  function publish(call: PublishCall): Answer {
    org.publishCalls.push(call);
    const scripted = org.onPublish?.(call);
    if (scripted) return scripted;
    const bearer = /^Bearer (.+)$/.exec(call.authorization ?? '')?.[1];
    if (!bearer || !org.valid.has(bearer)) return { status: 401, body: INVALID_SESSION };
    return {
      status: 201,
      body: { id: 'e01xx0000000001AAA', success: true, errors: [{ statusCode: 'OPERATION_ENQUEUED', message: 'e981b488-81f3-4fcc-bd6f-f7033c9d7ac3', fields: [] }] },
    };
  }

  org.sink = await httpSink((req, res, body) => {
    const answer = (a: Answer) => res.writeHead(a.status, { 'content-type': 'application/json;charset=UTF-8' }).end(JSON.stringify(a.body));
    const path = req.url ?? '';
    if (req.method === 'POST' && path === '/services/oauth2/token') {
      if (!req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) return answer({ status: 400, body: { error: 'invalid_request' } });
      void token(new URLSearchParams(body)).then(answer);
      return;
    }
    if (req.method === 'POST' && /^\/services\/data\/v\d+\.0\/sobjects\/[A-Za-z0-9_]+__e\/$/.test(path)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return answer({ status: 400, body: [{ message: 'Unexpected character', errorCode: 'JSON_PARSER_ERROR' }] });
      }
      return answer(publish({ path, host: req.headers.host, authorization: req.headers.authorization, body: parsed }));
    }
    answer({ status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }] });
  });
  org.url = org.sink.url.origin;
  return org;
}

export const REQUEST_LIMIT_EXCEEDED: Answer = { status: 403, body: [{ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' }] };
export const EXPIRED_SESSION: Answer = { status: 401, body: INVALID_SESSION };
