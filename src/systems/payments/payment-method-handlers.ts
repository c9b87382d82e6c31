/**
 * POST /payment_methods: a card payment method from a test card number. The handler sees the sanitized card
 * (cards.ts): never the number or the CVC. Refusals are 402 card errors, checked in the contract's order: the
 * Luhn check, the expiry (against the clock, in UTC), then whether it is a test number at all. A refusal makes
 * nothing; it changes the state only through the idempotency key it may be stored under.
 */
import type { RestRequest, RestResult } from '../../protocols/rest/handler.js';
import { TEST_CARDS, type SanitizedCard } from './cards.js';
import { errorResult } from './errors.js';
import type { PaymentsState } from './state.js';
import { paymentMethodView } from './views.js';

interface SanitizedBody {
  type: 'card';
  card: SanitizedCard;
  metadata?: Record<string, string>;
}

export function createPaymentMethod(req: RestRequest, state: PaymentsState): RestResult {
  const body = req.body as SanitizedBody;
  const card = body?.card;
  if (!card || typeof card.luhn !== 'boolean') {
    // the engine sanitizes every body of this operation; a raw one here means the wiring is wrong, not the caller
    throw new Error('payments: createPaymentMethod got a body that was not sanitized');
  }
  const refused = cardProblem(card, state.now());
  if (refused !== undefined) return { ...refused, changedState: false };

  const testCard = TEST_CARDS[card.test!];
  const pm = {
    id: state.nextId('pm'),
    testCard: testCard.name,
    brand: testCard.brand,
    last4: card.last4,
    expMonth: card.exp_month,
    expYear: card.exp_year,
    created: state.now(),
    metadata: { ...(body.metadata ?? {}) },
  };
  state.paymentMethods.set(pm.id, pm);
  return { status: 201, body: paymentMethodView(pm), effects: [{ entity: 'payment_method', id: pm.id, action: 'created' }] };
}

/** The 402 for a card that cannot be a payment method, or undefined. */
function cardProblem(card: SanitizedCard, now: number): RestResult | undefined {
  if (!card.luhn) return errorResult(402, { type: 'card_error', code: 'incorrect_number', message: 'Your card number is incorrect.', param: 'card[number]' });
  const today = new Date(now);
  const year = today.getUTCFullYear();
  const month = today.getUTCMonth() + 1;
  if (card.exp_year < year) {
    return errorResult(402, { type: 'card_error', code: 'invalid_expiry_year', message: "Your card's expiration year is invalid.", param: 'card[exp_year]' });
  }
  if (card.exp_year === year && card.exp_month < month) {
    return errorResult(402, { type: 'card_error', code: 'invalid_expiry_month', message: "Your card's expiration month is invalid.", param: 'card[exp_month]' });
  }
  if (card.test === null || !Object.hasOwn(TEST_CARDS, card.test)) {
    return errorResult(402, {
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'test_mode_live_card',
      message: 'Your card was declined. This gateway accepts test card numbers only.',
    });
  }
  return undefined;
}
