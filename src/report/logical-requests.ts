/**
 * Attempts grouped into logical requests: what the client meant to do once, however many times it had to try.
 *
 * An attempt continues a logical request when it comes from the same client for the same operation, after an
 * attempt of that request that failed (or that a fault answered), within the retry window, and shares any of:
 * its idempotency key, or its fingerprint (attempts.ts: for unsafe methods the body with the key's field left
 * out, for safe ones the path and query). "Any", because a client that mints a new Idempotency-Key or a new
 * externalOrderId for every retry still resends the same order, and its retries are still retries. A success
 * closes the request: the same key sent again after it is a new request (a replay), not a retry.
 */
import type { Attempt } from './attempts.js';

export interface LogicalRequest {
  client: string;
  system: string;
  operation: string;
  method: string;
  /** it changes something (its first attempt was not safe: Attempt.safe), so its retries need a key */
  unsafe: boolean;
  /** in order of arrival; the first is the original, the rest retries */
  attempts: Attempt[];
}

export const DEFAULT_RETRY_WINDOW_MS = 120_000;
export function isUnsafe(request: LogicalRequest): boolean {
  return request.unsafe;
}

/** Groups attempts (in arrival order) into logical requests, in order of their first attempt. */
export function groupLogicalRequests(attempts: readonly Attempt[], windowMs = DEFAULT_RETRY_WINDOW_MS): LogicalRequest[] {
  const requests: LogicalRequest[] = [];
  // open requests (last attempt failed), per stream (client, then system and operation), by key and by fingerprint;
  // nested maps, so that no key string is built per attempt
  const open = new Map<string, Map<string, Map<string, StreamIndex>>>();
  for (const attempt of attempts) {
    const { byKey, byFingerprint } = streamIndex(open, attempt);
    let request = attempt.key === null ? undefined : continuable(byKey.get(attempt.key), attempt, windowMs);
    // by body alone (the key changed): only once the failure was seen, so that two orders with the same lines sent
    // side by side under their own keys stay two requests
    request ??= continuable(byFingerprint.get(attempt.fingerprint), attempt, windowMs, true);
    if (request === undefined) {
      request = { client: attempt.client, system: attempt.system, operation: attempt.operation, method: attempt.method, unsafe: !attempt.safe, attempts: [attempt] };
      requests.push(request);
    } else request.attempts.push(attempt);
    if (attempt.failed) {
      if (attempt.key !== null) byKey.set(attempt.key, request);
      byFingerprint.set(attempt.fingerprint, request);
    } else {
      // succeeded: closed; forget it under every key and fingerprint it was indexed by
      for (const a of request.attempts) {
        if (a.key !== null && byKey.get(a.key) === request) byKey.delete(a.key);
        if (byFingerprint.get(a.fingerprint) === request) byFingerprint.delete(a.fingerprint);
      }
    }
  }
  return requests;
}

interface StreamIndex {
  byKey: Map<string, LogicalRequest>;
  byFingerprint: Map<string, LogicalRequest>;
}

function streamIndex(open: Map<string, Map<string, Map<string, StreamIndex>>>, a: Attempt): StreamIndex {
  let bySystem = open.get(a.client);
  if (!bySystem) open.set(a.client, (bySystem = new Map()));
  let byOperation = bySystem.get(a.system);
  if (!byOperation) bySystem.set(a.system, (byOperation = new Map()));
  let index = byOperation.get(a.operation);
  if (!index) byOperation.set(a.operation, (index = { byKey: new Map(), byFingerprint: new Map() }));
  return index;
}

/**
 * The request, if `attempt` may continue it: its last attempt failed, not longer ago than the window, and (when
 * `afterEnd`) the attempt came after that failure's end rather than alongside it.
 */
function continuable(request: LogicalRequest | undefined, attempt: Attempt, windowMs: number, afterEnd = false): LogicalRequest | undefined {
  if (request === undefined) return undefined;
  const last = request.attempts[request.attempts.length - 1];
  if (!last.failed || attempt.start < (afterEnd ? last.end : last.start) || attempt.start - last.end > windowMs) return undefined;
  return request;
}
