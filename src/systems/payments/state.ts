/**
 * One workspace's payment gateway: customers, payment methods, charges, refunds, the ledger, stored idempotency
 * keys and the change list that webhooks are read from.
 *
 * Determinism: the state is a pure function of (seed, the accepted writes in order, their clock times). It reads
 * time only through the StateOptions clock (pinned while a write runs or replays), makes ids from (seed, kind,
 * counter) (ids.ts) and draws capture failures from (seed, charge id). Time-driven work, done by catchUp() before
 * every request and on the event bus's tick, is a function of the clock alone: a pending capture settles *at its
 * due time* (its ledger entry, its change and its webhook are stamped with it), and keys expire at theirs, so the
 * outcome never depends on when a read happened to notice.
 *
 * What grows: customers, payment methods, charges, refunds and ledger entries are kept for the life of the
 * workspace (they are the evidence: the ledger and the duplicate report read them). Idempotency keys and change
 * entries are bounded by `maxObjects` (limits.objects), oldest dropped first.
 */
import type { StateOptions } from '../../engine/system.js';
import type { Clock } from '../../util/clock.js';
import type { Brand, Decline } from './cards.js';
import { ChangeList, type ChangeKind } from './change-list.js';
import { IdempotencyKeys } from './idempotency.js';
import { objectId, seededUnit, type IdKind } from './ids.js';

export interface PaymentsStateOptions extends StateOptions {
  captureDelayMs: number;
  captureFailureRate: number;
  idempotencyKeyTtlMs: number;
  maxAmount: number;
  slowMs: number;
  maxObjects?: number;
}

export type Metadata = Record<string, string>;

export interface StoredCustomer {
  id: string;
  created: number;
  email: string | null;
  name: string | null;
  description: string | null;
  metadata: Metadata;
}

export interface StoredPaymentMethod {
  id: string;
  /** the test card it behaves like (cards.ts TEST_CARDS): only test numbers make payment methods */
  testCard: string;
  brand: Brand;
  last4: string;
  expMonth: number;
  expYear: number;
  created: number;
  metadata: Metadata;
}

export type ChargeStatus = 'succeeded' | 'pending' | 'failed';

export interface Outcome {
  network_status: 'approved_by_network' | 'declined_by_network';
  reason: string | null;
  seller_message: string;
  type: 'authorized' | 'issuer_declined';
}

/** A capture under way: when it settles, and who asked (the ledger's `capture` entry names them). */
export interface PendingCapture {
  dueAt: number;
  client: string;
  idempotencyKey: string | null;
}

export interface StoredCharge {
  /** creation order (0, 1, ...): lists and paging use it */
  index: number;
  id: string;
  amount: number;
  currency: string;
  customer: string | null;
  description: string | null;
  metadata: Metadata;
  paymentMethod: string;
  status: ChargeStatus;
  captured: boolean;
  amountCaptured: number;
  amountRefunded: number;
  failureCode: string | null;
  failureMessage: string | null;
  outcome: Outcome;
  created: number;
  /** who made it, and under which Idempotency-Key (duplicates and the ledger read these) */
  client: string;
  idempotencyKey: string | null;
  capture: PendingCapture | null;
}

export interface StoredRefund {
  id: string;
  amount: number;
  charge: string;
  currency: string;
  metadata: Metadata;
  reason: string | null;
  created: number;
}

export type LedgerType = 'charge' | 'capture' | 'refund';

export interface LedgerRecord {
  index: number;
  id: string;
  type: LedgerType;
  amount: number;
  currency: string;
  charge: string;
  refund: string | null;
  customer: string | null;
  description: string | null;
  client: string;
  idempotencyKey: string | null;
  created: number;
}

export const CAPTURE_FAILURE_CODE = 'processing_error';
export const CAPTURE_FAILURE_MESSAGE = 'An error occurred while capturing the charge.';

/** shared by every approved charge (frozen: views copy it), one object instead of one per charge */
export const APPROVED: Readonly<Outcome> = Object.freeze({ network_status: 'approved_by_network', reason: null, seller_message: 'Payment complete.', type: 'authorized' });

export function declinedOutcome(decline: Decline): Outcome {
  return {
    network_status: 'declined_by_network',
    reason: decline.declineCode,
    seller_message: `The bank returned the decline code \`${decline.declineCode}\`.`,
    type: 'issuer_declined',
  };
}

/** The configuration a state depends on besides the seed (stateOptions, snapshot check). */
export interface PaymentsConfig {
  captureDelayMs: number;
  captureFailureRate: number;
  idempotencyKeyTtlMs: number;
  maxAmount: number;
  slowMs: number;
  maxObjects: number | null;
}

export class PaymentsState {
  readonly seed: number;
  readonly clock: Clock;
  readonly config: PaymentsConfig;

  /** objects made so far, per id kind: the next id's counter */
  counters: Record<IdKind, number> = { cus: 0, pm: 0, ch: 0, re: 0, txn: 0 };
  readonly customers = new Map<string, StoredCustomer>();
  readonly paymentMethods = new Map<string, StoredPaymentMethod>();
  /** in creation order; chargeById indexes it */
  readonly charges: StoredCharge[] = [];
  readonly chargeById = new Map<string, StoredCharge>();
  readonly refunds = new Map<string, StoredRefund>();
  readonly ledger: LedgerRecord[] = [];
  readonly ledgerById = new Map<string, LedgerRecord>();
  /** charges whose capture is under way, by due time (then creation) */
  pendingCaptures: StoredCharge[] = [];
  keys: IdempotencyKeys;
  changes: ChangeList;

  constructor(options: PaymentsStateOptions) {
    this.seed = options.seed;
    this.clock = options.clock;
    this.config = configOf(options);
    this.keys = new IdempotencyKeys(options.idempotencyKeyTtlMs, options.maxObjects);
    this.changes = new ChangeList(options.maxObjects);
  }

  now(): number {
    return this.clock.now();
  }

  nextId(kind: IdKind): string {
    return objectId(this.seed, kind, this.counters[kind]++);
  }

  /** Applies what has fallen due by now: settles due captures (at their due times) and drops expired keys. */
  catchUp(): void {
    const now = this.now();
    while (this.pendingCaptures.length > 0 && this.pendingCaptures[0].capture!.dueAt <= now) {
      this.settleCapture(this.pendingCaptures.shift()!);
    }
    this.keys.expire(now);
  }

  /** When the next pending capture falls due, or undefined when none is pending. */
  nextCaptureDue(): number | undefined {
    return this.pendingCaptures[0]?.capture!.dueAt;
  }

  /** Keeps a new charge, giving it its index and id (the object given becomes the record: no copy per charge). */
  addCharge(fields: Omit<StoredCharge, 'index' | 'id'>): StoredCharge {
    const charge = fields as StoredCharge;
    charge.index = this.charges.length;
    charge.id = this.nextId('ch');
    this.charges.push(charge);
    this.chargeById.set(charge.id, charge);
    return charge;
  }

  /** Keeps a new ledger entry, giving it its index and id (the object given becomes the record). */
  addLedgerEntry(fields: Omit<LedgerRecord, 'index' | 'id'>): LedgerRecord {
    const entry = fields as LedgerRecord;
    entry.index = this.ledger.length;
    entry.id = this.nextId('txn');
    this.ledger.push(entry);
    this.ledgerById.set(entry.id, entry);
    return entry;
  }

  /**
   * A money movement of `charge` (its currency, customer and description): `amount` positive for a charge or a
   * capture, negative for a refund; who asked and under which key.
   */
  moveMoney(charge: StoredCharge, type: LedgerType, amount: number, refund: string | null, client: string, idempotencyKey: string | null, at: number): LedgerRecord {
    return this.addLedgerEntry({
      type,
      amount,
      currency: charge.currency,
      charge: charge.id,
      refund,
      customer: charge.customer,
      description: charge.description,
      client,
      idempotencyKey,
      created: at,
    });
  }

  recordChange(type: string, kind: ChangeKind, id: string, at: number): void {
    this.changes.add(type, kind, id, at);
  }

  /** Starts capturing an authorized charge: pending until `captureDelayMs` from now. */
  startCapture(charge: StoredCharge, client: string, idempotencyKey: string | null): void {
    charge.status = 'pending';
    charge.capture = { dueAt: this.now() + this.config.captureDelayMs, client, idempotencyKey };
    // due times only grow with a clock that never goes back; inserted in order anyway (a test clock may)
    let i = this.pendingCaptures.length;
    while (i > 0 && this.pendingCaptures[i - 1].capture!.dueAt > charge.capture.dueAt) i--;
    this.pendingCaptures.splice(i, 0, charge);
  }

  /** Whether the capture of this charge fails: seeded, a function of the charge id alone. */
  captureFails(chargeId: string): boolean {
    return seededUnit(this.seed, 'capture-failure', chargeId) < this.config.captureFailureRate;
  }

  private settleCapture(charge: StoredCharge): void {
    const { dueAt, client, idempotencyKey } = charge.capture!;
    charge.capture = null;
    if (this.captureFails(charge.id)) {
      // the authorization is released: no money moved
      charge.status = 'failed';
      charge.failureCode = CAPTURE_FAILURE_CODE;
      charge.failureMessage = CAPTURE_FAILURE_MESSAGE;
      this.recordChange('charge.failed', 'charge', charge.id, dueAt);
      return;
    }
    charge.status = 'succeeded';
    charge.captured = true;
    charge.amountCaptured = charge.amount;
    this.moveMoney(charge, 'capture', charge.amount, null, client, idempotencyKey, dueAt);
    this.recordChange('charge.succeeded', 'charge', charge.id, dueAt);
  }
}

export function configOf(options: Omit<PaymentsStateOptions, keyof StateOptions>): PaymentsConfig {
  return {
    captureDelayMs: options.captureDelayMs,
    captureFailureRate: options.captureFailureRate,
    idempotencyKeyTtlMs: options.idempotencyKeyTtlMs,
    maxAmount: options.maxAmount,
    slowMs: options.slowMs,
    maxObjects: options.maxObjects ?? null,
  };
}

