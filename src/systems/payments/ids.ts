/**
 * Deterministic object ids. A state must be a pure function of (seed, the accepted writes in order, their clock
 * times), so ids cannot come from a random source: each is a digest of (seed, kind, counter), where the counter
 * is how many objects of that kind the state has made. A rebuilt state (replayed log or restored snapshot) makes
 * the same ids in the same order. The digest is written in base62 so that ids match the contract's patterns
 * (`^ch_[A-Za-z0-9]+$`); `pm_` ids therefore never contain `_` after the prefix and cannot collide with the test
 * payment method ids (`pm_card_visa`).
 */
import { createHash } from 'node:crypto';

export type IdKind = 'cus' | 'pm' | 'ch' | 're' | 'txn';

export const ID_KINDS: readonly IdKind[] = ['cus', 'pm', 'ch', 're', 'txn'];

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** characters after the prefix: 24 base62 characters are ~143 bits, far beyond any collision within a workspace */
const ID_LENGTH = 24;

export function objectId(seed: number, kind: IdKind, counter: number): string {
  const digest = createHash('sha256').update(`understudy-payments/${seed}/${kind}/${counter}`).digest();
  let n = BigInt('0x' + digest.toString('hex'));
  let out = '';
  while (out.length < ID_LENGTH) {
    out += BASE62[Number(n % 62n)];
    n /= 62n;
  }
  return `${kind}_${out}`;
}

/**
 * A number in [0, 1) drawn from (seed, purpose, subject): the "seeded random source" of the contract, as a pure
 * function so that a capture's outcome is the same live and on replay, whenever it is settled.
 */
export function seededUnit(seed: number, purpose: string, subject: string): number {
  const digest = createHash('sha256').update(`understudy-payments/${seed}/${purpose}/${subject}`).digest();
  // 48 bits: exact in a double
  return digest.readUIntBE(0, 6) / 2 ** 48;
}
