/**
 * One workspace's records of a stateful user contract: collections of records, each collection one resource
 * under one set of parent path values (the orders of store 1), records in insertion order.
 *
 * Built for the engine's durability rules (engine/system-states.ts): the state changes only through the CRUD
 * handlers, whose accepted writes the engine logs and replays, so everything here is a function of (seed, writes,
 * clock): ids come from a per-collection sequence (1, 2, 3 ... for integer ids; a hash of seed, collection and
 * sequence for uuids and strings, never crypto random), the clock is the one StateOptions gives (pinned at the
 * write's time during replays). Snapshots are JSON.
 *
 * Maps throughout, keyed by strings: ids and path values come from callers, and `__proto__` or `constructor` as
 * a key must be a record like any other, never a property lookup on an object's prototype.
 *
 * Bounded by limits.objects, records of all collections together: a write past it is refused (507), never made
 * room for by dropping the user's records in silence.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../../util/clock.js';
import { hashKey } from '../../../util/seeded-random.js';

export type RecordValue = Record<string, unknown>;

interface Collection {
  /** the next sequence number: ids and seeded samples derive from it; never reused after a delete */
  next: number;
  records: Map<string, RecordValue>;
}

/** what a snapshot holds (version 1) */
interface SnapshotV1 {
  v: 1;
  collections: Array<[key: string, next: number, records: Array<[id: string, record: RecordValue]>]>;
}

/** makes a string id the contract's schema accepts from a seed (SchemaSampler over the id's schema) */
export type IdGenerator = (seed: number) => string;

/** most candidates tried for a new id before the collection is called full of ids (a narrow id pattern) */
const MAX_GENERATED_ATTEMPTS = 1000;

/** alphabet of generated string ids: lower-case letters and digits, readable in a URL */
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const STRING_ID_LENGTH = 12;

export class ResourceState {
  private readonly collections = new Map<string, Collection>();
  private count = 0;

  constructor(
    readonly seed: number,
    readonly clock: Clock,
    /** limits.objects: most records of every collection together */
    readonly maxObjects: number,
  ) {}

  /** records of every collection */
  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count >= this.maxObjects;
  }

  get(collection: string, id: string): RecordValue | undefined {
    return this.collections.get(collection)?.records.get(id);
  }

  has(collection: string, id: string): boolean {
    return this.collections.get(collection)?.records.has(id) ?? false;
  }

  /** the collection's records, oldest first */
  list(collection: string): RecordValue[] {
    const found = this.collections.get(collection);
    return found ? [...found.records.values()] : [];
  }

  /** the sequence number the next record of the collection is made with */
  sequence(collection: string): number {
    return this.collections.get(collection)?.next ?? 1;
  }

  /**
   * A new id for the collection, not taken by any of its records: the sequence itself for integer ids (skipping
   * ones a client chose), else derived from (seed, collection, sequence). Changes nothing.
   */
  newId(collection: string, kind: 'integer' | 'uuid' | 'string', generate?: IdGenerator): number | string | undefined {
    const records = this.collections.get(collection)?.records;
    const start = this.sequence(collection);
    // a client's own ids can take at most `size` of the candidates: one more attempt finds a free one (a contract's
    // own id pattern may allow only a few ids: then it is given up on after as many tries)
    for (let attempt = 0; attempt <= (records?.size ?? 0) && attempt < MAX_GENERATED_ATTEMPTS; attempt++) {
      const candidate =
        kind === 'integer' ? start + attempt : generate !== undefined ? generate(hashKey(this.seed, collection, start, attempt)) : derivedId(this.seed, collection, start, attempt, kind);
      if (!records?.has(String(candidate))) return candidate;
    }
    return undefined;
  }

  /**
   * Adds a record under `id` (the caller checked it is free and that the state is not full). The sequence moves
   * past an integer id a client chose, so that generated integer ids only ever go up: a deleted id is never
   * given out again.
   */
  insert(collection: string, id: number | string, record: RecordValue): void {
    let found = this.collections.get(collection);
    if (!found) this.collections.set(collection, (found = { next: 1, records: new Map() }));
    const key = String(id);
    if (found.records.has(key)) throw new Error(`${collection} already has ${key}`);
    found.records.set(key, record);
    found.next = typeof id === 'number' && Number.isSafeInteger(id) && id >= found.next && id < Number.MAX_SAFE_INTEGER ? id + 1 : found.next + 1;
    this.count++;
  }

  /** Replaces an existing record in place (its position in the list is kept). */
  replace(collection: string, id: string, record: RecordValue): void {
    const found = this.collections.get(collection);
    if (!found?.records.has(id)) throw new Error(`${collection} has no ${id}`);
    found.records.set(id, record);
  }

  remove(collection: string, id: string): boolean {
    const found = this.collections.get(collection);
    if (!found?.records.delete(id)) return false;
    this.count--;
    return true;
  }

  snapshot(): Buffer {
    const snapshot: SnapshotV1 = { v: 1, collections: [...this.collections].map(([key, c]) => [key, c.next, [...c.records]]) };
    return Buffer.from(JSON.stringify(snapshot));
  }

  static restore(bytes: Buffer, seed: number, clock: Clock, maxObjects: number): ResourceState {
    const parsed = JSON.parse(bytes.toString('utf8')) as SnapshotV1;
    if (parsed?.v !== 1 || !Array.isArray(parsed.collections)) throw new Error('not a snapshot of a stateful contract (version 1)');
    const state = new ResourceState(seed, clock, maxObjects);
    for (const entry of parsed.collections) {
      const [key, next, records] = entry;
      if (typeof key !== 'string' || !Number.isSafeInteger(next) || !Array.isArray(records)) throw new Error('a stateful contract snapshot with a malformed collection');
      const map = new Map<string, RecordValue>();
      for (const [id, record] of records) {
        if (typeof id !== 'string' || record === null || typeof record !== 'object') throw new Error('a stateful contract snapshot with a malformed record');
        map.set(id, record);
      }
      state.collections.set(key, { next, records: map });
      state.count += map.size;
    }
    return state;
  }
}

/** A uuid (version 4 layout) or a short string, from a digest of (seed, collection, sequence, attempt). */
function derivedId(seed: number, collection: string, sequence: number, attempt: number, kind: 'uuid' | 'string'): string {
  const digest = createHash('sha256').update(`${seed}\n${collection}\n${sequence}\n${attempt}`).digest();
  if (kind === 'string') {
    let out = '';
    for (let i = 0; i < STRING_ID_LENGTH; i++) out += ID_ALPHABET[digest[i] % ID_ALPHABET.length];
    return out;
  }
  digest[6] = (digest[6] & 0x0f) | 0x40;
  digest[8] = (digest[8] & 0x3f) | 0x80;
  const hex = digest.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
