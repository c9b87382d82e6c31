/**
 * The receiver's one operation, `notifications`: the SOAP engine has validated the message against
 * contracts/outbound.wsdl (ids of 18 characters, 1 to 100 Notification elements) and hands over its content by
 * local name, each sObject as `{ type, fields }`. Every notification is recorded, and the answer is the one Ack
 * that covers the whole message: true, unless a chaos `noAck` withheld it (the message is recorded all the same,
 * so a redelivery shows up as a duplicate).
 */
import type { Effect } from '../../engine/exchange.js';
import type { SoapRequest, SoapResult } from '../../protocols/soap/handler.js';
import type { OutboundState, ReceivedSObject } from './state.js';

/** the listener of /sfdc/outbound itself; /sfdc/outbound/{name} is the listener {name} */
export const DEFAULT_LISTENER = 'default';

export function receiveNotifications(req: SoapRequest, state: OutboundState): SoapResult {
  const body = req.body;
  const acked = !req.ackWithheld;
  const notifications = (asArray(body.Notification) as Array<Record<string, any>>).map((n) => ({
    id: String(n.Id),
    sObject: sObjectOf(n.sObject),
  }));
  const receipts = state.receive({
    listener: req.endpoint ?? DEFAULT_LISTENER,
    organizationId: String(body.OrganizationId),
    actionId: String(body.ActionId),
    notifications,
    acked,
  });
  const effects: Effect[] = receipts.map((r) => ({ entity: 'notification', id: r.id, action: r.first ? 'created' : 'redelivered' }));
  return { body: { Ack: acked }, effects, changedState: true };
}

function asArray(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return value === undefined || value === null ? [] : [value];
}

/** the open element as the engine reads it; anything else (never, after validation) as an empty record */
function sObjectOf(value: unknown): ReceivedSObject {
  const open = (value ?? {}) as { type?: unknown; fields?: unknown };
  const given = open.fields && typeof open.fields === 'object' ? Object.entries(open.fields as Record<string, unknown>) : [];
  // fromEntries defines properties: a field named __proto__ is a field, not the object's prototype
  const fields: Record<string, string | null> = Object.fromEntries(
    given.map(([name, text]) => [name, text === null || text === undefined ? null : String(text)]),
  );
  return { type: typeof open.type === 'string' ? stripPrefix(open.type) : null, fields };
}

/** the engine gives the local part already; a prefixed name (sf:Account) is cut all the same */
function stripPrefix(type: string): string {
  const colon = type.indexOf(':');
  return colon === -1 ? type : type.slice(colon + 1);
}
