/**
 * Durable state (PRODUCT.md §1, "State is durable by default"): the interface every workspace persists through,
 * and the memory-only store used with `--data-dir ''` / `dataDir: none` (and by tests and the bench).
 *
 * Every system's state is a function of (seed, the accepted writes in order, their clock times), so what is
 * stored is not the state but the log of accepted writes, replayed at start-up, plus snapshots that bound the
 * replay. A system never touches the store itself: its protocol engine says what a write's input was
 * (ProtocolEngine.writeInput) and how to run it again (replayWrite), and the workspace's SystemStates logs it.
 * Admin changes that are state (the active chaos profile and when it was activated, a reset) are stored here
 * too; systems that arrive later (subscriptions, OAuth clients, rotated secrets) add their records the same way.
 *
 * A write is acknowledged only once its log row is committed: logWrite() resolves after the commit, which groups
 * every write of one event-loop turn into one transaction (one WAL append, one fsync under `durability: power`).
 */
import type { TimelineSegment } from '../chaos/chaos-stage.js';

/** One accepted write, as logged and as replayed. */
export interface LoggedWrite {
  /** the system's operation (REST operationId ...) */
  operation: string;
  /** what the handler read, as the protocol engine normalised it, as JSON text (taken before the handler ran) */
  input: string;
  /** clock time (ms) the handler saw: replay pins the clock to it */
  at: number;
  /** what it produced: the status it answered (replay checks it gets the same) */
  status: number;
}

/** What a system's state is rebuilt from: its latest snapshot, then the writes logged after it, oldest first. */
export interface SystemRecovery {
  snapshot?: Buffer;
  /** read as they are replayed (a long log is never all in memory at once) */
  writes: Iterable<LoggedWrite>;
}

/** The chaos profile a workspace runs, and since when (its timeline counts from activatedAt). */
export interface ChaosActivation {
  /** the profile's YAML or JSON text */
  text: string;
  /** where it came from: a built-in name, a file, "admin API" */
  source: string;
  /**
   * where its timeline counts from: the activation, or after a jump (POST /__admin/chaos/timeline) the clock time
   * at which the moved timeline would have read 0, so that a restart resumes it where it stood
   */
  activatedAt: number;
  /**
   * the timeline's history since the activation or the latest restart (chaos-stage.ts TimelineSegment), kept
   * across restarts so the report card still places windows right; absent: activated at activatedAt, never moved
   */
  timeline?: readonly TimelineSegment[];
  /** activated by PUT /__admin/chaos (kept across restarts) rather than the server's --profile */
  byAdmin: boolean;
}

/** A workspace as stored. */
export interface StoredWorkspace {
  name: string;
  createdAt: number;
  /** when its systems' states start: creation, or the latest state reset (the seeded start's clock time) */
  stateEpoch: number;
  /** the journal's next id (ids never repeat, so old cursors never point at new entries) */
  journalNextId: number;
  chaos: ChaosActivation | undefined;
}

/** Encoded journal entries as the journal recorded them, for persistence (journal-batches.ts). */
export interface JournalSink {
  recorded(id: number, startedAt: number, status: number, bytes: Buffer): void;
}

/** The journal's entries from disk, oldest first, as (id, start, status, encoded bytes). */
export type StoredJournalEntry = { id: number; startedAt: number; status: number; bytes: Buffer };

/** Thrown when a write cannot be stored (disk full, I/O error): the write is undone and answered 503. */
export class StoreUnavailableError extends Error {}

/**
 * What applies one part of a workspace's state (a system's state, the delivery book, the workspace's own
 * settings) from the shared log, when replicas share it (SharedLog).
 */
export interface LogPart {
  /** whether snapshot() can give the part's state (when one part cannot, the log is never trimmed) */
  readonly snapshots: boolean;
  /** applies an entry another replica appended (or this one, before a restart), at its place in the log */
  apply(entry: LoggedWrite): void;
  /** the part's state as a snapshot, now (undefined: it is at its seeded start) */
  snapshot(): Buffer | undefined;
  /** starts the part over from a snapshot (undefined: from its seeded start) */
  restore(snapshot: Buffer | undefined): void;
}

/**
 * The workspace's write log as replicas share it (`--redis`: replicas/workspace-log.ts). A write is appended
 * first, and runs when this replica's application of the log reaches it: every replica applies the same entries
 * in the same order, with the same clock times, so they all hold the same state.
 */
export interface SharedLog {
  /**
   * Appends an entry; resolves, once this replica has applied the log up to and including it, with what `own`
   * returned: it runs (instead of the part's apply) at the entry's place, given the entry's clock time. Rejects
   * with StoreUnavailableError when the entry cannot be appended (Redis unreachable), and nothing has changed.
   */
  append<T>(part: string, operation: string, input: string, own: (at: number) => T): Promise<T>;
  /** whether this replica has caught up with the log at least once (before that, its state is only seeded) */
  readonly started: boolean;
  /** resolves once every entry appended, by any replica, before the call has been applied here (a read's barrier) */
  caughtUp(): Promise<void>;
  /** told once, before the first entry is applied here, when the workspace was created (agreed among replicas) */
  onCreated: ((createdAt: number) => void) | undefined;
  /** stops applying (the workspace is deleted, here or elsewhere, or the replica stops) */
  stop(): void;
  /** who applies entries of `part` (a system's name, DELIVERIES, WORKSPACE_PART) */
  register(part: string, handler: LogPart): void;
}

/** One workspace's part of the store: the seam systems persist through. */
export interface WorkspaceStore {
  /** present when replicas share the workspace (--redis): writes go through it instead of logWrite */
  readonly shared?: SharedLog;
  /** false in memory-only mode: nothing is logged, so nothing need be prepared for it */
  readonly keepsWrites: boolean;
  /** why writes are refused right now (the disk was full a moment ago), or undefined when they are accepted */
  refusal(): string | undefined;
  /** logs an accepted write; resolves once committed, rejects with StoreUnavailableError when it cannot be */
  logWrite(system: string, write: LoggedWrite): Promise<void> | undefined;
  /**
   * resolves once every write logged so far has been committed (or has failed): an admin read that waits for it
   * shows nothing a restart could take back
   */
  whenCommitted(): Promise<void>;
  /**
   * set by the workspace: the system's state as a snapshot, now. The store calls it when a system's log has grown
   * long, at a moment when the state in memory is exactly what was committed, and drops the writes it covers.
   */
  snapshotter: ((system: string) => Buffer | undefined) | undefined;
  recover(system: string): SystemRecovery;
  saveChaos(activation: ChaosActivation): void;
  /** the systems' states start over at `epoch`: their logs and snapshots are dropped */
  resetState(epoch: number): void;
  /** the journal starts over; ids continue from `nextId` */
  clearJournal(nextId: number): void;
  readonly journal: JournalSink | undefined;
  journalEntries(): StoredJournalEntry[];
  /** forget the workspace entirely */
  delete(): void;
}

export interface StateStore {
  /** the data directory, or null in memory-only mode */
  readonly dataDir: string | null;
  /** the workspaces stored, with what they were at the last stop */
  workspaces(): StoredWorkspace[];
  /** the store of a workspace; creates its row when it is new */
  open(workspace: StoredWorkspace, journalOldestId: () => number): WorkspaceStore;
  /** resolves once everything handed to the store so far (journal batches included) is stored */
  settled(): Promise<void>;
  /** writes what is pending (journal batches) and closes; resolves once it is all stored */
  close(): Promise<void>;
}

/** Nothing is stored: state lives and dies with the process. */
class MemoryWorkspaceStore implements WorkspaceStore {
  readonly keepsWrites = false;
  readonly journal = undefined;
  snapshotter = undefined;
  refusal(): undefined {
    return undefined;
  }
  logWrite(): undefined {
    return undefined;
  }
  whenCommitted(): Promise<void> {
    return Promise.resolve();
  }
  recover(): SystemRecovery {
    return { writes: [] };
  }
  saveChaos(): void {}
  resetState(): void {}
  clearJournal(): void {}
  journalEntries(): StoredJournalEntry[] {
    return [];
  }
  delete(): void {}
}

export const memoryStore: StateStore = {
  dataDir: null,
  workspaces: () => [],
  open: () => new MemoryWorkspaceStore(),
  settled: () => Promise.resolve(),
  close: () => Promise.resolve(),
};
