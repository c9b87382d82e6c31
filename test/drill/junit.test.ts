/**
 * junit.xml: a case per check and per expectation, <failure> exactly on the expectations that do not hold (so a
 * CI's test view agrees with the drill's exit code), n/a checks skipped, and a document that parses whatever the
 * traffic put in client names and explanations.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { renderJunit, xmlText } from '../../src/drill/junit.js';
import { HOSTILE, hostileReport, sampleReport } from './report-fixtures.js';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name) });

interface Case {
  classname: string;
  name: string;
  failure?: { message: string; '#text': string };
  skipped?: { message: string };
  'system-out': string;
}

function parse(xml: string) {
  expect(XMLValidator.validate(xml)).toBe(true);
  const doc = parser.parse(xml);
  const suites = doc.testsuites.testsuite as Array<{ name: string; tests: string; failures: string; skipped: string; testcase: Case[] }>;
  return { doc, suites, cases: suites.flatMap((s) => s.testcase ?? []) };
}

describe('junit.xml', () => {
  it('has a case per check and expectation, failing exactly on the unmet expectation', () => {
    const report = sampleReport();
    const { doc, suites, cases } = parse(renderJunit(report, { profile: 'payment-outage', command: 'npm test: exit code 3' }));

    const checks = report.clients.reduce((n, c) => n + c.checks.length, 0) + report.checks.length;
    expect(cases).toHaveLength(checks + report.expectations.length);
    expect(suites.map((s) => s.name)).toEqual(['client sf-sandbox', 'client wms-sync', 'drill', 'expectations']);

    const sf = cases.filter((c) => c.classname === 'sf-sandbox').map((c) => c.name);
    expect(sf).toEqual(['retry.strategy (createCharge)', 'retry.respectsRetryAfter', 'breaker.stopsDuringOutage', 'idempotency.keyReused (createCharge)', 'timeouts.observed']);
    expect(cases.filter((c) => c.classname === 'drill').map((c) => c.name)).toEqual(['alerting.timeToDetect']);
    expect(cases.filter((c) => c.classname === 'expectations').map((c) => c.name)).toEqual([
      'check: breaker.stopsDuringOutage, client: sf-sandbox',
      'alertWithin: 2m',
      'maxDuplicateEffects: 0',
    ]);

    // the one failure is the unmet expectation; the checks that failed (keyReused, the immediate retry) are not
    const failed = cases.filter((c) => c.failure !== undefined);
    expect(failed.map((c) => c.name)).toEqual(['maxDuplicateEffects: 0']);
    expect(failed[0].failure!.message).toBe('2 duplicate charges (ch_1 and ch_2 for order SO-7).');
    expect(doc.testsuites.failures).toBe('1');
    expect(suites.find((s) => s.name === 'expectations')!.failures).toBe('1');
    // ... but their verdict is there for whoever reads the case
    const keyReused = cases.find((c) => c.name === 'idempotency.keyReused (createCharge)')!;
    expect(keyReused['system-out']).toMatch(/^FAIL: A retry of createCharge sent a new Idempotency-Key/);
    expect(keyReused['system-out']).toContain('evidence (journal entries): #70, #71');

    // n/a: skipped, nothing exercised it
    const skipped = cases.filter((c) => c.skipped !== undefined);
    expect(skipped.map((c) => c.name)).toEqual(['timeouts.observed']);
    expect(skipped[0].skipped!.message).toMatch(/^n\/a: The client abandoned no call/);
    expect(doc.testsuites.skipped).toBe('1');
    expect(doc.testsuites.tests).toBe(String(cases.length));
    expect(doc.testsuites.time).toBe('420.000');
  });

  it('has no failure at all when every expectation holds', () => {
    const report = sampleReport();
    report.expectations = report.expectations.filter((e) => e.status === 'pass');
    report.passed = true;
    const { doc, cases } = parse(renderJunit(report, { profile: 'p' }));
    expect(cases.some((c) => c.failure !== undefined)).toBe(false);
    expect(doc.testsuites.failures).toBe('0');
  });

  it('stays well-formed with hostile client names and explanations', () => {
    const xml = renderJunit(hostileReport(), { profile: HOSTILE, command: HOSTILE });
    expect(xml).not.toContain('<script>');
    expect(xml).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/);
    const { doc, cases } = parse(xml);
    const visible = xmlText(HOSTILE);
    expect(visible).toBe(`<script>alert("x")</script> & ]]> '"<!-- \\u0001\\u0007\\u001b[31m\\uffff end`);
    // what went in comes back out, the forbidden characters written visibly
    const first = cases.find((c) => c.classname === visible)!;
    expect(first.name).toBe(`retry.strategy (${visible})`);
    expect(first['system-out']).toContain(`PASS: ${visible}`);
    const failed = cases.filter((c) => c.failure !== undefined);
    expect(failed).toHaveLength(1);
    expect(failed[0].failure!['#text']).toBe(visible);
    expect(cases.map((c) => c.name)).toContain(`check: retry.strategy, client: ${visible}`);
    expect(doc.testsuites.name).toBe(`understudy drill ${visible}`);
  });
});
