/** Probable double charges (GET /__admin/payments/duplicates): what findDuplicates groups and what it leaves out. */
import { describe, expect, it } from 'vitest';
import { findDuplicates } from '../../../src/systems/payments/index.js';
import { charge, payments } from './fixtures.js';

const WINDOW = 60_000;

describe('findDuplicates', () => {
  it('a retry with the same key is no duplicate; a retry without a key (a lost acknowledgement) is', () => {
    const f = payments();
    const cus = f.call('createCustomer').body.id;
    const body = charge({ customer: cus, metadata: { order_id: 'SO-1' } });
    const first = f.call('createCharge', { body, key: 'k1' });
    f.clock.advance(5000);
    f.call('createCharge', { body, key: 'k1' });
    expect(findDuplicates(f.state, WINDOW)).toEqual([]);

    f.clock.advance(5000);
    const second = f.call('createCharge', { body });
    expect(findDuplicates(f.state, WINDOW)).toEqual([
      {
        client: 'sf-sandbox',
        customer: cus,
        amount: body.amount,
        currency: 'usd',
        order_reference: 'SO-1',
        charges: [
          { id: first.body.id, created: first.body.created, idempotency_key: 'k1', status: 'succeeded' },
          { id: second.body.id, created: second.body.created, idempotency_key: null, status: 'succeeded' },
        ],
      },
    ]);
  });

  it('groups only the same client, customer, amount, currency and order reference', () => {
    const f = payments();
    const base = { metadata: { order_id: 'SO-2' } };
    f.call('createCharge', { body: charge(base) });
    f.call('createCharge', { body: charge(base), client: 'other' });
    f.call('createCharge', { body: charge({ ...base, amount: 1 }) });
    f.call('createCharge', { body: charge({ ...base, currency: 'eur' }) });
    f.call('createCharge', { body: charge({ metadata: { order_id: 'SO-3' } }) });
    f.call('createCharge', { body: charge({ ...base, customer: f.call('createCustomer').body.id }) });
    expect(findDuplicates(f.state, WINDOW)).toEqual([]);
  });

  it('reads the order reference from order_id, else order_number, else description; none at all is a value too', () => {
    const f = payments();
    f.call('createCharge', { body: charge({ metadata: { order_number: '42' } }) });
    f.call('createCharge', { body: charge({ metadata: { order_number: '42' }, description: 'ignored when order_number is there' }) });
    f.call('createCharge', { body: charge({ description: 'Order 7' }) });
    f.call('createCharge', { body: charge({ description: 'Order 7' }) });
    f.call('createCharge', { body: charge() });
    f.call('createCharge', { body: charge() });
    f.call('createCharge', { body: charge({ metadata: { order_id: 'A', order_number: '42' } }) });
    expect(findDuplicates(f.state, WINDOW).map((g) => [g.order_reference, g.charges.length])).toEqual([
      ['42', 2],
      ['Order 7', 2],
      [null, 2],
    ]);
  });

  it('chains charges within the window of the previous one, splits at a gap, and leaves failed charges out', () => {
    const f = payments();
    const ids: string[] = [];
    const at = (ms: number, pm = 'pm_card_visa') => {
      f.clock.set(f.clock.now() + ms);
      const r = f.call('createCharge', { body: charge({ payment_method: pm }) });
      ids.push(r.status === 201 ? r.body.id : r.body.error.charge);
    };
    at(0);
    at(WINDOW); // exactly at the window: in
    at(WINDOW); // chained: 2 windows from the first
    at(WINDOW + 1); // a gap: a new run of one
    at(1000, 'pm_card_chargeDeclined'); // failed: not a duplicate
    at(1000);
    const groups = findDuplicates(f.state, WINDOW);
    expect(groups.map((g) => g.charges.map((c) => c.id))).toEqual([
      [ids[0], ids[1], ids[2]],
      [ids[3], ids[5]],
    ]);
    expect(findDuplicates(f.state, WINDOW - 1)).toEqual([expect.objectContaining({ charges: [expect.objectContaining({ id: ids[3] }), expect.objectContaining({ id: ids[5] })] })]);
  });

  it('counts authorized and pending charges, orders groups by time, and refuses a bad window', () => {
    const f = payments();
    f.call('createCharge', { body: charge({ amount: 2, description: 'b' }) });
    f.call('createCharge', { body: charge({ amount: 1, capture: false }) });
    const pending = f.call('createCharge', { body: charge({ amount: 1, capture: false }) }).body.id;
    f.call('captureCharge', { params: { id: pending } });
    f.call('createCharge', { body: charge({ amount: 2, description: 'b' }) });
    const groups = findDuplicates(f.state, WINDOW);
    expect(groups.map((g) => g.amount)).toEqual([2, 1]);
    expect(groups[1].charges.map((c) => c.status)).toEqual(['succeeded', 'pending']);
    expect(() => findDuplicates(f.state, -1)).toThrow(RangeError);
    expect(() => findDuplicates(f.state, Number.NaN)).toThrow(RangeError);
  });
});
