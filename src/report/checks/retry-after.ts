/**
 * retry.respectsRetryAfter: after a reply that said Retry-After, the next attempt of the same logical request
 * came no earlier than it said (5% tolerance). Judged against the header actually sent: delay-seconds count from
 * the moment the reply went out, an HTTP-date is the instant itself (the server rounds it up to the second, so an
 * honouring client is never early by the rounding).
 */
import { byOperation, duration, plural, result, type ClientCheck } from '../context.js';
import type { CheckResult } from '../types.js';

const TOLERANCE = 0.05;

export const retryRespectsRetryAfter: ClientCheck = (client) => {
  const out: CheckResult[] = [];
  for (const [operation, requests] of byOperation(client.requests)) {
    let told = 0;
    const early: Array<{ told: number; next: number; waitedMs: number; askedMs: number }> = [];
    const honoured: number[] = [];
    for (const r of requests) {
      for (let i = 0; i + 1 < r.attempts.length; i++) {
        const a = r.attempts[i];
        if (a.retryAfterUntil === null) continue;
        const next = r.attempts[i + 1];
        told++;
        const askedMs = Math.max(0, a.retryAfterUntil - a.end);
        const waitedMs = next.start - a.end;
        if (waitedMs < askedMs * (1 - TOLERANCE)) early.push({ told: a.id, next: next.id, waitedMs: Math.round(waitedMs), askedMs: Math.round(askedMs) });
        else honoured.push(a.id, next.id);
      }
    }
    if (told === 0) continue;
    if (early.length) {
      const worst = early.reduce((w, e) => (e.askedMs - e.waitedMs > w.askedMs - w.waitedMs ? e : w));
      out.push(
        result(
          'retry.respectsRetryAfter',
          'fail',
          `${client.client} retried ${operation} too early ${plural(early.length, 'time')} out of ${told}: asked to wait ${duration(worst.askedMs)} (entry ${worst.told}), it came back after ${duration(Math.max(0, worst.waitedMs))} (entry ${worst.next}). Retry-After is the server saying when it can take the request again; retrying before then is refused again (or counts against a quota) and keeps the system down. Read Retry-After (seconds or an HTTP-date) and wait at least that long, even if your own backoff says less.`,
          early.flatMap((e) => [e.told, e.next]),
          { retriesAfterRetryAfter: told, early: early.length },
          { operation, evidence: { early: early.slice(0, 20) } },
        ),
      );
    } else {
      out.push(
        result(
          'retry.respectsRetryAfter',
          'pass',
          `${client.client} waited at least as long as Retry-After asked before each of its ${plural(told, 'retry', 'retries')} of ${operation}.`,
          honoured,
          { retriesAfterRetryAfter: told, early: 0 },
          { operation },
        ),
      );
    }
  }
  if (out.length === 0) {
    out.push(result('retry.respectsRetryAfter', 'n/a', `No reply to ${client.client} that carried Retry-After was followed by a retry of the same logical request, so there was nothing to judge.`));
  }
  return out;
};
