/**
 * The journal on disk (`journal.db` in the data directory), seen from the event loop: each workspace's entries
 * are gathered into a batch as the journal records them (journal-batches.ts) and handed to the writer thread
 * (journal-worker.ts) at most 250 ms later (`journal.sync: batch`) or at the end of the recording pass
 * (`always`). Rows older than what the in-memory journal still holds are trimmed with each batch, so the journal
 * on disk stays within the same limits as in memory.
 *
 * What clears or forgets a workspace's journal is decided in state.db, synchronously (the workspace row's
 * journal_next_id, or the row's absence): entries below that id, or of a workspace that is gone, are not restored
 * even when the writer had not yet deleted them when the process died.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { decodeJournalBatch, JournalBatch } from './journal-batches.js';
import type { JournalSink, StoredJournalEntry } from './store.js';

export const JOURNAL_FILE = 'journal.db';
export const JOURNAL_BATCH_MS = 250;
const PAGE_SIZE = 65_536;
const CLOSE_DEADLINE_MS = 5_000;

const SCHEMA = `CREATE TABLE IF NOT EXISTS journal (
  workspace TEXT NOT NULL, first_id INTEGER NOT NULL, last_id INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY (workspace, first_id))`;

/** What the event loop posts to the writer thread. */
export type JournalMessage =
  | { kind: 'batches'; batches: Array<{ workspace: string; firstId: number; lastId: number; data: Uint8Array; keepFrom: number }> }
  | { kind: 'forget'; workspace: string }
  | { kind: 'close' };

interface Pending {
  batch: JournalBatch;
  oldestId: () => number;
}

export interface JournalStoreOptions {
  durability: 'process' | 'power';
  journalSync: 'batch' | 'always';
  warn: (message: string) => void;
}

export class JournalStore {
  private readonly worker: Worker;
  private readonly pending = new Map<string, Pending>();
  private readonly stored = new Map<string, StoredJournalEntry[]>();
  private readonly timer: NodeJS.Timeout | undefined;
  private flushQueued = false;
  private closing: Promise<void> | undefined;
  /** messages posted to the writer, and how many it has finished */
  private posted = 0;
  private done = 0;
  private readonly waiting: Array<{ upTo: number; resolve: () => void }> = [];

  /** `known`: the workspaces state.db holds, with the id their journal continues from */
  constructor(
    dir: string,
    known: ReadonlyMap<string, number>,
    private readonly options: JournalStoreOptions,
  ) {
    const file = join(dir, JOURNAL_FILE);
    // what the last run stored is read here, before the writer starts
    const db = new Database(file, { timeout: 0 });
    let rows: Array<{ workspace: string; data: Buffer }>;
    try {
      // large pages: a batch is one blob of up to a few MB, which 4 KB pages would split into a thousand
      db.pragma(`page_size = ${PAGE_SIZE}`);
      db.exec(SCHEMA);
      rows = db.prepare('SELECT workspace, data FROM journal ORDER BY workspace, first_id').all() as typeof rows;
    } finally {
      db.close();
    }
    const gone = new Set<string>();
    for (const { workspace, data } of rows) {
      const from = known.get(workspace);
      if (from === undefined) {
        gone.add(workspace);
        continue;
      }
      let list = this.stored.get(workspace);
      if (!list) this.stored.set(workspace, (list = []));
      for (const entry of decodeJournalBatch(data)) if (entry.id >= from) list.push(entry);
    }

    this.worker = startWriter({ file, durability: options.durability });
    this.worker.on('message', (m: { kind: string; message?: string }) => {
      if (m.kind === 'warning') options.warn(m.message!);
      else if (m.kind === 'done') this.finished();
    });
    this.worker.on('error', (err) => options.warn(`the journal writer failed: ${err.message}`));
    // it must not keep a process alive that has nothing else to do; close() waits for it explicitly
    this.worker.unref();
    for (const workspace of gone) this.post({ kind: 'forget', workspace });
    if (options.journalSync === 'batch') {
      this.timer = setInterval(() => this.flush(), JOURNAL_BATCH_MS);
      this.timer.unref();
    }
  }

  /** The workspace's entries from the last run, oldest first (each is handed out once). */
  takeStored(workspace: string): StoredJournalEntry[] {
    const entries = this.stored.get(workspace) ?? [];
    this.stored.delete(workspace);
    return entries;
  }

  /** Where the workspace's journal sends what it records; `oldestId` says what it still holds. */
  sinkFor(workspace: string, oldestId: () => number): JournalSink {
    const pending: Pending = { batch: new JournalBatch(), oldestId };
    this.pending.set(workspace, pending);
    return {
      recorded: (id, startedAt, status, bytes) => {
        pending.batch.add(id, startedAt, status, bytes);
        if (this.options.journalSync === 'always') this.queueFlush();
      },
    };
  }

  /** The workspace's stored journal goes (a reset or a deletion, already decided in state.db). */
  forget(workspace: string): void {
    this.pending.get(workspace)?.batch.take();
    this.post({ kind: 'forget', workspace });
  }

  /** Hands every pending batch to the writer. */
  flush(): void {
    const batches: Extract<JournalMessage, { kind: 'batches' }>['batches'] = [];
    for (const [workspace, { batch, oldestId }] of this.pending) {
      if (batch.isEmpty) continue;
      const { firstId, lastId, data } = batch.take();
      batches.push({ workspace, firstId, lastId, data, keepFrom: oldestId() });
    }
    if (batches.length) this.post({ kind: 'batches', batches }, batches.map((b) => b.data.buffer as ArrayBuffer));
  }

  /** Resolves once everything recorded so far is stored (or reported as not storable). */
  settled(): Promise<void> {
    this.flush();
    if (this.done === this.posted) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push({ upTo: this.posted, resolve }));
  }

  /** Writes what is pending and stops the writer once it has stored it. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (this.timer) clearInterval(this.timer);
      this.flush();
      const done = () => {
        clearTimeout(deadline);
        resolve();
      };
      const deadline = setTimeout(() => {
        this.options.warn('the journal writer did not finish within 5 s; the last journal entries may be lost');
        this.worker.terminate().then(done, done);
      }, CLOSE_DEADLINE_MS);
      this.worker.on('message', (m: { kind: string }) => {
        if (m.kind === 'closed') this.worker.terminate().then(done, done);
      });
      this.worker.on('exit', done);
      this.post({ kind: 'close' });
    });
    return this.closing;
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    // after the engine's recording pass: everything it recorded goes in one batch
    queueMicrotask(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  private post(message: JournalMessage, transfer: ArrayBuffer[] = []): void {
    if (message.kind !== 'close') this.posted++;
    this.worker.postMessage(message, transfer);
  }

  private finished(): void {
    this.done++;
    while (this.waiting.length && this.waiting[0].upTo <= this.done) this.waiting.shift()!.resolve();
  }
}

/**
 * The writer thread. Run from src/ (tests, tsx) the writer is TypeScript too: a worker does not inherit the
 * process's --import hooks, so it registers tsx itself before loading it.
 */
function startWriter(workerData: { file: string; durability: string }): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./journal-worker.js', import.meta.url), { workerData });
  const writer = JSON.stringify(new URL('./journal-worker.ts', import.meta.url).href);
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${writer}); })`, { eval: true, workerData });
}
