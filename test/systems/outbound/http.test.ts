/**
 * The Outbound Message receiver through real sockets, sent what Salesforce sends (SALESFORCE.md §4): a single
 * notification and a 100-notification message acknowledged with the exact Ack envelope and all of them recorded,
 * 101 refused with a Client fault, a redelivered notification Id counted as a duplicate, a listener per
 * /sfdc/outbound/{name}, GET /__admin/outbound per workspace, and each chaos mode the issue names (noAck,
 * soapFault, status 503, latency on manual time, reset), then a `state` reset forgetting them.
 */
import { describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/server.js';
import { ManualClock } from '../../../src/util/clock.js';
import { ManualScheduler } from '../../../src/util/scheduler.js';
import { call, json, start } from '../../helpers.js';
import { account, ACTION_ID, accountId, envelope, notificationId, ORG_ID, SINGLE } from './fixtures.js';
import { ackOf, bodyElement, chaos, drive, faultOf, post, received } from './http-support.js';

const OUTBOUND = '/sfdc/outbound';

interface Server {
  url: string;
  clock: ManualClock;
  scheduler: ManualScheduler;
  server: RunningServer;
}

async function server(): Promise<Server> {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 9, 0, 0));
  const scheduler = new ManualScheduler(clock);
  // the WMS for a system without an Ack; the ERP and the gateway are not needed here
  const s = await start({ clock, scheduler, seed: 7, systems: { wms: { skus: 20 }, payments: { enabled: false }, erp: { enabled: false } } });
  return { url: s.url, clock, scheduler, server: s };
}

const hundred = (from = 1) => Array.from({ length: 100 }, (_, i) => account(from + i));

describe('receiving Outbound Messages', () => {
  it('acknowledges a single notification with the exact Ack envelope and records it', async () => {
    const s = await server();
    const outcome = await post(s.url, OUTBOUND, SINGLE);
    expect(outcome.status, outcome.text).toBe(200);
    expect(outcome.headers['content-type']).toMatch(/^text\/xml; charset=utf-8$/i);
    expect(ackOf(outcome)).toBe(true);
    // the envelope SALESFORCE.md §4 gives, but for whitespace, the XML declaration and other namespace declarations
    const compact = outcome.text.replace(/^<\?xml[^>]*\?>/, '').replace(/>\s+</g, '><').trim();
    expect(compact).toMatch(
      /^<(\w+):Envelope xmlns:\1="http:\/\/schemas\.xmlsoap\.org\/soap\/envelope\/"( xmlns:\w+="[^"]*")*>(<\1:Header\/>)?<\1:Body><notificationsResponse xmlns="http:\/\/soap\.sforce\.com\/2005\/09\/outbound"><Ack>true<\/Ack><\/notificationsResponse><\/\1:Body><\/\1:Envelope>$/,
    );
    expect(await received(s.url)).toEqual([
      {
        id: notificationId(1),
        listener: 'default',
        organizationId: ORG_ID,
        actionId: ACTION_ID,
        sObject: { type: 'Account', fields: { Id: accountId(1), Name: 'Acme Corporation', AccountNumber: 'CD1001' } },
        deliveries: 1,
        duplicate: false,
        acked: true,
        firstReceived: '2026-01-01T09:00:00.000Z',
        lastReceived: '2026-01-01T09:00:00.000Z',
      },
    ]);
  });

  it('acknowledges a 100-notification message and records all 100', async () => {
    const s = await server();
    expect(ackOf(await post(s.url, OUTBOUND, envelope(hundred())))).toBe(true);
    const list = await received(s.url);
    expect(list).toHaveLength(100);
    expect(new Set(list.map((n) => n.id))).toEqual(new Set(hundred().map((n) => n.id)));
    expect(list.every((n) => n.deliveries === 1 && n.duplicate === false && n.acked === true && n.sObject.type === 'Account')).toBe(true);
  });

  it('refuses 101 notifications with a Client fault and records none', async () => {
    const s = await server();
    const outcome = await post(s.url, OUTBOUND, envelope([...hundred(), account(101)]));
    expect(outcome.status).toBe(500);
    expect(faultOf(outcome).code).toBe('Client');
    expect(await received(s.url)).toEqual([]);
  });

  it('refuses a message whose ids are not 18 characters, or without its OrganizationId, with a Client fault', async () => {
    const s = await server();
    const shortId = envelope([{ ...account(1), id: '04l5e000000001' }]);
    const noOrg = SINGLE.replace(/<OrganizationId>[^<]*<\/OrganizationId>/, '');
    for (const body of [shortId, noOrg]) {
      const outcome = await post(s.url, OUTBOUND, body);
      expect(outcome.status, outcome.text).toBe(500);
      expect(faultOf(outcome).code).toBe('Client');
    }
    expect(await received(s.url)).toEqual([]);
  });

  it('counts the same notification Id delivered twice as a duplicate', async () => {
    const s = await server();
    expect(ackOf(await post(s.url, OUTBOUND, envelope([account(1), account(2)])))).toBe(true);
    s.clock.advance(60_000);
    // Salesforce sends the latest data of a record that changed while the notification waited
    expect(ackOf(await post(s.url, OUTBOUND, envelope([account(1, 'Acme Renamed')])))).toBe(true);
    const list = await received(s.url);
    expect(list.map((n) => [n.id, n.deliveries, n.duplicate])).toEqual([
      [notificationId(1), 2, true],
      [notificationId(2), 1, false],
    ]);
    expect(list[0]).toMatchObject({ sObject: { fields: { Name: 'Acme Renamed' } }, firstReceived: '2026-01-01T09:00:00.000Z', lastReceived: '2026-01-01T09:01:00.000Z' });
  });

  it('records /sfdc/outbound/{name} under its listener, and ?listener= filters', async () => {
    const s = await server();
    expect(ackOf(await post(s.url, `${OUTBOUND}/orders`, envelope([account(1)])))).toBe(true);
    expect(ackOf(await post(s.url, OUTBOUND, envelope([account(2)])))).toBe(true);
    expect((await received(s.url)).map((n) => [n.id, n.listener])).toEqual([
      [notificationId(2), 'default'],
      [notificationId(1), 'orders'],
    ]);
    expect((await received(s.url, '?listener=orders')).map((n) => n.id)).toEqual([notificationId(1)]);
    expect((await call(`${s.url}/__admin/outbound?colour=red`)).status).toBe(400);
  });

  it('keeps each workspace its own notifications', async () => {
    const s = await server();
    expect(ackOf(await post(s.url, `/w/ci-1${OUTBOUND}`, SINGLE))).toBe(true);
    expect(await received(`${s.url}/w/ci-1`)).toHaveLength(1);
    expect(await received(s.url)).toEqual([]);
  });

  it('journals the exchange as protocol soap, system outbound, operation notifications', async () => {
    const s = await server();
    await post(s.url, OUTBOUND, SINGLE);
    const page = await call(`${s.url}/__admin/journal?system=outbound`);
    expect(page.status).toBe(200);
    expect(page.body.entries).toEqual([expect.objectContaining({ protocol: 'soap', system: 'outbound', operation: 'notifications', status: 200 })]);
  });

  it('forgets them on a state reset', async () => {
    const s = await server();
    await post(s.url, OUTBOUND, SINGLE);
    expect(await received(s.url)).toHaveLength(1);
    const reset = await call(`${s.url}/__admin/reset`, json({ scope: 'state' }));
    expect(reset.status).toBe(200);
    expect(await received(s.url)).toEqual([]);
    // and the next delivery of the same Id is a first one again
    await post(s.url, OUTBOUND, SINGLE);
    expect(await received(s.url)).toEqual([expect.objectContaining({ id: notificationId(1), deliveries: 1, duplicate: false })]);
  });
});

describe('chaos on the receiver (system outbound)', () => {
  const profile = (fault: string) => `name: outbound-chaos\nrules:\n  - id: r\n    match: { system: outbound }\n    faults:\n      - ${fault}\n`;

  it('noAck: a 200 with Ack false, the notification still recorded, acked false; the redelivery acked', async () => {
    const s = await server();
    await chaos(s.url, profile('noAck'));
    expect(ackOf(await post(s.url, OUTBOUND, SINGLE))).toBe(false);
    expect(await received(s.url)).toEqual([expect.objectContaining({ id: notificationId(1), deliveries: 1, duplicate: false, acked: false })]);
    const entries = (await call(`${s.url}/__admin/journal?system=outbound`)).body.entries;
    expect(entries[0].faults).toEqual([expect.objectContaining({ rule: 'r', kind: 'noAck' })]);
    await chaos(s.url, 'name: calm\nrules: []\n');
    expect(ackOf(await post(s.url, OUTBOUND, SINGLE))).toBe(true);
    expect(await received(s.url)).toEqual([expect.objectContaining({ id: notificationId(1), deliveries: 2, duplicate: true, acked: true })]);
  });

  it('noAck does not apply to a system without an Ack: the journal notes it as skipped', async () => {
    const s = await server();
    await chaos(s.url, 'name: no-ack-everywhere\nrules:\n  - id: r\n    faults:\n      - noAck\n');
    expect((await call(`${s.url}/wms/v1/inventory/SKU-1`)).status).toBe(200);
    const entries = (await call(`${s.url}/__admin/journal?system=wms`)).body.entries;
    expect(entries[0].faults).toEqual([expect.objectContaining({ kind: 'noAck', skipped: expect.any(String) })]);
  });

  it('soapFault: HTTP 500 with a Server fault led by the code, nothing recorded', async () => {
    const s = await server();
    await chaos(s.url, profile('soapFault: { code: SERVER_UNAVAILABLE, string: Try again later }'));
    const outcome = await post(s.url, OUTBOUND, SINGLE);
    expect(outcome.status).toBe(500);
    const fault = faultOf(outcome);
    expect(fault.code).toBe('Server');
    expect(fault.string).toMatch(/^SERVER_UNAVAILABLE: Try again later/);
    expect(await received(s.url)).toEqual([]);
  });

  it('status 503: the status, nothing recorded', async () => {
    const s = await server();
    await chaos(s.url, profile('status: { code: 503 }'));
    const outcome = await post(s.url, OUTBOUND, SINGLE);
    expect(outcome.status).toBe(503);
    expect(await received(s.url)).toEqual([]);
  });

  it('latency: the Ack arrives after the delay (manual time), the notification recorded', async () => {
    const s = await server();
    await chaos(s.url, profile('latency: 2500ms'));
    const { outcome, waited } = await drive(s.url, s.scheduler, OUTBOUND, SINGLE);
    expect(waited.reduce((a, b) => a + b, 0)).toBe(2500);
    expect(ackOf(outcome)).toBe(true);
    expect(await received(s.url)).toEqual([expect.objectContaining({ id: notificationId(1), acked: true })]);
  });

  it('reset: the connection is reset, nothing recorded', async () => {
    const s = await server();
    await chaos(s.url, profile('reset'));
    const outcome = await post(s.url, OUTBOUND, SINGLE);
    expect(outcome.status).toBe(0);
    expect(outcome.error).toMatch(/ECONNRESET|socket hang up/);
    expect(await received(s.url)).toEqual([]);
  });
});

describe('GET /__admin/outbound without the receiver', () => {
  it('is a 404 problem', async () => {
    const s = await start({ seed: 7, systems: { wms: { skus: 20 }, outbound: { enabled: false } } });
    const r = await call(`${s.url}/__admin/outbound`);
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.body.detail).toMatch(/not mounted/);
  });

  it('answers an envelope that is not a notifications message with a fault', async () => {
    const s = await server();
    const outcome = await post(s.url, OUTBOUND, '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><Other xmlns="urn:x"/></soapenv:Body></soapenv:Envelope>');
    expect(outcome.status).toBe(500);
    expect(faultOf(outcome).code).toBe('Client');
    expect(bodyElement(outcome.text).local).toBe('Fault');
  });
});
