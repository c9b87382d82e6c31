/**
 * Everything of a workspace that sends: its delivery book (subscriptions and deliveries, durable), the dispatcher
 * that makes the attempts, and the event bus that turns its systems' changes into queued deliveries. The
 * workspace, the pipeline and the admin routes talk to this, never to the parts.
 *
 * Replicas (`--redis`: the store's shared log present, and DeliveriesConfig.replicas given): the book's changes go
 * through the shared log (delivery-book.ts), the dispatcher attempts only the deliveries this replica has claimed
 * (replicas/delivery-claims.ts), and the bus looks for time-driven changes only while this replica holds the
 * workspace's ticker lease (replicas/ticker-lease.ts), whose holder also offers again, once a claim timeout,
 * every unfinished delivery (a replica that died between queueing and offering strands none).
 */
import type { SystemStates } from '../engine/system-states.js';
import type { MountedSystem } from '../engine/system.js';
import { EventBus } from '../events/event-bus.js';
import type { WorkspaceStore } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import type { Scheduler } from '../util/scheduler.js';
import type { CompiledDeliveryRule } from './chaos/delivery-rules.js';
import { DeliveryBook, type Delivery, type Subscription } from './delivery-book.js';
import { Dispatcher, type DeliveryDefaults } from './dispatcher.js';
import type { SubscriptionFields } from './subscriptions.js';
import { DEFAULT_RETRY } from './retry-policy.js';
import { createTarget } from './targets/index.js';
import type { DeliveryTarget } from './targets/target.js';
import { realScheduler } from '../util/scheduler.js';
import { DeliveryClaims } from '../replicas/delivery-claims.js';
import type { RedisLink } from '../replicas/redis-link.js';
import { TickerLease } from '../replicas/ticker-lease.js';

/** What every workspace's deliveries are built with (server-wide). */
export interface DeliveriesConfig {
  defaults: DeliveryDefaults;
  scheduler: Scheduler;
  /** the config file's subscriptions of this workspace */
  configSubscriptions(workspace: string): Subscription[];
  targetFor(subscription: Subscription): DeliveryTarget;
  /** most finished deliveries kept per workspace */
  maxFinished: number;
  warn(message: string): void;
  /**
   * replicas (`--redis`): the link to the Redis they share, and how long a claim may go without its holder keeping
   * it fresh before another replica takes its deliveries over (default 30 s; also the ticker lease's time to live)
   */
  replicas?: { link: RedisLink; claimTimeoutMs?: number };
}

/** PRODUCT.md §1's defaults: 10 s timeout, 10 in flight per subscriber, Salesforce-like retries */
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_CONCURRENCY = 10;

export function defaultDeliveriesConfig(): DeliveriesConfig {
  return {
    defaults: { timeoutMs: DEFAULT_TIMEOUT_MS, concurrency: DEFAULT_CONCURRENCY, retry: DEFAULT_RETRY },
    scheduler: realScheduler,
    configSubscriptions: () => [],
    targetFor: (subscription) => createTarget(subscription, DEFAULT_CONCURRENCY),
    maxFinished: 100_000,
    warn: (message) => console.warn(`understudy: warning: ${message}`),
  };
}

export type DeliveryReset = 'all' | 'state' | 'deliveries';

export class WorkspaceDeliveries {
  readonly book: DeliveryBook;
  readonly dispatcher: Dispatcher;
  private readonly bus: EventBus;
  /** replicas: which deliveries this replica attempts, and whether it ticks */
  private readonly claims: DeliveryClaims | undefined;
  private readonly lease: TickerLease | undefined;
  /** performance.now() of the holder's latest reconcile */
  private reconciledAt = -Infinity;

  constructor(
    private readonly workspace: string,
    private readonly clock: Clock,
    seed: number,
    store: WorkspaceStore,
    systems: readonly MountedSystem[],
    states: SystemStates,
    config: DeliveriesConfig,
    deliveryChaos: () => { rules: readonly CompiledDeliveryRule[]; seed: number },
  ) {
    this.book = new DeliveryBook(store, clock, seed, config.configSubscriptions(workspace), config.maxFinished);
    const shared = store.shared;
    if (shared !== undefined) {
      if (config.replicas === undefined) throw new Error(`workspace ${workspace}: a shared log without DeliveriesConfig.replicas would have every replica make every attempt`);
      const { link, claimTimeoutMs } = config.replicas;
      this.claims = new DeliveryClaims({
        link,
        workspace,
        claimTimeoutMs,
        warn: config.warn,
        book: {
          caughtUp: () => shared.caughtUp(),
          statusOf: (n) => {
            const d = this.book.numbered(n);
            if (d !== undefined) return d.nextAt !== null || d.held ? 'due' : 'done';
            return this.book.reached(n) ? 'done' : 'unknown';
          },
          claimed: (n) => this.dispatcher.claimed(n),
        },
      });
      this.lease = new TickerLease(link, workspace, { ttlMs: this.claims.claimTimeoutMs, onHeld: () => this.holdingLease() });
    }
    this.dispatcher = new Dispatcher(this.book, { clock, scheduler: config.scheduler, seed, defaults: config.defaults, targetFor: config.targetFor, warn: config.warn, claims: this.claims });
    const lease = this.lease;
    this.bus = new EventBus({
      workspace,
      seed,
      systems,
      states,
      book: this.book,
      scheduler: config.scheduler,
      deliveryChaos,
      warn: config.warn,
      mayTick: lease ? () => lease.held : undefined,
    });
  }

  /** Replicas: this replica holds the ticker lease: it ticks, and now and then offers every unfinished delivery again. */
  private holdingLease(): void {
    this.bus.resumeTicks();
    const claims = this.claims!;
    if (performance.now() - this.reconciledAt < claims.claimTimeoutMs) return;
    this.reconciledAt = performance.now();
    const unfinished = [...this.book.unfinished()].map((d) => d.n);
    claims.reconcile(unfinished).catch(() => {
      // Redis away: tried again at the next renewal after a timeout
    });
  }

  /** whether anyone is subscribed (the traffic path's one check) */
  get active(): boolean {
    return this.book.hasSubscriptions;
  }

  /** Rebuilds the book from the store (a stored workspace, at start-up); returns the changes replayed. */
  recover(): number {
    try {
      return this.book.recover();
    } catch (err) {
      throw new Error(
        `workspace ${this.workspace}: the stored subscriptions and deliveries cannot be rebuilt (${err instanceof Error ? err.message : String(err)}); run the version of understudy that wrote them, or start over with --reset-state`,
      );
    }
  }

  /** Starts sending: what the book has due, and events from now on. */
  start(): void {
    this.dispatcher.resume();
    this.claims?.start();
    this.lease?.start();
    if (this.active) this.bus.start();
  }

  /** Stops sending; replicas: claims and the ticker lease are given back to the others (the promise: once they are). */
  stop(): Promise<void> {
    this.bus.stop();
    this.dispatcher.stop();
    return Promise.all([this.claims?.stop(), this.lease?.stop()]).then(() => undefined);
  }

  /** after an exchange of `system`: queue the events of what it changed */
  collect(system: MountedSystem): void {
    if (this.book.hasSubscriptions) this.bus.collect(system);
  }

  /** after an admin command changed `system` (a simulation rate, say): its events, and its ticks re-armed */
  afterCommand(system: MountedSystem): void {
    if (!this.book.hasSubscriptions) return;
    this.bus.collect(system);
    this.bus.start();
  }

  /** the states started over: events count from their new start */
  statesReset(): void {
    if (this.active) this.bus.start();
  }

  /**
   * Adds an admin-made subscription. `committed` resolves with the subscription as stored once it is (replicas: its
   * id may be another than the one chosen, when another replica's subscription took that one first).
   */
  subscribe(fields: SubscriptionFields): { subscription: Subscription; committed: Promise<Subscription> | undefined } {
    const first = !this.active;
    const subscription: Subscription = { ...fields, id: this.book.newSubscriptionId(), source: 'api', createdAt: this.clock.now() };
    if (this.book.shared) {
      const stored = this.book.append('subscribe', { subscription, from: this.bus.positionsNow() }) as Promise<Subscription>;
      return { subscription, committed: stored.then((s) => (first && this.bus.start(), s)) };
    }
    const committed = this.book.write('subscribe', { subscription })?.then(() => subscription);
    if (first) this.bus.start();
    return { subscription, committed };
  }

  unsubscribe(id: string): Promise<void> | undefined {
    return this.book.write('unsubscribe', { id });
  }

  rotateSecret(id: string, secret: string, graceMs: number): Promise<void> | undefined {
    return this.book.write('rotate', { id, secret, until: this.clock.now() + graceMs });
  }

  redeliver(delivery: Delivery): Promise<void> | undefined {
    return this.book.write('redeliver', { delivery: delivery.n });
  }

  /** Forgets deliveries (and pending retries); `all` also admin-made subscriptions (config ones stay). */
  reset(scope: DeliveryReset): Promise<void> | undefined {
    // replicas: what is kept is read where the clear is applied (a subscription made meanwhile elsewhere stays)
    const input = this.book.shared ? { keepSubscriptions: scope !== 'all' } : this.book.clearInput(scope !== 'all');
    const committed = this.book.write('clear', input);
    this.dispatcher.cleared();
    if (!this.active) this.bus.pause();
    return committed;
  }
}
