/**
 * The report card's vocabulary (PRODUCT.md §8, issue #10): the check ids, a check's verdict, the report's shape
 * (GET /__admin/report, report.json) and the expectations a profile's `expect:` list may state. Shared by the
 * checks (src/report/checks/), the admin route, the profile compiler (which refuses unknown check ids) and the
 * drill command's renderers (JUnit, HTML).
 */

/** Every check, by its stable id. Per-client checks first, then the drill-wide ones. */
export const CLIENT_CHECK_IDS = [
  'retry.strategy',
  'retry.respectsRetryAfter',
  'retry.bounded',
  'breaker.stopsDuringOutage',
  'recovery.timeToFirstSuccess',
  'idempotency.keyReused',
  'idempotency.noDuplicateEffects',
  'timeouts.observed',
  'bulk.singleRecordBursts',
  'polling.waste',
  'fetch.overFetching',
  'auth.flow',
  'auth.scopes',
] as const;

/** Checks of the drill as a whole, not of one client. */
export const DRILL_CHECK_IDS = ['alerting.timeToDetect', 'deliveries.ack'] as const;

export const CHECK_IDS: readonly CheckId[] = [...CLIENT_CHECK_IDS, ...DRILL_CHECK_IDS];

export type ClientCheckId = (typeof CLIENT_CHECK_IDS)[number];
export type DrillCheckId = (typeof DRILL_CHECK_IDS)[number];
export type CheckId = ClientCheckId | DrillCheckId;

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'n/a';

/** One verdict. Every verdict but n/a cites the journal entries it rests on; every one says why. */
export interface CheckResult {
  id: CheckId;
  /** on per-operation checks (retry.strategy ...): the operation judged */
  operation?: string;
  status: CheckStatus;
  value?: Record<string, unknown>;
  evidence: { entries: number[]; [more: string]: unknown };
  /** one paragraph a person can act on */
  explanation: string;
}

/** A window in which an `outage` fault applied (ISO 8601 times; end null while it is still open). */
export interface OutageWindow {
  rule: string;
  phase?: string;
  start: string;
  end: string | null;
}

export interface AlertReceived {
  /** the journal entry of the alert */
  id: number;
  at: string;
  sink: 'slack' | 'pagerduty';
}

export interface OperationCount {
  system: string;
  operation: string;
  attempts: number;
  logicalRequests: number;
}

export interface ClientReport {
  client: string;
  operations: OperationCount[];
  checks: CheckResult[];
}

/**
 * What a profile's `expect:` list states, compiled. `written` is the item as the profile wrote it (the report
 * echoes it back as `expect`).
 */
export type Expectation =
  | { kind: 'check'; check: CheckId; client?: string; written: unknown }
  | { kind: 'alertWithin'; ms: number; written: unknown }
  | { kind: 'maxDuplicateEffects'; count: number; written: unknown }
  | { kind: 'recoveredWithin'; ms: number; written: unknown };

export interface ExpectationResult {
  expect: unknown;
  status: 'pass' | 'fail';
  explanation: string;
}

export interface Report {
  window: { since: string; until: string };
  outages: OutageWindow[];
  alerts: AlertReceived[];
  clients: ClientReport[];
  /** drill-wide checks: alerting.timeToDetect, deliveries.ack */
  checks: CheckResult[];
  expectations: ExpectationResult[];
  /** every expectation holds (true when there are none) */
  passed: boolean;
}
