/**
 * The built-in payment-outage drill, run with reference clients (reference-clients.ts: cockatiel, opossum and
 * hand-rolled loops) all at once, each under its own name, and the report card asked to tell them apart: the
 * retry strategy of each, who honoured Retry-After, who kept its Idempotency-Key, who stopped during the outage
 * by a breaker, by backing off or not at all, who recovered, and whether anyone was paged.
 *
 * The drill's phases are minutes long; the test walks through them with POST /__admin/chaos/timeline (a few
 * seconds each), which is what the timeline route is for. The seconds are virtual (virtual-time.ts): the
 * libraries schedule their retries and probes on timers as ever, fake ones here, and time moves from one timer
 * to the next once every request under way has been answered or is held by the server's injected latency. So the
 * gaps the report card judges are the clients' own, untouched by how busy the machine is.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult, Report } from '../../src/report/types.js';
import { call, start } from '../helpers.js';
import { CLIENTS, runClients, type Driver } from './reference-clients.js';
import { VirtualTime } from './virtual-time.js';

let report: Report;

function check(client: string, id: string, operation?: string): CheckResult {
  const card = report.clients.find((c) => c.client === client);
  expect(card, `${client} is in the report`).toBeDefined();
  const found = card!.checks.find((c) => c.id === id && (operation === undefined || c.operation === operation));
  expect(found, `${client} has ${id}`).toBeDefined();
  return found!;
}

async function jump(base: string, body: Record<string, string>): Promise<void> {
  const res = await call(`${base}/__admin/chaos/timeline`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status, res.text).toBe(200);
}

beforeAll(async () => {
  const time = new VirtualTime();
  const server = await start({ seed: 7, profile: 'payment-outage', scheduler: time.scheduler });
  time.watch(server.server);
  const base = server.url;
  const controller = new AbortController();
  const d: Driver = { base, stop: controller.signal, track: time.track };
  time.install();
  try {
    const running = runClients(d, Object.keys(CLIENTS));
    await time.run(2_500); // calm: the rate each client calls at when all is well
    await jump(base, { phase: 'errors' });
    await time.run(5_000);
    await jump(base, { phase: 'outage' });
    await time.run(8_000);
    await jump(base, { phase: 'recovery' });
    await time.run(4_500);
    controller.abort();
    // the clients stop at once, but a library may first sit out a backoff it began before the stop
    await time.until(running);
    // read while the server's clock still says virtual time: real time is behind it
    const res = await call(`${base}/__admin/report`);
    expect(res.status).toBe(200);
    report = res.body;
  } finally {
    time.uninstall();
  }
  if (process.env.REPORT_OUT) (await import('node:fs')).writeFileSync(process.env.REPORT_OUT, JSON.stringify(report, null, 1));
}, 60_000);

describe('payment-outage with reference clients', () => {
  it('lists the outage window it judged against, from the jump into the outage to the jump out of it', () => {
    expect(report.outages).toHaveLength(1);
    expect(report.outages[0]).toMatchObject({ rule: 'gateway-down', phase: 'outage' });
    const span = Date.parse(report.outages[0].end!) - Date.parse(report.outages[0].start);
    expect(span).toBeGreaterThan(7_500);
    expect(span).toBeLessThan(12_000);
  });

  it('classifies each retry strategy', () => {
    const strategy = (client: string) => check(client, 'retry.strategy', 'createCharge');
    expect(strategy('naive-immediate')).toMatchObject({ status: 'fail', value: { strategy: 'immediate' } });
    expect(strategy('no-retry')).toMatchObject({ status: 'warn', value: { strategy: 'none', jitter: null } });
    expect(strategy('constant-delay')).toMatchObject({ status: 'warn', value: { strategy: 'constant', jitter: false } });
    expect(strategy('linear-delay')).toMatchObject({ value: { strategy: 'linear', jitter: false } });
    expect(strategy('cockatiel-exponential')).toMatchObject({ status: 'pass', value: { strategy: 'exponential', jitter: true } });
    expect(strategy('exponential-no-jitter')).toMatchObject({ status: 'warn', value: { strategy: 'exponential', jitter: false } });
    for (const c of report.clients) {
      for (const r of c.checks.filter((x) => x.status !== 'n/a')) expect(r.evidence.entries.length, `${c.client} ${r.id} cites entries`).toBeGreaterThan(0);
    }
  });

  it('tells who waited as long as Retry-After said', () => {
    expect(check('honours-retry-after', 'retry.respectsRetryAfter', 'createCharge').status).toBe('pass');
    const ignored = check('ignores-retry-after', 'retry.respectsRetryAfter', 'createCharge');
    expect(ignored.status).toBe('fail');
    expect(ignored.explanation).toMatch(/too early/);
    expect(check('naive-immediate', 'retry.respectsRetryAfter', 'createCharge').status).toBe('fail');
  });

  it('tells who kept its Idempotency-Key on retries', () => {
    expect(check('honours-retry-after', 'idempotency.keyReused', 'createCharge').status).toBe('pass');
    expect(check('constant-delay', 'idempotency.keyReused', 'createCharge').status).toBe('pass');
    const minted = check('mints-keys', 'idempotency.keyReused', 'createCharge');
    expect(minted.status).toBe('fail');
    expect(minted.explanation).toMatch(/changed key between attempts/);
  });

  it('tells a breaker from backing off from not stopping at all', () => {
    for (const client of ['opossum-breaker', 'cockatiel-breaker']) {
      expect(check(client, 'breaker.stopsDuringOutage'), client).toMatchObject({ status: 'pass', value: { stopped: true, mechanism: 'breaker' } });
      expect(check(client, 'recovery.timeToFirstSuccess').status, client).toBe('pass');
    }
    expect(check('patient-backoff', 'breaker.stopsDuringOutage')).toMatchObject({ status: 'warn', value: { stopped: true, mechanism: 'backoff' } });
    for (const client of ['naive-immediate', 'constant-delay']) {
      expect(check(client, 'breaker.stopsDuringOutage'), client).toMatchObject({ status: 'fail', value: { stopped: false } });
    }
  });

  it('times recovery after the outage', () => {
    const recovered = check('cockatiel-exponential', 'recovery.timeToFirstSuccess');
    expect(recovered.status).toBe('pass');
    expect(recovered.value!.ms).toBeGreaterThanOrEqual(0);
    expect(recovered.value!.ms).toBeLessThan(4_500);
  });

  it('measures time to detect from the page the breaker sent', () => {
    const detect = report.checks.find((c) => c.id === 'alerting.timeToDetect')!;
    expect(detect).toMatchObject({ status: 'pass', value: { sink: 'pagerduty' } });
    expect(detect.value!.ms).toBeLessThan(8_000);
    expect(report.alerts.length).toBeGreaterThan(0);
  });

  it('judges the drill’s expectations: they fail, naming the clients that broke them', () => {
    expect(report.passed).toBe(false);
    const byCheck = (id: string) => report.expectations.find((e) => (e.expect as { check?: string }).check === id)!;
    expect(byCheck('retry.respectsRetryAfter')).toMatchObject({ status: 'fail' });
    expect(byCheck('retry.respectsRetryAfter').explanation).toMatch(/ignores-retry-after/);
    expect(byCheck('idempotency.keyReused').explanation).toMatch(/mints-keys/);
    const alert = report.expectations.find((e) => (e.expect as { alertWithin?: string }).alertWithin !== undefined)!;
    expect(alert.status).toBe('pass');
  });
});
