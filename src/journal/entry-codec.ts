/**
 * The journal's record format: one exchange as a compact run of bytes in the journal's ring buffer.
 *
 * Why bytes and not objects: a journal is a ring, so every entry lives long enough to be promoted to V8's old
 * generation and then dies there; at tens of thousands of requests a second that churn (and the ~1.4 KB an
 * entry costs as objects) dominated both memory and p99 latency. Encoded entries cost their bytes only, sit
 * outside the JS heap, and are decoded when the admin API reads them.
 *
 * Layout: a fixed head (numbers), then variable fields, each a u32 length and its bytes.
 */
import type { AuthRecord, ContractError, Effect, Exchange, FaultRecord, Protocol, ReplyHeaders } from '../engine/exchange.js';

/** start, end and duration (f64 each), status (u16), body sizes (u32 each) */
const HEAD = 8 + 8 + 8 + 2 + 4 + 4;

/** The variable fields, in order. */
const FIELDS = [
  'method',
  'path',
  'query',
  'client',
  'key',
  'system',
  'protocol',
  'operation',
  'remoteAddress',
  'requestHeaders',
  'responseHeaders',
  'extras',
  'requestBody',
  'responseBody',
] as const;
const FIELD_COUNT = FIELDS.length;

export interface EntryExtras {
  faults: FaultRecord[];
  contractErrors: ContractError[];
  effects: Effect[];
  transportError?: string;
  bodyProblem?: string;
  /** how the caller authenticated (PRODUCT.md §5), when a system or the authorization server checked it */
  auth?: JournalAuth;
}

/** An exchange's `auth` as the journal keeps it: the refreshed-after and repeated-by exchanges as journal ids. */
export interface JournalAuth {
  grant: string | null;
  method: string;
  scopes: string[];
  required?: string[];
  flags: string[];
  refreshOf?: number;
  replayOf?: number;
}

function journalAuth(auth: AuthRecord): JournalAuth {
  const { grant, method, scopes, required, flags, refreshOf, replayOf } = auth;
  return { grant, method, scopes, required, flags, refreshOf: refreshOf?.id, replayOf: replayOf?.id };
}

/**
 * The extras of an exchange whose only extra is its `auth` (a protected call that went well), as JSON.stringify
 * would write them. A protected system gives every call of one operation with one token the same record
 * (enforcement/bearer.ts), so its text is made once; records linking a refresh or replay are written afresh.
 */
const authOnlyExtras = new WeakMap<AuthRecord, string>();
function extrasWithAuthOnly(auth: AuthRecord): string {
  let text = authOnlyExtras.get(auth);
  if (text === undefined) {
    text = JSON.stringify({ faults: [], contractErrors: [], effects: [], auth: journalAuth(auth) } satisfies EntryExtras);
    if (auth.refreshOf === undefined && auth.replayOf === undefined) authOnlyExtras.set(auth, text);
  }
  return text;
}

/** One journal entry as read back. */
export interface JournalEntry extends EntryExtras {
  id: number;
  workspace: string;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  status: number;
  method: string;
  path: string;
  query: string;
  client: string;
  key: string | null;
  system: string | null;
  protocol: string;
  operation: string | null;
  remoteAddress: string;
  /** name, value, name, value ... as received / as sent */
  requestHeaders: string[];
  responseHeaders: string[];
  /** kept bytes (cut at the body limit) and the full size */
  requestBody: Buffer;
  requestBytes: number;
  responseBody: Buffer;
  responseBytes: number;
}

/** Everything record() needs that the exchange does not hold. */
export interface Outcome {
  status: number;
  responseHeaders: ReplyHeaders;
  responseBody: string | Buffer | undefined;
  responseBytes: number;
  endedAt: number;
  durationMs: number;
  transportError?: string;
  /** for an exchange no system answered that is not traffic (an admin action: admin/admin-journal.ts) */
  protocol?: Protocol;
}

const EMPTY = '';

/**
 * Encodes records: measure() collects one exchange's strings and byte runs and their sizes, so the ring can make
 * room, then write() copies them in. One encoder serves every journal (measure and write run back to back,
 * synchronously), so recording allocates no scratch space per request.
 */
export class RecordEncoder {
  private readonly parts: Array<string | Buffer> = new Array(FIELD_COUNT);
  private readonly sizes = new Uint32Array(FIELD_COUNT);
  private exchange!: Exchange;
  private outcome!: Outcome;
  length = 0;

  /** Takes in one record; returns its length in bytes. */
  measure(exchange: Exchange, outcome: Outcome, bodyLimit: number): number {
    this.exchange = exchange;
    this.outcome = outcome;
    this.length = HEAD + 4 * FIELD_COUNT;
    const ex = exchange;
    this.set(0, ex.method);
    this.set(1, ex.path);
    this.set(2, ex.rawQuery);
    this.set(3, ex.client);
    this.set(4, ex.key ?? EMPTY);
    this.set(5, ex.system?.name ?? EMPTY);
    this.set(6, ex.system?.engine.protocol ?? outcome.protocol ?? 'none');
    this.set(7, ex.operation?.id ?? EMPTY);
    this.set(8, ex.remoteAddress);
    this.set(9, ex.rawHeaders.join('\n'));
    this.set(10, headerText(outcome.responseHeaders));
    const otherExtras = ex.faults.length || ex.contractErrors.length || ex.effects.length || outcome.transportError || ex.bodyProblem;
    this.set(
      11,
      !otherExtras && ex.auth
        ? extrasWithAuthOnly(ex.auth)
        : otherExtras
        ? JSON.stringify({
            faults: ex.faults,
            contractErrors: ex.contractErrors,
            effects: ex.effects,
            transportError: outcome.transportError,
            bodyProblem: ex.bodyProblem,
            auth: ex.auth && journalAuth(ex.auth),
          } satisfies EntryExtras)
        : EMPTY,
    );
    this.setBody(12, ex.journalBody ?? ex.body, bodyLimit);
    this.setBody(13, outcome.responseBody, bodyLimit);
    return this.length;
  }

  private set(i: number, value: string): void {
    this.parts[i] = value;
    const size = value.length === 0 ? 0 : Buffer.byteLength(value);
    this.sizes[i] = size;
    this.length += size;
  }

  private setBody(i: number, body: string | Buffer | undefined, limit: number): void {
    if (body === undefined) return this.set(i, EMPTY);
    this.parts[i] = body;
    const size = Math.min(typeof body === 'string' ? Buffer.byteLength(body) : body.length, limit);
    this.sizes[i] = size;
    this.length += size;
  }

  /** Drops bodies (keeping their sizes) when even a cut record would not fit the ring; returns the new length. */
  dropBodies(): number {
    for (const i of [12, 13]) {
      this.length -= this.sizes[i];
      this.sizes[i] = 0;
      this.parts[i] = EMPTY;
    }
    return this.length;
  }

  /** Writes the record at `at`; returns how many bytes it took (a cut body can make that a little less than measured). */
  write(buf: Buffer, at: number): number {
    const ex = this.exchange;
    const o = this.outcome;
    buf.writeDoubleLE(ex.startedAt, at);
    buf.writeDoubleLE(o.endedAt, at + 8);
    buf.writeDoubleLE(o.durationMs, at + 16);
    buf.writeUInt16LE(o.status, at + 24);
    buf.writeUInt32LE(ex.body?.length ?? 0, at + 26);
    buf.writeUInt32LE(o.responseBytes, at + 30);
    let p = at + HEAD;
    for (let i = 0; i < FIELD_COUNT; i++) {
      const size = this.sizes[i];
      const part = this.parts[i];
      // string writes stop at `size` bytes without splitting a character (a cut body stays valid UTF-8), so
      // the length written can be a little less than measured; the record then ends a few bytes early
      const written = size === 0 ? 0 : typeof part === 'string' ? buf.write(part, p + 4, size, 'utf8') : part.copy(buf, p + 4, 0, size);
      buf.writeUInt32LE(written, p);
      p += 4 + written;
    }
    // let go of the request's strings and buffers until the next record
    this.parts.fill(EMPTY);
    return p - at;
  }
}

function headerText(headers: ReplyHeaders): string {
  let out = '';
  for (const name in headers) {
    const value = headers[name];
    if (Array.isArray(value)) for (const v of value) out += (out ? '\n' : '') + name + '\n' + v;
    else out += (out ? '\n' : '') + name + '\n' + String(value);
  }
  return out;
}

/** Reads back what write() wrote. `full` also decodes headers and bodies. */
export function decodeEntry(buf: Buffer, at: number, id: number, workspace: string, full: boolean): JournalEntry {
  const strings: string[] = new Array(12);
  let p = at + HEAD;
  let requestBody = EMPTY_BUFFER;
  let responseBody = EMPTY_BUFFER;
  for (let i = 0; i < FIELD_COUNT; i++) {
    const size = buf.readUInt32LE(p);
    p += 4;
    if (i < 12) strings[i] = size === 0 || (!full && (i === 9 || i === 10)) ? EMPTY : buf.toString('utf8', p, p + size);
    else if (full && size) {
      const copy = Buffer.from(buf.subarray(p, p + size));
      if (i === 12) requestBody = copy;
      else responseBody = copy;
    }
    p += size;
  }
  const extras: EntryExtras = strings[11] ? JSON.parse(strings[11]) : { faults: [], contractErrors: [], effects: [] };
  return {
    id,
    workspace,
    startedAt: buf.readDoubleLE(at),
    endedAt: buf.readDoubleLE(at + 8),
    durationMs: buf.readDoubleLE(at + 16),
    status: buf.readUInt16LE(at + 24),
    requestBytes: buf.readUInt32LE(at + 26),
    responseBytes: buf.readUInt32LE(at + 30),
    method: strings[0],
    path: strings[1],
    query: strings[2],
    client: strings[3],
    key: strings[4] || null,
    system: strings[5] || null,
    protocol: strings[6],
    operation: strings[7] || null,
    remoteAddress: strings[8],
    requestHeaders: strings[9] ? strings[9].split('\n') : [],
    responseHeaders: strings[10] ? strings[10].split('\n') : [],
    faults: extras.faults,
    contractErrors: extras.contractErrors,
    effects: extras.effects,
    transportError: extras.transportError,
    bodyProblem: extras.bodyProblem,
    auth: extras.auth,
    requestBody,
    responseBody,
  };
}

const EMPTY_BUFFER = Buffer.alloc(0);

/** When the exchange of the record that `bytes` holds (from its first byte) started, ms since the epoch. */
export function recordStart(bytes: Buffer): number {
  return bytes.readDoubleLE(0);
}

/** The status the record that `bytes` holds (from its first byte) answered. */
export function recordStatus(bytes: Buffer): number {
  return bytes.readUInt16LE(24);
}

/**
 * Whether `bytes` hold one record and nothing else, as write() lays it out: its fields' lengths add up to exactly
 * its size, and its extras (if any) are JSON. Records that arrive from elsewhere (another replica, through Redis)
 * are checked before the journal keeps them, so a damaged one is refused rather than read across its end later.
 */
export function isRecord(bytes: Buffer): boolean {
  if (bytes.length < HEAD + 4 * FIELD_COUNT) return false;
  let p = HEAD;
  let extras: [number, number] = [0, 0];
  for (let i = 0; i < FIELD_COUNT; i++) {
    if (p + 4 > bytes.length) return false;
    const size = bytes.readUInt32LE(p);
    if (i === FIELD.extras) extras = [p + 4, p + 4 + size];
    p += 4 + size;
  }
  if (p !== bytes.length) return false;
  if (extras[1] === extras[0]) return true;
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8', extras[0], extras[1]));
    return typeof parsed === 'object' && parsed !== null && Array.isArray((parsed as EntryExtras).faults);
  } catch {
    return false;
  }
}

/** how a record's extras name a link to another entry (auth.refreshOf, auth.replayOf): a cheap first test */
const LINK_NEEDLE = Buffer.from('Of":');

/**
 * The record in `bytes` with the entry ids its `auth` links to (refreshOf, replayOf) changed by `map`; a link `map`
 * has no id for is left out. Undefined when the record links to nothing (the common case: nothing is copied).
 *
 * For replicas (replicas/journal-stream.ts): an entry links to another by the id this replica gave it when it
 * recorded it, which is not the id every replica knows it by once it is shared.
 */
export function relinkRecord(bytes: Buffer, map: (id: number) => number | undefined): Buffer | undefined {
  if (!fieldContains(bytes, 0, FIELD.extras, LINK_NEEDLE)) return undefined;
  const p = fieldAt(bytes, 0, FIELD.extras);
  const size = bytes.readUInt32LE(p);
  const extras = JSON.parse(bytes.toString('utf8', p + 4, p + 4 + size)) as EntryExtras;
  const auth = extras.auth;
  if (auth === undefined || (auth.refreshOf === undefined && auth.replayOf === undefined)) return undefined;
  // assigned in place, so the keys keep their order: the links stay last (report/attempts.ts relies on it)
  for (const link of ['refreshOf', 'replayOf'] as const) {
    if (auth[link] === undefined) continue;
    const mapped = map(auth[link]);
    if (mapped === undefined) delete auth[link];
    else auth[link] = mapped;
  }
  const text = Buffer.from(JSON.stringify(extras));
  const after = p + 4 + size;
  const out = Buffer.allocUnsafe(bytes.length - size + text.length);
  bytes.copy(out, 0, 0, p);
  out.writeUInt32LE(text.length, p);
  text.copy(out, p + 4);
  bytes.copy(out, p + 4 + text.length, after);
  return out;
}

/**
 * Fields a journal query can test in place, without decoding the entry: counting the matches of a filter over a
 * full ring (100k entries) then reads a few bytes per entry instead of building an object for each.
 */
export const FIELD = { client: 3, key: 4, system: 5, operation: 7, extras: 11 } as const;

/** Where field `index` of the record at `at` starts: its u32 length, then its bytes. */
function fieldAt(buf: Buffer, at: number, index: number): number {
  let p = at + HEAD;
  for (let i = 0; i < index; i++) p += 4 + buf.readUInt32LE(p);
  return p;
}

/** Whether field `index` holds exactly these bytes. */
export function fieldEquals(buf: Buffer, at: number, index: number, value: Buffer): boolean {
  const p = fieldAt(buf, at, index);
  const size = buf.readUInt32LE(p);
  return size === value.length && buf.compare(value, 0, value.length, p + 4, p + 4 + size) === 0;
}

/** Whether field `index` contains these bytes somewhere (a cheap first test before decoding it). */
export function fieldContains(buf: Buffer, at: number, index: number, value: Buffer): boolean {
  const p = fieldAt(buf, at, index);
  const size = buf.readUInt32LE(p);
  // searched within the field only: the rest of the chunk is other entries
  return size >= value.length && buf.subarray(p + 4, p + 4 + size).indexOf(value) >= 0;
}

/** The entry's faults, decoded from its extras alone. */
export function readFaults(buf: Buffer, at: number): FaultRecord[] {
  const p = fieldAt(buf, at, FIELD.extras);
  const size = buf.readUInt32LE(p);
  return size === 0 ? [] : (JSON.parse(buf.toString('utf8', p + 4, p + 4 + size)) as EntryExtras).faults;
}

/**
 * One entry's fields as the report card reads them (report/attempts.ts), decoded without copying and without
 * allocating per entry: one LeanEntry is refilled for every entry a scan visits, its short fields as strings and
 * its header texts and bodies as ranges of `buf` (valid only until the next entry is read, so the caller takes
 * what it needs at once). A million entries then cost a few short strings each, not fourteen Buffer views.
 */
export class LeanEntry {
  buf: Buffer = EMPTY_BUFFER;
  startedAt = 0;
  endedAt = 0;
  status = 0;
  method = EMPTY;
  path = EMPTY;
  query = EMPTY;
  client = EMPTY;
  key = EMPTY;
  system = EMPTY;
  operation = EMPTY;
  /** [start, end) in buf of: request headers and response headers ("name\nvalue\n..."), request and response body, extras */
  readonly ranges = new Float64Array(10);
  private extrasText: string | undefined;

  /** the short fields (method, client, system, operation) repeat across entries: decoded once each */
  private readonly interned = new ShortStrings();
  private view: DataView | undefined;

  /**
   * Reads the entry at `at`. `all` false reads only what a first pass needs (times, status, client, system,
   * operation, extras), leaving the rest as they were.
   */
  read(buf: Buffer, at: number, all = true): this {
    this.extrasText = undefined;
    if (this.buf !== buf || this.view === undefined) {
      this.buf = buf;
      // DataView reads are inlined by V8; Buffer's readDoubleLE and readUInt32LE are calls
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    const view = this.view;
    this.startedAt = view.getFloat64(at, true);
    this.endedAt = view.getFloat64(at + 8, true);
    this.status = view.getUint16(at + 24, true);
    let p = at + HEAD;
    // a first pass stops after the extras: the bodies are not its business
    const last = all ? FIELD_COUNT : 12;
    for (let i = 0; i < last; i++) {
      const size = view.getUint32(p, true);
      const from = p + 4;
      const to = from + size;
      switch (i) {
        case 0: if (all) this.method = this.interned.get(buf, from, to); break;
        case 1: if (all) this.path = size === 0 ? EMPTY : buf.toString('utf8', from, to); break;
        case 2: if (all) this.query = size === 0 ? EMPTY : buf.toString('utf8', from, to); break;
        case 3: this.client = this.interned.get(buf, from, to); break;
        case 4: if (all) this.key = size === 0 ? EMPTY : buf.toString('utf8', from, to); break;
        case 5: this.system = this.interned.get(buf, from, to); break;
        case 7: this.operation = this.interned.get(buf, from, to); break;
        case 9: this.ranges[0] = from; this.ranges[1] = to; break;
        case 10: this.ranges[2] = from; this.ranges[3] = to; break;
        case 11: this.ranges[8] = from; this.ranges[9] = to; break;
        case 12: this.ranges[4] = from; this.ranges[5] = to; break;
        case 13: this.ranges[6] = from; this.ranges[7] = to; break;
      }
      p = to;
    }
    return this;
  }

  /** the extras' JSON text ('' when none): faults, effects, transportError; decoded when first asked for */
  get extras(): string {
    return (this.extrasText ??= this.text(4));
  }

  /** whether the extras record an injected fault (they start {"faults":[] when none was) */
  get hasFaults(): boolean {
    const from = this.ranges[8];
    return this.ranges[9] - from > FAULTS_OPEN.length && this.buf[from + FAULTS_OPEN.length] !== 0x5d /* ] */;
  }

  /**
   * whether the extras go on past the effects (a transportError, bodyProblem or auth: the encoder writes them
   * last, so the extras then end with a string or an object, `"}` or `}}`, not with the effects list, `]}`)
   */
  get hasTrailingExtras(): boolean {
    const to = this.ranges[9];
    return to - this.ranges[8] > 2 && this.buf[to - 2] !== 0x5d /* ] */;
  }

  /** whether the extras contain these bytes (tested in place, without decoding them) */
  extrasInclude(needle: Buffer): boolean {
    const from = this.ranges[8];
    const to = this.ranges[9];
    return to - from >= needle.length && this.buf.subarray(from, to).indexOf(needle) >= 0;
  }

  /** field `which` (0 request headers, 1 response headers, 2 request body, 3 response body, 4 extras) as text */
  text(which: 0 | 1 | 2 | 3 | 4): string {
    const from = this.ranges[which * 2];
    const to = this.ranges[which * 2 + 1];
    return to > from ? this.buf.toString('utf8', from, to) : EMPTY;
  }

  /** the size in bytes of field `which` (as kept: bodies are cut at the journal's limit) */
  size(which: 0 | 1 | 2 | 3 | 4): number {
    return this.ranges[which * 2 + 1] - this.ranges[which * 2];
  }
}

/** how the encoder begins an entry's extras: JSON.stringify of EntryExtras, faults first */
const FAULTS_OPEN = '{"faults":[';

/**
 * Short strings read from the journal's bytes, each decoded once: a million entries name a handful of methods,
 * systems and operations and a few hundred clients. Looked up by a hash of the bytes and confirmed byte for byte;
 * past MAX_SHORT_STRINGS distinct values (clients minting names) strings are decoded afresh.
 */
class ShortStrings {
  private readonly table = new Map<number, Array<{ bytes: Buffer; text: string }>>();
  private count = 0;

  get(buf: Buffer, from: number, to: number): string {
    const length = to - from;
    if (length === 0) return EMPTY;
    if (length > MAX_SHORT_BYTES) return buf.toString('utf8', from, to);
    // length and the bytes at both ends: client names share prefixes (client-1, client-17), rarely both ends
    let hash = length;
    const head = Math.min(to, from + 4);
    for (let i = from; i < head; i++) hash = Math.imul(hash ^ buf[i], 16777619);
    for (let i = Math.max(head, to - 4); i < to; i++) hash = Math.imul(hash ^ buf[i], 16777619);
    const bucket = this.table.get(hash);
    if (bucket !== undefined) {
      // compared in JS: a native call per field would cost more than the few bytes it compares
      for (const known of bucket) if (sameBytes(known.bytes, buf, from, length)) return known.text;
    }
    const text = buf.toString('utf8', from, to);
    if (this.count < MAX_SHORT_STRINGS) {
      this.count++;
      const entry = { bytes: Buffer.from(buf.subarray(from, to)), text };
      if (bucket !== undefined) bucket.push(entry);
      else this.table.set(hash, [entry]);
    }
    return text;
  }
}

function sameBytes(known: Buffer, buf: Buffer, from: number, length: number): boolean {
  if (known.length !== length) return false;
  for (let i = 0; i < length; i++) if (known[i] !== buf[from + i]) return false;
  return true;
}

const MAX_SHORT_BYTES = 100;
const MAX_SHORT_STRINGS = 10_000;
