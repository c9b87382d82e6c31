/**
 * What GET /__admin/outbound shows: one entry per notification Id, newest receipt first, in the shape PRODUCT.md's
 * admin table gives ({ id, listener, organizationId, actionId, sObject: { type, fields }, deliveries, duplicate,
 * acked }), plus when it was first and last received (ISO 8601).
 */
import type { OutboundState, StoredNotification } from './state.js';

export interface NotificationView {
  id: string;
  listener: string;
  organizationId: string;
  actionId: string;
  sObject: { type: string | null; fields: Record<string, string | null> };
  deliveries: number;
  duplicate: boolean;
  acked: boolean;
  firstReceived: string;
  lastReceived: string;
}

export interface ListOptions {
  /** only this listener's notifications (`default` or an endpoint name) */
  listener?: string;
}

export function listNotifications(state: OutboundState, options: ListOptions = {}): NotificationView[] {
  const all = state.list();
  const chosen = options.listener === undefined ? all : all.filter((n) => n.listener === options.listener);
  return chosen.map(viewOf);
}

function viewOf(n: StoredNotification): NotificationView {
  return {
    id: n.id,
    listener: n.listener,
    organizationId: n.organizationId,
    actionId: n.actionId,
    sObject: { type: n.sObject.type, fields: { ...n.sObject.fields } },
    deliveries: n.deliveries,
    duplicate: n.deliveries > 1,
    acked: n.acked,
    firstReceived: new Date(n.firstReceivedAt).toISOString(),
    lastReceived: new Date(n.lastReceivedAt).toISOString(),
  };
}
