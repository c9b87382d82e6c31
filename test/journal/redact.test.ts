/**
 * Card data masking for the journal (journal/redact.ts maskCardData): what the payment gateway's
 * createPaymentMethod keeps of a request body. The journal stores these bytes (in memory and in journal.db), so
 * nothing a card number could be read back from may survive, and the kept body must keep its size and everything
 * that is not card data.
 */
import { describe, expect, it } from 'vitest';
import { maskCardData, redactBodyText } from '../../src/journal/redact.js';

const mask = (text: string) => maskCardData(Buffer.from(text, 'latin1')).toString('latin1');

describe('maskCardData', () => {
  it('keeps the last four digits of a card number, grouped or not, and the size of the body', () => {
    const body = '{"type":"card","card":{"number":"4242 4242 4242 4242","exp_month":12,"exp_year":2030}}';
    const masked = mask(body);
    expect(masked).toBe('{"type":"card","card":{"number":"**** **** **** 4242","exp_month":12,"exp_year":2030}}');
    expect(masked.length).toBe(body.length);
    expect(mask('{"number":"4000000000000002"}')).toBe('{"number":"************0002"}');
    expect(mask('{"number":"3782-822463-10005"}')).toBe('{"number":"****-******-*0005"}');
  });

  it('masks CVCs written as JSON, form fields or XML, and leaves short numbers alone', () => {
    expect(mask('{"cvc": "123", "exp_month": 12}')).toBe('{"cvc": "***", "exp_month": 12}');
    expect(mask('card[number]=5555555555554444&card[cvc]=1234')).toBe('card[number]=************4444&card[cvc]=****');
    expect(mask('<cvv2>987</cvv2>')).toBe('<cvv2>***</cvv2>');
    expect(mask('{"exp_year":2030,"amount":4999}')).toBe('{"exp_year":2030,"amount":4999}');
  });

  it('returns the very same buffer when there is nothing to mask, and keeps bytes that are not UTF-8', () => {
    const clean = Buffer.from('{"type":"card"}');
    expect(maskCardData(clean)).toBe(clean);
    const binary = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(' 4242424242424242 '), Buffer.from([0xc3])]);
    const masked = maskCardData(binary);
    expect(masked.length).toBe(binary.length);
    expect([...masked.subarray(0, 2)]).toEqual([0xff, 0xfe]);
    expect(masked.at(-1)).toBe(0xc3);
    expect(masked.toString('latin1')).toContain('************4242');
  });

  it('is what the journal shows, with the CVC field redacted once more on the way out', () => {
    const masked = mask('{"card":{"number":"4242424242424242","cvc":"123"}}');
    expect(redactBodyText(masked)).toBe('{"card":{"number":"************4242","cvc":"[redacted]"}}');
  });
});
