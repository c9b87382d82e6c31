/**
 * Chaos at the level a user drives it: GET/PUT /__admin/chaos (a broken profile leaves the old one active),
 * reset, per-workspace profiles, determinism (two servers, same seed, same requests → same faults; per-client
 * sequences independent of interleaving), exact rate limits under concurrency, and each built-in profile doing
 * what its comment says. Time is a ManualClock/ManualScheduler: nothing here waits for real time to pass.
 */
import { describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { call, json, start } from '../helpers.js';

interface Outcome {
  status: number;
  error?: string;
  text: string;
}

/** One request; while it is held by an injected delay, move the manual time on until it completes. */
async function send(url: string, scheduler: ManualScheduler, init: RequestInit = {}): Promise<Outcome> {
  let done = false;
  const failed = (e: Error, status = 0) => ({ status, error: String((e.cause as Error | undefined)?.message ?? e.message), text: '' });
  const result: Promise<Outcome> = fetch(url, init).then(
    (r) => r.text().then((text) => ({ status: r.status, text }), (e: Error) => failed(e, r.status)),
    (e: Error) => failed(e),
  );
  result.finally(() => (done = true));
  while (!done) {
    await Promise.race([result, scheduler.whenPending()]);
    if (!done && scheduler.pending.length) scheduler.advance(Math.max(...scheduler.pending));
  }
  return result;
}

function manualTime() {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  return { clock, scheduler: new ManualScheduler(clock) };
}

const profileOf = (s: RunningServer, ws = '') => call(`${s.url}${ws}/__admin/chaos`).then((r) => r.body);
const put = (s: RunningServer, yaml: string, ws = '') => call(`${s.url}${ws}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: yaml });

const COIN = `
name: coin
seed: 7
rules:
  - id: coin
    match: { system: wms, method: GET }
    faults:
      - status: { code: 503, probability: 0.5 }
      - malformed: { probability: 0.3 }
`;

describe('chaos admin API', () => {
  it('starts calm, switches profiles at runtime, and keeps the old one when the new one is broken', async () => {
    const s = await start();
    expect((await profileOf(s)).profile).toMatchObject({ name: 'calm', source: 'built-in:calm' });

    const ok = await put(s, COIN);
    expect(ok.status).toBe(200);
    expect(ok.body.profile).toMatchObject({ name: 'coin', source: 'admin API' });

    const broken = await put(s, 'name: broken\nrules:\n  - id: x\n    faults:\n      - latncy: 5s\n      - status: { code: 200 }\n');
    expect(broken.status).toBe(400);
    expect(broken.body.errors).toEqual([
      expect.objectContaining({ line: 5, path: 'rules.0.faults.0.latncy', message: expect.stringMatching(/unknown fault kind "latncy"/) }),
      expect.objectContaining({ line: 6, path: 'rules.0.faults.1.status.code' }),
    ]);
    expect((await profileOf(s)).profile.name).toBe('coin');

    const builtIn = await call(`${s.url}/__admin/chaos?profile=rate-limited`, { method: 'PUT' });
    expect(builtIn.body.profile).toMatchObject({ name: 'rate-limited', source: 'built-in:rate-limited' });
    expect((await call(`${s.url}/__admin/chaos?profile=no-such-profile`, { method: 'PUT' })).status).toBe(400);
    expect((await put(s, '')).status).toBe(400);
    expect((await profileOf(s)).profile.name).toBe('rate-limited');
  });

  it('keeps profiles per workspace', async () => {
    const s = await start();
    await put(s, COIN, '/w/team-a');
    expect((await profileOf(s, '/w/team-a')).profile.name).toBe('coin');
    expect((await profileOf(s)).profile.name).toBe('calm');
    expect((await profileOf(s, '/w/team-b')).profile.name).toBe('calm');
  });

  it('counts matches and injections per rule, and reset restarts counters and the timeline', async () => {
    const { clock, scheduler } = manualTime();
    const s = await start({ clock, scheduler, profile: 'outage-drill' });
    expect((await profileOf(s)).phase).toMatchObject({ index: 0, name: 'calm' });
    clock.advance(90_000);
    expect((await send(`${s.url}/wms/v1/inventory/SKU-1`, scheduler)).status).toBe(503);
    const during = await profileOf(s);
    expect(during.phase).toMatchObject({ index: 1, name: 'outage' });
    expect(during.rules.find((r: { id: string }) => r.id === 'wms-down')).toMatchObject({ open: true, matched: 1, injected: { outage: 1 } });

    expect((await call(`${s.url}/__admin/reset`, json({ scope: 'chaos' }))).status).toBe(200);
    const after = await profileOf(s);
    expect(after.phase).toMatchObject({ index: 0, name: 'calm' });
    expect(after.rules.find((r: { id: string }) => r.id === 'wms-down')).toMatchObject({ matched: 0, injected: {} });
    expect((await send(`${s.url}/wms/v1/inventory/SKU-1`, scheduler)).status).toBe(200);
  });
});

describe('deterministic chaos', () => {
  async function faultsFor(seed: number, requests: Array<{ path: string; client: string }>): Promise<string[]> {
    const { scheduler } = manualTime();
    const s = await start({ seed, scheduler });
    await put(s, COIN.replace('seed: 7\n', ''));
    for (const r of requests) await send(`${s.url}${r.path}`, scheduler, { headers: { 'x-understudy-client': r.client } });
    const journal = (await call(`${s.url}/__admin/journal?limit=1000&system=wms`)).body.entries.reverse();
    return journal.map((e: { client: string; path: string; status: number; faults: Array<{ kind: string }> }) => `${e.client} ${e.path} ${e.status} ${e.faults.map((f) => f.kind).join('+')}`);
  }

  const sequence = Array.from({ length: 60 }, (_, i) => ({ path: `/wms/v1/inventory/SKU-${(i % 7) + 1}`, client: i % 3 === 0 ? 'alpha' : 'beta' }));

  it('injects the same faults into the same requests on two servers with the same seed', async () => {
    const a = await faultsFor(11, sequence);
    const b = await faultsFor(11, sequence);
    expect(a).toEqual(b);
    expect(a.filter((l) => l.includes('status')).length).toBeGreaterThan(10);
    expect(a.filter((l) => l.includes('malformed')).length).toBeGreaterThan(3);
    const c = await faultsFor(12, sequence);
    expect(c).not.toEqual(a);
  });

  it("gives each client the same sequence whatever the interleaving with other clients", async () => {
    const interleaved = await faultsFor(11, sequence);
    const grouped = await faultsFor(11, [...sequence.filter((r) => r.client === 'beta'), ...sequence.filter((r) => r.client === 'alpha')]);
    const perClient = (lines: string[], client: string) => lines.filter((l) => l.startsWith(client + ' '));
    expect(perClient(grouped, 'alpha')).toEqual(perClient(interleaved, 'alpha'));
    expect(perClient(grouped, 'beta')).toEqual(perClient(interleaved, 'beta'));
  });
});

describe('rate limits', () => {
  it('admits exactly 100 of 150 concurrent requests in a 100-per-minute window', async () => {
    const s = await start();
    await put(s, 'name: exact\nrules:\n  - id: hundred\n    match: { system: wms }\n    rateLimit: { requests: 100, per: 1m, by: global }\n');
    const results = await Promise.all(Array.from({ length: 150 }, (_, i) => call(`${s.url}/wms/v1/inventory/SKU-${(i % 50) + 1}`)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((c) => c === 200)).toHaveLength(100);
    expect(statuses.filter((c) => c === 429)).toHaveLength(50);
    const refused = results.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('ratelimit')).toMatch(/^"hundred";r=0;t=\d+$/);
    expect(refused.headers.get('ratelimit-policy')).toBe('"hundred";q=100;w=60');
  });

  it('opens a new window when the minute is over', async () => {
    const { clock, scheduler } = manualTime();
    const s = await start({ clock, scheduler });
    await put(s, 'name: small\nrules:\n  - id: two\n    rateLimit: { requests: 2, per: 1m }\n');
    const statuses = async () => (await call(`${s.url}/wms/v1/items?limit=1`)).status;
    expect([await statuses(), await statuses(), await statuses()]).toEqual([200, 200, 429]);
    clock.advance(60_000);
    expect(await statuses()).toBe(200);
  });
});

describe('built-in profiles', () => {
  it('calm injects nothing', async () => {
    const s = await start();
    for (let i = 1; i <= 20; i++) expect((await call(`${s.url}/wms/v1/inventory/SKU-${i}`)).status).toBe(200);
    expect((await call(`${s.url}/__admin/journal`)).body.entries.every((e: { faults: unknown[] }) => e.faults.length === 0)).toBe(true);
  });

  it('bench-delay-100ms holds every WMS request exactly 100 ms', async () => {
    const { clock, scheduler } = manualTime();
    const s = await start({ clock, scheduler, profile: 'bench-delay-100ms' });
    let arrived = false;
    const pending = fetch(`${s.url}/wms/v1/inventory/SKU-1`).then((r) => {
      arrived = true;
      return r.status;
    });
    await scheduler.whenPending();
    expect(scheduler.pending).toEqual([100]);
    expect(arrived).toBe(false);
    scheduler.advance(100);
    expect(await pending).toBe(200);
  });

  it('rate-limited refuses the 101st WMS request of a client within the minute, not another client', async () => {
    const s = await start({ profile: 'rate-limited' });
    for (let i = 0; i < 100; i++) expect((await call(`${s.url}/wms/v1/items?limit=1`, { headers: { 'x-understudy-client': 'busy' } })).status).toBe(200);
    const refused = await call(`${s.url}/wms/v1/items?limit=1`, { headers: { 'x-understudy-client': 'busy' } });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect((await call(`${s.url}/wms/v1/items?limit=1`, { headers: { 'x-understudy-client': 'quiet' } })).status).toBe(200);
  });

  it('outage-drill runs calm, outage, recovery and calm again as its clock moves', async () => {
    const { clock, scheduler } = manualTime();
    const s = await start({ clock, scheduler, profile: 'outage-drill' });
    const get = () => send(`${s.url}/wms/v1/inventory/SKU-2`, scheduler);
    expect((await get()).status).toBe(200);
    clock.advance(61_000);
    const down = await get();
    expect(down.status).toBe(503);
    clock.advance(3 * 60_000);
    const recovering = await Promise.all(Array.from({ length: 5 }, () => get()));
    expect(recovering.every((r) => r.status === 200 || r.status === 503)).toBe(true);
    const journal = (await call(`${s.url}/__admin/journal?limit=5`)).body.entries;
    expect(journal.every((e: { faults: Array<{ rule: string; kind: string; params: { ms?: number } }> }) => e.faults[0].rule === 'wms-recovering' && e.faults[0].kind === 'latency' && e.faults[0].params.ms! >= 200 && e.faults[0].params.ms! <= 2000)).toBe(true);
    clock.advance(2 * 60_000);
    expect((await get()).status).toBe(200);
    expect((await profileOf(s)).phase).toMatchObject({ name: 'calm-again', endsInMs: null });
  });

  it('brownout is calm for 30 s, then slows down and sheds load with Retry-After', async () => {
    const { clock, scheduler } = manualTime();
    const s = await start({ clock, scheduler, profile: 'brownout' });
    expect((await send(`${s.url}/wms/v1/inventory/SKU-3`, scheduler)).status).toBe(200);
    expect((await call(`${s.url}/__admin/journal?limit=1`)).body.entries[0].faults).toEqual([]);
    clock.advance(30_000);
    const results = [];
    for (let i = 0; i < 60; i++) results.push(await send(`${s.url}/wms/v1/inventory/SKU-3`, scheduler));
    const shed = results.filter((r) => r.status === 503).length;
    expect(shed).toBeGreaterThan(2);
    expect(shed).toBeLessThan(30);
    const entries = (await call(`${s.url}/__admin/journal?limit=60`)).body.entries;
    expect(entries.every((e: { faults: Array<{ kind: string }> }) => e.faults[0]?.kind === 'latency')).toBe(true);
    clock.advance(2 * 60_000);
    expect((await send(`${s.url}/wms/v1/inventory/SKU-3`, scheduler)).status).toBe(200);
    expect((await call(`${s.url}/__admin/journal?limit=1`)).body.entries[0].faults).toEqual([]);
  });

  it('salesforce-timeouts puts some WMS answers around 10 s and some around 120 s', async () => {
    const { scheduler } = manualTime();
    const s = await start({ scheduler, profile: 'salesforce-timeouts' });
    for (let i = 0; i < 80; i++) await send(`${s.url}/wms/v1/inventory/SKU-${i + 1}`, scheduler, { headers: { 'x-understudy-client': `c${i % 4}` } });
    const delays = (await call(`${s.url}/__admin/journal?limit=100`)).body.entries.flatMap((e: { faults: Array<{ params: { ms: number } }> }) => e.faults.map((f) => f.params.ms));
    expect(delays.length).toBeGreaterThan(10);
    expect(delays.every((ms: number) => (ms >= 9000 && ms <= 11000) || (ms >= 115_000 && ms <= 125_000))).toBe(true);
    expect(delays.some((ms: number) => ms < 10_000) && delays.some((ms: number) => ms > 10_000)).toBe(true);
  });

  it('flaky-network adds jitter to everything and breaks a few connections', async () => {
    const { scheduler } = manualTime();
    const s = await start({ scheduler, profile: 'flaky-network', seed: 3 });
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 300; i++) outcomes.push(await send(`${s.url}/wms/v1/inventory/SKU-${(i % 40) + 1}`, scheduler, { headers: { 'x-understudy-client': `c${i % 5}` } }));
    const failed = outcomes.filter((o) => o.status !== 200 || o.error);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThan(40);
    const kinds = new Set((await call(`${s.url}/__admin/journal?limit=300`)).body.entries.flatMap((e: { faults: Array<{ kind: string }> }) => e.faults.map((f) => f.kind)));
    expect(kinds.has('latency')).toBe(true);
    expect([...kinds].some((k) => k === 'reset' || k === 'empty' || k === 'truncate')).toBe(true);
  });
});
