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
 *
 * Replicas (`--redis`, the book shared): every replica applies every write, so every replica's change feeds show
 * every change, and a bus that queued all it saw would queue each event once per replica. Instead:
 * - the events of one collect() are one entry of the shared log (enqueue-changes), each event with its change
 *   number, and the book keeps per system the latest change number queued (its cursor, moved by applying the
 *   entry, so alike on every replica). A collect starts after the cursor, so a replica that applied another's
 *   write and whose book already holds that write's events proposes nothing; when two replicas propose the same
 *   change at once (the second applied the write before the first one's events reached the log), the book
 *   queues it for the first entry in the log and skips it in the second. Any replica that is asked after a change
 *   may propose its events, so none is lost when the replica that made it dies before proposing them;
 * - time-driven changes (ticks) are looked for by one replica at a time, the holder of the workspace's ticker
 *   lease (replicas/ticker-lease.ts, `mayTick`); the others' states apply what fell due when they are asked.
 */
import type { SystemStates } from '../engine/system-states.js';
import type { MountedSystem } from '../engine/system.js';
import { planDelivery, type CompiledDeliveryRule } from '../deliveries/chaos/delivery-rules.js';
import type { ChangesInput, DeliveryBook, EnqueueInput, Subscription } from '../deliveries/delivery-book.js';
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
  /** replicas: whether this replica looks for time-driven changes now (it holds the ticker lease); absent: always */
  mayTick?(): boolean;
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
    const book = this.options.book;
    const epoch = this.options.states.epoch;
    let from = this.positions.get(system);
    // replicas: from where the book's queued events stop, when another replica's entry took them further (or this
    // replica's bus never started: the subscription was made on another)
    const cursor = book.shared ? book.cursorOf(system.name, epoch) : undefined;
    if (cursor !== undefined) from = Math.max(from ?? -Infinity, cursor);
    if (from === undefined) {
      // subscribed before this system's state existed: it starts now
      this.positions.set(system, events.position(state));
      return;
    }
    // replicas: this collect's events, proposed as one entry; and per subscription, how many it holds so far
    const proposal: ChangesInput | undefined = book.shared ? { system: system.name, epoch, changes: [] } : undefined;
    const proposed = proposal && new Map<string, number>();
    for (;;) {
      const changes = events.since(state, from);
      if (changes.length === 0) break;
      const { rules, seed } = this.options.deliveryChaos();
      const subscriptions = book.subscriptions();
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
        const event = { id, type: change.type, system: system.name, body };
        if (proposal) proposal.changes.push({ seq: change.seq, event, deliveries: this.plans(event, matching, rules, seed, proposed) });
        else this.queue(event, this.plans(event, matching, rules, seed));
      }
      this.positions.set(system, from);
      if (changes.length < BATCH) break;
    }
    if (proposal && proposal.changes.length > 0) this.propose(proposal);
    // a system whose time-driven work had nothing due sleeps; what this exchange did may have given it some (a
    // capture started), so it is asked again (not from inside a tick, which re-arms itself)
    if (events.tick !== undefined && !this.ticking && !this.tickers.has(system)) this.tick(system);
  }

  /**
   * Each matching subscription's delivery plan (the active profile's delivery chaos, drawn by the subscription's
   * ordinal). `earlier`: replicas, per subscription, the events proposed before this one in the same entry, which
   * the book will have counted when it queues this one.
   */
  private plans(
    event: { id: string; type: string; system: string },
    subscriptions: Subscription[],
    rules: readonly CompiledDeliveryRule[],
    seed: number,
    earlier?: Map<string, number>,
  ): EnqueueInput['deliveries'] {
    const book = this.options.book;
    return subscriptions.map((s) => {
      const before = earlier?.get(s.id) ?? 0;
      earlier?.set(s.id, before + 1);
      const plan = rules.length === 0 ? null : planDelivery(rules, { system: event.system, eventType: event.type, subscription: s.id, ordinal: book.ordinalOf(s.id) + before }, seed);
      return { subscription: s.id, plan: plan && isEmpty(plan) ? null : plan };
    });
  }

  private queue(event: EnqueueInput['event'], deliveries: EnqueueInput['deliveries']): void {
    const lost = (err: unknown) => this.options.warn(`an event of ${event.system} (${event.type}) could not be stored, and is not delivered: ${err instanceof Error ? err.message : String(err)}`);
    try {
      this.options.book.write('enqueue', { event, deliveries })?.catch(lost);
    } catch (err) {
      lost(err);
    }
  }

  /** Replicas: the events of one collect, as one entry of the shared log (the book skips what is queued already). */
  private propose(proposal: ChangesInput): void {
    const lost = (err: unknown) =>
      this.options.warn(
        `${proposal.changes.length} event(s) of ${proposal.system} could not be logged (${err instanceof Error ? err.message : String(err)}); they are queued if a replica is asked about ${proposal.system} again`,
      );
    this.options.book.write('enqueue-changes', proposal as unknown as Record<string, unknown>)?.catch(lost);
  }

  /** Replicas: where every system's changes stand here now, which a new subscription hears of from (see DeliveryBook) */
  positionsNow(): Array<{ system: string; epoch: number; seq: number }> {
    const epoch = this.options.states.epoch;
    return this.options.systems.flatMap((system) => (system.events ? [{ system: system.name, epoch, seq: system.events.position(this.options.states.get(system)) }] : []));
  }

  /** Replicas: this replica holds the ticker lease (again): every system with time-driven work ticks here. */
  resumeTicks(): void {
    if (this.stopped || !this.active) return;
    for (const system of this.options.systems) if (system.events?.tick && !this.tickers.has(system)) this.tick(system);
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
    const mayTick = this.options.mayTick ?? (() => true);
    // replicas: not the lease holder; resumeTicks() starts it here once it is
    if (!tick || this.stopped || !this.active || !mayTick()) return;
    const run = (): void => {
      this.tickers.delete(system);
      if (this.stopped || !this.active || !mayTick()) return;
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
