/**
 * retry.bounded: no logical request was attempted more than `maxAttempts` times (default 10) or for longer than
 * `maxSpanMs` (default 5 min) from its first attempt to its last. Unbounded retries turn one failed order into
 * a load generator and hide the failure from whoever should handle it.
 */
import { byOperation, duration, result, type ClientCheck } from '../context.js';
import type { CheckResult } from '../types.js';

export const retryBounded: ClientCheck = (client, { settings }) => {
  const out: CheckResult[] = [];
  for (const [operation, requests] of byOperation(client.requests)) {
    const retried = requests.filter((r) => r.attempts.length > 1);
    if (retried.length === 0) continue;
    let maxAttempts = 0;
    let maxSpanMs = 0;
    let longest = retried[0];
    const over = [];
    for (const r of retried) {
      const span = r.attempts[r.attempts.length - 1].end - r.attempts[0].start;
      if (r.attempts.length > maxAttempts) {
        maxAttempts = r.attempts.length;
        longest = r;
      }
      maxSpanMs = Math.max(maxSpanMs, span);
      if (r.attempts.length > settings.maxAttempts || span > settings.maxSpanMs) over.push(r);
    }
    const value = { maxAttempts, maxSpanMs: Math.round(maxSpanMs) };
    if (over.length) {
      out.push(
        result(
          'retry.bounded',
          'fail',
          `${client.client} kept retrying ${operation}: ${over.length} logical request(s) went beyond ${settings.maxAttempts} attempts or ${duration(settings.maxSpanMs)} (the worst: ${maxAttempts} attempts over ${duration(maxSpanMs)}). Cap retries by count and by time, then stop and surface the failure (a dead-letter record, an alert) so a person can act.`,
          over.slice(0, 5).flatMap((r) => r.attempts.map((a) => a.id)),
          value,
          { operation },
        ),
      );
    } else {
      out.push(
        result(
          'retry.bounded',
          'pass',
          `${client.client}'s retries of ${operation} stayed within ${settings.maxAttempts} attempts and ${duration(settings.maxSpanMs)} per logical request (at most ${maxAttempts} attempts over ${duration(maxSpanMs)}).`,
          longest.attempts.map((a) => a.id),
          value,
          { operation },
        ),
      );
    }
  }
  if (out.length === 0) out.push(result('retry.bounded', 'n/a', `${client.client} retried no logical request, so there was no retry loop to bound.`));
  return out;
};
