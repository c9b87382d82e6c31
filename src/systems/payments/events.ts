/**
 * The gateway's webhooks (issue #9): Stripe event objects read from the state's change list (change-list.ts), so
 * a rebuilt state emits from the same positions and an idempotent replay, which records no change, emits nothing.
 *
 * - `charge.succeeded`: a charge was made (captured, or only authorized), or a capture settled;
 * - `charge.failed`: a charge was declined, or its capture failed;
 * - `refund.succeeded` then `charge.refunded`: for each refund (partial ones too).
 * `data.object` is the charge or refund as GET shows it when the bus reads the change (right after it).
 *
 * tick() settles due captures while nobody calls, so capture webhooks flow on time; it asks to run again when
 * the next capture falls due, at least every second (a capture started since is noticed in time).
 */
import type { RestSystemEvents } from '../../protocols/rest/handler.js';
import type { PaymentsState } from './state.js';
import { chargeView, refundView, seconds } from './views.js';

export const PAYMENTS_EVENT_TYPES: readonly string[] = ['charge.succeeded', 'charge.failed', 'charge.refunded', 'refund.succeeded'];

/** Most changes one since() returns; the bus asks again from the last one's seq. */
export const MAX_CHANGES_PER_CALL = 10_000;

const MIN_TICK_MS = 1;

export const paymentsEvents: RestSystemEvents<PaymentsState> = {
  types: PAYMENTS_EVENT_TYPES,

  position: (state) => state.changes.latestSeq,

  since(state, from) {
    if (from >= state.changes.latestSeq) return [];
    return state.changes.since(from, MAX_CHANGES_PER_CALL).map((entry) => ({
      seq: entry.seq,
      type: entry.type,
      at: entry.at,
      // built only when someone subscribed reads it (at once, before anything else changes)
      get data() {
        if (entry.kind === 'refund') return refundView(state.refunds.get(entry.id)!);
        return chargeView(state.chargeById.get(entry.id)!);
      },
    }));
  },

  // settles what fell due and sleeps until the next capture is due; with none pending it sleeps until an
  // exchange wakes it (the event bus asks again after every exchange), so an idle workspace has no timer
  tick(state) {
    state.catchUp();
    const due = state.nextCaptureDue();
    if (due === undefined) return undefined;
    return Math.max(MIN_TICK_MS, due - state.now());
  },

  // Stripe's event object (the contract's WebhookEvent); `created` in seconds as everywhere in this API
  envelope: (event, data) => ({ id: event.id, object: 'event', type: event.type, created: seconds(event.created), data: { object: data } }),
};
