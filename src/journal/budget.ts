/**
 * The memory all workspaces' journals may take together (limits.journalTotalBytes).
 *
 * Each journal is bounded on its own (limits.journalBytes, 32 MB by default), but a server with 50 busy workspaces
 * would then hold 1.6 GB of journal, reached within a minute of a load test that reads 26 KB change-feed pages.
 * Journals take their chunks from this shared budget as they grow; when it is spent, a journal that wants another
 * chunk reuses its own oldest one instead (it keeps less history), so the total stays within the budget plus one
 * chunk per workspace (every journal may always have its first chunk). Deleting a workspace gives its chunks back.
 */
export class JournalBudget {
  private used = 0;

  constructor(readonly totalBytes: number) {}

  /** Takes `bytes` from the budget when they are there. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.totalBytes) return false;
    this.used += bytes;
    return true;
  }

  /** Counts a chunk a journal allocates whatever the budget says (its first). */
  force(bytes: number): void {
    this.used += bytes;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }

  get usedBytes(): number {
    return this.used;
  }
}

/** A budget that never runs out: a journal used on its own (tests, tools). */
export const UNLIMITED = new JournalBudget(Number.POSITIVE_INFINITY);
