/** timeout: hold the connection for `after` without answering, then close it (the caller's read times out). */
import { parseDuration } from '../../util/units.js';
import { DURATION_SCHEMA, type FaultKind } from './fault.js';

export const timeout: FaultKind<{ ms: number }> = {
  kind: 'timeout',
  stage: 'before',
  schema: { type: 'object', required: ['after'], properties: { after: DURATION_SCHEMA }, additionalProperties: false },
  compile: (raw) => ({ ms: parseDuration(raw.after) }),
  before: (_ctx, p) => ({ status: 0, headers: {}, disruption: { kind: 'hang', ms: p.ms } }),
};
