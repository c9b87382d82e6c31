/**
 * A workspace's write log as replicas share it: a Redis Stream (`{prefix}:{ws:NAME}:log`) that every replica
 * appends its writes to and applies in order (store.ts SharedLog).
 *
 * Why this converges: a system's state is a function of (seed, the accepted writes in order, their clock times).
 * A replica never runs a write when it arrives: it appends it (XADD), then applies the stream, in order, up to
 * and including its own entry, and answers with what its own application produced. Every replica applies the
 * same entries in the same order with the same clock times (an entry's time is its stream id, Redis's clock), so
 * every replica holds the same state, and a read on any replica that first catches up with the stream's head
 * sees every write acknowledged anywhere (read-your-writes across replicas).
 *
 * - Appending is one script (XADD, and the head's id kept beside the stream), so that a read's barrier is one GET.
 * - Exchanges share barriers: those that arrive in one turn of the event loop share one head fetch, sent at the
 *   turn's end, never one already on its way (it may have left before their write was acknowledged elsewhere).
 *   Under load, one round trip serves every exchange of a turn, and the fetches of successive turns overlap.
 * - Applying is one loop per workspace: XRANGE from the last applied id, a batch at a time; an entry of this
 *   replica's runs its own callback (the handler, with the exchange), any other runs the part's apply (replay).
 * - Snapshots live beside the stream (`…:snapshot`, a hash): every `snapshotEvery` entries, one replica (the one
 *   that wins a short lease) writes every part's state as it stands right after an entry, and trims the stream up
 *   to the previous snapshot's position. A replica that starts late, or has fallen behind a trim, restores the
 *   snapshot and applies the stream from there. Snapshots are kept in Redis rather than on each replica's disk:
 *   replicas in containers have no lasting disk, and a trim behind one replica's local snapshot would strand the
 *   others.
 * - Redis unreachable: append rejects (StoreUnavailableError: the write is answered 503 and nothing changed);
 *   reads are served from what this replica has applied, and the follower catches up when Redis is back.
 */
import type { Redis } from 'ioredis';
import { StoreUnavailableError, type LogPart, type LoggedWrite, type SharedLog } from '../store/store.js';
import type { RedisLink } from './redis-link.js';

/** a stream entry as XRANGE gives it: [id, [field, value, field, value ...]] */
type RawEntry = [string, string[]];

/** entries read per round trip while catching up (and at most brought back by an append) */
const BATCH = 256;

/**
 * Writes a snapshot at ARGV[1] (then `part:NAME`, base64 pairs) unless the one kept is as far or further (a replica
 * behind the others must never put an older snapshot over a newer one: the stream is already trimmed behind that),
 * and trims the stream behind the snapshot it replaces (`trimmed`: entries before it are gone).
 */
const SNAPSHOT_SCRIPT = `
local previous = redis.call('HGET', KEYS[1], 'position')
if previous then
  local pm, ps = string.match(previous, '^(%d+)-(%d+)$')
  local nm, ns = string.match(ARGV[1], '^(%d+)-(%d+)$')
  pm, ps, nm, ns = tonumber(pm), tonumber(ps), tonumber(nm), tonumber(ns)
  if nm < pm or (nm == pm and ns <= ps) then return 0 end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'position', unpack(ARGV))
if previous then
  redis.call('XTRIM', KEYS[2], 'MINID', previous)
  redis.call('HSET', KEYS[1], 'trimmed', previous)
end
return 1`;

type SnapshotCommand = { understudySnapshot(snapshot: string, stream: string, position: string, ...parts: string[]): Promise<number> };

type AppendCommand = { understudyAppend(stream: string, head: string, ...args: string[]): Promise<[string, RawEntry[]]> };

export interface WorkspaceLogOptions {
  /** entries applied between snapshots (default 10,000) */
  snapshotEvery?: number;
  /** entries read per round trip while catching up */
  batch?: number;
  /** warns (a part failed to apply an entry: the replica's state may now differ) */
  warn?(message: string): void;
}

interface PendingAppend {
  own: (at: number) => unknown;
  /** its stream id, once XADD answered */
  id?: string;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/**
 * Appends an entry, keeps the head beside the stream, and answers with the entry's id and the entries between
 * what the caller had applied and it (at most a batch): the writer usually applies up to its own entry without
 * another round trip. Of the caller's own entries (their nonce starts with ARGV[7]) only the nonce comes back:
 * the caller holds the rest, and under load most entries between are its own.
 */
const APPEND_SCRIPT = `
local id = redis.call('XADD', KEYS[1], '*', 'p', ARGV[1], 'o', ARGV[2], 'i', ARGV[3], 'n', ARGV[4])
redis.call('SET', KEYS[2], id)
local range = redis.call('XRANGE', KEYS[1], '(' .. ARGV[5], id, 'COUNT', ARGV[6])
local mine = ARGV[7]
for i, entry in ipairs(range) do
  local fields = entry[2]
  local nonce = fields[8]
  if fields[7] == 'n' and nonce and string.sub(nonce, 1, #mine) == mine then range[i] = {entry[1], {'n', nonce}} end
end
return {id, range}`;

/** how long a write waits for its own entry to be applied before it is answered 503 */
const CONFIRM_TIMEOUT_MS = 5_000;

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref();
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** entries in a stream id: `ms-seq` compared as numbers */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-');
  const [bm, bs] = b.split('-');
  const dm = Number(am) - Number(bm);
  return dm !== 0 ? Math.sign(dm) : Math.sign(Number(as ?? 0) - Number(bs ?? 0));
}

export class WorkspaceLog implements SharedLog {
  private readonly parts = new Map<string, LogPart>();
  /** this replica's appends not applied yet, by their nonce */
  private readonly pending = new Map<string, PendingAppend>();
  private nonces = 0;
  /** every nonce of this replica's (and of this run's: a restarted replica's entries are not taken for its own) */
  private readonly noncePrefix: string;
  /** the last entry applied here ('0-0': none) */
  private appliedId = '0-0';
  /** every entry up to here is applied or queued to be (what appends brought back) */
  private coveredId = '0-0';
  /** the highest id some caller waits for */
  private wantedId = '0-0';
  private applying: Promise<void> | undefined;
  /** the batches being applied, one after another */
  private chain: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private readonly waiters: Array<{ id: string; resolve(): void }> = [];
  /** barrier: the head fetch the callers of this turn share (sent at the turn's end) */
  private headBatch: Promise<void> | undefined;
  private sinceSnapshot = 0;
  /** the workspace's entries on Redis: stream, its head, the snapshot, its lease */
  readonly streamKey: string;
  readonly headKey: string;
  private readonly snapshotKey: string;
  private readonly leaseKey: string;
  private readonly createdKey: string;
  /** the first catch-up restores the snapshot when there is one (a replica that starts late) */
  private startedOnce = false;
  private stopped = false;
  private lastHeadMs = 0;

  constructor(
    private readonly link: RedisLink,
    readonly workspace: string,
    private readonly options: WorkspaceLogOptions = {},
  ) {
    this.streamKey = link.key(workspace, 'log');
    this.headKey = link.key(workspace, 'head');
    this.snapshotKey = link.key(workspace, 'snapshot');
    this.leaseKey = link.key(workspace, 'snapshot-lease');
    this.createdKey = link.key(workspace, 'created');
    this.noncePrefix = `${link.replicaId}/${process.pid}.${Date.now().toString(36)}/`;
    const commands = link.commands as Redis & { understudyAppend?: unknown };
    if (!commands.understudyAppend) {
      link.commands.defineCommand('understudyAppend', { numberOfKeys: 2, lua: APPEND_SCRIPT });
      link.commands.defineCommand('understudySnapshot', { numberOfKeys: 2, lua: SNAPSHOT_SCRIPT });
    }
  }

  /**
   * Told once, before the first entry is applied here, when the workspace was created (by whichever replica
   * created it first): its states start there and its chaos timeline counts from there on every replica.
   */
  onCreated: ((createdAt: number) => void) | undefined;

  /** whether this replica has caught up with the log at least once (before that, its state is only seeded) */
  get started(): boolean {
    return this.startedOnce;
  }

  /** Stops applying: the workspace is deleted here, or the replica stops. Writes still waiting get a 503. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const w of this.waiters.splice(0)) w.resolve();
    for (const p of this.pending.values()) p.reject(new StoreUnavailableError('the replica is stopping'));
    this.pending.clear();
  }

  private async agreeCreation(): Promise<void> {
    const results = (await this.link.commands.pipeline().set(this.createdKey, String(this.link.clock.now()), 'NX').get(this.createdKey).exec()) ?? [];
    const [err, createdAt] = results[1] ?? [];
    if (err) throw err;
    this.onCreated?.(Number(createdAt));
  }

  register(part: string, handler: LogPart): void {
    this.parts.set(part, handler);
  }

  /** the last entry this replica applied */
  get applied(): string {
    return this.appliedId;
  }

  /** how far behind the head this replica was when it last looked (ms of the head's time not applied yet) */
  get lagMs(): number {
    const appliedMs = Number(this.appliedId.split('-')[0]);
    return Math.max(0, this.lastHeadMs - appliedMs);
  }

  async append<T>(part: string, operation: string, input: string, own: (at: number) => T): Promise<T> {
    if (this.stopped) throw new StoreUnavailableError('the workspace is no longer served here');
    if (!this.link.up) throw new StoreUnavailableError(`Redis is unreachable (${this.link.where})`);
    const nonce = `${this.noncePrefix}${++this.nonces}`;
    const applied = new Promise<T>((resolve, reject) => this.pending.set(nonce, { own, resolve: resolve as (v: unknown) => void, reject }));
    let id: string;
    let between: RawEntry[];
    // ask only for what is neither applied nor already in hand (queued to be applied)
    const from = compareIds(this.coveredId, this.appliedId) > 0 ? this.coveredId : this.appliedId;
    try {
      [id, between] = await (this.link.commands as unknown as AppendCommand).understudyAppend(this.streamKey, this.headKey, part, operation, input, nonce, from, String(BATCH), this.noncePrefix);
    } catch (err) {
      // not appended, or appended with its acknowledgement lost: either way not ours to answer for any more (an
      // entry that did reach the stream is applied as anyone's when the log gets to it)
      this.pending.delete(nonce);
      applied.catch(() => {});
      throw new StoreUnavailableError(`the write could not be logged in Redis (${err instanceof Error ? err.message : String(err)})`);
    }
    const mine = this.pending.get(nonce);
    if (mine) mine.id = id;
    this.noteHead(id);
    // everything between what was applied when the append left and the entry itself came back with it (unless the
    // batch was full, or this replica has not started: then the apply loop reads it)
    const whole = this.startedOnce && between.length > 0 && between.length < BATCH && between[between.length - 1][0] === id;
    // (from, id] follows on from what was in hand when it left, so what is in hand now reaches id
    if (whole) {
      if (compareIds(id, this.coveredId) > 0) this.coveredId = id;
      this.applyInOrder(between).catch(() => {});
    } else this.catchUpTo(id).catch(() => {});
    return withTimeout(applied, CONFIRM_TIMEOUT_MS, () => {
      // logged, but this replica cannot get to it (Redis went away after the append): answer now; the entry is
      // applied as anyone's when the log gets to it
      this.pending.delete(nonce);
      return new StoreUnavailableError('the write was logged in Redis but could not be confirmed; it may have been made');
    });
  }

  caughtUp(): Promise<void> {
    // a deleted workspace's last exchanges are answered from what it held
    if (!this.link.up || this.stopped) return Promise.resolve();
    // the callers of one turn of the event loop share one fetch, sent at its end: it leaves after each of them
    // arrived, so it sees every write acknowledged before they did. Fetches of successive turns overlap freely
    if (this.headBatch === undefined) {
      this.headBatch = new Promise<void>((resolve) => {
        setImmediate(() => {
          this.headBatch = undefined;
          this.fetchHeadAndCatchUp().then(resolve, resolve);
        });
      });
    }
    return this.headBatch;
  }

  private async fetchHeadAndCatchUp(): Promise<void> {
    let head: string | null;
    try {
      head = await this.link.commands.get(this.headKey);
    } catch {
      return; // Redis unreachable: what this replica has applied is what it can serve
    }
    if (head === null) {
      // nothing was ever appended (or Redis lost it): the first catch-up still looks for a snapshot
      if (!this.startedOnce) await this.catchUpTo('0-1').catch(() => {});
      return;
    }
    this.noteHead(head);
    await this.catchUpTo(head).catch(() => {});
  }

  /** the head of the stream as last seen (health measures lag against it) */
  noteHead(id: string): void {
    const ms = Number(id.split('-')[0]);
    if (ms > this.lastHeadMs) this.lastHeadMs = ms;
  }

  /** resolves once every entry up to `id` is applied here (or the stream has nothing more to apply) */
  private catchUpTo(id: string): Promise<void> {
    if (this.stopped || (this.startedOnce && compareIds(this.appliedId, id) >= 0)) return Promise.resolve();
    if (compareIds(id, this.wantedId) > 0) this.wantedId = id;
    const reached = new Promise<void>((resolve) => this.waiters.push({ id, resolve }));
    this.kick();
    return reached;
  }

  /** Runs the apply loop unless it runs already; after a failure (Redis unreachable) it tries again, backing off. */
  private kick(): void {
    if (this.stopped) return;
    if (this.applying !== undefined || this.retryTimer !== undefined) return;
    this.applying = this.applyLoop().then(
      () => {
        this.applying = undefined;
        this.failures = 0;
        if (this.waiters.length > 0) this.kick();
      },
      () => {
        this.applying = undefined;
        this.failures++;
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.kick();
        }, Math.min(1000, 25 * 2 ** this.failures));
        this.retryTimer.unref();
      },
    );
  }

  private async applyLoop(): Promise<void> {
    const batch = this.options.batch ?? BATCH;
    if (!this.startedOnce) {
      await this.agreeCreation();
      await this.restoreSnapshotIfAhead();
      this.startedOnce = true;
    }
    while (!this.stopped && compareIds(this.appliedId, this.wantedId) < 0) {
      const pipeline = this.link.commands.pipeline();
      pipeline.xrange(this.streamKey, `(${this.appliedId}`, '+', 'COUNT', batch);
      pipeline.hget(this.snapshotKey, 'trimmed');
      const results = (await pipeline.exec()) ?? [];
      const [rangeErr, entries] = results[0] ?? [];
      const [, trimmed] = results[1] ?? [];
      if (rangeErr) throw rangeErr;
      const raw = entries as RawEntry[];
      // fallen behind a trim: entries after what this replica applied are gone, the snapshot (past the trim) has them
      if (typeof trimmed === 'string' && compareIds(this.appliedId, trimmed) < 0) {
        await this.restoreSnapshotIfAhead();
        continue;
      }
      if (raw.length === 0) break; // the stream has nothing more: whoever waits for more waits for nothing
      await this.applyInOrder(raw);
    }
    // everything there is has been applied
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  /**
   * Applies entries, in order, after whatever is being applied now: the apply loop and the entries an append
   * brought back both come through here, one batch at a time, and an entry already applied is skipped.
   */
  private applyInOrder(entries: RawEntry[]): Promise<void> {
    const run = async () => {
      try {
        for (const [id, fields] of entries) if (compareIds(id, this.appliedId) > 0) await this.applyEntry(id, fields);
      } catch (err) {
        // what was in hand is not all applied: the next append or catch-up reads from what was
        this.coveredId = this.appliedId;
        throw err;
      }
    };
    this.chain = this.chain.then(run, run);
    return this.chain;
  }

  private async applyEntry(id: string, fields: string[]): Promise<void> {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
    const at = Number(id.split('-')[0]);
    const mine = f.n !== undefined ? this.pending.get(f.n) : undefined;
    if (mine) {
      this.pending.delete(f.n);
      try {
        let result = mine.own(at);
        // an asynchronous handler finishes before the next entry is applied: the log's order is the state's
        if (result instanceof Promise) result = await result;
        mine.resolve(result);
      } catch (err) {
        mine.reject(err);
      }
    } else {
      // this replica's own entry, brought back without its fields, whose writer stopped waiting: read it whole
      if (f.p === undefined && f.n !== undefined) {
        const whole = (await this.link.commands.xrange(this.streamKey, id, id)) as RawEntry[];
        for (let i = 0; i + 1 < (whole[0]?.[1].length ?? 0); i += 2) f[whole[0][1][i]] = whole[0][1][i + 1];
      }
      const part = this.parts.get(f.p);
      const write: LoggedWrite = { operation: f.o, input: f.i, at, status: 0 };
      if (part) {
        try {
          part.apply(write);
        } catch (err) {
          this.options.warn?.(`workspace ${this.workspace}: entry ${id} (${f.p} ${f.o}) could not be applied: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    this.appliedId = id;
    this.releaseWaiters();
    if (++this.sinceSnapshot >= (this.options.snapshotEvery ?? 10_000)) {
      this.sinceSnapshot = 0;
      this.snapshotAt(id);
    }
  }

  private releaseWaiters(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (compareIds(this.appliedId, this.waiters[i].id) >= 0) {
        this.waiters[i].resolve();
        this.waiters.splice(i, 1);
      }
    }
  }

  /**
   * Every part's state right after entry `id`, written beside the stream by one replica (the lease's winner), and
   * the stream trimmed up to the previous snapshot (so that a replica reading the previous one can still catch up).
   */
  private snapshotAt(id: string): void {
    const states: string[] = [];
    for (const [name, part] of this.parts) {
      if (!part.snapshots) return; // a part that cannot be snapshotted: the log is kept whole
      const data = part.snapshot();
      if (data !== undefined) states.push(`part:${name}`, data.toString('base64'));
    }
    const commands = this.link.commands as unknown as SnapshotCommand & Redis;
    (async () => {
      // the lease spares Redis every replica's copy of the same snapshot at once; the script keeps it right
      const won = await commands.set(this.leaseKey, this.link.replicaId, 'PX', 30_000, 'NX');
      if (won !== 'OK') return;
      try {
        await commands.understudySnapshot(this.snapshotKey, this.streamKey, id, ...states);
      } finally {
        await commands.del(this.leaseKey);
      }
    })().catch(() => {});
  }

  /** Restores the snapshot when it is ahead of what this replica applied (a late start, or behind a trim). */
  private async restoreSnapshotIfAhead(): Promise<void> {
    const stored = await this.link.commands.hgetallBuffer(this.snapshotKey);
    const position = stored.position?.toString();
    if (position === undefined || compareIds(position, this.appliedId) <= 0) return;
    for (const [name, part] of this.parts) {
      const data = stored[`part:${name}`];
      part.restore(data === undefined ? undefined : Buffer.from(data.toString(), 'base64'));
    }
    this.appliedId = position;
    this.noteHead(position);
    // this replica's own writes the snapshot already holds: their handlers cannot run now, so their outcome is unknown here
    for (const [nonce, p] of this.pending) {
      if (p.id !== undefined && compareIds(p.id, position) <= 0) {
        this.pending.delete(nonce);
        p.reject(new StoreUnavailableError('the write was logged, and applied by a snapshot before this replica could answer it; it may have been made'));
      }
    }
  }
}
