/**
 * retry.strategy: how a client waits between attempts of one logical request, per operation —
 * none | immediate | constant | linear | exponential, and whether the waits are jittered.
 *
 * Classified from the time the client waited since the first failure of each logical request at each retry (t1, t2,
 * ...: the waits between an attempt's end and the next one's start, added up), pooled
 * over all of the operation's retried requests, never from a single gap: jittered strategies (cockatiel's
 * default, decorrelated jitter) draw every wait at random, so one wait says little, but the median of t_k over
 * several requests follows the strategy's curve. From those medians the gaps between retries are compared with
 * three shapes — equal gaps (constant), gaps growing by a fixed step (linear), gaps growing by a fixed factor
 * (exponential) — and the closest wins. Jitter shows as spread: t_k differing between requests (or, with a
 * single request, gaps off their shape).
 */
import type { Attempt } from '../attempts.js';
import { byOperation, duration, median, plural, result, type ClientCheck } from '../context.js';
import type { LogicalRequest } from '../logical-requests.js';

export type Strategy = 'none' | 'immediate' | 'constant' | 'linear' | 'exponential';

/** a first retry sooner than this after a failure is immediate (the rule) */
export const IMMEDIATE_MS = 100;
/** spread (coefficient of variation) of t_k between requests above which the waits are jittered */
const JITTER_SPREAD = 0.12;
/** with one request only: how far its gaps may stray from their fitted shape before that is jitter */
const JITTER_RESIDUAL = 0.15;
/** how far timers, the event loop and the network move a wait that was meant to be exact */
const TIMER_NOISE_MS = 25;
/** at most this many retries per request shape the classification (a capped backoff flattens after a while) */
const MAX_GAPS = 6;

export interface Classification {
  strategy: Strategy;
  jitter: boolean | null;
  /** median time since the first failure at retry k (index 0 = first retry) */
  medians: number[];
}

/**
 * The time since the first failure at each retry of a request whose first attempt failed, counting the client's
 * waits only: a retry that itself took a second to fail (a slow answer, a timeout) does not make the next wait
 * look longer than the client chose.
 */
function offsets(request: LogicalRequest): number[] {
  const out: number[] = [];
  let waited = 0;
  for (let i = 1; i < request.attempts.length; i++) {
    waited += Math.max(0, request.attempts[i].start - request.attempts[i - 1].end);
    out.push(waited);
  }
  return out;
}

export function classify(requests: readonly LogicalRequest[]): Classification | undefined {
  const failed = requests.filter((r) => r.attempts[0].failed);
  if (failed.length === 0) return undefined;
  const retried = failed.filter((r) => r.attempts.length > 1);
  if (retried.length === 0) return { strategy: 'none', jitter: null, medians: [] };
  const series = retried.map(offsets);
  const depth = Math.min(MAX_GAPS, Math.max(...series.map((s) => s.length)));
  const medians: number[] = [];
  const spreads: number[] = [];
  for (let k = 0; k < depth; k++) {
    const at = series.filter((s) => s.length > k).map((s) => s[k]);
    // a retry depth reached by too few requests says more about those few than about the strategy
    if (k > 0 && at.length < Math.max(1, Math.ceil(retried.length / 3))) break;
    medians.push(median(at));
    if (at.length >= 3) spreads.push(coefficientOfVariation(at));
  }
  // retries within timer noise of each other: there is no wait to jitter
  if (medians[0] < IMMEDIATE_MS) return { strategy: 'immediate', jitter: false, medians };
  const gaps = medians.map((m, k) => Math.max(1, m - (k === 0 ? 0 : medians[k - 1])));
  const fit = shapeOf(gaps);
  const jitter = spreads.length ? median(spreads) > JITTER_SPREAD : gaps.length >= 3 ? fit.residual > JITTER_RESIDUAL : false;
  return { strategy: fit.strategy, jitter, medians };
}

/**
 * The shape of the gaps between retries. Each model is fitted by least squares (on log-gaps for the exponential
 * one) and scored by its mean absolute error in log terms, so a 100 ms miss on a 100 ms gap counts as much as a
 * 10 s miss on a 10 s gap. Constant wins ties: it has the fewest parameters.
 */
function shapeOf(gaps: number[]): { strategy: 'constant' | 'linear' | 'exponential'; residual: number } {
  if (gaps.length === 1) return { strategy: 'constant', residual: 0 };
  const n = gaps.length;
  const ks = gaps.map((_, k) => k);
  const logs = gaps.map(Math.log);
  const mean = gaps.reduce((a, b) => a + b, 0) / n;
  const error = (predicted: number[]) => predicted.reduce((sum, p, k) => sum + Math.abs(logs[k] - Math.log(Math.max(1, p))), 0) / n;
  const constant = error(gaps.map(() => mean));
  const line = leastSquares(ks, gaps);
  const linear = error(ks.map((k) => line.intercept + line.slope * k));
  const logLine = leastSquares(ks, logs);
  const exponential = error(ks.map((k) => Math.exp(logLine.intercept + logLine.slope * k)));
  // growth small enough to be noise: the last gap within a quarter of the first
  const growth = (line.intercept + line.slope * (n - 1)) / Math.max(1, line.intercept);
  if (constant <= Math.min(linear, exponential) + 0.02 || (growth < 1.25 && growth > 0.8)) return { strategy: 'constant', residual: constant };
  if (exponential <= linear) return { strategy: 'exponential', residual: exponential };
  return { strategy: 'linear', residual: linear };
}

function leastSquares(xs: number[], ys: number[]): { slope: number; intercept: number } {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  const slope = den === 0 ? 0 : num / den;
  return { slope, intercept: my - slope * mx };
}

/** Spread relative to the mean; 0 when the spread is within timer noise (a few ms either way is not jitter). */
function coefficientOfVariation(values: number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (mean <= 0) return 0;
  const deviation = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
  return deviation < TIMER_NOISE_MS ? 0 : deviation / mean;
}

const WHY: Record<Strategy, string> = {
  none: 'it never retried a failed attempt: a transient 5xx, 429 or reset became a failure for whoever was waiting on it. Retry idempotent work with exponential backoff and jitter, and hand the rest to a dead-letter path someone watches.',
  immediate:
    'it retried within 100 ms of a failure. Against a struggling system that multiplies the load at the worst moment and usually fails again for the same reason. Wait before retrying, growing the wait each time (exponential backoff) with jitter.',
  constant:
    'it waits the same time before every retry. That is better than retrying at once, but a system that is down for minutes keeps receiving the same load, and clients that failed together retry together. Grow the wait exponentially and add jitter.',
  linear:
    'its waits grow by a fixed step. That backs off, but slowly: over a long outage it still calls far more often than exponential backoff would.',
  exponential: 'its waits grow by a factor each time (exponential backoff), which quickly takes the load off a failing system.',
};

export const retryStrategy: ClientCheck = (client) => {
  const out = [];
  for (const [operation, requests] of byOperation(client.requests)) {
    const c = classify(requests);
    if (c === undefined) continue;
    const retried = requests.filter((r) => r.attempts.length > 1 && r.attempts[0].failed);
    const failedFirsts = requests.filter((r) => r.attempts[0].failed);
    const entries = (retried.length ? retried : failedFirsts).slice(0, 10).flatMap((r) => r.attempts.map((a: Attempt) => a.id));
    // backing off (linear or exponential) with jitter passes; a constant wait, or waits in lockstep, only warns
    const status = c.strategy === 'immediate' ? 'fail' : c.strategy === 'none' || c.strategy === 'constant' || !c.jitter ? 'warn' : 'pass';
    const jitterNote =
      c.jitter === null
        ? ''
        : c.jitter
          ? ' The waits are jittered, so clients that failed together do not retry together.'
          : ' The waits are not jittered: many instances that failed together will retry in lockstep; add random jitter.';
    const shape = c.medians.length ? ` Median time since the first failure at each retry: ${c.medians.map(duration).join(', ')}.` : '';
    out.push(
      result('retry.strategy', status, `${client.client} on ${operation}: ${c.strategy} — ${WHY[c.strategy]}${jitterNote}${shape} Judged over ${plural(failedFirsts.length, 'failed logical request')}, ${retried.length} retried.`, entries, { strategy: c.strategy, jitter: c.jitter }, {
        operation,
        evidence: { logicalRequests: failedFirsts.length, retried: retried.length, medianOffsetsMs: c.medians.map(Math.round) },
      }),
    );
  }
  if (out.length === 0) out.push(result('retry.strategy', 'n/a', `${client.client} met no failure (no 5xx, 429, reset or injected fault), so there was nothing to retry.`));
  return out;
};
