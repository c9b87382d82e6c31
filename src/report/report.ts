/**
 * The client report card (PRODUCT.md §8): a workspace's journal over a window, read into attempts, grouped into
 * logical requests per client, judged by every check, and the active profile's `expect:` list judged against the
 * result. Computed on demand (GET /__admin/report, understudy drill) from what the journal and the delivery book
 * already hold; nothing is collected on the traffic path for it.
 */
import { ChaosEngine } from '../chaos/chaos-stage.js';
import type { Delivery } from '../deliveries/delivery-book.js';
import type { Workspace } from '../engine/workspace.js';
import type { MountedSystem } from '../engine/system.js';
import { catalogueKey, readAttempts, type Attempt, type OperationHints } from './attempts.js';
import { CLIENT_CHECKS, DRILL_CHECKS } from './checks/index.js';
import { DEFAULT_SETTINGS, type Alert, type ReportContext, type ReportSettings } from './context.js';
import { judgeExpectations } from './expectations.js';
import { groupLogicalRequests } from './logical-requests.js';
import { outageWindows } from './outages.js';
import type { ClientReport, Expectation, OperationCount, Report } from './types.js';

export interface ReportOptions {
  /** clock ms; default: when the active profile's timeline started (the drill's start) */
  since?: number;
  /** clock ms; default: now */
  until?: number;
  /** only this client's card (drill-wide checks and expectations still see every client) */
  client?: string;
  now: number;
  settings?: Partial<ReportSettings>;
}

const ALERT_SINKS: Record<string, Alert['sink']> = { slackMessage: 'slack', pagerDutyEnqueue: 'pagerduty' };

export function buildReport(workspace: Workspace, systems: readonly MountedSystem[], options: ReportOptions): Report {
  const settings = { ...DEFAULT_SETTINGS, ...options.settings };
  const chaos = workspace.chaos instanceof ChaosEngine ? workspace.chaos : undefined;
  const since = options.since ?? chaos?.timeline[0]?.at ?? 0;
  const until = options.until ?? options.now;
  const attempts = readAttempts(workspace.journal, since, until, hintsOf(systems));
  const alerts: Alert[] = attempts
    .filter((a) => a.system === 'alerts' && a.status >= 200 && a.status < 300 && ALERT_SINKS[a.operation] !== undefined)
    .map((a) => ({ id: a.id, at: a.start, sink: ALERT_SINKS[a.operation] }));
  const context: ReportContext = {
    since,
    until,
    now: options.now,
    settings,
    outages: outageWindows(chaos, attempts, since, until),
    alerts,
    deliveries: deliveriesIn(workspace, since, until),
  };

  const byClient = new Map<string, Attempt[]>();
  for (const a of attempts) {
    let list = byClient.get(a.client);
    if (!list) byClient.set(a.client, (list = []));
    list.push(a);
  }
  const clients: ClientReport[] = [];
  for (const [client, own] of [...byClient].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const requests = groupLogicalRequests(own, settings.retryWindowMs);
    const view = { client, attempts: own, requests };
    const report: ClientReport = { client, operations: operationCounts(own, requests), checks: CLIENT_CHECKS.flatMap((check) => check(view, context)) };
    clients.push(report);
  }
  const checks = DRILL_CHECKS.map((check) => check(attempts, context));
  const expectations = judgeExpectations(expectationsOf(chaos), clients, checks);
  return {
    window: { since: new Date(since).toISOString(), until: new Date(until).toISOString() },
    outages: context.outages.map((o) => ({
      rule: o.rule,
      ...(o.phase !== null ? { phase: o.phase } : {}),
      start: new Date(o.start).toISOString(),
      end: Number.isFinite(o.end) ? new Date(o.end).toISOString() : null,
    })),
    alerts: alerts.map((a) => ({ id: a.id, at: new Date(a.at).toISOString(), sink: a.sink })),
    clients: options.client === undefined ? clients : clients.filter((c) => c.client === options.client),
    checks,
    expectations,
    passed: expectations.every((e) => e.status === 'pass'),
  };
}

function hintsOf(systems: readonly MountedSystem[]): Map<string, OperationHints> {
  const hints = new Map<string, OperationHints>();
  for (const s of systems) {
    for (const op of s.engine.operations ?? []) hints.set(catalogueKey(s.name, op.id), { method: op.method, records: op.records, fieldSelection: op.fieldSelection });
  }
  return hints;
}

function operationCounts(attempts: readonly Attempt[], requests: ReturnType<typeof groupLogicalRequests>): OperationCount[] {
  const counts = new Map<string, OperationCount>();
  const entry = (system: string, operation: string) => {
    const key = catalogueKey(system, operation);
    let c = counts.get(key);
    if (!c) counts.set(key, (c = { system, operation, attempts: 0, logicalRequests: 0 }));
    return c;
  };
  for (const a of attempts) entry(a.system, a.operation).attempts++;
  for (const r of requests) entry(r.system, r.operation).logicalRequests++;
  return [...counts.values()];
}

function deliveriesIn(workspace: Workspace, since: number, until: number): Delivery[] {
  const out: Delivery[] = [];
  for (const d of workspace.events.book.newestFirst()) {
    if (d.queuedAt < since) break;
    if (d.queuedAt <= until) out.push(d);
  }
  return out.reverse();
}

function expectationsOf(chaos: ChaosEngine | undefined): readonly Expectation[] {
  return (chaos?.profile as { expectations?: readonly Expectation[] } | undefined)?.expectations ?? [];
}
