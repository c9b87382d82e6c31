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
 *
 * Both turn into plain data and back for snapshots (snapshot.ts) exactly as they are, uncompacted parts included.
 */

/** Removed or consumed entries are dropped once there are this many and they make up half the storage. */
export const COMPACT_AFTER = 1024;

/** A RecordTable as plain data (snapshot.ts). */
export interface RecordTableData<T> {
  /** the stored records, in number order: the live objects, not copies */
  records: T[];
  /** the numbers of stored records and of removed ones not yet compacted away, ascending (from toData(): the live list) */
  order: ArrayLike<number>;
  removedInOrder: number;
  issued: number;
}

/** A PairQueue as plain data (snapshot.ts): its array, consumed head included (from toData(): the live one), and where the head is. */
export interface PairQueueData {
  items: ArrayLike<number>;
  head: number;
}

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

  /** The table as plain data: shares the records and the order, so serialise it before the table changes again. */
  toData(): RecordTableData<T> {
    return {
      records: [...this.byIndex.values()],
      order: this.order,
      removedInOrder: this.removedInOrder,
      issued: this.issuedCount,
    };
  }

  /** The table toData() described (adopting its records); throws when the data contradicts itself. */
  static fromData<T extends { index: number }>(data: RecordTableData<T>): RecordTable<T> {
    const { records, order, removedInOrder, issued } = data;
    if (!Number.isSafeInteger(issued) || issued < 0) throw new Error(`record table: bad issued count ${issued}`);
    // order ascends below `issued`, and the records are the numbers in it that were not removed, in order
    let stored = 0;
    for (let i = 0; i < order.length; i++) {
      const n = order[i];
      if (!Number.isInteger(n) || n < 0 || n >= issued || (i > 0 && n <= order[i - 1])) throw new Error(`record table: bad order at ${i}`);
      if (stored < records.length && records[stored]?.index === n) stored++;
    }
    if (stored !== records.length) throw new Error(`record table: record ${stored} is not in the order`);
    if (order.length - records.length !== removedInOrder) throw new Error('record table: removed count does not match the order');
    const table = new RecordTable<T>();
    for (const record of records) table.byIndex.set(record.index, record);
    table.order = numberList(order);
    table.removedInOrder = removedInOrder;
    table.issuedCount = issued;
    return table;
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

  /** The queue as plain data: shares its array, so serialise it before the queue changes again. */
  toData(): PairQueueData {
    return { items: this.items, head: this.head };
  }

  /** The queue toData() described; throws when the data contradicts itself. */
  static fromData(data: PairQueueData): PairQueue {
    const { items, head } = data;
    if (items.length % 2 !== 0 || !Number.isInteger(head) || head % 2 !== 0 || head < 0 || head > items.length) {
      throw new Error(`pair queue: head ${head} does not fit ${items.length} items`);
    }
    const queue = new PairQueue();
    queue.items = numberList(items);
    queue.head = head;
    return queue;
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

/** The values as a plain array, in a loop (Array.from is slower with a typed array of a million values). */
export function numberList(values: ArrayLike<number>): number[] {
  const list: number[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) list[i] = values[i];
  return list;
}
