/** The delivery fault kinds by name (the profile's `deliveries:` rules). A new kind is one file here and one line. */
import { badSignature } from './bad-signature.js';
import { delay } from './delay.js';
import type { DeliveryFaultKind } from './delivery-fault.js';
import { drop } from './drop.js';
import { duplicate } from './duplicate.js';
import { reorder } from './reorder.js';
import { staleTimestamp } from './stale-timestamp.js';

export const DELIVERY_FAULT_KINDS: ReadonlyMap<string, DeliveryFaultKind> = new Map(
  [duplicate, reorder, delay, drop, badSignature, staleTimestamp].map((k) => [k.kind, k]),
);
