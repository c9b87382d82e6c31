/**
 * A profile's `expect:` list judged against a report (PRODUCT.md §4, §8). `check: ID` holds when that check is
 * pass or warn — for the named client, or for every client that called when none is named (clients that only
 * sent alerts are monitoring, not the integration, and are left out) — and n/a never holds: the drill did not
 * exercise it. A per-operation check holds for a client when every operation it judged holds and one was judged.
 */
import { duration } from './context.js';
import type { CheckResult, ClientReport, Expectation, ExpectationResult } from './types.js';
import { DRILL_CHECK_IDS } from './types.js';

const HOLDS = new Set(['pass', 'warn']);

export function judgeExpectations(expectations: readonly Expectation[], clients: readonly ClientReport[], drillChecks: readonly CheckResult[]): ExpectationResult[] {
  return expectations.map((e) => {
    const { status, explanation } = judge(e, clients, drillChecks);
    return { expect: e.written, status, explanation };
  });
}

function judge(e: Expectation, clients: readonly ClientReport[], drillChecks: readonly CheckResult[]): Omit<ExpectationResult, 'expect'> {
  switch (e.kind) {
    case 'check':
      return (DRILL_CHECK_IDS as readonly string[]).includes(e.check) ? judgeDrillCheck(e.check, drillChecks) : judgeClientCheck(e.check, e.client, clients);
    case 'alertWithin': {
      const check = drillChecks.find((c) => c.id === 'alerting.timeToDetect');
      const ms = check?.value?.ms;
      if (!check || check.status === 'n/a') return { status: 'fail', explanation: `No outage window met a call, so time to detect was not measured (${check?.explanation ?? 'no check'}).` };
      if (typeof ms !== 'number') return { status: 'fail', explanation: check.explanation };
      return ms <= e.ms
        ? { status: 'pass', explanation: `The first alert came ${duration(ms)} after the outage's first fault, within ${duration(e.ms)}.` }
        : { status: 'fail', explanation: `The first alert came ${duration(ms)} after the outage's first fault, later than ${duration(e.ms)}.` };
    }
    case 'maxDuplicateEffects': {
      let total = 0;
      const who: string[] = [];
      for (const c of clients) {
        const check = c.checks.find((x) => x.id === 'idempotency.noDuplicateEffects');
        const n = typeof check?.value?.duplicates === 'number' ? check.value.duplicates : 0;
        if (n > 0) who.push(`${c.client}: ${n}`);
        total += n;
      }
      return total <= e.count
        ? { status: 'pass', explanation: `${total} duplicate record(s) created by retries, at most ${e.count} allowed.` }
        : { status: 'fail', explanation: `${total} duplicate record(s) created by retries (${who.join(', ')}), more than the ${e.count} allowed.` };
    }
    case 'recoveredWithin': {
      const timed = clients.flatMap((c) => c.checks.filter((x) => x.id === 'recovery.timeToFirstSuccess' && x.status !== 'n/a').map((x) => ({ client: c.client, check: x })));
      if (timed.length === 0) return { status: 'fail', explanation: 'No client was judged on recovery (no outage window ended with a client calling the failing system), so recovery was not exercised.' };
      const late = timed.filter((t) => t.check.status === 'fail' || typeof t.check.value?.ms !== 'number' || (t.check.value.ms as number) > e.ms);
      return late.length
        ? { status: 'fail', explanation: `Not recovered within ${duration(e.ms)}: ${late.map((t) => `${t.client} (${typeof t.check.value?.ms === 'number' ? duration(t.check.value.ms as number) : 'never'})`).join(', ')}.` }
        : { status: 'pass', explanation: `Every client judged succeeded again within ${duration(e.ms)} of the outage's end (${timed.map((t) => `${t.client}: ${duration(t.check.value!.ms as number)}`).join(', ')}).` };
    }
  }
}

function judgeDrillCheck(id: string, drillChecks: readonly CheckResult[]): Omit<ExpectationResult, 'expect'> {
  const check = drillChecks.find((c) => c.id === id);
  if (!check) return { status: 'fail', explanation: `${id} was not judged.` };
  return HOLDS.has(check.status)
    ? { status: 'pass', explanation: `${id} is ${check.status}: ${check.explanation}` }
    : { status: 'fail', explanation: `${id} is ${check.status}: ${check.explanation}` };
}

function judgeClientCheck(id: string, client: string | undefined, clients: readonly ClientReport[]): Omit<ExpectationResult, 'expect'> {
  const judged = client === undefined ? clients.filter((c) => !onlyAlerts(c)) : clients.filter((c) => c.client === client);
  if (judged.length === 0) {
    return { status: 'fail', explanation: client === undefined ? `No client called, so ${id} was not exercised.` : `${client} made no call in the report window, so ${id} was not exercised.` };
  }
  const failing: string[] = [];
  for (const c of judged) {
    const results = c.checks.filter((x) => x.id === id);
    const judgedResults = results.filter((x) => x.status !== 'n/a');
    if (judgedResults.length === 0) failing.push(`${c.client}: n/a (${results[0]?.explanation ?? 'not judged'})`);
    else for (const r of judgedResults) if (!HOLDS.has(r.status)) failing.push(`${c.client}${r.operation ? ` on ${r.operation}` : ''}: ${r.status} (${r.explanation})`);
  }
  const who = judged.map((c) => c.client).join(', ');
  return failing.length
    ? { status: 'fail', explanation: `${id} does not hold for ${failing.join('; ')}` }
    : { status: 'pass', explanation: `${id} is pass or warn for ${who}.` };
}

function onlyAlerts(c: ClientReport): boolean {
  return c.operations.length > 0 && c.operations.every((o) => o.system === 'alerts');
}
