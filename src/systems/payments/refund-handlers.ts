/**
 * POST /refunds: the compensating action. Only captured charges can be refunded, up to what is left; a refund
 * succeeds at once, moves money back (a negative ledger entry) and emits `refund.succeeded` and `charge.refunded`.
 * Refusals change nothing (the idempotency wrapper stores them under a key like a success).
 */
import type { RestRequest, RestResult } from '../../protocols/rest/handler.js';
import { invalidRequest, resourceMissing } from './errors.js';
import { idempotencyKeyOf } from './idempotency.js';
import type { PaymentsState } from './state.js';
import { refundView } from './views.js';

interface CreateRefundBody {
  charge: string;
  amount?: number;
  reason?: string;
  metadata?: Record<string, string>;
}

export function createRefund(req: RestRequest, state: PaymentsState): RestResult {
  const body = req.body as CreateRefundBody;
  const refused = (result: RestResult): RestResult => ({ ...result, changedState: false });
  const charge = state.chargeById.get(body.charge);
  if (charge === undefined) return refused(resourceMissing('charge', body.charge, 'charge'));
  if (charge.status === 'failed') {
    return refused(invalidRequest(400, `Charge ${charge.id} has failed; only captured charges can be refunded.`, { code: 'charge_not_refundable', param: 'charge' }));
  }
  if (!charge.captured) {
    const why = charge.status === 'pending' ? 'its capture is pending' : 'it is only authorized, not captured';
    return refused(invalidRequest(400, `Charge ${charge.id} cannot be refunded: ${why}; only captured charges can be refunded.`, { code: 'charge_not_refundable', param: 'charge' }));
  }
  const left = charge.amountCaptured - charge.amountRefunded;
  if (left <= 0) return refused(invalidRequest(400, `Charge ${charge.id} has already been refunded.`, { code: 'charge_already_refunded', param: 'charge' }));
  const amount = body.amount ?? left;
  if (amount > left) {
    return refused(
      invalidRequest(400, `Refund amount (${amount}) is greater than the amount left to refund on charge ${charge.id} (${left}).`, { code: 'amount_too_large', param: 'amount' }),
    );
  }

  const now = state.now();
  const refund = {
    id: state.nextId('re'),
    amount,
    charge: charge.id,
    currency: charge.currency,
    metadata: { ...(body.metadata ?? {}) },
    reason: body.reason ?? null,
    created: now,
  };
  state.refunds.set(refund.id, refund);
  charge.amountRefunded += amount;
  state.moveMoney(charge, 'refund', -amount, refund.id, req.client, idempotencyKeyOf(req) ?? null, now);
  state.recordChange('refund.succeeded', 'refund', refund.id, now);
  state.recordChange('charge.refunded', 'charge', charge.id, now);
  return {
    status: 201,
    body: refundView(refund),
    effects: [
      { entity: 'refund', id: refund.id, action: 'created' },
      { entity: 'charge', id: charge.id, action: 'refunded' },
    ],
  };
}
