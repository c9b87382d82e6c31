/** reset: a TCP reset instead of an answer; the caller sees ECONNRESET. */
import type { FaultKind } from './fault.js';

export const reset: FaultKind<null> = {
  kind: 'reset',
  stage: 'before',
  schema: { type: 'object', additionalProperties: false },
  compile: () => null,
  before: () => ({ status: 0, headers: {}, disruption: { kind: 'reset' } }),
};
