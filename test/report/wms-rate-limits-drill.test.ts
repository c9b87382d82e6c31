/**
 * The built-in wms-rate-limits drill with hand-rolled reservation workers, each under its own name: one that waits
 * as long as Retry-After says and resends the same externalOrderId, one blind to Retry-After, one that waits but
 * re-mints the externalOrderId for every retry, and one that retries a refused reservation until it gets through.
 * The report must tell who honoured Retry-After, who kept its key and whose retries were unbounded.
 *
 * The drill's calm half-minute is skipped with POST /__admin/chaos/timeline; the clients' own waits (Retry-After
 * here is a second or two) pass in virtual time (virtual-time.ts), so each retry lands exactly as late as its
 * client waited, however busy the machine is.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult, Report } from '../../src/report/types.js';
import { call, start } from '../helpers.js';
import { sleep, type Driver } from './reference-clients.js';
import { VirtualTime } from './virtual-time.js';

let report: Report;

function check(client: string, id: string): CheckResult {
  const found = report.clients.find((c) => c.client === client)?.checks.find((c) => c.id === id && (c.operation === undefined || c.operation === 'createReservation'));
  expect(found, `${client} has ${id}`).toBeDefined();
  return found!;
}

interface Worker {
  /** ms to wait before retry `attempt`, given the Retry-After (ms) of the refusal */
  wait(attempt: number, retryAfterMs: number | null): number;
  maxAttempts: number;
  /** a new externalOrderId for each attempt */
  remint?: boolean;
}

/** Reserves orders one after another, retrying refusals as `worker` says. */
async function reserve(d: Driver, client: string, worker: Worker): Promise<void> {
  for (let n = 1; !d.stop.aborted; n++) {
    for (let attempt = 1; attempt <= worker.maxAttempts && !d.stop.aborted; attempt++) {
      const externalOrderId = worker.remint ? `${client}-${n}-${attempt}` : `${client}-${n}`;
      let status = 0;
      let retryAfterMs: number | null = null;
      const request = async () => {
        const res = await fetch(`${d.base}/wms/v1/reservations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-understudy-client': client },
          body: JSON.stringify({ externalOrderId, lines: [{ sku: 'SKU-1', quantity: 1 }] }),
          signal: d.stop,
        });
        await res.arrayBuffer();
        return res;
      };
      try {
        const res = await (d.track ? d.track(request()) : request());
        status = res.status;
        const header = res.headers.get('retry-after');
        retryAfterMs = header === null ? null : Number(header) * 1000;
      } catch {
        status = 0;
      }
      if (status >= 200 && status < 300) break;
      await sleep(d, worker.wait(attempt, retryAfterMs));
    }
    await sleep(d, 50);
  }
}

beforeAll(async () => {
  const time = new VirtualTime();
  const server = await start({ seed: 11, profile: 'wms-rate-limits', scheduler: time.scheduler });
  time.watch(server.server);
  const res = await call(`${server.url}/__admin/chaos/timeline`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"phase":"limited"}' });
  expect(res.status, res.text).toBe(200);
  const controller = new AbortController();
  const d: Driver = { base: server.url, stop: controller.signal, track: time.track };
  time.install();
  try {
    const running = Promise.all([
      reserve(d, 'wms-honours', { wait: (_k, ra) => (ra ?? 200) + 20, maxAttempts: 6 }),
      reserve(d, 'wms-ignores', { wait: () => 100, maxAttempts: 6 }),
      reserve(d, 'wms-remints', { wait: (_k, ra) => (ra ?? 200) + 20, maxAttempts: 6, remint: true }),
      reserve(d, 'wms-unbounded', { wait: () => 100, maxAttempts: 1_000 }),
    ]);
    await time.run(7_000);
    controller.abort();
    await time.until(running);
    // read while the server's clock still says virtual time: real time is behind it
    report = (await call(`${server.url}/__admin/report`)).body;
  } finally {
    time.uninstall();
  }
}, 30_000);

describe('wms-rate-limits with reservation workers', () => {
  it('tells who waited as long as Retry-After said', () => {
    expect(check('wms-honours', 'retry.respectsRetryAfter').status).toBe('pass');
    expect(check('wms-remints', 'retry.respectsRetryAfter').status).toBe('pass');
    const ignored = check('wms-ignores', 'retry.respectsRetryAfter');
    expect(ignored.status).toBe('fail');
    expect(ignored.evidence.entries.length).toBeGreaterThan(1);
  });

  it('tells who resent the same externalOrderId', () => {
    expect(check('wms-honours', 'idempotency.keyReused').status).toBe('pass');
    const reminted = check('wms-remints', 'idempotency.keyReused');
    expect(reminted.status).toBe('fail');
    expect(reminted.explanation).toMatch(/wms-remints-(\d+)-1 → wms-remints-\1-2/);
    // refused with 429, nothing was reserved twice
    expect(check('wms-remints', 'idempotency.noDuplicateEffects')).toMatchObject({ status: 'pass', value: { duplicates: 0 } });
  });

  it('tells bounded retries from a loop that does not give up', () => {
    expect(check('wms-honours', 'retry.bounded').status).toBe('pass');
    const unbounded = check('wms-unbounded', 'retry.bounded');
    expect(unbounded.status).toBe('fail');
    expect(unbounded.value!.maxAttempts).toBeGreaterThan(10);
  });

  it('fails the drill’s expectations, naming the clients that broke them', () => {
    expect(report.passed).toBe(false);
    const expectation = (id: string) => report.expectations.find((e) => (e.expect as { check?: string }).check === id)!;
    expect(expectation('retry.respectsRetryAfter').explanation).toMatch(/wms-ignores/);
    expect(expectation('retry.respectsRetryAfter').explanation).not.toMatch(/wms-honours/);
    expect(expectation('retry.bounded').explanation).toMatch(/wms-unbounded/);
    expect(expectation('idempotency.keyReused').explanation).toMatch(/wms-remints/);
    expect(report.expectations.find((e) => (e.expect as { maxDuplicateEffects?: number }).maxDuplicateEffects !== undefined)!.status).toBe('pass');
  });
});
