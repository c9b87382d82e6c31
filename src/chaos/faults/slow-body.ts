/** slowBody: the status and headers arrive at once, the body drips at `bytesPerSecond`. */
import { bodyText } from './body-faults.js';
import type { FaultKind } from './fault.js';

export const slowBody: FaultKind<{ bytesPerSecond: number }> = {
  kind: 'slowBody',
  stage: 'after',
  schema: {
    type: 'object',
    required: ['bytesPerSecond'],
    properties: { bytesPerSecond: { type: 'number', minimum: 1, maximum: 1e9 } },
    additionalProperties: false,
  },
  compile: (raw) => ({ bytesPerSecond: raw.bytesPerSecond }),
  after(ctx, p, reply) {
    bodyText(reply, ctx.exchange.method); // streamed, empty and HEAD bodies are skipped
    return { ...reply, disruption: { kind: 'slow', bytesPerSecond: p.bytesPerSecond } };
  },
};
