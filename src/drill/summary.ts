/**
 * The report as the terminal shows it after a drill, with or without --report: each client's checks with their
 * status, worst first (the explanation under the ones to act on: fail and warn; the n/a ones on one line), the drill-wide checks, the expectations,
 * and the verdict last, where a CI log's reader looks. Text from the traffic (client names, explanations) has its
 * control characters written out, so a client name cannot move the cursor or recolour the terminal.
 */
import type { CheckResult, Report } from '../report/types.js';
import { checkName, expectationLabel, formatValue } from './report-text.js';

function plain(text: string): string {
  return text.replace(/[\x00-\x08\x0B-\x1F\x7F-\x9F]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const SEVERITY: Record<string, number> = { fail: 0, warn: 1, pass: 2, 'n/a': 3 };

/** the judged checks worst first, the explanation under those to act on; the n/a ones named on one line */
function checkLines(checks: CheckResult[], width: number): string[] {
  const lines: string[] = [];
  const judged = checks.filter((c) => c.status !== 'n/a').sort((a, b) => SEVERITY[a.status] - SEVERITY[b.status]);
  for (const c of judged) {
    const value = formatValue(c.value);
    lines.push(`  ${c.status.padEnd(4)}  ${plain(checkName(c)).padEnd(width)}${value ? '  ' + plain(value) : ''}`.trimEnd());
    if (c.status === 'fail' || c.status === 'warn') lines.push(`        ${plain(c.explanation)}`);
  }
  const idle = checks.filter((c) => c.status === 'n/a');
  if (idle.length) lines.push(`  n/a   ${idle.map((c) => plain(checkName(c))).join(', ')} (nothing to judge)`);
  return lines;
}

export function renderSummary(report: Report, profile: string): string {
  const all = [...report.clients.flatMap((c) => c.checks), ...report.checks];
  const width = Math.min(48, Math.max(0, ...all.map((c) => checkName(c).length)));
  const out: string[] = [];
  for (const client of report.clients) {
    out.push(`client ${plain(client.client)}`);
    out.push(...checkLines(client.checks, width));
  }
  if (report.checks.length) {
    out.push('drill');
    out.push(...checkLines(report.checks, width));
  }
  if (report.clients.length === 0) out.push('no client called during the drill');
  out.push('expectations');
  if (report.expectations.length === 0) out.push('  none stated');
  for (const e of report.expectations) {
    out.push(`  ${e.status.padEnd(4)}  ${plain(expectationLabel(e.expect))}`);
    out.push(`        ${plain(e.explanation)}`);
  }
  const held = report.expectations.filter((e) => e.status === 'pass').length;
  const count = report.expectations.length ? ` (${held} of ${report.expectations.length} expectations hold)` : ' (no expectations)';
  out.push(`understudy drill ${plain(profile)}: ${report.passed ? 'PASSED' : 'FAILED'}${count}`);
  return out.join('\n') + '\n';
}
