/**
 * How the parts of a report read as text, the same in the terminal summary, junit.xml and report.html: a
 * check's name ("retry.strategy (createCharge)"), a value ("strategy exponential, jitter true"), an
 * expectation as the profile wrote it ("check: breaker.stopsDuringOutage, client: sf-sandbox", "alertWithin: 2m").
 */
import type { CheckResult } from '../report/types.js';
import { formatMs } from './timeline.js';

export function checkName(check: Pick<CheckResult, 'id' | 'operation'>): string {
  return check.operation ? `${check.id} (${check.operation})` : check.id;
}

/** a scalar, or compact JSON for anything nested */
function scalar(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/**
 * A check's value as readable parts: "strategy exponential", "jitter true"; durations in ms read as durations
 * ({ ms: 45000 } → "45s", { maxSpanMs: 12000 } → "maxSpan 12s"). None for an empty or missing value.
 */
export function valueParts(value: Record<string, unknown> | undefined): string[] {
  if (!value) return [];
  return Object.entries(value).map(([k, v]) => {
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) {
      if (k === 'ms') return formatMs(v);
      if (/.Ms$/.test(k)) return `${k.slice(0, -2)} ${formatMs(v)}`;
    }
    return `${k} ${scalar(v)}`;
  });
}

/** "strategy exponential, jitter true" */
export function formatValue(value: Record<string, unknown> | undefined): string {
  return valueParts(value).join(', ');
}

/** An `expect:` item as written: `{ check: X, client: Y }` → "check: X, client: Y", `{ alertWithin: 2m }` → "alertWithin: 2m". */
export function expectationLabel(expect: unknown): string {
  if (expect !== null && typeof expect === 'object' && !Array.isArray(expect)) {
    return Object.entries(expect as Record<string, unknown>)
      .map(([k, v]) => `${k}: ${scalar(v)}`)
      .join(', ');
  }
  return scalar(expect);
}

/** the first few evidence entries, "#12, #15, #20 and 37 more" */
export function evidenceText(entries: readonly number[], shown = 8): string {
  if (entries.length === 0) return '';
  const head = entries.slice(0, shown).map((id) => `#${id}`).join(', ');
  return entries.length > shown ? `${head} and ${entries.length - shown} more` : head;
}
