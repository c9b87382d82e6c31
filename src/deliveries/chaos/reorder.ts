/**
 * reorder: events are held back per subscription until `window` of them are waiting (or the first has waited
 * `maxWait`), then released in another order than they happened: Salesforce says outright that outbound message
 * retries arrive out of order, and Stripe that event order is not guaranteed. A receiver that applies
 * `inventory.changed` events in arrival order ends up with stale stock; one that compares versions or timestamps
 * does not.
 *
 * The fault only marks the delivery as joining a window; the order a window is released in is reorderRank's,
 * drawn when the window is released, from (seed, subscription, the window's index), so it too is replayable.
 */
import { DURATION_SCHEMA, FaultParamError } from '../../chaos/faults/fault.js';
import { parseDuration } from '../../util/units.js';
import { seededRandom } from '../../util/seeded-random.js';
import type { DeliveryFaultKind } from './delivery-fault.js';

export interface ReorderParams {
  window: number;
  maxWaitMs: number;
}

/** how long the first held event waits for its window to fill, when the profile does not say */
export const DEFAULT_MAX_WAIT_MS = 1_000;

export const reorder: DeliveryFaultKind<ReorderParams> = {
  kind: 'reorder',
  aspect: 'reorder',
  schema: {
    type: 'object',
    required: ['window'],
    properties: {
      // a window of one reorders nothing; a thousand held events are already a long stall for a receiver
      window: { type: 'integer', minimum: 2, maximum: 1000 },
      maxWait: DURATION_SCHEMA,
    },
    additionalProperties: false,
  },
  compile(raw) {
    const maxWaitMs = raw.maxWait !== undefined ? parseDuration(raw.maxWait) : DEFAULT_MAX_WAIT_MS;
    if (maxWaitMs === 0) throw new FaultParamError('maxWait must be above 0: with 0 every event is released alone, in order', 'maxWait');
    return { window: raw.window, maxWaitMs };
  },
  apply(plan, p) {
    plan.reorder = { window: p.window, maxWaitMs: p.maxWaitMs };
    return { window: p.window, maxWaitMs: p.maxWaitMs };
  },
};

/** how many shuffles may come out as the identity before the fallback (a rotation) is used */
const MAX_SHUFFLES = 32;

/**
 * The order a reorder window of `size` held events is released in: element k is the index (in the order the
 * events happened) of the event released k-th. A seeded permutation from (seed, subscription, windowIndex), the
 * same on every machine and every replay, and never the identity when size >= 2: a window released in order would
 * be a reorder fault that reorders nothing. Uniform over the other permutations (an identity draw is drawn
 * again, from the same stream); after 32 identities in a row, which the stream makes all but impossible, a
 * rotation by one keeps the promise without looping.
 */
export function reorderRank(seed: number, subscription: string, windowIndex: number, size: number): number[] {
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`a reorder window's size is a whole number, not ${size}`);
  const order = Array.from({ length: size }, (_, i) => i);
  if (size < 2) return order;
  const random = seededRandom(seed, 'delivery', 'reorder-window', subscription, windowIndex);
  for (let attempt = 0; attempt < MAX_SHUFFLES; attempt++) {
    for (let i = size - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    if (order.some((v, i) => v !== i)) return order;
  }
  return order.map((_, i) => (i + 1) % size);
}
