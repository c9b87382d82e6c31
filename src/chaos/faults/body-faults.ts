/** Shared by the faults that work on a reply's body. */
import type { Reply } from '../../engine/exchange.js';
import { NotApplicable } from './fault.js';

/** The reply's body as text; streamed and empty bodies cannot be altered (the fault is skipped). */
export function bodyText(reply: Reply, method?: string): string {
  if (method === 'HEAD') throw new NotApplicable('a HEAD reply has no body');
  if (reply.body === undefined) throw new NotApplicable('the reply has no body');
  if (typeof reply.body === 'string') return reply.body;
  if (Buffer.isBuffer(reply.body)) return reply.body.toString('utf8');
  throw new NotApplicable('the reply body is streamed');
}

/** The same reply with another body (Content-Length updated, the parsed source dropped). */
export function withBody(reply: Reply, body: string): Reply {
  return { status: reply.status, headers: { ...reply.headers, 'content-length': Buffer.byteLength(body) }, body };
}
