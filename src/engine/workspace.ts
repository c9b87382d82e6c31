/**
 * Workspaces isolate tenants of one server (PRODUCT.md §2): each has its own system state, journal, counters and
 * chaos stage. `/w/{name}/...` selects one; plain paths use `default`. A workspace is created on first use with the
 * server's seed, so two CI jobs that use different workspaces never see each other's writes.
 *
 * Names are case-insensitive, because Salesforce sandbox names (the natural workspace names) are often upper
 * case: /w/UAT and /w/uat are one workspace, known by its lower-case name in the admin API and the journal.
 */
import type { JournalBudget } from '../journal/budget.js';
import { Journal } from '../journal/journal.js';
import type { Clock } from '../util/clock.js';
import { noChaos, type ChaosStage } from './seams.js';
import type { MountedSystem } from './system.js';

/** what a workspace name may be, in any case; ASCII only, so lower-casing cannot turn other letters into these */
export const WORKSPACE_NAME = /^[A-Za-z0-9-]{1,40}$/;
export const DEFAULT_WORKSPACE = 'default';

export type ResetScope = 'all' | 'state' | 'journal' | 'chaos';

export interface WorkspaceOptions {
  seed: number;
  clock: Clock;
  journalEntries: number;
  journalBytes: number;
  /** shared by every workspace's journal (limits.journalTotalBytes); absent: each bounded only by journalBytes */
  journalBudget?: JournalBudget;
  journalBodyBytes: number;
  /** the chaos stage a new workspace starts with (the server's profile) */
  createChaos?: () => ChaosStage;
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
  /** the active chaos profile's stage; replaced by PUT /__admin/chaos */
  chaos: ChaosStage;
  private readonly states = new Map<MountedSystem, unknown>();

  constructor(
    readonly name: string,
    private readonly options: WorkspaceOptions,
  ) {
    this.journal = new Journal(name, { maxEntries: options.journalEntries, maxBytes: options.journalBytes, bodyBytes: options.journalBodyBytes }, options.journalBudget);
    this.createdAt = options.clock.now();
    this.chaos = options.createChaos?.() ?? noChaos;
  }

  get seed(): number {
    return this.options.seed;
  }

  get clock(): Clock {
    return this.options.clock;
  }

  /** The system's state in this workspace, seeded on first use. */
  stateOf(system: MountedSystem): unknown {
    let state = this.states.get(system);
    if (state === undefined) {
      state = system.createState({ seed: this.options.seed, clock: this.options.clock });
      this.states.set(system, state);
    }
    return state;
  }

  /**
   * Back to the seeded start: state is rebuilt lazily on next use; the journal and counters start empty; the
   * chaos profile restarts its timeline, counters and rate-limit windows.
   */
  reset(scope: ResetScope): void {
    if (scope === 'all' || scope === 'chaos') this.chaos.restart?.();
    if (scope === 'all' || scope === 'state') this.states.clear();
    if (scope === 'all' || scope === 'journal') {
      this.journal.clear();
      this.counters = new Counters();
    }
  }
}

export type WorkspaceLookup = { workspace: Workspace } | { error: 'invalid-name' | 'limit-reached' };

export class Workspaces {
  private readonly byName = new Map<string, Workspace>();
  readonly default: Workspace;

  constructor(
    private readonly options: WorkspaceOptions,
    /** most workspaces alive at once, so that a client minting names cannot exhaust memory */
    readonly limit: number,
  ) {
    this.default = new Workspace(DEFAULT_WORKSPACE, options);
    this.byName.set(DEFAULT_WORKSPACE, this.default);
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
    const workspace = new Workspace(canonical, this.options);
    this.byName.set(canonical, workspace);
    return { workspace };
  }

  list(): Workspace[] {
    return [...this.byName.values()];
  }

  /** Forgets a workspace entirely (the default one can only be reset). */
  delete(name: string): boolean {
    const canonical = name.toLowerCase();
    if (canonical === DEFAULT_WORKSPACE) return false;
    const workspace = this.byName.get(canonical);
    if (!workspace) return false;
    workspace.journal.release();
    return this.byName.delete(canonical);
  }
}
