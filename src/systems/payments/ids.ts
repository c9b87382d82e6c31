/**
 * Deterministic object ids. A state must be a pure function of (seed, the accepted writes in order, their clock
 * times), so ids cannot come from a random source: each is a digest of (seed, kind, counter), where the counter
 * is how many objects of that kind the state has made. A rebuilt state (replayed log or restored snapshot) makes
 * the same ids in the same order. The digest is written in base62 so that ids match the contract's patterns
 * (`^ch_[A-Za-z0-9]+$`); `pm_` ids therefore never contain `_` after the prefix and cannot collide with the test
 * payment method ids (`pm_card_visa`).
 */
import { hash } from 'node:crypto';

export type IdKind = 'cus' | 'pm' | 'ch' | 're' | 'txn';

export const ID_KINDS: readonly IdKind[] = ['cus', 'pm', 'ch', 're', 'txn'];

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** characters after the prefix: 24 base62 characters are ~143 bits, far beyond any collision within a workspace */
const ID_LENGTH = 24;

export function objectId(seed: number, kind: IdKind, counter: number): string {
  // crypto.hash: the one-shot digest, without a Hash object per id (ids are made on every charge)
  const digest = hash('sha256', `understudy-payments/${seed}/${kind}/${counter}`, 'buffer');
  // the digest as a 256-bit number, written in base62 least significant digit first: long division by 62 over
  // eight 32-bit limbs (a remainder times 2^32 plus a limb stays below 2^38, exact in a double), which is what a
  // BigInt would do, without allocating one per step (ids are made on every charge: this is the traffic path)
  const limbs = [0, 4, 8, 12, 16, 20, 24, 28].map((at) => digest.readUInt32BE(at));
  let out = `${kind}_`;
  for (let digit = 0; digit < ID_LENGTH; digit++) {
    let remainder = 0;
    for (let i = 0; i < limbs.length; i++) {
      const value = remainder * 0x1_0000_0000 + limbs[i];
      limbs[i] = Math.floor(value / 62);
      remainder = value - limbs[i] * 62;
    }
    out += BASE62[remainder];
  }
  return out;
}

/**
 * A number in [0, 1) drawn from (seed, purpose, subject): the "seeded random source" of the contract, as a pure
 * function so that a capture's outcome is the same live and on replay, whenever it is settled.
 */
export function seededUnit(seed: number, purpose: string, subject: string): number {
  const digest = hash('sha256', `understudy-payments/${seed}/${purpose}/${subject}`, 'buffer');
  // 48 bits: exact in a double
  return digest.readUIntBE(0, 6) / 2 ** 48;
}
