/**
 * One workspace's subscriptions and deliveries: the durable record of who wants which events, every delivery
 * (an event for one subscriber), its attempts, and what is due next.
 *
 * The book is a state like a system's: a function of (the accepted changes in order, their clock times), changed
 * only through write(), which applies a change and logs it in the workspace's store (under the name
 * `deliveries`); a restart rebuilds it from its latest snapshot and the changes logged after it. Nothing in it
 * acts: the dispatcher (dispatcher.ts) makes attempts and decides what follows them (the retry policy's next
 * time, with its jitter drawn), and logs the decision as a change. So replaying needs neither the policy nor
 * the chaos profile of the time, only the log: a restart resumes every retry on the schedule it had.
 *
 * Changes (the log's operations):
 * - subscribe / unsubscribe / rotate: admin-made subscriptions (config-file ones are not logged: the config says
 *   what they are at every start);
 * - enqueue: an event for the subscriptions it matched, each with its delivery plan (delivery chaos, decided once);
 * - release: a reorder window is let go (full, or its wait ran out);
 * - attempt: an attempt's outcome and what follows it (delivered, the next attempt's time, or dead);
 * - redeliver: an admin asks for one more attempt;
 * - clear: deliveries are forgotten (reset), keeping the subscriptions given.
 *
 * Finished deliveries (delivered, dead) are kept up to `maxFinished`, oldest dropped first, like the journal.
 *
 * Replicas (`--redis`, store.shared present): every change is appended to the workspace's shared log instead, and
 * applied where the log places it, on every replica alike (the one that appended it runs it as its own), so the
 * book is the same everywhere and GET /__admin/deliveries on any replica shows every attempt. Changes whose
 * input was read from this replica's copy are made to hold whatever came before them in the log:
 * - enqueue-changes: the events of a system's changes, each with its change number; the book keeps, per system,
 *   the latest change number enqueued (its cursor), and skips what is at or behind it. So when two replicas both
 *   see a change (one made it, another applied it and was asked before the first one's events were in the log),
 *   the first in the log queues it and the second queues nothing: an event is queued once, whoever saw it;
 * - subscribe: an id another subscription took meanwhile is replaced by the next free one;
 * - clear: what it keeps (the subscriptions, the counters) is read where it is applied;
 * - release: lets go only the window it was armed for (one opened at `openedAt`).
 * Which replica attempts a delivery is not the book's business (replicas/delivery-claims.ts): the listener is
 * told of every change on every replica, and of the deliveries this replica's own changes started (started()).
 */
import type { DeliveryPlan } from './chaos/delivery-fault.js';
import { reorderRank } from './chaos/delivery-rules.js';
import type { RetryPolicy } from './retry-policy.js';
import type { SalesforceOptions } from './targets/salesforce-options.js';
import { StoreUnavailableError, type WorkspaceStore } from '../store/store.js';
import type { Clock } from '../util/clock.js';

/** the name the book's changes are logged under in the workspace's store */
export const DELIVERIES = 'deliveries';

export type TargetKind = 'webhook' | 'salesforce-platform-event';

export interface SubscriptionSecret {
  secret: string;
  /** when this (older) secret stops signing; null for the current one */
  until: number | null;
}

export interface Subscription {
  id: string;
  target: TargetKind;
  /** where deliveries go: the webhook URL, or the org's instance URL for Platform Events */
  url: string;
  events: string[];
  /** newest first; empty for Platform Events */
  secrets: SubscriptionSecret[];
  /** its own retry policy, or null for the server's (deliveries.retry) */
  retry: RetryPolicy | null;
  timeoutMs: number | null;
  concurrency: number | null;
  salesforce: SalesforceOptions | null;
  source: 'api' | 'config';
  createdAt: number;
}

export type DeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'dead';

export interface Attempt {
  at: number;
  status: number | null;
  latencyMs: number;
  error: string | null;
  faults: Array<Record<string, unknown>>;
}

export interface Delivery {
  /** `dlv_` and n, zero-padded */
  id: string;
  n: number;
  subscription: string;
  eventId: string;
  eventType: string;
  system: string;
  /** the event as JSON text, shared by every delivery of the event */
  body: string;
  queuedAt: number;
  plan: DeliveryPlan | null;
  status: DeliveryStatus;
  /** when the next attempt (or duplicate copy) may start; null when nothing is due (finished, or held) */
  nextAt: number | null;
  /** held in a reorder window */
  held: boolean;
  /** the next attempt is a duplicate copy of a delivered event */
  copiesLeft: number;
  /** the next attempt was asked for by an admin: its failure does not start retries */
  manual: boolean;
  attempts: Attempt[];
  /** extra copies sent after it was delivered */
  duplicates: number;
  ackedAt: number | null;
}

/** What follows an attempt, as the dispatcher decided it. */
export type AttemptResult = 'delivered' | 'retry' | 'dead' | 'copy-sent';

interface ReorderWindow {
  /** delivery numbers, in the order they were queued */
  members: number[];
  size: number;
  openedAt: number;
  maxWaitMs: number;
}

/** Told when something becomes due: the dispatcher arms its timers from these. */
export interface BookListener {
  due(delivery: Delivery): void;
  /** a reorder window opened at `openedAt` must be let go at `deadline` */
  windowOpened(subscription: string, deadline: number, openedAt: number): void;
  unsubscribed(id: string): void;
  /** the book was read again from the store (a commit failed), or restored from a snapshot (replicas): everything due is to be armed afresh */
  rebuilt(): void;
  /**
   * Replicas: a change this replica appended queued `delivery`, or sent it back for another attempt. The replica
   * that made the change offers it to the replicas' dispatchers (exactly one claims it).
   */
  started?(delivery: Delivery): void;
}

/** per system: the state's epoch and the latest change number whose events are queued (replicas) */
interface Cursor {
  epoch: number;
  seq: number;
}

export class DeliveryBook {
  private readonly apiSubscriptions = new Map<string, Subscription>();
  private readonly deliveries = new Map<number, Delivery>();
  /** finished deliveries in the order they finished; beyond maxFinished the oldest is dropped */
  private finished: number[] = [];
  private finishedHead = 0;
  private readonly windows = new Map<string, ReorderWindow>();
  /** events queued per subscription so far (delivery chaos draws by it) */
  private readonly ordinals = new Map<string, number>();
  /** reorder windows released per subscription so far */
  private readonly released = new Map<string, number>();
  private nextDelivery = 1;
  private nextSubscription = 1;
  listener: BookListener | undefined;
  /** while rebuilding from the log, changes are applied without being logged again */
  private replaying = false;
  private rebuilding = false;
  /** changes logged since the latest snapshot: a snapshot is taken only once they are as many as the deliveries */
  private sinceSnapshot = 0;
  /** replicas: per system, how far its changes have been queued (see the header) */
  private readonly cursors = new Map<string, Cursor>();
  /** replicas: applying a change this replica appended (its listener hears started()) */
  private applyingOwn = false;

  constructor(
    private readonly store: WorkspaceStore,
    private readonly clock: Clock,
    private readonly seed: number,
    private readonly configSubscriptions: readonly Subscription[],
    private readonly maxFinished: number,
  ) {
    this.configuredSecrets = configSubscriptions.map((s) => [s.id, s.secrets]);
    store.shared?.register(DELIVERIES, {
      snapshots: true,
      apply: (entry) => this.apply(entry.operation, JSON.parse(entry.input) as Record<string, unknown>, entry.at),
      snapshot: () => this.snapshotNow(),
      restore: (snapshot) => this.restoreShared(snapshot),
    });
  }

  /** whether the book is shared by replicas (every change goes through the workspace's shared log) */
  get shared(): boolean {
    return this.store.shared !== undefined;
  }

  /** the config subscriptions' secrets as configured, which a rebuild starts from again */
  private readonly configuredSecrets: Array<[string, SubscriptionSecret[]]>;

  // --- reading ---------------------------------------------------------------------------------------------

  subscriptions(): Subscription[] {
    return [...this.configSubscriptions, ...this.apiSubscriptions.values()];
  }

  subscription(id: string): Subscription | undefined {
    return this.apiSubscriptions.get(id) ?? this.configSubscriptions.find((s) => s.id === id);
  }

  get hasSubscriptions(): boolean {
    return this.configSubscriptions.length > 0 || this.apiSubscriptions.size > 0;
  }

  delivery(id: string): Delivery | undefined {
    const m = /^dlv_(\d{1,15})$/.exec(id);
    return m ? this.deliveries.get(Number(m[1])) : undefined;
  }

  /** the delivery numbered `n` (its id's number) */
  numbered(n: number): Delivery | undefined {
    return this.deliveries.get(n);
  }

  /** the deliveries kept, newest first, from the one numbered below `before` */
  *newestFirst(before = Infinity): IterableIterator<Delivery> {
    // numbers only grow, so the map's first key (insertion order) is the smallest kept; gaps are pruned ones
    const oldest = this.deliveries.keys().next().value;
    if (oldest === undefined) return;
    for (let n = Math.min(before, this.nextDelivery) - 1; n >= oldest; n--) {
      const d = this.deliveries.get(n);
      if (d !== undefined) yield d;
    }
  }

  /** deliveries with something due (for the dispatcher after a restart) */
  *due(): IterableIterator<Delivery> {
    for (const d of this.deliveries.values()) if (d.nextAt !== null) yield d;
  }

  /** open reorder windows: the subscription, when the window must be let go, and when it opened */
  *openWindows(): IterableIterator<[string, number, number]> {
    for (const [subscription, w] of this.windows) yield [subscription, w.openedAt + w.maxWaitMs, w.openedAt];
  }

  /** when the subscription's open reorder window opened (undefined: none is open) */
  windowOpenedAt(subscription: string): number | undefined {
    return this.windows.get(subscription)?.openedAt;
  }

  /** replicas: the latest change of `system` (in the state started at `epoch`) whose events are queued */
  cursorOf(system: string, epoch: number): number | undefined {
    const cursor = this.cursors.get(system);
    return cursor !== undefined && cursor.epoch === epoch ? cursor.seq : undefined;
  }

  /** whether delivery number `n` was ever queued here (a number not yet reached may be in a change not applied yet) */
  reached(n: number): boolean {
    return n < this.nextDelivery;
  }

  /** every delivery not finished: due, or held in a reorder window */
  *unfinished(): IterableIterator<Delivery> {
    for (const d of this.deliveries.values()) if (d.nextAt !== null || d.held) yield d;
  }

  /** how many subscriptions, and deliveries by status (GET /__admin/workspace) */
  summary(): Record<string, number> {
    const counts: Record<string, number> = { subscriptions: this.configSubscriptions.length + this.apiSubscriptions.size, pending: 0, retrying: 0, delivered: 0, dead: 0 };
    for (const d of this.deliveries.values()) counts[d.status]++;
    return counts;
  }

  ordinalOf(subscription: string): number {
    return this.ordinals.get(subscription) ?? 0;
  }

  get size(): number {
    return this.deliveries.size;
  }

  /** a fresh id for an admin-made subscription */
  newSubscriptionId(): string {
    return 'sub_' + String(this.nextSubscription).padStart(6, '0');
  }

  // --- changing --------------------------------------------------------------------------------------------

  /**
   * Applies a change now and logs it; the promise resolves once it is committed (undefined when the store keeps
   * nothing). A store that refuses writes (a full disk) throws StoreUnavailableError before anything changes; one
   * that fails to commit rejects the promise, and the book is rebuilt from what was committed, as a system's state
   * is after a failed write.
   */
  write(operation: string, input: Record<string, unknown>): Promise<void> | undefined {
    if (this.store.shared) return this.append(operation, input).then(() => undefined);
    const refusal = this.store.refusal();
    if (refusal !== undefined) throw new StoreUnavailableError(refusal);
    const at = this.clock.now();
    this.apply(operation, input, at);
    if (!this.store.keepsWrites) return undefined;
    this.sinceSnapshot++;
    const committed = this.store.logWrite(DELIVERIES, { operation, input: JSON.stringify(input), at, status: 200 });
    committed?.catch(() => this.rebuild());
    return committed;
  }

  /**
   * Replicas: appends a change to the shared log; it is applied here, as everywhere, where the log places it, and
   * the promise resolves with what applying it gave (a subscription as stored) once it has been. Rejects with
   * StoreUnavailableError when it cannot be appended, and nothing has changed.
   */
  append(operation: string, input: Record<string, unknown>): Promise<unknown> {
    const text = JSON.stringify(input);
    return this.store.shared!.append(DELIVERIES, operation, text, (at) => {
      this.applyingOwn = true;
      try {
        // what the other replicas apply: the input as the log carries it
        return this.apply(operation, JSON.parse(text) as Record<string, unknown>, at);
      } finally {
        this.applyingOwn = false;
      }
    });
  }

  /** Forgets what is in memory and reads the book again from the store; the listener re-arms what is due. */
  private rebuild(): void {
    if (this.rebuilding) return;
    this.rebuilding = true;
    // once every change of the failed batch has been told (their rejections are queued microtasks), and before
    // any timer can start an attempt of a delivery that was never stored
    queueMicrotask(() => {
      this.rebuilding = false;
      this.forget();
      try {
        this.recover();
      } catch {
        // the store cannot even be read: what is in memory now is empty, and stays so until it can
      }
      this.listener?.rebuilt();
    });
  }

  /** back to an empty book, with the config subscriptions' secrets as configured */
  private forget(): void {
    this.apiSubscriptions.clear();
    this.deliveries.clear();
    this.finished = [];
    this.finishedHead = 0;
    this.windows.clear();
    this.ordinals.clear();
    this.released.clear();
    this.cursors.clear();
    this.nextDelivery = 1;
    this.nextSubscription = 1;
    this.adoptConfigSecrets(this.configuredSecrets);
  }

  /** Replicas: the book from a snapshot of the shared log (a replica that starts late), or empty; re-armed. */
  private restoreShared(snapshot: Buffer | undefined): void {
    this.forget();
    if (snapshot !== undefined) this.restore(snapshot);
    this.listener?.rebuilt();
  }

  /** Rebuilds the book from the store: its snapshot, then the changes logged after it (replicas: the shared log does). */
  recover(): number {
    if (this.store.shared) return 0;
    const { snapshot, writes } = this.store.recover(DELIVERIES);
    if (snapshot) this.restore(snapshot);
    let n = 0;
    this.replaying = true;
    try {
      for (const w of writes) {
        this.apply(w.operation, JSON.parse(w.input) as Record<string, unknown>, w.at);
        n++;
      }
    } finally {
      this.replaying = false;
    }
    this.sinceSnapshot = n;
    return n;
  }

  /** applies one change; what it returns is what a replica's own change resolves with (see append) */
  private apply(operation: string, input: Record<string, unknown>, at: number): unknown {
    switch (operation) {
      case 'subscribe':
        if (Array.isArray(input.from)) this.startCursors(input.from as Array<{ system: string; epoch: number; seq: number }>);
        return this.subscribe(input.subscription as Subscription);
      case 'enqueue-changes':
        return this.enqueueChanges(input as unknown as ChangesInput, at);
      case 'unsubscribe':
        return this.unsubscribe(input.id as string, at);
      case 'rotate':
        return this.rotate(input.id as string, input.secret as string, input.until as number, at);
      case 'enqueue':
        return this.enqueue(input as unknown as EnqueueInput, at);
      case 'release':
        // a window other than the one the release was armed for (replicas: another replica let it go first)
        if (typeof input.openedAt === 'number' && this.windows.get(input.subscription as string)?.openedAt !== input.openedAt) return;
        return this.release(input.subscription as string, at);
      case 'attempt':
        return this.attempted(input as unknown as AttemptInput);
      case 'redeliver':
        return this.redeliver(input.delivery as number, at);
      case 'clear':
        // replicas: what is kept is what the book holds where the clear is applied
        if (typeof input.keepSubscriptions === 'boolean') return this.clear(this.clearInput(input.keepSubscriptions) as unknown as ClearInput);
        return this.clear(input as unknown as ClearInput);
      default:
        throw new Error(`deliveries: unknown change ${operation}`);
    }
  }

  private subscribe(subscription: Subscription): Subscription {
    // replicas: another replica's subscription took this id after it was chosen (both chose the next free one)
    if (this.shared && (this.subscription(subscription.id) !== undefined || Number(subscription.id.slice(4)) < this.nextSubscription)) {
      subscription = { ...subscription, id: this.newSubscriptionId() };
    }
    this.apiSubscriptions.set(subscription.id, subscription);
    const n = Number(subscription.id.slice(4));
    if (Number.isSafeInteger(n) && n >= this.nextSubscription) this.nextSubscription = n + 1;
    return subscription;
  }

  /** its deliveries still under way are dead: nobody to deliver to */
  private unsubscribe(id: string, at: number): void {
    this.apiSubscriptions.delete(id);
    this.windows.delete(id);
    for (const d of this.deliveries.values()) {
      if (d.subscription !== id || (d.nextAt === null && !d.held)) continue;
      if (d.status !== 'delivered') {
        d.attempts.push({ at, status: null, latencyMs: 0, error: 'the subscription was deleted', faults: [] });
        d.status = 'dead';
        this.finish(d);
      }
      d.nextAt = null;
      d.held = false;
      d.copiesLeft = 0;
    }
    if (!this.replaying) this.listener?.unsubscribed(id);
  }

  /** `secret` signs from now on; the one it replaces goes on signing until `until` (none: stops now) */
  private rotate(id: string, secret: string, until: number, at: number): void {
    const subscription = this.subscription(id);
    if (!subscription) return;
    const older = subscription.secrets
      .map((s) => ({ secret: s.secret, until: s.until ?? until }))
      .filter((s) => s.until > at);
    subscription.secrets = [{ secret, until: null }, ...older];
  }

  private enqueue(input: EnqueueInput, at: number): void {
    for (const { subscription, plan } of input.deliveries) {
      const n = this.nextDelivery++;
      const d: Delivery = {
        id: 'dlv_' + String(n).padStart(8, '0'),
        n,
        subscription,
        eventId: input.event.id,
        eventType: input.event.type,
        system: input.event.system,
        body: input.event.body,
        queuedAt: at,
        plan,
        status: 'pending',
        nextAt: at + (plan?.delayMs ?? 0),
        held: false,
        copiesLeft: 0,
        manual: false,
        attempts: [],
        duplicates: 0,
        ackedAt: null,
      };
      this.deliveries.set(n, d);
      this.ordinals.set(subscription, this.ordinalOf(subscription) + 1);
      if (plan?.reorder) {
        d.held = true;
        d.nextAt = null;
        let window = this.windows.get(subscription);
        if (!window) {
          window = { members: [], size: plan.reorder.window, openedAt: at, maxWaitMs: plan.reorder.maxWaitMs };
          this.windows.set(subscription, window);
          if (!this.replaying) this.listener?.windowOpened(subscription, at + window.maxWaitMs, at);
        }
        window.members.push(n);
        if (this.applyingOwn) this.listener?.started?.(d);
        if (window.members.length >= window.size) this.release(subscription, at);
      } else if (!this.replaying) {
        if (this.applyingOwn) this.listener?.started?.(d);
        this.listener?.due(d);
      }
    }
  }

  /**
   * Replicas: where events start for a system nobody has queued any of yet (in its current state): where its changes
   * stood on the replica that subscribed. Without it, a replica that never saw the subscription being made would
   * not know which of its changes are news to the subscriber.
   */
  private startCursors(from: ReadonlyArray<{ system: string; epoch: number; seq: number }>): void {
    for (const { system, epoch, seq } of from) {
      const cursor = this.cursors.get(system);
      if (cursor === undefined || cursor.epoch < epoch) this.cursors.set(system, { epoch, seq });
    }
  }

  /**
   * Replicas: the events of a system's changes, queued unless the book's cursor for the system is at or past their
   * change (another replica's entry queued them first), or they belong to a state that has since been reset.
   */
  private enqueueChanges(input: ChangesInput, at: number): void {
    const cursor = this.cursors.get(input.system);
    if (cursor !== undefined && cursor.epoch > input.epoch) return;
    let last = cursor !== undefined && cursor.epoch === input.epoch ? cursor.seq : -Infinity;
    for (const change of input.changes) {
      if (change.seq <= last) continue;
      last = change.seq;
      this.enqueue(change, at);
    }
    if (last !== -Infinity) this.cursors.set(input.system, { epoch: input.epoch, seq: last });
  }

  /** Lets a reorder window go: its deliveries become due one millisecond apart, in a seeded order that is not theirs. */
  private release(subscription: string, at: number): void {
    const window = this.windows.get(subscription);
    if (!window) return;
    this.windows.delete(subscription);
    const index = this.released.get(subscription) ?? 0;
    this.released.set(subscription, index + 1);
    const members = window.members.map((n) => this.deliveries.get(n)).filter((d): d is Delivery => d !== undefined && d.held);
    const rank = reorderRank(this.seed, subscription, index, members.length);
    // rank[k] is the member released k-th
    rank.forEach((member, k) => {
      const d = members[member];
      d.held = false;
      d.nextAt = Math.max(at + k, d.queuedAt + (d.plan?.delayMs ?? 0));
      if (!this.replaying) this.listener?.due(d);
    });
  }

  private attempted(input: AttemptInput): void {
    const d = this.deliveries.get(input.delivery);
    if (!d) return;
    d.attempts.push(input.attempt);
    const wasFinished = d.status === 'delivered' || d.status === 'dead';
    switch (input.result) {
      case 'delivered':
        d.status = 'delivered';
        d.ackedAt ??= input.attempt.at + input.attempt.latencyMs;
        d.copiesLeft = d.manual ? 0 : (d.plan?.duplicates ?? 0);
        d.nextAt = d.copiesLeft > 0 ? input.nextAt : null;
        break;
      case 'copy-sent':
        d.duplicates++;
        d.copiesLeft = Math.max(0, d.copiesLeft - 1);
        d.nextAt = d.copiesLeft > 0 ? input.nextAt : null;
        break;
      case 'retry':
        d.status = 'retrying';
        d.nextAt = input.nextAt;
        break;
      case 'dead':
        // a manual redelivery of a delivered event that fails leaves it delivered
        if (d.status !== 'delivered') d.status = 'dead';
        d.nextAt = null;
        d.copiesLeft = 0;
        break;
    }
    d.manual = false;
    if (!wasFinished && (d.status === 'delivered' || d.status === 'dead')) this.finish(d);
    if (d.nextAt !== null && !this.replaying) this.listener?.due(d);
  }

  private redeliver(n: number, at: number): void {
    const d = this.deliveries.get(n);
    if (!d) return;
    // a finished delivery gets one more attempt; one still being retried is tried now, and its retries go on
    d.manual = d.status === 'delivered' || d.status === 'dead';
    if (d.manual) d.copiesLeft = 0;
    d.held = false;
    d.nextAt = at;
    if (this.applyingOwn) this.listener?.started?.(d);
    if (!this.replaying) this.listener?.due(d);
  }

  /** Deliveries are forgotten; the subscriptions given stay. Counters go on: an id never names two deliveries. */
  private clear(input: ClearInput): void {
    this.apiSubscriptions.clear();
    for (const s of input.subscriptions) this.apiSubscriptions.set(s.id, s);
    this.adoptConfigSecrets(input.configSecrets ?? []);
    this.nextSubscription = Math.max(this.nextSubscription, input.nextSubscription);
    this.nextDelivery = Math.max(this.nextDelivery, input.nextDelivery ?? 1);
    for (const [k, v] of input.ordinals ?? []) this.ordinals.set(k, v);
    for (const [k, v] of input.released ?? []) this.released.set(k, v);
    this.deliveries.clear();
    this.finished = [];
    this.finishedHead = 0;
    this.windows.clear();
  }

  /**
   * Config-file subscriptions come from the config at every start, but their secrets may have been rotated since
   * (rotate-secret): the rotated secrets a snapshot or a clear carries replace the config's, for the ones that are
   * still configured.
   */
  private adoptConfigSecrets(secrets: ReadonlyArray<[string, SubscriptionSecret[]]>): void {
    for (const [id, list] of secrets) {
      const configured = this.configSubscriptions.find((s) => s.id === id);
      if (configured) configured.secrets = list;
    }
  }

  private configSecrets(): Array<[string, SubscriptionSecret[]]> {
    return this.configSubscriptions.map((s) => [s.id, s.secrets]);
  }

  private finish(d: Delivery): void {
    this.finished.push(d.n);
    while (this.finished.length - this.finishedHead > this.maxFinished) {
      const oldest = this.finished[this.finishedHead++];
      const gone = this.deliveries.get(oldest);
      // a finished delivery sent back for another attempt is under way again: kept
      if (gone && gone.nextAt === null) this.deliveries.delete(oldest);
    }
    if (this.finishedHead > 4096 && this.finishedHead * 2 > this.finished.length) {
      this.finished = this.finished.slice(this.finishedHead);
      this.finishedHead = 0;
    }
  }

  // --- what resets and snapshots need ----------------------------------------------------------------------

  /** the input of a `clear` that keeps admin-made subscriptions (or none) */
  clearInput(keepSubscriptions: boolean): Record<string, unknown> {
    const input: ClearInput = {
      subscriptions: keepSubscriptions ? [...this.apiSubscriptions.values()] : [],
      configSecrets: this.configSecrets(),
      nextSubscription: this.nextSubscription,
      nextDelivery: this.nextDelivery,
      ordinals: [...this.ordinals],
      released: [...this.released],
    };
    return input as unknown as Record<string, unknown>;
  }

  /**
   * The book as bytes, for the store's snapshots; undefined (no snapshot yet) until the changes logged since the
   * last one are as many as the deliveries kept, so that a snapshot, whose cost grows with the book, costs about
   * as much as the writes it saves replaying (a book of 100,000 deliveries is not serialised every 10,000 writes).
   *
   * Layout: one line of JSON (everything but the events' bodies, each delivery naming its body by index), then the
   * distinct bodies, one per line: a body is JSON text, which has no raw newline, and kept out of the JSON it is
   * neither escaped nor parsed again.
   */
  snapshot(): Buffer | undefined {
    if (this.sinceSnapshot < this.deliveries.size) return undefined;
    return this.snapshotNow();
  }

  /** the book as bytes now, whatever its size (replicas: the shared log's snapshots must hold every part) */
  snapshotNow(): Buffer {
    const bodies: string[] = [];
    const bodyIndex = new Map<string, number>();
    const deliveries = [...this.deliveries.values()].map((d) => {
      let index = bodyIndex.get(d.eventId);
      if (index === undefined) {
        index = bodies.push(d.body) - 1;
        bodyIndex.set(d.eventId, index);
      }
      return { ...d, body: index };
    });
    const meta = JSON.stringify({
      format: SNAPSHOT_FORMAT,
      subscriptions: [...this.apiSubscriptions.values()],
      configSecrets: this.configSecrets(),
      deliveries,
      finished: this.finished.slice(this.finishedHead),
      windows: [...this.windows],
      ordinals: [...this.ordinals],
      released: [...this.released],
      nextDelivery: this.nextDelivery,
      nextSubscription: this.nextSubscription,
      cursors: [...this.cursors],
    });
    this.sinceSnapshot = 0;
    return Buffer.from([meta, ...bodies].join('\n'));
  }

  private restore(snapshot: Buffer): void {
    const lines = snapshot.toString().split('\n');
    const doc = JSON.parse(lines[0]) as {
      format: number;
      subscriptions: Subscription[];
      configSecrets: Array<[string, SubscriptionSecret[]]>;
      deliveries: Array<Omit<Delivery, 'body'> & { body: number }>;
      finished: number[];
      windows: Array<[string, ReorderWindow]>;
      ordinals: Array<[string, number]>;
      released: Array<[string, number]>;
      nextDelivery: number;
      nextSubscription: number;
      /** replicas only (absent from a single process's snapshots) */
      cursors?: Array<[string, Cursor]>;
    };
    if (doc.format !== SNAPSHOT_FORMAT) throw new Error(`deliveries: snapshot format ${doc.format} is not one this version reads`);
    for (const s of doc.subscriptions) this.apiSubscriptions.set(s.id, s);
    this.adoptConfigSecrets(doc.configSecrets);
    for (const d of doc.deliveries) {
      const body = lines[d.body + 1];
      if (body === undefined) throw new Error(`deliveries: snapshot names body ${d.body}, which it lacks`);
      this.deliveries.set(d.n, { ...d, body });
    }
    this.finished = doc.finished;
    for (const [k, v] of doc.windows) this.windows.set(k, v);
    for (const [k, v] of doc.ordinals) this.ordinals.set(k, v);
    for (const [k, v] of doc.released) this.released.set(k, v);
    this.nextDelivery = doc.nextDelivery;
    this.nextSubscription = doc.nextSubscription;
    for (const [k, v] of doc.cursors ?? []) this.cursors.set(k, v);
  }
}

/** the layout of the book's snapshots (see snapshot()) */
const SNAPSHOT_FORMAT = 1;

export interface EnqueueInput {
  event: { id: string; type: string; system: string; body: string };
  deliveries: Array<{ subscription: string; plan: DeliveryPlan | null }>;
}

/** replicas: the events of some of a system's changes, each with its change number (see enqueueChanges) */
export interface ChangesInput {
  system: string;
  /** the epoch of the state the changes were made in (states.epoch) */
  epoch: number;
  /** oldest first */
  changes: Array<EnqueueInput & { seq: number }>;
}

/** what a `clear` keeps: the subscriptions given, rotated config secrets, and the counters */
interface ClearInput {
  subscriptions: Subscription[];
  configSecrets?: Array<[string, SubscriptionSecret[]]>;
  nextSubscription: number;
  nextDelivery?: number;
  ordinals?: Array<[string, number]>;
  released?: Array<[string, number]>;
}

export interface AttemptInput {
  delivery: number;
  attempt: Attempt;
  result: AttemptResult;
  /** the next attempt's (or copy's) time, for retry and for delivered/copy-sent with copies left */
  nextAt: number | null;
}

/** The secrets that sign at `at`, newest first. */
export function signingSecrets(subscription: Subscription, at: number): string[] {
  return subscription.secrets.filter((s) => s.until === null || s.until > at).map((s) => s.secret);
}
