/**
 * A journal shared by replicas (`--redis`, PRODUCT.md §2: "the journal and the report card span all replicas"):
 * what a workspace's Journal needs from the place every replica's entries meet. The implementation over Redis is
 * replicas/journal-stream.ts; without --redis there is none, and the journal is exactly the in-memory ring.
 *
 * The model: one ordered stream per workspace. Each replica appends what it records; the stream gives every entry
 * its id, in its order, so ids are unique across replicas, only grow, and mean the same entry on every replica
 * (cursors and GET /__admin/journal/:id work wherever they are used). Each replica's ring is a copy of the stream,
 * brought up to date before anything reads it (catchUp), so every replica answers journal queries and the report
 * card over all of them, in the same order.
 *
 * The traffic path only hands entries over (recorded: no waiting, no throwing); they reach the stream a moment
 * later, in the order they were recorded. An entry links to another (auth.refreshOf, replayOf) by the id this
 * replica gave it when recording it; the link is changed to the stream's id when it is appended.
 */
import type { Journal } from './journal.js';

export interface SharedJournal {
  /**
   * Takes an entry this replica recorded: its own id for it (ids recorded later are larger) and its encoded bytes
   * (entry-codec.ts; the shared journal keeps them). Called on the traffic path: must neither throw nor wait.
   */
  recorded(localId: number, bytes: Buffer): void;
  /** Makes `journal` the copy of the stream, and this the place it sends what it records (journal.shareThrough). */
  attach(journal: Journal): void;
  /**
   * Brings the copy up to date: everything this replica recorded before the call is appended first, then whatever
   * the stream holds that the copy does not is read into it. Rejects with JournalUnavailableError when the stream
   * cannot be reached (the copy stays as it was).
   */
  catchUp(): Promise<void>;
  /**
   * The journal was cleared here (Journal.clear: a reset, replicated to every replica): the copy reads the stream
   * again from its start at the next catch-up, so it ends up holding what the stream holds after the reset.
   */
  rewind(): void;
  /**
   * Clears the stream for every replica (called by the replica a reset was asked of; the others only clear their
   * copies). Ids keep counting, so a cursor handed out before cannot point at a later entry. Rejects with
   * JournalUnavailableError when the stream cannot be reached.
   */
  clear(): Promise<void>;
  /** How far this replica's entries are from the stream, for health. */
  status(): SharedJournalStatus;
  /** Stops (the workspace is deleted or the server stops): one last try to append what waits, then no more. */
  close(): Promise<void>;
}

export interface SharedJournalStatus {
  /** entries recorded here and not appended yet (Redis is slow or unreachable) */
  waiting: number;
  /** entries recorded here that were never appended: more waited than the journal's byte limit allows */
  lost: number;
}

/** The shared journal cannot be reached (Redis is down): a read is answered 503, and nothing was changed. */
export class JournalUnavailableError extends Error {}
