/**
 * The journal: every exchange of a workspace, newest first, bounded twice so a long load test cannot exhaust
 * memory: at most `maxEntries` entries and at most `maxBytes` bytes (the oldest fall out first).
 *
 * Entries are encoded into a ring of fixed-size chunks (entry-codec.ts explains why bytes, not objects). Chunks
 * are allocated as the ring first reaches them, so an idle workspace costs one chunk; once all exist, the ring
 * wraps and reusing a chunk evicts the entries in it, which are always the oldest. A small index (typed arrays)
 * remembers each entry's id and place; ids are assigned in completion order, so index order is newest-first.
 *
 * Shared (replicas, `--redis`: shared-journal.ts): every replica's entries go to one stream, which gives them their
 * ids in its order, and the ring becomes this replica's copy of the stream. record() then hands the entry to the
 * shared journal instead of keeping it (it arrives in the ring with the others when the ring catches up), under
 * an id of this replica's own that only links between entries use until the stream gives it its real one.
 */
import type { Exchange } from '../engine/exchange.js';
import type { JournalSink } from '../store/store.js';
import { UNLIMITED, type JournalBudget } from './budget.js';
import { decodeEntry, FIELD, fieldContains, fieldEquals, isRecord, readFaults, recordStart, recordStatus, RecordEncoder, type JournalEntry, LeanEntry, type Outcome } from './entry-codec.js';
import type { SharedJournal } from './shared-journal.js';

export type { JournalEntry } from './entry-codec.js';

export interface JournalQuery {
  system?: string;
  client?: string;
  operation?: string;
  fault?: string;
  /** the idempotency or external key, exactly */
  key?: string;
  /** inclusive bounds on the exchange's start time, ms since epoch */
  since?: number;
  until?: number;
  status?: (status: number) => boolean;
  limit: number;
  /** only entries older than this id (from a previous page's nextCursor) */
  before?: number;
}

/** One page of a query, and how many entries in the whole journal match its filters (the cursor aside). */
export interface JournalPage {
  entries: JournalEntry[];
  nextCursor: number | null;
  total: number;
}

export interface JournalLimits {
  maxEntries: number;
  maxBytes: number;
  /** bodies are kept up to this many bytes, with their full size */
  bodyBytes: number;
}

const MAX_CHUNK = 1024 * 1024;
/** index slots a journal starts with; doubled as entries accumulate */
const INITIAL_INDEX = 1024;
const encoder = new RecordEncoder();

export class Journal {
  private readonly chunks: Buffer[] = [];
  private readonly chunkSize: number;
  private readonly chunkCount: number;
  private ids: Float64Array;
  /** chunk index * chunkSize + offset in the chunk */
  private places: Float64Array;
  private statuses: Uint16Array;
  private starts: Float64Array;
  /** index slot of the next entry; the oldest is at (head - size) */
  private head = 0;
  private size = 0;
  /** the chunk being filled and the offset in it */
  private chunk = -1;
  private offset = 0;
  private nextId = 1;
  /** where recorded entries go to be persisted (the workspace's store); none in memory-only mode */
  sink: JournalSink | undefined;
  /** replicas: where recorded entries go instead of the ring (see the header) */
  private shared: SharedJournal | undefined;
  /** replicas: the ids this replica gives what it records, until the stream gives them theirs */
  private nextLocalId = 1;

  constructor(
    readonly workspace: string,
    readonly limits: JournalLimits,
    /** shared with the other workspaces' journals (budget.ts) */
    private readonly budget: JournalBudget = UNLIMITED,
  ) {
    const n = limits.maxEntries;
    if (!Number.isInteger(n) || n < 1) throw new Error('journal entries must be a positive integer');
    // the index grows with the entries actually kept (up to maxEntries): 100 idle workspaces must not hold 26 bytes
    // times limits.journalEntries each
    const initial = Math.min(n, INITIAL_INDEX);
    this.ids = new Float64Array(initial);
    this.places = new Float64Array(initial);
    this.statuses = new Uint16Array(initial);
    this.starts = new Float64Array(initial);
    // a chunk must hold an entry with two full bodies; otherwise aim for at least 16 chunks
    const wanted = Math.min(MAX_CHUNK, Math.max(Math.floor(limits.maxBytes / 16), 2 * limits.bodyBytes + 16 * 1024));
    this.chunkSize = Math.min(wanted, limits.maxBytes);
    this.chunkCount = Math.max(1, Math.floor(limits.maxBytes / this.chunkSize));
  }

  get length(): number {
    return this.size;
  }

  /** bytes of chunks this journal holds */
  get memoryBytes(): number {
    return this.chunks.length * this.chunkSize;
  }

  get capacity(): number {
    return this.limits.maxEntries;
  }

  /** Stores the finished exchange and returns its id (shared: this replica's own id for it, see the header). */
  record(exchange: Exchange, outcome: Outcome): number {
    if (this.shared !== undefined) return this.recordShared(exchange, outcome, this.shared);
    const id = this.nextId++;
    exchange.id = id;
    let length = encoder.measure(exchange, outcome, this.limits.bodyBytes);
    if (length > this.chunkSize) length = encoder.dropBodies();
    if (length > this.chunkSize) return id; // absurd headers: counted, not kept
    this.makeRoom(length);
    const chunk = this.chunks[this.chunk];
    const at = this.offset;
    encoder.write(chunk, at);
    this.index(id, outcome.status, exchange.startedAt, length);
    this.sink?.recorded(id, exchange.startedAt, outcome.status, chunk.subarray(at, at + length));
    return id;
  }

  /**
   * Shared: encodes the entry into bytes of its own and hands them on. Never throws and never waits: the shared
   * journal queues them (shared-journal.ts).
   */
  private recordShared(exchange: Exchange, outcome: Outcome, shared: SharedJournal): number {
    const id = this.nextLocalId++;
    exchange.id = id;
    let length = encoder.measure(exchange, outcome, this.limits.bodyBytes);
    if (length > this.chunkSize) length = encoder.dropBodies();
    if (length > this.chunkSize) return id; // absurd headers: counted, not kept (as in the ring)
    const bytes = Buffer.allocUnsafe(length);
    // only what was written goes on: the rest of the allocation may hold anything
    const written = encoder.write(bytes, 0);
    shared.recorded(id, bytes.subarray(0, written));
    return id;
  }

  /**
   * Shared: makes `shared` the place recorded entries go, and the ring its copy of the stream (shared.attach()
   * calls it). The ring starts empty: what the stream holds arrives with the first catch-up.
   */
  shareThrough(shared: SharedJournal): void {
    this.shared = shared;
    this.clearRing();
  }

  /**
   * Shared: appends an entry read from the stream, whose ids only grow (older ones are ignored). False when the
   * bytes are not a record, or one too large for this ring (a replica with other limits recorded it).
   */
  merge(id: number, bytes: Buffer): boolean {
    if (this.size > 0 && id <= this.ids[this.slotAgo(1)]) return false;
    if (bytes.length > this.chunkSize || !isRecord(bytes)) return false;
    if (id >= this.nextId) this.nextId = id + 1;
    this.makeRoom(bytes.length);
    bytes.copy(this.chunks[this.chunk], this.offset);
    this.index(id, recordStatus(bytes), recordStart(bytes), bytes.length);
    return true;
  }

  /** Shared: forgets the entries up to and including `id` (a reset on some replica cleared them from the stream). */
  dropThrough(id: number): void {
    while (this.size > 0 && this.ids[this.slotAgo(this.size)] <= id) this.size--;
  }

  /**
   * Shared: resolves once the ring holds every entry in the stream, this replica's own recorded so far included
   * (rejects with JournalUnavailableError when Redis cannot be read). Undefined when the journal is not shared:
   * the ring is already complete, and a reader need not wait for anything.
   */
  catchUp(): Promise<void> | undefined {
    return this.shared?.catchUp();
  }

  /** Puts back an entry recorded before a restart (its bytes as the sink received them), oldest first. */
  restore(id: number, startedAt: number, status: number, bytes: Buffer): void {
    if (id < this.nextId || bytes.length > this.chunkSize) return;
    this.nextId = id + 1;
    this.makeRoom(bytes.length);
    bytes.copy(this.chunks[this.chunk], this.offset);
    this.index(id, status, startedAt, bytes.length);
  }

  /** The id the next entry gets. */
  get nextEntryId(): number {
    return this.nextId;
  }

  /** Ids continue from here (a journal cleared before a restart must not hand out its old ids again). */
  continueFrom(nextId: number): void {
    if (nextId > this.nextId) this.nextId = nextId;
  }

  /** The oldest entry's id, or the next id when the journal is empty: everything older is gone. */
  get oldestId(): number {
    return this.size === 0 ? this.nextId : this.ids[this.slotAgo(this.size)];
  }

  /** Adds the entry just written at the current offset to the index. */
  private index(id: number, status: number, startedAt: number, length: number): void {
    const slot = this.head;
    this.ids[slot] = id;
    this.places[slot] = this.chunk * this.chunkSize + this.offset;
    this.statuses[slot] = status;
    this.starts[slot] = startedAt;
    this.head = (slot + 1) % this.ids.length;
    this.size++;
    this.offset += length;
  }

  clear(): void {
    this.clearRing();
    // ids keep counting so that cursors handed out before the reset cannot point at new entries (shared: the
    // stream's ids do); the copy of a shared stream reads it again, for what arrived after the reset (shared-journal.ts)
    this.shared?.rewind();
  }

  private clearRing(): void {
    this.head = 0;
    this.size = 0;
    this.chunk = -1;
    this.offset = 0;
  }

  get(id: number): JournalEntry | undefined {
    for (let i = 1; i <= this.size; i++) {
      const slot = this.slotAgo(i);
      if (this.ids[slot] === id) return this.decode(slot, true);
      if (this.ids[slot] < id) return undefined;
    }
    return undefined;
  }

  /**
   * One page, newest first, with the id to continue from (or null on the last page), and the number of entries
   * matching the filters. The count needs the whole ring scanned; it tests the index (status, start time) and
   * then the few bytes each filter needs in place, and decodes only the entries on the page.
   */
  query(q: JournalQuery): JournalPage {
    const filter = compileFilter(q);
    if (filter === NOTHING) return { entries: [], nextCursor: null, total: 0 };
    const entries: JournalEntry[] = [];
    let nextCursor: number | null = null;
    let total = 0;
    for (let i = 1; i <= this.size; i++) {
      const slot = this.slotAgo(i);
      if (q.status && !q.status(this.statuses[slot])) continue;
      const start = this.starts[slot];
      if ((q.since !== undefined && start < q.since) || (q.until !== undefined && start > q.until)) continue;
      if (filter !== undefined) {
        const place = this.places[slot];
        const chunk = Math.floor(place / this.chunkSize);
        if (!filter(this.chunks[chunk], place - chunk * this.chunkSize)) continue;
      }
      total++;
      const id = this.ids[slot];
      if (q.before !== undefined && id >= q.before) continue;
      if (entries.length < q.limit) entries.push(this.decode(slot, false));
      else if (nextCursor === null) nextCursor = entries[entries.length - 1].id;
    }
    return { entries, nextCursor, total };
  }

  /**
   * Every entry that started within [since, until], oldest first, decoded lean (entry-codec.ts LeanEntry: one
   * object refilled for each entry, valid only during the call). For the report card, which reads the whole window.
   */
  scan(since: number, until: number, visit: (id: number, entry: LeanEntry, place: number) => void, all = true): void {
    const lean = new LeanEntry();
    for (let i = this.size; i >= 1; i--) {
      const slot = this.slotAgo(i);
      const start = this.starts[slot];
      if (start < since || start > until) continue;
      const place = this.places[slot];
      const chunk = Math.floor(place / this.chunkSize);
      visit(this.ids[slot], lean.read(this.chunks[chunk], place - chunk * this.chunkSize, all), place);
    }
  }

  /**
   * The entry at `place` (as scan() gave it) read into `lean`, for a second pass over some of the entries a scan
   * visited. Valid only while nothing is recorded in between: a recorded entry may reuse the place.
   */
  readAt(place: number, lean: LeanEntry): LeanEntry {
    const chunk = Math.floor(place / this.chunkSize);
    return lean.read(this.chunks[chunk], place - chunk * this.chunkSize);
  }

  /** index slot of the entry `ago` places back (1 = newest) */
  private slotAgo(ago: number): number {
    return (this.head - ago + this.ids.length) % this.ids.length;
  }

  private decode(slot: number, full: boolean): JournalEntry {
    const place = this.places[slot];
    const chunk = Math.floor(place / this.chunkSize);
    return decodeEntry(this.chunks[chunk], place - chunk * this.chunkSize, this.ids[slot], this.workspace, full);
  }

  /** Gives the journal's memory back to the shared budget (the workspace is being forgotten). */
  release(): void {
    this.budget.give(this.chunks.length * this.chunkSize);
    this.chunks.length = 0;
    this.clearRing();
  }

  /**
   * Moves to the next chunk when the entry does not fit the current one; evicts what must go. Chunks are used in
   * index order, round and round; a chunk not allocated yet is allocated when the shared budget allows, else the
   * ring goes round early through the chunks it has (their oldest entries are in the chunk at index 0 then).
   */
  private makeRoom(length: number): void {
    if (this.chunk < 0 || this.offset + length > this.chunkSize) {
      let next = (this.chunk + 1) % this.chunkCount;
      if (!this.chunks[next]) {
        if (next === 0) this.budget.force(this.chunkSize);
        else if (!this.budget.take(this.chunkSize)) next = 0;
      }
      this.chunk = next;
      this.offset = 0;
      if (!this.chunks[this.chunk]) this.chunks[this.chunk] = Buffer.allocUnsafe(this.chunkSize);
      else {
        // reusing a chunk: the entries in it are the oldest ones
        while (this.size > 0 && Math.floor(this.places[this.slotAgo(this.size)] / this.chunkSize) === this.chunk) this.size--;
      }
    }
    if (this.size === this.ids.length) {
      if (this.ids.length < this.limits.maxEntries) this.growIndex();
      else this.size--;
    }
  }

  /** Doubles the index (at most to maxEntries), its entries oldest first from slot 0. */
  private growIndex(): void {
    const length = Math.min(this.limits.maxEntries, this.ids.length * 2);
    const ids = new Float64Array(length);
    const places = new Float64Array(length);
    const statuses = new Uint16Array(length);
    const starts = new Float64Array(length);
    for (let i = 0; i < this.size; i++) {
      const slot = this.slotAgo(this.size - i);
      ids[i] = this.ids[slot];
      places[i] = this.places[slot];
      statuses[i] = this.statuses[slot];
      starts[i] = this.starts[slot];
    }
    this.ids = ids;
    this.places = places;
    this.statuses = statuses;
    this.starts = starts;
    this.head = this.size;
  }
}

/** Tests an encoded entry (its chunk and offset) against a query's field filters. */
type EntryFilter = (buf: Buffer, at: number) => boolean;

/** a filter no entry can pass (an empty value for a field that is empty only when absent) */
const NOTHING: EntryFilter = () => false;

/** The query's field filters as one in-place test over the encoded entry; undefined when it has none. */
function compileFilter(q: JournalQuery): EntryFilter | undefined {
  const tests: EntryFilter[] = [];
  // fields stored empty when absent (read back as null): an empty filter value cannot mean them
  for (const [value, index, nullable] of [
    [q.system, FIELD.system, true],
    [q.client, FIELD.client, false],
    [q.operation, FIELD.operation, true],
    [q.key, FIELD.key, true],
  ] as const) {
    if (value === undefined) continue;
    if (value === '' && nullable) return NOTHING;
    const bytes = Buffer.from(value);
    tests.push((buf, at) => fieldEquals(buf, at, index, bytes));
  }
  if (q.fault !== undefined) {
    const fault = q.fault;
    // the name as JSON text must occur in the entry's extras before they are worth parsing
    const needle = Buffer.from(JSON.stringify(fault));
    tests.push((buf, at) => fieldContains(buf, at, FIELD.extras, needle) && readFaults(buf, at).some((f) => f.kind === fault || f.rule === fault));
  }
  if (tests.length === 0) return undefined;
  if (tests.length === 1) return tests[0];
  return (buf, at) => {
    for (const test of tests) if (!test(buf, at)) return false;
    return true;
  };
}
