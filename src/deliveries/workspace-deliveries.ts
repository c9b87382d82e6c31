/**
 * Everything of a workspace that sends: its delivery book (subscriptions and deliveries, durable), the dispatcher
 * that makes the attempts, and the event bus that turns its systems' changes into queued deliveries. The
 * workspace, the pipeline and the admin routes talk to this, never to the parts.
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
    this.dispatcher = new Dispatcher(this.book, { clock, scheduler: config.scheduler, seed, defaults: config.defaults, targetFor: config.targetFor, warn: config.warn });
    this.bus = new EventBus({ workspace, seed, systems, states, book: this.book, scheduler: config.scheduler, deliveryChaos, warn: config.warn });
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
    if (this.active) this.bus.start();
  }

  stop(): void {
    this.bus.stop();
    this.dispatcher.stop();
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

  subscribe(fields: SubscriptionFields): { subscription: Subscription; committed: Promise<void> | undefined } {
    const first = !this.active;
    const subscription: Subscription = { ...fields, id: this.book.newSubscriptionId(), source: 'api', createdAt: this.clock.now() };
    const committed = this.book.write('subscribe', { subscription });
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
    const committed = this.book.write('clear', this.book.clearInput(scope !== 'all'));
    this.dispatcher.cleared();
    if (!this.active) this.bus.pause();
    return committed;
  }
}
