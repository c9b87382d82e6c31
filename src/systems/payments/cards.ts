/**
 * Stripe's test payment methods and test card numbers, as the contract's API description lists them, and how a
 * raw card number is turned into what may be kept (sanitizeCard).
 *
 * A card number (PAN) must never reach the handler, the write log, a stored idempotency response or the journal
 * unmasked. The REST engine calls sanitizeBody right after validation, so the handler and the log only see the
 * sanitized card: brand, last four digits, whether it passes the Luhn check, which test card it is, and, for test
 * numbers only, a fingerprint (a digest of the number) so that the idempotency digest of a retry tells two test
 * cards apart. A number that is not a test number keeps no digest at all: a digest of a 16-digit number whose
 * last four digits and brand are known could be reversed by trying every candidate.
 */
import { createHash } from 'node:crypto';

export type Brand = 'visa' | 'mastercard' | 'amex';

/** Why a declined charge failed: Stripe's error `code`, `decline_code` and message. */
export interface Decline {
  code: string;
  declineCode: string;
  message: string;
}

export type CardBehaviour = { kind: 'succeed' } | { kind: 'slow' } | { kind: 'apiError' } | { kind: 'decline'; decline: Decline };

export interface TestCard {
  /** the name after `pm_card_` */
  name: string;
  brand: Brand;
  last4: string;
  behaviour: CardBehaviour;
  /** the test card number that makes a payment method behaving like this one; none for slow and apiError */
  number?: string;
}

const decline = (code: string, declineCode: string, message: string): CardBehaviour => ({ kind: 'decline', decline: { code, declineCode, message } });

const DECLINED = "Your card was declined.";

/** Every test card, by its name (pm_card_<name>). */
export const TEST_CARDS: Readonly<Record<string, TestCard>> = Object.fromEntries(
  (
    [
      { name: 'visa', brand: 'visa', last4: '4242', number: '4242424242424242', behaviour: { kind: 'succeed' } },
      { name: 'mastercard', brand: 'mastercard', last4: '4444', number: '5555555555554444', behaviour: { kind: 'succeed' } },
      { name: 'amex', brand: 'amex', last4: '0005', number: '378282246310005', behaviour: { kind: 'succeed' } },
      { name: 'chargeDeclined', brand: 'visa', last4: '0002', number: '4000000000000002', behaviour: decline('card_declined', 'generic_decline', DECLINED) },
      {
        name: 'insufficientFunds',
        brand: 'visa',
        last4: '9995',
        number: '4000000000009995',
        behaviour: decline('card_declined', 'insufficient_funds', 'Your card has insufficient funds.'),
      },
      { name: 'lostCard', brand: 'visa', last4: '9987', number: '4000000000009987', behaviour: decline('card_declined', 'lost_card', DECLINED) },
      { name: 'stolenCard', brand: 'visa', last4: '9979', number: '4000000000009979', behaviour: decline('card_declined', 'stolen_card', DECLINED) },
      { name: 'expired', brand: 'visa', last4: '0069', number: '4000000000000069', behaviour: decline('expired_card', 'expired_card', 'Your card has expired.') },
      {
        name: 'incorrectCvc',
        brand: 'visa',
        last4: '0127',
        number: '4000000000000127',
        behaviour: decline('incorrect_cvc', 'incorrect_cvc', "Your card's security code is incorrect."),
      },
      {
        name: 'processingError',
        brand: 'visa',
        last4: '0119',
        number: '4000000000000119',
        behaviour: decline('processing_error', 'processing_error', 'An error occurred while processing your card. Try again in a little bit.'),
      },
      { name: 'slow', brand: 'visa', last4: '4242', behaviour: { kind: 'slow' } },
      { name: 'apiError', brand: 'visa', last4: '4242', behaviour: { kind: 'apiError' } },
    ] satisfies TestCard[]
  ).map((card) => [card.name, card]),
);

/** Stripe's own names for some of the test cards, accepted as the same cards (the contract lists them). */
export const TEST_METHOD_ALIASES: Readonly<Record<string, string>> = {
  pm_card_chargeDeclinedInsufficientFunds: 'insufficientFunds',
  pm_card_chargeDeclinedLostCard: 'lostCard',
  pm_card_chargeDeclinedStolenCard: 'stolenCard',
  pm_card_chargeDeclinedExpiredCard: 'expired',
  pm_card_chargeDeclinedIncorrectCvc: 'incorrectCvc',
  pm_card_chargeDeclinedProcessingError: 'processingError',
};

/** Every test payment method id that needs no POST /payment_methods, aliases included. */
export const TEST_METHOD_IDS: readonly string[] = [...Object.keys(TEST_CARDS).map((name) => `pm_card_${name}`), ...Object.keys(TEST_METHOD_ALIASES)];

/** The test card behind a test payment method id (pm_card_visa, an alias), or undefined. */
export function testCardOfMethod(id: string): TestCard | undefined {
  const alias = TEST_METHOD_ALIASES[id];
  if (alias !== undefined) return TEST_CARDS[alias];
  if (!id.startsWith('pm_card_')) return undefined;
  const name = id.slice('pm_card_'.length);
  return Object.hasOwn(TEST_CARDS, name) ? TEST_CARDS[name] : undefined;
}

const TEST_CARD_BY_NUMBER = new Map(
  Object.values(TEST_CARDS)
    .filter((card) => card.number !== undefined)
    .map((card) => [card.number!, card]),
);

/** The Luhn check (ISO/IEC 7812-1) on a string of digits. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (d < 0 || d > 9) return false;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** The brand a number's prefix (IIN) says; `unknown` for anything else (only ever seen on refused numbers). */
export function brandOfNumber(digits: string): Brand | 'unknown' {
  if (digits.startsWith('4')) return 'visa';
  if (/^3[47]/.test(digits)) return 'amex';
  const two = Number(digits.slice(0, 2));
  const four = Number(digits.slice(0, 4));
  if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) return 'mastercard';
  return 'unknown';
}

/** The card of a createPaymentMethod body as the handler and the write log get it: never the number or CVC. */
export interface SanitizedCard {
  brand: Brand | 'unknown';
  last4: string;
  /** whether the number passed the Luhn check */
  luhn: boolean;
  /** the test card's name (TEST_CARDS), or null for any other number */
  test: string | null;
  /** test numbers only: a digest of the number, so that two test cards differ in the idempotency digest */
  fingerprint?: string;
  exp_month: number;
  exp_year: number;
}

/** True when `card` is already sanitized (sanitizing twice is harmless). */
function isSanitized(card: Record<string, unknown>): boolean {
  return !('number' in card) && typeof card.last4 === 'string' && typeof card.luhn === 'boolean';
}

/**
 * The body of createPaymentMethod with `card.number` replaced by what the handler needs and `card.cvc` dropped;
 * any other body is returned unchanged. The CVC is checked for its form by the contract and never used again.
 */
export function sanitizePaymentMethodBody(body: unknown): unknown {
  if (!body || typeof body !== 'object') return body;
  const { card, ...rest } = body as Record<string, unknown>;
  if (!card || typeof card !== 'object' || isSanitized(card as Record<string, unknown>)) return body;
  const { number, cvc: _cvc, exp_month, exp_year } = card as Record<string, unknown>;
  const digits = typeof number === 'string' ? number.replace(/ /g, '') : '';
  const testCard = TEST_CARD_BY_NUMBER.get(digits);
  const sanitized: SanitizedCard = {
    brand: brandOfNumber(digits),
    last4: digits.slice(-4),
    luhn: passesLuhn(digits),
    test: testCard?.name ?? null,
    ...(testCard ? { fingerprint: createHash('sha256').update('understudy-test-card/' + digits).digest('hex').slice(0, 16) } : {}),
    exp_month: exp_month as number,
    exp_year: exp_year as number,
  };
  return { ...rest, card: sanitized };
}
