/**
 * failFirst / succeedFirst: sequences per client and rule. failFirst fails a client's first `count` matching
 * requests and then lets everything through (does the client retry, and how often?); succeedFirst lets the first
 * `count` through and then fails every one (does it notice, and stop?).
 */
import { PASS, type FaultKind } from './fault.js';
import { statusReply } from './status.js';

type Params = { count: number; code: number };

const schema = {
  type: 'object',
  required: ['count'],
  properties: { count: { type: 'integer', minimum: 1, maximum: 1_000_000 }, status: { type: 'integer', minimum: 400, maximum: 599 } },
  additionalProperties: false,
};
const compile = (raw: any): Params => ({ count: raw.count, code: raw.status ?? 503 });

export const failFirst: FaultKind<Params> = {
  kind: 'failFirst',
  stage: 'before',
  schema,
  compile,
  before(ctx, p) {
    if (ctx.ordinal >= p.count) return PASS;
    ctx.record.attempt = ctx.ordinal + 1;
    return statusReply(ctx, { code: p.code, retryAfterFormat: 'seconds', headers: {} });
  },
};

export const succeedFirst: FaultKind<Params> = {
  kind: 'succeedFirst',
  stage: 'before',
  schema,
  compile,
  before(ctx, p) {
    if (ctx.ordinal < p.count) return PASS;
    ctx.record.attempt = ctx.ordinal + 1;
    return statusReply(ctx, { code: p.code, retryAfterFormat: 'seconds', headers: {} });
  },
};
