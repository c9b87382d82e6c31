/** truncate: Content-Length promises the whole body, the connection closes halfway through it. */
import { bodyText } from './body-faults.js';
import { NotApplicable, type FaultKind } from './fault.js';

export const truncate: FaultKind<null> = {
  kind: 'truncate',
  stage: 'after',
  schema: { type: 'object', additionalProperties: false },
  compile: () => null,
  after(ctx, _p, reply) {
    if (bodyText(reply, ctx.exchange.method).length < 2) throw new NotApplicable('the body is too short to cut');
    return { ...reply, source: undefined, disruption: { kind: 'truncate' } };
  },
};
