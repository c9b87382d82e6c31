/**
 * The receiver's state as bytes for the store's snapshots, and back: JSON naming its format and the bound it was
 * kept with. The notifications are kept in the order of their latest receipt, which is what the listing and the
 * pruning read. Restoring refuses bytes that are not an outbound snapshot, or were taken with another maxObjects
 * (pruning would have kept another set), as a log replays only against the same.
 */
import { OutboundState, type OutboundStateOptions, type StoredNotification } from './state.js';

const FORMAT = 'understudy-outbound-snapshot';
const VERSION = 1;

interface SnapshotData {
  format: string;
  version: number;
  maxObjects: number | null;
  /** oldest receipt first */
  notifications: StoredNotification[];
}

export function snapshotOutbound(state: OutboundState): Buffer {
  const data: SnapshotData = {
    format: FORMAT,
    version: VERSION,
    maxObjects: state.maxObjects ?? null,
    notifications: [...state.notifications.values()],
  };
  return Buffer.from(JSON.stringify(data), 'utf8');
}

export function restoreOutbound(bytes: Buffer, options: OutboundStateOptions): OutboundState {
  let data: SnapshotData;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new Error('outbound snapshot: not an outbound snapshot (not JSON)');
  }
  if (!data || typeof data !== 'object' || data.format !== FORMAT) throw new Error('outbound snapshot: not an outbound snapshot (no format tag)');
  if (data.version !== VERSION) throw new Error(`outbound snapshot: format version ${String(data.version)}, this build reads version ${VERSION}`);
  const now = options.maxObjects ?? null;
  if (data.maxObjects !== now) throw new Error(`outbound snapshot: taken with other options: maxObjects ${JSON.stringify(data.maxObjects)} (now ${JSON.stringify(now)})`);
  if (!Array.isArray(data.notifications)) throw new Error('outbound snapshot: no notifications list');
  const state = new OutboundState(options);
  for (const n of data.notifications) {
    if (!isStoredNotification(n)) throw new Error('outbound snapshot: a notification record is damaged');
    state.notifications.set(n.id, n);
  }
  return state;
}

function isStoredNotification(n: unknown): n is StoredNotification {
  if (!n || typeof n !== 'object') return false;
  const r = n as Record<string, unknown>;
  const sObject = r.sObject as Record<string, unknown> | null | undefined;
  return (
    typeof r.id === 'string' &&
    typeof r.listener === 'string' &&
    typeof r.organizationId === 'string' &&
    typeof r.actionId === 'string' &&
    typeof r.deliveries === 'number' &&
    typeof r.acked === 'boolean' &&
    typeof r.firstReceivedAt === 'number' &&
    typeof r.lastReceivedAt === 'number' &&
    !!sObject &&
    typeof sObject === 'object' &&
    (sObject.type === null || typeof sObject.type === 'string') &&
    !!sObject.fields &&
    typeof sObject.fields === 'object'
  );
}
