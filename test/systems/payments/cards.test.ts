/**
 * Test payment methods and test card numbers (the contract's API description): every decline, the Luhn check,
 * live numbers, expiry against the clock, and that no card number survives sanitizing.
 */
import { describe, expect, it } from 'vitest';
import { brandOfNumber, passesLuhn, sanitizePaymentMethodBody, TEST_CARDS, TEST_METHOD_ALIASES, TEST_METHOD_IDS } from '../../../src/systems/payments/cards.js';
import { card, charge, contract, payments } from './fixtures.js';

/** The contract's table, as the API description prints it: id, last four, code / decline_code (or succeeds). */
function contractTable(): Array<{ id: string; last4: string; code?: string; decline?: string }> {
  const rows = [...(contract.info.description as string).matchAll(/^\| `(pm_card_\w+)` \| \w+ (\d{4}) \| (.*) \|$/gm)];
  return rows.map(([, id, last4, outcome]) => {
    const m = /`402` `(\w+)` \/ `(\w+)`/.exec(outcome);
    return m ? { id, last4, code: m[1], decline: m[2] } : { id, last4 };
  });
}

/** The contract's decline numbers: `4000 0000 0000 NNNN` in the API description. */
function contractDeclineNumbers(): string[] {
  return [...(contract.info.description as string).matchAll(/`(4000 0000 0000 \d{4})`/g)].map((m) => m[1]);
}

describe('test payment methods', () => {
  const table = contractTable();

  it('the table of the contract is read whole (12 rows) and every id there is known', () => {
    expect(table).toHaveLength(12);
    for (const row of table) expect(TEST_METHOD_IDS, row.id).toContain(row.id);
  });

  it.each(contractTable().filter((r) => r.code))('$id is declined as the contract says, leaving a failed charge', (row) => {
    const f = payments();
    const result = f.call('createCharge', { body: charge({ payment_method: row.id }) });
    expect(result.status).toBe(402);
    expect(result.body.error).toMatchObject({ type: 'card_error', code: row.code, decline_code: row.decline });
    const kept = f.call('getCharge', { params: { id: result.body.error.charge } }).body;
    expect(kept).toMatchObject({
      status: 'failed',
      paid: false,
      captured: false,
      amount_captured: 0,
      failure_code: row.code,
      failure_message: result.body.error.message,
      outcome: { network_status: 'declined_by_network', reason: row.decline, type: 'issuer_declined' },
      payment_method: row.id,
    });
    expect(f.state.ledger).toHaveLength(0);
    expect(result.effects).toEqual([{ entity: 'charge', id: kept.id, action: 'declined' }]);
  });

  it.each(Object.entries(TEST_METHOD_ALIASES))("Stripe's alias %s behaves as pm_card_%s", (alias, name) => {
    const f = payments();
    const viaAlias = f.call('createCharge', { body: charge({ payment_method: alias }) });
    const viaName = f.call('createCharge', { body: charge({ payment_method: `pm_card_${name}` }) });
    expect(viaAlias.status).toBe(402);
    expect({ ...viaAlias.body.error, charge: undefined }).toEqual({ ...viaName.body.error, charge: undefined });
    expect(f.call('getCharge', { params: { id: viaAlias.body.error.charge } }).body.payment_method).toBe(alias);
  });

  it.each(['pm_card_visa', 'pm_card_mastercard', 'pm_card_amex'])('%s succeeds and is captured at once', (id) => {
    const f = payments();
    const result = f.call('createCharge', { body: charge({ payment_method: id }) });
    expect(result.status).toBe(201);
    expect(result.body).toMatchObject({ status: 'succeeded', paid: true, captured: true, amount_captured: 4999, payment_method: id, failure_code: null });
  });

  it('an unknown pm_ id is a 404 resource_missing with param payment_method, changing nothing', () => {
    const f = payments();
    for (const id of ['pm_card_bogus', 'pm_card_', 'pm_card_toString', 'pm_card_constructor', 'pm_1AbC']) {
      const result = f.call('createCharge', { body: charge({ payment_method: id }) });
      expect(result.status, id).toBe(404);
      expect(result.body.error).toMatchObject({ type: 'invalid_request_error', code: 'resource_missing', param: 'payment_method' });
      expect(result.body.error.message).toContain(id);
    }
    expect(f.state.charges).toHaveLength(0);
  });
});

describe('POST /payment_methods', () => {
  it('makes a payment method from each test number; charging it behaves as the test card with the same last four', () => {
    const numbers = ['4242 4242 4242 4242', '5555 5555 5555 4444', '3782 822463 10005', ...contractDeclineNumbers()];
    expect(numbers.length).toBe(10);
    const f = payments();
    for (const number of numbers) {
      const digits = number.replace(/ /g, '');
      const made = f.call('createPaymentMethod', { body: card(number, { cvc: '123' }) });
      expect(made.status, number).toBe(201);
      expect(made.body.card.last4).toBe(digits.slice(-4));
      expect(made.body.id).toMatch(/^pm_[A-Za-z0-9]+$/);
      expect(JSON.stringify(made.body)).not.toContain(digits);
      const test = Object.values(TEST_CARDS).find((c) => c.number === digits)!;
      const charged = f.call('createCharge', { body: charge({ payment_method: made.body.id }) });
      const viaTestId = f.call('createCharge', { body: charge({ payment_method: `pm_card_${test.name}` }) });
      expect(charged.status, number).toBe(viaTestId.status);
      if (charged.status === 402) expect({ ...charged.body.error, charge: 0 }).toEqual({ ...viaTestId.body.error, charge: 0 });
      else expect(charged.body.payment_method).toBe(made.body.id);
    }
  });

  it('refuses a number that fails the Luhn check: 402 incorrect_number, param card[number], nothing made', () => {
    const f = payments();
    const result = f.call('createPaymentMethod', { body: card('4242 4242 4242 4241') });
    expect(result.status).toBe(402);
    expect(result.body.error).toMatchObject({ type: 'card_error', code: 'incorrect_number', param: 'card[number]' });
    expect(f.state.paymentMethods.size).toBe(0);
    expect(JSON.stringify(result.body)).not.toMatch(/424242/);
  });

  it('refuses a valid number that is not a test number: card_declined / test_mode_live_card', () => {
    const f = payments();
    // Luhn-valid, not in Stripe's table
    for (const number of ['4111 1111 1111 1111', '5105105105105100', '371449635398431']) {
      expect(passesLuhn(number.replace(/ /g, ''))).toBe(true);
      const result = f.call('createPaymentMethod', { body: card(number) });
      expect(result.status, number).toBe(402);
      expect(result.body.error).toMatchObject({ type: 'card_error', code: 'card_declined', decline_code: 'test_mode_live_card' });
      expect(result.body.error.message).not.toMatch(/\d{6}/);
    }
    expect(f.state.paymentMethods.size).toBe(0);
  });

  it('checks the expiry against the clock, in UTC: a past year, a past month of this year; this month is fine', () => {
    // the fixture's clock: 2026-03-01
    const f = payments();
    const year = new Date(f.clock.now()).getUTCFullYear();
    const month = new Date(f.clock.now()).getUTCMonth() + 1;
    const pastYear = f.call('createPaymentMethod', { body: card('4242424242424242', { exp_year: year - 1, exp_month: 12 }) });
    expect(pastYear.body.error).toMatchObject({ code: 'invalid_expiry_year', param: 'card[exp_year]' });
    const pastMonth = f.call('createPaymentMethod', { body: card('4242424242424242', { exp_year: year, exp_month: month - 1 }) });
    expect(pastMonth.body.error).toMatchObject({ code: 'invalid_expiry_month', param: 'card[exp_month]' });
    expect(f.call('createPaymentMethod', { body: card('4242424242424242', { exp_year: year, exp_month: month }) }).status).toBe(201);
    // a year later, what was fine has expired
    f.clock.advance(366 * 86_400_000);
    expect(f.call('createPaymentMethod', { body: card('4242424242424242', { exp_year: year, exp_month: month }) }).body.error.code).toBe('invalid_expiry_year');
  });

  it('checks the Luhn check before the expiry, and the expiry before the test-number check', () => {
    const f = payments();
    expect(f.call('createPaymentMethod', { body: card('4242424242424241', { exp_year: 2000 }) }).body.error.code).toBe('incorrect_number');
    expect(f.call('createPaymentMethod', { body: card('4111111111111111', { exp_year: 2000 }) }).body.error.code).toBe('invalid_expiry_year');
  });

  it('keeps metadata and the expiry, never the number', () => {
    const f = payments();
    const made = f.call('createPaymentMethod', { body: { ...card('5555 5555 5555 4444', { exp_month: 7, exp_year: 2031 }), metadata: { sf: '001' } } });
    expect(made.body).toMatchObject({ object: 'payment_method', type: 'card', card: { brand: 'mastercard', last4: '4444', exp_month: 7, exp_year: 2031 }, metadata: { sf: '001' } });
    expect(made.effects).toEqual([{ entity: 'payment_method', id: made.body.id, action: 'created' }]);
  });
});

describe('sanitizing', () => {
  it('replaces the number by brand, last four, Luhn, test card and (test numbers only) a fingerprint; drops the CVC', () => {
    const test = sanitizePaymentMethodBody(card('4000 0000 0000 9995', { cvc: '987' })) as any;
    expect(test.card).toEqual({ brand: 'visa', last4: '9995', luhn: true, test: 'insufficientFunds', fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/), exp_month: 12, exp_year: 2030 });
    const live = sanitizePaymentMethodBody(card('4111 1111 1111 1111', { cvc: '987' })) as any;
    expect(live.card).toEqual({ brand: 'visa', last4: '1111', luhn: true, test: null, exp_month: 12, exp_year: 2030 });
    const bad = sanitizePaymentMethodBody(card('1234 5678 9012 3456')) as any;
    expect(bad.card).toMatchObject({ luhn: false, test: null, last4: '3456' });
    expect(bad.card.fingerprint).toBeUndefined();
  });

  it('leaves no trace of the number or CVC anywhere in the sanitized body, the state, the log or a snapshot', () => {
    const f = payments();
    const numbers = ['4111111111111111', '4242424242424242', '4242424242424241'];
    numbers.forEach((number, i) => f.call('createPaymentMethod', { body: card(number.replace(/(\d{4})/g, '$1 ').trim(), { cvc: '9876' }), key: `k-${i}` }));
    const everything = [JSON.stringify(f.log), f.system.snapshotState!(f.state).toString('utf8')].join('\n');
    for (const number of numbers) {
      expect(everything).not.toContain(number);
      expect(everything).not.toContain(number.slice(0, 12));
    }
    expect(everything).not.toContain('9876');
    expect(everything).not.toMatch(/"cvc"|"number"/);
  });

  it('tells two test cards apart and leaves other operations alone; sanitizing twice changes nothing', () => {
    const a = sanitizePaymentMethodBody(card('4242424242424242')) as any;
    const b = sanitizePaymentMethodBody(card('4000000000000002')) as any;
    expect(a.card.fingerprint).not.toBe(b.card.fingerprint);
    expect(sanitizePaymentMethodBody(a)).toBe(a);
    const f = payments();
    const body = charge();
    expect(f.system.sanitizeBody!('createCharge', body)).toBe(body);
    expect(f.system.masksCardData).toBe(true);
  });

  it('brands by prefix; Luhn on known numbers', () => {
    expect(brandOfNumber('4000')).toBe('visa');
    expect(brandOfNumber('5555')).toBe('mastercard');
    expect(brandOfNumber('2221000000000009')).toBe('mastercard');
    expect(brandOfNumber('378282')).toBe('amex');
    expect(brandOfNumber('6011000000000004')).toBe('unknown');
    for (const c of Object.values(TEST_CARDS)) if (c.number) expect(passesLuhn(c.number), c.name).toBe(true);
    expect(passesLuhn('4242424242424241')).toBe(false);
    expect(passesLuhn('')).toBe(false);
  });
});
