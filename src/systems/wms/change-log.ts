/**
 * The change feed's index: which record changed last at which sequence number, in sequence order.
 *
 * The feed shows each record once, at its most recent change. Sequence numbers 1..N are the seeded inventory
 * records (SKU index = seq - 1, timestamps from the seed template), so a workspace starts with a complete feed
 * without storing a million entries. Later changes are appended to parallel arrays; appending a record's change
 * supersedes its earlier entry, which stays in place but is skipped (an entry is live when the record's current
 * sequence number is still the entry's). When superseded entries outnumber live ones the appended part is
 * compacted, so the log stays proportional to the number of changed records.
 *
 * Records can also be pruned (limits.objects: finished reservations and shipments, oldest first). Their entries
 * die with them, which keeps the history bounded, but a caller whose cursor lies before a pruned entry would
 * never learn of that record's last change; `horizon` is the highest sequence number pruned so far, and the
 * feed refuses to resume from a cursor below it (410) instead of silently skipping.
 *
 * Both parts are ordered by sequence number and by timestamp (the state never stamps a change earlier than the
 * previous one), so a page starts with a binary search by cursor or by `updatedSince`, never a scan from the
 * start. Skipping superseded seeded entries is a tight loop over a typed array.
 */

export type ChangeEntity = 'inventory' | 'reservation' | 'shipment';

/** One live feed entry: `ref` is the SKU index, or the reservation's / shipment's number. */
export interface ChangeRef {
  seq: number;
  entity: ChangeEntity;
  ref: number;
  updatedAt: number;
}

/** The record's current sequence number (0 when it was pruned): how the log tells live entries from dead ones. */
export type CurrentSeq = (entity: ChangeEntity, ref: number) => number;

const COMPACT_AFTER_SUPERSEDED = 1024;

/** Entities as numbers in ChangeLogData, by position. */
const ENTITY_CODES: readonly ChangeEntity[] = ['inventory', 'reservation', 'shipment'];

/**
 * A ChangeLog as plain data (snapshot.ts): the appended part, dead entries not yet compacted included, and its
 * counters. The seeded part is not in it: it follows from the seed template. From toData() the number columns
 * are the log's own lists, not copies: serialise them before the log changes again.
 */
export interface ChangeLogData {
  seqs: ArrayLike<number>;
  /** index into ENTITY_CODES */
  entities: ArrayLike<number>;
  refs: ArrayLike<number>;
  stamps: ArrayLike<number>;
  superseded: number;
  last: number;
  prunedUpTo: number;
}

export class ChangeLog {
  private seqs: number[] = [];
  private entities: ChangeEntity[] = [];
  private refs: number[] = [];
  private stamps: number[] = [];
  /** appended entries that are no longer live (superseded or pruned) */
  private superseded = 0;
  private last: number;
  private prunedUpTo = 0;

  constructor(
    /** how many seeded inventory records occupy sequence numbers 1..seededCount */
    private readonly seededCount: number,
    /** their timestamps, non-decreasing (shared with the seed template, never written) */
    private readonly seededStamps: Float64Array,
    private readonly currentSeq: CurrentSeq,
  ) {
    this.last = seededCount;
  }

  toData(): ChangeLogData {
    // a loop, not Array.from with a mapping function: the log may hold a million entries
    const entities = new Uint8Array(this.entities.length);
    for (let i = 0; i < entities.length; i++) entities[i] = ENTITY_CODES.indexOf(this.entities[i]);
    return {
      seqs: this.seqs,
      entities,
      refs: this.refs,
      stamps: this.stamps,
      superseded: this.superseded,
      last: this.last,
      prunedUpTo: this.prunedUpTo,
    };
  }

  /** The log toData() described, over the same seeded part; throws when the data contradicts itself. */
  static fromData(data: ChangeLogData, seededCount: number, seededStamps: Float64Array, currentSeq: CurrentSeq): ChangeLog {
    const { seqs, entities, refs, stamps, superseded, last, prunedUpTo } = data;
    const n = seqs.length;
    if (entities.length !== n || refs.length !== n || stamps.length !== n) throw new Error('change log: columns of different lengths');
    if (!Number.isSafeInteger(last) || last < seededCount + n || (n > 0 && seqs[n - 1] > last)) {
      throw new Error(`change log: bad last sequence number ${last}`);
    }
    if (!Number.isSafeInteger(superseded) || superseded < 0) throw new Error(`change log: bad superseded count ${superseded}`);
    if (!Number.isSafeInteger(prunedUpTo) || prunedUpTo < 0 || prunedUpTo > last) throw new Error(`change log: bad horizon ${prunedUpTo}`);
    for (let i = 0; i < n; i++) {
      // page() binary-searches both columns
      const ordered = seqs[i] > (i === 0 ? seededCount : seqs[i - 1]) && (i === 0 || stamps[i] >= stamps[i - 1]);
      if (!ordered) throw new Error(`change log: entry ${i} out of order`);
      if (entities[i] >= ENTITY_CODES.length) throw new Error(`change log: entry ${i} has no entity`);
    }
    const log = new ChangeLog(seededCount, seededStamps, currentSeq);
    log.seqs = numbers(seqs);
    log.entities = new Array(n);
    for (let i = 0; i < n; i++) log.entities[i] = ENTITY_CODES[entities[i]];
    log.refs = numbers(refs);
    log.stamps = numbers(stamps);
    log.superseded = superseded;
    log.last = last;
    log.prunedUpTo = prunedUpTo;
    return log;
  }

  /** The highest sequence number issued so far. */
  get latestSeq(): number {
    return this.last;
  }

  /** The highest sequence number whose record was pruned (0: none): a cursor below it has missed a change. */
  get horizon(): number {
    return this.prunedUpTo;
  }

  /** How many entries the appended part holds, live or not yet compacted away. */
  get appendedLength(): number {
    return this.seqs.length;
  }

  /** Records a change; returns its sequence number. `previousSeq` is the record's last one (0 when new). */
  append(entity: ChangeEntity, ref: number, stamp: number, previousSeq: number): number {
    const seq = ++this.last;
    this.seqs.push(seq);
    this.entities.push(entity);
    this.refs.push(ref);
    this.stamps.push(stamp);
    if (previousSeq > this.seededCount) {
      this.superseded++;
      // until the caller stores the returned number, the record still claims previousSeq: say which is live
      this.compactIfWorthIt(seq, previousSeq);
    }
    return seq;
  }

  /** The record whose latest change is `seq` has been pruned: its entry dies and moves the horizon. */
  forget(seq: number): void {
    if (seq > this.prunedUpTo) this.prunedUpTo = seq;
    if (seq <= this.seededCount) return;
    this.superseded++;
    this.compactIfWorthIt(0, 0);
  }

  /**
   * Up to `limit` live entries with a sequence number above `afterSeq` and a timestamp at or after `since`,
   * in sequence order, and whether more follow.
   */
  page(afterSeq: number, since: number | undefined, limit: number): { entries: ChangeRef[]; hasMore: boolean } {
    const end = this.seededCount + this.seqs.length;
    let position = Math.max(this.positionAfterSeq(afterSeq), since === undefined ? 0 : this.positionSince(since));
    const entries: ChangeRef[] = [];
    let hasMore = false;
    for (; position < end; position++) {
      const entry = this.liveEntryAt(position);
      if (entry === undefined) continue;
      if (entries.length === limit) {
        hasMore = true;
        break;
      }
      entries.push(entry);
    }
    return { entries, hasMore };
  }

  /** Positions: 0..seededCount-1 are the seeded records, then the appended entries in order. */
  private liveEntryAt(position: number): ChangeRef | undefined {
    if (position < this.seededCount) {
      const seq = position + 1;
      if (this.currentSeq('inventory', position) !== seq) return undefined;
      return { seq, entity: 'inventory', ref: position, updatedAt: this.seededStamps[position] };
    }
    const i = position - this.seededCount;
    const seq = this.seqs[i];
    const entity = this.entities[i];
    const ref = this.refs[i];
    if (this.currentSeq(entity, ref) !== seq) return undefined;
    return { seq, entity, ref, updatedAt: this.stamps[i] };
  }

  /** First position whose sequence number is above `afterSeq`. */
  private positionAfterSeq(afterSeq: number): number {
    if (afterSeq < this.seededCount) return afterSeq;
    return this.seededCount + lowerBound(this.seqs, afterSeq + 1);
  }

  /** First position whose timestamp is at or after `since`. */
  private positionSince(since: number): number {
    const seeded = lowerBound(this.seededStamps, since);
    if (seeded < this.seededCount) return seeded;
    return this.seededCount + lowerBound(this.stamps, since);
  }

  /**
   * Drops dead entries once they are many and at least half the log. During append() the record being changed
   * still reports its previous number: `newSeq` is live and `oldSeq` dead whatever currentSeq says.
   */
  private compactIfWorthIt(newSeq: number, oldSeq: number): void {
    if (this.superseded <= COMPACT_AFTER_SUPERSEDED || this.superseded * 2 <= this.seqs.length) return;
    const seqs: number[] = [];
    const entities: ChangeEntity[] = [];
    const refs: number[] = [];
    const stamps: number[] = [];
    for (let i = 0; i < this.seqs.length; i++) {
      const seq = this.seqs[i];
      const live = seq === newSeq || (seq !== oldSeq && this.currentSeq(this.entities[i], this.refs[i]) === seq);
      if (!live) continue;
      seqs.push(this.seqs[i]);
      entities.push(this.entities[i]);
      refs.push(this.refs[i]);
      stamps.push(this.stamps[i]);
    }
    this.seqs = seqs;
    this.entities = entities;
    this.refs = refs;
    this.stamps = stamps;
    this.superseded = 0;
  }
}

/** A typed array's values as a plain array (a loop: Array.from is slower at a million entries). */
function numbers(values: ArrayLike<number>): number[] {
  const list: number[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) list[i] = values[i];
  return list;
}

/** Index of the first element >= value in an ascending list (its length when there is none). */
function lowerBound(list: ArrayLike<number>, value: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (list[mid] < value) low = mid + 1;
    else high = mid;
  }
  return low;
}
