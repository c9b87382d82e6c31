/**
 * One workspace's Outbound Message receiver: every notification received, by its notification Id (the key
 * Salesforce tells listeners to deduplicate by, since delivery is at least once), with how often it arrived and
 * whether the latest receipt was acknowledged.
 *
 * Determinism: the state is a pure function of (the accepted `notifications` writes in order, their clock times):
 * it reads time only through the StateOptions clock, which is pinned while a write runs or replays. The log is
 * replayed at start-up, so a notification delivered before a restart and again after it still counts as a
 * duplicate.
 *
 * What grows: one record per notification Id, bounded by `maxObjects` (limits.objects). The records are kept in
 * the order of their latest receipt; when there are too many, the one received longest ago goes first (a
 * notification redelivered a moment ago is the one a duplicate check still needs).
 */
import type { StateOptions } from '../../engine/system.js';
import type { Clock } from '../../util/clock.js';

export interface OutboundStateOptions extends StateOptions {
  /** limits.objects: most notification Ids kept per workspace (oldest receipt dropped first); absent: unbounded */
  maxObjects?: number;
}

/** The record a notification carried, as the SOAP engine reads an open element. */
export interface ReceivedSObject {
  /** the local part of its xsi:type (Account for sf:Account), or null when it had none */
  type: string | null;
  /** its child elements' text by local name (Id, Name ...), null for xsi:nil */
  fields: Record<string, string | null>;
}

export interface StoredNotification {
  /** the notification Id (18 characters), the same on every redelivery */
  id: string;
  /** `default` (/sfdc/outbound) or the endpoint name (/sfdc/outbound/orders → orders), of the latest receipt */
  listener: string;
  organizationId: string;
  /** the outbound message (workflow action) that sent it */
  actionId: string;
  /** the record as the latest receipt carried it (Salesforce sends the latest data when a record changed meanwhile) */
  sObject: ReceivedSObject;
  /** how many messages carried this notification */
  deliveries: number;
  /** whether the latest receipt was answered with <Ack>true</Ack> (a chaos noAck withholds it) */
  acked: boolean;
  /** clock times (ms) of the first and the latest receipt */
  firstReceivedAt: number;
  lastReceivedAt: number;
}

/** One `notifications` message, as the handler hands it over. */
export interface ReceivedMessage {
  listener: string;
  organizationId: string;
  actionId: string;
  notifications: Array<{ id: string; sObject: ReceivedSObject }>;
  /** the answer's Ack */
  acked: boolean;
}

export interface Receipt {
  id: string;
  /** true the first time this notification Id was seen (as far as the state remembers) */
  first: boolean;
}

export class OutboundState {
  readonly clock: Clock;
  readonly maxObjects: number | undefined;
  /** by notification Id, in the order of their latest receipt (oldest first) */
  readonly notifications = new Map<string, StoredNotification>();

  constructor(options: OutboundStateOptions) {
    this.clock = options.clock;
    this.maxObjects = options.maxObjects;
  }

  /**
   * Records every notification of one message. A notification Id that appears more than once in the same message
   * is one delivery, with the data of its last appearance.
   */
  receive(message: ReceivedMessage): Receipt[] {
    const at = this.clock.now();
    const receipts: Receipt[] = [];
    const inThisMessage = new Set<string>();
    for (const { id, sObject } of message.notifications) {
      const known = this.notifications.get(id);
      const again = inThisMessage.has(id);
      inThisMessage.add(id);
      const record: StoredNotification = {
        id,
        listener: message.listener,
        organizationId: message.organizationId,
        actionId: message.actionId,
        sObject: { type: sObject.type, fields: { ...sObject.fields } },
        deliveries: known === undefined ? 1 : again ? known.deliveries : known.deliveries + 1,
        acked: message.acked,
        firstReceivedAt: known?.firstReceivedAt ?? at,
        lastReceivedAt: at,
      };
      // moved to the end: the order is that of the latest receipt
      this.notifications.delete(id);
      this.notifications.set(id, record);
      if (!again) receipts.push({ id, first: known === undefined });
    }
    this.prune();
    return receipts;
  }

  /** newest receipt first; within one message, the later notification first */
  list(): StoredNotification[] {
    return [...this.notifications.values()].reverse();
  }

  /** drops the notifications received longest ago beyond maxObjects */
  prune(): void {
    if (this.maxObjects === undefined) return;
    let excess = this.notifications.size - this.maxObjects;
    for (const id of this.notifications.keys()) {
      if (excess-- <= 0) break;
      this.notifications.delete(id);
    }
  }
}
