/**
 * Hand-made reports, typed against src/report/types.ts, for the drill's renderers: a drill as payment-outage
 * produces one (two clients, an outage, an alert, an expectation that fails), one whose every string is hostile
 * (markup, CDATA ends, quotes, control characters), and the binned calls of a long, busy drill.
 */
import { CallBinner, type CallBins } from '../../src/drill/calls.js';
import type { CheckResult, Report } from '../../src/report/types.js';

export const SINCE = Date.parse('2026-03-02T10:00:00.000Z');

const iso = (ms: number) => new Date(SINCE + ms).toISOString();

export function sampleReport(): Report {
  const sf: CheckResult[] = [
    { id: 'retry.strategy', operation: 'createCharge', status: 'pass', value: { strategy: 'exponential', jitter: true }, evidence: { entries: [12, 15, 22, 40] }, explanation: 'Retries of createCharge waited 0.4 s, 0.9 s, 2.1 s after the first failure: exponential backoff with jitter.' },
    { id: 'retry.respectsRetryAfter', status: 'warn', value: { early: 1, told: 9 }, evidence: { entries: [51, 52] }, explanation: 'One retry came 2 s before the Retry-After of 30 s had passed.' },
    { id: 'breaker.stopsDuringOutage', status: 'pass', evidence: { entries: [60, 61, 62] }, explanation: 'The client stopped calling after 3 failures and probed every 30 s.' },
    { id: 'idempotency.keyReused', operation: 'createCharge', status: 'fail', evidence: { entries: [70, 71] }, explanation: 'A retry of createCharge sent a new Idempotency-Key; the gateway could not tell it was the same charge.' },
    { id: 'timeouts.observed', status: 'n/a', evidence: { entries: [] }, explanation: 'The client abandoned no call, so there was no timeout to judge.' },
  ];
  const wms: CheckResult[] = [
    { id: 'retry.strategy', operation: 'createReservation', status: 'fail', value: { strategy: 'immediate', jitter: false }, evidence: { entries: [80, 81, 82] }, explanation: 'Retried 12 ms after a 503: no backoff.' },
    { id: 'polling.waste', status: 'pass', value: { polls: 20, empty: 4, share: 0.2 }, evidence: { entries: [90] }, explanation: '4 of 20 polls found nothing new.' },
  ];
  return {
    window: { since: iso(0), until: iso(7 * 60_000) },
    outages: [{ rule: 'gateway-down', phase: 'outage', start: iso(2 * 60_000), end: iso(5 * 60_000) }],
    alerts: [{ id: 140, at: iso(2 * 60_000 + 45_000), sink: 'slack' }],
    clients: [
      { client: 'sf-sandbox', operations: [{ system: 'payments', operation: 'createCharge', attempts: 120, logicalRequests: 80 }], checks: sf },
      { client: 'wms-sync', operations: [{ system: 'wms', operation: 'createReservation', attempts: 40, logicalRequests: 10 }], checks: wms },
    ],
    checks: [{ id: 'alerting.timeToDetect', status: 'pass', value: { ms: 45_000, sink: 'slack' }, evidence: { entries: [61, 140] }, explanation: 'The first alert came 45 s after the first fault of the outage.' }],
    expectations: [
      { expect: { check: 'breaker.stopsDuringOutage', client: 'sf-sandbox' }, status: 'pass', explanation: 'sf-sandbox: pass.' },
      { expect: { alertWithin: '2m' }, status: 'pass', explanation: 'The first alert came 45 s after the outage began, within 2m.' },
      { expect: { maxDuplicateEffects: 0 }, status: 'fail', explanation: '2 duplicate charges (ch_1 and ch_2 for order SO-7).' },
    ],
    passed: false,
  };
}

/** every string a client or a check could put in front of a renderer, at its worst */
export const HOSTILE = `<script>alert("x")</script> & ]]> '"<!-- \u0001\u0007\u001b[31m\uFFFF end`;

export function hostileReport(): Report {
  const r = sampleReport();
  r.clients[0].client = HOSTILE;
  r.clients[0].checks[0].explanation = HOSTILE;
  r.clients[0].checks[0].operation = HOSTILE;
  r.clients[0].operations[0].operation = HOSTILE;
  r.checks[0].value = { sink: HOSTILE };
  r.expectations[2].explanation = HOSTILE;
  r.expectations[1].expect = { check: 'retry.strategy', client: HOSTILE };
  return r;
}

/** a 30-minute drill at `perSecond` calls a second over `clients` clients, binned as the drill bins them */
export function busyCalls(report: Report, clients: string[], perSecond: number): CallBins {
  const since = Date.parse(report.window.since);
  const until = Date.parse(report.window.until);
  const binner = new CallBinner(since, until);
  const statuses = [200, 200, 200, 201, 429, 503, 0, 404];
  let i = 0;
  for (let t = since; t < until; t += 1000 / perSecond) {
    binner.add({ ts: new Date(t).toISOString(), client: clients[i % clients.length], status: statuses[i % statuses.length] });
    i++;
  }
  return binner.result();
}

export const isoAt = iso;

/**
 * The calls of sampleReport()'s drill as a person would expect them: sf-sandbox backs off and probes during the
 * outage (2m to 5m), wms-sync hammers it; both mostly succeed outside it. For the screenshot and the eye.
 */
export function drillCalls(report: Report): CallBins {
  const since = Date.parse(report.window.since);
  const binner = new CallBinner(since, Date.parse(report.window.until));
  const add = (ms: number, client: string, status: number) => binner.add({ ts: new Date(since + ms).toISOString(), client, status });
  for (let ms = 0; ms < 7 * 60_000; ms += 250) {
    const inOutage = ms >= 120_000 && ms < 300_000;
    const degraded = ms >= 60_000 && ms < 120_000;
    // sf-sandbox: 4 calls a second; in the outage a few failures, then a probe every 30 s
    if (!inOutage) add(ms, 'sf-sandbox', degraded ? [200, 200, 504, 200, 0, 200, 500][(ms / 250) % 7] : ms % 9000 === 0 ? 429 : 200);
    else if (ms < 122_000 || (ms - 120_000) % 30_000 === 0) add(ms, 'sf-sandbox', 503);
    // wms-sync: 2 calls a second, 10 a second of immediate retries in the outage
    if (ms % 500 === 0 && !inOutage) add(ms, 'wms-sync', ms % 20_000 === 0 ? 404 : 200);
    if (inOutage) for (let k = 0; k < 3; k++) add(ms + k * 80, 'wms-sync', k === 2 ? 0 : 503);
  }
  return binner.result();
}

/** What a page that loads nothing may not contain: no reference to fetch (text may mention a URL). */
export function selfContainedProblems(html: string): string[] {
  const forbidden: Array<[RegExp, string]> = [
    [/\s(src|href|xlink:href|action|srcset|poster|data)\s*=/i, 'an attribute that loads or links something'],
    [/<link\b/i, '<link>'],
    [/<script\b/i, '<script>'],
    [/<(img|iframe|object|embed|base|audio|video|source|frame)\b/i, 'an embedding element'],
    [/@import|url\(/i, 'a CSS reference'],
    [/http-equiv/i, 'a meta refresh'],
  ];
  return forbidden.filter(([re]) => re.test(html)).map(([, what]) => what);
}
