/**
 * drop: the first attempt is lost on the way (the receiver never sees it) and the delivery is retried per its
 * retry policy, so the event arrives late, after a backoff, the way a network blip makes it arrive. The lost
 * attempt is recorded with `faults: [{ kind: "drop" }]`, so a delivery's record explains the gap.
 */
import type { DeliveryFaultKind } from './delivery-fault.js';

export const drop: DeliveryFaultKind<null> = {
  kind: 'drop',
  aspect: 'dropFirst',
  schema: { type: 'object', additionalProperties: false },
  compile: () => null,
  apply(plan) {
    plan.dropFirst = true;
    return {};
  },
};
