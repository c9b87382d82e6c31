/**
 * GET /__admin/outbound[?listener=name]: the Outbound Messages the receiver (/sfdc/outbound) took in this
 * workspace, one entry per notification Id, newest receipt first: { notifications: [{ id, listener,
 * organizationId, actionId, sObject: { type, fields }, deliveries, duplicate, acked, firstReceived, lastReceived }] }.
 * `deliveries` counts the messages that carried the notification, `duplicate` is deliveries > 1, `acked` whether
 * the latest was answered <Ack>true</Ack>. A `state` reset forgets them.
 */
import type { Express, Request, Response } from 'express';
import type { MountedSystem } from '../engine/system.js';
import type { Workspace } from '../engine/workspace.js';
import { listNotifications, OUTBOUND_SYSTEM, type OutboundState } from '../systems/outbound/index.js';

type Send = (res: Response, status: number, slug: string, detail: string, extra?: Record<string, unknown>) => void;

export function addOutboundRoutes(app: Express, workspaceOf: (req: Request) => Workspace, sendProblem: Send, systems: readonly MountedSystem[]): void {
  // the built-in receiver (SOAP), not a --contract (REST) that happens to be named outbound
  const outbound = systems.find((s) => s.name === OUTBOUND_SYSTEM && s.engine.protocol === 'soap');

  app.get('/__admin/outbound', (req, res) => {
    if (outbound === undefined) {
      return sendProblem(res, 404, 'no-outbound', 'The Outbound Message receiver is not mounted on this server (systems.outbound.enabled: false), so it has received nothing.');
    }
    const unknown = Object.keys(req.query).filter((k) => k !== 'listener');
    if (unknown.length) return sendProblem(res, 400, 'bad-query', `Unknown query parameter ${unknown.join(', ')}; this route takes listener (default, or the {name} of /sfdc/outbound/{name}).`);
    const listener = req.query.listener;
    if (listener !== undefined && (typeof listener !== 'string' || listener === '')) {
      return sendProblem(res, 400, 'bad-listener', 'listener must be given once: default, or the {name} of /sfdc/outbound/{name}.');
    }
    const state = workspaceOf(req).states.get(outbound) as OutboundState;
    res.json({ notifications: listNotifications(state, { listener }) });
  });
}
