/**
 * What the sinks are for: during an outage of another system, the alerts a client's monitoring sends reach the
 * report card (GET /__admin/report) as alerts with their sink, the refused ones not, and time-to-detect is
 * measured from the outage's first failed call to the first alert.
 */
import { describe, expect, it } from 'vitest';
import { call, json, start } from '../../helpers.js';
import { pagerDuty, slack, trigger } from './support.js';

describe('alerts on the report card', () => {
  it('lists each accepted alert with its sink, leaves out a refused one, and times the detection', async () => {
    const s = await start();
    const outage = 'name: gateway-down\nrules:\n  - id: gateway-down\n    match: { system: payments }\n    faults: [ { outage: { mode: 503 } } ]\n';
    expect((await call(`${s.url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: outage })).status).toBe(200);
    expect((await call(`${s.url}/payments/v1/customers`, json({}, { 'x-understudy-client': 'sf-sandbox' }))).status).toBe(503);

    expect((await slack(s.url, {}, { 'x-understudy-client': 'monitor' })).status).toBe(400);
    expect((await slack(s.url, { text: 'gateway down' }, { 'x-understudy-client': 'monitor' })).status).toBe(200);
    expect((await pagerDuty(s.url, trigger(), { 'x-understudy-client': 'monitor' })).status).toBe(202);

    const report = (await call(`${s.url}/__admin/report`)).body;
    expect(report.alerts.map((a: { sink: string }) => a.sink)).toEqual(['slack', 'pagerduty']);
    const detect = report.checks.find((c: { id: string }) => c.id === 'alerting.timeToDetect');
    expect(detect).toMatchObject({ status: 'pass', value: { sink: 'slack' } });
  });
});
