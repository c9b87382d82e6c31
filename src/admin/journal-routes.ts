/**
 * GET /__admin/journal (a page of entries, filtered: journal-query.ts) and GET /__admin/journal/:id (one entry in
 * full), PRODUCT.md §5.
 *
 * With replicas (--redis) the workspace's journal is a copy of the stream every replica records into
 * (journal/shared-journal.ts): it is brought up to date before it is read, so any replica answers over all of them,
 * and answers 503 when Redis cannot be read rather than a page that silently lacks the other replicas' entries.
 * Without replicas the journal is complete already and is read at once, as it always was.
 */
import type { Express, Request, Response } from 'express';
import type { Workspace } from '../engine/workspace.js';
import { JournalUnavailableError } from '../journal/shared-journal.js';
import { toFull, toSummary } from '../journal/views.js';
import { encodeCursor, parseJournalQuery } from './journal-query.js';

type Send = (res: Response, status: number, slug: string, detail: string, extra?: Record<string, unknown>) => void;

export function addJournalRoutes(app: Express, workspaceOf: (req: Request) => Workspace, sendProblem: Send): void {
  app.get('/__admin/journal', async (req, res) => {
    // the query is checked before anything is read: a bad one is a 400 whether Redis answers or not
    const query = parseJournalQuery(req.query as Record<string, unknown>);
    const journal = workspaceOf(req).journal;
    if (!(await caughtUp(workspaceOf(req), res, sendProblem))) return;
    const page = journal.query(query);
    res.json({
      entries: page.entries.map(toSummary),
      nextCursor: page.nextCursor === null ? null : encodeCursor(page.nextCursor),
      total: page.total,
      capacity: journal.capacity,
    });
  });

  app.get('/__admin/journal/:id', async (req, res) => {
    const id = String(req.params.id);
    const workspace = workspaceOf(req);
    if (!/^\d{1,15}$/.test(id)) return notFound(res, sendProblem, workspace, id);
    if (!(await caughtUp(workspace, res, sendProblem))) return;
    const entry = workspace.journal.get(Number(id));
    if (!entry) return notFound(res, sendProblem, workspace, id);
    res.json(toFull(entry));
  });
}

function notFound(res: Response, sendProblem: Send, workspace: Workspace, id: string): void {
  sendProblem(res, 404, 'no-such-entry', `The journal of workspace ${workspace.name} has no entry ${id} (it may have rotated out).`);
}

/**
 * Brings a shared journal up to date (nothing to do, and no waiting, for one that is not shared); answers 503 and
 * returns false when it cannot be. For every route that reads the journal (the report card too).
 */
export async function caughtUp(workspace: Workspace, res: Response, sendProblem: Send): Promise<boolean> {
  const pending = workspace.journal.catchUp();
  if (pending === undefined) return true;
  try {
    await pending;
    return true;
  } catch (err) {
    if (!(err instanceof JournalUnavailableError)) throw err;
    res.setHeader('retry-after', '1');
    sendProblem(res, 503, 'journal-unavailable', `The journal cannot be read right now: ${err.message}. Try again in a moment.`);
    return false;
  }
}
