/**
 * Durable state across a restart, through real sockets: what a server acknowledged is there when the next one
 * starts on the same data directory — reservations and the stock they took, the change feed and its cursors,
 * workspaces, the active chaos profile where its timeline stood, the journal and its cursors — and resets and
 * deletions stay done.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { readConfigFile, resolveConfig } from '../../src/config/config.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server.js';
import { ManualClock } from '../../src/util/clock.js';
import { call, json } from '../helpers.js';

const PROFILE = `
name: two-phases
timeline:
  - phase: quiet
    for: 10m
  - phase: stormy
    for: 10m
    rules:
      - id: sku-3-down
        match: { path: /wms/v1/inventory/SKU-3 }
        faults: [ { status: { code: 503 } } ]
`;

function dataDir(): string {
  return mkdtempSync(join(tmpdir(), 'understudy-store-'));
}

/** A server on the directory; every test closes what it starts (the directory allows one at a time). */
async function serve(dir: string, clock: ManualClock, extra: ServerOptions = {}): Promise<RunningServer> {
  return startServer({ port: 0, dataDir: dir, clock, seed: 7, systems: { wms: { reservationTtlMs: 3_600_000, changeRatePerSecond: 0.5 } }, ...extra });
}

/** Every change after the cursor, paging through the feed. */
async function changesAfter(url: string, cursor: string): Promise<Array<{ entity: string; id: string }>> {
  const all = [];
  for (;;) {
    const page = await call(`${url}/wms/v1/changes?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
    all.push(...page.body.changes);
    if (!page.body.hasMore) return all;
    cursor = page.body.nextCursor;
  }
}

const order = (id: string, sku: string, quantity: number) => json({ externalOrderId: id, lines: [{ sku, quantity }] });

/** Everything a client can read that a restart must not change. */
async function observe(url: string, cursors: { changes: string; journal: string }) {
  const read = async (path: string) => {
    const r = await call(`${url}${path}`);
    return { status: r.status, body: r.body };
  };
  return {
    inventory: await read('/wms/v1/inventory/SKU-1'),
    reservations: await read('/wms/v1/reservations?limit=50'),
    ci7: await read('/w/ci-7/wms/v1/reservations?limit=50'),
    changesFromCursor: await changesAfter(url, cursors.changes),
    allChanges: await read('/wms/v1/changes?limit=5'),
    journalPage2: await read(`/__admin/journal?limit=2&cursor=${cursors.journal}`),
    journalByKey: await read('/__admin/journal?key=SO-A'),
    chaos: await read('/w/ci-7/__admin/chaos'),
    workspaces: (await read('/__admin/workspaces')).body.workspaces.map((w: { name: string }) => w.name).sort(),
  };
}

describe('a restart on the same data directory', () => {
  it('keeps acknowledged writes, the change feed and its cursors, workspaces, the chaos timeline and the journal', async () => {
    const dir = dataDir();
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 8, 0, 0));
    const first = await serve(dir, clock);
    expect((await call(`${first.url}/wms/v1/reservations`, order('SO-A', 'SKU-1', 3))).status).toBe(201);
    clock.advance(5_000);
    expect((await call(`${first.url}/w/ci-7/wms/v1/reservations`, order('SO-B', 'SKU-2', 2))).status).toBe(201);
    const put = await call(`${first.url}/w/ci-7/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: PROFILE });
    expect(put.status).toBe(200);
    clock.advance(60_000);
    const changes = await call(`${first.url}/wms/v1/changes?limit=3`);
    const cursor = changes.body.nextCursor as string;
    expect(cursor).toBeTruthy();
    expect((await call(`${first.url}/wms/v1/reservations/RES-000001`, { method: 'DELETE' })).status).toBe(200);
    expect((await call(`${first.url}/wms/v1/reservations`, order('SO-C', 'SKU-1', 4))).status).toBe(201);
    clock.advance(11 * 60_000); // into the stormy phase
    expect((await call(`${first.url}/w/ci-7/wms/v1/inventory/SKU-3`)).status).toBe(503);
    first.engine.flush();
    const journalCursor = (await call(`${first.url}/__admin/journal?limit=2`)).body.nextCursor as string;
    const before = await observe(first.url, { changes: cursor, journal: journalCursor });
    await first.close();

    const second = await serve(dir, clock);
    try {
      expect(second.restored.workspaces.map((w) => w.workspace).sort()).toEqual(['ci-7', 'default']);
      const after = await observe(second.url, { changes: cursor, journal: journalCursor });
      // the journal gained the reads observe() made (its total grew); the old cursor's page is the same page
      expect(after.journalPage2.body.entries).toEqual(before.journalPage2.body.entries);
      expect(after.journalPage2.body.nextCursor).toEqual(before.journalPage2.body.nextCursor);
      expect(before.journalPage2.body.entries.length).toBe(2);
      expect({ ...after, journalPage2: null, journalByKey: null, chaos: null }).toEqual({ ...before, journalPage2: null, journalByKey: null, chaos: null });
      // the profile, its activation and where its timeline stands survive; its counters start again (not state)
      const { rules: _r1, ...chaosBefore } = before.chaos.body;
      const { rules: _r2, ...chaosAfter } = after.chaos.body;
      expect(chaosAfter).toEqual(chaosBefore);
      expect(after.journalByKey.body.entries).toEqual(before.journalByKey.body.entries);
      expect(before.reservations.body.reservations.map((r: { id: string; status: string }) => `${r.id}:${r.status}`)).toEqual(['RES-000001:released', 'RES-000002:active']);
      expect(before.chaos.body.phase.name).toBe('stormy');
      // the chaos profile is still in its stormy phase, and still faults
      expect((await call(`${second.url}/w/ci-7/wms/v1/inventory/SKU-3`)).status).toBe(503);
      // the change feed continues: a write now comes after every change the cursor already saw
      expect((await call(`${second.url}/wms/v1/reservations`, order('SO-D', 'SKU-5', 1))).status).toBe(201);
      const next = await changesAfter(second.url, cursor);
      expect(before.changesFromCursor.length).toBeGreaterThan(100); // simulated stock changes among them
      expect(next.slice(0, -2)).toEqual(before.changesFromCursor.filter((c) => !(c.entity === 'inventory' && c.id === 'SKU-5')));
      expect(next.slice(-2).map((c) => `${c.entity}:${c.id}`).sort()).toEqual(['inventory:SKU-5', 'reservation:RES-000003']);
    } finally {
      await second.close();
    }
  });

  it('restores from a snapshot plus the writes after it', async () => {
    const dir = dataDir();
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 8, 0, 0));
    const first = await serve(dir, clock, { store: { snapshotEvery: 5, snapshotPause: 0 } });
    for (let i = 1; i <= 12; i++) {
      clock.advance(1_000);
      expect((await call(`${first.url}/wms/v1/reservations`, order(`SO-${i}`, `SKU-${i}`, 1))).status).toBe(201);
    }
    const before = await changesAfter(first.url, '');
    const stock = (await call(`${first.url}/wms/v1/inventory/SKU-12`)).body;
    await first.close();

    const second = await serve(dir, clock, { store: { snapshotEvery: 5, snapshotPause: 0 } });
    try {
      // two snapshots were taken (after writes 5 and 10); the restart restored the second and replayed 11 and 12
      expect(second.restored.workspaces[0].systems).toEqual([
        { system: 'wms', snapshot: true, writes: 2, diverged: 0 },
        { system: 'payments', snapshot: false, writes: 0, diverged: 0 },
        { system: 'alerts', snapshot: false, writes: 0, diverged: 0 },
        { system: 'erp', snapshot: false, writes: 0, diverged: 0 },
        { system: 'outbound', snapshot: false, writes: 0, diverged: 0 },
        { system: 'oauth', snapshot: false, writes: 0, diverged: 0 },
      ]);
      expect(await changesAfter(second.url, '')).toEqual(before);
      expect((await call(`${second.url}/wms/v1/inventory/SKU-12`)).body).toEqual(stock);
      expect((await call(`${second.url}/wms/v1/reservations/RES-000012`)).body.externalOrderId).toBe('SO-12');
    } finally {
      await second.close();
    }
  });

  it('replays a catch-up that skipped simulated changes at the moment it ran, though only a read caused it', async () => {
    const dir = dataDir();
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 8, 0, 0));
    // 10 changes a second: an idle hour owes 36,000, more than one catch-up applies, so a read in the middle of it
    // decides which are skipped
    const options = { systems: { wms: { changeRatePerSecond: 10 } } };
    const first = await serve(dir, clock, options);
    expect((await call(`${first.url}/wms/v1/reservations`, order('SO-1', 'SKU-1', 1))).status).toBe(201);
    clock.advance(3_600_000);
    expect((await call(`${first.url}/wms/v1/inventory/SKU-2`)).status).toBe(200);
    clock.advance(200_000);
    expect((await call(`${first.url}/wms/v1/reservations`, order('SO-2', 'SKU-3', 1))).status).toBe(201);
    const before = await changesAfter(first.url, '');
    await first.close();

    const second = await serve(dir, clock, options);
    try {
      expect(await changesAfter(second.url, '')).toEqual(before);
    } finally {
      await second.close();
    }
  });

  it('keeps resets and deletions done', async () => {
    const dir = dataDir();
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 8, 0, 0));
    const first = await serve(dir, clock);
    for (const ws of ['a', 'b', 'c']) expect((await call(`${first.url}/w/${ws}/wms/v1/reservations`, order(`SO-${ws}`, 'SKU-1', 1))).status).toBe(201);
    expect((await call(`${first.url}/w/a/__admin/reset`, json({ scope: 'state' }))).status).toBe(200);
    expect((await call(`${first.url}/w/b/__admin/reset`, json({ scope: 'journal' }))).status).toBe(200);
    expect((await call(`${first.url}/w/c/__admin/workspace`, { method: 'DELETE' })).status).toBe(200);
    const idsBeforeReset = (await call(`${first.url}/w/b/__admin/journal`)).body.entries.length;
    expect(idsBeforeReset).toBe(0);
    await first.close();

    const second = await serve(dir, clock);
    try {
      const names = (await call(`${second.url}/__admin/workspaces`)).body.workspaces.map((w: { name: string }) => w.name).sort();
      expect(names).toEqual(['a', 'b', 'default']);
      expect((await call(`${second.url}/w/a/wms/v1/reservations/RES-000001`)).status).toBe(404);
      expect((await call(`${second.url}/w/b/wms/v1/reservations/RES-000001`)).status).toBe(200);
      // b's journal was cleared: it holds only what came after, and its ids did not start again from 1
      const journal = await call(`${second.url}/w/b/__admin/journal`);
      expect(journal.body.entries.map((e: { path: string }) => e.path)).toEqual(['/wms/v1/reservations/RES-000001']);
      expect(journal.body.entries[0].id).toBeGreaterThan(1);
      // c was deleted: a new c starts empty, its journal ids after the old one's (old rows can never pass for it)
      expect((await call(`${second.url}/w/c/wms/v1/reservations/RES-000001`)).status).toBe(404);
    } finally {
      await second.close();
    }
  });

  it('allows one server per data directory, and names the one holding it', async () => {
    const dir = dataDir();
    const clock = new ManualClock();
    const first = await serve(dir, clock);
    try {
      await expect(serve(dir, clock)).rejects.toThrow(new RegExp(`${dir} is in use by another understudy \\(pid ${process.pid}, started`));
      // the first one is unharmed
      expect((await call(`${first.url}/wms/v1/reservations`, order('SO-1', 'SKU-1', 1))).status).toBe(201);
    } finally {
      await first.close();
    }
    // and once it is gone the directory is free
    const second = await serve(dir, clock);
    expect((await call(`${second.url}/wms/v1/reservations/RES-000001`)).status).toBe(200);
    await second.close();
  });

  it('with journal.sync: always, stores each exchange as soon as it is recorded (durability: power from the config file)', async () => {
    const folder = dataDir();
    const file = join(folder, 'understudy.yaml');
    writeFileSync(file, 'dataDir: state\ndurability: power\njournal: { sync: always }\n');
    const config = resolveConfig(readConfigFile(file), { port: 0 });
    expect(config).toMatchObject({ dataDir: join(folder, 'state'), durability: 'power', journal: { sync: 'always' } });
    const server = await startServer({ ...config, clock: new ManualClock() });
    try {
      expect((await call(`${server.url}/wms/v1/reservations`, order('SO-1', 'SKU-1', 1))).status).toBe(201);
      // recorded at the end of the turn that wrote the reply, handed to the writer at once: no 250 ms batch
      server.engine.flush();
      await Promise.resolve();
      await server.store.settled();
      const journal = new Database(join(folder, 'state', 'journal.db'), { readonly: true });
      const rows = journal.prepare('SELECT first_id, last_id FROM journal').all();
      journal.close();
      const state = new Database(join(folder, 'state', 'state.db'), { readonly: true });
      const writes = state.prepare('SELECT operation, status FROM writes').all();
      state.close();
      expect(rows).toEqual([{ first_id: 1, last_id: 1 }]);
      expect(writes).toEqual([{ operation: 'createReservation', status: 201 }]);
    } finally {
      await server.close();
    }
  });

  it('refuses unknown durability settings in the config file', () => {
    const folder = dataDir();
    const file = join(folder, 'understudy.yaml');
    writeFileSync(file, 'durability: disk\njournal: { sync: sometimes }\n');
    expect(() => readConfigFile(file)).toThrow(/durability[\s\S]*must be one of process, power[\s\S]*sync[\s\S]*must be one of batch, always/);
  });

  it('keeps memory-only mode with an empty data directory', async () => {
    const clock = new ManualClock();
    const server = await serve('', clock);
    expect(server.restored.dataDir).toBeNull();
    expect((await call(`${server.url}/__admin/health`)).body.store).toEqual({ dataDir: null });
    await server.close();
  });
});

describe('a workspace deleted and made again under the same name', () => {
  it('continues the deleted one\'s journal ids, in memory and after a restart', async () => {
    const dir = dataDir();
    const clock = new ManualClock();
    const first = await serve(dir, clock);
    for (let i = 0; i < 3; i++) expect((await call(`${first.url}/w/x/wms/v1/inventory/SKU-1`)).status).toBe(200);
    expect((await call(`${first.url}/w/x/__admin/workspace`, { method: 'DELETE' })).status).toBe(200);
    expect((await call(`${first.url}/w/x/wms/v1/inventory/SKU-2`)).status).toBe(200);
    const ids = async (url: string) => (await call(`${url}/w/x/__admin/journal`)).body.entries.map((e: { id: number; path: string }) => `${e.id} ${e.path}`);
    expect(await ids(first.url)).toEqual(['4 /wms/v1/inventory/SKU-2']);
    await first.close();
    const second = await serve(dir, clock);
    try {
      expect((await ids(second.url)).slice(-1)).toEqual(['4 /wms/v1/inventory/SKU-2']);
    } finally {
      await second.close();
    }
  });
});
