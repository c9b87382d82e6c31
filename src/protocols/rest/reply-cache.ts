/**
 * The reply cache: a read's serialised reply, reused while the state it read has not changed.
 *
 * Integrations poll: the same inventory record, the same empty change-feed page, over and over. Building the view,
 * serialising it and checking it against the contract cost most of such a request (a 50-record feed page is ~26 KB
 * of JSON). A system opts in per operation (RestSystemDefinition.replyCache) and gives the engine a revision of its
 * state: a number that changes with every write, read after the state has applied whatever background changes were
 * due (simulation, expiry). A stored reply is reused only when its revision is the state's current one, so a cached
 * answer is always byte-for-byte what the handler would answer now, and state stays a function of the accepted
 * writes alone (the cache is never state: dropping it changes nothing a client can see).
 *
 * Entries are per state object (a workspace's, replaced on reset) and keyed by what the handler reads: the base URL
 * the caller used (links), the path and the raw query. The contract check's verdict is stored with the entry, so it
 * runs once per distinct reply; a chaos fault that rewrites the body gets a fresh check (see RestEngine).
 */
import type { ContractError, Reply } from '../../engine/exchange.js';

/** Most replies kept per state; the oldest stored goes first (polling clients repeat recent requests). */
const MAX_ENTRIES_PER_STATE = 256;

/**
 * A body made once and sent again, with the contract check's verdict on it once it ran: a cached reply here, or a
 * generated answer the ResponseGenerator remembers. RestEngine.checkResponse keeps the verdict in it.
 */
export interface RememberedBody {
  body: string | undefined;
  /** the value the body was serialised from, until the check has used it */
  source: unknown;
  /** the contract check's findings for exactly this body, once it ran */
  checked?: ContractError[];
}

export interface CachedReply extends RememberedBody {
  revision: number;
  status: number;
  headers: Reply['headers'];
  body: string;
  /** the external key the handler named (a reservation read by id names its order) */
  key: string | undefined;
}

export class ReplyCache {
  private readonly byState = new WeakMap<object, Map<string, CachedReply>>();

  /** The stored reply for `key` if it was made at `revision`, as a fresh Reply (faults may add headers to it). */
  get(state: object, key: string, revision: number): Reply | undefined {
    const entry = this.byState.get(state)?.get(key);
    if (entry === undefined || entry.revision !== revision) return undefined;
    return { status: entry.status, headers: { ...entry.headers }, body: entry.body, source: entry.source, memo: entry };
  }

  /** Keeps a string-bodied reply made at `revision`; marks the reply so its contract check is stored too. */
  put(state: object, key: string, revision: number, reply: Reply, externalKey: string | undefined): void {
    if (typeof reply.body !== 'string') return;
    let entries = this.byState.get(state);
    if (entries === undefined) this.byState.set(state, (entries = new Map()));
    else if (entries.size >= MAX_ENTRIES_PER_STATE && !entries.has(key)) entries.delete(entries.keys().next().value as string);
    const entry: CachedReply = { revision, status: reply.status, headers: { ...reply.headers }, body: reply.body, source: reply.source, key: externalKey };
    entries.set(key, entry);
    reply.memo = entry;
  }
}

/** The remembered body behind a reply (Reply.memo), when the reply still carries that body unchanged. */
export function cachedEntryOf(reply: Reply): RememberedBody | undefined {
  const entry = reply.memo as RememberedBody | undefined;
  return entry !== undefined && entry.body === reply.body ? entry : undefined;
}
