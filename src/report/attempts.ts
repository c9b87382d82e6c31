/**
 * The report card's raw material: every journal entry of the window read once into an Attempt, the few facts
 * the checks judge (who, what, when, how it ended, which key, which body, what it was told and what it changed).
 * Nothing else of the entry is kept, so a report over a million entries holds a million small records, not a
 * million decoded exchanges.
 */
import { createHash } from 'node:crypto';
import type { Effect, FaultRecord } from '../engine/exchange.js';
import type { Journal } from '../journal/journal.js';
import type { LeanEntry } from '../journal/entry-codec.js';

export interface Attempt {
  /** journal entry id */
  id: number;
  /** arrival and end (the last byte sent, or the moment the connection closed), clock ms */
  start: number;
  end: number;
  status: number;
  client: string;
  system: string;
  operation: string;
  method: string;
  /** the idempotency key: the Idempotency-Key header when sent, else the operation's external key */
  key: string | null;
  /** whether `key` came from an Idempotency-Key header (not from the body, query or path) */
  keyFromHeader: boolean;
  /** unsafe methods: a digest of the body with the field holding the key left out; safe ones: path and query */
  fingerprint: string;
  /**
   * a 5xx, 429, 408, no response at all, an injected fault that answered instead of the system, or a reply the
   * client gave up on before it had all of it
   */
  failed: boolean;
  /** kinds of the faults applied (skipped ones left out), and the rules they came from, in order */
  faults: readonly string[];
  faultRules: readonly string[];
  /** the instant a Retry-After sent with the reply asked the client to wait until (ms), or null */
  retryAfterUntil: number | null;
  /**
   * the client closed the connection before it had the whole reply (it gave up waiting): while the reply was
   * held (latency), while a hang held the connection (a timeout, outage or lostAck fault), or during the body
   */
  abandoned: boolean;
  /** no response because the server's hang ran to its end (the client never gave up) */
  outwaited: boolean;
  /** records created by the handler (journal effects with action `created`) */
  created: readonly Effect[];
  /** for an operation whose body carries a list of records (a bulk operation): how many it carried */
  records: number | null;
  /** for a change-feed poll: the highest `seq` in the page (-1 for an empty page); null otherwise */
  highestSeq: number | null;
  /** for a read that offers a field selection: whether it used it; null when the read offers none */
  selectedFields: boolean | null;
  /** the OAuth grant behind the call, when the journal knows it (issue #13) */
  grant: string | null;
}

/** What the checks need to know of an operation besides its journal entries. */
export interface OperationHints {
  method?: string;
  /** JSON pointer to the array of records in a bulk operation's body ('' for a top-level array) */
  records?: string;
  /** the query parameter that selects fields, when the read offers one */
  fieldSelection?: string;
}

/** hints by "system operation" */
export type OperationCatalogue = ReadonlyMap<string, OperationHints>;

export function catalogueKey(system: string, operation: string): string {
  return system + ' ' + operation;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
/** fault kinds that answer instead of the system (or break the answer); the rest (latency, drift ...) let it through */
const PASSING_FAULTS = new Set(['latency', 'slowBody', 'drift']);
const NO_STRINGS: readonly string[] = Object.freeze([]);
const NO_EFFECTS: readonly Effect[] = Object.freeze([]);
/**
 * the transport's words (src/transports/node-http.ts) for a client that closed the connection first: a held
 * reply, a hang it gave up on, a body (slow or not) it stopped reading
 */
const ABANDONED = /^client closed the connection|^the client closed the connection|^held without a response until the client gave up/;
/** a hang (timeout, outage: hang, lostAck as timeout) that ran to its end: the server closed, the client still waited */
const OUTWAITED = /^held \d+ ms, then closed without a response/;
/** change-feed operations: the WMS's listChanges, an OData delta link */
const CHANGE_FEED = /^listChanges$|\.delta$/;

interface Extras {
  faults?: FaultRecord[];
  effects?: Effect[];
  transportError?: string;
}

/** Reads the journal's entries that started within [since, until] into attempts, in order of arrival. */
export function readAttempts(journal: Journal, since: number, until: number, catalogue: OperationCatalogue): Attempt[] {
  const attempts: Attempt[] = [];
  journal.scan(since, until, (id, entry) => {
    if (entry.system === '') return; // no system: a request to nothing, or the journal's own notes (a timeline jump)
    attempts.push(toAttempt(id, entry, catalogue.get(catalogueKey(entry.system, entry.operation))));
  });
  // ids follow completion; the checks want arrival order (a held reply completes after later arrivals)
  attempts.sort((a, b) => a.start - b.start || a.id - b.id);
  return attempts;
}

export function toAttempt(id: number, e: LeanEntry, hints: OperationHints | undefined): Attempt {
  const extras: Extras = e.extras === '' ? {} : JSON.parse(e.extras);
  let faults = NO_STRINGS;
  let faultRules = NO_STRINGS;
  let answeredByFault = false;
  if (extras.faults?.length) {
    const applied = extras.faults.filter((f) => !f.skipped);
    if (applied.length) {
      faults = applied.map((f) => f.kind);
      faultRules = applied.map((f) => f.rule);
      answeredByFault = faults.some((k) => !PASSING_FAULTS.has(k));
    }
  }
  const status = e.status;
  const transportError = extras.transportError ?? '';
  const abandoned = ABANDONED.test(transportError);
  const requestIdempotencyKey = headerValue(e.requestHeaders, 'idempotency-key');
  const key = e.key === '' ? null : e.key;
  const keyFromHeader = key !== null && requestIdempotencyKey === key;
  const safe = SAFE.has(e.method);
  const created = extras.effects?.length ? extras.effects.filter((x) => x.action === 'created') : NO_EFFECTS;
  return {
    id,
    start: e.startedAt,
    end: e.endedAt,
    status,
    client: e.client,
    system: e.system,
    operation: e.operation,
    method: e.method,
    key,
    keyFromHeader,
    fingerprint: safe ? e.path + '?' + e.query : bodyFingerprint(e, keyFromHeader ? null : key),
    failed: status === 0 || status >= 500 || status === 429 || status === 408 || answeredByFault || abandoned,
    faults,
    faultRules,
    retryAfterUntil: retryAfterUntil(headerValue(e.responseHeaders, 'retry-after'), e.endedAt),
    abandoned,
    outwaited: status === 0 && OUTWAITED.test(transportError),
    created: created.length ? created : NO_EFFECTS,
    records: hints?.records !== undefined && !safe ? countRecords(e.requestBody, hints.records) : null,
    highestSeq: CHANGE_FEED.test(e.operation) && status >= 200 && status < 300 ? highestSeq(e.responseBody) : null,
    selectedFields: fieldSelection(e, hints),
    grant: null,
  };
}

/** One header's value from the journal's "name\nvalue\n..." text (names as received; compared lower-case). */
export function headerValue(text: Buffer, name: string): string | null {
  if (text.length === 0) return null;
  const lines = text.toString('utf8').split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) if (lines[i].toLowerCase() === name) return lines[i + 1];
  return null;
}

/**
 * The instant a Retry-After asks the client to wait until: delay-seconds after the reply was sent, or an HTTP-date
 * (RFC 9110 §10.2.3). Null when absent or unreadable.
 */
export function retryAfterUntil(value: string | null, sentAt: number): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return sentAt + Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : date;
}

/**
 * The body as one digest, the field holding the attempt's key left out: a client that mints a new external key
 * (a new externalOrderId) for each retry still sends the same order otherwise, and its retries must be seen as
 * one logical request. JSON is canonicalised (keys sorted) so a client that reorders fields is not a new request.
 */
function bodyFingerprint(e: LeanEntry, key: string | null): string {
  const hash = createHash('sha1');
  hash.update(e.method + ' ' + e.path + '\n');
  const body = e.requestBody;
  if (body.length > 0) {
    const first = body[0];
    let canonical: string | undefined;
    if (first === 0x7b /* { */ || first === 0x5b /* [ */) {
      try {
        canonical = canonicalJson(JSON.parse(body.toString('utf8')), key);
      } catch {
        canonical = undefined; // cut at the journal's body limit, or not JSON: the bytes as they are
      }
    } else if (body.includes(0x3d /* = */)) canonical = canonicalForm(body.toString('utf8'), key);
    if (canonical !== undefined) hash.update(canonical);
    else hash.update(body);
  }
  return hash.digest('base64');
}

function canonicalJson(value: unknown, key: string | null): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return '[' + value.map((v) => canonicalJson(v, key)).join(',') + ']';
  const names = Object.keys(value).sort();
  const parts: string[] = [];
  for (const name of names) {
    const v = (value as Record<string, unknown>)[name];
    if (key !== null && (v === key || (typeof v === 'number' && String(v) === key))) continue;
    parts.push(JSON.stringify(name) + ':' + canonicalJson(v, key));
  }
  return '{' + parts.join(',') + '}';
}

function canonicalForm(text: string, key: string | null): string {
  const pairs: string[] = [];
  for (const [name, value] of new URLSearchParams(text)) {
    if (key !== null && value === key) continue;
    pairs.push(name + '=' + value);
  }
  return pairs.sort().join('&');
}

/** The length of the records array at `pointer` in a JSON body; null when the body is not that shape. */
function countRecords(body: Buffer, pointer: string): number | null {
  if (body.length === 0) return null;
  try {
    let value: unknown = JSON.parse(body.toString('utf8'));
    for (const token of pointer.split('/').slice(1)) {
      if (value === null || typeof value !== 'object') return null;
      value = (value as Record<string, unknown>)[token.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    return Array.isArray(value) ? value.length : null;
  } catch {
    return null;
  }
}

const SEQ = /"seq"\s*:\s*(\d+)/g;

/** The highest `seq` in a change page (read from the text: a page cut at the journal's body limit still counts). */
function highestSeq(body: Buffer): number {
  let highest = -1;
  if (body.length === 0) return highest;
  for (const m of body.toString('utf8').matchAll(SEQ)) {
    const seq = Number(m[1]);
    if (seq > highest) highest = seq;
  }
  return highest;
}

/** Whether a read named the fields it wants: an empty selection (`fields=`) or a wildcard (`$select=*`) asks for all. */
function fieldSelection(e: LeanEntry, hints: OperationHints | undefined): boolean | null {
  if (e.method !== 'GET' || e.status < 200 || e.status >= 300) return null;
  const name = hints?.fieldSelection;
  if (name === undefined) return null;
  return new URLSearchParams(e.query).getAll(name).some((v) => v.trim() !== '' && v.trim() !== '*');
}
