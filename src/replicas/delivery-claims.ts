/**
 * Which replica attempts each delivery (`--redis`): a Redis Stream per workspace of deliveries to make
 * (`{prefix}:{ws:NAME}:deliveries-due`), read through one consumer group by every replica's dispatcher. The
 * group gives each message to one consumer; the message stays in that consumer's pending list (its claim) for
 * the delivery's whole life — every attempt, the retries on the policy's schedule, duplicate copies — and is
 * acknowledged (and deleted) once the delivery is finished.
 *
 * - Offering: the replica whose own change queued a delivery (or sent a finished one back: redeliver) adds it,
 *   through a script that adds a delivery only when it is not offered already (a hash beside the stream,
 *   `deliveries-offered`, delivery number → message id). So offering is idempotent: the holder of the ticker
 *   lease offers again, every claim timeout, every delivery its book shows unfinished (reconcile), which covers a
 *   replica that died between its change and its offer, at the cost of one HEXISTS per unfinished delivery.
 * - Claiming: a blocking XREADGROUP per workspace. Before arming a claimed delivery the replica catches up with
 *   the shared log (the change that queued it was appended before it was offered), then asks its book: due
 *   (armed: the dispatcher attempts it when its time comes), finished or forgotten (acknowledged at once), or not
 *   known here yet (a change this replica could not read yet, Redis being away: kept, and looked at again).
 * - Keeping claims: every third of the claim timeout the replica resets its claims' idle time (XCLAIM JUSTID to
 *   itself), in a script that does so only for the messages still its own; one another replica took over is
 *   dropped here (its attempts stop).
 * - Taking over: every third of the timeout, each replica takes the claims idle past the timeout (XAUTOCLAIM): a
 *   replica killed mid-retry stops keeping its claims fresh, and another one finishes its deliveries, on the
 *   schedule the book holds, within a timeout and a third.
 * - Giving back: a replica that stops marks its claims idle past the timeout (XCLAIM IDLE), so the others take
 *   them at their next round rather than a timeout later.
 * - Finishing: XACK, XDEL, and the offer forgotten (if it is still this message's), in one script.
 *
 * An attempt may be made twice when a claim changes hands while an attempt is under way (a replica paused longer
 * than the timeout): deliveries are at least once, as webhooks are everywhere.
 */
import type { Redis } from 'ioredis';
import type { ClaimGate } from '../deliveries/dispatcher.js';
import type { RedisLink } from './redis-link.js';

/** the consumer group every replica's dispatcher reads through */
export const DISPATCHERS = 'dispatchers';

/** What the claims ask of the replica's book. */
export interface ClaimsBook {
  /** resolves once the book holds every change made before the call (the shared log's barrier) */
  caughtUp(): Promise<void>;
  /** delivery `n` to this replica's book: still to be attempted, finished (or forgotten), or not known here yet */
  statusOf(n: number): 'due' | 'done' | 'unknown';
  /** the claim on delivery `n` is this replica's now: arm what it has due */
  claimed(n: number): void;
}

export interface DeliveryClaimsOptions {
  link: RedisLink;
  workspace: string;
  book: ClaimsBook;
  /** how long a claim may go without its holder keeping it fresh before another replica takes it (default 30 s) */
  claimTimeoutMs?: number;
  /** this replica's name in the group (default the link's replica id; unique per process) */
  consumer?: string;
  warn(message: string): void;
}

/**
 * KEYS: stream, offered; ARGV: group, n...: offers deliveries not offered yet (the group made first, if the stream
 * was lost: Redis restarted without its data); returns how many were added
 */
const OFFER = `
redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
local added = 0
for i = 2, #ARGV do
  local n = ARGV[i]
  if redis.call('HEXISTS', KEYS[2], n) == 0 then
    local id = redis.call('XADD', KEYS[1], '*', 'n', n)
    redis.call('HSET', KEYS[2], n, id)
    added = added + 1
  end
end
return added`;

/** ARGV: group, consumer, ids...: resets the idle time of the messages still this consumer's; returns the others */
const FRESHEN = `
local lost = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local entry = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)[1]
  if entry and entry[2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'JUSTID')
  else
    lost[#lost + 1] = id
  end
end
return lost`;

/** ARGV: group, id, n: the delivery is finished */
const FINISH = `
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if redis.call('HGET', KEYS[2], ARGV[3]) == ARGV[2] then redis.call('HDEL', KEYS[2], ARGV[3]) end
return 1`;

type ClaimCommands = Redis & {
  understudyOffer?(stream: string, offered: string, group: string, ...ns: string[]): Promise<number>;
  understudyFreshen?(stream: string, group: string, consumer: string, ...ids: string[]): Promise<string[]>;
  understudyFinish?(stream: string, offered: string, group: string, id: string, n: string): Promise<number>;
};

/** a stream message as XREADGROUP and XAUTOCLAIM give it (null fields: deleted meanwhile) */
type Message = [string, string[] | null];

/** messages read or taken over per round trip; ids per script call */
const BATCH = 500;
/** how long a blocking read waits before looking again (so a lost group is noticed) */
const BLOCK_MS = 5_000;

export class DeliveryClaims implements ClaimGate {
  readonly streamKey: string;
  readonly offeredKey: string;
  readonly claimTimeoutMs: number;
  readonly consumer: string;
  /** this replica's claims: delivery number → its message id */
  private readonly held = new Map<number, string>();
  /** claims armed in the dispatcher (their delivery is due in the book) */
  private readonly armed = new Set<number>();
  private toOffer: number[] = [];
  private reader: Redis | undefined;
  private timer: NodeJS.Timeout | undefined;
  private maintaining = false;
  private stopped = false;
  /** a failure is warned about once, until Redis answers again */
  private failing = false;
  /** maintenance rounds done (a test waits for some to have passed) */
  rounds = 0;

  constructor(private readonly options: DeliveryClaimsOptions) {
    const { link, workspace } = options;
    this.streamKey = link.key(workspace, 'deliveries-due');
    this.offeredKey = link.key(workspace, 'deliveries-offered');
    this.claimTimeoutMs = options.claimTimeoutMs ?? 30_000;
    this.consumer = options.consumer ?? link.replicaId;
    const commands = link.commands as ClaimCommands;
    if (!commands.understudyOffer) {
      commands.defineCommand('understudyOffer', { numberOfKeys: 2, lua: OFFER });
      commands.defineCommand('understudyFreshen', { numberOfKeys: 1, lua: FRESHEN });
      commands.defineCommand('understudyFinish', { numberOfKeys: 2, lua: FINISH });
    }
  }

  private get commands(): ClaimCommands {
    return this.options.link.commands as ClaimCommands;
  }

  /** Starts reading claims and keeping them. */
  start(): void {
    if (this.reader !== undefined || this.stopped) return;
    this.reader = this.options.link.blocking();
    void this.readLoop();
    this.timer = setInterval(() => void this.maintain(), Math.max(1, Math.floor(this.claimTimeoutMs / 3)));
    this.timer.unref();
  }

  /** Stops, giving this replica's claims back (best effort: without Redis they run out after the timeout). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.reader?.disconnect();
    const ids = [...this.held.values()];
    this.held.clear();
    this.armed.clear();
    for (let i = 0; i < ids.length; i += BATCH) {
      const chunk = ids.slice(i, i + BATCH);
      await this.commands.xclaim(this.streamKey, DISPATCHERS, this.consumer, 0, ...chunk, 'IDLE', this.claimTimeoutMs, 'JUSTID').catch(() => {});
    }
  }

  // --- ClaimGate (the dispatcher) --------------------------------------------------------------------------

  holds(n: number): boolean {
    return this.held.has(n);
  }

  offer(n: number): void {
    if (this.stopped) return;
    if (this.toOffer.length === 0) queueMicrotask(() => void this.flushOffers());
    this.toOffer.push(n);
  }

  finished(n: number): void {
    const id = this.held.get(n);
    if (id === undefined) return;
    this.held.delete(n);
    this.armed.delete(n);
    // not acknowledged (Redis away): the message stays pending, and whoever takes it over finds it finished
    this.commands.understudyFinish!(this.streamKey, this.offeredKey, DISPATCHERS, id, String(n)).then(
      () => this.ok(),
      (err: unknown) => this.failed('a finished delivery could not be acknowledged', err),
    );
  }

  /**
   * Offers again every delivery given that is not offered (the holder of the ticker lease, with the deliveries its
   * book shows unfinished): a replica that died between queueing a delivery and offering it leaves none stranded.
   */
  async reconcile(unfinished: Iterable<number>): Promise<number> {
    let added = 0;
    let chunk: string[] = [];
    for (const n of unfinished) {
      chunk.push(String(n));
      if (chunk.length === BATCH) {
        added += await this.commands.understudyOffer!(this.streamKey, this.offeredKey, DISPATCHERS, ...chunk);
        chunk = [];
      }
    }
    if (chunk.length > 0) added += await this.commands.understudyOffer!(this.streamKey, this.offeredKey, DISPATCHERS, ...chunk);
    return added;
  }

  // --- reading claims --------------------------------------------------------------------------------------

  private async flushOffers(): Promise<void> {
    const ns = this.toOffer.splice(0).map(String);
    try {
      for (let i = 0; i < ns.length; i += BATCH) await this.commands.understudyOffer!(this.streamKey, this.offeredKey, DISPATCHERS, ...ns.slice(i, i + BATCH));
      this.ok();
    } catch (err) {
      this.failed(`${ns.length} delivery(ies) could not be offered to the replicas yet (they are offered again within ${this.claimTimeoutMs} ms)`, err);
    }
  }

  private async readLoop(): Promise<void> {
    const reader = this.reader!;
    // a connection of its own, not ready at once (and commands fail fast until it is)
    if (reader.status !== 'ready') await new Promise((resolve) => reader.once('ready', resolve).once('end', resolve));
    await this.ensureGroup().catch(() => {});
    // first this consumer's own claims from before (a replica restarted under the same --replica-id), then new ones
    let from = '0';
    let failures = 0;
    while (!this.stopped) {
      try {
        const block = from === '0' ? [] : ['BLOCK', BLOCK_MS];
        const answer = (await reader.call('XREADGROUP', 'GROUP', DISPATCHERS, this.consumer, 'COUNT', BATCH, ...block, 'STREAMS', this.streamKey, from)) as Array<[string, Message[]]> | null;
        failures = 0;
        const messages = answer?.[0]?.[1] ?? [];
        await this.adopt(messages);
        // own history is paged by id, and left for new messages once it is all read
        if (from !== '>') from = messages.length === 0 ? '>' : messages[messages.length - 1][0];
      } catch (err) {
        if (this.stopped) return;
        // the stream is gone (the workspace's keys were deleted, or Redis lost its data): the next offer makes it
        // again, and reading resumes then; not made again here, which would bring back the keys of a deleted workspace
        if (!isGone(err)) this.failed('claims could not be read', err);
        failures++;
        await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 25 * 2 ** failures)).unref());
      }
    }
  }

  /** the group, made with its stream when there is none (reading starts before anything was offered) */
  private async ensureGroup(): Promise<void> {
    try {
      await this.commands.xgroup('CREATE', this.streamKey, DISPATCHERS, '0', 'MKSTREAM');
    } catch (err) {
      if (!String(err).includes('BUSYGROUP')) throw err;
    }
  }

  /** messages that became this replica's: armed once the book has caught up with the changes that queued them */
  private async adopt(messages: readonly Message[]): Promise<void> {
    const ns: number[] = [];
    for (const [id, fields] of messages) {
      const n = fields === null ? NaN : Number(fields[fields.indexOf('n') + 1]);
      if (!Number.isSafeInteger(n)) {
        // deleted meanwhile, or not a message of ours: nothing to deliver
        await this.commands.xack(this.streamKey, DISPATCHERS, id).catch(() => {});
        continue;
      }
      this.held.set(n, id);
      ns.push(n);
    }
    if (ns.length === 0) return;
    await this.options.book.caughtUp();
    this.review(ns);
  }

  /** what the book says of claimed deliveries: arm the due ones, finish the finished ones, keep the unknown ones */
  private review(ns: Iterable<number>): void {
    for (const n of ns) {
      if (!this.held.has(n) || this.stopped) continue;
      const status = this.options.book.statusOf(n);
      if (status === 'done') this.finished(n);
      else if (status === 'due' && !this.armed.has(n)) {
        this.armed.add(n);
        this.options.book.claimed(n);
      }
    }
  }

  // --- keeping claims, taking over ---------------------------------------------------------------------------

  private async maintain(): Promise<void> {
    if (this.maintaining || this.stopped) return;
    this.maintaining = true;
    try {
      await this.freshen();
      await this.takeOver();
      // claims whose delivery was not known here yet, or finished without this replica's attempt (unsubscribed, cleared)
      if (this.held.size > 0) {
        await this.options.book.caughtUp();
        this.review([...this.held.keys()]);
      }
      this.ok();
    } catch (err) {
      this.failed('claims could not be kept', err);
    } finally {
      this.maintaining = false;
      this.rounds++;
    }
  }

  private async freshen(): Promise<void> {
    if (this.held.size === 0) return;
    const byId = new Map([...this.held].map(([n, id]) => [id, n]));
    const ids = [...byId.keys()];
    for (let i = 0; i < ids.length; i += BATCH) {
      let lost: string[];
      try {
        lost = await this.commands.understudyFreshen!(this.streamKey, DISPATCHERS, this.consumer, ...ids.slice(i, i + BATCH));
      } catch (err) {
        if (!isGone(err)) throw err;
        // the stream is gone, and every claim with it
        lost = ids;
      }
      for (const id of lost) {
        const n = byId.get(id)!;
        // another replica took it over (this one went too long without keeping it): its attempts are that one's now
        if (this.held.get(n) === id) {
          this.held.delete(n);
          this.armed.delete(n);
        }
      }
    }
  }

  private async takeOver(): Promise<void> {
    let start = '0-0';
    do {
      let answer: [string, Message[], string[]?];
      try {
        answer = (await this.commands.call('XAUTOCLAIM', this.streamKey, DISPATCHERS, this.consumer, this.claimTimeoutMs, start, 'COUNT', BATCH)) as typeof answer;
      } catch (err) {
        if (isGone(err)) return; // no stream, no claims to take over
        throw err;
      }
      const [next, messages] = answer;
      await this.adopt(messages);
      start = next;
    } while (start !== '0-0' && !this.stopped);
  }

  private ok(): void {
    this.failing = false;
  }

  private failed(what: string, err: unknown): void {
    if (this.failing || this.stopped) return;
    this.failing = true;
    this.options.warn(`workspace ${this.options.workspace}: ${what} (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** an error that says the stream (or its group) is not there: deleted under a blocked read, or never made */
function isGone(err: unknown): boolean {
  const text = String(err);
  return text.includes('NOGROUP') || text.includes('UNBLOCKED') || text.includes('no such key');
}
