/**
 * The journal: every exchange of a workspace, newest first, in a ring of fixed capacity so that a long load test
 * cannot exhaust memory (the oldest entries fall out).
 *
 * The request path only stores references (the Exchange, the reply's headers and body) in a preallocated slot;
 * redaction, header decoding and JSON shaping happen when an entry is read through the admin API (toSummary /
 * toFull). Bodies above the body limit are kept truncated, with their full size.
 */
import type { Exchange, ReplyHeaders } from '../engine/exchange.js';
import { redactBodyText, redactHeaderObject, redactRawHeaders } from './redact.js';

export interface JournalRecord {
  id: number;
  exchange: Exchange;
  /** the request body cut at the body limit (exchange.body is dropped so a large upload is not pinned) */
  requestBody: Buffer | undefined;
  requestBytes: number;
  status: number;
  responseHeaders: ReplyHeaders;
  /** what was sent, cut at the body limit */
  responseBody: string | Buffer | undefined;
  responseBytes: number;
  endedAt: number;
  durationMs: number;
  /** set when the transport could not deliver the reply (client went away, socket error) */
  transportError?: string;
}

const RELEASED = Object.freeze({}) as Exchange['headers'];

export interface JournalQuery {
  system?: string;
  client?: string;
  operation?: string;
  fault?: string;
  /** inclusive bounds on the exchange's start time, ms since epoch */
  since?: number;
  until?: number;
  status?: (status: number) => boolean;
  limit: number;
  /** only entries older than this id (from a previous page's nextCursor) */
  before?: number;
}

export class Journal {
  private readonly slots: Array<JournalRecord | undefined>;
  /** index of the next slot to write */
  private head = 0;
  private size = 0;
  private nextId = 1;

  constructor(
    readonly capacity: number,
    readonly bodyLimit: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('journal capacity must be a positive integer');
    this.slots = new Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  /** Stores the finished exchange and returns its id. */
  record(
    exchange: Exchange,
    status: number,
    responseHeaders: ReplyHeaders,
    responseBody: string | Buffer | undefined,
    responseBytes: number,
    endedAt: number,
    durationMs: number,
    transportError?: string,
  ): number {
    const id = this.nextId++;
    exchange.id = id;
    const requestBody = exchange.body;
    // release what the journal does not show, so a full ring stays small: the body is kept cut below, headers
    // are read from rawHeaders, and the parsed request was only for the handler
    exchange.body = undefined;
    exchange.headers = RELEASED;
    exchange.parsed = undefined;
    this.slots[this.head] = {
      id,
      exchange,
      requestBody: cut(requestBody, this.bodyLimit) as Buffer | undefined,
      requestBytes: requestBody?.length ?? 0,
      status,
      responseHeaders,
      responseBody: cut(responseBody, this.bodyLimit),
      responseBytes,
      endedAt,
      durationMs,
      transportError,
    };
    this.head = (this.head + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
    return id;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.head = 0;
    this.size = 0;
    // ids keep counting so that cursors handed out before the reset cannot point at new entries
  }

  /** Entries newest first; ids are assigned in completion order, so the ring is already sorted by id. */
  *newestFirst(): Generator<JournalRecord> {
    for (let i = 1; i <= this.size; i++) {
      const rec = this.slots[(this.head - i + this.capacity) % this.capacity];
      if (rec) yield rec;
    }
  }

  get(id: number): JournalRecord | undefined {
    for (const rec of this.newestFirst()) {
      if (rec.id === id) return rec;
      if (rec.id < id) return undefined;
    }
    return undefined;
  }

  query(q: JournalQuery): { records: JournalRecord[]; nextCursor: number | null } {
    const records: JournalRecord[] = [];
    for (const rec of this.newestFirst()) {
      if (q.before !== undefined && rec.id >= q.before) continue;
      if (!matches(rec, q)) continue;
      if (records.length === q.limit) return { records, nextCursor: records[records.length - 1].id };
      records.push(rec);
    }
    return { records, nextCursor: null };
  }
}

function matches(rec: JournalRecord, q: JournalQuery): boolean {
  const ex = rec.exchange;
  if (q.system !== undefined && ex.system?.name !== q.system) return false;
  if (q.client !== undefined && ex.client !== q.client) return false;
  if (q.operation !== undefined && ex.operation?.id !== q.operation) return false;
  if (q.since !== undefined && ex.startedAt < q.since) return false;
  if (q.until !== undefined && ex.startedAt > q.until) return false;
  if (q.status && !q.status(rec.status)) return false;
  if (q.fault !== undefined && !ex.faults.some((f) => f.kind === q.fault || f.rule === q.fault)) return false;
  return true;
}

function cut(body: string | Buffer | undefined, limit: number): string | Buffer | undefined {
  if (body === undefined || body.length <= limit) return body;
  // copy, so the journal does not pin a large buffer through a slice view
  return typeof body === 'string' ? body.slice(0, limit) : Buffer.from(body.subarray(0, limit));
}

// ---- reading: the JSON shape of PRODUCT.md §5 ----

export interface BodyView {
  size: number;
  truncated: boolean;
  text?: string;
  base64?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function bodyView(body: string | Buffer | undefined, size: number): BodyView | null {
  if (body === undefined || size === 0) return null;
  const truncated = body.length < size;
  if (typeof body === 'string') return { size, truncated, text: redactBodyText(body) };
  try {
    return { size, truncated, text: redactBodyText(utf8.decode(body)) };
  } catch {
    // a cut can split a multi-byte character; binary bodies stay base64
    return { size, truncated, base64: body.toString('base64') };
  }
}

export function toSummary(rec: JournalRecord): Record<string, unknown> {
  const ex = rec.exchange;
  return {
    id: rec.id,
    ts: new Date(ex.startedAt).toISOString(),
    endedTs: new Date(rec.endedAt).toISOString(),
    workspace: ex.workspace.name,
    system: ex.system?.name ?? null,
    protocol: ex.system?.engine.protocol ?? 'none',
    operation: ex.operation?.id ?? null,
    method: ex.method,
    path: ex.path,
    query: ex.rawQuery,
    client: ex.client,
    status: rec.status,
    durationMs: Math.round(rec.durationMs * 1000) / 1000,
    key: ex.key ?? null,
    faults: ex.faults,
    contract: { valid: ex.contractErrors.length === 0, errors: ex.contractErrors },
    effects: ex.effects,
    ...(rec.transportError ? { transportError: rec.transportError } : {}),
  };
}

export function toFull(rec: JournalRecord): Record<string, unknown> {
  const ex = rec.exchange;
  return {
    ...toSummary(rec),
    remoteAddress: ex.remoteAddress,
    request: {
      headers: redactRawHeaders(ex.rawHeaders),
      body: ex.bodyProblem ? { problem: ex.bodyProblem, size: rec.requestBytes } : bodyView(rec.requestBody, rec.requestBytes),
    },
    response: {
      headers: redactHeaderObject(rec.responseHeaders as Record<string, unknown>),
      body: bodyView(rec.responseBody, rec.responseBytes),
    },
  };
}
