/**
 * A data directory that cannot be used as it is gets a clear refusal at start-up, never a silent misreading:
 * a damaged or foreign database file, another format, another seed, contract or configuration. A full disk gets
 * a 503 for the write that did not fit (undone, never acknowledged) while reads go on; --reset-state starts over.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import type { MountedSystem } from '../../src/engine/system.js';
import { openDataDir, STATE_FILE } from '../../src/store/data-dir.js';
import { startServer, type ServerOptions } from '../../src/server.js';
import { ManualClock } from '../../src/util/clock.js';
import { call, json } from '../helpers.js';

function dataDir(): string {
  return mkdtempSync(join(tmpdir(), 'understudy-store-'));
}

function serve(dir: string, extra: ServerOptions = {}) {
  return startServer({ port: 0, dataDir: dir, clock: new ManualClock(), seed: 7, ...extra });
}

const order = (id: string, quantity = 1) => json({ externalOrderId: id, lines: [{ sku: 'SKU-1', quantity }] });

/** A directory holding a few acknowledged reservations, closed cleanly. */
async function populated(orders = 3): Promise<string> {
  const dir = dataDir();
  const server = await serve(dir);
  for (let i = 1; i <= orders; i++) expect((await call(`${server.url}/wms/v1/reservations`, order(`SO-${i}`))).status).toBe(201);
  await server.close();
  return dir;
}

describe('the data directory refuses what it cannot read faithfully', () => {
  it('refuses a log written with another seed or another WMS configuration, naming what changed', async () => {
    const dir = await populated();
    await expect(serve(dir, { seed: 8 })).rejects.toThrow(/written under another configuration \(the seed was 7, now it is 8\).*--reset-state/);
    await expect(serve(dir, { systems: { wms: { skus: 2000 } } })).rejects.toThrow(/wms's skus was 1000, now it is 2000/);
    // nothing was touched: the original configuration still finds its reservations
    const server = await serve(dir);
    expect((await call(`${server.url}/wms/v1/reservations/RES-000003`)).status).toBe(200);
    await server.close();
  });

  it('refuses a log written against another contract', async () => {
    const dir = dataDir();
    const system = (contract: string) => ({ name: 'wms', fingerprint: { contract } }) as unknown as MountedSystem;
    await openDataDir({ dataDir: dir, seed: 1, systems: [system('aaaa')], version: 'test' }).close();
    expect(() => openDataDir({ dataDir: dir, seed: 1, systems: [system('bbbb')], version: 'test' })).toThrow(/wms's contract changed/);
    expect(() => openDataDir({ dataDir: dir, seed: 1, systems: [], version: 'test' })).toThrow(/wms is no longer served/);
    // a system mounted since is fine: its log starts now
    const more = [system('aaaa'), { name: 'erp', fingerprint: { contract: 'cccc' } } as unknown as MountedSystem];
    await openDataDir({ dataDir: dir, seed: 1, systems: more, version: 'test' }).close();
  });

  it('starts over with --reset-state', async () => {
    const dir = await populated();
    const server = await serve(dir, { seed: 8, resetState: true });
    expect((await call(`${server.url}/wms/v1/reservations/RES-000001`)).status).toBe(404);
    await server.close();
    // and the new seed is the directory's from now on
    await expect(serve(dir)).rejects.toThrow(/the seed was 8, now it is 7/);
  });

  it('refuses a file that is not a database, and a damaged (truncated) one', async () => {
    const garbage = dataDir();
    writeFileSync(join(garbage, STATE_FILE), Buffer.alloc(8192, 0x5a));
    await expect(serve(garbage)).rejects.toThrow(/state\.db is not a readable database .*move it away .*--reset-state/);

    // enough writes that the file has many pages, then half of it gone
    const dir = await populated(200);
    const file = join(dir, STATE_FILE);
    truncateSync(file, Math.floor(statSync(file).size / 2));
    await expect(serve(dir)).rejects.toThrow(/state\.db (is damaged|is not a readable database)/);
    // the refused file is left as it was, for whoever wants to look at it
    expect(statSync(file).size).toBeGreaterThan(0);

    // a damaged journal is refused too, and --reset-state gets past it
    const journaled = await populated(1);
    writeFileSync(join(journaled, 'journal.db'), Buffer.alloc(8192, 0x5a));
    await expect(serve(journaled)).rejects.toThrow(/journal\.db cannot be used \(.*\): move it away .*--reset-state/);
    const fresh = await serve(journaled, { resetState: true });
    expect((await call(`${fresh.url}/wms/v1/reservations/RES-000001`)).status).toBe(404);
    await fresh.close();
  });

  it('refuses a stored state it cannot rebuild (a damaged snapshot), saying which and what to do', async () => {
    const dir = dataDir();
    const server = await serve(dir, { store: { snapshotEvery: 2, snapshotPause: 0 } });
    for (let i = 1; i <= 3; i++) expect((await call(`${server.url}/wms/v1/reservations`, order(`SO-${i}`))).status).toBe(201);
    await server.close();
    const db = new Database(join(dir, STATE_FILE));
    expect(db.prepare("UPDATE snapshots SET data = x'00112233' WHERE system = 'wms'").run().changes).toBe(1);
    db.close();
    await expect(serve(dir)).rejects.toThrow(/workspace default: the stored wms state cannot be rebuilt \(wms snapshot: .*\); .*--reset-state/);
  });

  it('refuses stored deliveries it cannot rebuild, saying which and what to do', async () => {
    const dir = dataDir();
    const server = await serve(dir, { store: { snapshotEvery: 1, snapshotPause: 0 } });
    expect((await call(`${server.url}/__admin/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: 'http://127.0.0.1:9/h', events: ['*'], secret: 's' }) })).status).toBe(201);
    await server.close();
    const db = new Database(join(dir, STATE_FILE));
    expect(db.prepare("UPDATE snapshots SET data = x'7b7b7b' WHERE system = 'deliveries'").run().changes).toBe(1);
    db.close();
    await expect(serve(dir)).rejects.toThrow(/workspace default: the stored subscriptions and deliveries cannot be rebuilt \(.*\); .*--reset-state/);
  });

  it('refuses another application\'s SQLite file and another format', async () => {
    const foreign = dataDir();
    const db = new Database(join(foreign, STATE_FILE));
    db.exec('CREATE TABLE notes (text TEXT)');
    db.close();
    await expect(serve(foreign)).rejects.toThrow(/is not an understudy state database/);

    const newer = await populated(1);
    const stored = new Database(join(newer, STATE_FILE));
    stored.pragma('user_version = 99');
    stored.close();
    await expect(serve(newer)).rejects.toThrow(/written in format 99 \(by a newer understudy\); this version reads format 1/);
  });

  it('answers 503 for a write that does not fit on a full disk, undoes it, and keeps serving reads', async () => {
    const dir = dataDir();
    // a database capped a few pages above its empty size fills up after some dozens of reservations
    const server = await serve(dir, { store: { maxPages: 12, retryAfterMs: 0 } });
    const acknowledged: string[] = [];
    let refused: { id: string; status: number; body: any } | undefined;
    for (let i = 1; i <= 2000 && !refused; i++) {
      const id = `SO-${i}`;
      const r = await call(`${server.url}/wms/v1/reservations`, order(id, 2));
      if (r.status === 201) acknowledged.push(id);
      else refused = { id, status: r.status, body: r.body };
    }
    expect(refused?.status).toBe(503);
    expect(refused?.body.detail).toMatch(/The write was not made: the data directory .* is full/);
    expect(acknowledged.length).toBeGreaterThan(5);
    // the refused write left no trace: the stock holds exactly the acknowledged reservations
    const stock = await call(`${server.url}/wms/v1/inventory/SKU-1`);
    expect(stock.status).toBe(200);
    expect(stock.body.reserved).toBe(2 * acknowledged.length);
    const listed = await call(`${server.url}/wms/v1/reservations?externalOrderId=${refused!.id}`);
    expect(listed.body.reservations).toEqual([]);
    await server.close();

    // after a restart with room, every acknowledged reservation is there and the refused one is not
    const again = await serve(dir);
    const all = await call(`${again.url}/wms/v1/reservations?limit=100`);
    expect(all.body.reservations.map((r: { externalOrderId: string }) => r.externalOrderId)).toEqual(acknowledged.slice(0, 100));
    expect((await call(`${again.url}/wms/v1/inventory/SKU-1`)).body.reserved).toBe(2 * acknowledged.length);
    await again.close();
  });

  it('on a full disk, a subscription is refused with 503 and not kept; one that fits survives the restart', async () => {
    const dir = dataDir();
    const server = await serve(dir, { store: { maxPages: 12, retryAfterMs: 0 } });
    const hook = (n: number) => ({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // a long URL fills the pages faster than reservations do
      body: JSON.stringify({ url: `http://127.0.0.1:9/${'x'.repeat(1500)}/${n}`, events: ['inventory.*'], secret: 's' }),
    });
    const kept: string[] = [];
    let refused: { status: number; body: any } | undefined;
    for (let n = 1; n <= 500 && !refused; n++) {
      const r = await call(`${server.url}/__admin/subscriptions`, hook(n));
      if (r.status === 201) kept.push(r.body.id);
      else refused = r;
    }
    expect(refused?.status).toBe(503);
    expect(refused?.body.detail).toMatch(/full/);
    expect(kept.length).toBeGreaterThan(0);
    // the refused one is not listed, now (the book was rebuilt from what was committed) or after a restart
    await vi.waitFor(async () => expect((await call(`${server.url}/__admin/subscriptions`)).body.subscriptions.map((x: any) => x.id)).toEqual(kept));
    await server.close();
    const again = await serve(dir);
    expect((await call(`${again.url}/__admin/subscriptions`)).body.subscriptions.map((x: any) => x.id)).toEqual(kept);
    await again.close();
  });

  it('refuses a read-only data directory at start-up with a clear message', async () => {
    const dir = dataDir();
    const readOnly = join(dir, 'state');
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o555);
    chmodSync(dir, 0o755);
    // root ignores permissions: run the server as nobody then, as a container's unprivileged user would
    const asRoot = process.getuid?.() === 0;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--port', '0', '--data-dir', readOnly], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { PATH: process.env.PATH, HOME: tmpdir() },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    let stderr = '';
    child.stderr!.on('data', (c) => (stderr += c));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stderr).toMatch(new RegExp(`the data directory ${readOnly} cannot be used: .*(EACCES|EROFS|permission denied).*choose a writable --data-dir`, 'i'));
    expect(code).toBe(2);
    // nothing was written into it (nor could be)
    expect(readdirSync(readOnly)).toEqual([]);
  });
});
