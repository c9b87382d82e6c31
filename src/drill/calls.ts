/**
 * Every call of the drill, as the HTML plot needs it: read from the journal (GET /__admin/journal, newest first,
 * a thousand a page) and counted into time buckets per client and outcome as the pages arrive, so neither the
 * drill's memory nor report.html grows with the traffic: a 30-minute drill at thousands of calls a second plots
 * as a few hundred buckets per client.
 */
import type { AdminClient, JournalSummary } from './admin-client.js';

export type Outcome = 'ok' | '4xx' | '5xx' | 'none';
export const OUTCOMES: readonly Outcome[] = ['ok', '4xx', '5xx', 'none'];

export interface ClientCalls {
  client: string;
  total: number;
  /** per outcome, a count per bucket */
  counts: Record<Outcome, number[]>;
}

export interface CallBins {
  /** ms since the epoch: the window plotted */
  since: number;
  until: number;
  bucketMs: number;
  buckets: number;
  clients: ClientCalls[];
  /** calls read from the journal (it may have rotated older ones out on a long, busy drill) */
  read: number;
}

/** Round bucket widths, so the plot's bars line up with its ticks: the smallest that keeps the count under `most`. */
const STEPS_MS = [100, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000];

export function bucketWidth(spanMs: number, most = 240): number {
  for (const step of STEPS_MS) if (spanMs / step <= most) return step;
  return Math.ceil(spanMs / most / 3_600_000) * 3_600_000;
}

export function outcomeOf(status: number): Outcome {
  if (status === 0) return 'none';
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  return 'ok';
}

/** Counts calls into buckets as they come. */
export class CallBinner {
  private readonly byClient = new Map<string, ClientCalls>();
  private read = 0;
  readonly bucketMs: number;
  readonly buckets: number;

  constructor(
    private readonly since: number,
    private readonly until: number,
  ) {
    const span = Math.max(1, until - since);
    this.bucketMs = bucketWidth(span);
    this.buckets = Math.max(1, Math.ceil(span / this.bucketMs));
  }

  add(call: Pick<JournalSummary, 'ts' | 'client' | 'status' | 'protocol'>): void {
    // an admin action (the drill's own timeline jump) is no client's call
    if (call.protocol === 'admin') return;
    const at = Date.parse(call.ts);
    if (!(at >= this.since && at <= this.until)) return;
    this.read++;
    let c = this.byClient.get(call.client);
    if (!c) {
      const zeros = () => new Array<number>(this.buckets).fill(0);
      c = { client: call.client, total: 0, counts: { ok: zeros(), '4xx': zeros(), '5xx': zeros(), none: zeros() } };
      this.byClient.set(call.client, c);
    }
    c.total++;
    c.counts[outcomeOf(call.status)][Math.min(this.buckets - 1, Math.floor((at - this.since) / this.bucketMs))]++;
  }

  result(): CallBins {
    // the busiest clients first: where the report does not order them, the plot shows the busiest
    const clients = [...this.byClient.values()].sort((a, b) => b.total - a.total || (a.client < b.client ? -1 : 1));
    return { since: this.since, until: this.until, bucketMs: this.bucketMs, buckets: this.buckets, clients, read: this.read };
  }
}

/** Pages through the journal's calls in [since, until] and bins them. */
export async function readCalls(client: AdminClient, since: number, until: number): Promise<CallBins> {
  const binner = new CallBinner(since, until);
  let cursor: string | undefined;
  const window = { since: new Date(since).toISOString(), until: new Date(until).toISOString() };
  do {
    const page = await client.journal({ ...window, limit: '1000', cursor });
    for (const entry of page.entries) binner.add(entry);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return binner.result();
}
