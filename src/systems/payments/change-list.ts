/**
 * The gateway's record of changes that become webhooks: an append-only list of `{seq, type, at, kind, id}`, where
 * `kind`/`id` name the charge or refund whose state the event shows. Events (events.ts) are read from it, so a
 * rebuilt state (log replay, snapshot) has the same list and the event bus the same positions.
 *
 * Bounded: beyond `max` entries the oldest are dropped (limits.objects). A subscriber that falls that far behind
 * misses them, as with the WMS change feed; sequence numbers keep counting, so positions stay valid.
 */
export type ChangeKind = 'charge' | 'refund';

export interface ChangeRecord {
  seq: number;
  type: string;
  /** clock time of the change (ms); a settled capture's is its due time */
  at: number;
  kind: ChangeKind;
  id: string;
}

export interface ChangeListData {
  latestSeq: number;
  entries: ChangeRecord[];
}

export class ChangeList {
  /** entries[head..] are live; the dropped prefix is compacted away once it is half the array */
  private entries: ChangeRecord[] = [];
  private head = 0;
  private latest = 0;

  constructor(private readonly max: number | undefined) {}

  get latestSeq(): number {
    return this.latest;
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  add(type: string, kind: ChangeKind, id: string, at: number): ChangeRecord {
    const entry = { seq: ++this.latest, type, at, kind, id };
    this.entries.push(entry);
    if (this.max !== undefined && this.size > this.max) {
      this.head += this.size - this.max;
      if (this.head * 2 >= this.entries.length) {
        this.entries = this.entries.slice(this.head);
        this.head = 0;
      }
    }
    return entry;
  }

  /** The live entries after `from`, oldest first, at most `limit`. Sequence numbers are consecutive. */
  since(from: number, limit: number): ChangeRecord[] {
    if (from >= this.latest) return [];
    const first = this.entries[this.head]?.seq ?? this.latest + 1;
    const start = this.head + Math.max(0, from + 1 - first);
    return this.entries.slice(start, start + limit);
  }

  toData(): ChangeListData {
    return { latestSeq: this.latest, entries: this.entries.slice(this.head) };
  }

  static fromData(data: ChangeListData, max: number | undefined): ChangeList {
    const list = new ChangeList(max);
    if (!Number.isSafeInteger(data.latestSeq) || !Array.isArray(data.entries)) throw new Error('changes: malformed');
    data.entries.forEach((e, i) => {
      if (i > 0 && e.seq !== data.entries[i - 1].seq + 1) throw new Error('changes: sequence numbers are not consecutive');
    });
    if (data.entries.length && data.entries[data.entries.length - 1].seq !== data.latestSeq) throw new Error('changes: latest sequence number mismatch');
    list.entries = data.entries.slice();
    list.latest = data.latestSeq;
    return list;
  }
}
