/**
 * The client report card (PRODUCT.md §8): a workspace's journal over a window, read into attempts, grouped into
 * logical requests per client, judged by every check, and the active profile's `expect:` list judged against the
 * result. Computed on demand (GET /__admin/report, understudy drill) from what the journal and the delivery book
 * already hold; nothing is collected on the traffic path for it.
 *
 * Passes over the journal, so that a report over a million entries never holds all of them as attempts: the
 * first notes each entry's client and place (a few typed arrays), the alerts and the faults of the outage rules
 * (what the drill-wide checks need); then clients are taken in batches of at most BATCH_ATTEMPTS entries, each
 * batch's entries read in ring order into attempts, judged, and dropped but for the verdicts.
 */
import { ChaosEngine } from '../chaos/chaos-stage.js';
import type { Delivery } from '../deliveries/delivery-book.js';
import type { Workspace } from '../engine/workspace.js';
import type { MountedSystem } from '../engine/system.js';
import { LeanEntry } from '../journal/entry-codec.js';
import { fillCreated, isAuthServer, Shared, toAttempt, type Attempt, type OperationHints } from './attempts.js';
import { CLIENT_CHECKS, DRILL_CHECKS } from './checks/index.js';
import { DEFAULT_SETTINGS, type Alert, type ReportContext, type ReportSettings } from './context.js';
import { judgeExpectations } from './expectations.js';
import { groupLogicalRequests, isUnsafe } from './logical-requests.js';
import { outageRuleIds, outageWindows, type OutageFault } from './outages.js';
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
  /** most entries read into attempts at once (tests make it small to exercise several batches) */
  batchAttempts?: number;
}

const ALERT_SINKS = new Map<string, Alert['sink']>([
  ['slackMessage', 'slack'],
  ['pagerDutyEnqueue', 'pagerduty'],
]);
/** an entry an outage fault answered has this in its extras (found in place, before anything is decoded) */
const OUTAGE_FAULT = Buffer.from('"kind":"outage"');

export function buildReport(workspace: Workspace, systems: readonly MountedSystem[], options: ReportOptions): Report {
  const settings = { ...DEFAULT_SETTINGS, ...options.settings };
  const chaos = workspace.chaos instanceof ChaosEngine ? workspace.chaos : undefined;
  const since = options.since ?? chaos?.timeline[0]?.at ?? 0;
  const until = options.until ?? options.now;
  const journal = workspace.journal;
  const outageRules = new Set(outageRuleIds(chaos));
  const shared = new Shared();

  // pass 1: every entry's client (as a number) and place in scan order, the alerts, and what the outage rules hit
  const clientIndex = new Map<string, number>();
  const clientNames: string[] = [];
  const counts: number[] = [];
  let rows = 0;
  let rowClients = new Uint32Array(1024);
  let rowIds = new Float64Array(1024);
  let rowPlaces = new Float64Array(1024);
  const alerts: Alert[] = [];
  const outageFaults: OutageFault[] = [];
  journal.scan(since, until, (id, e, place) => {
    if (e.system === '') return; // no system: a request to nothing, or the journal's own notes (a timeline jump)
    let c = clientIndex.get(e.client);
    if (c === undefined) {
      clientIndex.set(e.client, (c = clientNames.length));
      clientNames.push(e.client);
      counts.push(0);
    }
    counts[c]++;
    if (rows === rowClients.length) {
      rowClients = grown(rowClients, new Uint32Array(rows * 2));
      rowIds = grown(rowIds, new Float64Array(rows * 2));
      rowPlaces = grown(rowPlaces, new Float64Array(rows * 2));
    }
    rowClients[rows] = c;
    rowIds[rows] = id;
    rowPlaces[rows] = place;
    rows++;
    const sink = e.system === 'alerts' && e.status >= 200 && e.status < 300 ? ALERT_SINKS.get(e.operation) : undefined;
    if (sink !== undefined) {
      alerts.push({ id, at: e.startedAt, sink });
    }
    if (outageRules.size > 0 && e.hasFaults && e.extrasInclude(OUTAGE_FAULT)) {
      const faults = shared.faultsOf(e.extras);
      if (faults) {
        faults.rules.forEach((rule, i) => {
          if (outageRules.has(rule)) outageFaults.push({ id, at: e.startedAt, system: shared.string(e.system), rule, kind: faults.kinds[i] });
        });
      }
    }
  }, false);
  alerts.sort((a, b) => a.at - b.at);
  outageFaults.sort((a, b) => a.at - b.at);
  const context: ReportContext = {
    since,
    until,
    now: options.now,
    settings,
    outages: outageWindows(chaos, outageFaults, since, until),
    alerts,
    deliveries: deliveriesIn(workspace, since, until),
  };

  // then the clients, a batch at a time
  const hints = hintsOf(systems);
  const full = new LeanEntry();
  const clients: ClientReport[] = [];
  // the rows of each batch, in ring order: one pass over the rows sorts them by batch (a counting sort)
  const names = new Map(clientNames.map((name, i) => [name, counts[i]]));
  const batchList = batches(names, options.batchAttempts ?? BATCH_ATTEMPTS);
  const batchOf = new Uint32Array(clientNames.length);
  const starts = new Uint32Array(batchList.length + 1);
  batchList.forEach((batch, b) => {
    for (const name of batch) {
      batchOf[clientIndex.get(name)!] = b;
      starts[b + 1] += names.get(name)!;
    }
  });
  for (let b = 0; b < batchList.length; b++) starts[b + 1] += starts[b];
  const byBatch = new Uint32Array(rows);
  const filled = starts.slice(0, batchList.length);
  for (let row = 0; row < rows; row++) byBatch[filled[batchOf[rowClients[row]]]++] = row;

  for (let b = 0; b < batchList.length; b++) {
    const batch = batchList[b];
    const attempts = new Map<string, Attempt[]>(batch.map((client) => [client, []]));
    const lists: Array<Attempt[] | undefined> = clientNames.map((name) => attempts.get(name));
    for (let i = starts[b]; i < starts[b + 1]; i++) {
      const row = byBatch[i];
      const own = lists[rowClients[row]]!;
      const entry = journal.readAt(rowPlaces[row], full);
      own.push(toAttempt(rowIds[row], entry, hints.get(entry.system)?.get(entry.operation), shared, rowPlaces[row]));
    }
    for (const [client, own] of attempts) {
      attempts.delete(client);
      // ids follow completion; the checks want arrival order (a held reply completes after later arrivals)
      own.sort((a, b) => a.start - b.start || a.id - b.id);
      // its token requests (and other exchanges with the authorization server) apart: only the auth checks judge them
      const authServer = own.filter(isAuthServer);
      const calls = authServer.length ? own.filter((a) => !isAuthServer(a)) : own;
      const requests = groupLogicalRequests(calls, settings.retryWindowMs);
      // what retried writes created, read now for them alone: a duplicate can only hide in a retried unsafe request
      for (const r of requests) if (r.attempts.length > 1 && isUnsafe(r)) fillCreated(r.attempts, (place) => journal.readAt(place, full));
      const view = { client, attempts: calls, requests, authServer };
      // the card's operation counts still list them
      const counted = authServer.length ? [...requests, ...groupLogicalRequests(authServer, settings.retryWindowMs)] : requests;
      clients.push({ client, operations: operationCounts(own, counted), checks: CLIENT_CHECKS.flatMap((check) => check(view, context)) });
    }
  }
  const checks = DRILL_CHECKS.map((check) => check(context));
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

/** the rows so far, in a typed array twice the size */
function grown<T extends Uint32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/**
 * most entries read into attempts at once (a batch of clients); a single client with more is read alone. Small
 * batches keep the peak low (+81 MB over a million entries) and cost little: a batch walks typed arrays, not the ring
 */
export const BATCH_ATTEMPTS = 50_000;

/** Clients in name order, cut into batches of at most `limit` entries. */
function batches(counts: ReadonlyMap<string, number>, limit: number): string[][] {
  const out: string[][] = [];
  let batch: string[] = [];
  let size = 0;
  for (const client of [...counts.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const n = counts.get(client)!;
    if (batch.length > 0 && size + n > limit) {
      out.push(batch);
      batch = [];
      size = 0;
    }
    batch.push(client);
    size += n;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

/**
 * what the checks need to know of each operation, by system and operation (a system mounted more than once — the
 * ERP's SOAP endpoint and OData services — has the operations of all its mounts)
 */
function hintsOf(systems: readonly MountedSystem[]): Map<string, Map<string, OperationHints>> {
  const hints = new Map<string, Map<string, OperationHints>>();
  for (const s of systems) {
    let ops = hints.get(s.name);
    if (!ops) hints.set(s.name, (ops = new Map()));
    for (const op of s.engine.operations ?? []) ops.set(op.id, { records: op.records, fieldSelection: op.fieldSelection, safe: op.safe });
  }
  return hints;
}

function operationCounts(attempts: readonly Attempt[], requests: ReturnType<typeof groupLogicalRequests>): OperationCount[] {
  // by system, then operation: no key string built per attempt
  const counts = new Map<string, Map<string, OperationCount>>();
  const out: OperationCount[] = [];
  const entry = (system: string, operation: string) => {
    let bySystem = counts.get(system);
    if (!bySystem) counts.set(system, (bySystem = new Map()));
    let c = bySystem.get(operation);
    if (!c) {
      bySystem.set(operation, (c = { system, operation, attempts: 0, logicalRequests: 0 }));
      out.push(c);
    }
    return c;
  };
  for (const a of attempts) entry(a.system, a.operation).attempts++;
  for (const r of requests) entry(r.system, r.operation).logicalRequests++;
  return out;
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
