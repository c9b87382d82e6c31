/**
 * The chaos stage's counts kept in Redis, for a workspace that several replicas serve (`--redis`, issue #15): the
 * ordinal of each (rule, client), and each admission limit's count, so that `rateLimit: { requests: 100, per: 1m }`
 * admits 100 across all replicas and a client meets the same fault sequence whichever replica it reaches. The
 * ChaosEngine decides (chaos-stage.ts); this only counts (the SharedChaosCounters seam, chaos/shared-counters.ts).
 *
 * One round trip per exchange: the ordinals (INCR) and token buckets go in one pipeline, and each fixed window's
 * consume goes with it, written in the same tick, so the exchange waits for one network round trip whatever it
 * asked for. Keys (all under the workspace's hash tag, see RedisLink.key), ACT being the activation (the profile's
 * digest and the clock time the timeline started: a restart or another profile counts afresh):
 *   chaos:ACT:ordinal:RULE:CLIENT            INCR; expires a day after the client's last request the rule matched
 *   chaos:ACT:window:RULE:I:WINDOW:KEY       rate-limiter-flexible's fixed-window counter; expires after the window
 *   chaos:ACT:bucket:RULE:I:KEY              a hash {t: tokens, at: last refill}; expires once it would be full again
 *   chaos:ACT:counters                       a hash of the rules' counters (RULE|matched, RULE|injected|KIND,
 *                                            RULE|skipped) for GET /__admin/chaos; expires a day after the last
 * (RULE, CLIENT and KEY percent-encoded, so that no two of them run together.)
 *
 * Fixed windows are rate-limiter-flexible's (RateLimiterRedis): its counter with its TTL, under a key of ours that
 * carries the window's number, so that windows count from the activation (Math.floor((now - epoch) / per)) as
 * on a single replica, and the library's TTL only clears windows that are over. rate-limiter-flexible has no token
 * bucket (its BurstyRateLimiter is two fixed windows, its RateLimiterQueue holds requests in this process), so
 * buckets are a short Lua script of our own: the refill and the take must happen together in Redis, and the
 * arithmetic is the Limiter's own, in the same order on the same doubles, so a bucket says what it would say on one
 * replica.
 */
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import type { RedisLink } from './redis-link.js';
import type {
  RuleTotals,
  SharedChaosCounters,
  SharedCountRequest,
  SharedCounts,
  SharedLimitCount,
  SharedLimitRequest,
} from '../chaos/shared-counters.js';

/** an ordinal is kept this long after the client's last request the rule matched */
export const ORDINAL_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The longest an exchange waits for its counts (unless the constructor is given another): past it the engine counts
 * on this replica. Commands fail at once while the connection is down (RedisLink); this bounds a Redis that is
 * connected but does not answer. Counts that reach Redis after the bound are counted there too.
 */
export const COUNT_TIMEOUT_MS = 2_000;

/** doubles written and read back exactly (%.17g), so the bucket's arithmetic is the same as the Limiter's */
const BUCKET_TAKE = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
-- a replica whose clock lags the last one's refills nothing (rather than taking tokens away)
if now > at then
  tokens = math.min(capacity, tokens + (now - at) * rate)
  at = now
end
local admitted = 0
if tokens >= 1 then
  tokens = tokens - 1
  admitted = 1
end
local written = string.format('%.17g', tokens)
redis.call('HSET', KEYS[1], 't', written, 'at', string.format('%.17g', at))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {admitted, written}
`;

/** gives a token back (never past the capacity); a bucket that expired meanwhile is full anyway */
const BUCKET_REFUND = `
local tokens = tonumber(redis.call('HGET', KEYS[1], 't'))
if tokens ~= nil then
  redis.call('HSET', KEYS[1], 't', string.format('%.17g', math.min(tonumber(ARGV[1]), tokens + 1)))
end
return 0
`;

/** the connection, with our scripts defined on it (ioredis sends EVALSHA, and EVAL where the script is not loaded) */
type ScriptedRedis = Redis & {
  understudyBucketTake(key: string, capacity: string, rate: string, now: string, ttlMs: string): Promise<[number, string]>;
  understudyBucketRefund(key: string, capacity: string): Promise<number>;
};

/** and its pipelines */
interface ScriptedPipeline {
  understudyBucketTake(key: string, capacity: string, rate: string, now: string, ttlMs: string): ScriptedPipeline;
}

const enc = encodeURIComponent;

export class RedisChaosCounters implements SharedChaosCounters {
  private readonly redis: ScriptedRedis;
  /** one RateLimiterRedis per (allowance, duration): the key names everything else */
  private readonly windowLimiters = new Map<string, RateLimiterRedis>();
  /** counters' increments not yet sent: counters key → field → how much */
  private readonly pendingTallies = new Map<string, Map<string, number>>();
  private flushScheduled = false;

  constructor(
    private readonly link: RedisLink,
    private readonly workspace: string,
    private readonly options: { timeoutMs?: number } = {},
  ) {
    const redis = link.commands as ScriptedRedis;
    // defining a command again with the same script is harmless (one RedisChaosCounters per workspace, one link)
    redis.defineCommand('understudyBucketTake', { numberOfKeys: 1, lua: BUCKET_TAKE });
    redis.defineCommand('understudyBucketRefund', { numberOfKeys: 1, lua: BUCKET_REFUND });
    this.redis = redis;
  }

  count(request: SharedCountRequest): Promise<SharedCounts> {
    // everything is written before anything is awaited: one round trip
    const pipeline = this.redis.pipeline();
    for (const { rule, client } of request.ordinals) {
      const key = this.link.key(this.workspace, 'chaos', request.activation, 'ordinal', enc(rule), enc(client));
      pipeline.incr(key).pexpire(key, ORDINAL_TTL_MS);
    }
    // the rules it matched, for GET /__admin/chaos (answers not read: they come after the buckets')
    const counters = this.countersKey(request.activation);
    for (const { rule } of request.ordinals) pipeline.hincrby(counters, `${enc(rule)}|matched`, 1);
    pipeline.pexpire(counters, ORDINAL_TTL_MS);
    const buckets: number[] = [];
    const windows: Array<Promise<number>> = [];
    request.limits.forEach((limit, i) => {
      if (limit.params.algorithm === 'bucket') {
        buckets.push(i);
        (pipeline as unknown as ScriptedPipeline).understudyBucketTake(this.bucketKey(request.activation, limit), ...bucketArgs(limit));
      } else {
        windows.push(this.consumeWindow(request.activation, limit));
      }
    });
    const answered = Promise.all([pipeline.exec(), Promise.all(windows)]).then(([results, windowCounts]) => {
      const values = (results ?? []).map(([err, value]) => {
        if (err) throw err;
        return value;
      });
      const ordinals = request.ordinals.map((_, i) => Number(values[2 * i]) - 1);
      const bucketsFrom = 3 * request.ordinals.length + 1; // after the INCR/PEXPIRE pairs, the HINCRBYs and their PEXPIRE
      const bucketValues = values.slice(bucketsFrom, bucketsFrom + buckets.length) as Array<[number, string]>;
      let nextWindow = 0;
      let nextBucket = 0;
      const limits = request.limits.map((limit): SharedLimitCount => {
        if (limit.params.algorithm === 'window') return { algorithm: 'window', count: windowCounts[nextWindow++] };
        const [admitted, tokens] = bucketValues[nextBucket++];
        return { algorithm: 'bucket', admitted: Number(admitted) === 1, tokens: Number(tokens) };
      });
      if (ordinals.some((o) => !Number.isInteger(o) || o < 0)) throw new Error(`Redis answered ordinals that are not counts: ${ordinals.join(', ')}`);
      return { ordinals, limits };
    });
    return withTimeout(answered, this.options.timeoutMs ?? COUNT_TIMEOUT_MS);
  }

  tally(activation: string, rule: string, counter: 'injected' | 'skipped', kind?: string): void {
    const field = counter === 'injected' ? `${enc(rule)}|injected|${enc(kind ?? '')}` : `${enc(rule)}|skipped`;
    const key = this.countersKey(activation);
    let fields = this.pendingTallies.get(key);
    if (!fields) this.pendingTallies.set(key, (fields = new Map()));
    fields.set(field, (fields.get(field) ?? 0) + 1);
    // what one exchange (and any other in this tick) injected goes in one pipeline, after it is answered
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushTallies());
    }
  }

  async totals(activation: string): Promise<Map<string, RuleTotals>> {
    const fields = await withTimeout(this.redis.hgetall(this.countersKey(activation)), this.options.timeoutMs ?? COUNT_TIMEOUT_MS);
    const totals = new Map<string, RuleTotals>();
    for (const [field, value] of Object.entries(fields)) {
      const [rule, counter, kind] = field.split('|').map(decodeURIComponent);
      let t = totals.get(rule);
      if (!t) totals.set(rule, (t = { matched: 0, injected: {}, skipped: 0 }));
      if (counter === 'matched') t.matched = Number(value);
      else if (counter === 'skipped') t.skipped = Number(value);
      else if (counter === 'injected' && kind) t.injected[kind] = Number(value);
    }
    return totals;
  }

  private flushTallies(): void {
    this.flushScheduled = false;
    const pipeline = this.redis.pipeline();
    for (const [key, fields] of this.pendingTallies) {
      for (const [field, n] of fields) pipeline.hincrby(key, field, n);
      pipeline.pexpire(key, ORDINAL_TTL_MS);
    }
    this.pendingTallies.clear();
    // Redis unreachable: those injections are missing from the sum (each replica's own counters still have them)
    pipeline.exec().catch(() => {});
  }

  async refund(activation: string, limits: readonly SharedLimitRequest[]): Promise<void> {
    await Promise.all(
      limits.map((limit) =>
        limit.params.algorithm === 'bucket'
          ? this.redis.understudyBucketRefund(this.bucketKey(activation, limit), String(limit.params.requests))
          : this.windowLimiter(limit).reward(this.windowKey(activation, limit), 1),
      ),
    );
  }

  /** the window's count after this request (refused requests are counted too: the library counts every consume) */
  private consumeWindow(activation: string, limit: SharedLimitRequest): Promise<number> {
    return this.windowLimiter(limit)
      .consume(this.windowKey(activation, limit), 1)
      .then(
        (res) => res.consumedPoints,
        (err: unknown) => {
          // the library rejects with its result when the allowance is spent, and with an Error when Redis fails
          if (err instanceof RateLimiterRes) return err.consumedPoints;
          throw err;
        },
      );
  }

  private windowLimiter(limit: SharedLimitRequest): RateLimiterRedis {
    // the key lives a second past the window, whenever in the window it was first counted (the clocks replicas
    // share agree to within milliseconds, not exactly): it outlives the window, which is all the TTL is for
    const durationS = Math.ceil(limit.params.perMs / 1000) + 1;
    const name = `${limit.params.requests}/${durationS}`;
    let limiter = this.windowLimiters.get(name);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: this.link.commands,
        points: limit.params.requests,
        duration: durationS,
        keyPrefix: '', // the key is entirely ours (windowKey)
        rejectIfRedisNotReady: true, // fail at once, and let the engine count on this replica
      });
      this.windowLimiters.set(name, limiter);
    }
    return limiter;
  }

  private countersKey(activation: string): string {
    return this.link.key(this.workspace, 'chaos', activation, 'counters');
  }

  private windowKey(activation: string, limit: SharedLimitRequest): string {
    return this.link.key(this.workspace, 'chaos', activation, 'window', enc(limit.rule), String(limit.index), String(limit.window), enc(limit.key));
  }

  private bucketKey(activation: string, limit: SharedLimitRequest): string {
    return this.link.key(this.workspace, 'chaos', activation, 'bucket', enc(limit.rule), String(limit.index), enc(limit.key));
  }
}

/** capacity, tokens per ms, now, and the expiry: an untouched bucket is full again after `per`, as a missing one is */
function bucketArgs(limit: SharedLimitRequest): [string, string, string, string] {
  const { requests, perMs } = limit.params;
  return [String(requests), String(requests / perMs), String(limit.now), String(Math.ceil(perMs) + 1_000)];
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
