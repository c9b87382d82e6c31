/**
 * The alert sinks as a client's monitoring meets them, through real sockets: Slack's incoming webhook answers
 * `200 ok` in plain text, PagerDuty's Events API v2 answers `202` with the event's dedup_key (or one derived from
 * the workspace, the seed and the event); every alert is in the journal as system `alerts` with its operation,
 * status and client, per workspace; nothing is kept besides (the sinks are stateless).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { call, json, start } from '../../helpers.js';
import { alertEntries, pagerDuty, PAGERDUTY_PATH, post, sinks, slack, SLACK_PATH, trigger } from './support.js';

describe('Slack incoming webhook', () => {
  it('takes a message at any path below /alerts/slack/ and answers 200 ok in plain text, journaled with its client', async () => {
    const s = await sinks();
    const r = await slack(s.url, { text: 'payments: the gateway answers 503', username: 'monitor', channel: '#ops', icon_emoji: ':rotating_light:' }, { 'x-understudy-client': 'sf-monitor' });
    expect(r.status).toBe(200);
    expect(r.text).toBe('ok');
    expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    for (const path of ['/alerts/slack/x', '/alerts/slack/hooks/a%2Fb/c d', '/alerts/slack/services/T1/B2/' + 'z'.repeat(300)]) {
      expect((await call(`${s.url}${path}`, json({ text: 'again' }))).text, path).toBe('ok');
    }
    const entries = await alertEntries(s.url);
    expect(entries).toHaveLength(4);
    expect(entries[0]).toMatchObject({ operation: 'slackMessage', status: 200, client: 'sf-monitor', path: SLACK_PATH, workspace: 'default', contract: { valid: true } });
    expect(entries.slice(1).map((e) => [e.operation, e.status, e.client])).toEqual(Array(3).fill(['slackMessage', 200, 'anonymous']));
  });

  it('takes blocks, or legacy attachments, without text', async () => {
    const s = await sinks();
    const blocks = await slack(s.url, { blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*Gateway down*' } }] });
    expect([blocks.status, blocks.text]).toEqual([200, 'ok']);
    // what Prometheus Alertmanager sends by default
    const attachments = await slack(s.url, { channel: '#ops', username: 'Alertmanager', attachments: [{ color: 'danger', title: '[FIRING:1] GatewayDown', text: 'payments 503' }] });
    expect([attachments.status, attachments.text]).toEqual([200, 'ok']);
  });

  it('the same message twice is two alerts, each journaled with what was sent and answered', async () => {
    const s = await sinks();
    await slack(s.url, { text: 'same' });
    await slack(s.url, { text: 'same' });
    expect((await alertEntries(s.url)).map((e) => e.status)).toEqual([200, 200]);
    const journal = await call(`${s.url}/__admin/journal/${(await alertEntries(s.url))[0].id}`);
    expect(journal.body.request.body.text).toBe('{"text":"same"}');
    expect(journal.body.response.body.text).toBe('ok');
  });
});

describe('PagerDuty Events API v2', () => {
  it('accepts a trigger with 202 and echoes its dedup_key, which the journal keeps as the key', async () => {
    const s = await sinks();
    const r = await pagerDuty(s.url, trigger({ dedup_key: 'payments-down' }), { 'x-understudy-client': 'sf-monitor' });
    expect(r.status).toBe(202);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.body).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'payments-down' });
    const [entry] = await alertEntries(s.url);
    expect(entry).toMatchObject({ operation: 'pagerDutyEnqueue', status: 202, client: 'sf-monitor', key: 'payments-down', path: PAGERDUTY_PATH, contract: { valid: true } });
  });

  it('accepts acknowledge and resolve for a dedup_key, and any non-empty routing key', async () => {
    const s = await sinks();
    for (const action of ['acknowledge', 'resolve']) {
      const r = await pagerDuty(s.url, { routing_key: 'not-32-characters', event_action: action, dedup_key: 'payments-down' });
      expect(r.status, action).toBe(202);
      expect(r.body).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'payments-down' });
    }
    // every optional field PagerDuty documents, with its own (not RFC 3339) timestamp
    const full = trigger({
      payload: {
        summary: 'Example alert on host1.example.com',
        timestamp: '2015-07-17T08:42:58.315+0000',
        source: 'monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats-prod-003',
        severity: 'info',
        component: 'postgres',
        group: 'prod-datapipe',
        class: 'deploy',
        custom_details: { 'ping time': '1500ms', 'load avg': 0.75 },
      },
      images: [{ src: 'https://example.com/graph.png', href: 'https://example.com/', alt: 'graph' }],
      links: [{ href: 'https://example.com/', text: 'Link text' }],
      client: 'Sample Monitoring Service',
      client_url: 'https://monitoring.example.com',
    });
    expect((await pagerDuty(s.url, full)).status).toBe(202);
    expect((await alertEntries(s.url)).map((e) => [e.operation, e.status, e.contract.valid])).toEqual(Array(3).fill(['pagerDutyEnqueue', 202, true]));
  });

  it('derives a missing dedup_key from the workspace, the seed and the event: the same on every run, never random', async () => {
    const a = await sinks({ seed: 7 });
    const b = await sinks({ seed: 7 });
    const other = await sinks({ seed: 8 });
    const event = trigger();
    const first = (await pagerDuty(a.url, event)).body.dedup_key;
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    // the same event again, on this server and another with the same seed, its keys in another order
    expect((await pagerDuty(a.url, event)).body.dedup_key).toBe(first);
    const reordered = Object.fromEntries(Object.entries(event).reverse());
    expect((await pagerDuty(b.url, reordered)).body.dedup_key).toBe(first);
    // another seed, another workspace, another event: another key
    expect((await pagerDuty(other.url, event)).body.dedup_key).not.toBe(first);
    expect((await pagerDuty(a.url, event, {}, '/w/ci-7')).body.dedup_key).not.toBe(first);
    expect((await pagerDuty(a.url, trigger({ payload: { summary: 'other', source: 's', severity: 'info' } }))).body.dedup_key).not.toBe(first);
    // the journal follows the alert by that key
    expect((await alertEntries(a.url, '', `&key=${first}`)).map((e) => e.status)).toEqual([202, 202]);
  });
});

describe('alerts in workspaces', () => {
  it('serves /w/{ws}/alerts/... like every system: each workspace journals its own alerts', async () => {
    const s = await sinks();
    expect((await slack(s.url, { text: 'from ci-7' }, { 'x-understudy-client': 'ci' }, '/w/ci-7')).text).toBe('ok');
    expect((await pagerDuty(s.url, trigger({ dedup_key: 'k-7' }), {}, '/w/CI-7')).status).toBe(202);
    const entries = await alertEntries(s.url, '/w/ci-7');
    expect(entries.map((e) => [e.operation, e.status, e.workspace, e.path])).toEqual([
      ['slackMessage', 200, 'ci-7', SLACK_PATH],
      ['pagerDutyEnqueue', 202, 'ci-7', PAGERDUTY_PATH],
    ]);
    expect(entries[0].client).toBe('ci');
    expect(await alertEntries(s.url)).toEqual([]);
    expect((await alertEntries(s.url, '/w/ci-7', '&operation=pagerDutyEnqueue')).map((e) => e.key)).toEqual(['k-7']);
  });
});

describe('mounted by default', () => {
  it('is listed by health with the WMS and the gateway, at /alerts', async () => {
    const s = await start();
    const health = await call(`${s.url}/__admin/health`);
    expect(health.body.systems).toContainEqual({ name: 'alerts', mount: '/alerts', protocol: 'rest' });
  });

  it('logs nothing to a data directory, which neither depends on its contract nor on its being mounted', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'understudy-alerts-'));
    const first = await start({ dataDir });
    expect((await slack(first.url, { text: 'stored?' })).status).toBe(200);
    expect((await pagerDuty(first.url, trigger())).status).toBe(202);
    await first.close(100);
    // a data directory refuses a system that is no longer served: not one that never logged anything
    const second = await start({ dataDir, systems: { alerts: { enabled: false } } });
    expect(second.restored.workspaces.flatMap((w) => w.systems).filter((x) => x.system === 'alerts')).toEqual([]);
    expect((await post(second.url, '/alerts/slack/x', '{"text":"x"}', 'application/json')).status).toBe(404);
    await second.close(100);
    const third = await start({ dataDir });
    const restored = third.restored.workspaces.flatMap((w) => w.systems).filter((x) => x.system === 'alerts');
    expect(restored.every((x) => x.writes === 0 && !x.snapshot)).toBe(true);
    expect((await alertEntries(third.url)).map((e) => e.operation)).toEqual(['slackMessage', 'pagerDutyEnqueue']);
  });
});
