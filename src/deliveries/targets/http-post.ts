/**
 * One HTTP POST to a receiver we do not control, on node:http / node:https rather than fetch: fetch follows
 * redirects, buffers whole bodies and hides sockets, and a delivery needs the opposite on each point. A receiver
 * may be slow, silent, reset the connection, answer garbage or a body of any size, and none of that may cost the
 * server memory, sockets or an exception:
 *
 * - one deadline of `timeoutMs` covers connecting (DNS, TCP, TLS) and the whole response; when it passes the
 *   request and its socket are destroyed and the result is error "timeout". The deadline starts when the request
 *   gets its socket, so time spent waiting in the agent's queue (the subscription's concurrency is used up) is
 *   not blamed on the receiver; latency is still counted from the call.
 * - at most 64 KB of the response body is kept; past that the response is destroyed and the rest never read.
 * - redirects are not followed (a webhook's URL is the one the subscriber registered): a 3xx comes back as is,
 *   with error `redirect to <location> not followed`.
 * - no response at all gives status null and the error's code (ECONNREFUSED, ECONNRESET, HPE_INVALID_CONSTANT ...).
 * - Retry-After (delay-seconds or an HTTP-date, RFC 9110 §10.2.3) is returned in ms.
 *
 * The promise always resolves; it never rejects.
 */
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';

/** the most of a response body that is kept (enough for any error message a receiver writes) */
export const MAX_RESPONSE_BODY_BYTES = 64 * 1024;
/**
 * idle keep-alive sockets are closed after this long: below the 5 s keep-alive timeout servers commonly default
 * to (Node's among them), so that we rarely reuse a socket the receiver is just closing. A receiver's own
 * `Keep-Alive: timeout=N` hint is honoured by Node's agent when it is shorter.
 */
const IDLE_SOCKET_MS = 4_000;

export interface PostResult {
  /** the receiver's status, null when no complete response arrived */
  status: number | null;
  /** from the call to the result, in ms */
  latencyMs: number;
  /** why it is not a plain answer: "timeout", an error code, or "redirect to ... not followed" */
  error?: string;
  /** the receiver's Retry-After, in ms */
  retryAfterMs?: number;
  headers?: IncomingHttpHeaders;
  /** the response body as UTF-8 text, cut at MAX_RESPONSE_BODY_BYTES */
  body?: string;
}

/** A keep-alive agent for `url`'s scheme that opens at most `maxSockets` connections per host. */
export function createAgent(url: URL, maxSockets: number): http.Agent {
  if (!Number.isInteger(maxSockets) || maxSockets < 1) throw new RangeError(`maxSockets must be an integer of at least 1, not ${maxSockets}`);
  const options: http.AgentOptions = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, timeout: IDLE_SOCKET_MS, scheduling: 'lifo' };
  if (url.protocol === 'https:') return new https.Agent(options);
  if (url.protocol === 'http:') return new http.Agent(options);
  throw new TypeError(`${url.href} is not an http: or https: URL`);
}

/**
 * POSTs `body` to `url` through `agent` (from createAgent, same scheme). Content-Type defaults to JSON;
 * `headers` may replace it. Resolves with what happened, never rejects.
 */
export function postJson(agent: http.Agent, url: URL, body: string, headers: OutgoingHttpHeaders, timeoutMs: number): Promise<PostResult> {
  const started = performance.now();
  return new Promise<PostResult>((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (result: Omit<PostResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, latencyMs: performance.now() - started });
    };
    if (!(timeoutMs > 0)) return settle({ status: null, error: 'timeout' });

    const payload = Buffer.from(body, 'utf8');
    const hasType = Object.keys(headers).some((name) => name.toLowerCase() === 'content-type');
    let req: http.ClientRequest;
    try {
      const send = url.protocol === 'https:' ? https.request : http.request;
      req = send(url, {
        method: 'POST',
        agent,
        headers: { ...(hasType ? {} : { 'content-type': 'application/json; charset=utf-8' }), ...headers, 'content-length': payload.length },
      });
    } catch (err) {
      // thrown synchronously for bad input: a header value with a newline, a URL the agent cannot serve
      return settle({ status: null, error: errorName(err) });
    }

    req.once('socket', () => {
      // (capped: setTimeout fires at once for more than 2^31-1 ms)
      timer = setTimeout(() => {
        settle({ status: null, error: 'timeout' });
        // destroying the request destroys its socket: a silent receiver keeps nothing of ours open
        req.destroy();
      }, Math.min(timeoutMs, 2 ** 31 - 1));
    });
    req.on('error', (err) => settle({ status: null, error: errorName(err) }));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      const finish = () => {
        const status = res.statusCode ?? null;
        const result: Omit<PostResult, 'latencyMs'> = { status, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
        if (status !== null && status >= 300 && status < 400) result.error = `redirect to ${res.headers.location ?? '(no Location header)'} not followed`;
        const retryAfterMs = parseRetryAfter(res.headers['retry-after'], Date.now());
        if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
        settle(result);
      };
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        const room = MAX_RESPONSE_BODY_BYTES - kept;
        if (chunk.length <= room) {
          chunks.push(chunk);
          kept += chunk.length;
          return;
        }
        chunks.push(chunk.subarray(0, room));
        kept += room;
        // enough to know what the receiver said; reading the rest would only cost time and bandwidth
        finish();
        res.destroy();
      });
      res.on('end', finish);
      // the connection went away in the middle of the body: the answer is incomplete, so there is none
      res.on('error', (err) => settle({ status: null, error: errorName(err) }));
      res.on('close', () => settle({ status: null, error: 'ECONNRESET' }));
    });
    req.on('close', () => settle({ status: null, error: 'ECONNRESET' }));
    req.end(payload);
  });
}

/**
 * Retry-After as ms from `nowMs`: delay-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT"; a date
 * in the past means now). Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // every HTTP-date form starts with the day of the week; this refuses "-5" or "1.5", which Date.parse would take
  if (!/^[A-Za-z]{3,9},? /.test(text)) return undefined;
  // HTTP-dates are always GMT; the asctime form does not say so and Date.parse would read it as local time
  const at = Date.parse(/GMT$/.test(text) ? text : `${text} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

function errorName(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string') return e.code;
  return typeof e?.message === 'string' ? e.message : String(err);
}
