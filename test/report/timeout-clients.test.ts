/**
 * timeouts.observed, judged on real clients: a WMS read held 15 s by injected latency, and clients that give up
 * after 1 s, 3 s and 10 s (AbortSignal.timeout, as fetch-based integration code does). The server journals each
 * abandoned attempt when the client closed the connection, so the report card can say how long each waited and
 * set it against Apex's 10 s default: 1 s and 3 s warn, 10 s passes. A client that never gives up has no
 * timeout to judge (n/a). The waits are virtual (virtual-time.ts): the server holds and trickles on fake timers,
 * the clients give up on fake timers, and time moves from one timer to the next once every request under way
 * has reached the server, so ten virtual seconds take as long as the requests do, and each measured wait is the
 * client's timeout to the millisecond rather than that plus however late a busy machine fired it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { start } from '../helpers.js';
import { activate, checkOf, countsOf, report, send, succeeded } from './wms-clients.js';
import { VirtualTime } from './virtual-time.js';

const SLOW_READS = `
name: slow-inventory-reads
rules:
  - id: inventory-held
    match: { system: wms, operation: getInventory, client: /^timeout-/ }
    faults: [ { latency: 15s } ]
  - id: item-reads-hang
    match: { system: wms, operation: getItem, client: /^timeout-/ }
    faults: [ { timeout: { after: 30s } } ]
  - id: warehouse-list-trickles
    match: { system: wms, operation: listWarehouses, client: /^timeout-/ }
    faults: [ { slowBody: { bytesPerSecond: 100 } } ]
`;

/** how far the measured wait may be from the client's own timeout (connection set-up, timers) */
const SLACK_MS = 300;

const time = new VirtualTime();

/** what AbortSignal.timeout(ms) does, on setTimeout (which virtual time fakes; AbortSignal.timeout's timer it cannot) */
function timeoutSignal(ms: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), ms);
  return controller.signal;
}

/** A reader that reads `reads` SKUs one after another (their stock, or their item), giving up on each after `timeoutMs`. */
async function reader(base: string, client: string, timeoutMs: number, reads: number, what: 'inventory' | 'items' | 'warehouses' = 'inventory'): Promise<string[]> {
  const errors: string[] = [];
  for (let i = 1; i <= reads; i++) {
    const path = what === 'warehouses' ? '/wms/v1/warehouses' : `/wms/v1/${what}/SKU-${i}`;
    const outcome = await time.track(send(base, client, 'GET', path, { signal: timeoutSignal(timeoutMs) }));
    errors.push(outcome.error ?? `HTTP ${outcome.status}`);
  }
  return errors;
}

describe('timeouts.observed', () => {
  afterEach(() => time.uninstall());

  it('measures how long each client waited before abandoning: 1 s and 3 s warn, 10 s passes, never giving up is n/a', async () => {
    const { url, server } = await start({ seed: 7, systems: { wms: { skus: 10 } }, scheduler: time.scheduler });
    time.watch(server);
    await activate(url, SLOW_READS);
    time.install();

    // the patient client is not slowed (the rule matches /^timeout-/), so it gets every answer and never gives up
    const patient = await Promise.all([1, 2, 3].map((i) => send(url, 'patient-reader', 'GET', `/wms/v1/inventory/SKU-${i}`)));
    expect(patient.every(succeeded)).toBe(true);

    const outcomes = await time.until(Promise.all([
      reader(url, 'timeout-1s', 1_000, 3),
      reader(url, 'timeout-3s', 3_000, 2),
      reader(url, 'timeout-10s', 10_000, 1),
      // a server that holds the connection and never answers (a timeout fault), given up on after 2 s
      reader(url, 'timeout-hang-2s', 2_000, 2, 'items'),
      // an answer whose body trickles in (headers at once, then 100 bytes a second), given up on after 1 s
      reader(url, 'timeout-slow-body-1s', 1_000, 2, 'warehouses'),
    ]));
    // each client saw its own timeout fire, not an answer
    for (const errors of outcomes) for (const e of errors) expect(e).toMatch(/TimeoutError|aborted/i);

    const r = await report(url);
    const expected = [
      { client: 'timeout-1s', timeoutMs: 1_000, abandoned: 3, status: 'warn' },
      { client: 'timeout-3s', timeoutMs: 3_000, abandoned: 2, status: 'warn' },
      { client: 'timeout-10s', timeoutMs: 10_000, abandoned: 1, status: 'pass' },
      { client: 'timeout-hang-2s', timeoutMs: 2_000, abandoned: 2, status: 'warn', operation: 'getItem' },
      { client: 'timeout-slow-body-1s', timeoutMs: 1_000, abandoned: 2, status: 'warn', operation: 'listWarehouses' },
    ];
    for (const { client, timeoutMs, abandoned, status, operation } of expected) {
      const check = checkOf(r, client, 'timeouts.observed');
      expect(check.status, `${client}: ${check.explanation}`).toBe(status);
      const value = check.value as { waitedMs: number; abandoned: number };
      expect(value.abandoned, client).toBe(abandoned);
      expect(Math.abs(value.waitedMs - timeoutMs), `${client} waited ${value.waitedMs} ms`).toBeLessThanOrEqual(SLACK_MS);
      // the verdict cites the abandoned attempts: every attempt the client made
      expect(check.evidence.entries, client).toHaveLength(abandoned);
      expect(countsOf(r, client, operation ?? 'getInventory').attempts).toBe(abandoned);
    }

    const never = checkOf(r, 'patient-reader', 'timeouts.observed');
    expect(never.status, never.explanation).toBe('n/a');
    expect(never.explanation).toMatch(/abandoned no request/);
  });
});
