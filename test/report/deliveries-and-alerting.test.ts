/**
 * The report card's drill-wide checks with receivers and monitors nobody here would write this way on purpose:
 * `deliveries.ack` under the built-in duplicate-webhooks drill, for a receiver that acknowledges every delivery
 * (copies included) and one that answers 500 to everything; `alerting.timeToDetect` for an outage that someone
 * was paged about and one nobody heard of. Each in its own workspace, so each drill-wide verdict is its own.
 * The server's time is a ManualClock and a ManualScheduler: the drill's copies two seconds after each
 * acknowledgement, its reordering window and the retries fall due when the test moves time on to them, while the
 * deliveries themselves go over real sockets to the receiver.
 */
import { describe, expect, it } from 'vitest';
import type { CheckResult, Report } from '../../src/report/types.js';
import { Sink } from '../deliveries/sink.js';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { call, json, start } from '../helpers.js';

const clock = new ManualClock(Date.now());
const scheduler = new ManualScheduler(clock);
const server = await start({ seed: 9, clock, scheduler });

async function report(ws: string): Promise<Report> {
  const res = await call(`${server.url}/w/${ws}/__admin/report`);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

function drillCheck(r: Report, id: string): CheckResult {
  return r.checks.find((c) => c.id === id)!;
}

/** a receiver subscribed to inventory changes in workspace `ws` under the duplicate-webhooks drill, and 3 events */
async function webhooksDrill(ws: string, sink: Sink): Promise<void> {
  expect((await call(`${server.url}/w/${ws}/__admin/chaos?profile=duplicate-webhooks`, { method: 'PUT' })).status).toBe(200);
  const subscribed = await call(`${server.url}/w/${ws}/__admin/subscriptions`, json({ url: sink.url, events: ['inventory.changed'], secret: 'whsec_test', retry: { base: '50ms', maxAttempts: 2 } }));
  expect(subscribed.status, subscribed.text).toBe(201);
  for (let i = 1; i <= 3; i++) {
    const res = await call(`${server.url}/w/${ws}/wms/v1/stock-adjustments`, json({ adjustments: [{ sku: `SKU-${i}`, warehouseId: 'WH-RTM-01', delta: 5, reason: 'receipt' }] }));
    expect(res.status, res.text).toBe(200);
  }
}

/** the workspace's deliveries, once every one has finished (delivered with its copies, or dead) */
async function settled(ws: string, copies: boolean): Promise<void> {
  for (;;) {
    const { deliveries } = (await call(`${server.url}/w/${ws}/__admin/deliveries`)).body as { deliveries: Array<{ status: string; duplicates: number }> };
    if (deliveries.length >= 3 && deliveries.every((d) => d.status === 'dead' || (d.status === 'delivered' && (!copies || d.duplicates >= 1)))) return;
    // the next timer (a copy, the window's release, a retry) falls due now; attempts under way answer meanwhile
    if (scheduler.pending.length > 0) scheduler.advance(Math.max(0, scheduler.pending[0]));
    else await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('deliveries.ack', () => {
  it('passes a receiver that acknowledges every delivery and copy, and counts the copies it acknowledged', async () => {
    const sink = await Sink.start();
    await webhooksDrill('acks', sink);
    await settled('acks', true);
    const ack = drillCheck(await report('acks'), 'deliveries.ack');
    expect(ack.status, ack.explanation).toBe('pass');
    expect(ack.value).toMatchObject({ deliveries: 3, nonAckShare: 0, dead: 0 });
    expect(ack.value!.duplicatesAcknowledged).toBeGreaterThanOrEqual(3);
    expect((ack.evidence.deliveries as string[]).length).toBe(3);
  }, 20_000);

  it('fails a receiver that acknowledges nothing: every delivery dies', async () => {
    const sink = await Sink.start();
    sink.answer = () => 500;
    await webhooksDrill('broken', sink);
    await settled('broken', false);
    const r = await report('broken');
    const ack = drillCheck(r, 'deliveries.ack');
    expect(ack.status).toBe('fail');
    expect(ack.value).toMatchObject({ deliveries: 3, nonAckShare: 1, dead: 3 });
    expect(ack.explanation).toMatch(/Events are being lost/);
    expect(r.expectations).toEqual([expect.objectContaining({ expect: { check: 'deliveries.ack' }, status: 'fail' })]);
    expect(r.passed).toBe(false);
  }, 20_000);

  it('has nothing to judge where no webhook was sent', async () => {
    expect(drillCheck(await report('quiet'), 'deliveries.ack').status).toBe('n/a');
  });
});

describe('alerting.timeToDetect', () => {
  const OUTAGE = 'name: down\nrules:\n  - id: gateway-down\n    match: { system: payments }\n    when: { for: 10m }\n    faults: [ { outage: { mode: 503 } } ]\nexpect:\n  - alertWithin: 1m\n';
  const charge = (ws: string) =>
    call(`${server.url}/w/${ws}/payments/v1/charges`, json({ amount: 100, currency: 'usd', payment_method: 'pm_card_visa' }, { 'x-understudy-client': 'worker' }));

  it('measures from the first failed call of the outage to the page, and the expectation holds', async () => {
    expect((await call(`${server.url}/w/paged/__admin/chaos`, { method: 'PUT', body: OUTAGE })).status).toBe(200);
    expect((await charge('paged')).status).toBe(503);
    const alert = await call(`${server.url}/w/paged/alerts/slack/services/T0/B0/x`, json({ text: 'payments: 503 from the gateway' }, { 'x-understudy-client': 'monitor' }));
    expect(alert.status).toBe(200);
    const r = await report('paged');
    const detect = drillCheck(r, 'alerting.timeToDetect');
    expect(detect).toMatchObject({ status: 'pass', value: { sink: 'slack' } });
    expect(detect.value!.ms).toBeGreaterThanOrEqual(0);
    expect(r.alerts).toEqual([expect.objectContaining({ sink: 'slack' })]);
    expect(r.expectations[0]).toMatchObject({ status: 'pass' });
    // the monitor is not an integration client: it is not asked to have retried anything
    expect(r.clients.map((c) => c.client).sort()).toEqual(['monitor', 'worker']);
  });

  it('fails an outage nobody was alerted about, and so does the expectation', async () => {
    expect((await call(`${server.url}/w/unheard/__admin/chaos`, { method: 'PUT', body: OUTAGE })).status).toBe(200);
    expect((await charge('unheard')).status).toBe(503);
    // a refused alert is no alert
    expect((await call(`${server.url}/w/unheard/alerts/pagerduty/v2/enqueue`, json({ event_action: 'trigger' }))).status).toBe(400);
    const r = await report('unheard');
    const detect = drillCheck(r, 'alerting.timeToDetect');
    expect(detect.status).toBe('fail');
    expect(detect.explanation).toMatch(/no alert reached a sink/);
    expect(r.expectations[0]).toMatchObject({ expect: { alertWithin: '1m' }, status: 'fail' });
    expect(r.passed).toBe(false);
  });

  it('has nothing to judge without an outage window', async () => {
    expect((await charge('calm')).status).toBe(201);
    expect(drillCheck(await report('calm'), 'alerting.timeToDetect').status).toBe('n/a');
  });
});
