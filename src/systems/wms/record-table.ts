/**
 * Storage for reservations and shipments, and the two queues that keep a long-running workspace bounded.
 *
 * A record's id is derived from its number (RES-000001 is number 0), which must stay stable and deterministic
 * even after older records are pruned. RecordTable therefore keys records by number in a Map, so pruning one
 * frees it, and keeps the numbers in ascending order beside it, so a list can start at any number with a
 * binary search instead of walking over the gaps pruning leaves. Removed numbers are dropped from that order
 * lazily, once they make up half of it, so the cost stays proportional to the records that are stored.
 *
 * PairQueue is a first-in first-out queue of number pairs (the expiry deadlines, the order in which records
 * finished) that forgets what it has handed out, so it too holds only what is still pending.
 */

/** Removed or consumed entries are dropped once there are this many and they make up half the storage. */
export const COMPACT_AFTER = 1024;

export class RecordTable<T extends { index: number }> {
  private readonly byIndex = new Map<number, T>();
  /** the numbers of stored records, ascending, and removed ones not yet compacted away */
  private order: number[] = [];
  private removedInOrder = 0;
  private issuedCount = 0;

  /** How many numbers have been handed out; the next record gets this one. */
  get issued(): number {
    return this.issuedCount;
  }

  /** How many records are stored now. */
  get size(): number {
    return this.byIndex.size;
  }

  /** Stores a record under the next number (its `index` must be `issued`). */
  add(record: T): void {
    if (record.index !== this.issuedCount) throw new Error(`record ${record.index} added out of order (next is ${this.issuedCount})`);
    this.issuedCount++;
    this.byIndex.set(record.index, record);
    this.order.push(record.index);
  }

  get(index: number): T | undefined {
    return this.byIndex.get(index);
  }

  /** True when the number was handed out but its record is gone (pruned). */
  wasRemoved(index: number): boolean {
    return Number.isInteger(index) && index >= 0 && index < this.issuedCount && !this.byIndex.has(index);
  }

  remove(index: number): void {
    if (!this.byIndex.delete(index)) return;
    this.removedInOrder++;
    if (this.removedInOrder > COMPACT_AFTER && this.removedInOrder * 2 > this.order.length) {
      this.order = this.order.filter((i) => this.byIndex.has(i));
      this.removedInOrder = 0;
    }
  }

  /** Stored records numbered `from` or higher, in number order. */
  *from(from: number): IterableIterator<T> {
    const order = this.order;
    let low = 0;
    let high = order.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (order[mid] < from) low = mid + 1;
      else high = mid;
    }
    for (let i = low; i < order.length; i++) {
      const record = this.byIndex.get(order[i]);
      if (record !== undefined) yield record;
    }
  }
}

/** A FIFO of (a, b) pairs, stored interleaved in one array. */
export class PairQueue {
  private items: number[] = [];
  private head = 0;

  get length(): number {
    return (this.items.length - this.head) / 2;
  }

  push(a: number, b: number): void {
    this.items.push(a, b);
  }

  /** The oldest pair's first / second number; undefined when empty. */
  firstA(): number | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  firstB(): number | undefined {
    return this.head < this.items.length ? this.items[this.head + 1] : undefined;
  }

  shift(): void {
    if (this.head >= this.items.length) return;
    this.head += 2;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > COMPACT_AFTER * 2 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** Keeps only the pairs `keep` accepts, in order. */
  retain(keep: (a: number, b: number) => boolean): void {
    const kept: number[] = [];
    for (let i = this.head; i < this.items.length; i += 2) {
      if (keep(this.items[i], this.items[i + 1])) kept.push(this.items[i], this.items[i + 1]);
    }
    this.items = kept;
    this.head = 0;
  }
}
