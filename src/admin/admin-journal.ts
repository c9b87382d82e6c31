/**
 * Admin actions that a drill's history needs, journaled beside the traffic (issue #10: "the journal records the
 * jump"): an entry with no system, protocol `admin`, the action as its operation (`chaos.timeline`), the admin
 * request's method, path (without the /w/{ws} prefix, as every entry) and body, and the reply sent. The client is
 * the X-Understudy-Client header when it is a valid name, else `admin`: an admin action is not a client's call.
 *
 * Recorded straight into the workspace's journal (the admin app flushed the traffic's entries first, so ids stay
 * in completion order) and not counted in the workspace's request counters, which count traffic.
 */
import type { Request } from 'express';
import type { ReplyHeaders } from '../engine/exchange.js';
import type { Engine } from '../engine/pipeline.js';
import { CLIENT_NAME } from '../engine/seams.js';
import { DEFAULT_WORKSPACE, type Workspace } from '../engine/workspace.js';

export interface AdminAction {
  /** the journal's operation, e.g. chaos.timeline */
  operation: string;
  /** the request body as received */
  requestBody: Buffer | undefined;
  status: number;
  responseHeaders: ReplyHeaders;
  responseBody: string;
}

/** Journals one admin action of `workspace`; returns the entry's id (replicas: this replica's own, Journal.record). */
export function journalAdminAction(engine: Engine, req: Request, workspace: Workspace, action: AdminAction): number {
  const exchange = engine.start({
    workspace,
    prefix: workspace.name === DEFAULT_WORKSPACE ? '' : `/w/${workspace.name}`,
    method: req.method,
    path: req.path,
    rawQuery: req.originalUrl.split('?')[1] ?? '',
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    body: action.requestBody,
    remoteAddress: req.socket.remoteAddress ?? '',
  });
  exchange.operation = { id: action.operation, template: req.path, method: req.method };
  const claimed = req.headers['x-understudy-client'];
  exchange.client = typeof claimed === 'string' && CLIENT_NAME.test(claimed) ? claimed : 'admin';
  const endedAt = engine.clock.now();
  return workspace.journal.record(exchange, {
    status: action.status,
    responseHeaders: action.responseHeaders,
    responseBody: action.responseBody,
    responseBytes: Buffer.byteLength(action.responseBody),
    endedAt,
    durationMs: endedAt - exchange.startedAt,
    protocol: 'admin',
  });
}
