/**
 * Stripe's idempotency rules (the contract's API description, SALESFORCE.md §6), in one place: every POST handler
 * is wrapped by idempotent(), and no handler knows about keys beyond reading the one it records on a charge.
 *
 * Keys are per (client, key) within a workspace's state. For a request with a key, in order:
 * 1. checks that are validation-like but the contract cannot express (an amount above a lowered maxAmount) answer
 *    400 and store nothing, exactly like a request the contract refused;
 * 2. a key found and not expired: still executing → 409 `idempotency_key_in_use`; used for another endpoint
 *    (operationId and path ids) or other parameters (a digest of the canonical JSON of the sanitized body) →
 *    400 `idempotency_error`; otherwise the stored status and body, `Idempotent-Replayed: true`, and no effects;
 *    none of these change the state;
 * 3. otherwise the handler executes and its answer, whatever the status, is stored under the key with the time it
 *    expires (`idempotencyKeyTtlMs` after first use) and the time it stops executing (`holdMs` later: a slow
 *    payment holds its key). Storing the key changes the state, so the write is logged and a replay after a
 *    restart finds the key again.
 * Without a key the handler executes and says itself whether it changed anything.
 *
 * Memory is bounded: at most `maxKeys` (limits.objects) keys per workspace; beyond it the oldest is dropped, and a
 * retry with a dropped key executes anew, as after expiry. Keys are kept in a Map in the order they were first
 * used; with one TTL for all that is also the order they expire in, so expiry drops from the front.
 */
import { hash } from 'node:crypto';
import type { RestRequest, RestResult } from '../../protocols/rest/handler.js';
import { errorResult } from './errors.js';
import type { PaymentsState } from './state.js';

export interface StoredKey {
  client: string;
  key: string;
  /** operationId and path parameters of the first request */
  endpoint: string;
  /** sha256 (base64) of the canonical JSON of the first request's (sanitized) body */
  digest: string;
  status: number;
  /**
   * the first answer's body as it was sent (the charge as it was then), serialized: replayed byte for byte, and
   * about half the memory of the object it was made from
   */
  json: string;
  createdAt: number;
  expiresAt: number;
  /** until when the first request is still executing (pm_card_slow): a request with the key meanwhile gets 409 */
  executingUntil: number;
}

export class IdempotencyKeys {
  private readonly byKey = new Map<string, StoredKey>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxKeys: number | undefined,
  ) {}

  get size(): number {
    return this.byKey.size;
  }

  /** The live entry for (client, key), or undefined when there is none or it has expired. */
  find(client: string, key: string, now: number): StoredKey | undefined {
    const found = this.byKey.get(mapKey(client, key));
    return found !== undefined && found.expiresAt > now ? found : undefined;
  }

  store(entry: Omit<StoredKey, 'expiresAt'>): StoredKey {
    const stored: StoredKey = { ...entry, expiresAt: entry.createdAt + this.ttlMs };
    const k = mapKey(entry.client, entry.key);
    // an expired entry that catchUp has not dropped yet (a clock moved back): re-inserted at the end
    this.byKey.delete(k);
    this.byKey.set(k, stored);
    if (this.maxKeys !== undefined) {
      for (const oldest of this.byKey.keys()) {
        if (this.byKey.size <= this.maxKeys) break;
        this.byKey.delete(oldest);
      }
    }
    return stored;
  }

  /** Drops the keys that have expired by `now` (oldest first, stopping at the first live one). */
  expire(now: number): void {
    for (const [k, entry] of this.byKey) {
      if (entry.expiresAt > now) break;
      this.byKey.delete(k);
    }
  }

  entries(): StoredKey[] {
    return [...this.byKey.values()];
  }

  static fromEntries(entries: StoredKey[], ttlMs: number, maxKeys: number | undefined): IdempotencyKeys {
    const keys = new IdempotencyKeys(ttlMs, maxKeys);
    for (const e of entries) {
      if (typeof e.client !== 'string' || typeof e.key !== 'string' || typeof e.digest !== 'string' || typeof e.json !== 'string' || !Number.isInteger(e.status)) {
        throw new Error('idempotency keys: malformed entry');
      }
      keys.byKey.set(mapKey(e.client, e.key), e);
    }
    return keys;
  }
}

/** Client names and keys are free text: length-prefixed so that no two pairs share a map key. */
function mapKey(client: string, key: string): string {
  return `${client.length}:${client}${key}`;
}

/** The request's Idempotency-Key (the engine has validated its form), or undefined. */
export function idempotencyKeyOf(req: RestRequest): string | undefined {
  const value = req.headers['idempotency-key'];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** JSON with object keys sorted, so that `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same parameters. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

export function parametersDigest(body: unknown): string {
  return hash('sha256', canonicalJson(body ?? {}), 'base64');
}

function endpointOf(req: RestRequest): string {
  return `${req.operationId} ${canonicalJson(req.params ?? {})}`;
}

export const REPLAYED_HEADER = 'idempotent-replayed';

/** A POST handler of this system: synchronous (writes are replayed), answering with changedState when it differs from the default. */
export type SyncHandler = (req: RestRequest, state: PaymentsState) => RestResult;

/** A validation-like check the contract cannot express: a refusal here stores nothing. */
export type Precheck = (req: RestRequest, state: PaymentsState) => RestResult | undefined;

/** Wraps a POST handler with the idempotency rules above (catchUp has run). */
export function idempotent(handler: SyncHandler, precheck?: Precheck): SyncHandler {
  return (req, state) => {
    const key = idempotencyKeyOf(req);
    const withKey = (result: RestResult): RestResult => (key === undefined ? result : { ...result, key });

    const refused = precheck?.(req, state);
    if (refused !== undefined) return withKey({ ...refused, changedState: false });
    if (key === undefined) return handler(req, state);

    const now = state.now();
    const endpoint = endpointOf(req);
    const digest = parametersDigest(req.body);
    const stored = state.keys.find(req.client, key, now);
    if (stored !== undefined) {
      // refusals of a used key: answered before anything executes, so nothing is stored and nothing changes
      const refuse = (status: number, message: string, code?: string): RestResult =>
        withKey({ ...errorResult(status, { type: 'idempotency_error', ...(code ? { code } : {}), message }), changedState: false });
      if (now < stored.executingUntil) {
        return refuse(409, `Another request with the Idempotency-Key ${key} is still being executed. Retry once it has finished.`, 'idempotency_key_in_use');
      }
      const reuse = (what: string, firstUsed: string) =>
        `Keys for idempotent requests can only be used ${what}. The Idempotency-Key ${key} was first used ${firstUsed}; try using a key other than it if you meant to execute a different request.`;
      if (stored.endpoint !== endpoint) return refuse(400, reuse('for the same endpoint they were first used for', 'for another endpoint'));
      if (stored.digest !== digest) return refuse(400, reuse('with the same parameters they were first used with', 'with other parameters'));
      return { status: stored.status, json: stored.json, headers: { [REPLAYED_HEADER]: 'true' }, key, changedState: false };
    }

    const result = handler(req, state);
    // serialized once: stored, and sent as the same bytes (the handler's body is a fresh view, kept for the check)
    const json = JSON.stringify(result.body);
    state.keys.store({
      client: req.client,
      key,
      endpoint,
      digest,
      status: result.status,
      json,
      createdAt: now,
      executingUntil: now + (result.holdMs ?? 0),
    });
    return { ...result, json, key, changedState: true };
  };
}
