/** empty: the connection closes without a byte of response (an "empty reply from server"). */
import type { FaultKind } from './fault.js';

export const empty: FaultKind<null> = {
  kind: 'empty',
  stage: 'before',
  schema: { type: 'object', additionalProperties: false },
  compile: () => null,
  before: () => ({ status: 0, headers: {}, disruption: { kind: 'close' } }),
};
