/**
 * The state is a pure function of (seed, the accepted writes in order, their clock times): the same writes at the
 * same times give the same state, a replay of the write log (as the engine replays it at start-up) answers the
 * same and ends in the same state, and a snapshot restores to the same answers and carries on with the same ids.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/util/clock.js';
import { card, charge, payments, replay, START, visible, type Fixture } from './fixtures.js';

/** A busy day: every kind of write, keyed and not, declines, 500s, captures settling and failing, refunds. */
function scenario(f: Fixture): void {
  const cus = f.call('createCustomer', { body: { name: 'Jenny', metadata: { sf: '1' } }, key: 'c1' }).body.id;
  const pm = f.call('createPaymentMethod', { body: card('4242 4242 4242 4242', { cvc: '123' }), key: 'p1' }).body.id;
  f.call('createPaymentMethod', { body: card('4111 1111 1111 1111') });
  for (let i = 0; i < 6; i++) {
    f.clock.advance(700);
    const key = i % 2 === 0 ? `k${i}` : undefined;
    const made = f.call('createCharge', { body: charge({ amount: 1000 + i, customer: cus, payment_method: i === 3 ? 'pm_card_insufficientFunds' : pm, capture: i % 3 !== 0 }), key });
    if (made.status === 201 && !made.body.captured) f.call('captureCharge', { params: { id: made.body.id }, key: `cap${i}` });
    if (made.status === 201 && made.body.captured) f.call('createRefund', { body: { charge: made.body.id, amount: 100 } });
  }
  f.call('createCharge', { body: charge({ payment_method: 'pm_card_apiError' }), key: 'boom' });
  f.call('createCharge', { body: charge({ payment_method: 'pm_card_slow' }), key: 'slow' });
  f.clock.advance(500);
  f.call('createCharge', { body: charge({ payment_method: 'pm_card_slow' }), key: 'slow' });
  f.call('createCharge', { body: charge(), key: 'k0' });
  f.clock.advance(3000);
  f.call('listCharges');
  f.call('createRefund', { body: { charge: f.state.charges[0].id } });
}

const snapshotOf = (f: Fixture, state = f.state) => f.system.snapshotState!(state).toString('utf8');

describe('determinism', () => {
  it('the same writes at the same times on two states give the same state', () => {
    const a = payments({ captureFailureRate: 0.5, seed: 9 });
    const b = payments({ captureFailureRate: 0.5, seed: 9 });
    scenario(a);
    scenario(b);
    expect(snapshotOf(b)).toBe(snapshotOf(a));
    expect(visible(b, b.state)).toEqual(visible(a, a.state));
  });

  it('another seed gives other ids', () => {
    const a = payments({ seed: 1 });
    const b = payments({ seed: 2 });
    scenario(a);
    scenario(b);
    expect(b.state.charges[0].id).not.toBe(a.state.charges[0].id);
  });

  it('replaying the write log (sanitized inputs, clock pinned at each write) answers the same and ends in the same state', () => {
    const f = payments({ captureFailureRate: 0.5 });
    scenario(f);
    // reads are not logged, and nothing but the writes and their times decides the state
    expect(f.log.some((w) => w.status === 402)).toBe(true);
    expect(f.log.some((w) => w.status === 500)).toBe(true);
    const rebuilt = replay(f);
    expect(rebuilt.statuses).toEqual(f.log.map((w) => w.status));
    // settle what is due by now on both (reads would)
    rebuilt.clock.set(f.clock.now());
    rebuilt.state.catchUp();
    f.state.catchUp();
    expect(snapshotOf(f, rebuilt.state)).toBe(snapshotOf(f));
    // and carries on alike: the replayed keys replay
    const again = (state: typeof f.state) => f.system.handlers.createCharge({ operationId: 'createCharge', params: {}, query: {}, headers: { 'idempotency-key': 'k0' }, body: charge(), client: 'sf-sandbox', workspace: 'default', baseUrl: '/payments/v1' }, state);
    expect(again(rebuilt.state)).toEqual(again(f.state));
  });

  it('a read in between does not change the outcome: capture settlement is stamped with its due time', () => {
    const withRead = payments();
    const without = payments();
    for (const f of [withRead, without]) {
      const id = f.call('createCharge', { body: charge({ capture: false }) }).body.id;
      f.call('captureCharge', { params: { id } });
      f.clock.advance(2100);
      if (f === withRead) f.call('getCharge', { params: { id } });
      f.clock.advance(5000);
      f.call('createRefund', { body: { charge: id, amount: 5 } });
    }
    expect(snapshotOf(withRead)).toBe(snapshotOf(without));
  });

  it('snapshot → restore gives the same GET answers and carries on with the same ids and the same pending captures', () => {
    const f = payments({ captureFailureRate: 0.5 });
    scenario(f);
    const auth = f.call('createCharge', { body: charge({ capture: false }) }).body;
    f.call('captureCharge', { params: { id: auth.id }, key: 'late' });
    const bytes = f.system.snapshotState!(f.state);
    const clock = new ManualClock(f.clock.now());
    const restored = f.system.restoreState!(bytes, { seed: f.seed, clock });
    expect(visible(f, restored)).toEqual(visible(f, f.state));
    expect(f.system.snapshotState!(restored).equals(bytes)).toBe(true);

    const next = (state: typeof f.state, key?: string, body = charge()) =>
      f.system.handlers.createCharge(
        { operationId: 'createCharge', params: {}, query: {}, headers: key ? { 'idempotency-key': key } : {}, body, client: 'sf-sandbox', workspace: 'default', baseUrl: '/payments/v1' },
        state,
      ) as any;
    for (const c of [f.clock, clock]) c.advance(2500);
    const a = next(f.state);
    const b = next(restored);
    expect(b.body.id).toBe(a.body.id);
    expect(visible(f, restored)).toEqual(visible(f, f.state));
    // stored keys survive with their answers
    const boom = next(restored, 'boom', charge({ payment_method: 'pm_card_apiError' }));
    expect(boom.status).toBe(500);
    expect(boom.headers).toEqual({ 'idempotent-replayed': 'true' });
    expect(next(restored, 'k0').body).toEqual(next(f.state, 'k0').body);
    expect(f.system.events!.position(restored)).toBe(f.system.events!.position(f.state));
  });

  it('restore refuses bytes that are not a payments snapshot of this configuration', () => {
    const f = payments();
    scenario(f);
    const bytes = f.system.snapshotState!(f.state);
    const options = { seed: f.seed, clock: new ManualClock(START) };
    expect(() => f.system.restoreState!(Buffer.from('USWMSNAP garbage'), options)).toThrow(/not a payments snapshot/);
    expect(() => f.system.restoreState!(Buffer.from('{"format":"other"}'), options)).toThrow(/not a payments snapshot/);
    expect(() => f.system.restoreState!(bytes, { ...options, seed: 43 })).toThrow(/seed/);
    const other = payments({ captureDelayMs: 1000 });
    expect(() => other.system.restoreState!(bytes, options)).toThrow(/captureDelayMs/);
    const bounded = payments({ maxObjects: 10 });
    expect(() => bounded.system.restoreState!(bytes, options)).toThrow(/maxObjects/);
    const data = JSON.parse(bytes.toString('utf8'));
    data.charges.reverse();
    expect(() => f.system.restoreState!(Buffer.from(JSON.stringify(data)), options)).toThrow(/corrupt/);
    expect(() => f.system.restoreState!(Buffer.from(JSON.stringify({ ...JSON.parse(bytes.toString()), version: 99 })), options)).toThrow(/version/);
  });

  it('handlers read time only from the state clock: a write at a pinned time gives the same ids and stamps', () => {
    const f = payments();
    const ch = f.call('createCharge', { body: charge() }).body;
    expect(ch.created).toBe(Math.floor(START / 1000));
  });
});
