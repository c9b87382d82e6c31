/**
 * The fake payment gateway (issue #9): Stripe-like customers, card payment methods, charges (captured at once or
 * later, asynchronously), refunds, a ledger, webhooks and Stripe's idempotency rules, as the REST engine mounts
 * them. Everything domain-specific lives in the files this one imports; this file validates the options and wires
 * them together.
 */
import { fileURLToPath } from 'node:url';
import type { StateOptions } from '../../engine/system.js';
import type { RestHandler, RestSystemDefinition } from '../../protocols/rest/handler.js';
import { sanitizePaymentMethodBody } from './cards.js';
import { amountPrecheck, captureCharge, createCharge, getCharge, listCharges } from './charge-handlers.js';
import { createCustomer, getCustomer } from './customer-handlers.js';
import { createErrorShape } from './errors.js';
import { paymentsEvents } from './events.js';
import { idempotent, type Precheck, type SyncHandler } from './idempotency.js';
import { listLedgerEntries } from './ledger-handlers.js';
import { createPaymentMethod } from './payment-method-handlers.js';
import { createRefund } from './refund-handlers.js';
import { restorePayments, snapshotPayments } from './snapshot.js';
import { configOf, PaymentsState, type PaymentsStateOptions } from './state.js';

export { PaymentsState } from './state.js';
export { PAYMENTS_EVENT_TYPES } from './events.js';
export { findDuplicates, type DuplicateCharge, type DuplicateGroup } from './duplicates.js';

export interface PaymentsOptions {
  /** systems.payments.captureDelay: how long after POST /charges/{id}/capture the capture settles (ms); default 2000 */
  captureDelayMs: number;
  /** systems.payments.captureFailureRate: the probability that a capture fails, 0..1; default 0 */
  captureFailureRate: number;
  /** systems.payments.idempotencyKeyTtl: how long a key is kept after its first use (ms); default 24 h */
  idempotencyKeyTtlMs: number;
  /** systems.payments.maxAmount: the highest amount, 1..99999999 (default); a lower cap refuses larger amounts with a 400 storing nothing */
  maxAmount: number;
  /** how long pm_card_slow executes (ms), holding its Idempotency-Key; default 2000 */
  slowMs?: number;
  /** limits.objects: most idempotency keys and change entries kept per workspace (oldest dropped); absent: unbounded */
  maxObjects?: number;
  /** another contract file (a drifted variant in tests); default contracts/payments.openapi.yaml */
  contractFile?: string;
}

/** The contract's cap on amounts; the configured cap may only be lower. */
export const CONTRACT_MAX_AMOUNT = 99_999_999;
export const DEFAULT_SLOW_MS = 2_000;

/** The same relative URL works from src/systems/payments (vitest) and dist/systems/payments (after tsc): same depth. */
const DEFAULT_CONTRACT = fileURLToPath(new URL('../../../contracts/payments.openapi.yaml', import.meta.url));

/** POST operations: each wrapped by the idempotency rules, with its validation-like precheck. */
const writes: Record<string, { handler: SyncHandler; precheck?: Precheck }> = {
  createCustomer: { handler: createCustomer },
  createPaymentMethod: { handler: createPaymentMethod },
  createCharge: { handler: createCharge, precheck: amountPrecheck },
  captureCharge: { handler: captureCharge },
  createRefund: { handler: createRefund, precheck: amountPrecheck },
};

const reads: Record<string, SyncHandler> = { getCustomer, getCharge, listCharges, listLedgerEntries };

export function createPaymentsSystem(options: PaymentsOptions): RestSystemDefinition<PaymentsState> {
  const config = checkOptions(options);
  const stateOptions = (state: StateOptions): PaymentsStateOptions => ({ ...state, ...config, maxObjects: options.maxObjects });

  // Before each request the state settles the captures due by now and drops expired keys (state.ts catchUp).
  const handlers: Record<string, RestHandler<PaymentsState>> = {};
  const all: Record<string, SyncHandler> = { ...reads };
  for (const [operationId, { handler, precheck }] of Object.entries(writes)) all[operationId] = idempotent(handler, precheck);
  for (const [operationId, handler] of Object.entries(all)) {
    handlers[operationId] = (req, state) => {
      state.catchUp();
      return handler(req, state);
    };
  }

  return {
    name: 'payments',
    contractFile: options.contractFile ?? DEFAULT_CONTRACT,
    handlers,
    createState: (state) => new PaymentsState(stateOptions(state)),
    snapshotState: snapshotPayments,
    restoreState: (snapshot, state) => restorePayments(snapshot, stateOptions(state)),
    events: paymentsEvents,
    errorShape: createErrorShape(config.maxAmount),
    sanitizeBody: (operationId, body) => (operationId === 'createPaymentMethod' ? sanitizePaymentMethodBody(body) : body),
    // a card number may be sent to any of its routes (or none): every body is kept masked
    masksCardData: true,
    // replaying a log against other timings, another failure rate or another cap would build another gateway
    stateOptions: { ...configOf({ ...config, maxObjects: options.maxObjects }) },
  };
}

/** The options with defaults applied; throws on anything out of range (at start-up, not on some request). */
function checkOptions(options: PaymentsOptions): Omit<PaymentsStateOptions, keyof StateOptions | 'maxObjects'> {
  const { captureDelayMs, captureFailureRate, idempotencyKeyTtlMs, maxAmount, maxObjects } = options;
  const slowMs = options.slowMs ?? DEFAULT_SLOW_MS;
  const finiteAtLeast = (value: unknown, min: number) => typeof value === 'number' && Number.isFinite(value) && value >= min;
  if (!finiteAtLeast(captureDelayMs, 0)) throw new Error(`payments: captureDelayMs must be a number of ms >= 0, got ${String(captureDelayMs)}`);
  if (!finiteAtLeast(captureFailureRate, 0) || captureFailureRate > 1) {
    throw new Error(`payments: captureFailureRate must be a number from 0 to 1, got ${String(captureFailureRate)}`);
  }
  // a key must outlive the request that stored it, or a retry could never be replayed
  if (!finiteAtLeast(idempotencyKeyTtlMs, 1)) throw new Error(`payments: idempotencyKeyTtlMs must be a number of ms >= 1, got ${String(idempotencyKeyTtlMs)}`);
  if (!Number.isSafeInteger(maxAmount) || maxAmount < 1 || maxAmount > CONTRACT_MAX_AMOUNT) {
    throw new Error(`payments: maxAmount must be an integer from 1 to ${CONTRACT_MAX_AMOUNT} (the contract's cap), got ${String(maxAmount)}`);
  }
  if (!finiteAtLeast(slowMs, 0)) throw new Error(`payments: slowMs must be a number of ms >= 0, got ${String(slowMs)}`);
  // at least one: the key of the request that just ran must survive it
  if (maxObjects !== undefined && (!Number.isSafeInteger(maxObjects) || maxObjects < 1)) {
    throw new Error(`payments: maxObjects must be an integer >= 1, got ${String(maxObjects)}`);
  }
  return { captureDelayMs, captureFailureRate, idempotencyKeyTtlMs, maxAmount, slowMs };
}
