/**
 * A Platform Event subscriber: each event is published into a Salesforce org as one `X__e` record through the
 * REST API (SALESFORCE.md §5), the way an external system calls back into Salesforce:
 *
 *   POST {tokenUrl}  grant_type=client_credentials&client_id&client_secret
 *                 or grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<RS256 JWT, exp now+3 min>
 *   POST {instanceUrl}/services/data/v{apiVersion}/sobjects/{eventObject}/   Authorization: Bearer <token>
 *        {"Sku__c": "SKU-1", ...}   → 201 {"id": "e01...", "success": true, "errors": [...]}
 *
 * The token is cached for the subscription and shared by its concurrent attempts (one token request at a time).
 * A 401 means the token expired or was revoked (SALESFORCE.md §1: 401 is the refresh signal): within the same
 * attempt the token is dropped, a new one fetched once and the publish retried once. A 403 REQUEST_LIMIT_EXCEEDED
 * is the org's daily API allocation, not an auth failure: it is reported as such and the dispatcher backs off.
 * The attempt's timeout bounds all of its requests together, and its latency covers all of them.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { Agent } from 'node:http';
import { systemClock, type Clock } from '../../util/clock.js';
import { createAgent, postJson, type PostResult } from './http-post.js';
import type { SalesforceOptions } from './salesforce-options.js';
import type { DeliveryTarget, SendOutcome, SendRequest } from './target.js';

export interface PlatformEventTargetOptions {
  /** most requests in flight to each host at once */
  concurrency: number;
  userAgent: string;
  /** wall clock for the JWT's exp and a token's expires_in (tests use a fake) */
  clock?: Clock;
}

/** Salesforce accepts a JWT bearer assertion whose exp is at most 3 minutes ahead (SALESFORCE.md §5) */
const ASSERTION_LIFETIME_S = 180;
/** a token with expires_in is renewed this long before it runs out, not by a 401 in the middle of a publish */
const EXPIRY_MARGIN_MS = 30_000;
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

interface Token {
  accessToken: string;
  /** where to publish: the token response's instance_url when it has one */
  instanceUrl: string;
  expiresAt?: number;
}

interface Failure {
  status: number | null;
  error: string;
}

export function createPlatformEventTarget(options: SalesforceOptions, settings: PlatformEventTargetOptions): DeliveryTarget {
  const clock = settings.clock ?? systemClock;
  if (!Number.isInteger(settings.concurrency) || settings.concurrency < 1) throw new RangeError(`Platform Event concurrency must be an integer of at least 1, not ${settings.concurrency}`);
  // read once: a key that cannot be read is a configuration error, not a failure of every attempt
  const signingKey: KeyObject | undefined = options.auth.grant === 'jwt-bearer' ? createPrivateKey(options.auth.privateKey) : undefined;
  const tokenUrl = new URL(options.tokenUrl);
  // one agent per scheme: the token endpoint and the instance may be different hosts, each with its own limit
  const agents = new Map<string, Agent>();
  const agentFor = (url: URL) => {
    let agent = agents.get(url.protocol);
    if (!agent) agents.set(url.protocol, (agent = createAgent(url, settings.concurrency)));
    return agent;
  };

  let closed = false;
  let token: Token | undefined;
  let tokenRequest: Promise<Token | Failure> | undefined;

  /** The cached token, or a new one; concurrent callers share one request. */
  function ensureToken(timeoutMs: number): Promise<Token | Failure> {
    if (token && (token.expiresAt === undefined || clock.now() < token.expiresAt)) return Promise.resolve(token);
    tokenRequest ??= requestToken(timeoutMs)
      // signing cannot fail with validated options, but a target never throws: it would be a failed attempt
      .catch((err: unknown): Failure => ({ status: null, error: `token request failed: ${(err as Error)?.message ?? err}` }))
      .then((result) => {
        tokenRequest = undefined;
        // a failure is not kept (the next attempt asks again), nor a token that arrives after close()
        if ('accessToken' in result && !closed) token = result;
        return result;
      });
    return tokenRequest;
  }

  async function requestToken(timeoutMs: number): Promise<Token | Failure> {
    const auth = options.auth;
    const form = new URLSearchParams();
    if (auth.grant === 'client_credentials') {
      form.set('grant_type', 'client_credentials');
      form.set('client_id', auth.clientId);
      form.set('client_secret', auth.clientSecret);
    } else {
      const nowS = Math.floor(clock.now() / 1000);
      // loaded on first use: most servers never sign an assertion, and jose costs ~70 ms of start-up
      const { SignJWT } = await import('jose');
      const assertion = await new SignJWT({})
        .setProtectedHeader({ alg: 'RS256' })
        .setIssuer(auth.clientId)
        .setSubject(auth.username)
        .setAudience(auth.audience)
        .setExpirationTime(nowS + ASSERTION_LIFETIME_S)
        .sign(signingKey!);
      form.set('grant_type', JWT_BEARER);
      form.set('assertion', assertion);
    }
    const result = await postJson(
      agentFor(tokenUrl),
      tokenUrl,
      form.toString(),
      { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'user-agent': settings.userAgent },
      timeoutMs,
    );
    const body = parseJson(result.body) as Record<string, unknown> | undefined;
    if (result.status !== 200 || typeof body?.access_token !== 'string' || !body.access_token) {
      return { status: result.status, error: `token request failed: ${tokenFailure(result, body)}` };
    }
    const expiresIn = Number(body.expires_in);
    return {
      accessToken: body.access_token,
      instanceUrl: baseUrl(body.instance_url) ?? options.instanceUrl,
      expiresAt: Number.isFinite(expiresIn) && expiresIn > 0 ? clock.now() + expiresIn * 1000 - EXPIRY_MARGIN_MS : undefined,
    };
  }

  function publish(current: Token, body: string, timeoutMs: number): Promise<PostResult> {
    const url = new URL(`${current.instanceUrl}/services/data/v${options.apiVersion}/sobjects/${options.eventObject}/`);
    return postJson(
      agentFor(url),
      url,
      body,
      { authorization: `Bearer ${current.accessToken}`, accept: 'application/json', 'user-agent': settings.userAgent },
      timeoutMs,
    );
  }

  return {
    async send(request: SendRequest): Promise<SendOutcome> {
      const started = performance.now();
      const remaining = () => request.timeoutMs - (performance.now() - started);
      const finish = (outcome: Omit<SendOutcome, 'latencyMs'>): SendOutcome => ({ ...outcome, latencyMs: performance.now() - started });
      try {
        const body = JSON.stringify(eventFields(options.fields, request.event));
        let current = await ensureToken(remaining());
        if (!('accessToken' in current)) return finish(current);
        let result = await publish(current, body, remaining());
        if (result.status === 401) {
          // another attempt may have replaced the token already; only the one refused is dropped
          if (token === current) token = undefined;
          current = await ensureToken(remaining());
          if (!('accessToken' in current)) return finish(current);
          result = await publish(current, body, remaining());
        }
        return finish(publishOutcome(result));
      } catch (err) {
        // nothing above should throw; if something does, it is this attempt's failure, not the dispatcher's
        return finish({ status: null, error: (err as Error)?.message ?? String(err) });
      }
    },
    close() {
      closed = true;
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
      token = undefined;
    },
  };
}

/**
 * The publish body: each field's value from its dotted path into the event (array items by index); a path that
 * leads nowhere gives null. Event fields hold scalars, so an object or array is sent as its JSON text (for a
 * Long Text Area field taking the whole `data`) rather than refused by the org.
 */
export function eventFields(fields: Record<string, string>, event: SendRequest['event']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, path] of Object.entries(fields)) {
    let value: unknown = event;
    for (const key of path.split('.')) {
      value = value !== null && typeof value === 'object' && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
      if (value === undefined) break;
    }
    out[name] = value === undefined ? null : value !== null && typeof value === 'object' ? JSON.stringify(value) : value;
  }
  return out;
}

function publishOutcome(result: PostResult): Omit<SendOutcome, 'latencyMs'> {
  const outcome: Omit<SendOutcome, 'latencyMs'> = { status: result.status };
  if (result.retryAfterMs !== undefined) outcome.retryAfterMs = result.retryAfterMs;
  if (result.status === null || result.error) return { ...outcome, error: result.error ?? 'no response' };
  const body = parseJson(result.body);
  if (result.status >= 200 && result.status < 300) {
    if ((body as { success?: unknown } | undefined)?.success === true) return outcome;
    return { ...outcome, error: `publish not confirmed: ${describeErrors(body) ?? 'the answer has no "success": true'}` };
  }
  // the dispatcher recognises the daily-limit answer by this exact error, so it carries nothing else
  const first = Array.isArray(body) ? (body[0] as { errorCode?: unknown } | undefined) : undefined;
  if (first?.errorCode === 'REQUEST_LIMIT_EXCEEDED') return { ...outcome, error: 'REQUEST_LIMIT_EXCEEDED' };
  return { ...outcome, error: describeErrors(body) ?? `HTTP ${result.status}` };
}

/** Salesforce's error answers: [{"errorCode": "...", "message": "..."}] (or "errors" inside a publish result). */
function describeErrors(body: unknown): string | undefined {
  const list = Array.isArray(body) ? body : (body as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(list)) return undefined;
  const parts = list
    .filter((e): e is Record<string, unknown> => e !== null && typeof e === 'object')
    .map((e) => [e.errorCode ?? e.statusCode, e.message].filter((p) => typeof p === 'string' && p).join(': '))
    .filter(Boolean);
  return parts.length ? parts.join('; ') : undefined;
}

function tokenFailure(result: PostResult, body: Record<string, unknown> | undefined): string {
  if (result.status === null) return result.error ?? 'no response';
  if (result.error) return `${result.status} ${result.error}`;
  if (result.status === 200) return '200 without an access_token';
  const error = typeof body?.error === 'string' ? body.error : undefined;
  const description = typeof body?.error_description === 'string' ? body.error_description : undefined;
  return [String(result.status), [error, description].filter(Boolean).join(': ')].filter(Boolean).join(' ');
}

/** An http(s) URL from a token response, as a base to append paths to; undefined when it is not one. */
function baseUrl(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return undefined;
  }
}

function parseJson(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
