/**
 * report.html: the report card as one self-contained page an architect can open from a CI artifact. It loads
 * nothing (inline CSS, inline SVG, no script), so it reads the same offline, attached to a ticket, years later.
 * Order: the verdict and what was drilled, the timeline of every client's calls, each client's checks with
 * their explanations, the drill-wide checks, and the expectations that decided the verdict.
 */
import type { CheckResult, ClientReport, Report } from '../report/types.js';
import type { CallBins } from './calls.js';
import { escapeHtml as esc } from './html-escape.js';
import { checkName, evidenceText, expectationLabel, valueParts } from './report-text.js';
import { MAX_ROWS, OUTCOME_COLOURS, OUTCOME_LABELS, renderTimelinePlot, type PhaseWindow } from './timeline-plot.js';
import { OUTCOMES } from './calls.js';
import { formatMs } from './timeline.js';

export interface HtmlInput {
  report: Report;
  profile: { name: string; description?: string };
  /** the drill's calls, binned; undefined when the journal could not be read (the page says so) */
  calls?: CallBins;
  /** the profile's phases on the drill's clock */
  phases?: PhaseWindow[];
  /** how COMMAND ended (embedded mode), e.g. "exit code 0" */
  command?: string;
  /** where the drill ran: "embedded server" or the URL */
  target?: string;
  version?: string;
}

const STYLE = `
:root { --pass: #1f7a45; --warn: #a86400; --fail: #c42b22; --na: #6b7280; --ink: #1d2127; --muted: #5b6470; --line: #e3e6ea; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #f4f5f7; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 10px; }
h3 { font-size: 16px; margin: 0; }
.muted { color: var(--muted); }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 18px; margin: 12px 0; }
header.card { display: flex; gap: 20px; align-items: flex-start; justify-content: space-between; }
.verdict { font-size: 20px; font-weight: 700; padding: 8px 18px; border-radius: 8px; color: #fff; white-space: nowrap; }
.verdict.passed { background: var(--pass); }
.verdict.failed { background: var(--fail); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 10px 0 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.badge { display: inline-block; min-width: 48px; text-align: center; font-size: 12px; font-weight: 700; letter-spacing: .03em; text-transform: uppercase; padding: 2px 8px; border-radius: 999px; color: #fff; }
.badge.pass { background: var(--pass); } .badge.warn { background: var(--warn); } .badge.fail { background: var(--fail); } .badge.na { background: var(--na); }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td { text-align: left; vertical-align: top; padding: 8px 10px; border-top: 1px solid var(--line); }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); border-top: none; }
td.check { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; overflow-wrap: anywhere; }
td.value { font-size: 13px; overflow-wrap: anywhere; } td.evidence { font-size: 12px; color: var(--muted); overflow-wrap: anywhere; }
tr.fail td.check { color: var(--fail); font-weight: 600; }
.ops { font-size: 13px; color: var(--muted); margin: 4px 0 8px; }
svg.plot { display: block; width: 100%; height: auto; font-family: inherit; }
svg.plot .phase { font-size: 12px; fill: #3b4250; }
svg.plot .axis { font-size: 11px; fill: var(--muted); text-anchor: middle; }
svg.plot .tick { stroke: #eceef1; } svg.plot .boundary { stroke: #b7bdc6; stroke-dasharray: 3 3; }
svg.plot .row { fill: #fafbfc; stroke: #eceef1; }
svg.plot .client { font-size: 13px; font-weight: 600; text-anchor: end; fill: var(--ink); }
svg.plot .count { font-size: 11px; text-anchor: end; fill: var(--muted); }
svg.plot .outage { fill: rgba(196, 43, 34, .13); stroke: rgba(196, 43, 34, .45); stroke-dasharray: 4 3; }
svg.plot .outage-label { font-size: 11px; fill: #a3261f; text-anchor: end; }
svg.plot .alert line { stroke: #1d5fd1; stroke-width: 2; } svg.plot .alert path { fill: #1d5fd1; }
svg.plot .empty { font-size: 14px; fill: var(--muted); text-anchor: middle; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; font-size: 13px; color: var(--muted); margin-top: 10px; }
.legend span::before { content: ""; display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; background: var(--c); border: 1px solid var(--b, transparent); }
.expect td.label { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; overflow-wrap: anywhere; }
details.idle { margin-top: 10px; } details.idle summary { cursor: pointer; color: var(--muted); font-size: 14px; }
footer { margin-top: 32px; font-size: 12px; color: var(--muted); }
`;

function badge(status: string): string {
  const cls = status === 'n/a' ? 'na' : status;
  return `<span class="badge ${esc(cls)}">${esc(status)}</span>`;
}

const SEVERITY: Record<string, number> = { fail: 0, warn: 1, pass: 2, 'n/a': 3 };

function checkTable(checks: CheckResult[]): string {
  const rows = checks.map((c) => {
    // a part a line: a value of six fields reads as a list, not a sentence
    const value = valueParts(c.value).map(esc).join('<br>');
    const evidence = evidenceText(c.evidence?.entries ?? []);
    return `<tr class="${c.status === 'fail' ? 'fail' : ''}"><td class="status">${badge(c.status)}</td><td class="check">${esc(checkName(c))}</td><td class="value">${value}</td><td>${esc(c.explanation)}</td><td class="evidence">${esc(evidence)}</td></tr>`;
  });
  // fixed columns, so that every client's table lines up with the next
  const cols = '<colgroup><col style="width:80px"><col style="width:250px"><col style="width:190px"><col><col style="width:150px"></colgroup>';
  return `<table>${cols}<thead><tr><th>status</th><th>check</th><th>value</th><th>explanation</th><th>journal entries</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** the verdicts to act on first (fail, warn, pass); the checks nothing exercised folded away below them */
function checkRows(checks: CheckResult[]): string {
  if (checks.length === 0) return '<p class="muted">No checks.</p>';
  const judged = checks.filter((c) => c.status !== 'n/a').sort((a, b) => SEVERITY[a.status] - SEVERITY[b.status]);
  const idle = checks.filter((c) => c.status === 'n/a');
  const table = judged.length ? checkTable(judged) : '<p class="muted">No check had anything to judge.</p>';
  if (idle.length === 0) return table;
  const names = idle.map((c) => checkName(c)).join(', ');
  return `${table}<details class="idle"><summary>${idle.length} not exercised (n/a): ${esc(names)}</summary>${checkTable(idle)}</details>`;
}

function clientCard(client: ClientReport): string {
  const tally = (s: string) => client.checks.filter((c) => c.status === s).length;
  const summary = ['fail', 'warn', 'pass', 'n/a'].map((s) => `${tally(s)} ${s}`).join(' · ');
  const ops = client.operations.map((o) => `${esc(o.system)} ${esc(o.operation)}: ${o.attempts} attempts, ${o.logicalRequests} logical requests`).join('; ');
  return `<section class="card"><h3>${esc(client.client)} <span class="muted">— ${summary}</span></h3>${ops ? `<div class="ops">${ops}</div>` : ''}${checkRows(client.checks)}</section>`;
}

function timeline(input: HtmlInput, since: number, until: number): string {
  if (!input.calls) return '<p class="card muted">The calls could not be read from the journal, so there is no timeline.</p>';
  // rows in the order the checks below list the clients; clients the report does not list (none called an
  // operation it judges) after them, busiest first
  const order = new Map(input.report.clients.map((c, i) => [c.client, i]));
  const rank = (client: string) => order.get(client) ?? Number.MAX_SAFE_INTEGER;
  const clients = [...input.calls.clients].sort((a, b) => rank(a.client) - rank(b.client) || b.total - a.total);
  const calls = { ...input.calls, clients };
  const plot = renderTimelinePlot({ since, until, calls, outages: input.report.outages, alerts: input.report.alerts, phases: input.phases ?? [] });
  const legend = [
    ...OUTCOMES.map((o) => `<span style="--c:${OUTCOME_COLOURS[o]}">${OUTCOME_LABELS[o]}</span>`),
    '<span style="--c:rgba(196,43,34,.13);--b:rgba(196,43,34,.45)">outage window</span>',
    '<span style="--c:#fbe6c2">phase with faults</span>',
    '<span style="--c:#1d5fd1">alert received</span>',
  ].join('');
  const hidden = clients.length - MAX_ROWS;
  const more = hidden > 0 ? `<p class="muted">${hidden} more client${hidden === 1 ? '' : 's'} not drawn: ${esc(clients.slice(MAX_ROWS, MAX_ROWS + 20).map((c) => c.client).join(', '))}${hidden > 20 ? ', …' : ''}</p>` : '';
  return `<div class="card">${plot}<div class="legend">${legend}</div><p class="muted">Each row is one client's calls in ${formatMs(input.calls.bucketMs)} buckets, scaled to that client's busiest bucket. Hover for details.</p>${more}</div>`;
}

export function renderHtml(input: HtmlInput): string {
  const { report } = input;
  const since = Date.parse(report.window.since);
  const until = Date.parse(report.window.until);
  const held = report.expectations.filter((e) => e.status === 'pass').length;
  const verdict = report.passed ? 'PASSED' : 'FAILED';
  const facts: Array<[string, string]> = [
    ['window', `${esc(report.window.since)} to ${esc(report.window.until)} (${formatMs(Math.max(0, until - since))})`],
    ['expectations', report.expectations.length ? `${held} of ${report.expectations.length} hold` : 'none stated (a drill without expectations passes)'],
    ['clients', `${report.clients.length}${input.calls ? `, ${input.calls.read.toLocaleString('en-US')} calls` : ''}`],
    ['outages', `${report.outages.length}`],
    ['alerts', `${report.alerts.length}`],
  ];
  if (input.target) facts.push(['server', esc(input.target)]);
  if (input.command) facts.push(['command', esc(input.command)]);
  const expectations = report.expectations.length
    ? `<table class="expect"><colgroup><col style="width:80px"><col style="width:330px"><col></colgroup><thead><tr><th>status</th><th>expectation</th><th>explanation</th></tr></thead><tbody>${report.expectations
        .map((e) => `<tr><td class="status">${badge(e.status)}</td><td class="label">${esc(expectationLabel(e.expect))}</td><td>${esc(e.explanation)}</td></tr>`)
        .join('')}</tbody></table>`
    : '<p class="muted">The profile states no expectations.</p>';

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`${verdict}: understudy drill ${input.profile.name}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header class="card">
<div>
<h1>Drill ${esc(input.profile.name)}</h1>
${input.profile.description ? `<div class="muted">${esc(input.profile.description)}</div>` : ''}
<dl class="facts">${facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>
</div>
<div class="verdict ${report.passed ? 'passed' : 'failed'}">${verdict}</div>
</header>
<h2>Timeline</h2>
${timeline(input, since, until)}
<h2>Checks per client</h2>
${report.clients.length ? report.clients.map(clientCard).join('\n') : '<p class="card muted">No client called during the drill.</p>'}
<h2>Drill-wide checks</h2>
<section class="card">${checkRows(report.checks)}</section>
<h2>Expectations</h2>
<section class="card">${expectations}</section>
<footer>Written by understudy${input.version ? ' ' + esc(input.version) : ''} drill. Journal entries are at GET /__admin/journal/{id} on the server while it keeps them.</footer>
</main>
</body>
</html>
`;
}
