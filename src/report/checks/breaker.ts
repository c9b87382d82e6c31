/**
 * breaker.stopsDuringOutage: during an outage window the client's call rate to the failing system fell by at
 * least 80% after at most N consecutive failures (default 5), it probed sparsely, and it resumed after recovery.
 *
 * A rate drop alone does not prove a breaker: a client with long exponential backoff also goes quiet. What ends
 * each silence tells them apart: a retry of the same logical request is backoff (the client is still holding
 * that work, and every held request will retry), a new logical request is a breaker's probe after it dropped
 * work (failing fast while open). Quiet by backoff warns; quiet by a breaker passes; not quiet fails.
 */
import type { Attempt } from '../attempts.js';
import { duration, endOf, plural, result, type ClientCheck, type ClientView, type Outage, type ReportContext } from '../context.js';
import type { CheckResult, CheckStatus } from '../types.js';

const DROP = 0.8;
/** the rate before the outage is measured over at most this long */
const BASELINE_MS = 60_000;
/** a pause this long in a client's calls is a silence; the call that ends it is a probe or a retry */
const SILENCE_MS = 1_000;

export interface OutageConduct {
  outage: Outage;
  /** the client's calls to the failing systems within the window */
  calls: Attempt[];
  stopped: boolean;
  /** calls per minute before the window (or over its first failures) and after the client's first N failures */
  beforePerMinute: number;
  afterPerMinute: number;
  failuresBeforeStop: number;
  /** what ended its silences: a breaker's probe (a new logical request) or a retry at the end of a backoff */
  mechanism: 'breaker' | 'backoff' | 'unknown';
  /** calls in the window that ended a silence */
  probes: Attempt[];
  /** its first 2xx after the window closed; false if it called after it and never succeeded; null if it has not called since (or the window is open) */
  resumed: Attempt | false | null;
}

/** How the client behaved in one outage window; undefined when it made no call to the failing systems in it. */
export function conductIn(client: ClientView, outage: Outage, context: ReportContext, retries: ReadonlySet<Attempt>): OutageConduct | undefined {
  const end = endOf(outage, context);
  const toFailing = client.attempts.filter((a) => outage.systems.has(a.system));
  const calls = toFailing.filter((a) => a.start >= outage.start && a.start < end);
  if (calls.length === 0) return undefined;
  const n = Math.min(context.settings.breakerFailures, calls.length);
  const stopAt = calls[n - 1].end;
  const after = calls.slice(n).filter((a) => a.start > stopAt);
  const baselineFrom = Math.max(context.since, outage.start - BASELINE_MS);
  const before = toFailing.filter((a) => a.start >= baselineFrom && a.start < outage.start);
  const perMinute = (count: number, ms: number) => (count / Math.max(ms, 1)) * 60_000;
  const beforePerMinute =
    before.length >= 3 ? perMinute(before.length, outage.start - baselineFrom) : perMinute(n, Math.max(calls[n - 1].start - outage.start, 1));
  const afterPerMinute = perMinute(after.length, end - stopAt);
  // too little of the window left after the first failures to see a rate: judged by whether it called again
  const stopped = calls.length <= n || afterPerMinute <= (1 - DROP) * beforePerMinute;
  const later = client.attempts.filter((a) => a.start >= end);
  // what ended each silence: the calls that came a while after the client's previous call to the failing systems,
  // in the window (probes, or retries at the end of a backoff) and the first one after it
  const firstAfter = Number.isFinite(outage.end) ? later.find((a) => outage.systems.has(a.system)) : undefined;
  const probes = calls.filter((a, i) => i > 0 && a.start - calls[i - 1].end >= SILENCE_MS);
  const enders = firstAfter && firstAfter.start - calls[calls.length - 1].end >= SILENCE_MS ? [...probes, firstAfter] : probes;
  const endedByRetry = enders.filter((a) => retries.has(a)).length;
  const mechanism: OutageConduct['mechanism'] = enders.length === 0 ? 'unknown' : endedByRetry * 2 > enders.length ? 'backoff' : 'breaker';
  // resumed: a 2xx after the window; false when it called after the window and never succeeded; null when it has
  // not called since (a long backoff or Retry-After may still be running: recovery.timeToFirstSuccess judges that)
  const laterToFailing = later.filter((a) => outage.systems.has(a.system));
  const closed = Number.isFinite(outage.end) && outage.end <= context.until;
  const resumed = !closed || laterToFailing.length === 0 ? null : (laterToFailing.find((a) => a.status >= 200 && a.status < 300) ?? false);
  return { outage, calls, stopped, beforePerMinute, afterPerMinute, failuresBeforeStop: n, mechanism, probes, resumed };
}

/** Attempts that retried a logical request (not its first attempt). */
export function retriesOf(client: ClientView): Set<Attempt> {
  const retries = new Set<Attempt>();
  for (const r of client.requests) for (let i = 1; i < r.attempts.length; i++) retries.add(r.attempts[i]);
  return retries;
}

const RANK: Record<CheckStatus, number> = { 'n/a': 0, pass: 1, warn: 2, fail: 3 };

export const breakerStopsDuringOutage: ClientCheck = (client, context) => {
  if (context.outages.length === 0) {
    return [result('breaker.stopsDuringOutage', 'n/a', 'No outage window ran in the report window (no timeline phase or `when` window with an `outage` fault), so there was no outage to stop for.')];
  }
  const retries = retriesOf(client);
  const judged = context.outages.map((o) => conductIn(client, o, context, retries)).filter((c): c is OutageConduct => c !== undefined);
  if (judged.length === 0) {
    return [result('breaker.stopsDuringOutage', 'n/a', `${client.client} made no call to a failing system during an outage window, so whether it stops could not be seen.`)];
  }
  const verdicts = judged.map((c) => verdict(client.client, c));
  const worst = verdicts.reduce((w, v) => (RANK[v.status] > RANK[w.status] ? v : w));
  return [
    result('breaker.stopsDuringOutage', worst.status, verdicts.map((v) => v.text).join(' '), judged.flatMap((c) => [...c.calls.slice(0, 20), ...(c.resumed ? [c.resumed] : [])].map((a) => a.id)), {
      stopped: judged.every((c) => c.stopped),
      mechanism: worst.conduct.mechanism,
      callsPerMinuteBefore: round(worst.conduct.beforePerMinute),
      callsPerMinuteDuring: round(worst.conduct.afterPerMinute),
      failuresBeforeStop: worst.conduct.failuresBeforeStop,
      probes: worst.conduct.probes.length,
      resumed: worst.conduct.resumed === null ? null : worst.conduct.resumed !== false,
    }),
  ];
};

function verdict(client: string, c: OutageConduct): { status: CheckStatus; text: string; conduct: OutageConduct } {
  const where = `During the outage of rule ${c.outage.rule}${c.outage.phase ? ` (phase ${c.outage.phase})` : ''}`;
  const rates = `${round(c.beforePerMinute)} calls/min before, ${round(c.afterPerMinute)} calls/min after its first ${plural(c.failuresBeforeStop, 'failure')}`;
  if (!c.stopped) {
    return {
      status: 'fail',
      conduct: c,
      text: `${where}, ${client} kept calling: ${rates} (a breaker would cut it by at least 80%). Every call to a system that is down fails slowly, holds a thread or a callout and adds load to the recovery. Put a circuit breaker around the callout: open after a few consecutive failures, fail fast (queue the work), and probe now and then.`,
    };
  }
  if (c.resumed === false) {
    return { status: 'fail', conduct: c, text: `${where}, ${client} went quiet (${rates}), but its calls after the window ended all failed: it did not resume after recovery.` };
  }
  if (c.mechanism === 'backoff') {
    return {
      status: 'warn',
      conduct: c,
      text: `${where}, ${client} went quiet (${rates}), but by backing off: its silences ended with retries of the same requests, not with a breaker's probe. Each pending request still waits out its own backoff and retries, so the load returns as soon as many requests are pending. A circuit breaker shared by all requests fails fast while the system is down.`,
    };
  }
  const probes = c.probes.length ? `, probed ${plural(c.probes.length, 'time')} while it was down` : '';
  const resumed = c.resumed
    ? ` and resumed ${duration(Math.max(0, c.resumed.end - c.outage.end))} after the window ended`
    : Number.isFinite(c.outage.end)
      ? ' (it has not called since the window ended: see recovery.timeToFirstSuccess)'
      : ' (the outage is still on)';
  return { status: 'pass', conduct: c, text: `${where}, ${client} stopped calling after ${plural(c.failuresBeforeStop, 'failure')} (${rates})${probes}${resumed}.` };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

export type { CheckResult };
