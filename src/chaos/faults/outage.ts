/**
 * outage: the system is down. Modes: 503 (a load balancer's answer, with Retry-After when given), reset (the
 * process is gone), hang (accepting connections but never answering; closed after `after`, default 130 s,
 * longer than Apex's 120 s maximum), refuse-after-accept (the connection is reset the moment the request
 * arrives, as an overloaded listener does), soap-fault (a SOAP system's Server fault SERVICE_UNAVAILABLE, HTTP 500:
 * the ERP's application server is up but its backend is not; on a system that does not speak SOAP it answers as
 * mode 503 does, and the journal records that fallback).
 */
import { parseDuration } from '../../util/units.js';
import { DURATION_SCHEMA, type FaultKind } from './fault.js';
import { soapFaultReply } from './soap-fault.js';
import { statusReply } from './status.js';

type Params = { mode: '503' | 'reset' | 'hang' | 'refuse-after-accept' | 'soap-fault'; holdMs: number; retryAfterMs?: number };

export const outage: FaultKind<Params> = {
  kind: 'outage',
  stage: 'before',
  schema: {
    type: 'object',
    properties: {
      mode: { enum: [503, '503', 'reset', 'hang', 'refuse-after-accept', 'soap-fault'] },
      after: DURATION_SCHEMA,
      retryAfter: DURATION_SCHEMA,
    },
    additionalProperties: false,
  },
  compile: (raw) => ({
    mode: String(raw.mode ?? 503) as Params['mode'],
    holdMs: raw.after !== undefined ? parseDuration(raw.after) : 130_000,
    retryAfterMs: raw.retryAfter !== undefined ? parseDuration(raw.retryAfter) : undefined,
  }),
  before(ctx, p) {
    switch (p.mode) {
      case 'soap-fault':
        if (ctx.exchange.system?.engine.soapFault !== undefined) {
          return soapFaultReply(ctx.exchange, 'SERVICE_UNAVAILABLE', 'the system is not available; try again later');
        }
        ctx.record.fallback = '503: not a SOAP system';
        return statusReply(ctx, { code: 503, retryAfterMs: p.retryAfterMs, retryAfterFormat: 'seconds', headers: {} });
      case '503':
        return statusReply(ctx, { code: 503, retryAfterMs: p.retryAfterMs, retryAfterFormat: 'seconds', headers: {} });
      case 'hang':
        return { status: 0, headers: {}, disruption: { kind: 'hang', ms: p.holdMs } };
      case 'reset':
      case 'refuse-after-accept':
        return { status: 0, headers: {}, disruption: { kind: 'reset' } };
    }
  },
};
