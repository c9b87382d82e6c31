/**
 * One workspace's event bus: turns the changes its systems made into business events and queues them for every
 * subscription whose patterns match, with the delivery plan the active chaos profile's `deliveries:` rules draw.
 *
 * The bus keeps, per system, the position of the last change it has turned into events, and asks the system for
 * what changed after it (SystemEvents.since) once an exchange is handled — writes and reads alike, because a read
 * applies what fell due (simulated stock moves, expiries) — and on a timer while anyone is subscribed (tick), so
 * events flow when nobody calls. The events are queued in the same turn as the write that caused them, so they
 * are committed with it: an acknowledged write never loses its events.
 *
 * With no subscription the bus does nothing at all on the traffic path (one property read).
 */
import type { SystemStates } from '../engine/system-states.js';
import type { MountedSystem } from '../engine/system.js';
import { planDelivery, type CompiledDeliveryRule } from '../deliveries/chaos/delivery-rules.js';
import type { DeliveryBook, Subscription } from '../deliveries/delivery-book.js';
import type { Scheduler, Timer } from '../util/scheduler.js';
import { eventId, matchesEvent } from './event.js';

export interface EventBusOptions {
  workspace: string;
  seed: number;
  systems: readonly MountedSystem[];
  states: SystemStates;
  book: DeliveryBook;
  scheduler: Scheduler;
  /** the active chaos profile's delivery rules, and the seed its draws use */
  deliveryChaos(): { rules: readonly CompiledDeliveryRule[]; seed: number };
  warn(message: string): void;
}

/** most changes turned into events per call of since(); the rest follow in the same collect() */
const BATCH = 10_000;

export class EventBus {
  private readonly positions = new Map<MountedSystem, number>();
  private readonly tickers = new Map<MountedSystem, Timer>();
  private stopped = false;
  /** inside a tick: collect() must not arm another */
  private ticking = false;

  constructor(private readonly options: EventBusOptions) {}

  /** whether anything is subscribed (the pipeline's one check) */
  get active(): boolean {
    return this.options.book.hasSubscriptions;
  }

  /**
   * Subscriptions exist (again), or the states started over: every system's position is taken now, so that a
   * subscriber hears of changes from here on, and the tickers start.
   */
  start(): void {
    if (this.stopped) return;
    this.positions.clear();
    for (const system of this.options.systems) {
      if (!system.events) continue;
      this.positions.set(system, system.events.position(this.options.states.get(system)));
      this.tick(system);
    }
  }

  /** for good (the workspace is gone, the server stops) */
  stop(): void {
    this.stopped = true;
    this.pause();
  }

  /** nobody listens any more: the tickers stop until start() */
  pause(): void {
    for (const t of this.tickers.values()) t.cancel();
    this.tickers.clear();
  }

  /** Queues the events for what `system` changed since the last call (after an exchange, after a tick). */
  collect(system: MountedSystem): void {
    const events = system.events;
    if (!events || !this.active || this.stopped) return;
    const state = this.options.states.get(system);
    let from = this.positions.get(system);
    if (from === undefined) {
      // subscribed before this system's state existed: it starts now
      this.positions.set(system, events.position(state));
      return;
    }
    for (;;) {
      const changes = events.since(state, from);
      if (changes.length === 0) break;
      const { rules, seed } = this.options.deliveryChaos();
      const epoch = this.options.states.epoch;
      const subscriptions = this.options.book.subscriptions();
      for (const change of changes) {
        const id = eventId(this.options.seed, this.options.workspace, system.name, epoch, change.seq);
        const matching = subscriptions.filter((s) => s.events.some((p) => matchesEvent(p, change.type)));
        from = change.seq;
        if (matching.length === 0) continue;
        const body = JSON.stringify(
          events.envelope
            ? events.envelope({ id, type: change.type, created: change.at, system: system.name }, change.data)
            : { id, type: change.type, created: new Date(change.at).toISOString(), system: system.name, data: change.data },
        );
        this.queue(system.name, { id, type: change.type, body }, matching, rules, seed);
      }
      this.positions.set(system, from);
      if (changes.length < BATCH) break;
    }
    // a system whose time-driven work had nothing due sleeps; what this exchange did may have given it some (a
    // capture started), so it is asked again (not from inside a tick, which re-arms itself)
    if (events.tick !== undefined && !this.ticking && !this.tickers.has(system)) this.tick(system);
  }

  private queue(
    system: string,
    event: { id: string; type: string; body: string },
    subscriptions: Subscription[],
    rules: readonly CompiledDeliveryRule[],
    seed: number,
  ): void {
    const book = this.options.book;
    const deliveries = subscriptions.map((s) => {
      const plan = rules.length === 0 ? null : planDelivery(rules, { system, eventType: event.type, subscription: s.id, ordinal: book.ordinalOf(s.id) }, seed);
      return { subscription: s.id, plan: plan && isEmpty(plan) ? null : plan };
    });
    const lost = (err: unknown) => this.options.warn(`an event of ${system} (${event.type}) could not be stored, and is not delivered: ${err instanceof Error ? err.message : String(err)}`);
    try {
      book.write('enqueue', { event: { ...event, system }, deliveries })?.catch(lost);
    } catch (err) {
      lost(err);
    }
  }

  /**
   * Time-driven changes (stock simulation, expiries, settling captures) while anyone listens: the system's tick
   * does what fell due and says when it wants to run again; undefined means nothing is due, and the ticker sleeps
   * until an exchange's collect() asks again.
   */
  private tick(system: MountedSystem): void {
    this.tickers.get(system)?.cancel();
    this.tickers.delete(system);
    const tick = system.events?.tick;
    if (!tick || this.stopped || !this.active) return;
    const run = (): void => {
      this.tickers.delete(system);
      if (this.stopped || !this.active) return;
      let again: number | undefined;
      this.ticking = true;
      try {
        again = tick(this.options.states.get(system));
        this.collect(system);
      } catch (err) {
        this.options.warn(`${system.name}: background changes failed: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        this.ticking = false;
      }
      if (again !== undefined) this.tickers.set(system, this.options.scheduler.after(again, run));
    };
    const first = tick(this.options.states.get(system));
    if (first !== undefined) this.tickers.set(system, this.options.scheduler.after(first, run));
  }
}

function isEmpty(plan: { faults: unknown[] }): boolean {
  return plan.faults.length === 0;
}
