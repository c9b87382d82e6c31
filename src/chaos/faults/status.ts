/**
 * status: answer with an HTTP error instead of the system. The body is the system's own error shape and wording
 * (plausible-errors.ts) unless the profile gives one; `retryAfter` adds Retry-After as delay-seconds or, with
 * retryAfterFormat: http-date, a date (both rounded up to the second: never earlier than the profile said).
 */
import type { Reply } from '../../engine/exchange.js';
import { parseDuration } from '../../util/units.js';
import { DURATION_SCHEMA, systemError, type FaultContext, type FaultKind } from './fault.js';

export interface StatusParams {
  code: number;
  retryAfterMs?: number;
  retryAfterFormat: 'seconds' | 'http-date';
  body?: unknown;
  headers: Record<string, string>;
}

export const STATUS_SCHEMA = {
  type: 'object',
  required: ['code'],
  properties: {
    code: { type: 'integer', minimum: 400, maximum: 599 },
    retryAfter: DURATION_SCHEMA,
    retryAfterFormat: { enum: ['seconds', 'http-date'] },
    body: {},
    headers: { type: 'object', additionalProperties: { type: 'string' } },
  },
  additionalProperties: false,
} as const;

export function compileStatus(raw: any): StatusParams {
  return {
    code: raw.code,
    retryAfterMs: raw.retryAfter !== undefined ? parseDuration(raw.retryAfter) : undefined,
    retryAfterFormat: raw.retryAfterFormat ?? 'seconds',
    body: raw.body,
    // lower-case, so a profile's Content-Type replaces the default one instead of being sent beside it
    headers: Object.fromEntries(Object.entries((raw.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v])),
  };
}

/**
 * Retry-After as an HTTP-date for the instant `ms`. The date carries whole seconds, so the instant is rounded up
 * to the next one: rounded down (as toUTCString would), a client that waits exactly until the date retries before
 * the instant the profile asked for, and the report card's retry.respectsRetryAfter would call it early.
 */
export function retryAfterDate(ms: number): string {
  return new Date(Math.ceil(ms / 1000) * 1000).toUTCString();
}

/** The error reply a status-like fault sends (also used by failFirst, outage and lostAck). */
export function statusReply(ctx: FaultContext, p: StatusParams): Reply {
  let reply: Reply;
  if (p.body !== undefined) {
    const text = typeof p.body === 'string' ? p.body : JSON.stringify(p.body);
    reply = { status: p.code, headers: { 'content-type': typeof p.body === 'string' ? 'text/plain' : 'application/json', 'content-length': Buffer.byteLength(text) }, body: text };
  } else reply = systemError(ctx.exchange, p.code);
  Object.assign(reply.headers, p.headers);
  if (p.retryAfterMs !== undefined) {
    reply.headers['retry-after'] = p.retryAfterFormat === 'http-date' ? retryAfterDate(ctx.clock.now() + p.retryAfterMs) : String(Math.ceil(p.retryAfterMs / 1000));
  }
  return reply;
}

export const status: FaultKind<StatusParams> = {
  kind: 'status',
  stage: 'before',
  schema: STATUS_SCHEMA,
  compile: compileStatus,
  before: (ctx, p) => statusReply(ctx, p),
};
