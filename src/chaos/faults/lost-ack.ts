/**
 * lostAck: the operation takes effect (the handler ran and committed), then the caller sees a failure: a reset,
 * a timeout, or a 5xx. The classic cause of duplicate side effects when a client retries without an
 * idempotency key. The journal entry keeps the handler's effects, so the report card can tell.
 */
import { parseDuration } from '../../util/units.js';
import { DURATION_SCHEMA, type FaultKind } from './fault.js';
import { statusReply } from './status.js';

type Params = { as: 'reset' | 'timeout' | number; holdMs: number };

/** held longer than Apex's 120 s maximum callout timeout, so the caller gives up first */
const DEFAULT_HOLD_MS = 130_000;

export const lostAck: FaultKind<Params> = {
  kind: 'lostAck',
  stage: 'after',
  schema: {
    type: 'object',
    properties: { as: { enum: ['reset', 'timeout', 500, 502, 503, 504, '500', '502', '503', '504'] }, after: DURATION_SCHEMA },
    additionalProperties: false,
  },
  compile: (raw) => {
    const as = raw.as ?? 'reset';
    return { as: as === 'reset' || as === 'timeout' ? as : Number(as), holdMs: raw.after !== undefined ? parseDuration(raw.after) : DEFAULT_HOLD_MS };
  },
  after(ctx, p) {
    ctx.record.effects = ctx.exchange.effects.length;
    if (p.as === 'reset') return { status: 0, headers: {}, disruption: { kind: 'reset' } };
    if (p.as === 'timeout') return { status: 0, headers: {}, disruption: { kind: 'hang', ms: p.holdMs } };
    return statusReply(ctx, { code: p.as, retryAfterFormat: 'seconds', headers: {} });
  },
};
