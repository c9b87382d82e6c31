/**
 * Delivery chaos (the profile's `deliveries:` section, PRODUCT.md §4): one fault kind per file behind this
 * interface, like the request faults (chaos/faults/fault.ts). A delivery fault does not act on a socket: when an
 * event is queued for a subscriber, every matching rule's faults shape the delivery's plan (when its first attempt
 * may start, whether that attempt is lost or forged, how many copies follow a success, which reorder window it
 * joins). The plan is decided once, logged with the delivery and replayed from the log, so a restart never
 * re-draws it; the draws are seeded from (seed, rule, fault, subscription, the subscription's event ordinal).
 */
import type { SignatureFault } from '../signature.js';

export interface DeliveryPlan {
  /** the first attempt starts no earlier than this long after the event was queued (delay) */
  delayMs: number;
  /** the first attempt is lost before it reaches the receiver, and retried per the policy (drop) */
  dropFirst: boolean;
  /** the first attempt that reaches the receiver carries a forged signature (badSignature, staleTimestamp) */
  signatureFault?: SignatureFault;
  /** extra copies sent after the delivery succeeded, `spacingMs` apart (duplicate) */
  duplicates: number;
  spacingMs: number;
  /** held back with the subscription's next events and released in another order (reorder) */
  reorder?: { window: number; maxWaitMs: number };
  /** what was injected, as the delivery's record shows it: [{ kind: "delay", ms: 830, rule: "slow-hooks" }] */
  faults: Array<Record<string, unknown>>;
}

export function emptyPlan(): DeliveryPlan {
  return { delayMs: 0, dropFirst: false, duplicates: 0, spacingMs: 0, faults: [] };
}

export interface DeliveryFaultKind<P = any> {
  readonly kind: string;
  /**
   * The part of the plan the kind sets outright ('signature' for both forgeries), when it sets one: when two
   * matching faults set the same aspect the later one wins, and the earlier one's record is taken out of
   * plan.faults (it was not injected after all). Absent for a kind that adds up (delay).
   */
  readonly aspect?: string;
  /** JSON Schema of its parameters besides `probability` */
  readonly schema: object;
  /** validated raw parameters → ready ones (durations in ms); throws FaultParamError */
  compile(raw: any): P;
  /** shapes the plan; `random` is seeded for this (rule, fault, subscription, ordinal); returns what to record */
  apply(plan: DeliveryPlan, params: P, random: () => number): Record<string, unknown>;
}
