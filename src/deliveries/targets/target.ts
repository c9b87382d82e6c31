/**
 * Where a delivery goes. A target makes one attempt and says what happened; it never retries on its own (the
 * dispatcher decides when the next attempt is, from the retry policy) and never throws: every failure is an
 * outcome with a null status and an error. Each subscription has its own target (its own sockets, its own token).
 */
import type { SignatureFault } from '../signature.js';

export interface SendRequest {
  /** the event as JSON text: exactly the bytes a webhook receives (and signs) */
  body: string;
  /** the same event parsed, for targets that map its fields (Platform Events) */
  event: { id: string; type: string; created: string; system: string; data: unknown };
  /** the attempt is abandoned (error "timeout") when no complete response arrived within this many ms */
  timeoutMs: number;
  /** clock time of the attempt (ms): a webhook signs with t = its seconds */
  nowMs: number;
  /** webhook signing secrets, newest first (two during a rotation's grace period) */
  secrets: readonly string[];
  /** a forged signature on this attempt (delivery chaos) */
  signatureFault?: SignatureFault;
}

export interface SendOutcome {
  /** the HTTP status the receiver answered, null when there was no response (timeout, reset, refused) */
  status: number | null;
  /** from the start of the attempt to its end, in ms */
  latencyMs: number;
  /** why, when it failed: "timeout", "ECONNREFUSED", "REQUEST_LIMIT_EXCEEDED", "redirect to ... not followed" */
  error?: string;
  /** the receiver asked to wait this long before the next attempt (Retry-After) */
  retryAfterMs?: number;
}

export interface DeliveryTarget {
  send(request: SendRequest): Promise<SendOutcome>;
  /** closes idle sockets (the subscription was deleted or the server stops) */
  close(): void;
}
