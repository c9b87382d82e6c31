/** createPaymentsSystem: what it exports, and options refused at creation rather than on some request. */
import { describe, expect, it } from 'vitest';
import { createPaymentsSystem } from '../../../src/systems/payments/index.js';
import { DEFAULT_OPTIONS, operationOf } from './fixtures.js';

describe('createPaymentsSystem', () => {
  it('has a handler for every operation of the contract, and the seams the engine needs', () => {
    const system = createPaymentsSystem(DEFAULT_OPTIONS);
    expect(system.name).toBe('payments');
    const ids = ['createCustomer', 'getCustomer', 'createPaymentMethod', 'createCharge', 'listCharges', 'getCharge', 'captureCharge', 'createRefund', 'listLedgerEntries'];
    for (const id of ids) expect(operationOf(id)).toBeDefined();
    expect(Object.keys(system.handlers).sort()).toEqual([...ids].sort());
    expect(system.stateOptions).toEqual({ captureDelayMs: 2000, captureFailureRate: 0, idempotencyKeyTtlMs: 86_400_000, maxAmount: 99_999_999, slowMs: 2000, maxObjects: null });
    expect(system.masksCardData).toBe(true);
    for (const hook of ['snapshotState', 'restoreState', 'errorShape', 'sanitizeBody'] as const) expect(typeof system[hook]).toBe('function');
  });

  it.each([
    ['captureDelayMs', -1],
    ['captureDelayMs', Number.NaN],
    ['captureFailureRate', 1.01],
    ['captureFailureRate', -0.1],
    ['idempotencyKeyTtlMs', 0],
    ['idempotencyKeyTtlMs', Number.POSITIVE_INFINITY],
    ['maxAmount', 0],
    ['maxAmount', 100_000_000],
    ['maxAmount', 10.5],
    ['slowMs', -5],
    ['maxObjects', 0],
    ['maxObjects', 2.5],
  ])('refuses %s = %s', (name, value) => {
    expect(() => createPaymentsSystem({ ...DEFAULT_OPTIONS, [name]: value })).toThrow(new RegExp(`payments: ${name}`));
  });

  it('accepts the bounds', () => {
    expect(() => createPaymentsSystem({ captureDelayMs: 0, captureFailureRate: 1, idempotencyKeyTtlMs: 1, maxAmount: 1, slowMs: 0, maxObjects: 1 })).not.toThrow();
    expect(() => createPaymentsSystem({ ...DEFAULT_OPTIONS, maxAmount: 99_999_999 })).not.toThrow();
  });
});
