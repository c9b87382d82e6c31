/**
 * What every check receives: one client's attempts and logical requests (ClientView), and what the drill as a
 * whole knows (ReportContext: the window, the outage windows, the alerts, the settings). Also the few helpers the
 * checks share (medians, durations in words), so each check file holds its judgement and nothing else.
 */
import type { Delivery } from '../deliveries/delivery-book.js';
import type { Attempt } from './attempts.js';
import type { LogicalRequest } from './logical-requests.js';
import type { CheckId, CheckResult, CheckStatus } from './types.js';

/** The thresholds a report judges by; defaults below, overridable per report (GET /__admin/report query). */
export interface ReportSettings {
  /** a retry continues a logical request when it comes within this long of the failed attempt */
  retryWindowMs: number;
  /** retry.bounded: most attempts per logical request */
  maxAttempts: number;
  /** retry.bounded: longest time from a logical request's first attempt to its last */
  maxSpanMs: number;
  /** breaker.stopsDuringOutage: most consecutive failures before the client must have gone quiet */
  breakerFailures: number;
}

export const DEFAULT_SETTINGS: ReportSettings = {
  retryWindowMs: 120_000,
  maxAttempts: 10,
  maxSpanMs: 300_000,
  breakerFailures: 5,
};

/** An outage window in clock ms (end: Infinity while open), with what the report says about it. */
export interface Outage {
  rule: string;
  phase: string | null;
  start: number;
  end: number;
  /** the systems its rule's faults hit (from the journal); a client's calls to them are judged against it */
  systems: ReadonlySet<string>;
  /** the first attempt (any client) the rule's outage fault answered in this window, if any did */
  firstFault: { id: number; at: number } | null;
}

export interface Alert {
  id: number;
  at: number;
  sink: 'slack' | 'pagerduty';
}

/**
 * One client, as the server saw it: its calls in arrival order and their logical requests, and apart from them its
 * exchanges with understudy's authorization server.
 */
export interface ClientView {
  client: string;
  /** its calls to the systems (not to the authorization server) */
  attempts: readonly Attempt[];
  requests: readonly LogicalRequest[];
  /**
   * its exchanges with the authorization server (system `oauth`: token requests, introspection, revocation,
   * discovery), in arrival order: the auth checks read them; no other check does, since a token request is neither a
   * business call, nor a retry of one, nor a success after an outage
   */
  authServer: readonly Attempt[];
}

export interface ReportContext {
  since: number;
  until: number;
  now: number;
  settings: ReportSettings;
  outages: readonly Outage[];
  alerts: readonly Alert[];
  /** webhook deliveries queued in the window (deliveries.ack) */
  deliveries: readonly Delivery[];
}

/** A check over one client: one result, or one per operation it judges (retry.strategy ...). */
export type ClientCheck = (client: ClientView, context: ReportContext) => CheckResult[];

/** A check over the drill as a whole (its outage windows, alerts and deliveries). */
export type DrillCheck = (context: ReportContext) => CheckResult;

/** The window's end as a number: an open outage is judged up to the end of the report's window. */
export function endOf(outage: Outage, context: ReportContext): number {
  return Math.min(outage.end, context.until);
}

export function result(
  id: CheckId,
  status: CheckStatus,
  explanation: string,
  entries: number[] = [],
  value?: Record<string, unknown>,
  more?: { operation?: string; evidence?: Record<string, unknown> },
): CheckResult {
  return {
    id,
    ...(more?.operation !== undefined ? { operation: more.operation } : {}),
    status,
    ...(value !== undefined ? { value } : {}),
    // evidence lists are capped: a report over a load test must not carry a million ids per check
    evidence: { entries: cap(entries), ...more?.evidence },
    explanation,
  };
}

export const MAX_EVIDENCE = 50;

function cap(entries: number[]): number[] {
  const unique = [...new Set(entries)];
  return unique.length > MAX_EVIDENCE ? unique.slice(0, MAX_EVIDENCE) : unique;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** "850 ms", "4.2 s", "3 min 5 s" */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return 'forever';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
}

export function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Logical requests grouped by operation ("system operation" → its requests), in first-seen order. */
export function byOperation(requests: readonly LogicalRequest[]): Map<string, LogicalRequest[]> {
  const groups = new Map<string, LogicalRequest[]>();
  for (const r of requests) {
    const name = r.operation;
    let list = groups.get(name);
    if (!list) groups.set(name, (list = []));
    list.push(r);
  }
  return groups;
}
