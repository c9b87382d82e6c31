/**
 * The shared journal over Redis (journal/shared-journal.ts explains the model): one capped Redis Stream per
 * workspace holds every replica's journal entries, as entry-codec's bytes, in the order they were appended.
 *
 * Ids: the append script takes a block of ids from the workspace's counter (HINCRBY) and adds each entry under its
 * id as the stream id (`N-0`), in one atomic step. So the stream's order is the ids' order, ids are unique across
 * replicas and only grow (a reset clears the stream, not the counter), and a replica's copy can be read on from
 * the last id it holds. The id an entry is known by is given when it is appended, not when it is recorded; a link
 * between entries (auth.refreshOf, replayOf: always to an earlier entry of the same replica, refresh-links.ts
 * lives in one process) is changed from this replica's own id to the stream's as it is appended, which the
 * batching below makes sure is known by then.
 *
 * The traffic path never waits for Redis and never sees it fail: recorded() queues the bytes, and the queue goes
 * out in batches (what one event-loop turn recorded, in one script call of up to 500 entries), one call in flight
 * at a time, so entries keep the order they were recorded in. While Redis is unreachable the entries wait here, up to the journal's byte limit
 * (limits.journalBytes), and are appended once it answers; past that limit the oldest waiting are dropped and
 * counted (status().lost). So a Redis outage loses journal entries of that moment at worst, never a request.
 *
 * Capped twice, as the in-memory journal is: at most limits.journalEntries entries and limits.journalBytes bytes
 * per workspace (the script keeps each entry's size in a list beside the stream and trims both together), so a
 * load test with large bodies cannot fill Redis's memory and take the write log down with it.
 *
 * Reading: catchUp() first appends what this replica recorded before the call, then reads the stream on from the
 * copy's last id, a page at a time. A reset on any replica (clear()) deletes the stream and leaves its mark (the
 * last id it cleared) for every replica's copy to drop up to. A Redis that lost its data (restarted without it)
 * shows as ids gone back below the copy's last one: the copy then starts over with the new stream.
 */
import type { Redis } from 'ioredis';
import { relinkRecord } from '../journal/entry-codec.js';
import type { Journal, JournalLimits } from '../journal/journal.js';
import { JournalUnavailableError, type SharedJournal, type SharedJournalStatus } from '../journal/shared-journal.js';
import type { RedisLink } from './redis-link.js';

/**
 * Appends a batch. KEYS: the stream, its bookkeeping (a hash: `last` id given, `bytes` held, `cleared` mark), the
 * sizes of the entries held, oldest first (a list in step with the stream). ARGV: most entries, most bytes, then
 * each entry's bytes in order. Returns the first entry's id; the others follow it one by one.
 */
const APPEND = `
local count = #ARGV - 2
local last = redis.call('HINCRBY', KEYS[2], 'last', count)
local first = last - count + 1
local added = 0
for i = 1, count do
  local entry = ARGV[i + 2]
  redis.call('XADD', KEYS[1], string.format('%d-0', first + i - 1), 'e', entry)
  redis.call('RPUSH', KEYS[3], #entry)
  added = added + #entry
end
local bytes = redis.call('HINCRBY', KEYS[2], 'bytes', added)
local held = redis.call('LLEN', KEYS[3])
local maxEntries = tonumber(ARGV[1])
local maxBytes = tonumber(ARGV[2])
local dropped = 0
while held > 0 and (held > maxEntries or bytes > maxBytes) do
  bytes = bytes - tonumber(redis.call('LPOP', KEYS[3]))
  held = held - 1
  dropped = dropped + 1
end
if dropped > 0 then
  redis.call('HSET', KEYS[2], 'bytes', bytes)
  redis.call('XTRIM', KEYS[1], 'MINID', string.format('%d', last - held + 1))
end
return first
`;

/** Clears the stream (same KEYS); the counter goes on. Returns the last id it cleared, the mark copies drop up to. */
const CLEAR = `
local last = redis.call('HGET', KEYS[2], 'last') or '0'
redis.call('DEL', KEYS[1], KEYS[3])
redis.call('HSET', KEYS[2], 'cleared', last, 'bytes', 0)
return last
`;

interface JournalCommands {
  understudyJournalAppend(stream: string, meta: string, sizes: string, maxEntries: number, maxBytes: number, ...entries: Buffer[]): Promise<number>;
  understudyJournalClear(stream: string, meta: string, sizes: string): Promise<string>;
}

/** the scripts, defined once per connection (ioredis sends EVALSHA, and the script itself when Redis lacks it) */
function commandsOf(redis: Redis): JournalCommands {
  const r = redis as Redis & Partial<JournalCommands>;
  if (typeof r.understudyJournalAppend !== 'function') {
    redis.defineCommand('understudyJournalAppend', { numberOfKeys: 3, lua: APPEND });
    redis.defineCommand('understudyJournalClear', { numberOfKeys: 3, lua: CLEAR });
  }
  return r as Redis & JournalCommands;
}

/** entries per append call; a script runs alone in Redis, so a batch is kept short */
const BATCH_ENTRIES = 500;
const BATCH_BYTES = 4 * 1024 * 1024;
/** entries per read: a copy far behind is read a page at a time */
const READ_PAGE = 256;
/** how long a read waits for Redis before the reader is told it is unavailable */
const READ_TIMEOUT_MS = 5_000;
/** first wait before appending again after a failure; doubled each time, up to RETRY_MAX_MS */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2_000;
/** own ids remembered for links (runs of entries appended together); links to older entries are left out */
const MAX_RUNS = 16_384;

interface Waiting {
  local: number;
  bytes: Buffer;
}

export function createJournalStream(link: RedisLink, workspace: string, limits: Pick<JournalLimits, 'maxEntries' | 'maxBytes'>): SharedJournal {
  return new JournalStream(link, workspace, limits);
}

class JournalStream implements SharedJournal {
  private readonly redis: Redis;
  private readonly commands: JournalCommands;
  private readonly stream: string;
  private readonly meta: string;
  private readonly sizes: string;
  private journal: Journal | undefined;

  /** recorded here, not appended yet, oldest first from `head` */
  private queue: Waiting[] = [];
  private head = 0;
  /** the batch being appended, taken off the queue (put back in front if the append fails) */
  private flight: Waiting[] = [];
  private waitingBytes = 0;
  private sending: Promise<boolean> | undefined;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private lost = 0;
  /** the largest own id handed in so far */
  private lastRecorded = 0;
  private closed = false;

  /** own id -> stream id, as runs appended together: the run starting at own id runLocal[i] starts at runGlobal[i] */
  private runLocal: number[] = [];
  private runGlobal: number[] = [];
  private runCount: number[] = [];

  /** the copy: the last stream id read into it, and the last clear mark seen */
  private position = 0;
  private cleared = 0;
  /** counts rewinds, so that a read under way when the copy was wiped does not move the position back on */
  private generation = 0;
  private reading: Promise<void> | undefined;
  private readAgain: Promise<void> | undefined;

  constructor(
    link: RedisLink,
    private readonly workspace: string,
    private readonly limits: Pick<JournalLimits, 'maxEntries' | 'maxBytes'>,
  ) {
    this.redis = link.commands;
    this.commands = commandsOf(link.commands);
    this.stream = link.key(workspace, 'journal');
    this.meta = link.key(workspace, 'journal', 'meta');
    this.sizes = link.key(workspace, 'journal', 'sizes');
  }

  attach(journal: Journal): void {
    this.journal = journal;
    journal.shareThrough(this);
  }

  recorded(localId: number, bytes: Buffer): void {
    if (this.closed) {
      this.lost++;
      return;
    }
    this.queue.push({ local: localId, bytes });
    this.waitingBytes += bytes.length;
    this.lastRecorded = localId;
    // more waiting than the journal may hold (Redis is down or slow): the oldest waiting go first
    if (this.waitingBytes > this.limits.maxBytes) {
      while (this.waitingBytes > this.limits.maxBytes && this.head < this.queue.length) {
        this.waitingBytes -= this.queue[this.head++].bytes.length;
        this.lost++;
      }
      this.compact();
    }
    if (!this.scheduled && this.sending === undefined && this.retryTimer === undefined) {
      this.scheduled = true;
      // after the rest of this turn's recording (the engine records a turn's exchanges in one loop): one batch
      queueMicrotask(() => {
        this.scheduled = false;
        this.pump();
      });
    }
  }

  status(): SharedJournalStatus {
    return { waiting: this.queue.length - this.head + this.flight.length, lost: this.lost };
  }

  catchUp(): Promise<void> {
    if (this.reading === undefined) {
      this.reading = this.read().finally(() => {
        this.reading = undefined;
      });
      return this.reading;
    }
    // the read under way may have started before this caller's entries were recorded: a read of its own follows
    // (one, shared by everyone who asks meanwhile)
    this.readAgain ??= this.reading
      .catch(() => {})
      .then(() => {
        this.readAgain = undefined;
        return this.catchUp();
      });
    return this.readAgain;
  }

  rewind(): void {
    this.position = this.cleared;
    this.generation++;
  }

  async clear(): Promise<void> {
    // what this replica recorded before the reset goes with it
    await this.drain(this.lastRecorded);
    let mark: string;
    try {
      mark = await this.commands.understudyJournalClear(this.stream, this.meta, this.sizes);
    } catch (err) {
      throw unavailable(this.workspace, err);
    }
    this.noteCleared(Number(mark));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await withTimeout(this.drain(this.lastRecorded), READ_TIMEOUT_MS, this.workspace);
    } catch {
      // the last try failed: what waits is lost with the replica
    }
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  // ---- appending ----------------------------------------------------------------------------------------------

  /** Sends the next batch unless one is under way (or waiting to be retried); sends on while there is more. */
  private pump(): void {
    if (this.sending !== undefined || this.retryTimer !== undefined || this.head >= this.queue.length) return;
    this.sending = this.sendBatch().then((ok) => {
      this.sending = undefined;
      if (ok) {
        this.failures = 0;
        this.pump();
      } else if (!this.closed) {
        const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** this.failures++);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.pump();
        }, delay);
        this.retryTimer.unref();
      }
      return ok;
    });
  }

  /** Appends the batch at the head of the queue; true when it was appended. Never rejects. */
  private async sendBatch(): Promise<boolean> {
    const entries: Buffer[] = [];
    const batch: Waiting[] = [];
    const first = this.queue[this.head].local;
    let bytes = 0;
    let i = this.head;
    for (; i < this.queue.length && batch.length < BATCH_ENTRIES; i++) {
      const waiting = this.queue[i];
      if (batch.length > 0 && bytes + waiting.bytes.length > BATCH_BYTES) break;
      // a link to an entry in this same batch cannot be given its stream id yet: the batch ends before it (links
      // point back, so the batch's first entry links to nothing in it)
      let linksIntoBatch = false;
      const relinked = relinkRecord(waiting.bytes, (target) => {
        if (target >= first && batch.length > 0) {
          linksIntoBatch = true;
          return undefined;
        }
        return this.globalOf(target);
      });
      if (linksIntoBatch) break;
      entries.push(relinked ?? waiting.bytes);
      batch.push(waiting);
      bytes += waiting.bytes.length;
    }
    this.flight = batch;
    this.head = i;
    this.compact();
    try {
      const firstId = Number(await this.commands.understudyJournalAppend(this.stream, this.meta, this.sizes, this.limits.maxEntries, this.limits.maxBytes, ...entries));
      this.remember(batch, firstId);
      this.flight = [];
      this.waitingBytes -= bytes;
      return true;
    } catch {
      // back in front of whatever was recorded meanwhile, for the next try
      this.queue = [...batch, ...this.queue.slice(this.head)];
      this.head = 0;
      this.flight = [];
      return false;
    }
  }

  /** Lets go of the entries before the head once they are most of the queue (so the dropped ones' bytes are freed). */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** Remembers which stream ids own entries got, as runs of consecutive own ids. */
  private remember(batch: Waiting[], firstId: number): void {
    for (let i = 0; i < batch.length; i++) {
      const last = this.runLocal.length - 1;
      if (last >= 0 && this.runLocal[last] + this.runCount[last] === batch[i].local && this.runGlobal[last] + this.runCount[last] === firstId + i) this.runCount[last]++;
      else {
        this.runLocal.push(batch[i].local);
        this.runGlobal.push(firstId + i);
        this.runCount.push(1);
      }
    }
    if (this.runLocal.length > MAX_RUNS) {
      const drop = this.runLocal.length - MAX_RUNS / 2;
      this.runLocal.splice(0, drop);
      this.runGlobal.splice(0, drop);
      this.runCount.splice(0, drop);
    }
  }

  /** The stream id of an own entry, if it was appended and is still remembered. */
  private globalOf(local: number): number | undefined {
    let lo = 0;
    let hi = this.runLocal.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.runLocal[mid] <= local) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0) return undefined;
    const offset = local - this.runLocal[hi];
    return offset < this.runCount[hi] ? this.runGlobal[hi] + offset : undefined;
  }

  /**
   * Resolves once every own entry up to `target` is appended (or was dropped); rejects with JournalUnavailableError
   * when an append fails meanwhile. Tries at once rather than waiting for a retry that is due later.
   */
  private async drain(target: number): Promise<void> {
    for (;;) {
      const oldest = this.flight.length > 0 ? this.flight[0].local : this.head < this.queue.length ? this.queue[this.head].local : undefined;
      if (oldest === undefined || oldest > target) return;
      if (this.sending === undefined) {
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        this.pump();
        if (this.sending === undefined) return;
      }
      if (!(await this.sending)) throw unavailable(this.workspace, 'the journal entries recorded here could not be appended');
    }
  }

  // ---- reading ------------------------------------------------------------------------------------------------

  private async read(): Promise<void> {
    const journal = this.journal;
    if (journal === undefined) return;
    await withTimeout(this.drain(this.lastRecorded), READ_TIMEOUT_MS, this.workspace);
    for (;;) {
      const generation = this.generation;
      const from = Math.max(this.position, this.cleared) + 1;
      const replies = await withTimeout(
        this.redis.pipeline().hmget(this.meta, 'cleared', 'last').xrangeBuffer(this.stream, String(from), '+', 'COUNT', READ_PAGE).exec(),
        READ_TIMEOUT_MS,
        this.workspace,
      ).catch((err: unknown) => {
        throw err instanceof JournalUnavailableError ? err : unavailable(this.workspace, err);
      });
      const [[metaError, meta], [rangeError, range]] = replies as [[Error | null, Array<string | null>], [Error | null, Array<[Buffer, Buffer[]]>]];
      if (metaError || rangeError) throw unavailable(this.workspace, metaError ?? rangeError);
      const [mark, last] = meta.map((value) => Number(value ?? 0));
      if (last < this.position) {
        // the ids went back: Redis lost the journal (restarted without its data); the copy starts over with it
        this.journal?.dropThrough(Number.POSITIVE_INFINITY);
        this.position = 0;
        this.cleared = 0;
        this.generation++;
        continue;
      }
      this.noteCleared(mark);
      // the copy was wiped while this page was on its way: read again from where the rewind put it
      if (generation !== this.generation) continue;
      for (const [rawId, fields] of range) {
        const id = Number.parseInt(rawId.toString('latin1'), 10);
        if (!(id > this.position && id > this.cleared)) continue;
        const bytes = fieldOf(fields, 'e');
        // an entry that is not a record (written by something else) is skipped, not kept
        if (bytes !== undefined) journal.merge(id, bytes);
        this.position = id;
      }
      if (range.length < READ_PAGE) return;
    }
  }

  /** A clear on some replica: the copy drops what it cleared. */
  private noteCleared(mark: number): void {
    if (!(mark > this.cleared)) return;
    this.cleared = mark;
    this.journal?.dropThrough(mark);
  }
}

function fieldOf(fields: Buffer[], name: string): Buffer | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i].toString('latin1') === name) return fields[i + 1];
  return undefined;
}

function unavailable(workspace: string, cause: unknown): JournalUnavailableError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new JournalUnavailableError(`the shared journal of workspace ${workspace} cannot be reached in Redis (${why})`);
}

/** `promise`, or JournalUnavailableError once `ms` have passed without it settling. */
function withTimeout<T>(promise: Promise<T>, ms: number, workspace: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unavailable(workspace, `no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
