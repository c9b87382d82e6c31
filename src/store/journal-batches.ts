/**
 * The journal on disk (journal-store.ts): entries are stored exactly as the in-memory journal encoded them
 * (entry-codec.ts), many to a row. One row per workspace per batch (≤ 250 ms of traffic) costs one insert however busy the server is,
 * where a row per entry would cost tens of thousands of inserts a second at full load.
 *
 * A batch is a run of records: u32 length of the entry's bytes, f64 id, f64 start time, u16 status, the bytes.
 */

/** the record head: length, id, start, status */
const HEAD = 4 + 8 + 8 + 2;
const INITIAL_BYTES = 64 * 1024;

/**
 * Entries gathered for one row. The buffer is memory of its own (never from Buffer's shared pool), so that take()
 * can hand it to the writer thread as it is, transferred rather than copied; the next batch starts in a new one,
 * sized by the last (a busy workspace's batches are a few MB, an idle one's a few KB).
 */
export class JournalBatch {
  private buffer = ownBuffer(INITIAL_BYTES);
  private length = 0;
  private firstId = 0;
  private lastId = 0;

  get isEmpty(): boolean {
    return this.length === 0;
  }

  /** Copies one encoded entry in (the journal's chunk it came from is reused later). */
  add(id: number, startedAt: number, status: number, bytes: Uint8Array): void {
    const needed = this.length + HEAD + bytes.length;
    if (needed > this.buffer.length) {
      const grown = ownBuffer(Math.max(needed, this.buffer.length * 2));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    const b = this.buffer;
    let at = this.length;
    b.writeUInt32LE(bytes.length, at);
    b.writeDoubleLE(id, at + 4);
    b.writeDoubleLE(startedAt, at + 12);
    b.writeUInt16LE(status, at + 20);
    at += HEAD;
    b.set(bytes, at);
    this.length = at + bytes.length;
    if (this.firstId === 0) this.firstId = id;
    this.lastId = id;
  }

  /** The batch so far (its memory, to be transferred: this batch no longer uses it), and an empty batch from now on. */
  take(): { firstId: number; lastId: number; data: Uint8Array } {
    const taken = { firstId: this.firstId, lastId: this.lastId, data: new Uint8Array(this.buffer.buffer, 0, this.length) };
    this.buffer = ownBuffer(Math.max(INITIAL_BYTES, Math.ceil(this.length * 1.25)));
    this.length = 0;
    this.firstId = 0;
    this.lastId = 0;
    return taken;
  }
}

function ownBuffer(bytes: number): Buffer {
  return Buffer.from(new ArrayBuffer(bytes));
}

/** The entries of a stored batch; a damaged tail (a torn row cannot be committed, but a bad file can) ends it. */
export function decodeJournalBatch(data: Buffer): Array<{ id: number; startedAt: number; status: number; bytes: Buffer }> {
  const entries: Array<{ id: number; startedAt: number; status: number; bytes: Buffer }> = [];
  let at = 0;
  while (at + HEAD <= data.length) {
    const length = data.readUInt32LE(at);
    const end = at + HEAD + length;
    if (end > data.length) break;
    entries.push({ id: data.readDoubleLE(at + 4), startedAt: data.readDoubleLE(at + 12), status: data.readUInt16LE(at + 20), bytes: data.subarray(at + HEAD, end) });
    at = end;
  }
  return entries;
}
