/**
 * The state as bytes for the store's snapshots, and back. JSON in a Buffer: the gateway's state is small next to
 * the WMS's stock columns, and every record is already plain data. The snapshot names its format, the seed and
 * the configuration it was taken with; restoring refuses bytes that are not a payments snapshot, or were taken
 * with another seed or configuration (ids and capture outcomes derive from the seed, timings from the options),
 * as a log replays only against the same.
 *
 * Kept: id counters, customers, payment methods, charges (pending captures with their due times), refunds, the
 * ledger, the idempotency keys with their stored responses and expiry, and the change list (for the event bus's
 * positions).
 */
import { ChangeList, type ChangeListData } from './change-list.js';
import { IdempotencyKeys, type StoredKey } from './idempotency.js';
import { ID_KINDS, type IdKind } from './ids.js';
import {
  configOf,
  PaymentsState,
  type LedgerRecord,
  type PaymentsStateOptions,
  type StoredCharge,
  type StoredCustomer,
  type StoredPaymentMethod,
  type StoredRefund,
} from './state.js';

const FORMAT = 'understudy-payments-snapshot';
const VERSION = 1;

interface SnapshotData {
  format: string;
  version: number;
  seed: number;
  config: Record<string, unknown>;
  counters: Record<IdKind, number>;
  customers: StoredCustomer[];
  paymentMethods: StoredPaymentMethod[];
  charges: StoredCharge[];
  refunds: StoredRefund[];
  ledger: LedgerRecord[];
  keys: StoredKey[];
  changes: ChangeListData;
}

export function snapshotPayments(state: PaymentsState): Buffer {
  const data: SnapshotData = {
    format: FORMAT,
    version: VERSION,
    seed: state.seed,
    config: { ...state.config },
    counters: { ...state.counters },
    customers: [...state.customers.values()],
    paymentMethods: [...state.paymentMethods.values()],
    charges: state.charges,
    refunds: [...state.refunds.values()],
    ledger: state.ledger,
    keys: state.keys.entries(),
    changes: state.changes.toData(),
  };
  return Buffer.from(JSON.stringify(data), 'utf8');
}

export function restorePayments(bytes: Buffer, options: PaymentsStateOptions): PaymentsState {
  let data: SnapshotData;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new Error('payments snapshot: not a payments snapshot (not JSON)');
  }
  if (!data || typeof data !== 'object' || data.format !== FORMAT) throw new Error('payments snapshot: not a payments snapshot (no format tag)');
  if (data.version !== VERSION) throw new Error(`payments snapshot: format version ${String(data.version)}, this build reads version ${VERSION}`);
  const differences: string[] = [];
  if (data.seed !== options.seed) differences.push(`seed ${String(data.seed)} (now ${options.seed})`);
  const config = configOf(options) as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(config)) {
    if (data.config?.[name] !== value) differences.push(`${name} ${JSON.stringify(data.config?.[name])} (now ${JSON.stringify(value)})`);
  }
  if (differences.length) throw new Error(`payments snapshot: taken with other options: ${differences.join(', ')}`);

  try {
    const state = new PaymentsState(options);
    for (const kind of ID_KINDS) {
      if (!Number.isSafeInteger(data.counters[kind]) || data.counters[kind] < 0) throw new Error(`counter ${kind}`);
      state.counters[kind] = data.counters[kind];
    }
    for (const c of data.customers) state.customers.set(c.id, c);
    for (const pm of data.paymentMethods) state.paymentMethods.set(pm.id, pm);
    data.charges.forEach((c, i) => {
      if (c.index !== i || typeof c.id !== 'string') throw new Error(`charge ${i} out of order`);
      state.charges.push(c);
      state.chargeById.set(c.id, c);
    });
    state.pendingCaptures = state.charges.filter((c) => c.capture !== null).sort((a, b) => a.capture!.dueAt - b.capture!.dueAt || a.index - b.index);
    for (const r of data.refunds) {
      if (!state.chargeById.has(r.charge)) throw new Error(`refund ${r.id} of an unknown charge`);
      state.refunds.set(r.id, r);
    }
    data.ledger.forEach((e, i) => {
      if (e.index !== i || typeof e.id !== 'string') throw new Error(`ledger entry ${i} out of order`);
      state.ledger.push(e);
      state.ledgerById.set(e.id, e);
    });
    state.keys = IdempotencyKeys.fromEntries(data.keys, options.idempotencyKeyTtlMs, options.maxObjects);
    state.changes = ChangeList.fromData(data.changes, options.maxObjects);
    return state;
  } catch (err) {
    throw new Error(`payments snapshot: corrupt (${err instanceof Error ? err.message : String(err)})`);
  }
}
