/**
 * The traffic path on bare node:http (express costs ~85% of throughput here; see DESIGN.md). This file only
 * translates between sockets and the engine: pick the workspace from /w/{name}, hand /__admin to the admin app,
 * read the body within the size limit, take turns fairly under load (turn-queue.ts), run the pipeline, hold the
 * reply for injected latency, write it (streamed with backpressure, or broken on purpose when a chaos fault set
 * Reply.disruption), and tell the engine when the last byte left so it can journal the exchange. On HTTPS it also
 * hands on the client certificate the connection presented (mutual TLS), read once per connection.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { ClientCertificate, Disruption, Exchange, Reply } from '../engine/exchange.js';
import type { Engine } from '../engine/pipeline.js';
import { problemReply } from '../engine/problem.js';
import type { Workspace, Workspaces } from '../engine/workspace.js';
import type { Scheduler } from '../util/scheduler.js';
import { TurnQueue } from './turn-queue.js';

export type AdminListener = (req: IncomingMessage, res: ServerResponse, workspace: Workspace) => void;

export interface TrafficOptions {
  engine: Engine;
  workspaces: Workspaces;
  admin: AdminListener;
  /** true once shutdown began: replies then close their connection instead of keeping it alive */
  draining?: () => boolean;
  /** waits for held connections and dripped bodies (chaos) */
  scheduler: Scheduler;
}

export function createTrafficListener({ engine, workspaces, admin, draining, scheduler }: TrafficOptions): RequestListener & { connection(): void } {
  const { bodyBytes: bodyLimit, journalBodyBytes: journalBodyLimit } = engine.limits;
  const traffic: TrafficPath = { engine, scheduler, draining, journalBodyLimit };
  // a bounded number of requests per event-loop turn, so new connections are accepted under load (turn-queue.ts)
  const turns = new TurnQueue<Pending>((p) => respond(traffic, p.exchange, p.res, p.arrived));
  const admit = (exchange: Exchange, res: ServerResponse, arrived: number) => turns.admit({ exchange, res, arrived });

  const listener: RequestListener = (req, res) => {
    const arrived = scheduler.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let path = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);

    let workspace = workspaces.default;
    let prefix = '';
    if (path.startsWith('/w/')) {
      const end = path.indexOf('/', 3);
      const name = end < 0 ? path.slice(3) : path.slice(3, end);
      const found = workspaces.lookup(name);
      if ('error' in found) {
        const reply =
          found.error === 'invalid-name'
            ? problemReply(400, 'bad-workspace-name', `${JSON.stringify(name.slice(0, 60))} is not a workspace name: use 1-40 letters, digits and - (any case: UAT is uat; nothing percent-encoded).`)
            : problemReply(429, 'workspace-limit', `The server already holds ${workspaces.limit} workspaces; delete one (DELETE /w/{name}/__admin/workspace) or raise limits.workspaces.`);
        return sendAndDrain(req, res, reply);
      }
      workspace = found.workspace;
      prefix = path.slice(0, end < 0 ? path.length : end);
      path = end < 0 ? '/' : path.slice(end);
    }

    if (path === '/__admin' || path.startsWith('/__admin/')) {
      req.url = q < 0 ? path : path + url.slice(q);
      return admin(req, res, workspace);
    }
    if (path.charCodeAt(0) !== 47 /* / */) {
      return sendAndDrain(req, res, problemReply(400, 'bad-request-target', 'The request target must be a path starting with /.'));
    }

    const fields = {
      workspace,
      prefix,
      method: req.method ?? 'GET',
      path,
      rawQuery,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: undefined as Buffer | undefined,
      remoteAddress: req.socket.remoteAddress ?? '',
      // plain HTTP pays for this check only
      secure: (req.socket as Socket & { encrypted?: boolean }).encrypted === true,
      clientCertificate: undefined as ClientCertificate | undefined,
    };
    if (fields.secure) fields.clientCertificate = clientCertificateOf(req.socket as TLSSocket);

    const declared = req.headers['content-length'];
    const hasBody = declared !== undefined ? declared !== '0' : req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) return admit(engine.start(fields), res, arrived);
    if (declared !== undefined && Number(declared) > bodyLimit) {
      return admit(engine.start({ ...fields, bodyProblem: 'too-large' }), res, arrived);
    }

    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > bodyLimit) {
        req.off('data', onData);
        req.off('end', onEnd);
        admit(engine.start({ ...fields, bodyProblem: 'too-large' }), res, arrived);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => admit(engine.start({ ...fields, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size) }), res, arrived);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', () => undefined); // an aborted upload has nobody to answer
  };
  // the server calls this on every accepted connection: turns shorten while clients queue up to connect
  return Object.assign(listener, { connection: () => turns.connection() });
}

/**
 * The certificate a TLS connection presented, reduced to what the engine uses; null when it presented none. Once
 * per connection: a keep-alive connection carries many requests, and its certificate is settled by the handshake.
 */
const certificates = new WeakMap<TLSSocket, ClientCertificate | null>();

function clientCertificateOf(socket: TLSSocket): ClientCertificate | undefined {
  let known = certificates.get(socket);
  if (known === undefined) {
    known = readCertificate(socket);
    certificates.set(socket, known);
  }
  return known ?? undefined;
}

function readCertificate(socket: TLSSocket): ClientCertificate | null {
  // {} (or null, on a socket already torn down) when the client sent no certificate
  const cert = socket.getPeerCertificate() as PeerCertificate | null;
  if (!cert || Object.keys(cert).length === 0) return null;
  const subject = (cert.subject ?? {}) as unknown as Record<string, string | string[] | undefined>;
  const cn = subject.CN;
  return {
    subjectCN: (Array.isArray(cn) ? cn[0] : cn) ?? '',
    subject: Object.entries(subject)
      .flatMap(([name, value]) => (value === undefined ? [] : (Array.isArray(value) ? value : [value]).map((v) => `${name}=${v}`)))
      .join(', '),
    validTo: Date.parse(cert.valid_to),
    fingerprint256: cert.fingerprint256 ?? '',
    authorized: socket.authorized,
  };
}

/** A request read and waiting for its turn (turn-queue.ts). */
interface Pending {
  exchange: Exchange;
  res: ServerResponse;
  arrived: number;
}

/** What every request's delivery needs; one per server (module functions below, no per-request closures). */
interface TrafficPath {
  engine: Engine;
  scheduler: Scheduler;
  draining?: () => boolean;
  journalBodyLimit: number;
}

/** Runs the pipeline, then holds the reply until the injected latency (exchange.delayMs) has passed since arrival. */
function respond(t: TrafficPath, exchange: Exchange, res: ServerResponse, arrived: number): void {
  let handled: Reply | Promise<Reply>;
  try {
    handled = t.engine.handle(exchange);
  } catch (err) {
    handled = Promise.reject(err);
  }
  if (!(handled instanceof Promise)) return deliver(t, exchange, res, arrived, handled);
  handled.then(
    (reply) => deliver(t, exchange, res, arrived, reply),
    (err) => send(t, exchange, res, problemReply(500, 'internal', `understudy failed: ${err instanceof Error ? err.message : String(err)}`)),
  );
}

function deliver(t: TrafficPath, exchange: Exchange, res: ServerResponse, arrived: number, reply: Reply): void {
  const wait = exchange.delayMs - (t.scheduler.now() - arrived);
  if (wait <= 0) return send(t, exchange, res, reply);
  // held (injected latency, a slow payment's execution time): a client that gives up first ends the exchange when
  // it closes the connection, with nothing written, so the journal shows how long the client waited (what a
  // timeout check judges), not when the reply would have been ready
  const held = t.scheduler.after(wait, () => {
    res.off('close', abandoned);
    send(t, exchange, res, reply);
  });
  const abandoned = () => {
    held.cancel();
    t.engine.complete(exchange, NO_RESPONSE, { bytes: 0, body: undefined, error: `the client closed the connection while the reply was held (for ${exchange.delayMs} ms of latency or execution time in all)` });
  };
  res.once('close', abandoned);
}

function send(t: TrafficPath, exchange: Exchange, res: ServerResponse, reply: Reply): void {
  const { engine } = t;
  const body = reply.body;
  if (res.destroyed) {
    engine.complete(exchange, NO_RESPONSE, { bytes: 0, body: undefined, error: 'client closed the connection before the reply' });
    return;
  }
  if (reply.disruption) {
    disrupt(res, reply, reply.disruption, t.scheduler).then((delivered) => engine.complete(exchange, delivered.reply, delivered));
    return;
  }
  if (t.draining?.()) res.shouldKeepAlive = false;
  res.writeHead(reply.status, reply.headers as Record<string, string | number | string[]>);
  if (exchange.method === 'HEAD' || body === undefined) {
    res.end();
    engine.complete(exchange, reply, { bytes: 0, body: undefined });
  } else if (typeof body === 'string' || Buffer.isBuffer(body)) {
    res.end(body);
    engine.complete(exchange, reply, { bytes: typeof body === 'string' ? Buffer.byteLength(body) : body.length, body });
  } else {
    pipeStream(res, body, t.journalBodyLimit).then((done) => engine.complete(exchange, reply, done));
  }
}

/** Writes a streamed body with backpressure; keeps the first `keep` bytes for the journal. */
async function pipeStream(
  res: ServerResponse,
  chunks: AsyncIterable<string | Buffer>,
  keep: number,
): Promise<{ bytes: number; body: Buffer; error?: string }> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let bytes = 0;
  try {
    for await (const chunk of chunks) {
      if (res.destroyed) return { bytes, body: Buffer.concat(kept), error: 'client closed the connection during the body' };
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      bytes += buf.length;
      if (keptBytes < keep) {
        kept.push(buf.subarray(0, keep - keptBytes));
        keptBytes += Math.min(buf.length, keep - keptBytes);
      }
      if (!res.write(buf)) await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
    res.end();
    return { bytes, body: Buffer.concat(kept) };
  } catch (err) {
    // headers are gone already: the only honest signal left is to cut the connection
    res.destroy();
    return { bytes, body: Buffer.concat(kept), error: `stream failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

const NO_RESPONSE: Reply = { status: 0, headers: {} };

/**
 * Delivers a reply badly, as a chaos fault asked (see Disruption). Resolves with what the client actually got, for
 * the journal: status 0 when no response was written at all.
 */
function disrupt(res: ServerResponse, reply: Reply, disruption: Disruption, scheduler: Scheduler): Promise<{ reply: Reply; bytes: number; body: Buffer | undefined; error?: string }> {
  const socket = res.socket;
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : Buffer.isBuffer(reply.body) ? reply.body : Buffer.alloc(0);
  const none = (error: string) => ({ reply: NO_RESPONSE, bytes: 0, body: undefined, error });
  if (!socket) return Promise.resolve(none('connection already gone'));
  switch (disruption.kind) {
    case 'reset':
      socket.resetAndDestroy();
      return Promise.resolve(none('reset (TCP RST) instead of a response'));
    case 'close':
      socket.end();
      return Promise.resolve(none('closed without a response'));
    case 'hang':
      return new Promise((resolve) => {
        const timer = scheduler.after(disruption.ms, () => {
          socket.end();
          resolve(none(`held ${disruption.ms} ms, then closed without a response`));
        });
        socket.once('close', () => {
          timer.cancel();
          resolve(none('held without a response until the client gave up'));
        });
      });
    case 'truncate': {
      const sent = body.subarray(0, Math.floor(body.length / 2));
      res.writeHead(reply.status, { ...reply.headers, 'content-length': body.length } as Record<string, string | number>);
      res.write(sent);
      socket.end();
      return Promise.resolve({ reply, bytes: sent.length, body: sent, error: `closed after ${sent.length} of ${body.length} body bytes` });
    }
    case 'slow':
      return new Promise((resolve) => {
        const step = Math.max(1, Math.round(disruption.bytesPerSecond / 10));
        let at = 0;
        let timer = { cancel: () => undefined } as { cancel(): void };
        res.writeHead(reply.status, { ...reply.headers, 'content-length': body.length } as Record<string, string | number>);
        const drip = () => {
          if (res.destroyed) return;
          res.write(body.subarray(at, at + step));
          at += step;
          if (at >= body.length) {
            res.end();
            resolve({ reply, bytes: body.length, body });
          } else timer = scheduler.after((step / disruption.bytesPerSecond) * 1000, drip);
        };
        res.once('close', () => {
          timer.cancel();
          if (at < body.length) resolve({ reply, bytes: Math.min(at, body.length), body: body.subarray(0, at), error: 'client closed the connection during a slow body' });
        });
        if (body.length === 0) {
          res.end();
          resolve({ reply, bytes: 0, body });
        } else drip();
      });
  }
}

/** For answers given before the body was read: the unread body makes the connection unusable afterwards. */
function sendAndDrain(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  const bodyPending = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  if (bodyPending) reply.headers.connection = 'close';
  res.writeHead(reply.status, reply.headers as Record<string, string | number>);
  res.end(reply.body as string);
  req.resume();
}
