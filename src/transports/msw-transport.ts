/**
 * The traffic path for requests that never leave the process: a Fetch API Request, as msw hands it to a request
 * handler, becomes the Exchange node-http.ts would have built from the same request on a socket, goes through the
 * same Engine, and comes back as a Fetch API Response (msw.ts wraps this in msw handlers). Only Fetch API types are
 * used here, no msw import: msw takes any Response, and `Response.error()` is its network error.
 *
 * It behaves as node-http.ts does wherever a test can tell: the workspace from /w/{name}, the body read within
 * limits.bodyBytes (past it the engine answers 413), the reply held for injected latency through the Scheduler
 * (so a ManualScheduler or vitest's fake timers drive it), streamed bodies streamed, and the exchange completed
 * with what was "sent" so that the journal reads as it would over HTTP (same texts for what went wrong).
 *
 * What a chaos Disruption becomes, since there is no socket to break:
 *   reset, close  a network error (Response.error(): fetch rejects with a TypeError)
 *   hang          held for its ms through the Scheduler, then a network error; sooner if the request's signal
 *                 aborts (fetch then rejects with the abort reason, as it would over HTTP)
 *   truncate      status, headers and Content-Length as normal, half the body, then the body stream errors
 *                 (reading it rejects with TypeError "terminated", what undici says when a connection drops)
 *   slow          the body dripped at bytesPerSecond through the Scheduler
 * A client that aborts while its reply is held is journaled as one that closed its connection.
 */
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import type { Disruption, Exchange, Reply } from '../engine/exchange.js';
import type { Delivered, Engine } from '../engine/pipeline.js';
import { problemReply } from '../engine/problem.js';
import type { Workspaces } from '../engine/workspace.js';
import type { Scheduler, Timer } from '../util/scheduler.js';

export interface FetchTransportOptions {
  engine: Engine;
  workspaces: Workspaces;
  scheduler: Scheduler;
}

/** Where a request's URL leads: what follows `basePath` on `origin` is served at `mount` + the rest. */
export interface FetchRoute {
  /** scheme://host[:port], lower case as URL writes it */
  origin: string;
  /** the base URL's path without a trailing slash: '' or e.g. '/api' */
  basePath: string;
  /** what the rest of the path is served under: '' (the server's own paths) or a contract's mount */
  mount: string;
  /** whether /w/{name} right after the base picks a workspace (only where the base stands for the whole server) */
  workspaces: boolean;
}

/** Whether `url` is under `route` (the same origin, and the base path followed by nothing, / or the end). */
export function routeMatches(route: FetchRoute, url: URL): boolean {
  if (url.origin !== route.origin) return false;
  const path = url.pathname;
  if (!path.startsWith(route.basePath)) return false;
  return path.length === route.basePath.length || path.charCodeAt(route.basePath.length) === 47 /* / */;
}

/** Answers Fetch API requests with the engine. */
export class FetchTransport {
  private readonly engine: Engine;
  private readonly workspaces: Workspaces;
  private readonly scheduler: Scheduler;

  constructor({ engine, workspaces, scheduler }: FetchTransportOptions) {
    this.engine = engine;
    this.workspaces = workspaces;
    this.scheduler = scheduler;
  }

  /** The Response for `request`, which the caller has matched to `route` (routeMatches). */
  async answer(request: Request, route: FetchRoute): Promise<Response> {
    const arrived = this.scheduler.now();
    const url = new URL(request.url);
    let path = url.pathname.slice(route.basePath.length);

    let workspace = this.workspaces.default;
    let prefix = '';
    if (route.workspaces && path.startsWith('/w/')) {
      const end = path.indexOf('/', 3);
      const name = end < 0 ? path.slice(3) : path.slice(3, end);
      const found = this.workspaces.lookup(name);
      if ('error' in found) {
        return answerUnjournaled(
          found.error === 'invalid-name'
            ? problemReply(400, 'bad-workspace-name', `${JSON.stringify(name.slice(0, 60))} is not a workspace name: use 1-40 letters, digits and - (any case: UAT is uat; nothing percent-encoded).`)
            : problemReply(429, 'workspace-limit', `The server already holds ${this.workspaces.limit} workspaces; raise limits.workspaces (config) or use fewer workspace names.`),
        );
      }
      workspace = found.workspace;
      prefix = path.slice(0, end < 0 ? path.length : end);
      path = end < 0 ? '/' : path.slice(end);
    }
    if (route.workspaces && (path === '/__admin' || path.startsWith('/__admin/'))) {
      return answerUnjournaled(
        problemReply(404, 'admin-not-through-msw', 'The admin API is not served through msw: use the handle understudyHandlers() returned (journal(), entry(), setProfile(), reset(), understudy).'),
      );
    }
    path = route.mount + path;
    if (path === '') path = '/';

    const { headers, rawHeaders } = headersOf(request, url);
    const fields = {
      workspace,
      prefix,
      method: request.method,
      path,
      rawQuery: url.search.slice(1),
      headers,
      rawHeaders,
      body: undefined as Buffer | undefined,
      remoteAddress: '127.0.0.1',
      secure: url.protocol === 'https:',
    };
    const read = await readBody(request, this.engine.limits.bodyBytes);
    if (read === 'aborted') return Response.error();
    let exchange: Exchange;
    if (read === 'too-large') exchange = this.engine.start({ ...fields, bodyProblem: 'too-large' });
    else {
      // a body on the wire carries its length; fetch adds it below the Request object, so add it here
      if (read !== undefined && headers['content-length'] === undefined) {
        headers['content-length'] = String(read.length);
        rawHeaders.push('content-length', String(read.length));
      }
      exchange = this.engine.start({ ...fields, body: read });
    }
    return this.respond(exchange, request.signal, arrived);
  }

  /** Runs the pipeline, holds the reply for injected latency, then delivers it. */
  private async respond(exchange: Exchange, signal: AbortSignal, arrived: number): Promise<Response> {
    let reply: Reply;
    try {
      reply = await this.engine.handle(exchange);
    } catch (err) {
      reply = problemReply(500, 'internal', `understudy failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    const wait = exchange.delayMs - (this.scheduler.now() - arrived);
    if (wait > 0) {
      // as on a socket: a client that gives up first ends the exchange, and the journal shows how long it waited
      const waited = await hold(this.scheduler, wait, signal);
      if (!waited) {
        this.engine.complete(exchange, NO_RESPONSE, { bytes: 0, body: undefined, error: `the client closed the connection while the reply was held (for ${exchange.delayMs} ms of latency or execution time in all)` });
        return Response.error();
      }
    }
    return this.send(exchange, reply, signal);
  }

  private send(exchange: Exchange, reply: Reply, signal: AbortSignal): Response | Promise<Response> {
    const engine = this.engine;
    if (signal.aborted) {
      engine.complete(exchange, NO_RESPONSE, { bytes: 0, body: undefined, error: 'client closed the connection before the reply' });
      return Response.error();
    }
    if (reply.disruption) return this.disrupt(exchange, reply, reply.disruption, signal);
    const body = reply.body;
    if (exchange.method === 'HEAD' || body === undefined || NULL_BODY_STATUS.has(reply.status)) {
      return deliver(engine, exchange, reply, null, { bytes: 0, body: undefined });
    }
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      // a string goes as bytes: Response would otherwise add a text/plain content-type of its own
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      return deliver(engine, exchange, reply, bytes, { bytes: bytes.length, body });
    }
    const once = completer(engine, exchange, reply);
    const streamed = streamOf(body, engine.limits.journalBodyBytes, once);
    return toResponse(reply, streamed, () => once({ bytes: 0, body: undefined, error: 'the reply could not be written' }));
  }

  /** Delivers a reply badly, as a chaos fault asked; journals what the client actually got. */
  private async disrupt(exchange: Exchange, reply: Reply, disruption: Disruption, signal: AbortSignal): Promise<Response> {
    const engine = this.engine;
    const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : Buffer.isBuffer(reply.body) ? reply.body : Buffer.alloc(0);
    const none = (error: string): Response => {
      engine.complete(exchange, NO_RESPONSE, { bytes: 0, body: undefined, error });
      return Response.error();
    };
    const lengthed = { ...reply, headers: { ...reply.headers, 'content-length': body.length } };
    switch (disruption.kind) {
      case 'reset':
        return none('reset (TCP RST) instead of a response');
      case 'close':
        return none('closed without a response');
      case 'hang': {
        const waited = await hold(this.scheduler, disruption.ms, signal);
        return none(waited ? `held ${disruption.ms} ms, then closed without a response` : 'held without a response until the client gave up');
      }
      case 'truncate': {
        const sent = body.subarray(0, Math.floor(body.length / 2));
        const cut = new ReadableStream<Uint8Array>({
          start(controller) {
            if (sent.length) controller.enqueue(new Uint8Array(sent));
            controller.error(new TypeError('terminated', { cause: new Error(`other side closed: understudy's chaos cut the body after ${sent.length} of ${body.length} bytes`) }));
          },
        });
        engine.complete(exchange, reply, { bytes: sent.length, body: sent, error: `closed after ${sent.length} of ${body.length} body bytes` });
        return toResponse(lengthed, cut, null);
      }
      case 'slow': {
        const once = completer(engine, exchange, reply);
        return toResponse(lengthed, drip(body, disruption.bytesPerSecond, this.scheduler, signal, once), () => once({ bytes: 0, body: undefined, error: 'the reply could not be written' }));
      }
    }
  }
}

const NO_RESPONSE: Reply = { status: 0, headers: {} };

/** statuses whose responses have no body (the Response constructor refuses one) */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/** The request's headers as node would give them: lower-case names, a Host, and the raw name/value list. */
function headersOf(request: Request, url: URL): { headers: IncomingHttpHeaders; rawHeaders: string[] } {
  const headers: IncomingHttpHeaders = {};
  const rawHeaders: string[] = [];
  // fetch adds Host below the Request object; a server always sees one (base-url.ts builds links from it)
  if (!request.headers.has('host')) {
    headers.host = url.host;
    rawHeaders.push('host', url.host);
  }
  // Headers yields lower-case names with repeated values already joined by ", ", as node joins them
  for (const [name, value] of request.headers) {
    headers[name] = value;
    rawHeaders.push(name, value);
  }
  return { headers, rawHeaders };
}

/**
 * The request body within `limit` bytes: undefined when there is none (or it is empty: a Content-Length of 0 is
 * no body to node-http either), 'too-large' past the limit (the rest is not read), 'aborted' when the client gave up.
 */
async function readBody(request: Request, limit: number): Promise<Buffer | undefined | 'too-large' | 'aborted'> {
  if (request.body === null) return undefined;
  const declared = request.headers.get('content-length');
  // the rest is not read; not awaited: cancelling a request body msw holds settles only once msw lets it go
  if (declared !== null && Number(declared) > limit) {
    request.body.cancel().catch(() => undefined);
    return 'too-large';
  }
  const reader = request.body.getReader();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        reader.cancel().catch(() => undefined);
        return 'too-large';
      }
      chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    }
  } catch {
    return 'aborted';
  }
  return size === 0 ? undefined : Buffer.concat(chunks, size);
}

/** Waits `ms` through the scheduler; false when `signal` aborted first. */
function hold(scheduler: Scheduler, ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const gaveUp = () => {
      timer.cancel();
      resolve(false);
    };
    const timer = scheduler.after(ms, () => {
      signal.removeEventListener('abort', gaveUp);
      resolve(true);
    });
    signal.addEventListener('abort', gaveUp, { once: true });
  });
}

/** engine.complete, once: a stream can end, fail and be cancelled, and only the first of those is what happened */
function completer(engine: Engine, exchange: Exchange, reply: Reply): (delivered: Delivered) => void {
  let done = false;
  return (delivered) => {
    if (done) return;
    done = true;
    engine.complete(exchange, reply, delivered);
  };
}

/** Completes the exchange and answers: a whole body, or none. */
function deliver(engine: Engine, exchange: Exchange, reply: Reply, body: Buffer | null, delivered: Delivered): Response {
  let response: Response;
  try {
    response = buildResponse(reply, body === null ? null : new Uint8Array(body.buffer, body.byteOffset, body.length));
  } catch (err) {
    engine.complete(exchange, NO_RESPONSE, { bytes: 0, body: undefined, error: `the reply could not be written: ${err instanceof Error ? err.message : String(err)}` });
    return Response.error();
  }
  engine.complete(exchange, reply, delivered);
  return response;
}

/** A reply given before any exchange began (a bad workspace name), which node-http does not journal either. */
function answerUnjournaled(reply: Reply): Response {
  return buildResponse(reply, typeof reply.body === 'string' ? Buffer.from(reply.body) : null);
}

/** A Response for a reply whose exchange is completed elsewhere; a reply fetch cannot express becomes a network error. */
function toResponse(reply: Reply, body: ReadableStream<Uint8Array> | null, failed: (() => void) | null): Response {
  try {
    return buildResponse(reply, body);
  } catch {
    failed?.();
    return Response.error();
  }
}

function buildResponse(reply: Reply, body: Uint8Array | ReadableStream<Uint8Array> | null): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(reply.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, String(value));
  }
  return new Response(body, { status: reply.status, statusText: STATUS_CODES[reply.status] ?? '', headers });
}

/** A streamed reply body as a ReadableStream read on demand (backpressure); keeps the first `keep` bytes for the journal. */
function streamOf(chunks: AsyncIterable<string | Buffer>, keep: number, finish: (delivered: Delivered) => void): ReadableStream<Uint8Array> {
  const iterator = chunks[Symbol.asyncIterator]();
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let bytes = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (next.done) {
          controller.close();
          finish({ bytes, body: Buffer.concat(kept) });
          return;
        }
        const buf = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
        bytes += buf.length;
        if (keptBytes < keep) {
          kept.push(buf.subarray(0, keep - keptBytes));
          keptBytes += Math.min(buf.length, keep - keptBytes);
        }
        controller.enqueue(new Uint8Array(buf.buffer, buf.byteOffset, buf.length));
      } catch (err) {
        // headers are gone already: the honest signal left is a body that fails, as a cut connection's does
        controller.error(new TypeError('terminated', { cause: err }));
        finish({ bytes, body: Buffer.concat(kept), error: `stream failed: ${err instanceof Error ? err.message : String(err)}` });
      }
    },
    cancel() {
      void iterator.return?.();
      finish({ bytes, body: Buffer.concat(kept), error: 'client closed the connection during the body' });
    },
  });
}

/** `body` dripped at `bytesPerSecond`, a tenth of a second's worth at a time, as node-http drips it. */
function drip(body: Buffer, bytesPerSecond: number, scheduler: Scheduler, signal: AbortSignal, finish: (delivered: Delivered) => void): ReadableStream<Uint8Array> {
  const step = Math.max(1, Math.round(bytesPerSecond / 10));
  let at = 0;
  let timer: Timer | undefined;
  const gaveUp = () => {
    timer?.cancel();
    if (at < body.length) finish({ bytes: Math.min(at, body.length), body: body.subarray(0, at), error: 'client closed the connection during a slow body' });
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (body.length === 0) {
        controller.close();
        finish({ bytes: 0, body });
        return;
      }
      const aborted = () => {
        gaveUp();
        controller.error(signal.reason);
      };
      const next = () => {
        if (signal.aborted) return;
        controller.enqueue(new Uint8Array(body.subarray(at, at + step)));
        at += step;
        if (at >= body.length) {
          signal.removeEventListener('abort', aborted);
          controller.close();
          finish({ bytes: body.length, body });
        } else timer = scheduler.after((step / bytesPerSecond) * 1000, next);
      };
      signal.addEventListener('abort', aborted, { once: true });
      next();
    },
    cancel: gaveUp,
  });
}
