/**
 * staleTimestamp: the first attempt that reaches the receiver is signed correctly, but for a `t` more than the
 * 300 s tolerance verifiers default to in the past (signature.ts, STALE_BY_S). A receiver that checks only the
 * HMAC accepts it, and with it any captured request replayed later; one that checks the timestamp refuses it.
 */
import { STALE_BY_S } from '../signature.js';
import type { DeliveryFaultKind } from './delivery-fault.js';

export const staleTimestamp: DeliveryFaultKind<null> = {
  kind: 'staleTimestamp',
  // one attempt carries one signature: badSignature and staleTimestamp compete for it
  aspect: 'signature',
  schema: { type: 'object', additionalProperties: false },
  compile: () => null,
  apply(plan) {
    plan.signatureFault = 'staleTimestamp';
    return { staleByS: STALE_BY_S };
  },
};
