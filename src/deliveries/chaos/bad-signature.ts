/**
 * badSignature: the first attempt that reaches the receiver carries a Stripe-Signature header of the right shape
 * whose v1 verifies with no secret (signature.ts forges it). A receiver must refuse it (and the retry, signed
 * properly, then succeeds); one that accepts it would accept anybody's webhooks.
 */
import type { DeliveryFaultKind } from './delivery-fault.js';

export const badSignature: DeliveryFaultKind<null> = {
  kind: 'badSignature',
  // one attempt carries one signature: badSignature and staleTimestamp compete for it
  aspect: 'signature',
  schema: { type: 'object', additionalProperties: false },
  compile: () => null,
  apply(plan) {
    plan.signatureFault = 'badSignature';
    return {};
  },
};
