/**
 * The durable store: one SQLite database (better-sqlite3, WAL mode), `state.db` in the data directory, holding
 * per workspace the log of accepted writes, the systems' latest snapshots and the admin changes that are state
 * (store.ts says why a log and not the state itself).
 *
 * Commits are grouped: every write logged during one turn of the event loop is inserted and committed together
 * at the end of the turn (setImmediate), and only then are the writes' replies released. One WAL append per turn
 * instead of one per write (about 5 µs per write instead of 30 here), and under `durability: power`, where every
 * commit is fsync'ed, one fsync per turn instead of one per write.
 *
 * Snapshots are taken inside the commit that makes a system's log reach `snapshotEvery` writes: at that moment
 * the state in memory is exactly the committed one (nothing else is pending), so the snapshot covers precisely
 * the log up to the write just committed, and those rows are dropped in the same transaction. A snapshot costs
 * time proportional to the state, on the event loop; so that they never take more than about 5% of it, the next
 * one waits at least 19 times as long as the last one took (a large state is snapshotted less often, and a
 * restart replays more writes after it, each much cheaper than the snapshot was).
 *
 * The journal is not in this database: a thread of its own writes it to `journal.db` (journal-store.ts), so that
 * neither the event loop nor the write log's commits wait for it.
 *
 * When the disk is full (or any write fails), the failed writes are undone in memory by their workspaces and
 * answered 503; further writes are refused for `retryAfterMs`, then tried again.
 */
import type { Database, Statement } from 'better-sqlite3';
import { JournalStore } from './journal-store.js';
import {
  StoreUnavailableError,
  type ChaosActivation,
  type JournalSink,
  type LoggedWrite,
  type StateStore,
  type StoredJournalEntry,
  type StoredWorkspace,
  type SystemRecovery,
  type WorkspaceStore,
} from './store.js';

export interface SqliteStoreOptions {
  /** power: fsync every commit (survives power loss); process: survives the process being killed */
  durability: 'process' | 'power';
  /** batch: the journal is persisted at most 250 ms behind; always: after every recording */
  journalSync: 'batch' | 'always';
  /** a system's log is folded into a snapshot after this many writes (bounds the replay at start-up) */
  snapshotEvery: number;
  /** after a snapshot that took T, the next waits this many times T (19: snapshots take at most ~5% of the time) */
  snapshotPause: number;
  /** after a failed write, further writes are refused for this long (ms of wall time) */
  retryAfterMs: number;
  /** warnings (a journal batch or a snapshot that could not be stored) */
  warn: (message: string) => void;
}

/** The database's format; a directory written in another is refused (data-dir.ts). */
export const STORE_FORMAT = 1;

/** The tables, created in a new database (format STORE_FORMAT). */
export const SCHEMA = `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE workspaces (
    name TEXT PRIMARY KEY, created_at REAL NOT NULL, state_epoch REAL NOT NULL,
    journal_next_id INTEGER NOT NULL, chaos TEXT);
  -- AUTOINCREMENT: positions never repeat, even after every row is folded into a snapshot and deleted
  CREATE TABLE writes (
    position INTEGER PRIMARY KEY AUTOINCREMENT, workspace TEXT NOT NULL, system TEXT NOT NULL,
    at REAL NOT NULL, operation TEXT NOT NULL, input TEXT NOT NULL, status INTEGER NOT NULL);
  CREATE INDEX writes_by_system ON writes (workspace, system, position);
  CREATE TABLE snapshots (
    workspace TEXT NOT NULL, system TEXT NOT NULL, position INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (workspace, system));
`;

/** The statements the store runs, prepared once. */
interface Statements {
  insertWorkspace: Statement;
  insertWrite: Statement;
  selectSnapshot: Statement;
  selectWrites: Statement;
  upsertSnapshot: Statement;
  deleteWritesUpTo: Statement;
  updateChaos: Statement;
  resetState: Statement;
  deleteWrites: Statement;
  deleteSnapshots: Statement;
  clearJournal: Statement;
  deleteWorkspace: Statement;
  countWrites: Statement;
  lastPosition: Statement;
}

interface PendingWrite {
  workspace: SqliteWorkspaceStore;
  system: string;
  write: LoggedWrite;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class SqliteStore implements StateStore {
  private readonly sql: Statements;
  private pending: PendingWrite[] = [];
  /** told once the batch pending now is committed (or failed) */
  private afterCommit: Array<() => void> = [];
  private failedAt = -Infinity;
  private failure = '';
  readonly journal: JournalStore;
  private closed = false;

  constructor(
    readonly db: Database,
    readonly dataDir: string,
    readonly options: SqliteStoreOptions,
  ) {
    const p = (text: string) => db.prepare(text);
    this.sql = {
      insertWorkspace: p('INSERT OR IGNORE INTO workspaces (name, created_at, state_epoch, journal_next_id, chaos) VALUES (?, ?, ?, ?, ?)'),
      insertWrite: p('INSERT INTO writes (workspace, system, at, operation, input, status) VALUES (?, ?, ?, ?, ?, ?)'),
      selectSnapshot: p('SELECT position, data FROM snapshots WHERE workspace = ? AND system = ?'),
      selectWrites: p('SELECT at, operation, input, status FROM writes WHERE workspace = ? AND system = ? AND position > ? ORDER BY position'),
      upsertSnapshot: p('INSERT OR REPLACE INTO snapshots (workspace, system, position, data) VALUES (?, ?, ?, ?)'),
      deleteWritesUpTo: p('DELETE FROM writes WHERE workspace = ? AND system = ? AND position <= ?'),
      updateChaos: p('UPDATE workspaces SET chaos = ? WHERE name = ?'),
      resetState: p('UPDATE workspaces SET state_epoch = ? WHERE name = ?'),
      deleteWrites: p('DELETE FROM writes WHERE workspace = ?'),
      deleteSnapshots: p('DELETE FROM snapshots WHERE workspace = ?'),
      clearJournal: p('UPDATE workspaces SET journal_next_id = ? WHERE name = ?'),
      deleteWorkspace: p('DELETE FROM workspaces WHERE name = ?'),
      countWrites: p('SELECT system, COUNT(*) AS n FROM writes WHERE workspace = ? GROUP BY system'),
      lastPosition: p('SELECT MAX(position) AS position FROM writes WHERE workspace = ? AND system = ?'),
    };
    const known = new Map(this.workspaces().map((w) => [w.name, w.journalNextId]));
    this.journal = new JournalStore(dataDir, known, options);
  }

  workspaces(): StoredWorkspace[] {
    const rows = this.db.prepare('SELECT name, created_at, state_epoch, journal_next_id, chaos FROM workspaces ORDER BY created_at, name').all() as Array<{
      name: string;
      created_at: number;
      state_epoch: number;
      journal_next_id: number;
      chaos: string | null;
    }>;
    return rows.map((r) => ({
      name: r.name,
      createdAt: r.created_at,
      stateEpoch: r.state_epoch,
      journalNextId: r.journal_next_id,
      chaos: r.chaos === null ? undefined : (JSON.parse(r.chaos) as ChaosActivation),
    }));
  }

  open(workspace: StoredWorkspace, journalOldestId: () => number): WorkspaceStore {
    const store = new SqliteWorkspaceStore(this, workspace, journalOldestId);
    store.writeRow();
    const counts = this.sql.countWrites.all(workspace.name) as Array<{ system: string; n: number }>;
    for (const { system, n } of counts) store.unsnapshotted.set(system, n);
    return store;
  }

  settled(): Promise<void> {
    return this.journal.settled();
  }

  close(): Promise<void> {
    if (this.closed) return this.journal.close();
    this.closed = true;
    if (this.pending.length) this.commitWrites();
    this.db.close();
    return this.journal.close();
  }

  // --- writes ----------------------------------------------------------------------------------------------

  refusal(): string | undefined {
    if (this.closed) return 'the server is shutting down';
    if (performance.now() - this.failedAt < this.options.retryAfterMs) return this.failure;
    return undefined;
  }

  logWrite(workspace: SqliteWorkspaceStore, system: string, write: LoggedWrite): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(this.commitWrites);
      this.pending.push({ workspace, system, write, resolve, reject });
    });
  }

  whenCommitted(): Promise<void> {
    if (this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.afterCommit.push(resolve));
  }

  /** Commits every write logged this turn in one transaction, snapshots what is due, then releases the replies. */
  private readonly commitWrites = (): void => {
    const batch = this.pending;
    const waiting = this.afterCommit;
    this.afterCommit = [];
    try {
      this.commitBatch(batch);
    } finally {
      for (const resolve of waiting) resolve();
    }
  };

  private commitBatch(batch: PendingWrite[]): void {
    if (batch.length === 0) return;
    this.pending = [];
    const due: Array<[SqliteWorkspaceStore, string]> = [];
    try {
      this.db.transaction(() => {
        for (const ws of new Set(batch.map((p) => p.workspace))) if (!ws.rowWritten) ws.insertRow();
        for (const { workspace, system, write } of batch) {
          this.sql.insertWrite.run(workspace.name, system, write.at, write.operation, write.input, write.status);
        }
      })();
    } catch (err) {
      const failure = this.failed(err);
      for (const p of batch) p.reject(failure);
      return;
    }
    const now = performance.now();
    for (const { workspace, system } of batch) {
      const n = (workspace.unsnapshotted.get(system) ?? 0) + 1;
      workspace.unsnapshotted.set(system, n);
      if (n >= this.options.snapshotEvery && now >= (workspace.snapshotNotBefore.get(system) ?? 0)) {
        workspace.snapshotNotBefore.set(system, Infinity); // once in this batch
        due.push([workspace, system]);
      }
    }
    for (const [workspace, system] of due) workspace.snapshotNow(system);
    for (const p of batch) p.resolve();
  }

  /** Records a failed write to the database: writes are refused for a while, and the error says why. */
  failed(err: unknown): StoreUnavailableError {
    const code = (err as { code?: string }).code ?? '';
    const message = err instanceof Error ? err.message : String(err);
    this.failure =
      code === 'SQLITE_FULL'
        ? `the data directory ${this.dataDir} is full: writes are refused until there is space again`
        : `the state store in ${this.dataDir} cannot be written (${code || 'error'}: ${message})`;
    this.failedAt = performance.now();
    return new StoreUnavailableError(this.failure);
  }

  /** Runs admin changes that are state in one transaction; a failure becomes StoreUnavailableError. */
  change(fn: () => void): void {
    try {
      this.db.transaction(fn)();
    } catch (err) {
      throw this.failed(err);
    }
  }

  get statements(): Statements {
    return this.sql;
  }

  /**
   * The workspace's writes still waiting for this turn's commit are not stored: its state was just reset or it was
   * deleted, so the log must not replay them on top. Their replies are released as they are (they were applied).
   */
  dropPending(workspace: SqliteWorkspaceStore): void {
    const dropped = this.pending.filter((p) => p.workspace === workspace);
    if (dropped.length === 0) return;
    this.pending = this.pending.filter((p) => p.workspace !== workspace);
    for (const p of dropped) p.resolve();
  }
}

class SqliteWorkspaceStore implements WorkspaceStore {
  readonly keepsWrites = true;
  readonly name: string;
  /** writes logged per system since its latest snapshot */
  readonly unsnapshotted = new Map<string, number>();
  /** per system, the moment (performance.now()) before which no snapshot is taken: see the header */
  readonly snapshotNotBefore = new Map<string, number>();
  rowWritten = false;
  /** set by the workspace's SystemStates: the system's state as a snapshot, right now */
  snapshotter: ((system: string) => Buffer | undefined) | undefined;
  readonly journal: JournalSink;

  constructor(
    private readonly store: SqliteStore,
    private readonly row: StoredWorkspace,
    readonly journalOldestId: () => number,
  ) {
    this.name = row.name;
    this.journal = store.journal.sinkFor(row.name, journalOldestId);
  }

  /** Inserts the workspace's row if it is not there; on a full disk it is tried again with the next commit. */
  writeRow(): void {
    try {
      this.insertRow();
    } catch (err) {
      this.store.failed(err);
    }
  }

  insertRow(): void {
    const r = this.row;
    this.store.statements.insertWorkspace.run(r.name, r.createdAt, r.stateEpoch, r.journalNextId, r.chaos ? JSON.stringify(r.chaos) : null);
    this.rowWritten = true;
  }

  refusal(): string | undefined {
    return this.store.refusal();
  }

  logWrite(system: string, write: LoggedWrite): Promise<void> {
    return this.store.logWrite(this, system, write);
  }

  whenCommitted(): Promise<void> {
    return this.store.whenCommitted();
  }

  snapshotNow(system: string): void {
    const started = performance.now();
    try {
      this.snapshot(system);
    } finally {
      const now = performance.now();
      this.snapshotNotBefore.set(system, now + this.store.options.snapshotPause * (now - started));
    }
  }

  private snapshot(system: string): void {
    const sql = this.store.statements;
    try {
      const data = this.snapshotter?.(system);
      if (data === undefined) return;
      this.store.db.transaction(() => {
        const { position } = sql.lastPosition.get(this.name, system) as { position: number | null };
        if (position === null) return;
        sql.upsertSnapshot.run(this.name, system, position, data);
        sql.deleteWritesUpTo.run(this.name, system, position);
      })();
      this.unsnapshotted.set(system, 0);
    } catch (err) {
      // the log still holds every write: only the next start-up's replay is longer
      this.store.options.warn(`snapshot of ${this.name}/${system} could not be stored: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  recover(system: string): SystemRecovery {
    const sql = this.store.statements;
    const snapshot = sql.selectSnapshot.get(this.name, system) as { position: number; data: Buffer } | undefined;
    // opened when the replay starts reading (and closed by it, even when it throws): an open iterator keeps the
    // connection busy
    const rows: Iterable<LoggedWrite> = {
      [Symbol.iterator]: () => sql.selectWrites.iterate(this.name, system, snapshot?.position ?? 0) as IterableIterator<LoggedWrite>,
    };
    return {
      snapshot: snapshot?.data,
      writes: rows,
    };
  }

  saveChaos(activation: ChaosActivation): void {
    this.store.change(() => {
      if (!this.rowWritten) this.insertRow();
      this.store.statements.updateChaos.run(JSON.stringify(activation), this.name);
    });
    this.row.chaos = activation;
  }

  resetState(epoch: number): void {
    const sql = this.store.statements;
    this.store.change(() => {
      if (!this.rowWritten) this.insertRow();
      sql.deleteWrites.run(this.name);
      sql.deleteSnapshots.run(this.name);
      sql.resetState.run(epoch, this.name);
    });
    this.store.dropPending(this);
    this.unsnapshotted.clear();
    this.row.stateEpoch = epoch;
  }

  clearJournal(nextId: number): void {
    const sql = this.store.statements;
    // decided here, in state.db: entries below nextId are never restored, whenever the writer deletes them
    this.store.change(() => {
      if (!this.rowWritten) this.insertRow();
      sql.clearJournal.run(nextId, this.name);
    });
    this.store.journal.forget(this.name);
  }

  journalEntries(): StoredJournalEntry[] {
    return this.store.journal.takeStored(this.name);
  }

  delete(): void {
    const sql = this.store.statements;
    this.store.change(() => {
      sql.deleteWrites.run(this.name);
      sql.deleteSnapshots.run(this.name);
      sql.deleteWorkspace.run(this.name);
    });
    this.store.dropPending(this);
    this.store.journal.forget(this.name);
  }
}
