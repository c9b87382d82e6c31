/**
 * One replica's link to the Redis that replicas share (`--redis redis://…`, PRODUCT.md §2): the connections, the
 * replica's id, the key names, whether Redis is reachable now, and the clock every replica agrees on.
 *
 * Connections are ioredis's. They fail fast while Redis is unreachable (no offline queue, one try per command)
 * rather than queue: a write that cannot be logged must be answered 503 now, not hang until Redis returns. They
 * reconnect on their own, backing off to a second between tries.
 *
 * The shared clock: a replica's own clock plus the offset to Redis's, measured with TIME when the link opens and
 * every half minute. Writes are stamped by Redis (a stream entry's id is Redis's time), so reads that apply what
 * fell due by now (reservation expiries) must read time on Redis's clock too, or a replica whose clock runs ahead
 * would apply an expiry before a write that the log places earlier.
 */
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { Clock } from '../util/clock.js';

export interface RedisLinkOptions {
  /** redis://[user:password@]host[:port][/db] or rediss:// for TLS */
  url: string;
  /** every key starts with it (default `understudy`): several deployments, or test runs, can share one Redis */
  prefix?: string;
  /** how this replica is known in health and in claims (default `{hostname}-{pid}`) */
  replicaId?: string;
  /** how long start-up waits for Redis before giving up (default 10 s) */
  connectTimeoutMs?: number;
}

export class RedisUnreachableError extends Error {}

/** how often the offset to Redis's clock is measured again */
const CLOCK_CHECK_MS = 30_000;

export class RedisLink {
  readonly replicaId: string;
  readonly prefix: string;
  /** for ordinary commands; fails fast while Redis is down */
  readonly commands: Redis;
  /** every replica's clock, on Redis's time */
  readonly clock: Clock;
  private offsetMs = 0;
  private readonly blockingConnections: Redis[] = [];
  private clockTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    readonly url: string,
    options: RedisLinkOptions,
  ) {
    this.prefix = options.prefix ?? 'understudy';
    this.replicaId = options.replicaId ?? `${hostname()}-${process.pid}`;
    this.commands = new Redis(url, connectionOptions(options));
    // an unreachable Redis is reported through up/health and 503s, not as an unhandled 'error' event
    this.commands.on('error', () => {});
    this.clock = { now: () => Date.now() + this.offsetMs };
  }

  /** Opens the link; rejects with RedisUnreachableError when Redis does not answer within the timeout. */
  static async open(options: RedisLinkOptions): Promise<RedisLink> {
    const link = new RedisLink(options.url, options);
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        const ready = () => {
          clearTimeout(timer);
          resolve();
        };
        if (link.commands.status === 'ready') ready();
        else link.commands.once('ready', ready);
      });
      await link.measureClock();
    } catch (err) {
      link.commands.disconnect();
      throw new RedisUnreachableError(`cannot reach Redis at ${redacted(options.url)}: ${err instanceof Error ? err.message : String(err)}`);
    }
    link.clockTimer = setInterval(() => link.measureClock().catch(() => {}), CLOCK_CHECK_MS);
    link.clockTimer.unref();
    return link;
  }

  /** whether Redis answers right now (as far as the connection knows) */
  get up(): boolean {
    return this.commands.status === 'ready';
  }

  /** the URL without its password, for messages and health */
  get where(): string {
    return redacted(this.url);
  }

  /**
   * A key of a workspace's: `{prefix}:{ws:NAME}:PART`. The braces are a Redis Cluster hash tag, so that every key
   * of one workspace lands on one node and a script may touch several of them.
   */
  key(workspace: string, ...parts: string[]): string {
    return `${this.prefix}:{ws:${workspace}}:${parts.join(':')}`;
  }

  /** a key that belongs to no workspace (the set of workspaces, replicas' presence) */
  globalKey(...parts: string[]): string {
    return `${this.prefix}:${parts.join(':')}`;
  }

  /**
   * A connection of its own for commands that block (XREAD BLOCK, XREADGROUP BLOCK): a blocked connection cannot
   * carry anything else. Closed with the link.
   */
  blocking(): Redis {
    const connection = this.commands.duplicate();
    connection.on('error', () => {});
    this.blockingConnections.push(connection);
    return connection;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.clockTimer) clearInterval(this.clockTimer);
    for (const c of this.blockingConnections) c.disconnect();
    await this.commands.quit().catch(() => this.commands.disconnect());
  }

  private async measureClock(): Promise<void> {
    const before = Date.now();
    const [seconds, micros] = (await this.commands.time()) as [string | number, string | number];
    const after = Date.now();
    const redisMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    this.offsetMs = redisMs - Math.round((before + after) / 2);
  }
}

function connectionOptions(options: RedisLinkOptions) {
  return {
    // fail now rather than queue while Redis is unreachable: a write must be refused, not held
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: Math.min(options.connectTimeoutMs ?? 10_000, 5_000),
    retryStrategy: (times: number) => Math.min(50 * times, 1000),
    connectionName: `understudy:${options.replicaId ?? `${hostname()}-${process.pid}`}`,
  };
}

function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an invalid URL)';
  }
}
