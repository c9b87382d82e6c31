/** Webhooks: the change list as events, in order, with Stripe's envelope; replays emit nothing; tick settles captures. */
import { describe, expect, it } from 'vitest';
import { PAYMENTS_EVENT_TYPES } from '../../../src/systems/payments/index.js';
import { charge, contract, expectSchema, payments } from './fixtures.js';

describe('events', () => {
  it('declares exactly the contract webhook types', () => {
    expect([...PAYMENTS_EVENT_TYPES].sort()).toEqual([...contract.components.schemas.WebhookEvent.properties.type.enum].sort());
    const f = payments();
    expect(f.system.events!.types).toBe(PAYMENTS_EVENT_TYPES);
  });

  it('emits in order: succeeded, failed, capture settled, refund.succeeded then charge.refunded; data as GET shows it', () => {
    const f = payments();
    const events = f.system.events!;
    const start = events.position(f.state);
    expect(start).toBe(0);
    const ok = f.call('createCharge', { body: charge() }).body;
    const declined = f.call('createCharge', { body: charge({ payment_method: 'pm_card_lostCard' }) }).body.error.charge;
    const auth = f.call('createCharge', { body: charge({ capture: false }) }).body;
    f.call('captureCharge', { params: { id: auth.id } });
    f.clock.advance(2000);
    f.call('listCharges');
    const refund = f.call('createRefund', { body: { charge: ok.id, amount: 10 } }).body;

    const changes = events.since(f.state, start);
    expect(changes.map((c) => [c.type, (c.data as any).id])).toEqual([
      ['charge.succeeded', ok.id],
      ['charge.failed', declined],
      ['charge.succeeded', auth.id],
      ['charge.succeeded', auth.id],
      ['refund.succeeded', refund.id],
      ['charge.refunded', ok.id],
    ]);
    expect(changes.map((c) => c.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events.position(f.state)).toBe(6);
    expect(changes[5].data).toEqual(f.call('getCharge', { params: { id: ok.id } }).body);
    expect(changes[4].data).toEqual(refund);
    expect(events.since(f.state, 4).map((c) => c.seq)).toEqual([5, 6]);
    expect(events.since(f.state, 6)).toEqual([]);
  });

  it('emits nothing for replays, refusals, 404s and 500s', () => {
    const f = payments();
    f.call('createCharge', { body: charge(), key: 'k' });
    const position = f.system.events!.position(f.state);
    f.call('createCharge', { body: charge(), key: 'k' });
    f.call('createCharge', { body: charge({ payment_method: 'pm_card_apiError' }) });
    f.call('createCharge', { body: charge({ customer: 'cus_nobody' }) });
    f.call('createRefund', { body: { charge: 'ch_nothing' } });
    expect(f.system.events!.position(f.state)).toBe(position);
  });

  it("wraps data in Stripe's event object (the contract's WebhookEvent), created in seconds", () => {
    const f = payments();
    const ch = f.call('createCharge', { body: charge() }).body;
    const [change] = f.system.events!.since(f.state, 0);
    const created = f.clock.now() + 999;
    const event = f.system.events!.envelope!({ id: 'evt_Xk3n9QpL2vR7sT1wYb5cZd8e', type: change.type, created, system: 'payments' }, change.data);
    expect(event).toEqual({ id: 'evt_Xk3n9QpL2vR7sT1wYb5cZd8e', object: 'event', type: 'charge.succeeded', created: Math.floor(created / 1000), data: { object: ch } });
    expectSchema('WebhookEvent', event);
    const refund = f.call('createRefund', { body: { charge: ch.id } }).body;
    const refundChange = f.system.events!.since(f.state, 1)[0];
    expectSchema('WebhookEvent', f.system.events!.envelope!({ id: 'evt_a', type: refundChange.type, created, system: 'payments' }, refundChange.data));
    expect(refundChange.data).toEqual(refund);
  });

  it('tick settles due captures while nobody calls, says when the next falls due, and sleeps with none pending', () => {
    const f = payments({ captureDelayMs: 2500 });
    const events = f.system.events!;
    expect(events.tick!(f.state)).toBeUndefined();
    const auth = f.call('createCharge', { body: charge({ capture: false }) }).body;
    f.call('captureCharge', { params: { id: auth.id } });
    expect(events.tick!(f.state)).toBe(2500);
    f.clock.advance(2000);
    expect(events.tick!(f.state)).toBe(500);
    const position = events.position(f.state);
    f.clock.advance(500);
    expect(events.tick!(f.state)).toBeUndefined();
    expect(events.since(f.state, position).map((c) => [c.type, c.at])).toEqual([['charge.succeeded', f.clock.now()]]);
  });

  it('keeps at most maxObjects change entries; positions keep counting and since() skips what was dropped', () => {
    const f = payments({ maxObjects: 3 });
    for (let i = 0; i < 5; i++) f.call('createCharge', { body: charge({ amount: i + 1 }) });
    expect(f.system.events!.position(f.state)).toBe(5);
    expect(f.system.events!.since(f.state, 0).map((c) => [c.seq, (c.data as any).amount])).toEqual([
      [3, 3],
      [4, 4],
      [5, 5],
    ]);
  });
});
