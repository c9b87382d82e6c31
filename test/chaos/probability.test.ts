/**
 * `probability` is applied once, by the chaos stage, for every fault kind: over a seeded run of sequential
 * requests through real sockets, each kind at p = 0.3 is injected a number of times within five standard
 * deviations of the expectation (binomial). Deterministic for a given seed, and the bounds hold for any seed.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { call, start } from '../helpers.js';

const N = 300;
const P = 0.3;

/** fault entry (as YAML flow) with probability P for each kind; failFirst/succeedFirst set so every request is in range */
const KINDS: Record<string, string> = {
  latency: `{ latency: { distribution: fixed, value: 5ms, probability: ${P} } }`,
  status: `{ status: { code: 503, probability: ${P} } }`,
  timeout: `{ timeout: { after: 1s, probability: ${P} } }`,
  reset: `{ reset: { probability: ${P} } }`,
  empty: `{ empty: { probability: ${P} } }`,
  malformed: `{ malformed: { probability: ${P} } }`,
  truncate: `{ truncate: { probability: ${P} } }`,
  slowBody: `{ slowBody: { bytesPerSecond: 100000, probability: ${P} } }`,
  drift: `{ drift: { add: { extra: 1 }, probability: ${P} } }`,
  lostAck: `{ lostAck: { as: 503, probability: ${P} } }`,
  failFirst: `{ failFirst: { count: 100000, probability: ${P} } }`,
  succeedFirst: `{ succeedFirst: { count: 1, probability: ${P} } }`,
  outage: `{ outage: { mode: 503, probability: ${P} } }`,
};

/** the request completes, moving manual time on while it is held */
async function send(url: string, scheduler: ManualScheduler): Promise<void> {
  let done = false;
  const result = fetch(url).then(
    (r) => r.arrayBuffer().then(() => undefined, () => undefined),
    () => undefined,
  );
  result.finally(() => (done = true));
  while (!done) {
    await Promise.race([result, scheduler.whenPending()]);
    if (!done && scheduler.pending.length) scheduler.advance(Math.max(...scheduler.pending));
  }
}

describe('probability, for every fault kind', () => {
  for (const [kind, fault] of Object.entries(KINDS)) {
    it(`${kind} at p=${P} is injected ${N * P} ± 5σ times in ${N} requests`, async () => {
      const clock = new ManualClock(Date.UTC(2026, 0, 1));
      const scheduler = new ManualScheduler(clock);
      const s = await start({ clock, scheduler, seed: 5 });
      const profile = `name: p-${kind}\nrules:\n  - id: r\n    match: { operation: getInventory }\n    faults: [ ${fault} ]\n`;
      expect((await call(`${s.url}/__admin/chaos`, { method: 'PUT', body: profile })).status).toBe(200);
      for (let i = 0; i < N; i++) await send(`${s.url}/wms/v1/inventory/SKU-${(i % 100) + 1}`, scheduler);
      const counters = (await call(`${s.url}/__admin/chaos`)).body.rules[0];
      expect(counters.matched).toBe(N);
      const injected = counters.injected[kind] ?? 0;
      const sigma = Math.sqrt(N * P * (1 - P));
      // succeedFirst lets a client's first request through whatever the draw
      const expected = kind === 'succeedFirst' ? (N - 1) * P : N * P;
      expect(injected).toBeGreaterThan(expected - 5 * sigma);
      expect(injected).toBeLessThan(expected + 5 * sigma);
      // and what the counters say is what the journal recorded
      const journal = (await call(`${s.url}/__admin/journal?limit=1000&fault=${kind}`)).body.entries;
      expect(journal.length).toBe(injected);
    });
  }
});
