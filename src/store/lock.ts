/**
 * One server per data directory. The lock is an exclusive lock on a small SQLite file (`understudy.lock`), taken
 * with SQLite's own locking (POSIX advisory locks underneath): the kernel drops it when the process dies, however
 * it dies, so a kill -9 leaves no stale lock behind and a reused pid (pid 1 in every container) cannot fool it. The
 * holder's pid and start time are written beside it (`understudy.pid`) only so that a refused server can name it.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export const LOCK_FILE = 'understudy.lock';
export const PID_FILE = 'understudy.pid';

/** Another server holds the directory. */
export class DataDirLockedError extends Error {}

export interface DataDirLock {
  release(): void;
}

export function lockDataDir(dir: string, version: string): DataDirLock {
  const db = new Database(join(dir, LOCK_FILE), { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // an exclusive transaction takes the lock; in EXCLUSIVE locking mode it is kept until the connection closes
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
    throw new DataDirLockedError(`the data directory ${dir} is in use by another understudy (${holder(dir)}): one server per data directory; stop that one or choose another --data-dir`);
  }
  const pidFile = join(dir, PID_FILE);
  writeFileSync(pidFile, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), version }) + '\n');
  return {
    release() {
      rmSync(pidFile, { force: true });
      db.close();
    },
  };
}

function holder(dir: string): string {
  try {
    const { pid, startedAt } = JSON.parse(readFileSync(join(dir, PID_FILE), 'utf8')) as { pid: number; startedAt: string };
    return `pid ${pid}, started ${startedAt}`;
  } catch {
    return 'its pid is not recorded';
  }
}
