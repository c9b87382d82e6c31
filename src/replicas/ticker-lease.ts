/**
 * Which replica looks for a workspace's time-driven changes (`--redis`): a lease in Redis
 * (`{prefix}:{ws:NAME}:ticker`), held by one replica at a time and renewed while it lives.
 *
 * Why: every replica applies every write, so every replica's states could run the systems' ticks (stock
 * simulation, reservation expiries) and propose the events they produce. The book would queue each event once
 * anyway (its cursor: see events/event-bus.ts), but N replicas would append N proposals a tick. With the lease,
 * one replica ticks; when it dies, the lease runs out after `ttlMs` and another one takes it at its next renewal.
 *
 * The lease is a key set with NX and a time to live, renewed every third of it by a script that extends it only
 * for its holder, so two replicas never both believe they hold it for longer than a renewal's round trip. The
 * holder counts the lease as its own until a third of the time to live before the key expires, judged on its
 * own monotonic clock from when it last renewed.
 */
import type { Redis } from 'ioredis';
import type { RedisLink } from './redis-link.js';

/** take the lease when nobody holds it, or extend it when this replica does; 1 when it is this replica's */
const TAKE_OR_RENEW = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

/** give the lease up, if it is still this replica's */
const GIVE_UP = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

type LeaseCommands = Redis & {
  understudyLeaseTake?(key: string, holder: string, ttlMs: number): Promise<number>;
  understudyLeaseGiveUp?(key: string, holder: string): Promise<number>;
};

export interface TickerLeaseOptions {
  /** how long the lease outlives its holder's last renewal (default 30 s) */
  ttlMs?: number;
  /** the name the lease is held under (default the link's replica id) */
  holder?: string;
  /** told after every renewal that found the lease this replica's */
  onHeld?(): void;
}

export class TickerLease {
  readonly key: string;
  readonly ttlMs: number;
  private readonly holder: string;
  /** performance.now() until which the lease counts as this replica's */
  private heldUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;
  private stopped = false;

  constructor(
    private readonly link: RedisLink,
    workspace: string,
    private readonly options: TickerLeaseOptions = {},
  ) {
    this.key = link.key(workspace, 'ticker');
    this.ttlMs = options.ttlMs ?? 30_000;
    this.holder = options.holder ?? link.replicaId;
    const commands = link.commands as LeaseCommands;
    if (!commands.understudyLeaseTake) {
      commands.defineCommand('understudyLeaseTake', { numberOfKeys: 1, lua: TAKE_OR_RENEW });
      commands.defineCommand('understudyLeaseGiveUp', { numberOfKeys: 1, lua: GIVE_UP });
    }
  }

  /** whether this replica holds the lease now */
  get held(): boolean {
    return !this.stopped && performance.now() < this.heldUntil;
  }

  /** Tries for the lease now and every third of its time to live. */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.renew();
    this.timer = setInterval(() => this.renew(), Math.max(1, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  /** Stops renewing and gives the lease up, so another replica takes it at its next try. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    const wasHeld = performance.now() < this.heldUntil;
    this.heldUntil = 0;
    if (wasHeld) await (this.link.commands as LeaseCommands).understudyLeaseGiveUp!(this.key, this.holder).catch(() => {});
  }

  private renew(): void {
    if (this.renewing || this.stopped) return;
    this.renewing = true;
    const asked = performance.now();
    (this.link.commands as LeaseCommands)
      .understudyLeaseTake!(this.key, this.holder, this.ttlMs)
      .then(
        (mine) => {
          if (this.stopped) return;
          // counted from when it was asked (the key's time to live started no earlier), less a margin
          this.heldUntil = mine === 1 ? asked + (this.ttlMs * 2) / 3 : 0;
          if (mine === 1) this.options.onHeld?.();
        },
        () => {
          // Redis unreachable: the lease runs out here as it does on Redis
        },
      )
      .finally(() => {
        this.renewing = false;
      });
  }
}
