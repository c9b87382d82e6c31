/**
 * Workspaces isolate tenants of one server (PRODUCT.md §2): each has its own system state, journal, counters and
 * chaos stage. `/w/{name}/...` selects one; plain paths use `default`. A workspace is created on first use with the
 * server's seed, so two CI jobs that use different workspaces never see each other's writes.
 *
 * Names are case-insensitive, because Salesforce sandbox names (the natural workspace names) are often upper
 * case: /w/UAT and /w/uat are one workspace, known by its lower-case name in the admin API and the journal.
 */
import { ChaosEngine } from '../chaos/chaos-stage.js';
import { DELIVERIES } from '../deliveries/delivery-book.js';
import { defaultDeliveriesConfig, WorkspaceDeliveries, type DeliveriesConfig } from '../deliveries/workspace-deliveries.js';
import type { JournalBudget } from '../journal/budget.js';
import type { SharedJournal } from '../journal/shared-journal.js';
import { Journal } from '../journal/journal.js';
import type { ChaosActivation, LogPart, StateStore, StoredWorkspace, WorkspaceStore } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { noChaos, type ChaosStage } from './seams.js';
import { SystemStates, type ReplayReport } from './system-states.js';
import type { MountedSystem } from './system.js';

/** the shared log's part for what is the workspace's own (its chaos activation, resets) */
export const WORKSPACE_PART = 'workspace';

/** what a workspace name may be, in any case; ASCII only, so lower-casing cannot turn other letters into these */
export const WORKSPACE_NAME = /^[A-Za-z0-9-]{1,40}$/;
export const DEFAULT_WORKSPACE = 'default';

export type ResetScope = 'all' | 'state' | 'journal' | 'chaos' | 'deliveries';

/** The chaos stage a workspace runs, and the activation to store for it. */
export interface ChaosChoice {
  stage: ChaosStage;
  activation: ChaosActivation | undefined;
}

export interface WorkspaceOptions {
  seed: number;
  clock: Clock;
  journalEntries: number;
  journalBytes: number;
  /** shared by every workspace's journal (limits.journalTotalBytes); absent: each bounded only by journalBytes */
  journalBudget?: JournalBudget;
  journalBodyBytes: number;
  /** what every workspace mounts */
  systems: readonly MountedSystem[];
  /** where workspaces persist (memoryStore: nowhere) */
  store: StateStore;
  /**
   * the chaos stage a workspace runs: the stored activation resumed where it stood (after a restart), else the
   * server's profile from `now`
   */
  chaos?(stored: ChaosActivation | undefined, now: number, workspace: string): ChaosChoice;
  /** subscriptions and deliveries (server-wide settings); absent: none are configured, webhooks go over HTTP */
  deliveries?: DeliveriesConfig;
  /** replicas: the journal every replica records into (replicas/journal-stream.ts); absent: this replica's alone */
  sharedJournal?(workspace: string): SharedJournal;
}

/** Request counts per system and status class, for the admin API and (later) the report card. */
export class Counters {
  requests = 0;
  readonly bySystem = new Map<string, number>();
  readonly byStatusClass = [0, 0, 0, 0, 0, 0];

  count(system: string, status: number): void {
    this.requests++;
    this.bySystem.set(system, (this.bySystem.get(system) ?? 0) + 1);
    this.byStatusClass[Math.min(5, Math.floor(status / 100))]++;
  }

  toJSON(): Record<string, unknown> {
    const byStatus: Record<string, number> = {};
    this.byStatusClass.forEach((n, i) => {
      if (i > 0 && n > 0) byStatus[`${i}xx`] = n;
    });
    return { requests: this.requests, bySystem: Object.fromEntries(this.bySystem), byStatus };
  }
}

export class Workspace {
  readonly journal: Journal;
  readonly createdAt: number;
  counters = new Counters();
  /** the active chaos profile's stage; replaced by activateChaos() */
  chaos: ChaosStage;
  /** the systems' states, and the write path that keeps them durable */
  readonly states: SystemStates;
  readonly store: WorkspaceStore;
  /** subscriptions, the deliveries of the events its systems emit, and the attempts making them */
  readonly events: WorkspaceDeliveries;
  /** replicas: the journal as every replica recorded it, of which this one's ring is a copy */
  readonly sharedJournal: SharedJournal | undefined;
  private activation: ChaosActivation | undefined;

  /**
   * `stored`: the workspace as it was at the last stop (its state, journal and chaos are resumed). `journalFrom`:
   * the first journal id of a new workspace (one re-created under a deleted one's name continues its ids, so that
   * nothing the old one left on disk can pass for the new one's)
   */
  constructor(
    readonly name: string,
    private readonly options: WorkspaceOptions,
    stored?: StoredWorkspace,
    journalFrom = 1,
  ) {
    const now = options.clock.now();
    this.createdAt = stored?.createdAt ?? now;
    this.journal = new Journal(name, { maxEntries: options.journalEntries, maxBytes: options.journalBytes, bodyBytes: options.journalBodyBytes }, options.journalBudget);
    const chosen = options.chaos?.(stored?.chaos, now, name) ?? { stage: noChaos, activation: undefined };
    this.chaos = chosen.stage;
    this.activation = chosen.activation;
    const stateEpoch = stored?.stateEpoch ?? this.createdAt;
    this.store = options.store.open(
      { name, createdAt: this.createdAt, stateEpoch, journalNextId: stored?.journalNextId ?? journalFrom, chaos: this.activation },
      () => this.journal.oldestId,
    );
    if (stored) {
      for (const e of this.store.journalEntries()) this.journal.restore(e.id, e.startedAt, e.status, e.bytes);
      this.journal.continueFrom(stored.journalNextId);
      // the stored activation was replaced (the server's profile changed since): store the one running now
      if (this.activation !== undefined && this.activation !== stored.chaos) this.store.saveChaos(this.activation);
    } else this.journal.continueFrom(journalFrom);
    this.journal.sink = this.store.journal;
    this.sharedJournal = options.sharedJournal?.(name);
    this.sharedJournal?.attach(this.journal);
    this.states = new SystemStates(name, this.store, options.seed, options.clock, stateEpoch, options.systems);
    this.events = new WorkspaceDeliveries(name, options.clock, options.seed, this.store, options.systems, this.states, options.deliveries ?? defaultDeliveriesConfig(), () => {
      const chaos = this.chaos;
      return chaos instanceof ChaosEngine ? { rules: chaos.profile.deliveries, seed: chaos.profile.seed ?? options.seed } : { rules: [], seed: options.seed };
    });
    this.states.afterCommand = (system) => this.events.afterCommand(system);
    // the store snapshots the delivery book as it does a system's state, when its log has grown long
    // (the book declines while its log is still short next to it: see DeliveryBook.snapshot)
    const systemSnapshot = this.store.snapshotter;
    this.store.snapshotter = (part) => (part === DELIVERIES ? this.events.book.snapshot() : systemSnapshot?.(part));
    if (stored) this.events.recover();
    else this.events.start();
    const shared = this.store.shared;
    if (shared) {
      shared.register(WORKSPACE_PART, this.logPart());
      shared.onCreated = (createdAt) => this.created(createdAt);
    }
  }

  /**
   * Replicas: when the workspace was created, as they agreed (the first replica to create it). Its states start
   * there, and the server's profile counts its timeline from there, on every replica.
   */
  private created(createdAt: number): void {
    (this as { createdAt: number }).createdAt = createdAt;
    this.states.rebase(createdAt);
    if (this.activation === undefined || this.activation.byAdmin || this.activation.activatedAt === createdAt) return;
    const chosen = this.options.chaos?.(undefined, createdAt, this.name);
    if (chosen) this.adopt(chosen);
  }

  private adopt(chosen: ChaosChoice): void {
    this.chaos = chosen.stage;
    this.activation = chosen.activation;
  }

  /**
   * How the shared log applies what is the workspace's own (replicas): a chaos activation (a new profile, a moved
   * timeline) and a reset, in the log's order on every replica; snapshots carry the state epoch and the activation.
   */
  private logPart(): LogPart {
    return {
      snapshots: true,
      apply: (entry) => {
        if (entry.operation === 'chaos') this.applyActivation(JSON.parse(entry.input) as ChaosActivation);
        else if (entry.operation === 'reset') this.applyReset((JSON.parse(entry.input) as { scope: ResetScope }).scope, entry.at, false);
      },
      snapshot: () => Buffer.from(JSON.stringify({ epoch: this.states.epoch, activation: this.activation ?? null })),
      restore: (snapshot) => {
        if (snapshot === undefined) return;
        const { epoch, activation } = JSON.parse(snapshot.toString()) as { epoch: number; activation: ChaosActivation | null };
        this.states.rebase(epoch);
        if (activation) this.applyActivation(activation);
      },
    };
  }

  /** a stored (or replicated) activation made the active one, its timeline where it stood */
  private applyActivation(activation: ChaosActivation): void {
    const a = activation as Partial<ChaosActivation> | null;
    if (a === null || typeof a !== 'object' || typeof a.text !== 'string' || typeof a.source !== 'string' || !Number.isFinite(a.activatedAt) || typeof a.byAdmin !== 'boolean') {
      throw new Error('not a chaos activation');
    }
    const chosen = this.options.chaos?.(activation, activation.activatedAt, this.name);
    if (chosen) this.adopt(chosen);
  }

  get seed(): number {
    return this.options.seed;
  }

  get clock(): Clock {
    return this.options.clock;
  }

  /** The system's state in this workspace, seeded (or rebuilt from the store) on first use. */
  stateOf(system: MountedSystem): unknown {
    return this.states.get(system);
  }

  /** Rebuilds every system's state from the store now (start-up), says what was replayed, and starts sending. */
  recover(): ReplayReport[] {
    const reports = this.states.recoverAll(this.options.systems);
    this.events.start();
    return reports;
  }

  /**
   * Stops sending (the workspace is deleted or the server stops); resolves once what replicas share is handed
   * back (delivery claims, the ticker lease) and the journal's last entries are appended.
   */
  stop(): Promise<void> {
    return Promise.all([this.events.stop(), this.sharedJournal?.close()]).then(() => undefined);
  }

  /**
   * Makes `stage` the active chaos, stored first (a StoreUnavailableError leaves the old one active). Replicas: the
   * activation is appended to the shared log, and every replica makes it active where the log places it.
   */
  activateChaos(stage: ChaosStage, activation: ChaosActivation): Promise<void> | undefined {
    const shared = this.store.shared;
    if (shared) return shared.append(WORKSPACE_PART, 'chaos', JSON.stringify(activation), () => this.adopt({ stage, activation }));
    this.store.saveChaos(activation);
    this.chaos = stage;
    this.activation = activation;
    return undefined;
  }

  /**
   * Moves the active profile's timeline so that it reads `toElapsedMs` now (POST /__admin/chaos/timeline). The
   * activation is stored first with the moved origin and the timeline's history, so that a restart resumes the
   * timeline where it stands, and a store that cannot be written (StoreUnavailableError) leaves it where it was.
   * Throws TooManyJumpsError (chaos-stage.ts) when the timeline has been moved too often; the workspace must run
   * a ChaosEngine (the caller checks).
   */
  jumpChaos(toElapsedMs: number): Promise<void> | undefined {
    const chaos = this.chaos;
    if (!(chaos instanceof ChaosEngine)) throw new Error(`workspace ${this.name} runs no chaos profile`);
    const now = this.options.clock.now();
    const timeline = chaos.jumped(toElapsedMs, now);
    const shared = this.store.shared;
    if (shared && this.activation !== undefined) {
      // the moved activation is the entry: every replica makes it active where the log places it
      const moved: ChaosActivation = { ...this.activation, activatedAt: now - toElapsedMs, timeline };
      return shared.append(WORKSPACE_PART, 'chaos', JSON.stringify(moved), () => {
        if (this.chaos === chaos) chaos.jump(toElapsedMs, now);
        else this.applyActivation(moved);
        this.activation = moved;
      });
    }
    if (this.activation !== undefined) {
      const moved: ChaosActivation = { ...this.activation, activatedAt: now - toElapsedMs, timeline };
      this.store.saveChaos(moved);
      this.activation = moved;
    }
    chaos.jump(toElapsedMs, now);
    return undefined;
  }

  /**
   * Back to the seeded start: state is rebuilt lazily on next use; the journal and counters start empty; the
   * chaos profile restarts its timeline (its jumps forgotten), counters and rate-limit windows. `state` also forgets deliveries and
   * their pending retries, `all` also admin-made subscriptions; `deliveries` forgets only deliveries. Stored
   * before it is done in memory, so a store that cannot be written (StoreUnavailableError) leaves the workspace
   * as it was; the promise resolves once the deliveries' part is committed.
   */
  reset(scope: ResetScope): Promise<void> | undefined {
    const shared = this.store.shared;
    if (shared) {
      // every replica resets where the log places the reset; this one also clears what is shared (the book, via
      // its own entries). Not awaited inside: those entries come after this one in the log
      let committed: Promise<void> | undefined;
      return shared.append(WORKSPACE_PART, 'reset', JSON.stringify({ scope }), (at) => {
        committed = this.applyReset(scope, at, true);
      }).then(() => committed);
    }
    return this.applyReset(scope, this.options.clock.now(), true);
  }

  /** A reset at `now`; `issuer`: this replica asked for it (it alone changes what replicas share) */
  private applyReset(scope: ResetScope, now: number, issuer: boolean): Promise<void> | undefined {
    let committed: Promise<void> | undefined;
    if (scope === 'all' || scope === 'state') {
      this.states.reset(now);
      // the states' reset dropped the workspace's whole log, the book's too: the book starts over in it
      if (issuer) committed = this.events.reset(scope);
      this.events.statesReset();
    }
    if (scope === 'deliveries' && issuer) committed = this.events.reset('deliveries');
    if (scope === 'all' || scope === 'journal') {
      this.store.clearJournal(this.journal.nextEntryId);
      this.journal.clear();
      this.counters = new Counters();
      // replicas: the shared journal is cleared once, by the replica that was asked
      if (issuer && this.sharedJournal) {
        const before = committed;
        committed = this.sharedJournal.clear().then(() => before);
      }
    }
    if (scope === 'all' || scope === 'chaos') {
      if (this.activation !== undefined) {
        // the timeline starts over: its history (jumps included) is the restart alone
        const restarted: ChaosActivation = { ...this.activation, activatedAt: now, timeline: [{ at: now, elapsedMs: 0, cause: 'restarted' }] };
        this.store.saveChaos(restarted);
        this.activation = restarted;
      }
      this.chaos.restart?.(now);
    }
    return committed;
  }
}

export type WorkspaceLookup = { workspace: Workspace } | { error: 'invalid-name' | 'limit-reached' };

export class Workspaces {
  private readonly byName = new Map<string, Workspace>();
  /** the next journal id of each workspace deleted in this run, for one re-created under its name */
  private readonly deletedJournalIds = new Map<string, number>();
  readonly default: Workspace;

  constructor(
    private readonly options: WorkspaceOptions,
    /** most workspaces alive at once, so that a client minting names cannot exhaust memory */
    readonly limit: number,
  ) {
    // the workspaces of the last run first, as they were; then the default one if it was not among them
    for (const stored of options.store.workspaces()) this.byName.set(stored.name, new Workspace(stored.name, options, stored));
    this.default = this.byName.get(DEFAULT_WORKSPACE) ?? new Workspace(DEFAULT_WORKSPACE, options);
    this.byName.set(DEFAULT_WORKSPACE, this.default);
  }

  /** Rebuilds every stored workspace's system states now (start-up), and says what was replayed where. */
  recover(): Array<{ workspace: string; systems: ReplayReport[] }> {
    return this.list().map((w) => ({ workspace: w.name, systems: w.recover() }));
  }

  /** The named workspace, in any case, created on first use under its lower-case name. */
  lookup(name: string): WorkspaceLookup {
    // names already in canonical form are found without a test or a new string (every /w/ request asks)
    const existing = this.byName.get(name);
    if (existing) return { workspace: existing };
    // tested before lower-casing: toLowerCase maps the Kelvin sign (U+212A) to "k" and would let it in
    if (!WORKSPACE_NAME.test(name)) return { error: 'invalid-name' };
    const canonical = name.toLowerCase();
    const known = this.byName.get(canonical);
    if (known) return { workspace: known };
    if (this.byName.size >= this.limit) return { error: 'limit-reached' };
    const workspace = new Workspace(canonical, this.options, undefined, this.deletedJournalIds.get(canonical));
    this.byName.set(canonical, workspace);
    return { workspace };
  }

  /** Stops every workspace's deliveries (the server is closing); resolves once each has let go of what it shares. */
  stopAll(): Promise<void> {
    return Promise.all([...this.byName.values()].map((w) => w.stop().catch(() => {}))).then(() => undefined);
  }

  list(): Workspace[] {
    return [...this.byName.values()];
  }

  /**
   * Forgets a workspace entirely (the default one can only be reset). `elsewhere`: replicas: another replica
   * deleted it (and what they share with it), this one only lets go of its own copy.
   */
  delete(name: string, { elsewhere = false } = {}): boolean {
    const canonical = name.toLowerCase();
    if (canonical === DEFAULT_WORKSPACE) return false;
    const workspace = this.byName.get(canonical);
    if (!workspace) return false;
    workspace.stop().catch(() => {});
    if (elsewhere) workspace.store.shared?.stop();
    else workspace.store.delete();
    this.deletedJournalIds.set(canonical, workspace.journal.nextEntryId);
    workspace.journal.release();
    return this.byName.delete(canonical);
  }
}
