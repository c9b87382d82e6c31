/**
 * The receiver for Salesforce Outbound Messages (issue #11 item 6), as the SOAP engine mounts it: /sfdc/outbound
 * and /sfdc/outbound/{name} (a listener per name) answer the `notifications` operation of
 * contracts/outbound.wsdl, record every Notification by its Id (repeat deliveries counted as duplicates) and
 * answer the Ack that a chaos `noAck` can withhold. GET /__admin/outbound lists what arrived (listNotifications).
 */
import { fileURLToPath } from 'node:url';
import type { StateOptions } from '../../engine/system.js';
import type { SoapSystemDefinition } from '../../protocols/soap/handler.js';
import { receiveNotifications } from './handlers.js';
import { restoreOutbound, snapshotOutbound } from './snapshot.js';
import { OutboundState, type OutboundStateOptions } from './state.js';

export { OutboundState, type StoredNotification, type ReceivedSObject } from './state.js';
export { listNotifications, type NotificationView, type ListOptions } from './views.js';
export { DEFAULT_LISTENER } from './handlers.js';

export interface OutboundOptions {
  /** limits.objects: most notification Ids kept per workspace (the one received longest ago dropped first); absent: unbounded */
  maxObjects?: number;
  /** another WSDL (tests); default contracts/outbound.wsdl */
  wsdlFile?: string;
}

export const OUTBOUND_SYSTEM = 'outbound';
export const OUTBOUND_MOUNT = '/sfdc/outbound';

/** The same relative URL works from src/systems/outbound (vitest) and dist/systems/outbound (after tsc): same depth. */
const DEFAULT_CONTRACT = fileURLToPath(new URL('../../../contracts/outbound.wsdl', import.meta.url));

export function createOutboundSystem(options: OutboundOptions = {}): SoapSystemDefinition<OutboundState> {
  const { maxObjects } = options;
  // at least one: the notification that just arrived must survive its own message
  if (maxObjects !== undefined && (!Number.isSafeInteger(maxObjects) || maxObjects < 1)) {
    throw new Error(`outbound: maxObjects must be an integer >= 1, got ${String(maxObjects)}`);
  }
  const stateOptions = (state: StateOptions): OutboundStateOptions => ({ ...state, maxObjects });
  return {
    name: OUTBOUND_SYSTEM,
    mount: OUTBOUND_MOUNT,
    wsdlFile: options.wsdlFile ?? DEFAULT_CONTRACT,
    handlers: { notifications: receiveNotifications },
    writes: ['notifications'],
    named: true,
    acknowledges: true,
    // a live session token when the org ticks "Send Session ID": never kept in the journal or the write log
    secretElements: ['SessionId'],
    createState: (state) => new OutboundState(stateOptions(state)),
    snapshotState: snapshotOutbound,
    restoreState: (snapshot, state) => restoreOutbound(snapshot, stateOptions(state)),
    // a log replayed under another bound would keep another set of notifications
    stateOptions: { maxObjects: maxObjects ?? null },
  };
}
