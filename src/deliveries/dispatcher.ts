/**
 * Makes the attempts the delivery book says are due, and decides what follows each one (PRODUCT.md §6,
 * "Deliveries"): a 2xx within the timeout delivers; anything else is retried after the retry policy's wait
 * (exponential backoff with equal jitter, seeded from the delivery and the attempt number, so the same traffic
 * gives the same schedule), until `maxAttempts` or `maxAge`, then the delivery is dead. The decision is logged
 * in the book with the outcome, so a restart resumes on the same schedule.
 *
 * Deliveries never block the request path that caused them: the book is written synchronously, attempts start on
 * a timer. A subscriber that hangs, resets or answers slowly holds at most `concurrency` attempts (per
 * subscription) and each for at most its timeout; what is due meanwhile waits its turn in memory, in due order.
 *
 * Delivery chaos acts here, as the plan decided when the event was queued: the first attempt lost (`drop`, recorded
 * on that attempt), a forged signature on the first attempt that reaches the receiver, extra copies after a
 * success (`duplicate`), each recorded on its attempt.
 *
 * Replicas (`claims` given): the book is shared, and told of every change on every replica, but a replica
 * attempts only the deliveries it has claimed (replicas/delivery-claims.ts): what becomes due is armed here only
 * when the claim is this replica's, and a claim is given back once its delivery is finished. A reorder window's
 * release is appended by whichever replica's timer fires first while the window is still open (the book lets go
 * only the window the release was armed for). A subscriber's `concurrency` holds per replica.
 */
import type { Clock } from '../util/clock.js';
import { MinHeap } from '../util/min-heap.js';
import type { Scheduler, Timer } from '../util/scheduler.js';
import { seededRandom } from '../util/seeded-random.js';
import { signingSecrets, type Attempt, type AttemptResult, type BookListener, type Delivery, type DeliveryBook, type Subscription } from './delivery-book.js';
import { nextAttemptAt, type RetryPolicy } from './retry-policy.js';
import type { SignatureFault } from './signature.js';
import type { DeliveryTarget, SendOutcome, SendRequest } from './targets/target.js';

/** What the dispatcher asks of the replicas' claims (replicas/delivery-claims.ts DeliveryClaims). */
export interface ClaimGate {
  /** whether this replica holds the claim on delivery `n` (it alone attempts it) */
  holds(n: number): boolean;
  /** this replica's own change queued delivery `n`, or sent it back for another attempt: offer it to the replicas */
  offer(n: number): void;
  /** delivery `n` is finished (delivered, dead, gone): the claim is given back */
  finished(n: number): void;
}

export interface DeliveryDefaults {
  /** an attempt without a complete answer after this long has failed ("timeout") */
  timeoutMs: number;
  /** most attempts in flight to one subscription */
  concurrency: number;
  retry: RetryPolicy;
}

export interface DispatcherOptions {
  clock: Clock;
  scheduler: Scheduler;
  seed: number;
  defaults: DeliveryDefaults;
  /** the subscription's target (its own sockets, its own token) */
  targetFor(subscription: Subscription): DeliveryTarget;
  warn(message: string): void;
  /** replicas: the claims that say which deliveries this replica attempts; absent: it attempts every one */
  claims?: ClaimGate;
}

const DROPPED = 'dropped: the attempt never reached the receiver (delivery chaos)';

export class Dispatcher implements BookListener {
  private readonly queue = new MinHeap<Delivery>();
  private timer: Timer | undefined;
  private timerAt = Infinity;
  /** attempts in flight per subscription */
  private readonly inFlight = new Map<string, number>();
  /** due deliveries waiting for one of their subscription's slots, oldest first */
  private readonly waiting = new Map<string, WaitingLine>();
  private readonly parked = new Set<number>();
  private readonly attempting = new Set<number>();
  private readonly targets = new Map<string, DeliveryTarget>();
  private readonly windowTimers = new Map<string, Timer>();
  private stopped = false;
  private warned = false;

  constructor(
    private readonly book: DeliveryBook,
    private readonly options: DispatcherOptions,
  ) {
    book.listener = this;
  }

  /** After a restart: arms what the rebuilt book has due, and its open reorder windows. */
  resume(): void {
    for (const d of this.book.due()) this.due(d);
    for (const [subscription, deadline, openedAt] of this.book.openWindows()) this.windowOpened(subscription, deadline, openedAt);
  }

  /** Replicas: the claim on delivery `n` became this replica's: what it has due is armed. */
  claimed(n: number): void {
    const d = this.book.numbered(n);
    if (d !== undefined) this.due(d);
  }

  /** Stops making attempts (workspace deleted, server closing): timers cancelled, sockets closed. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    for (const t of this.windowTimers.values()) t.cancel();
    this.windowTimers.clear();
    for (const target of this.targets.values()) target.close();
    this.targets.clear();
    this.queue.clear();
    this.waiting.clear();
    this.parked.clear();
  }

  /** Forgets what was queued (the book was cleared): attempts in flight finish unrecorded. */
  cleared(): void {
    this.queue.clear();
    this.waiting.clear();
    this.parked.clear();
    for (const t of this.windowTimers.values()) t.cancel();
    this.windowTimers.clear();
  }

  /** whether an attempt of this delivery is under way */
  inFlightFor(delivery: Delivery): boolean {
    return this.attempting.has(delivery.n);
  }

  // --- BookListener ----------------------------------------------------------------------------------------

  due(delivery: Delivery): void {
    if (this.stopped || delivery.nextAt === null) return;
    // replicas: another replica's to attempt
    if (this.options.claims && !this.options.claims.holds(delivery.n)) return;
    this.queue.push(delivery.nextAt, delivery);
    this.arm();
  }

  started(delivery: Delivery): void {
    this.options.claims?.offer(delivery.n);
  }

  windowOpened(subscription: string, deadline: number, openedAt: number): void {
    if (this.stopped) return;
    this.windowTimers.get(subscription)?.cancel();
    const timer = this.options.scheduler.after(Math.max(0, deadline - this.options.clock.now()), () => {
      this.windowTimers.delete(subscription);
      // replicas: let go already, by another replica's release
      if (this.stopped || this.book.windowOpenedAt(subscription) !== openedAt) return;
      this.log(() => this.book.write('release', { subscription, openedAt }));
    });
    this.windowTimers.set(subscription, timer);
  }

  rebuilt(): void {
    this.cleared();
    this.resume();
  }

  unsubscribed(id: string): void {
    this.targets.get(id)?.close();
    this.targets.delete(id);
    const line = this.waiting.get(id);
    for (let d = line?.shift(); d !== undefined; d = line!.shift()) this.parked.delete(d.n);
    this.waiting.delete(id);
    this.windowTimers.get(id)?.cancel();
    this.windowTimers.delete(id);
  }

  // --- scheduling ------------------------------------------------------------------------------------------

  private arm(): void {
    const next = this.queue.peekKey();
    if (next === undefined || next >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = next;
    this.timer = this.options.scheduler.after(Math.max(0, next - this.options.clock.now()), this.wake);
  }

  private readonly wake = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.stopped) return;
    const now = this.options.clock.now();
    for (let key = this.queue.peekKey(); key !== undefined && key <= now; key = this.queue.peekKey()) {
      const d = this.queue.pop()!;
      // entries that no longer hold (rescheduled, finished, cleared) are skipped, not removed
      if (d.nextAt !== key || !this.isCurrent(d)) continue;
      this.offer(d);
    }
    this.arm();
  };

  private isCurrent(d: Delivery): boolean {
    // replicas: a claim lost since it was armed (another replica took it over) is that replica's now
    const claimed = this.options.claims?.holds(d.n) ?? true;
    return claimed && !this.attempting.has(d.n) && !this.parked.has(d.n) && this.book.delivery(d.id) === d;
  }

  private offer(d: Delivery): void {
    const subscription = this.book.subscription(d.subscription);
    if (!subscription) {
      // a config-file subscription that is no longer configured
      this.settle(d, undefined, this.options.clock.now(), { status: null, latencyMs: 0, error: 'the subscription no longer exists' }, [], false, true);
      return;
    }
    const limit = subscription.concurrency ?? this.options.defaults.concurrency;
    if ((this.inFlight.get(subscription.id) ?? 0) >= limit) {
      let line = this.waiting.get(subscription.id);
      if (!line) this.waiting.set(subscription.id, (line = new WaitingLine()));
      line.push(d);
      this.parked.add(d.n);
      return;
    }
    this.start(d, subscription);
  }

  /** A slot of the subscription came free: the oldest waiting delivery that is still due takes it. */
  private next(subscription: string): void {
    const line = this.waiting.get(subscription);
    const sub = this.book.subscription(subscription);
    if (!line) return;
    while (sub && line.length > 0) {
      const limit = sub.concurrency ?? this.options.defaults.concurrency;
      if ((this.inFlight.get(subscription) ?? 0) >= limit) return;
      const d = line.shift()!;
      this.parked.delete(d.n);
      if (d.nextAt === null || !this.isCurrent(d)) continue;
      // rescheduled while it waited (a redelivery, say)
      if (d.nextAt > this.options.clock.now()) {
        this.due(d);
        continue;
      }
      this.start(d, sub);
    }
    if (line.length === 0) this.waiting.delete(subscription);
  }

  // --- attempts --------------------------------------------------------------------------------------------

  private start(d: Delivery, subscription: Subscription): void {
    const { clock } = this.options;
    const at = clock.now();
    this.attempting.add(d.n);
    this.inFlight.set(subscription.id, (this.inFlight.get(subscription.id) ?? 0) + 1);
    const copy = d.status === 'delivered' && d.copiesLeft > 0 && !d.manual;
    const faults: Array<Record<string, unknown>> = [];
    const plan = d.plan;
    const first = d.attempts.length === 0;
    if (copy) faults.push({ kind: 'duplicate', copy: d.duplicates + 1 });
    if (first && plan?.dropFirst) {
      faults.push({ kind: 'drop' });
      queueMicrotask(() => this.settle(d, subscription, at, { status: null, latencyMs: 0, error: DROPPED }, faults, false));
      return;
    }
    // a forged signature on the first attempt that reaches the receiver
    let signatureFault: SignatureFault | undefined;
    if (plan?.signatureFault && !copy && d.attempts.every((a) => a.faults.some((f) => f.kind === 'drop'))) {
      signatureFault = plan.signatureFault;
      faults.push({ kind: signatureFault });
    }
    const target = this.targetOf(subscription);
    const body = d.body;
    target
      .send({
        body,
        // parsed only by targets that map fields (a webhook sends the text as it is)
        get event() {
          return JSON.parse(body) as SendRequest['event'];
        },
        timeoutMs: subscription.timeoutMs ?? this.options.defaults.timeoutMs,
        nowMs: at,
        secrets: signingSecrets(subscription, at),
        signatureFault,
      })
      .then(
        (outcome) => this.settle(d, subscription, at, outcome, faults, copy),
        (err: unknown) => this.settle(d, subscription, at, { status: null, latencyMs: 0, error: `target failed: ${err instanceof Error ? err.message : String(err)}` }, faults, copy),
      );
  }

  /** Records an attempt's outcome with what follows it, and lets the next waiting delivery of the subscription go. */
  private settle(d: Delivery, subscription: Subscription | undefined, at: number, outcome: SendOutcome, faults: Array<Record<string, unknown>>, copy: boolean, gone = false): void {
    if (!gone && subscription) {
      this.attempting.delete(d.n);
      this.inFlight.set(subscription.id, (this.inFlight.get(subscription.id) ?? 1) - 1);
    }
    if (this.stopped) return;
    // cleared or deleted meanwhile: nothing to record
    if (this.book.delivery(d.id) === d) {
      const attempt: Attempt = { at, status: outcome.status, latencyMs: Math.round(outcome.latencyMs), error: outcome.error ?? null, faults };
      // unsubscribed while the attempt was under way: recorded, and nothing follows it
      const current = gone ? undefined : this.book.subscription(d.subscription);
      const { result, nextAt } = this.decide(d, current, attempt, outcome, copy, current === undefined);
      const recorded = this.log(() => this.book.write('attempt', { delivery: d.n, attempt, result, nextAt }));
      // replicas: the record is applied once the promise resolves; a finished delivery's claim is given back
      const claims = this.options.claims;
      if (claims) recorded?.then((stored) => stored && this.book.delivery(d.id) === d && d.nextAt === null && !d.held && claims.finished(d.n));
    }
    if (subscription && !gone) this.next(subscription.id);
  }

  private decide(d: Delivery, subscription: Subscription | undefined, attempt: Attempt, outcome: SendOutcome, copy: boolean, gone: boolean): { result: AttemptResult; nextAt: number | null } {
    const now = this.options.clock.now();
    const spacing = d.plan?.spacingMs ?? 0;
    if (gone || !subscription) return { result: 'dead', nextAt: null };
    if (copy) return { result: 'copy-sent', nextAt: d.copiesLeft > 1 ? now + spacing : null };
    const ok = attempt.status !== null && attempt.status >= 200 && attempt.status < 300;
    if (ok) return { result: 'delivered', nextAt: !d.manual && (d.plan?.duplicates ?? 0) > 0 ? now + spacing : null };
    if (d.manual) return { result: 'dead', nextAt: null };
    const policy = subscription.retry ?? this.options.defaults.retry;
    // attempts so far, this one included; duplicate copies are not tries
    const made = d.attempts.filter((a) => !a.faults.some((f) => f.kind === 'duplicate')).length + 1;
    const random = seededRandom(this.options.seed, 'retry', d.id, made);
    const next = nextAttemptAt(policy, made, now, d.queuedAt, random, outcome.retryAfterMs);
    return next === undefined ? { result: 'dead', nextAt: null } : { result: 'retry', nextAt: next };
  }

  private targetOf(subscription: Subscription): DeliveryTarget {
    let target = this.targets.get(subscription.id);
    if (!target) this.targets.set(subscription.id, (target = this.options.targetFor(subscription)));
    return target;
  }

  /**
   * Records a change; one the store refuses or cannot commit is not kept (the book is rebuilt from what was): the
   * worst a restart, or the rebuild, does is make that attempt again.
   */
  private log(change: () => Promise<void> | undefined): Promise<boolean> | undefined {
    const warn = (err: unknown) => {
      if (this.warned) return false;
      this.warned = true;
      this.options.warn(`a delivery record could not be stored (${err instanceof Error ? err.message : String(err)}); some attempts may be made again`);
      return false;
    };
    try {
      return change()?.then(() => true, warn);
    } catch (err) {
      warn(err);
      return undefined;
    }
  }
}

/** A first-in first-out line of deliveries: Array.shift is linear in the length, and lines grow to 100,000s. */
class WaitingLine {
  private items: Delivery[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(d: Delivery): void {
    this.items.push(d);
  }

  shift(): Delivery | undefined {
    if (this.head === this.items.length) return undefined;
    const d = this.items[this.head];
    this.items[this.head++] = undefined as unknown as Delivery;
    // drop the consumed front once it is most of the array
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return d;
  }
}
