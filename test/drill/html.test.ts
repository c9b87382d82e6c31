/**
 * report.html: self-contained (nothing fetched from the network), everything from the traffic escaped, every
 * check, value, explanation and expectation on the page, and small enough for a long, busy drill (issue #10's
 * bench target: under 2 MB for a 30-minute drill).
 */
import { describe, expect, it } from 'vitest';
import { CallBinner } from '../../src/drill/calls.js';
import { renderHtml } from '../../src/drill/html.js';
import { MAX_ROWS } from '../../src/drill/timeline-plot.js';
import { CLIENT_CHECK_IDS, type Report } from '../../src/report/types.js';
import { busyCalls, HOSTILE, hostileReport, isoAt, sampleReport, selfContainedProblems, SINCE } from './report-fixtures.js';

function page(report: Report, calls = busyCalls(report, report.clients.map((c) => c.client), 5)): string {
  const phases = [
    { name: 'calm', start: SINCE, end: SINCE + 60_000, faulty: false },
    { name: 'degraded', start: SINCE + 60_000, end: SINCE + 120_000, faulty: true },
    { name: 'outage', start: SINCE + 120_000, end: SINCE + 300_000, faulty: true },
    { name: 'calm-again', start: SINCE + 300_000, end: SINCE + 420_000, faulty: false },
  ];
  return renderHtml({ report, profile: { name: 'payment-outage', description: 'Gateway down, then back.' }, calls, phases, command: 'npm test: exit code 0', target: 'embedded server', version: '0.1.0' });
}

/** self-contained, and this page's own text has no URL either */
function expectSelfContained(html: string): void {
  expect(selfContainedProblems(html)).toEqual([]);
  expect(html).not.toMatch(/https?:\/\//i);
}

describe('report.html', () => {
  it('shows the verdict, the timeline, every check and every expectation, loading nothing', () => {
    const report = sampleReport();
    const html = page(report);
    expectSelfContained(html);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<div class="verdict failed">FAILED</div>');
    expect(html).toContain('2 of 3 hold');
    // the plot: a row per client, the outage shaded, the alert marked, the phases named
    expect(html).toContain('<svg class="plot"');
    expect(html.match(/class="row"/g)).toHaveLength(2);
    expect(html).toMatch(/class="outage"><title>outage gateway-down \(phase outage\): 2m to 5m<\/title>/);
    expect(html).toContain('<title>alert #140 via slack at 2m45s</title>');
    for (const name of ['calm', 'degraded', 'outage', 'calm-again']) expect(html).toContain(`class="phase">${name}</text>`);
    for (const c of [...report.clients.flatMap((c) => c.checks), ...report.checks]) {
      expect(html).toContain(c.operation ? `${c.id} (${c.operation})` : c.id);
      expect(html).toContain(c.explanation.replace(/'/g, '&#39;'));
    }
    expect(html).toContain('<td class="value">strategy exponential<br>jitter true</td>');
    expect(html).toContain('#12, #15, #22, #40');
    expect(html).toContain('<span class="badge na">n/a</span>');
    expect(html).toContain('alertWithin: 2m');
    expect(html).toContain('check: breaker.stopsDuringOutage, client: sf-sandbox');
    expect(html).toContain('npm test: exit code 0');
  });

  it('reads PASSED when every expectation holds, and says so when the journal could not be read', () => {
    const report = sampleReport();
    report.expectations = [];
    report.passed = true;
    const html = renderHtml({ report, profile: { name: 'calm' } });
    expectSelfContained(html);
    expect(html).toContain('<div class="verdict passed">PASSED</div>');
    expect(html).toContain('The profile states no expectations.');
    expect(html).toContain('there is no timeline');
  });

  it('escapes whatever the traffic put in client names, operations, values and explanations', () => {
    const report = hostileReport();
    const html = page(report);
    expectSelfContained(html);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<!--');
    expect(html).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/);
    const escaped = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; ]]&gt; &#39;&quot;&lt;!-- \\u0001\\u0007\\u001b[31m';
    expect(html).toContain(`<h3>${escaped}`);
    // in the plot's label and hover text too
    expect(html).toContain(`<title>${escaped}`);
    expect(html.split(escaped).length).toBeGreaterThan(6);
    expect(HOSTILE).toContain('<script>');
  });

  it('plots the busiest clients and names the others', () => {
    const report = sampleReport();
    const clients = Array.from({ length: MAX_ROWS + 3 }, (_, i) => `client-${String(i).padStart(2, '0')}`);
    const binner = new CallBinner(Date.parse(report.window.since), Date.parse(report.window.until));
    clients.forEach((client, i) => {
      for (let k = 0; k <= i; k++) binner.add({ ts: isoAt(1000 * k), client, status: 200 });
    });
    const html = page(report, binner.result());
    expect(html.match(/class="row"/g)).toHaveLength(MAX_ROWS);
    expect(html).toContain('3 more clients not drawn: client-02, client-01, client-00');
  });

  it('stays under 2 MB for a 30-minute drill at a thousand calls a second', () => {
    const report = sampleReport();
    report.window.until = isoAt(30 * 60_000);
    // twelve clients, each with every check, evidence lists of thousands of entries and long explanations
    report.clients = Array.from({ length: 12 }, (_, i) => ({
      client: `client-${i}`,
      operations: [{ system: 'payments', operation: 'createCharge', attempts: 150_000, logicalRequests: 90_000 }],
      checks: CLIENT_CHECK_IDS.map((id) => ({
        id,
        operation: 'createCharge',
        status: 'warn' as const,
        value: { strategy: 'exponential', jitter: true },
        evidence: { entries: Array.from({ length: 5000 }, (_, k) => k * 7 + i) },
        explanation: 'A paragraph a person can act on. '.repeat(12),
      })),
    }));
    const calls = busyCalls(report, report.clients.map((c) => c.client), 1000);
    expect(calls.read).toBe(1_800_000);
    const html = page(report, calls);
    expectSelfContained(html);
    const bytes = Buffer.byteLength(html);
    expect(bytes).toBeLessThan(2 * 1024 * 1024);
    // the plot's share does not grow with the traffic: the same drill at a tenth of the rate draws the same bars
    const quieter = page(report, busyCalls(report, report.clients.map((c) => c.client), 100));
    expect(Math.abs(Buffer.byteLength(quieter) - bytes)).toBeLessThan(bytes * 0.05);
  });
});
