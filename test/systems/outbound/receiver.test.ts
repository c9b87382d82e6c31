/**
 * The Outbound Message receiver's domain, without sockets: the `notifications` handler called with what the SOAP
 * engine hands it, the state it keeps (one record per notification Id, deliveries and duplicates, the latest
 * receipt's Ack, listener, data and times, newest first, bounded by maxObjects), its snapshots, the system
 * definition the engine mounts, and the noAck fault kind.
 */
import { describe, expect, it } from 'vitest';
import { profileFromText } from '../../../src/chaos/profile.js';
import { FAULT_KINDS, LATER_KINDS } from '../../../src/chaos/faults/index.js';
import { NotApplicable, type FaultContext } from '../../../src/chaos/faults/fault.js';
import type { Exchange } from '../../../src/engine/exchange.js';
import type { MountedSystem } from '../../../src/engine/system.js';
import { createOutboundSystem, listNotifications, OutboundState } from '../../../src/systems/outbound/index.js';
import { ManualClock } from '../../../src/util/clock.js';
import { ManualScheduler } from '../../../src/util/scheduler.js';
import { ACTION_ID, account, accountId, notificationId, ORG_ID, requestOf, type SampleNotification } from './fixtures.js';

const START = Date.UTC(2026, 0, 1);

function receiver(maxObjects?: number) {
  const clock = new ManualClock(START);
  const system = createOutboundSystem({ maxObjects });
  const state = system.createState({ seed: 1, clock });
  const deliver = (notifications: SampleNotification[], options: Parameters<typeof requestOf>[1] = {}) =>
    system.handlers.notifications(requestOf(notifications, options), state);
  return { clock, system, state, deliver };
}

describe('the notifications handler', () => {
  it('records a single notification and acknowledges it', () => {
    const { state, deliver } = receiver();
    const result = deliver([account(1, 'Acme Corporation')]);
    expect(result).toEqual({
      body: { Ack: true },
      effects: [{ entity: 'notification', id: notificationId(1), action: 'created' }],
      changedState: true,
    });
    expect(listNotifications(state)).toEqual([
      {
        id: notificationId(1),
        listener: 'default',
        organizationId: ORG_ID,
        actionId: ACTION_ID,
        sObject: { type: 'Account', fields: { Id: accountId(1), Name: 'Acme Corporation', AccountNumber: 'CD1001' } },
        deliveries: 1,
        duplicate: false,
        acked: true,
        firstReceived: '2026-01-01T00:00:00.000Z',
        lastReceived: '2026-01-01T00:00:00.000Z',
      },
    ]);
  });

  it('records every notification of a 100-notification message, with one Ack for all', () => {
    const { state, deliver } = receiver();
    const hundred = Array.from({ length: 100 }, (_, i) => account(i + 1));
    const result = deliver(hundred);
    expect(result).toMatchObject({ body: { Ack: true } });
    const list = listNotifications(state);
    expect(list).toHaveLength(100);
    expect(new Set(list.map((n) => n.id))).toEqual(new Set(hundred.map((n) => n.id)));
    expect(list.every((n) => n.deliveries === 1 && !n.duplicate && n.acked)).toBe(true);
    // newest first: within one message, the later notification first
    expect(list[0].id).toBe(notificationId(100));
    expect(list[99].id).toBe(notificationId(1));
  });

  it('counts a notification Id delivered again as a duplicate, keeping the first receipt time and the latest data', () => {
    const { clock, state, deliver } = receiver();
    deliver([account(1, 'Acme')]);
    clock.advance(60_000);
    const again = deliver([account(1, 'Acme Corporation')]);
    expect(again).toMatchObject({ body: { Ack: true }, effects: [{ entity: 'notification', id: notificationId(1), action: 'redelivered' }] });
    expect(listNotifications(state)).toEqual([
      expect.objectContaining({
        id: notificationId(1),
        deliveries: 2,
        duplicate: true,
        acked: true,
        sObject: { type: 'Account', fields: expect.objectContaining({ Name: 'Acme Corporation' }) },
        firstReceived: '2026-01-01T00:00:00.000Z',
        lastReceived: '2026-01-01T00:01:00.000Z',
      }),
    ]);
  });

  it('lists newest receipt first: a redelivered notification moves to the top', () => {
    const { clock, state, deliver } = receiver();
    deliver([account(1)]);
    clock.advance(1000);
    deliver([account(2)]);
    expect(listNotifications(state).map((n) => n.id)).toEqual([notificationId(2), notificationId(1)]);
    clock.advance(1000);
    deliver([account(1)]);
    expect(listNotifications(state).map((n) => [n.id, n.deliveries])).toEqual([
      [notificationId(1), 2],
      [notificationId(2), 1],
    ]);
  });

  it('a notification Id twice in the same message is one delivery, with its last data', () => {
    const { state, deliver } = receiver();
    const result = deliver([account(1, 'Old name'), account(2), account(1, 'New name')]);
    expect(result).toMatchObject({ effects: [{ id: notificationId(1), action: 'created' }, { id: notificationId(2), action: 'created' }] });
    const one = listNotifications(state).find((n) => n.id === notificationId(1))!;
    expect(one).toMatchObject({ deliveries: 1, duplicate: false, sObject: { fields: { Name: 'New name' } } });
  });

  it('with the Ack withheld (chaos noAck) it still records the message and answers Ack false; acked follows the latest receipt', () => {
    const { state, deliver } = receiver();
    expect(deliver([account(1)], { ackWithheld: true })).toMatchObject({ body: { Ack: false }, changedState: true });
    expect(listNotifications(state)).toEqual([expect.objectContaining({ id: notificationId(1), deliveries: 1, acked: false })]);
    expect(deliver([account(1)])).toMatchObject({ body: { Ack: true } });
    expect(listNotifications(state)).toEqual([expect.objectContaining({ id: notificationId(1), deliveries: 2, duplicate: true, acked: true })]);
    deliver([account(1)], { ackWithheld: true });
    expect(listNotifications(state)[0]).toMatchObject({ deliveries: 3, acked: false });
  });

  it('names the listener after the endpoint (/sfdc/outbound/{name}), default without one, and filters by it', () => {
    const { state, deliver } = receiver();
    deliver([account(1)]);
    deliver([account(2)], { endpoint: 'orders' });
    expect(listNotifications(state).map((n) => [n.id, n.listener])).toEqual([
      [notificationId(2), 'orders'],
      [notificationId(1), 'default'],
    ]);
    expect(listNotifications(state, { listener: 'orders' }).map((n) => n.id)).toEqual([notificationId(2)]);
    expect(listNotifications(state, { listener: 'default' }).map((n) => n.id)).toEqual([notificationId(1)]);
    expect(listNotifications(state, { listener: 'nobody' })).toEqual([]);
  });

  it('keeps sObject fields by local name, xsi:nil fields as null, a missing xsi:type as null, any object type', () => {
    const { state, deliver } = receiver();
    deliver([
      { id: notificationId(1), type: 'Opportunity', fields: { Id: '0065e00000AbCdEAAZ', StageName: 'Closed Won', Amount: '1200.00', NextStep: null } },
      { id: notificationId(2), type: 'Order__c', fields: { Id: 'a015e00000AbCdEAAZ', Total__c: '5' } },
    ]);
    // the engine gives a sObject without xsi:type as type null
    const state2 = receiver();
    state2.system.handlers.notifications(
      { ...requestOf([]), body: { ...requestOf([]).body, Notification: [{ Id: notificationId(3), sObject: { type: null, fields: { Id: accountId(3) } } }] } },
      state2.state,
    );
    const byId = new Map(listNotifications(state).map((n) => [n.id, n.sObject]));
    expect(byId.get(notificationId(1))).toEqual({ type: 'Opportunity', fields: { Id: '0065e00000AbCdEAAZ', StageName: 'Closed Won', Amount: '1200.00', NextStep: null } });
    expect(byId.get(notificationId(2))).toEqual({ type: 'Order__c', fields: { Id: 'a015e00000AbCdEAAZ', Total__c: '5' } });
    expect(listNotifications(state2.state)[0].sObject).toEqual({ type: null, fields: { Id: accountId(3) } });
  });

  it('a field named __proto__ is a field, not the record prototype', () => {
    const { state, system } = receiver();
    const fields = JSON.parse('{"Id":"0015e00000000001QA","__proto__":"x"}');
    system.handlers.notifications({ ...requestOf([]), body: { ...requestOf([]).body, Notification: [{ Id: notificationId(1), sObject: { type: 'Account', fields } }] } }, state);
    const view = listNotifications(state)[0];
    expect(Object.getPrototypeOf(view.sObject.fields)).toBe(Object.prototype);
    expect(Object.keys(view.sObject.fields)).toEqual(['Id', '__proto__']);
    expect(JSON.parse(JSON.stringify(view)).sObject.fields.__proto__).toBe('x');
  });
});

describe('the state', () => {
  it('is bounded by maxObjects: the notification received longest ago goes first', () => {
    const { clock, state, deliver } = receiver(3);
    for (const n of [1, 2, 3]) {
      deliver([account(n)]);
      clock.advance(1000);
    }
    deliver([account(1)]); // 1 is now the latest receipt; 2 is the oldest
    deliver([account(4)]);
    expect(listNotifications(state).map((n) => n.id)).toEqual([notificationId(4), notificationId(1), notificationId(3)]);
    // a message larger than the bound keeps its latest notifications
    deliver(Array.from({ length: 5 }, (_, i) => account(10 + i)));
    expect(listNotifications(state).map((n) => n.id)).toEqual([notificationId(14), notificationId(13), notificationId(12)]);
  });

  it('is a function of the writes and their times: the same writes at the same times give the same state', () => {
    const run = () => {
      const { clock, state, deliver } = receiver(50);
      for (let i = 0; i < 40; i++) {
        deliver([account(i % 13), account((i * 7) % 29)], { ackWithheld: i % 5 === 0, endpoint: i % 3 === 0 ? 'orders' : undefined });
        clock.advance(250 * (i % 4));
      }
      return listNotifications(state);
    };
    expect(run()).toEqual(run());
  });

  it('snapshots to JSON and restores the same state, order and bound included', () => {
    const { clock, system, state, deliver } = receiver(10);
    deliver([account(1), account(2)]);
    clock.advance(5000);
    deliver([account(1)], { ackWithheld: true, endpoint: 'orders' });
    const bytes = system.snapshotState!(state);
    expect(() => JSON.parse(bytes.toString('utf8'))).not.toThrow();
    const restored = system.restoreState!(bytes, { seed: 1, clock });
    expect(listNotifications(restored)).toEqual(listNotifications(state));
    // and it goes on counting from where it was
    system.handlers.notifications(requestOf([account(2)]), restored);
    expect(listNotifications(restored)[0]).toMatchObject({ id: notificationId(2), deliveries: 2, duplicate: true });
  });

  it('refuses a snapshot that is not its own or was kept with another bound', () => {
    const { system, state, clock } = receiver(10);
    const bytes = system.snapshotState!(state);
    expect(() => system.restoreState!(Buffer.from('not json'), { seed: 1, clock })).toThrow(/not an outbound snapshot/);
    expect(() => system.restoreState!(Buffer.from('{"format":"understudy-payments-snapshot"}'), { seed: 1, clock })).toThrow(/not an outbound snapshot/);
    expect(() => createOutboundSystem({ maxObjects: 20 }).restoreState!(bytes, { seed: 1, clock })).toThrow(/maxObjects 10 \(now 20\)/);
    const damaged = JSON.parse(bytes.toString());
    damaged.notifications = [{ id: 1 }];
    expect(() => system.restoreState!(Buffer.from(JSON.stringify(damaged)), { seed: 1, clock })).toThrow(/damaged/);
  });
});

describe('the system definition', () => {
  it('mounts at /sfdc/outbound with named listeners, acknowledges, logs notifications as a write', () => {
    const system = createOutboundSystem();
    expect(system).toMatchObject({ name: 'outbound', mount: '/sfdc/outbound', named: true, acknowledges: true, writes: ['notifications'] });
    expect(Object.keys(system.handlers)).toEqual(['notifications']);
    expect(system.wsdlFile).toMatch(/contracts\/outbound\.wsdl$/);
    expect(system.createState({ seed: 1, clock: new ManualClock() })).toBeInstanceOf(OutboundState);
    expect(createOutboundSystem({ maxObjects: 100 }).stateOptions).toEqual({ maxObjects: 100 });
  });

  it('refuses a bound that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => createOutboundSystem({ maxObjects: bad })).toThrow(/maxObjects must be an integer >= 1/);
  });
});

describe('the noAck fault kind', () => {
  const kind = FAULT_KINDS.get('noAck')!;
  const context = (system: Partial<MountedSystem> | undefined): FaultContext => {
    const clock = new ManualClock();
    return {
      exchange: { system } as unknown as Exchange,
      random: () => 0,
      ordinal: 0,
      clock,
      scheduler: new ManualScheduler(clock),
      activatedAt: 0,
      record: {},
    };
  };

  it('is a before-stage kind without parameters, no longer announced as arriving later', () => {
    expect(kind).toMatchObject({ kind: 'noAck', stage: 'before' });
    expect(LATER_KINDS.noAck).toBeUndefined();
  });

  it('withholds the Ack of a system that acknowledges and lets the request carry on', () => {
    const ctx = context({ name: 'outbound', acknowledges: true });
    expect(kind.before!(ctx, kind.compile({}))).toBeUndefined();
    expect(ctx.exchange.ackWithheld).toBe(true);
  });

  it('does not apply to a system that does not acknowledge (the journal notes it as skipped)', () => {
    for (const system of [{ name: 'wms' }, { name: 'erp', acknowledges: false }, undefined]) {
      const ctx = context(system);
      expect(() => kind.before!(ctx, null)).toThrow(NotApplicable);
      expect(ctx.exchange.ackWithheld).toBeUndefined();
    }
  });

  it('is written bare (- noAck), empty (noAck:) or with a probability, and takes no parameters', () => {
    for (const fault of ['noAck', 'noAck:', 'noAck: {}', 'noAck: { probability: 0.5 }']) {
      const profile = profileFromText(`rules:\n  - id: r\n    match: { system: outbound }\n    faults:\n      - ${fault}\n`);
      expect(profile.rules[0].faults[0].kind.kind).toBe('noAck');
    }
    expect(() => profileFromText('rules:\n  - id: r\n    faults:\n      - noAck: { code: 1 }\n')).toThrow(/unknown parameter of noAck/);
  });
});
