/**
 * The journal writer's thread: owns `journal.db` in the data directory and writes the batches the main thread
 * posts (journal-store.ts), in the order they were posted.
 *
 * Why a thread: a busy server records tens of megabytes of journal a minute. Written on the event loop, each
 * 250 ms batch (a few MB at full load, plus SQLite's checkpoints) stalled requests for 25-75 ms and cost about a
 * quarter of the GET throughput; here it costs the event loop one memcpy per entry and one postMessage per batch,
 * and this thread about 5 ms of CPU per 4 MB batch (64 KB pages, rollback journal).
 * Why its own database file: SQLite has one writer per database, and the write log's commits must never wait
 * behind a journal batch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { JournalMessage } from './journal-store.js';

const { file, durability } = workerData as { file: string; durability: 'process' | 'power' };
const db = new Database(file);
// A rollback journal, not WAL: batches are appended once instead of written to the WAL and copied again at each
// checkpoint (half the CPU, measured), and nobody reads while this thread writes. It protects against the process
// dying mid-batch whatever `synchronous` says; fsync only matters for power loss, which `durability: power` buys.
db.pragma('journal_mode = TRUNCATE');
db.pragma(`synchronous = ${durability === 'power' ? 'NORMAL' : 'OFF'}`);
const insert = db.prepare('INSERT OR REPLACE INTO journal (workspace, first_id, last_id, data) VALUES (?, ?, ?, ?)');
const trim = db.prepare('DELETE FROM journal WHERE workspace = ? AND last_id < ?');
const forget = db.prepare('DELETE FROM journal WHERE workspace = ?');

const apply = db.transaction((message: JournalMessage) => {
  if (message.kind === 'batches') {
    for (const b of message.batches) {
      insert.run(b.workspace, b.firstId, b.lastId, Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength));
      trim.run(b.workspace, b.keepFrom);
    }
  } else if (message.kind === 'forget') forget.run(message.workspace);
});

parentPort!.on('message', (message: JournalMessage) => {
  if (message.kind === 'close') {
    db.close();
    parentPort!.postMessage({ kind: 'closed' });
    return;
  }
  try {
    apply(message);
  } catch (err) {
    // the journal is a record of traffic, not state: a batch that cannot be stored is reported, never fatal
    parentPort!.postMessage({ kind: 'warning', message: `journal entries could not be stored: ${err instanceof Error ? err.message : String(err)}` });
  }
  parentPort!.postMessage({ kind: 'done' });
});
