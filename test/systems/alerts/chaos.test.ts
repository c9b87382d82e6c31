/**
 * Chaos reaches the alert sinks like every system: a profile matches them by system, operation or path, its
 * faults answer instead of them and are journaled, and the sinks come back when the profile goes (a drill can
 * ask whether a client's alerting survives its pager being down).
 */
import { describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/server.js';
import { call } from '../../helpers.js';
import { alertEntries, pagerDuty, sinks, slack, trigger } from './support.js';

const putChaos = (s: RunningServer, yaml: string) =>
  call(`${s.url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: yaml });

describe('chaos on the alert sinks', () => {
  it('a status 503 rule on system alerts answers both sinks, journaled with the fault; calm brings them back', async () => {
    const s = await sinks();
    const put = await putChaos(s, 'name: pager-down\nrules:\n  - id: sinks-down\n    match: { system: alerts }\n    faults: [ { status: { code: 503 } } ]\n');
    expect(put.status).toBe(200);
    const toSlack = await slack(s.url, { text: 'gateway down' }, { 'x-understudy-client': 'sf-monitor' });
    expect(toSlack.status).toBe(503);
    expect(toSlack.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(toSlack.text).not.toMatch(/inject|chaos|understudy/i);
    expect((await pagerDuty(s.url, trigger({ dedup_key: 'gw' }))).status).toBe(503);
    const entries = await alertEntries(s.url);
    expect(entries.map((e) => [e.operation, e.status, e.faults.map((f) => `${f.rule}/${f.kind}`)])).toEqual([
      ['slackMessage', 503, ['sinks-down/status']],
      ['pagerDutyEnqueue', 503, ['sinks-down/status']],
    ]);
    // the key is read before chaos answers: a retried trigger is one alert in the journal, whoever answered it
    expect(entries[1].key).toBe('gw');
    expect(entries[0].client).toBe('sf-monitor');

    expect((await call(`${s.url}/__admin/chaos?profile=calm`, { method: 'PUT' })).status).toBe(200);
    expect((await slack(s.url, { text: 'gateway down' })).text).toBe('ok');
  });

  it('matches one sink by operation or by path, and refuses an operation the sinks do not have', async () => {
    const s = await sinks();
    const put = await putChaos(
      s,
      [
        'name: one-sink',
        'rules:',
        '  - id: pagerduty-throttled',
        '    match: { operation: pagerDutyEnqueue }',
        '    faults: [ { status: { code: 429, retryAfter: 30s } } ]',
        '  - id: slack-slow-path',
        '    match: { system: alerts, path: /alerts/slack/** }',
        '    faults: [ { status: { code: 500, probability: 0 } } ]',
      ].join('\n'),
    );
    expect(put.status).toBe(200);
    const throttled = await pagerDuty(s.url, trigger());
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('30');
    expect((await slack(s.url, { text: 'fine' })).status).toBe(200);

    const typo = await putChaos(s, 'name: typo\nrules:\n  - id: x\n    match: { system: alerts, operation: slackMesage }\n    faults: [ reset ]\n');
    expect(typo.status).toBe(400);
    expect(JSON.stringify(typo.body)).toMatch(/slackMessage/);
  });
});
