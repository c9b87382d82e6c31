/**
 * When a failed delivery is tried again (config `deliveries.retry`, a subscription's `retry`, PRODUCT.md §1 and
 * §6): exponential backoff with "equal jitter", until the event is `maxAge` old or `maxAttempts` were made, then
 * the delivery is dead.
 *
 * The default is modelled on Salesforce outbound messaging (SALESFORCE.md §4), the deliveries our users know
 * best: the interval grows exponentially up to 2 h between retries, and a message still undelivered at 24 h is
 * dropped. Equal jitter (half the backoff fixed, half drawn) rather than none, so that a receiver that was down
 * is not hit by every queued delivery at the same instant when it comes back; rather than "full jitter", so that
 * the wait never collapses to nothing and a receiver that is still down is not hammered. The draw is passed in
 * (seeded by the caller), so that retries are as replayable as the faults that caused them.
 */
import { DURATION_FORMAT, parseDuration } from '../util/units.js';

export interface RetryPolicy {
  /** the backoff before the first retry (before jitter) */
  baseMs: number;
  /** each retry's backoff is the previous one's times this */
  factor: number;
  /** no backoff is longer than this */
  capMs: number;
  /** attempts in all, the first one included */
  maxAttempts: number;
  /** no attempt starts later than this long after the event happened */
  maxAgeMs: number;
}

/** `{ base: 1s, factor: 2, cap: 2h, maxAttempts: 25, maxAge: 24h }` (PRODUCT.md §1) */
export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({
  baseMs: 1_000,
  factor: 2,
  capMs: 2 * 3_600_000,
  maxAttempts: 25,
  maxAgeMs: 24 * 3_600_000,
});

const KEYS = ['base', 'factor', 'cap', 'maxAttempts', 'maxAge'];

export type ParsedRetryPolicy = { value: RetryPolicy } | { errors: Array<{ path: string; message: string }> };

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * A policy from what a config file or the admin API wrote: a partial map over `base` (the config's default, or
 * DEFAULT_RETRY). Durations are strings ("1s", "2h"), as everywhere else in understudy; `factor` a number from 1
 * to 10; `maxAttempts` a whole number from 1 to 1000. Every problem is listed, each with the key it is about
 * (`path`, relative to the retry map: "cap"; "" for the map itself); unknown keys are problems too. null or
 * undefined is "nothing overridden".
 */
export function parseRetryPolicy(raw: unknown, base: RetryPolicy): ParsedRetryPolicy {
  if (raw === undefined || raw === null) return { value: { ...base } };
  if (!isMap(raw)) return { errors: [{ path: '', message: `retry is a map such as { base: 1s, factor: 2, cap: 2h, maxAttempts: 25, maxAge: 24h }` }] };
  const errors: Array<{ path: string; message: string }> = [];
  const value: RetryPolicy = { ...base };
  for (const key of Object.keys(raw)) if (!KEYS.includes(key)) errors.push({ path: key, message: `unknown retry setting; use ${KEYS.join(', ')}` });

  const duration = (key: string): number | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    let ms: number | undefined;
    if (typeof v === 'string') {
      try {
        ms = parseDuration(v);
      } catch {
        // reported below
      }
    }
    if (ms === undefined) errors.push({ path: key, message: `must be ${DURATION_FORMAT}` });
    else if (ms === 0) errors.push({ path: key, message: 'must be above 0' });
    return ms === 0 ? undefined : ms;
  };
  const baseMs = duration('base');
  if (baseMs !== undefined) value.baseMs = baseMs;
  const capMs = duration('cap');
  if (capMs !== undefined) value.capMs = capMs;
  const maxAgeMs = duration('maxAge');
  if (maxAgeMs !== undefined) value.maxAgeMs = maxAgeMs;

  if (raw.factor !== undefined) {
    // 1 is a constant backoff; beyond 10 the cap is reached within a couple of retries anyway
    if (typeof raw.factor !== 'number' || !(raw.factor >= 1 && raw.factor <= 10)) errors.push({ path: 'factor', message: 'must be a number from 1 to 10' });
    else value.factor = raw.factor;
  }
  if (raw.maxAttempts !== undefined) {
    if (!Number.isInteger(raw.maxAttempts) || (raw.maxAttempts as number) < 1 || (raw.maxAttempts as number) > 1000) {
      errors.push({ path: 'maxAttempts', message: 'must be a whole number from 1 to 1000' });
    } else value.maxAttempts = raw.maxAttempts as number;
  }
  // checked on the merged policy: `cap: 500ms` over a base of 1s is as wrong as writing both
  if (value.capMs < value.baseMs && !errors.some((e) => e.path === 'cap' || e.path === 'base')) {
    errors.push({ path: raw.cap !== undefined ? 'cap' : 'base', message: `cap (${formatDuration(value.capMs)}) is below base (${formatDuration(value.baseMs)}): no backoff could grow` });
  }
  return errors.length ? { errors } : { value };
}

/**
 * When the next attempt of a delivery may start (ms since the epoch, as the clock counts), or undefined when
 * there is none: the delivery is dead. `attemptsMade` (>= 1) counts the attempts made so far; the wait before
 * retry n = attemptsMade is drawn uniformly in [d/2, d] with d = min(cap, base * factor^(n-1)), counted from the
 * moment the previous attempt got its answer (or gave up) so that a slow receiver is not sent the next attempt
 * while it still chews on the last. A receiver's Retry-After wins when it asks for longer. Dead after maxAttempts
 * attempts, or when the next one would start more than maxAge after the event happened (`eventAt`).
 */
export function nextAttemptAt(
  policy: RetryPolicy,
  attemptsMade: number,
  lastAnswerAt: number,
  eventAt: number,
  random: () => number,
  retryAfterMs?: number,
): number | undefined {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 1) throw new RangeError(`attemptsMade counts attempts already made (1 or more), not ${attemptsMade}`);
  if (attemptsMade >= policy.maxAttempts) return undefined;
  // factor^(n-1) overflows to Infinity for long runs, which the cap absorbs
  const d = Math.min(policy.capMs, policy.baseMs * Math.pow(policy.factor, attemptsMade - 1));
  // whole ms, still inside [d/2, d]: ceil never goes below d/2, floor(d) keeps a fractional d (factor 1.5) from
  // being rounded past (d >= 1 ms, so floor(d) >= d/2)
  let wait = Math.min(Math.ceil(d / 2 + random() * (d / 2)), Math.floor(d));
  if (retryAfterMs !== undefined && retryAfterMs > wait) wait = retryAfterMs;
  const at = lastAnswerAt + wait;
  return at > eventAt + policy.maxAgeMs ? undefined : at;
}

const UNITS: Array<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
];

/**
 * ms as the largest unit that writes it exactly: 7200000 → "2h", 1500 → "1500ms" (parseDuration reads it back).
 * One day shows as "24h", the way the documented default (maxAge: 24h) writes it; days from two on.
 */
export function formatDuration(ms: number): string {
  for (const [unit, size] of UNITS) {
    if (unit === 'd' && ms < 2 * size) continue;
    if (ms > 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** A policy as the admin API shows it and a config file writes it: `{ base: "1s", factor: 2, cap: "2h", ... }` */
export function formatPolicy(policy: RetryPolicy): { base: string; factor: number; cap: string; maxAttempts: number; maxAge: string } {
  return {
    base: formatDuration(policy.baseMs),
    factor: policy.factor,
    cap: formatDuration(policy.capMs),
    maxAttempts: policy.maxAttempts,
    maxAge: formatDuration(policy.maxAgeMs),
  };
}
