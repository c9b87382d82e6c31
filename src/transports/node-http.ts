/**
 * The traffic path on bare node:http (express costs ~85% of throughput here; see DESIGN.md). This file only
 * translates between sockets and the engine: pick the workspace from /w/{name}, hand /__admin to the admin app,
 * read the body within the size limit, run the pipeline, write the reply (streaming with backpressure), and
 * tell the engine when the last byte left so it can journal the exchange.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Exchange, Reply } from '../engine/exchange.js';
import type { Engine } from '../engine/pipeline.js';
import { problemReply } from '../engine/problem.js';
import type { Workspace, Workspaces } from '../engine/workspace.js';

export type AdminListener = (req: IncomingMessage, res: ServerResponse, workspace: Workspace) => void;

export interface TrafficOptions {
  engine: Engine;
  workspaces: Workspaces;
  admin: AdminListener;
  /** true once shutdown began: replies then close their connection instead of keeping it alive */
  draining?: () => boolean;
}

export function createTrafficListener({ engine, workspaces, admin, draining }: TrafficOptions): RequestListener {
  const { bodyBytes: bodyLimit, journalBodyBytes: journalBodyLimit } = engine.limits;

  return (req, res) => {
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
            ? problemReply(400, 'bad-workspace-name', `"${name}" is not a workspace name: use 1-40 of a-z, 0-9 and -.`)
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
    };

    const declared = req.headers['content-length'];
    const hasBody = declared !== undefined ? declared !== '0' : req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) return run(engine.start(fields));
    if (declared !== undefined && Number(declared) > bodyLimit) {
      return run(engine.start({ ...fields, bodyProblem: 'too-large' }));
    }

    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > bodyLimit) {
        req.off('data', onData);
        req.off('end', onEnd);
        run(engine.start({ ...fields, bodyProblem: 'too-large' }));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => run(engine.start({ ...fields, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size) }));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', () => undefined); // an aborted upload has nobody to answer

    function run(exchange: Exchange): void {
      engine.handle(exchange).then(
        (reply) => write(exchange, reply),
        (err) => write(exchange, problemReply(500, 'internal', `understudy failed: ${err instanceof Error ? err.message : String(err)}`)),
      );
    }

    function write(exchange: Exchange, reply: Reply): void {
      const body = reply.body;
      if (res.destroyed) {
        engine.complete(exchange, reply, { bytes: 0, body: undefined, error: 'client closed the connection before the reply' });
        return;
      }
      if (draining?.()) res.shouldKeepAlive = false;
      res.writeHead(reply.status, reply.headers as Record<string, string | number | string[]>);
      if (exchange.method === 'HEAD' || body === undefined) {
        res.end();
        engine.complete(exchange, reply, { bytes: 0, body: undefined });
      } else if (typeof body === 'string' || Buffer.isBuffer(body)) {
        res.end(body);
        engine.complete(exchange, reply, { bytes: typeof body === 'string' ? Buffer.byteLength(body) : body.length, body });
      } else {
        pipeStream(res, body, journalBodyLimit).then((done) => engine.complete(exchange, reply, done));
      }
    }
  };
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

/** For answers given before the body was read: the unread body makes the connection unusable afterwards. */
function sendAndDrain(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  const bodyPending = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  if (bodyPending) reply.headers.connection = 'close';
  res.writeHead(reply.status, reply.headers as Record<string, string | number>);
  res.end(reply.body as string);
  req.resume();
}
