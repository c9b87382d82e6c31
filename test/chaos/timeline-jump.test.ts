/**
 * Moving a chaos timeline (issue #10 item 8): POST /__admin/chaos/timeline {"at"} / {"phase"} through real
 * sockets, and ChaosEngine.jump() and its timeline history directly. Checked: a jump by point and by phase puts
 * the phase's faults on the next request; every refusal is a 400 naming what is wrong and changes nothing; the
 * jump is a journal entry (system null, protocol admin, operation chaos.timeline) that the journal's views and
 * filters take in their stride; GET /__admin/chaos shows the history; a restart on the same data directory
 * resumes the moved timeline (an admin profile and the server's own); a reset forgets the jumps; a jump in one
 * workspace stays there. Time is a ManualClock: nothing waits for real time.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChaosEngine, MAX_TIMELINE_SEGMENTS, timelineEnd, TooManyJumpsError, type TimelineSegment } from '../../src/chaos/chaos-stage.js';
import { profileFromText } from '../../src/chaos/profile.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server.js';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { call, json, start } from '../helpers.js';

const T0 = Date.UTC(2026, 5, 1, 9, 0, 0);
const MINUTE = 60_000;

/** calm 1m, outage 2m (WMS 503 + Retry-After 30), recovery 1m (502); it ends at 4m */
const JUMPY = `name: jumpy
timeline:
  - phase: calm
    for: 1m
  - phase: outage
    for: 2m
    rules:
      - id: wms-down
        match: { system: wms }
        faults: [ { outage: { mode: 503, retryAfter: 30s } } ]
  - phase: recovery
    for: 1m
    rules:
      - id: wms-bad-gateway
        match: { system: wms }
        faults: [ { status: { code: 502 } } ]
`;

const INVENTORY = '/wms/v1/inventory/SKU-1';

async function server(options: ServerOptions = {}) {
  const clock = new ManualClock(T0);
  const s = await start({ clock, scheduler: new ManualScheduler(clock), seed: 5, ...options });
  return { s, clock, url: s.url };
}

const putProfile = (url: string, yaml: string) => call(`${url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: yaml });
const jump = (url: string, body: unknown, headers: Record<string, string> = {}) => call(`${url}/__admin/chaos/timeline`, json(body, headers));
const describeChaos = (url: string) => call(`${url}/__admin/chaos`).then((r) => r.body);
const status = (url: string) => call(`${url}${INVENTORY}`).then((r) => r.status);

describe('POST /__admin/chaos/timeline', () => {
  it('jumps by phase and by point; the next request gets that phase\'s fault; GET /__admin/chaos shows the history', async () => {
    const { url, clock } = await server();
    expect((await putProfile(url, JUMPY)).status).toBe(200);
    expect(await status(url)).toBe(200);

    clock.advance(5_000);
    const toOutage = await jump(url, { phase: 'outage' });
    expect(toOutage.status, toOutage.text).toBe(200);
    // the answer is GET /__admin/chaos's
    expect(toOutage.body).toEqual(await describeChaos(url));
    expect(toOutage.body).toMatchObject({ elapsedMs: MINUTE, phase: { index: 1, name: 'outage', startedMs: MINUTE, endsInMs: 2 * MINUTE }, timelineEndMs: 4 * MINUTE });
    const down = await call(`${url}${INVENTORY}`);
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('30');

    // the timeline runs on at clock speed from the point it was moved to
    clock.advance(30_000);
    expect((await describeChaos(url)).elapsedMs).toBe(90_000);

    clock.advance(1_000);
    const toRecovery = await jump(url, { at: '200s' });
    expect(toRecovery.status).toBe(200);
    expect(toRecovery.body.phase).toMatchObject({ name: 'recovery', endsInMs: 40_000 });
    expect(await status(url)).toBe(502);

    // back to the start is a jump too: counters carry on (the outage's one injection is still counted)
    const back = await jump(url, { at: '0s' });
    expect(back.body.phase.name).toBe('calm');
    expect(back.body.rules.find((r: { id: string }) => r.id === 'wms-down')).toMatchObject({ open: false, matched: 1, injected: { outage: 1 } });
    expect(await status(url)).toBe(200);

    // the end itself is a point on the timeline: everything has run, nothing is open
    const end = await jump(url, { at: '4m' });
    expect(end.status).toBe(200);
    expect(end.body.phase).toBeNull();
    expect(await status(url)).toBe(200);

    expect(end.body.activatedAt).toBe(new Date(T0).toISOString());
    expect(end.body.timeline).toEqual([
      { at: new Date(T0).toISOString(), elapsedMs: 0, cause: 'activated' },
      { at: new Date(T0 + 5_000).toISOString(), elapsedMs: MINUTE, cause: 'jump' },
      { at: new Date(T0 + 36_000).toISOString(), elapsedMs: 200_000, cause: 'jump' },
      { at: new Date(T0 + 36_000).toISOString(), elapsedMs: 0, cause: 'jump' },
      { at: new Date(T0 + 36_000).toISOString(), elapsedMs: 4 * MINUTE, cause: 'jump' },
    ]);
  });

  it('journals each jump: system null, protocol admin, operation chaos.timeline, the body sent; views and filters cope', async () => {
    const { url, clock } = await server();
    await putProfile(url, JUMPY);
    expect(await status(url)).toBe(200);
    clock.advance(2_000);
    expect((await jump(url, { phase: 'outage' })).status).toBe(200);
    expect(await status(url)).toBe(503);
    expect((await jump(url, { at: '3m' }, { 'x-understudy-client': 'drill-runner' })).status).toBe(200);
    // a refused jump changed nothing and is not journaled
    expect((await jump(url, { phase: 'nowhere' })).status).toBe(400);

    const jumps = (await call(`${url}/__admin/journal?operation=chaos.timeline`)).body;
    expect(jumps.total).toBe(2);
    const [second, first] = jumps.entries;
    expect(first).toMatchObject({
      system: null,
      protocol: 'admin',
      operation: 'chaos.timeline',
      method: 'POST',
      path: '/__admin/chaos/timeline',
      client: 'admin',
      status: 200,
      key: null,
      faults: [],
      ts: new Date(T0 + 2_000).toISOString(),
    });
    expect(second).toMatchObject({ operation: 'chaos.timeline', client: 'drill-runner', protocol: 'admin' });
    const full = (await call(`${url}/__admin/journal/${first.id}`)).body;
    expect(full.request.body.text).toBe('{"phase":"outage"}');
    expect(JSON.parse(full.response.body.text)).toMatchObject({ elapsedMs: MINUTE, phase: { name: 'outage' } });

    // the whole journal, in order, with the jumps among the traffic
    const all = (await call(`${url}/__admin/journal`)).body.entries.map((e: { operation: string; status: number }) => `${e.operation}:${e.status}`);
    expect(all).toEqual(['chaos.timeline:200', 'getInventory:503', 'chaos.timeline:200', 'getInventory:200']);
    // filters: by system (the jumps have none), client, status, fault
    expect((await call(`${url}/__admin/journal?system=wms`)).body.total).toBe(2);
    expect((await call(`${url}/__admin/journal?client=admin`)).body.entries.map((e: { id: number }) => e.id)).toEqual([first.id]);
    expect((await call(`${url}/__admin/journal?status=2xx`)).body.total).toBe(3);
    expect((await call(`${url}/__admin/journal?fault=outage`)).body.total).toBe(1);
    // an admin action is not traffic: the workspace's request counters leave it out
    expect((await call(`${url}/__admin/workspace`)).body.counters.requests).toBe(2);
  });

  it('refuses every malformed or impossible point with 400 saying what is wrong, and changes nothing', async () => {
    const { url, clock } = await server();
    await putProfile(url, JUMPY);
    clock.advance(10_000);
    const before = await describeChaos(url);
    const post = (body: string | undefined, type = 'application/json') =>
      call(`${url}/__admin/chaos/timeline`, { method: 'POST', headers: body === undefined ? {} : { 'content-type': type }, body });
    const cases: Array<[string | undefined, RegExp, string?]> = [
      [undefined, /Send \{"at": "90s"\}.* or \{"phase": "NAME"\}/],
      ['', /Send \{"at"/],
      ['at=90s', /not JSON/, 'application/x-www-form-urlencoded'],
      ['{"at": "90s"', /not JSON/],
      ['"90s"', /must be a JSON object/],
      ['[{"at": "90s"}]', /must be a JSON object/],
      ['null', /must be a JSON object/],
      ['{}', /Say where to move the timeline/],
      ['{"at": "90s", "phase": "outage"}', /either "at" or "phase", not both/],
      ['{"at": "90s", "speed": 2}', /Unknown field "speed"/],
      ['{"when": "90s", "how": 1}', /Unknown fields "when", "how"/],
      ['{"at": "90"}', /at must be a duration such as 250ms, 5s, 2m, 1h or 1d .*not "90"/],
      ['{"at": 90000}', /at must be a duration .*not 90000/],
      ['{"at": "-5s"}', /at must be a duration/],
      ['{"at": "1 minute"}', /at must be a duration/],
      ['{"at": null}', /at must be a duration/],
      ['{"at": "5m"}', /at "5m" is past the end of profile jumpy's timeline, which ends at 4m\./],
      ['{"at": "240001ms"}', /at "240001ms" is past the end/],
      ['{"phase": "outtage"}', /no phase "outtage" \(did you mean outage\?\)/],
      ['{"phase": "storm"}', /no phase "storm"; its phases: calm, outage, recovery/],
      ['{"phase": 2}', /phase must be the name of one of the profile's phases: calm, outage, recovery/],
    ];
    for (const [body, message, type] of cases) {
      const r = await post(body, type);
      expect(r.status, `${body}: ${r.text}`).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(r.body.detail, String(body)).toMatch(message);
      expect(r.body.detail).toMatch(/The timeline is unchanged\.$/);
    }
    expect(await describeChaos(url)).toEqual(before);
    expect((await call(`${url}/__admin/journal?operation=chaos.timeline`)).body.total).toBe(0);
  });

  it('a profile without phases moves by point within its when windows; one where nothing depends on time refuses', async () => {
    const { url } = await server();
    // brownout: when: { after: 30s, for: 2m } on both rules, no timeline: it ends at 2m30s
    expect((await call(`${url}/__admin/chaos?profile=brownout`, { method: 'PUT' })).status).toBe(200);
    expect((await jump(url, { at: '30s' })).body.rules.map((r: { open: boolean }) => r.open)).toEqual([true, true]);
    expect((await jump(url, { at: '2m30s' })).status).toBe(400); // not a duration: one unit only
    expect((await jump(url, { at: '150s' })).body.rules.map((r: { open: boolean }) => r.open)).toEqual([false, false]);
    expect((await jump(url, { at: '151s' })).body.detail).toMatch(/at "151s" is past the end of profile brownout's timeline, which ends at 150s\./);
    expect((await jump(url, { phase: 'calm' })).body.detail).toMatch(/Profile brownout has no timeline phases; move it with \{"at": DURATION\} instead/);

    // an open-ended last phase has no end: any point is on the timeline
    expect((await call(`${url}/__admin/chaos?profile=outage-drill`, { method: 'PUT' })).status).toBe(200);
    const late = await jump(url, { at: '24h' });
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ elapsedMs: 24 * 60 * MINUTE, phase: { name: 'calm-again', endsInMs: null }, timelineEndMs: null });

    // calm (and any profile whose rules are open throughout): there is nothing to move
    expect((await call(`${url}/__admin/chaos?profile=calm`, { method: 'PUT' })).status).toBe(200);
    const calm = await jump(url, { at: '0s' });
    expect(calm.status).toBe(400);
    expect(calm.body.detail).toMatch(/Nothing in profile calm depends on time \(no timeline, no when windows\)/);
    expect((await describeChaos(url)).timelineEndMs).toBeNull();
  });

  it('a jump in one workspace stays in that workspace', async () => {
    const { url } = await server({ profile: 'outage-drill' });
    expect(await status(`${url}/w/team-a`)).toBe(200);
    const moved = await jump(`${url}/w/team-a`, { phase: 'outage' });
    expect(moved.status).toBe(200);
    expect(await status(`${url}/w/team-a`)).toBe(503);
    expect(await status(url)).toBe(200);
    expect(await status(`${url}/w/team-b`)).toBe(200);
    expect((await describeChaos(url)).timeline).toHaveLength(1);
    expect((await describeChaos(`${url}/w/TEAM-A`)).timeline.map((s: { cause: string }) => s.cause)).toEqual(['activated', 'jump']);
    expect((await call(`${url}/__admin/journal?operation=chaos.timeline`)).body.total).toBe(0);
    const there = (await call(`${url}/w/team-a/__admin/journal?operation=chaos.timeline`)).body.entries;
    expect(there).toHaveLength(1);
    expect(there[0]).toMatchObject({ workspace: 'team-a', path: '/__admin/chaos/timeline' });
  });

  it('a reset of the chaos restarts the timeline and forgets its jumps', async () => {
    const { url, clock } = await server({ profile: 'outage-drill' });
    await jump(url, { phase: 'outage' });
    clock.advance(1_000);
    expect((await call(`${url}/__admin/reset`, json({ scope: 'chaos' }))).status).toBe(200);
    const after = await describeChaos(url);
    expect(after).toMatchObject({ elapsedMs: 0, phase: { name: 'calm' } });
    expect(after.timeline).toEqual([{ at: new Date(T0 + 1_000).toISOString(), elapsedMs: 0, cause: 'restarted' }]);
  });

  it('needs the admin token like every admin route', async () => {
    const { url } = await server({ profile: 'outage-drill', adminToken: 'sekret-token' });
    expect((await jump(url, { phase: 'outage' })).status).toBe(401);
    expect((await jump(url, { phase: 'outage' }, { authorization: 'Bearer sekret-token' })).status).toBe(200);
  });
});

describe('a restart on the same data directory resumes the moved timeline', () => {
  const dataDir = () => mkdtempSync(join(tmpdir(), 'understudy-jump-'));
  const serve = (dir: string, clock: ManualClock, extra: ServerOptions = {}): Promise<RunningServer> =>
    startServer({ port: 0, dataDir: dir, clock, scheduler: new ManualScheduler(clock), seed: 5, ...extra });

  it('for a profile activated through the admin API, in a /w/ workspace', async () => {
    const dir = dataDir();
    const clock = new ManualClock(T0);
    const first = await serve(dir, clock);
    let before: Record<string, unknown>;
    try {
      expect((await putProfile(`${first.url}/w/ci-3`, JUMPY)).status).toBe(200);
      clock.advance(4_000);
      expect((await jump(`${first.url}/w/ci-3`, { phase: 'outage' })).status).toBe(200);
      clock.advance(20_000);
      before = await describeChaos(`${first.url}/w/ci-3`);
      expect(before).toMatchObject({ elapsedMs: 80_000, phase: { name: 'outage' } });
    } finally {
      await first.close();
    }
    clock.advance(10_000); // the server was down for 10 s: the timeline ran on
    const second = await serve(dir, clock);
    try {
      const after = await describeChaos(`${second.url}/w/ci-3`);
      expect(after).toMatchObject({ elapsedMs: 90_000, phase: { name: 'outage' }, activatedAt: new Date(T0).toISOString() });
      expect(after.timeline).toEqual(before.timeline);
      expect(after.timeline.map((s: { cause: string }) => s.cause)).toEqual(['activated', 'jump']);
      expect(await status(`${second.url}/w/ci-3`)).toBe(503);
      expect(await status(second.url)).toBe(200);
      // the jump's journal entry survived too
      expect((await call(`${second.url}/w/ci-3/__admin/journal?operation=chaos.timeline`)).body.total).toBe(1);
    } finally {
      await second.close();
    }
  });

  it('for the server\'s own profile, and a reset before the restart is remembered as one', async () => {
    const dir = dataDir();
    const clock = new ManualClock(T0);
    const first = await serve(dir, clock, { profile: 'outage-drill' });
    try {
      expect((await jump(first.url, { at: '200s' })).status).toBe(200);
      expect((await jump(`${first.url}/w/other`, { phase: 'outage' })).status).toBe(200);
      expect((await call(`${first.url}/w/other/__admin/reset`, json({ scope: 'chaos' }))).status).toBe(200);
    } finally {
      await first.close();
    }
    clock.advance(5_000);
    const second = await serve(dir, clock, { profile: 'outage-drill' });
    try {
      expect(await describeChaos(second.url)).toMatchObject({ elapsedMs: 205_000, phase: { name: 'outage' } });
      expect(await status(second.url)).toBe(503);
      const other = await describeChaos(`${second.url}/w/other`);
      expect(other).toMatchObject({ elapsedMs: 5_000, phase: { name: 'calm' } });
      expect(other.timeline).toEqual([{ at: new Date(T0).toISOString(), elapsedMs: 0, cause: 'restarted' }]);
    } finally {
      await second.close();
    }
  });
});

describe('ChaosEngine.jump and its timeline', () => {
  const engine = (clock: ManualClock, text = JUMPY, activatedAt?: number, timeline?: readonly TimelineSegment[]) =>
    new ChaosEngine(profileFromText(text), { clock, scheduler: new ManualScheduler(clock), seed: 1, faultHeader: false }, activatedAt, timeline);

  it('reads 0, in its first phase, on a clock a moment behind the one its start was taken on (replicas)', () => {
    const clock = new ManualClock(T0);
    // a restart stamped by another replica's log entry, 3 ms ahead of this replica's reading of the shared clock
    const e = engine(clock, JUMPY, T0 + 3);
    expect(e.elapsed()).toBe(0);
    expect(e.describe()).toMatchObject({ elapsedMs: 0, phase: { name: 'calm', startedMs: 0 } });
    clock.advance(10);
    expect(e.elapsed()).toBe(7);
  });

  it('starts with one segment, appends one per jump, and restart() starts a new list', () => {
    const clock = new ManualClock(T0);
    const e = engine(clock);
    expect(e.timeline).toEqual([{ at: T0, elapsedMs: 0, cause: 'activated' }]);
    clock.advance(1_000);
    e.jump(MINUTE);
    expect(e.elapsed()).toBe(MINUTE);
    e.jump(5_000, T0 + 3_000);
    expect(e.elapsed(T0 + 3_000)).toBe(5_000);
    const history = e.timeline;
    expect(history).toEqual([
      { at: T0, elapsedMs: 0, cause: 'activated' },
      { at: T0 + 1_000, elapsedMs: MINUTE, cause: 'jump' },
      { at: T0 + 3_000, elapsedMs: 5_000, cause: 'jump' },
    ]);
    expect(Object.isFrozen(history[1])).toBe(true);
    e.restart(T0 + 9_000);
    expect(e.timeline).toEqual([{ at: T0 + 9_000, elapsedMs: 0, cause: 'restarted' }]);
    expect(history).toHaveLength(3); // a list already handed out is left as it was
  });

  it('jumped() says what jump() would do without doing it; past the limit both refuse and nothing changes', () => {
    const clock = new ManualClock(T0);
    const e = engine(clock);
    expect(e.jumped(MINUTE)).toEqual([...e.timeline, { at: T0, elapsedMs: MINUTE, cause: 'jump' }]);
    expect(e.timeline).toHaveLength(1);
    expect(() => e.jump(-1)).toThrow(RangeError);
    expect(() => e.jump(Number.NaN)).toThrow(RangeError);
    for (let i = 1; i < MAX_TIMELINE_SEGMENTS; i++) e.jump(i);
    expect(e.timeline).toHaveLength(MAX_TIMELINE_SEGMENTS);
    expect(() => e.jump(5)).toThrow(TooManyJumpsError);
    expect(e.timeline).toHaveLength(MAX_TIMELINE_SEGMENTS);
    expect(e.elapsed()).toBe(MAX_TIMELINE_SEGMENTS - 1);
  });

  it('resumes a stored history when it agrees with the stored origin, and ignores one that does not', () => {
    const clock = new ManualClock(T0 + MINUTE);
    const stored = [
      { at: T0, elapsedMs: 0, cause: 'activated' as const },
      { at: T0 + 10_000, elapsedMs: 70_000, cause: 'jump' as const },
    ];
    const resumed = engine(clock, JUMPY, T0 - MINUTE, stored);
    expect(resumed.timeline).toEqual(stored);
    expect(resumed.elapsed()).toBe(2 * MINUTE);
    expect(resumed.describe()).toMatchObject({ activatedAt: new Date(T0).toISOString(), phase: { name: 'outage' } });
    const mismatched = engine(clock, JUMPY, T0, stored);
    expect(mismatched.timeline).toEqual([{ at: T0, elapsedMs: 0, cause: 'activated' }]);
  });

  it('timelineEnd: the last phase\'s end, the last when window\'s close, Infinity when open-ended, undefined when timeless', () => {
    const end = (text: string) => timelineEnd(profileFromText(text));
    expect(end(JUMPY)).toBe(4 * MINUTE);
    expect(end(JUMPY.replace('  - phase: recovery\n    for: 1m', '  - phase: recovery'))).toBe(Infinity);
    expect(end('rules:\n  - id: a\n    faults: [reset]\n')).toBeUndefined();
    expect(end('rules: []\n')).toBeUndefined();
    expect(end('rules:\n  - id: a\n    when: { after: 30s, for: 1m }\n    faults: [reset]\n  - id: b\n    when: { for: 2m }\n    faults: [reset]\n')).toBe(2 * MINUTE);
    expect(end('rules:\n  - id: a\n    when: { after: 30s }\n    faults: [reset]\n')).toBe(Infinity);
    // a window outlasting the timeline's last phase extends the end
    expect(end(`${JUMPY}rules:\n  - id: late\n    when: { after: 5m, for: 1m }\n    faults: [reset]\n`)).toBe(6 * MINUTE);
  });
});
