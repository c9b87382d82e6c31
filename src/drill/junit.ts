/**
 * junit.xml for CI: one test case per check (classname the client, or `drill` for the drill-wide ones) and one per
 * expectation (classname `expectations`). Only an expectation that does not hold is a <failure>, so the build's
 * test view agrees with the drill's exit code; a check's own verdict (a `fail` included) is in its system-out for
 * whoever reads on, and an n/a check is <skipped/>, since nothing exercised it.
 *
 * Built with fast-xml-parser's XMLBuilder, which escapes text and attributes. What it cannot escape are the
 * characters XML 1.0 forbids outright (control characters, lone surrogates: not even &#1; is allowed), which a
 * client name or a header echoed into an explanation may carry; they are written visibly as \u0001 instead.
 */
import { XMLBuilder } from 'fast-xml-parser';
import type { CheckResult, Report } from '../report/types.js';
import { checkName, evidenceText, expectationLabel, formatValue } from './report-text.js';

export interface JunitContext {
  /** the profile's name, for the suites' names */
  profile: string;
  /** how COMMAND ended, in embedded mode ("exit code 3"), recorded as a property */
  command?: string;
}

// #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]: everything else is not a character of XML 1.0
const NOT_XML = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** a string XML 1.0 can carry: forbidden characters written as \uXXXX */
export function xmlText(text: string): string {
  return text.replace(NOT_XML, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** an attribute value: one line (a parser folds newlines to spaces anyway) */
function attr(text: string): string {
  return xmlText(text).replace(/\s+/g, ' ').trim();
}

type Node = Record<string, unknown>;

function checkCase(classname: string, check: CheckResult): Node {
  const lines = [`${check.status.toUpperCase()}: ${check.explanation}`];
  const value = formatValue(check.value);
  if (value) lines.push(`value: ${value}`);
  const evidence = evidenceText(check.evidence.entries, 50);
  if (evidence) lines.push(`evidence (journal entries): ${evidence}`);
  return {
    '@_classname': attr(classname),
    '@_name': attr(checkName(check)),
    '@_time': '0',
    ...(check.status === 'n/a' ? { skipped: { '@_message': attr(`n/a: ${check.explanation}`) } } : {}),
    'system-out': xmlText(lines.join('\n')),
  };
}

function suite(name: string, cases: Node[], failures: number, properties?: Record<string, string>): Node {
  const skipped = cases.filter((c) => 'skipped' in c).length;
  return {
    '@_name': attr(name),
    '@_tests': String(cases.length),
    '@_failures': String(failures),
    '@_errors': '0',
    '@_skipped': String(skipped),
    '@_time': '0',
    ...(properties ? { properties: { property: Object.entries(properties).map(([k, v]) => ({ '@_name': k, '@_value': attr(v) })) } } : {}),
    testcase: cases,
  };
}

export function renderJunit(report: Report, context: JunitContext): string {
  const suites: Node[] = [];
  for (const client of report.clients) {
    suites.push(suite(`client ${client.client}`, client.checks.map((c) => checkCase(client.client, c)), 0));
  }
  const properties: Record<string, string> = { profile: context.profile, since: report.window.since, until: report.window.until };
  if (context.command) properties.command = context.command;
  suites.push(suite('drill', report.checks.map((c) => checkCase('drill', c)), 0, properties));

  const expectations = report.expectations.map((e) => {
    const label = expectationLabel(e.expect);
    return {
      '@_classname': 'expectations',
      '@_name': attr(label),
      '@_time': '0',
      ...(e.status === 'fail' ? { failure: { '@_message': attr(e.explanation), '@_type': 'expectation', '#text': xmlText(e.explanation) } } : {}),
      'system-out': xmlText(`${e.status.toUpperCase()}: ${e.explanation}`),
    };
  });
  const failed = report.expectations.filter((e) => e.status === 'fail').length;
  suites.push(suite('expectations', expectations, failed));

  const seconds = Math.max(0, (Date.parse(report.window.until) - Date.parse(report.window.since)) / 1000);
  const tests = suites.reduce((n, s) => n + Number(s['@_tests']), 0);
  const skipped = suites.reduce((n, s) => n + Number(s['@_skipped']), 0);
  const document = {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    testsuites: {
      '@_name': attr(`understudy drill ${context.profile}`),
      '@_tests': String(tests),
      '@_failures': String(failed),
      '@_errors': '0',
      '@_skipped': String(skipped),
      '@_time': Number.isFinite(seconds) ? seconds.toFixed(3) : '0',
      testsuite: suites,
    },
  };
  const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, suppressEmptyNode: true, processEntities: true });
  return builder.build(document) as string;
}
