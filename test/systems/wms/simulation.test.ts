/**
 * The stock simulation at runtime (GET and PUT /__admin/wms/simulation), through real sockets on a ManualClock:
 * a new rate takes effect exactly as if the server had been started at it, a pause stops changes and keeps the
 * rate, the sequence of changes goes on after a change of rate instead of starting over, bad input is refused
 * with a 400 naming the field and changes nothing, each workspace has its own simulation, and a change survives
 * a restart: the restored workspace's stock is that of a server that never stopped.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServer, type RunningServer, type ServerOptions } from '../../../src/server.js';
import { ManualClock } from '../../../src/util/clock.js';
import { call, json, start, VENDOR_CONTRACT } from '../../helpers.js';

const START = Date.UTC(2026, 4, 4, 10, 0, 0);

const put = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): RequestInit => ({
  method: 'PUT',
  headers,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

async function settings(url: string, workspace = ''): Promise<unknown> {
  const r = await call(`${url}${workspace}/__admin/wms/simulation`);
  expect(r.status).toBe(200);
  return r.body;
}

async function change(url: string, body: unknown, workspace = ''): Promise<unknown> {
  const r = await call(`${url}${workspace}/__admin/wms/simulation`, put(body));
  expect(r.status, r.text).toBe(200);
  return r.body;
}

/** The feed drained from `cursor` (from the start without one): its changes and the cursor to poll with next. */
async function feed(url: string, cursor?: string): Promise<{ changes: Array<{ entity: string; id: string; data: any }>; cursor: string }> {
  const changes = [];
  for (;;) {
    const page = await call(`${url}/wms/v1/changes?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.status).toBe(200);
    changes.push(...page.body.changes);
    cursor = page.body.nextCursor as string;
    if (!page.body.hasMore) return { changes, cursor };
  }
}

/** Every SKU's stock as the export shows it. */
async function stock(url: string): Promise<string> {
  const r = await call(`${url}/wms/v1/exports/inventory?format=ndjson`);
  expect(r.status).toBe(200);
  return r.text;
}

/** The stock levels without the times they changed at (which differ when the same changes fall due at other times). */
async function levels(url: string): Promise<unknown[]> {
  return (await stock(url))
    .trim()
    .split('\n')
    .map((line) => {
      const { updatedAt: _changed, ...rest } = JSON.parse(line);
      return rest;
    });
}

const wmsAt = (changeRatePerSecond: number, extra: ServerOptions = {}) => ({ seed: 3, systems: { wms: { skus: 1000, changeRatePerSecond } }, ...extra });

describe('GET /__admin/wms/simulation', () => {
  it('shows the configured rate, running when it is not 0', async () => {
    expect(await settings((await start({ clock: new ManualClock(START), ...wmsAt(0) })).url)).toEqual({ running: false, rate: '0/s' });
    expect(await settings((await start({ clock: new ManualClock(START), ...wmsAt(2) })).url)).toEqual({ running: true, rate: '2/s' });
    // systems.wms.changeRate: 6/m arrives as 0.1 a second, and is shown in the unit that keeps it whole
    expect(await settings((await start({ clock: new ManualClock(START), ...wmsAt(0.1) })).url)).toEqual({ running: true, rate: '6/m' });
  });

  it('answers 404 when the WMS is not mounted', async () => {
    const s = await start({ systems: { wms: { enabled: false } }, contracts: [VENDOR_CONTRACT] });
    const got = await call(`${s.url}/__admin/wms/simulation`);
    expect(got.status).toBe(404);
    expect(got.body.detail).toMatch(/WMS is not mounted/);
    expect((await call(`${s.url}/__admin/wms/simulation`, put({ rate: '5/s' }))).status).toBe(404);
  });
});

describe('PUT /__admin/wms/simulation', () => {
  it('starts changes at the new rate, exactly as a server started at that rate', async () => {
    const clock = new ManualClock(START);
    const [changed, configured] = [await start({ clock, ...wmsAt(0) }), await start({ clock, ...wmsAt(5) })];
    const { cursor } = await feed(changed.url);

    expect(await change(changed.url, { rate: '5/s' })).toEqual({ running: true, rate: '5/s' });
    expect(await settings(changed.url)).toEqual({ running: true, rate: '5/s' });
    clock.advance(10_000);
    // 50 changes fell due: a few may land on the same SKU, or move nothing (a pick from an empty shelf)
    const { changes } = await feed(changed.url, cursor);
    expect(changes.length).toBeGreaterThan(40);
    expect(changes.length).toBeLessThanOrEqual(50);
    expect(changes.every((c) => c.entity === 'inventory')).toBe(true);
    expect(await stock(changed.url)).toEqual(await stock(configured.url));
    expect((await feed(changed.url)).changes).toEqual((await feed(configured.url)).changes);
  });

  it('keeps the unit the caller used, and the number without redundant zeros', async () => {
    const s = await start({ clock: new ManualClock(START), ...wmsAt(0) });
    expect(await change(s.url, { rate: '120/m' })).toEqual({ running: true, rate: '120/m' });
    expect(await change(s.url, { rate: '0005.50/h' })).toEqual({ running: true, rate: '5.5/h' });
    expect(await change(s.url, { rate: '1000/s' })).toEqual({ running: true, rate: '1000/s' });
    // 0 is allowed, and means not running
    expect(await change(s.url, { rate: '0/m' })).toEqual({ running: false, rate: '0/m' });
    expect(await settings(s.url)).toEqual({ running: false, rate: '0/m' });
  });

  it('pauses (the rate kept) and resumes', async () => {
    const clock = new ManualClock(START);
    const s = await start({ clock, ...wmsAt(5) });
    const { cursor } = await feed(s.url);
    clock.advance(2_000);
    expect(await change(s.url, { running: false })).toEqual({ running: false, rate: '5/s' });
    // the 10 changes due before the pause were applied by it (a read after it would no longer apply them)
    const beforePause = await feed(s.url, cursor);
    expect(beforePause.changes.length).toBeGreaterThan(5);
    expect(beforePause.changes.length).toBeLessThanOrEqual(10);
    clock.advance(60_000);
    expect((await feed(s.url, beforePause.cursor)).changes).toEqual([]);
    expect(await settings(s.url)).toEqual({ running: false, rate: '5/s' });
    // a new rate while paused stays paused
    expect(await change(s.url, { rate: '10/s' })).toEqual({ running: false, rate: '10/s' });
    clock.advance(60_000);
    expect((await feed(s.url, beforePause.cursor)).changes).toEqual([]);

    expect(await change(s.url, { running: true })).toEqual({ running: true, rate: '10/s' });
    clock.advance(2_000);
    const resumed = await feed(s.url, beforePause.cursor);
    expect(resumed.changes.length).toBeGreaterThan(15);
    expect(resumed.changes.length).toBeLessThanOrEqual(20);
  });

  it('continues the sequence of changes after a rate change instead of repeating it', async () => {
    const [clock, steadyClock] = [new ManualClock(START), new ManualClock(START)];
    const [changed, steady] = [await start({ clock, ...wmsAt(5) }), await start({ clock: steadyClock, ...wmsAt(5) })];
    const { cursor } = await feed(changed.url);
    clock.advance(10_000);
    const first = await feed(changed.url, cursor);
    // changes 0-49 at 5/s, then 50-99 at 10/s
    expect(await change(changed.url, { rate: '10/s' })).toEqual({ running: true, rate: '10/s' });
    clock.advance(5_000);
    const second = await feed(changed.url, first.cursor);
    // the same 100 movements as 20 s at 5/s, only sooner: the same stock, SKU by SKU and warehouse by warehouse
    steadyClock.advance(20_000);
    expect(await levels(changed.url)).toEqual(await levels(steady.url));
    // had it started over at change 0, the second 50 would have moved the same SKUs as the first 50
    const skus = (changes: Array<{ id: string }>) => changes.map((c) => c.id).sort();
    expect(second.changes.length).toBeGreaterThan(40);
    expect(skus(second.changes)).not.toEqual(skus(first.changes));
  });

  /**
   * One pair of servers for every refusal below, started alike on one clock: a refusal changes nothing, so the two
   * stay in step from case to case, and each case's comparison also catches a change an earlier one made.
   */
  let pair: Promise<{ clock: ManualClock; refused: RunningServer; untouched: RunningServer }> | undefined;
  const refusalPair = () =>
    (pair ??= (async () => {
      const clock = new ManualClock(START);
      return { clock, refused: await start({ clock, ...wmsAt(2) }), untouched: await start({ clock, ...wmsAt(2) }) };
    })());

  it.each([
    ['a word', { rate: 'fast' }, /rate "fast" is not a rate/],
    ['another unit', { rate: '5/x' }, /rate "5\/x" is not a rate/],
    ['a negative rate', { rate: '-1/s' }, /rate "-1\/s" is not a rate/],
    ['an exponent', { rate: '1e9/s' }, /rate "1e9\/s" is not a rate/],
    ['more than 1000 a second', { rate: '1001/s' }, /rate "1001\/s" is more than 1000 changes per second/],
    ['a number for the rate', { rate: 5 }, /rate must be a string/],
    ['a string for running', { running: 'yes' }, /running must be true or false/],
    ['an unknown field', { rate: '5/s', speed: 'fast' }, /Unknown field "speed"/],
    ['neither field', {}, /Nothing to change/],
    ['a list', [{ rate: '5/s' }], /must be a JSON object/],
    ['a string', '"5/s"', /must be a JSON object/],
    ['no JSON at all', 'rate=5/s', /not valid JSON/],
    ['running at rate 0', { rate: '0/s', running: true }, /cannot run/],
  ])('refuses %s with 400, naming the problem, and changes nothing', async (_case, body, says) => {
    const { clock, refused, untouched } = await refusalPair();
    clock.advance(3_000);
    const r = await call(`${refused.url}/__admin/wms/simulation`, put(body));
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.body.detail).toMatch(says);
    expect(r.body.detail).toMatch(/Nothing was changed/);
    expect(await settings(refused.url)).toEqual({ running: true, rate: '2/s' });
    clock.advance(10_000);
    expect(await stock(refused.url)).toEqual(await stock(untouched.url));
  });

  it('refuses to run at rate 0 when none was configured', async () => {
    const s = await start({ clock: new ManualClock(START), ...wmsAt(0) });
    const r = await call(`${s.url}/__admin/wms/simulation`, put({ running: true }));
    expect(r.status).toBe(400);
    expect(r.body.detail).toMatch(/The rate is 0\/s, so the simulation cannot run/);
    expect(await settings(s.url)).toEqual({ running: false, rate: '0/s' });
  });

  it('refuses a body that is not JSON (415)', async () => {
    const s = await start({ clock: new ManualClock(START), ...wmsAt(0) });
    const r = await call(`${s.url}/__admin/wms/simulation`, put('rate=5/s', { 'content-type': 'application/x-www-form-urlencoded' }));
    expect(r.status).toBe(415);
    expect(await settings(s.url)).toEqual({ running: false, rate: '0/s' });
  });

  it('acts on its own workspace only, and a state reset goes back to the configured rate', async () => {
    const clock = new ManualClock(START);
    const s = await start({ clock, ...wmsAt(0) });
    const before = await feed(s.url);
    const ci = await feed(`${s.url}/w/ci-1`);
    expect(await change(s.url, { rate: '5/s' }, '/w/ci-1')).toEqual({ running: true, rate: '5/s' });
    expect(await settings(s.url)).toEqual({ running: false, rate: '0/s' });
    expect(await settings(s.url, '/w/CI-1')).toEqual({ running: true, rate: '5/s' });
    clock.advance(4_000);
    expect((await feed(s.url, before.cursor)).changes).toEqual([]);
    expect((await feed(`${s.url}/w/ci-1`, ci.cursor)).changes.length).toBeGreaterThan(15);

    expect((await call(`${s.url}/w/ci-1/__admin/reset`, json({ scope: 'state' }))).status).toBe(200);
    expect(await settings(s.url, '/w/ci-1')).toEqual({ running: false, rate: '0/s' });
  });
});

describe('a simulation changed at runtime, across a restart', () => {
  const dataDir = () => mkdtempSync(join(tmpdir(), 'understudy-simulation-'));

  /**
   * The same requests at the same clock times on `server()` (restarted in the middle when `restart` is given)
   * and on a server in memory that never stops; returns both stocks and simulation settings at the end.
   */
  async function compare(restart: (() => Promise<RunningServer>) | undefined, first: RunningServer, clock: ManualClock, reference: RunningServer) {
    const both = async (fn: (url: string) => Promise<unknown>, servers: RunningServer[]) => Promise.all(servers.map((s) => fn(s.url)));
    let servers = [first, reference];
    clock.advance(1_000);
    await both((url) => change(url, { rate: '5/s' }), servers);
    clock.advance(4_000);
    await both(async (url) => expect((await call(`${url}/wms/v1/reservations`, json({ externalOrderId: 'SO-1', lines: [{ sku: 'SKU-7', quantity: 2 }] }))).status).toBe(201), servers);
    clock.advance(3_000);
    await both((url) => change(url, { rate: '120/m' }), servers);
    clock.advance(2_500);
    await both((url) => change(url, { running: false }), servers);
    clock.advance(1_000);
    await both((url) => change(url, { rate: '20/s', running: true }), servers);
    clock.advance(1_500);
    if (restart) {
      await first.close();
      servers = [await restart(), reference];
    }
    // after the restart: time passes at the restored rate, and a new change of rate continues the sequence
    clock.advance(3_000);
    await both((url) => change(url, { rate: '3/s' }), servers);
    clock.advance(10_000);
    const [restored, stayed] = servers;
    return { restored, stayed };
  }

  it.each([
    ['replaying the logged commands', {}],
    ['from a snapshot taken after each write', { store: { snapshotEvery: 1, snapshotPause: 0 } }],
  ] as const)('continues identically, %s', async (_how, storeOptions) => {
    const dir = dataDir();
    const clock = new ManualClock(START);
    const options = { port: 0, clock, ...wmsAt(0), dataDir: dir, ...storeOptions };
    const first = await startServer(options);
    const reference = await start({ clock, ...wmsAt(0) });
    const { restored, stayed } = await compare(() => startServer(options), first, clock, reference);
    try {
      expect(restored.restored.workspaces.find((w) => w.workspace === 'default')!.systems[0]).toMatchObject(
        // four commands and a reservation, or a snapshot of the state they made
        'store' in storeOptions ? { snapshot: true } : { snapshot: false, writes: 5 },
      );
      expect(await settings(restored.url)).toEqual({ running: true, rate: '3/s' });
      expect(await stock(restored.url)).toEqual(await stock(stayed.url));
      expect((await feed(restored.url)).changes).toEqual((await feed(stayed.url)).changes);
      // the simulation did run throughout: 5/s, 2/s, a pause, 20/s, then 3/s
      expect((await feed(restored.url)).changes.filter((c) => c.entity === 'inventory' && c.data.version > 1).length).toBeGreaterThan(100);
    } finally {
      await restored.close();
    }
  });
});
