/**
 * Opening the data directory (`--data-dir`, default `.understudy`): create it, take the one-server lock, open the
 * database, and refuse, with a message that says what to do, everything that would make the stored log mean
 * something other than what it meant when it was written:
 * - a file that is not an understudy database, or a damaged one (SQLite's quick_check);
 * - a database in another format (written by another version of understudy);
 * - a log written with another seed, or against another contract or configuration of a system (replaying it
 *   would build other states than the ones whose writes were acknowledged).
 * `--reset-state` deletes the stored state and journal (under the lock) and starts over.
 */
import { accessSync, constants, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { MountedSystem } from '../engine/system.js';
import { JOURNAL_FILE } from './journal-store.js';
import { DataDirLockedError, lockDataDir } from './lock.js';
import { SCHEMA, SqliteStore, STORE_FORMAT, type SqliteStoreOptions } from './sqlite-store.js';

export const STATE_FILE = 'state.db';
/** the authorization server's signing key (auth/server/signing-key.ts): state too, so a reset removes it */
export const SIGNING_KEY_FILE = 'oauth-signing-key.pem';
/** 'udsy': marks the file as understudy's, so that another application's SQLite file is not mistaken for one */
const APPLICATION_ID = 0x75647379;

/** The data directory cannot be used as it is: the message says why and what to do (exit 2). */
export class DataDirError extends Error {}

export interface DataDirOptions extends Partial<SqliteStoreOptions> {
  dataDir: string;
  /** delete the stored state and start over */
  resetState?: boolean;
  seed: number;
  systems: readonly MountedSystem[];
  version: string;
  /** largest database in pages of 4 KB (tests: a full disk without filling one) */
  maxPages?: number;
}

const DEFAULT_OPTIONS = { durability: 'process', journalSync: 'batch', snapshotEvery: 10_000, snapshotPause: 19, retryAfterMs: 1000 } as const;

export function openDataDir(options: DataDirOptions): SqliteStore {
  const dir = resolve(options.dataDir);
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new DataDirError(`the data directory ${dir} cannot be used: ${describe(err)}; choose a writable --data-dir, or --data-dir '' to keep state in memory`);
  }
  let lock;
  try {
    lock = lockDataDir(dir, options.version);
  } catch (err) {
    if (err instanceof DataDirLockedError) throw new DataDirError(err.message);
    throw new DataDirError(`the data directory ${dir} cannot be locked: ${describe(err)}`);
  }
  try {
    const file = join(dir, STATE_FILE);
    if (options.resetState) {
      for (const name of [STATE_FILE, JOURNAL_FILE]) for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, name + suffix), { force: true });
      // no token issued before the reset may verify after it: the revocations that refused some are gone
      rmSync(join(dir, SIGNING_KEY_FILE), { force: true });
    }
    const db = openDatabase(file, options);
    let store: SqliteStore;
    try {
      store = new SqliteStore(db, dir, { ...DEFAULT_OPTIONS, warn: (m) => console.warn(`understudy: warning: ${m}`), ...definedOnly(options) });
    } catch (err) {
      db.close();
      // the journal's file: state.db was fine, so this is journal.db
      throw new DataDirError(
        `${join(dir, JOURNAL_FILE)} cannot be used (${describe(err)}): move it away (the state does not depend on it) or start over with --reset-state`,
      );
    }
    const close = store.close.bind(store);
    let closed: Promise<void> | undefined;
    // the lock is held until the journal's last batch is written
    store.close = () => (closed ??= close().finally(() => lock.release()));
    return store;
  } catch (err) {
    lock.release();
    throw err;
  }
}

function openDatabase(file: string, options: DataDirOptions): Database.Database {
  const unusable = (why: string) =>
    new DataDirError(`${file} ${why}: move it away (it may be worth keeping) or start over with --reset-state, which deletes it`);
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: 0 });
  } catch (err) {
    throw new DataDirError(`${file} cannot be opened: ${describe(err)}`);
  }
  try {
    const [{ quick_check: verdict }] = db.pragma('quick_check(1)') as Array<{ quick_check: string }>;
    if (verdict !== 'ok') throw unusable(`is damaged (SQLite's quick_check: ${verdict})`);
    const applicationId = db.pragma('application_id', { simple: true }) as number;
    const format = db.pragma('user_version', { simple: true }) as number;
    const tables = (db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${(options.durability ?? DEFAULT_OPTIONS.durability) === 'power' ? 'FULL' : 'NORMAL'}`);
    if (options.maxPages !== undefined) db.pragma(`max_page_count = ${options.maxPages}`);
    if (tables === 0) create(db, options);
    else {
      if (applicationId !== APPLICATION_ID) throw unusable('is not an understudy state database');
      if (format !== STORE_FORMAT) {
        throw new DataDirError(
          `${file} was written in format ${format} (${format > STORE_FORMAT ? 'by a newer' : 'by an older'} understudy); this version reads format ${STORE_FORMAT}: run the version that wrote it, or start over with --reset-state`,
        );
      }
      checkFingerprints(db, file, options);
    }
    return db;
  } catch (err) {
    db.close();
    if (err instanceof DataDirError) throw err;
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') throw unusable(`is not a readable database (${describe(err)})`);
    if (code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_FULL' || code?.startsWith('SQLITE_IOERR')) {
      throw new DataDirError(`${file} cannot be written: ${describe(err)}; free space or fix the permissions, or use --data-dir '' to keep state in memory`);
    }
    throw err;
  }
}

function create(db: Database.Database, options: DataDirOptions): void {
  db.transaction(() => {
    db.exec(SCHEMA);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${STORE_FORMAT}`);
    const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    meta.run('seed', String(options.seed));
    meta.run('systems', JSON.stringify(fingerprints(options.systems)));
    meta.run('createdBy', options.version);
  })();
}

/** What each stateful system's log depends on, by system name (a system mounted more than once: all its mounts' together). */
export function fingerprints(systems: readonly MountedSystem[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const s of systems) if (s.fingerprint !== undefined) out[s.name] = { ...out[s.name], ...s.fingerprint };
  return out;
}

function checkFingerprints(db: Database.Database, file: string, options: DataDirOptions): void {
  const meta = new Map((db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]));
  const changes: string[] = [];
  const storedSeed = Number(meta.get('seed'));
  if (storedSeed !== options.seed) changes.push(`the seed was ${storedSeed}, now it is ${options.seed}`);
  const stored = JSON.parse(meta.get('systems') ?? '{}') as Record<string, Record<string, unknown>>;
  const current = fingerprints(options.systems);
  for (const [name, was] of Object.entries(stored)) {
    const now = current[name];
    if (now === undefined) {
      changes.push(`${name} is no longer served`);
      continue;
    }
    for (const key of new Set([...Object.keys(was), ...Object.keys(now)])) {
      if (JSON.stringify(was[key]) === JSON.stringify(now[key])) continue;
      changes.push(key === 'contract' ? `${name}'s contract changed` : `${name}'s ${key} was ${JSON.stringify(was[key])}, now it is ${JSON.stringify(now[key])}`);
    }
  }
  if (changes.length) {
    throw new DataDirError(
      `${file} holds state written under another configuration (${changes.join('; ')}): its log would replay into other data than was acknowledged. Start with the configuration it was written with, or start over with --reset-state`,
    );
  }
  // systems mounted since then start their logs now
  db.prepare("UPDATE meta SET value = ? WHERE key = 'systems'").run(JSON.stringify({ ...stored, ...current }));
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function definedOnly(options: DataDirOptions): Partial<SqliteStoreOptions> {
  const out: Partial<SqliteStoreOptions> = {};
  for (const key of ['durability', 'journalSync', 'snapshotEvery', 'snapshotPause', 'retryAfterMs', 'warn'] as const) {
    if (options[key] !== undefined) (out as Record<string, unknown>)[key] = options[key];
  }
  return out;
}
