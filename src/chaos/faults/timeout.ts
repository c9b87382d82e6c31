/** timeout: hold the connection for `after` without answering, then close it (the caller's read times out). */
import { parseDuration } from '../../util/units.js';
import { DURATION_SCHEMA, FaultParamError, type FaultKind } from './fault.js';

export const timeout: FaultKind<{ ms: number }> = {
  kind: 'timeout',
  stage: 'before',
  schema: { type: 'object', required: ['after'], properties: { after: DURATION_SCHEMA }, additionalProperties: false },
  compile: (raw) => {
    const ms = parseDuration(raw.after);
    if (ms === 0) throw new FaultParamError('after must be above 0 (for an immediate close, use empty)', 'after');
    return { ms };
  },
  before: (_ctx, p) => ({ status: 0, headers: {}, disruption: { kind: 'hang', ms: p.ms } }),
};
