/**
 * The report card's raw material: every journal entry of the window read once into an Attempt, the few facts
 * the checks judge (who, what, when, how it ended, which key, which body, what it was told and what it changed,
 * how the caller authenticated). Nothing else of the entry is kept, and report.ts holds one batch of clients'
 * attempts at a time, so a report over a million entries never holds a million decoded exchanges.
 *
 * The authorization server's exchanges (system `oauth`: token requests above all) are read into attempts too, but
 * report.ts hands them to the checks apart from the client's calls (ClientView.authServer): only the auth checks
 * judge them.
 */
import { AUTH_SYSTEM } from '../auth/server/mount.js';
import type { Effect, FaultRecord } from '../engine/exchange.js';
import type { JournalAuth, LeanEntry } from '../journal/entry-codec.js';

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
  /** the operation changes nothing (a GET, or a SOAP read): its retries need no key */
  safe: boolean;
  /** the idempotency key: the Idempotency-Key header when sent, else the operation's external key */
  key: string | null;
  /** whether `key` came from an Idempotency-Key header (not from the body, query or path); read for retried writes only (fillCreated) */
  keyFromHeader: boolean;
  /** requests with a body (writes, SOAP reads): the path and a hash of the body with the key's text cut out; GET and HEAD: path and query */
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
  /**
   * records created by the handler (journal effects with action `created`); read from the journal only for the
   * attempts that need them (retried unsafe requests: fillCreated), empty until then
   */
  created: readonly Effect[];
  /** where the entry is in the journal (Journal.readAt), and whether its effects may include a created record */
  place: number;
  mayHaveCreated: boolean;
  /** for an operation whose body carries a list of records (a bulk operation): how many it carried */
  records: number | null;
  /** for a change-feed poll: the highest `seq` in the page (-1 for an empty page); null otherwise */
  highestSeq: number | null;
  /** for a read that offers a field selection: whether it used it; null when the read offers none */
  selectedFields: boolean | null;
  /**
   * the journal's `auth` (issue #13), null or empty when the entry has none (nothing checked the caller's
   * credentials). `grant`: on a call with a bearer token, the OAuth grant the token came from (a refreshed token
   * keeps its original grant); on a token request, the grant asked for (refresh_token too); null otherwise
   */
  grant: string | null;
  /**
   * how the caller proved who it is: on a call its credential (bearer, apikey, basic, wsse, tls_client_auth), at
   * the authorization server the client authentication (client_secret_basic, client_secret_post, private_key_jwt, none)
   */
  authMethod: string | null;
  /** the scopes its access token carried (a token request: the scopes granted) */
  scopes: readonly string[];
  /** the scopes the operation needed (a call with a bearer token) */
  requiredScopes: readonly string[];
  /** insecure-flow (the password grant), certificate-expiring (within 30 days), certificate-expired */
  authFlags: readonly string[];
}

/** Whether the attempt went to understudy's authorization server (a token request, introspection ...), not to a system of the client's business. */
export function isAuthServer(a: Attempt): boolean {
  return a.system === AUTH_SYSTEM;
}

/** What the checks need to know of an operation besides its journal entries. */
export interface OperationHints {
  /** JSON pointer to the array of records in a bulk operation's body ('' for a top-level array) */
  records?: string;
  /** the query parameter that selects fields, when the read offers one */
  fieldSelection?: string;
  /** the operation changes nothing whatever its method (OperationInfo.safe) */
  safe?: boolean;
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
/** what Attempt keeps of the journal's `auth` when the entry has none */
const NO_AUTH: AuthFacts = Object.freeze({ grant: null, method: null, scopes: NO_STRINGS, required: NO_STRINGS, flags: NO_STRINGS });

interface Extras {
  faults?: FaultRecord[];
  effects?: Effect[];
  transportError?: string;
}

/**
 * What many attempts have in common, kept once: a million attempts come from a few clients, systems and
 * operations, and a few combinations of faults, so each attempt points at shared strings and arrays instead of
 * holding copies (the report must stay within a few hundred MB over a million entries).
 */
export class Shared {
  private readonly strings = new Map<string, string>();
  private readonly faultSets = new Map<string, FaultSet>();
  /** the faults of an entry by the text of its extras' faults list: most entries repeat a few lists exactly */
  private readonly faultTexts = new Map<string, FaultSet | null>();
  /**
   * entries' `auth` by a hash of its JSON text (the links to other entries cut out), with the text's bytes to
   * confirm it: a client's calls repeat one or two
   */
  private readonly authTexts = new Map<number, Array<{ bytes: Buffer; facts: AuthFacts }>>();
  private authCount = 0;

  string(s: string): string {
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    this.strings.set(s, s);
    return s;
  }

  faults(applied: FaultRecord[]): FaultSet {
    let name = '';
    for (const f of applied) name += f.kind + '\u0000' + f.rule + '\u0000';
    let set = this.faultSets.get(name);
    if (!set) this.faultSets.set(name, (set = { kinds: Object.freeze(applied.map((f) => f.kind)), rules: Object.freeze(applied.map((f) => f.rule)) }));
    return set;
  }

  /**
   * The applied faults of an entry from its extras' JSON text, parsed once per distinct list: the encoder writes
   * the extras as {"faults":[...],"contractErrors":...}, so the list's text is cut out and looked up first.
   */
  faultsOf(extras: string): FaultSet | null {
    if (extras === '') return null;
    const end = extras.indexOf(',"contractErrors":');
    const text = extras.startsWith(FAULTS_START) && end > 0 ? extras.slice(FAULTS_START.length - 1, end) : undefined;
    if (text === '[]') return null;
    if (text !== undefined) {
      const known = this.faultTexts.get(text);
      if (known !== undefined) return known;
    }
    const list = (JSON.parse(extras) as Extras).faults ?? [];
    const applied = list.filter((f) => !f.skipped);
    const set = applied.length ? this.faults(applied) : null;
    if (text !== undefined && this.faultTexts.size < MAX_FAULT_TEXTS) this.faultTexts.set(text, set);
    return set;
  }

  /**
   * The `auth` of an entry, whose key starts at `at` (authStart), parsed once per distinct text and found again by
   * its bytes, compared in place: authenticated calls are most of a protected system's traffic, and decoding each
   * one's auth (let alone its extras) would cost what the fault lists are cut out to save. `refreshOf` and
   * `replayOf` (ids of other entries, unique to the entry; the encoder writes them last) are left out, so that the
   * text repeats.
   */
  authOf(e: LeanEntry, at: number): AuthFacts {
    const buf = e.buf;
    const start = at + AUTH_OPEN.length - 1;
    // the auth object's text, without the extras' closing brace
    let end = e.ranges[9] - 1;
    // up to the end of the flags list, which the links follow: `,"refreshOf":12,"replayOf":34}` holds no `]`
    let flagsEnd = end - 2;
    while (flagsEnd > start && buf[flagsEnd] !== 0x5d /* ] */) flagsEnd--;
    const cut = flagsEnd > start && (flagsEnd === end - 2 || (buf[flagsEnd + 1] === 0x2c /* , */ && buf[flagsEnd + 3] === 0x72 /* r */));
    if (cut) end = flagsEnd + 1;
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ buf[i], 16777619);
    let bucket = this.authTexts.get(hash);
    if (bucket !== undefined) for (const known of bucket) if (buf.compare(known.bytes, 0, known.bytes.length, start, end) === 0) return known.facts;
    let facts: AuthFacts;
    try {
      const auth = JSON.parse(buf.toString('utf8', start, end) + (cut ? '}' : '')) as Partial<JournalAuth>;
      const list = (items: unknown): readonly string[] =>
        Array.isArray(items) && items.length ? Object.freeze(items.filter((x): x is string => typeof x === 'string').map((x) => this.string(x))) : NO_STRINGS;
      facts = Object.freeze({
        grant: typeof auth.grant === 'string' ? this.string(auth.grant) : null,
        method: typeof auth.method === 'string' ? this.string(auth.method) : null,
        scopes: list(auth.scopes),
        required: list(auth.required),
        flags: list(auth.flags),
      });
    } catch {
      return NO_AUTH;
    }
    if (this.authCount < MAX_AUTH_TEXTS) {
      if (bucket === undefined) this.authTexts.set(hash, (bucket = []));
      bucket.push({ bytes: Buffer.from(buf.subarray(start, end)), facts });
      this.authCount++;
    }
    return facts;
  }
}

export interface FaultSet {
  kinds: readonly string[];
  rules: readonly string[];
}

/** An entry's `auth` as attempts share it (Shared.authOf). */
export interface AuthFacts {
  grant: string | null;
  method: string | null;
  scopes: readonly string[];
  required: readonly string[];
  flags: readonly string[];
}

const AUTH_OPEN = Buffer.from(',"auth":{');

/**
 * Where the entry's `,"auth":{` starts in its buffer, or -1 when it records no auth. The encoder writes the auth
 * last: only an auth object makes the extras end with two braces (the effects list, always written, ends them with
 * `]}`; a transportError or bodyProblem with `"}`), so the key is then there to be found, searching back from the
 * end: `,"` cannot occur inside a JSON string (a quote in one is escaped), and the auth object holds no object.
 */
function authStart(e: LeanEntry): number {
  const from = e.ranges[8];
  const to = e.ranges[9];
  const buf = e.buf;
  if (to - from < AUTH_OPEN.length + 2 || buf[to - 1] !== 0x7d || buf[to - 2] !== 0x7d) return -1;
  const at = buf.lastIndexOf(AUTH_OPEN, to - AUTH_OPEN.length);
  return at < from ? -1 : at;
}

/** distinct auth texts remembered (a client's calls repeat a few; clients minting scopes cannot grow it past this) */
const MAX_AUTH_TEXTS = 10_000;

const FAULTS_START = '{"faults":[';
/** distinct fault lists remembered (a latency fault records its drawn delay, so some lists never repeat) */
const MAX_FAULT_TEXTS = 10_000;

export function toAttempt(id: number, e: LeanEntry, hints: OperationHints | undefined, shared: Shared = new Shared(), place = -1): Attempt {
  const set = e.hasFaults ? shared.faultsOf(e.extras) : null;
  const faults = set?.kinds ?? NO_STRINGS;
  const faultRules = set?.rules ?? NO_STRINGS;
  const answeredByFault = set !== null && faults.some((k) => !PASSING_FAULTS.has(k));
  const status = e.status;
  const safe = hints?.safe ?? SAFE.has(e.method);
  // the rest of the extras only when they can matter, found in place first: why nothing was answered (and what
  // was created, later and only where a duplicate could hide: fillCreated). The auth, when there is one, ends the
  // extras (so they look as if they went on past the effects): then a transportError or bodyProblem is there only
  // when the auth follows a string (`",`) rather than the effects (`],`)
  const authAt = authStart(e);
  const auth = authAt < 0 ? NO_AUTH : shared.authOf(e, authAt);
  const trailing = authAt < 0 ? e.hasTrailingExtras : e.buf[authAt - 1] !== 0x5d /* ] */;
  const transportError = trailing ? ((JSON.parse(e.extras) as Extras).transportError ?? '') : '';
  // a client may give up during a slow body too (status 200, cut short): abandoned whatever the status
  const abandoned = ABANDONED.test(transportError);
  const key = e.key === '' ? null : e.key;
  // what identifies a request: the path and query of a GET; the body of anything sent with one (a SOAP read too)
  const bodyless = SAFE.has(e.method);
  const body = bodyless ? '' : e.text(2);
  return {
    id,
    start: e.startedAt,
    end: e.endedAt,
    status,
    // already shared: the journal reader decodes each distinct short string once
    client: e.client,
    system: e.system,
    operation: e.operation,
    method: e.method,
    safe,
    key,
    keyFromHeader: false,
    // the key is cut out of the body where it occurs (an external key); a header's key is not in the body
    fingerprint: bodyless ? shared.string(e.path + '?' + e.query) : bodyFingerprint(e, body, key),
    failed: status === 0 || status >= 500 || status === 429 || status === 408 || answeredByFault || abandoned,
    faults,
    faultRules,
    // Retry-After comes with refusals (429, 503) and redirects; a 2xx is not read for it
    retryAfterUntil: status >= 300 ? retryAfterUntil(headerValue(e, 1, RETRY_AFTER), e.endedAt) : null,
    abandoned,
    outwaited: status === 0 && OUTWAITED.test(transportError),
    created: NO_EFFECTS,
    place,
    // any effects at all: fillCreated reads them for the few attempts where a duplicate could hide
    mayHaveCreated: !safe && e.size(4) > 0,
    records: hints?.records !== undefined && !safe ? countRecords(body, hints.records) : null,
    highestSeq: CHANGE_FEED.test(e.operation) && status >= 200 && status < 300 ? (e.operation.endsWith('.delta') ? deltaSeq(id, e) : highestSeq(e)) : null,
    selectedFields: fieldSelection(e, hints),
    grant: auth.grant,
    authMethod: auth.method,
    scopes: auth.scopes,
    requiredScopes: auth.required,
    authFlags: auth.flags,
  };
}


/**
 * Reads what only retried writes need from the journal (their entries must still be where they were): the records
 * they created, and whether their key came from an Idempotency-Key header.
 */
export function fillCreated(attempts: readonly Attempt[], read: (place: number) => LeanEntry): void {
  for (const a of attempts) {
    if (a.place < 0 || (!a.mayHaveCreated && a.key === null)) continue;
    const e = read(a.place);
    a.keyFromHeader = a.key !== null && headerValue(e, 0, IDEMPOTENCY_KEY) === a.key;
    if (!a.mayHaveCreated) continue;
    const made = ((JSON.parse(e.extras) as Extras).effects ?? []).filter((x) => x.action === 'created');
    if (made.length) a.created = made;
  }
}

const IDEMPOTENCY_KEY = Buffer.from('idempotency-key');
const RETRY_AFTER = Buffer.from('retry-after');

/**
 * One header's value from the journal's "name\nvalue\nname\nvalue" text (0: as received, 1: as sent), found
 * by comparing bytes in place (names case-insensitively), so the header text of a million entries is never
 * turned into strings. `name` is lower-case.
 */
export function headerValue(e: LeanEntry, which: 0 | 1, name: Buffer): string | null {
  const buf = e.buf;
  const end = e.ranges[which * 2 + 1];
  let p = e.ranges[which * 2];
  while (p < end) {
    const nameEnd = buf.indexOf(0x0a, p);
    if (nameEnd < 0 || nameEnd >= end) return null;
    let valueEnd = buf.indexOf(0x0a, nameEnd + 1);
    if (valueEnd < 0 || valueEnd > end) valueEnd = end;
    if (nameEnd - p === name.length && sameLowerCase(buf, p, name)) return buf.toString('utf8', nameEnd + 1, valueEnd);
    p = valueEnd + 1;
  }
  return null;
}

function sameLowerCase(buf: Buffer, at: number, lower: Buffer): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = buf[at + i];
    if ((c >= 0x41 && c <= 0x5a ? c + 32 : c) !== lower[i]) return false;
  }
  return true;
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
 * The body as one digest, the attempt's key left out: a client that mints a new external key (a new
 * externalOrderId) for each retry still sends the same order otherwise, and its retries must be seen as one
 * logical request. The key's text is cut out wherever it occurs (a JSON string, a form value), which needs no
 * parsing; any other body is digested as sent, which is what a retry of it sends again.
 */
function bodyFingerprint(e: LeanEntry, body: string, key: string | null): string {
  const head = e.path + ' ';
  if (body.length === 0) return head;
  let text = body;
  if (key !== null && text.includes(key)) text = text.replaceAll(key, '');
  return head + fingerprintOf(text);
}

/**
 * 64 bits of FNV-1a over the text, as 11 base-36 characters per lane: compared only between attempts of one client
 * and operation, where two different bodies meeting by chance is out of reach; a cryptographic digest cost a
 * microsecond an entry, most of a million-entry report's budget.
 */
export function fingerprintOf(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 16777619);
    b = Math.imul(b ^ c, 2246822519) ^ (b >>> 15);
  }
  return (a >>> 0).toString(36) + '.' + (b >>> 0).toString(36);
}

/** The length of the records array at `pointer` in a JSON body; null when the body is not that shape. */
function countRecords(body: string, pointer: string): number | null {
  if (body.length === 0) return null;
  try {
    let value: unknown = JSON.parse(body);
    for (const token of pointer.split('/').slice(1)) {
      if (value === null || typeof value !== 'object') return null;
      value = (value as Record<string, unknown>)[token.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    return Array.isArray(value) ? value.length : null;
  } catch {
    return null;
  }
}

const SEQ = Buffer.from('"seq"');

/**
 * The highest `seq` in a change page, found in the response's bytes (a page cut at the journal's body limit still
 * counts): a poll's page is kilobytes, and decoding every one into a string only to search it fed the collector
 * gigabytes over a million entries.
 */
function highestSeq(e: LeanEntry): number {
  let highest = -1;
  const size = e.size(3);
  if (size === 0) return highest;
  const body = e.buf.subarray(e.ranges[6], e.ranges[7]);
  for (let at = body.indexOf(SEQ); at >= 0; at = body.indexOf(SEQ, at + SEQ.length)) {
    let p = at + SEQ.length;
    while (p < size && (body[p] === 0x20 || body[p] === 0x3a /* : */ || body[p] === 0x0a || body[p] === 0x09)) p++;
    let seq = 0;
    let digits = 0;
    for (; p < size && body[p] >= 0x30 && body[p] <= 0x39 && digits < 15; p++, digits++) seq = seq * 10 + (body[p] - 0x30);
    if (digits > 0 && seq > highest) highest = seq;
  }
  return highest;
}

const EMPTY_VALUE = Buffer.from('"value":[]');

/**
 * An OData delta page has no `seq`: whatever it holds is, by construction, what changed since the client's delta
 * link, so a page with entries counts as new (the attempt's id, which only grows) and an empty one (`"value":[]`)
 * as bringing nothing.
 */
function deltaSeq(id: number, e: LeanEntry): number {
  const body = e.buf.subarray(e.ranges[6], e.ranges[7]);
  return body.length === 0 || body.indexOf(EMPTY_VALUE) >= 0 ? -1 : id;
}

/** Whether a read named the fields it wants: an empty selection (`fields=`) or a wildcard (`$select=*`) asks for all. */
function fieldSelection(e: LeanEntry, hints: OperationHints | undefined): boolean | null {
  if (e.method !== 'GET' || e.status < 200 || e.status >= 300) return null;
  const name = hints?.fieldSelection;
  if (name === undefined) return null;
  return new URLSearchParams(e.query).getAll(name).some((v) => v.trim() !== '' && v.trim() !== '*');
}
