/**
 * One workspace's system states, and the one path by which they change durably.
 *
 * A state is a function of (seed, the accepted writes in order, their clock times). To keep it so across a
 * restart:
 * - a state starts at the workspace's state epoch (its creation or latest reset): it is created with the clock
 *   pinned there, so time-driven behaviour (stock simulation, reservation expiry) counts from the same moment
 *   whether the state is created now or rebuilt after a restart;
 * - a write runs with the clock pinned to one instant, logged with it, so that every clock read the handler makes
 *   gives the same answer when the write is replayed;
 * - an accepted (2xx) write is logged through the workspace's store, and its reply is released only once the log
 *   row is committed. When it cannot be committed (disk full) the state is dropped and rebuilt from the store on
 *   next use, so the write never happened, and the caller gets a 503;
 * - on first use after a restart, the state is rebuilt from its latest snapshot and the writes logged after it;
 * - what a state does on its own whose outcome depends on when it ran (StateOptions.record) is logged as an event
 *   (`event:NAME`) and replayed at its time among the writes.
 */
import type { Clock } from '../util/clock.js';
import type { Exchange, Reply } from './exchange.js';
import { StoreUnavailableError, type LoggedWrite, type LogPart, type SharedLog, type WorkspaceStore } from '../store/store.js';
import type { MountedSystem } from './system.js';

/**
 * The clock a workspace's states read: the server's clock, never going backwards, or one instant while a write
 * runs or replays. Never backwards because states apply what fell due (expiries, simulated changes) up to the
 * latest time they were asked at, reads included, and reads are not logged: were a write stamped earlier than a
 * read before it (the wall clock stepped back), its replay would apply less than the live write saw.
 */
export class StateClock implements Clock {
  private pinned: number | undefined;
  private latest = -Infinity;

  constructor(readonly base: Clock) {}

  now(): number {
    if (this.pinned !== undefined) return this.pinned;
    const now = this.base.now();
    if (now > this.latest) this.latest = now;
    return this.latest;
  }

  /** Pins to the current time (as now() would answer) and returns it: a live write. */
  pinNow(): number {
    const at = this.now();
    this.pinned = at;
    return at;
  }

  /** Pins to a logged time: a replay (the latest time seen follows it). */
  pin(at: number): void {
    this.pinned = at;
    if (at > this.latest) this.latest = at;
  }

  unpin(): void {
    this.pinned = undefined;
  }
}

/** operations in the log that are a state's recorded events, not writes */
const EVENT = 'event:';
/** operations in the log that are admin commands (MountedSystem.applyCommand) */
const COMMAND = 'command:';

export interface ReplayReport {
  system: string;
  snapshot: boolean;
  writes: number;
  /** logged writes that answered another status when replayed (the system is not deterministic) */
  diverged: number;
}

export class SystemStates {
  readonly clock: StateClock;
  /**
   * by system name: several mounts of one system (the ERP's SOAP endpoint and its OData 4.0 and 2.0 services) are
   * one state, created and snapshotted by the first of them and logged under the one name
   */
  private readonly states = new Map<string, unknown>();
  /** every mount of each system, the first one owning the state's life cycle (create, snapshot, restore) */
  private readonly byName = new Map<string, MountedSystem[]>();
  /** replicas: the systems the shared log has written to (one without snapshots then keeps the log from being trimmed) */
  private readonly loggedToShared = new Set<string>();
  /** rebuilding a state: the events it records are the log's own, already there */
  private replaying = false;

  constructor(
    private readonly workspace: string,
    private readonly store: WorkspaceStore,
    private readonly seed: number,
    baseClock: Clock,
    /** clock time the states start at (the workspace's creation or latest state reset) */
    private epoch_: number,
    systems: readonly MountedSystem[],
  ) {
    this.clock = new StateClock(baseClock);
    for (const system of systems) {
      const mounts = this.byName.get(system.name);
      if (mounts) mounts.push(system);
      else this.byName.set(system.name, [system]);
    }
    store.snapshotter = (name) => {
      const system = this.byName.get(name)?.[0];
      const state = this.states.get(name);
      return system?.snapshotState && state !== undefined ? system.snapshotState(state) : undefined;
    };
    // replicas (--redis): entries other replicas appended are applied here as a restart replays them
    const shared = store.shared;
    if (shared) for (const [name, [owner]] of this.byName) shared.register(name, this.logPart(name, owner));
  }

  /** How the shared log applies, snapshots and restores one system's state (replicas). */
  private logPart(name: string, system: MountedSystem): LogPart {
    const canSnapshot = system.snapshotState !== undefined && system.restoreState !== undefined;
    const logged = this.loggedToShared;
    return {
      // a system without snapshots (the alert sinks) can be snapshotted as long as nothing in the log wrote to it
      get snapshots() {
        return canSnapshot || !logged.has(name);
      },
      apply: (write) => {
        logged.add(name);
        const state = this.get(system);
        this.replaying = true;
        this.clock.pin(write.at);
        try {
          this.replayOne(system, state, write);
        } finally {
          this.clock.unpin();
          this.replaying = false;
        }
      },
      snapshot: () => {
        const state = this.states.get(name);
        return state === undefined || system.snapshotState === undefined ? undefined : system.snapshotState(state);
      },
      restore: (snapshot) => {
        if (snapshot === undefined) {
          this.states.delete(name);
          return;
        }
        this.clock.pin(this.epoch_);
        try {
          this.states.set(name, system.restoreState!(snapshot, this.stateOptions(system)));
        } finally {
          this.clock.unpin();
        }
      },
    };
  }

  private stateOptions(system: MountedSystem) {
    return { seed: this.seed, clock: this.clock, record: (event: string, at: number) => this.record(system, event, at) };
  }

  /** The workspace's states start at `epoch` (replicas: the creation time they agreed on), seeded afresh on next use. */
  rebase(epoch: number): void {
    if (epoch === this.epoch_) return;
    this.epoch_ = epoch;
    this.states.clear();
  }

  /** told after an admin command changed a system's state (the workspace's event bus listens) */
  afterCommand: ((system: MountedSystem) => void) | undefined;

  /** clock time the states started at: the workspace's creation or latest state reset */
  get epoch(): number {
    return this.epoch_;
  }

  /** The system's state, rebuilt from the store (or seeded) on first use. */
  get(system: MountedSystem): unknown {
    let state = this.states.get(system.name);
    if (state === undefined) {
      state = this.recover(this.owner(system)).state;
      this.states.set(system.name, state);
    }
    return state;
  }

  /** the mount that owns the state of `system`'s name (itself unless the system is mounted more than once) */
  private owner(system: MountedSystem): MountedSystem {
    return this.byName.get(system.name)?.[0] ?? system;
  }

  /** Rebuilds every system's state now (at start-up, so that a log that cannot be replayed is found then). */
  recoverAll(systems: readonly MountedSystem[]): ReplayReport[] {
    // one state per system name, rebuilt through the mount that owns it
    const owners = [...new Set(systems.map((s) => this.owner(s)))];
    return owners.map((system) => {
      let recovered;
      try {
        recovered = this.recover(system);
      } catch (err) {
        throw new Error(
          `workspace ${this.workspace}: the stored ${system.name} state cannot be rebuilt (${err instanceof Error ? err.message : String(err)}); run the version of understudy that wrote it, or start over with --reset-state`,
        );
      }
      this.states.set(system.name, recovered.state);
      return recovered.report;
    });
  }

  /**
   * Runs a write: the handler (through `invoke`) with the clock pinned, then, when it was accepted, the log. The
   * reply comes back once the write is committed (a promise, unless the store keeps nothing).
   */
  write(system: MountedSystem, exchange: Exchange, input: unknown, invoke: (state: unknown) => Reply | Promise<Reply>): Reply | Promise<Reply> {
    const refusal = this.store.refusal();
    if (refusal !== undefined) return unavailable(system, refusal, exchange);
    const shared = this.store.shared;
    if (shared) return this.writeShared(shared, system, exchange, input, invoke);
    // as the request was, before the handler could change any of it
    const logged = this.store.keepsWrites ? JSON.stringify(input) : '';
    const state = this.get(system);
    const at = this.clock.pinNow();
    let reply: Reply | Promise<Reply>;
    try {
      reply = invoke(state);
    } finally {
      this.clock.unpin();
    }
    const operation = exchange.operation!.id;
    if (reply instanceof Promise) return reply.then((r) => this.log(system, exchange, operation, logged, at, r));
    return this.log(system, exchange, operation, logged, at, reply);
  }

  /**
   * A write when replicas share the log: appended first, run when this replica's application of the log reaches it
   * (after every write appended before it, wherever), with the clock pinned to the entry's time. A refusal (4xx) is
   * appended too: every replica refuses it alike, so it changes nothing anywhere.
   */
  private writeShared(shared: SharedLog, system: MountedSystem, exchange: Exchange, input: unknown, invoke: (state: unknown) => Reply | Promise<Reply>): Promise<Reply> {
    const owner = this.owner(system);
    const run = (at: number): Reply | Promise<Reply> => {
      this.loggedToShared.add(system.name);
      const state = this.get(owner);
      this.clock.pin(at);
      try {
        return invoke(state);
      } finally {
        this.clock.unpin();
      }
    };
    return shared.append(system.name, exchange.operation!.id, JSON.stringify(input), run).then(
      (reply) => reply,
      (err: unknown) => {
        if (!(err instanceof StoreUnavailableError)) throw err;
        exchange.effects.length = 0;
        return unavailable(system, err.message, exchange);
      },
    );
  }

  /**
   * Runs an admin command on the system's state (MountedSystem.applyCommand) with the clock pinned, and logs it
   * with its input; resolves with what the command returned once it is committed. A CommandError (bad input)
   * changes nothing and is thrown before anything is logged; StoreUnavailableError when the store refuses.
   */
  async command(system: MountedSystem, name: string, input: unknown): Promise<unknown> {
    if (!system.applyCommand) throw new Error(`${system.name} takes no commands`);
    const refusal = this.store.refusal();
    if (refusal !== undefined) throw new StoreUnavailableError(refusal);
    const logged = JSON.stringify(input);
    const shared = this.store.shared;
    if (shared) {
      const result = await shared.append(system.name, COMMAND + name, logged, (at) => {
        this.loggedToShared.add(system.name);
        const state = this.get(this.owner(system));
        this.clock.pin(at);
        try {
          return system.applyCommand!(state, name, input);
        } finally {
          this.clock.unpin();
        }
      });
      this.afterCommand?.(system);
      return result;
    }
    const state = this.get(system);
    const at = this.clock.pinNow();
    let result: unknown;
    try {
      result = system.applyCommand(state, name, input);
    } finally {
      this.clock.unpin();
    }
    try {
      await this.store.logWrite(system.name, { operation: COMMAND + name, input: logged, at, status: 200 });
    } catch (err) {
      // undo, as for a write: rebuilt from what was committed on next use
      this.states.delete(system.name);
      throw err;
    }
    this.afterCommand?.(system);
    return result;
  }

  /** Back to the seeded start at `epoch`: states are created afresh on next use. */
  reset(epoch: number): void {
    this.store.resetState(epoch);
    this.epoch_ = epoch;
    this.states.clear();
  }

  private log(system: MountedSystem, exchange: Exchange, operation: string, input: string, at: number, reply: Reply): Reply | Promise<Reply> {
    // refusals change nothing (every handler checks before it writes): only accepted writes are logged, unless
    // the system says otherwise (a declined charge is kept; a replayed answer changes nothing)
    if (!(reply.changedState ?? (reply.status >= 200 && reply.status < 300))) return reply;
    const committed = this.store.logWrite(system.name, { operation, input, at, status: reply.status });
    if (committed === undefined) return reply;
    return committed.then(
      () => reply,
      (err: unknown) => {
        if (!(err instanceof StoreUnavailableError)) throw err;
        // undo: the state in memory is ahead of the log; the next use rebuilds it from what was committed
        this.states.delete(system.name);
        exchange.effects.length = 0;
        return unavailable(system, err.message, exchange);
      },
    );
  }

  private recover(system: MountedSystem): { state: unknown; report: ReplayReport } {
    const { snapshot, writes } = this.store.recover(system.name);
    const options = this.stateOptions(system);
    const report: ReplayReport = { system: system.name, snapshot: false, writes: 0, diverged: 0 };
    this.clock.pin(this.epoch_);
    this.replaying = true;
    try {
      let state: unknown;
      if (snapshot !== undefined && system.restoreState) {
        state = system.restoreState(snapshot, options);
        report.snapshot = true;
      } else state = system.createState(options);
      for (const write of writes) {
        report.writes++;
        this.clock.pin(write.at);
        const status = this.replayOne(system, state, write);
        if (status !== undefined && status !== write.status) report.diverged++;
      }
      return { state, report };
    } finally {
      this.replaying = false;
      this.clock.unpin();
    }
  }

  /** Applies one logged write, command or event to `state` (the clock pinned by the caller); a write's status. */
  private replayOne(system: MountedSystem, state: unknown, write: LoggedWrite): number | undefined {
    if (write.operation.startsWith(EVENT)) {
      system.replayEvent?.(state, write.operation.slice(EVENT.length));
      return undefined;
    }
    if (write.operation.startsWith(COMMAND)) {
      if (!system.applyCommand) throw new Error(`${system.name} has logged commands but takes none`);
      system.applyCommand(state, write.operation.slice(COMMAND.length), JSON.parse(write.input));
      return undefined;
    }
    const engine = this.replayerOf(system.name, write.operation);
    if (!engine?.replayWrite) throw new Error(`${system.name} has logged ${write.operation} writes but no mount of it can replay them`);
    return engine.replayWrite(write.operation, JSON.parse(write.input), state, this.workspace);
  }

  /** the engine of the mount of `name` that serves `operation` (the SOAP endpoint's UpsertCustomer, OData's Customers.update) */
  private replayerOf(name: string, operation: string): MountedSystem['engine'] | undefined {
    const mounts = this.byName.get(name) ?? [];
    const serving = mounts.find((m) => m.engine.replayWrite && m.engine.operations?.some((op) => op.id === operation));
    return (serving ?? mounts.find((m) => m.engine.replayWrite))?.engine;
  }

  /**
   * Logs an event a state recorded. Nothing waits for it: a write that follows is committed with it or after it,
   * so no acknowledged write can depend on an event the log lacks.
   */
  private record(system: MountedSystem, event: string, at: number): void {
    if (this.replaying) return;
    const shared = this.store.shared;
    if (shared) {
      // applied here already; the others apply it where the log places it (see the README's limits on replicas)
      shared.append(system.name, EVENT + event, 'null', () => undefined).catch(() => this.states.delete(system.name));
      return;
    }
    // not stored: the state has taken a turn the log cannot replay, so it is rebuilt from the log on next use
    this.store.logWrite(system.name, { operation: EVENT + event, input: 'null', at, status: 0 })?.catch(() => this.states.delete(system.name));
  }
}

function unavailable(system: MountedSystem, why: string, exchange: Exchange): Reply {
  const reply = system.engine.errorReply(503, 'Service Unavailable', `The write was not made: ${why}.`, undefined, exchange);
  reply.headers['retry-after'] = '1';
  return reply;
}
