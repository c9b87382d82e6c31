/**
 * Charges: POST /charges, GET /charges, GET /charges/{id}, POST /charges/{id}/capture (asynchronous).
 *
 * createCharge follows the contract's order: (the contract's checks and the maxAmount precheck, then the key,
 * both in idempotency.ts) the customer and payment method must exist (404), then the card is charged. A decline
 * keeps a failed charge (so the 402 changes the state even without a key); pm_card_apiError keeps nothing and
 * answers 500; pm_card_slow is an ordinary success whose answer the transport holds for `slowMs`.
 */
import type { RestRequest, RestResult } from '../../protocols/rest/handler.js';
import { testCardOfMethod, type Decline, type TestCard } from './cards.js';
import { apiError, errorResult, invalidAmount, invalidRequest, resourceMissing } from './errors.js';
import { idempotencyKeyOf } from './idempotency.js';
import { limitOf, listEnvelope, pageOf } from './lists.js';
import { APPROVED, declinedOutcome, type PaymentsState, type StoredCharge } from './state.js';
import { chargeView } from './views.js';

interface CreateChargeBody {
  amount: number;
  currency: string;
  payment_method: string;
  customer?: string;
  description?: string;
  metadata?: Record<string, string>;
  capture?: boolean;
}

/** The test card a payment method id behaves as: a test id (aliases included) or one POST /payment_methods made. */
export function cardOfPaymentMethod(state: PaymentsState, id: string): TestCard | undefined {
  const test = testCardOfMethod(id);
  if (test !== undefined) return test;
  const made = state.paymentMethods.get(id);
  return made === undefined ? undefined : testCardOfMethod(`pm_card_${made.testCard}`);
}

/** An amount above a cap lowered below the contract's: refused like the contract refuses, storing nothing. */
export function amountPrecheck(req: RestRequest, state: PaymentsState): RestResult | undefined {
  const amount = (req.body as { amount?: unknown } | undefined)?.amount;
  if (typeof amount === 'number' && amount > state.config.maxAmount) return invalidAmount(amount, state.config.maxAmount);
  return undefined;
}

export function createCharge(req: RestRequest, state: PaymentsState): RestResult {
  const body = req.body as CreateChargeBody;
  const customer = body.customer ?? null;
  if (customer !== null && !state.customers.has(customer)) return { ...resourceMissing('customer', customer, 'customer'), changedState: false };
  const card = cardOfPaymentMethod(state, body.payment_method);
  if (card === undefined) return { ...resourceMissing('PaymentMethod', body.payment_method, 'payment_method'), changedState: false };
  // execution began and failed: nothing kept, nothing moved (the idempotency wrapper stores the 500 under a key)
  if (card.behaviour.kind === 'apiError') return { ...apiError(), changedState: false };

  const now = state.now();
  const key = idempotencyKeyOf(req) ?? null;
  const capture = body.capture ?? true;
  // one literal for both outcomes (one object shape for every charge, nothing copied on the traffic path)
  const record = (declined: Decline | undefined): Omit<StoredCharge, 'index' | 'id'> => ({
    amount: body.amount,
    currency: body.currency,
    customer,
    description: body.description ?? null,
    // the validated body is this request's own: its metadata object can be kept as it is
    metadata: body.metadata ?? {},
    paymentMethod: body.payment_method,
    status: declined ? 'failed' : 'succeeded',
    captured: !declined && capture,
    amountCaptured: !declined && capture ? body.amount : 0,
    amountRefunded: 0,
    failureCode: declined ? declined.code : null,
    failureMessage: declined ? declined.message : null,
    outcome: declined ? declinedOutcome(declined) : APPROVED,
    created: now,
    client: req.client,
    idempotencyKey: key,
    capture: null,
  });

  if (card.behaviour.kind === 'decline') {
    const { decline } = card.behaviour;
    const charge = state.addCharge(record(decline));
    state.recordChange('charge.failed', 'charge', charge.id, now);
    return {
      ...errorResult(402, { type: 'card_error', code: decline.code, decline_code: decline.declineCode, message: decline.message, charge: charge.id }),
      effects: [{ entity: 'charge', id: charge.id, action: 'declined' }],
      // the failed charge is kept
      changedState: true,
    };
  }

  const charge = state.addCharge(record(undefined));
  if (capture) state.moveMoney(charge, 'charge', charge.amount, null, req.client, key, now);
  state.recordChange('charge.succeeded', 'charge', charge.id, now);
  const result: RestResult = { status: 201, body: chargeView(charge), effects: [{ entity: 'charge', id: charge.id, action: 'created' }] };
  // the charge is made now; the caller waits as if execution took slowMs (the transport holds the reply)
  if (card.behaviour.kind === 'slow') result.holdMs = state.config.slowMs;
  return result;
}

export function getCharge(req: RestRequest, state: PaymentsState): RestResult {
  const id = String(req.params.id);
  const charge = state.chargeById.get(id);
  if (charge === undefined) return resourceMissing('charge', id, 'id');
  return { status: 200, body: chargeView(charge) };
}

export function listCharges(req: RestRequest, state: PaymentsState): RestResult {
  const customer = req.query.customer as string | undefined;
  const startingAfter = req.query.starting_after as string | undefined;
  let before: number | undefined;
  if (startingAfter !== undefined) {
    const after = state.chargeById.get(startingAfter);
    if (after === undefined) return resourceMissing('charge', startingAfter, 'starting_after');
    before = after.index;
  }
  const { data, has_more } = pageOf(state.charges, (c) => customer === undefined || c.customer === customer, before, limitOf(req));
  return { status: 200, body: listEnvelope(data.map(chargeView), has_more, `${req.baseUrl}/charges`) };
}

/**
 * Fire-and-forget: the charge goes `pending` now and settles `captureDelayMs` later (PaymentsState.catchUp). The
 * request takes no body; one sent is ignored (and is not part of the key's parameters beyond what was sent).
 */
export function captureCharge(req: RestRequest, state: PaymentsState): RestResult {
  const id = String(req.params.id);
  const charge = state.chargeById.get(id);
  if (charge === undefined) return { ...resourceMissing('charge', id, 'id'), changedState: false };
  if (charge.status === 'failed') return { ...invalidRequest(400, `Charge ${id} has failed and cannot be captured.`), changedState: false };
  if (charge.captured || charge.status === 'pending') {
    return { ...invalidRequest(400, `Charge ${id} has already been captured.`, { code: 'charge_already_captured' }), changedState: false };
  }
  state.startCapture(charge, req.client, idempotencyKeyOf(req) ?? null);
  return { status: 202, body: chargeView(charge), effects: [{ entity: 'charge', id, action: 'capture-started' }], changedState: true };
}
