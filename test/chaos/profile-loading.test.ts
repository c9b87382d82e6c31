/**
 * Chaos profiles: bad input is refused at load time, every problem listed with its line, column, path and a message
 * that says what was expected, and nothing of a broken profile is ever activated. Checked three ways:
 *  - profileFromText / loadProfile (unknown kinds, bad durations, probabilities, contradictory windows, latency
 *    parameters that contradict each other, catastrophic regexes, duplicate ids, rules that do nothing, unknown
 *    keys, timelines, malformed YAML, empty and absurd input; exact line numbers for several cases);
 *  - PUT /__admin/chaos (400 with errors[{line, column, path, message}], the old profile still active, 413 for a
 *    2 MB body while the server keeps serving);
 *  - the CLI, `understudy profiles check FILE...` (exit 1 with file:line:column lines; exit 0 for the built-ins).
 * Valid profiles using every kind, policy and shape are checked to load, so the refusals are not blanket ones.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAULT_KINDS } from '../../src/chaos/faults/index.js';
import { DELIVERY_FAULT_KINDS } from '../../src/deliveries/chaos/index.js';
import { catalogueOf } from '../../src/chaos/match.js';
import { builtInProfiles, loadProfile, profileFromText, PROFILES_DIR } from '../../src/chaos/profile.js';
import { SourceError, type SourceProblem } from '../../src/config/yaml-source.js';
import { buildSystems } from '../../src/server.js';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { call, start } from '../helpers.js';
import { at, summary } from './source-problems.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const FIXTURES = new URL('../fixtures/chaos/', import.meta.url).pathname;
const DURATION = 'must be a duration such as 250ms, 5s, 2m, 1h or 1d';
const KNOWN_KINDS = ['latency', 'status', 'timeout', 'reset', 'empty', 'malformed', 'truncate', 'slowBody', 'drift', 'lostAck', 'failFirst', 'succeedFirst', 'outage', 'noAck', 'soapFault', 'etagConflict', 'csrfExpiry', 'tokenExpiry'];

/** The problems a profile text is refused with; fails the test if it is accepted. */
function refused(text: string): SourceProblem[] {
  try {
    profileFromText(text);
  } catch (err) {
    if (err instanceof SourceError) {
      expect(err.problems.length).toBeGreaterThan(0);
      for (const p of err.problems) {
        expect(p.line).toBeGreaterThanOrEqual(1);
        expect(p.column).toBeGreaterThanOrEqual(1);
        expect(p.message.length).toBeGreaterThan(5);
      }
      return err.problems;
    }
    throw err;
  }
  throw new Error(`accepted:\n${text}`);
}

/** The single problem of a profile with one rule whose faults list is `faults` (YAML, one per line). */
function faultProblems(...faults: string[]): SourceProblem[] {
  return refused(`rules:\n  - id: r\n    faults:\n${faults.map((f) => `      - ${f}\n`).join('')}`);
}



describe('profileFromText refuses bad input with line, column and a clear message', () => {
  it('an unknown fault kind, listing the known kinds; protocol kinds say what they arrive with', () => {
    const problems = refused(`name: unknown-kind
rules:
  - id: a
    faults:
      - latency: 100ms
      - explode: { probability: 0.5 }
      - implode
      - csrfExpiry
      - tokenExpiry
`);
    expect(problems).toHaveLength(2);
    const [explode, implode] = problems;
    // line numbers: the key of a map entry, the scalar of a bare entry
    expect({ line: explode.line, column: explode.column, path: explode.path }).toEqual({ line: 6, column: 9, path: 'rules.0.faults.1.explode' });
    expect({ line: implode.line, column: implode.column, path: implode.path }).toEqual({ line: 7, column: 9, path: 'rules.0.faults.2' });
    for (const p of [explode, implode]) {
      expect(p.message).toMatch(/unknown fault kind "(explode|implode)"/);
      for (const kind of KNOWN_KINDS) expect(p.message).toContain(kind);
    }
    // csrfExpiry (the OData engine) and tokenExpiry (the authorization server) are kinds now
    // the list the message gives is the registry's (adding a kind is a one-file change)
    expect([...FAULT_KINDS.keys()].sort()).toEqual([...KNOWN_KINDS].sort());
  });

  it('a fault entry that is neither a kind name nor a one-kind map', () => {
    expect(summary(faultProblems('{ reset: {}, empty: {} }'))).toEqual([
      { line: 4, column: 9, path: 'rules.0.faults.0', message: expect.stringMatching(/a fault is a kind name/) },
    ]);
    expect(faultProblems('42')[0].message).toMatch(/a fault is a kind name/);
  });

  it('negative and nonsense durations, in fault parameters, windows, phases and policies', () => {
    const cases: Array<[string, string]> = [
      [`rules:\n  - id: r\n    faults:\n      - timeout: { after: -5s }\n`, 'rules.0.faults.0.timeout.after'],
      [`rules:\n  - id: r\n    faults:\n      - timeout: { after: 5 seconds }\n`, 'rules.0.faults.0.timeout.after'],
      [`rules:\n  - id: r\n    faults:\n      - latency: { distribution: fixed, value: -250ms }\n`, 'rules.0.faults.0.latency.value'],
      [`rules:\n  - id: r\n    faults:\n      - status: { code: 503, retryAfter: soon }\n`, 'rules.0.faults.0.status.retryAfter'],
      [`rules:\n  - id: r\n    faults:\n      - outage: { mode: hang, after: 1.5 minutes }\n`, 'rules.0.faults.0.outage.after'],
      [`rules:\n  - id: r\n    when: { after: -5s }\n    faults: [reset]\n`, 'rules.0.when.after'],
      [`rules:\n  - id: r\n    when: { for: 5 seconds }\n    faults: [reset]\n`, 'rules.0.when.for'],
      [`rules:\n  - id: r\n    when: { after: 30 }\n    faults: [reset]\n`, 'rules.0.when.after'],
      [`timeline:\n  - phase: a\n    for: -1m\n  - phase: b\n`, 'timeline.0.for'],
      [`rules:\n  - id: r\n    rateLimit: { requests: 5, per: 1 minute }\n`, 'rules.0.rateLimit.per'],
    ];
    for (const [text, path] of cases) {
      const problems = refused(text);
      expect(summary(problems), text).toEqual([expect.objectContaining({ path, message: DURATION })]);
    }
  });

  it('zero-length windows, phases and rate-limit periods', () => {
    const window = `rules:\n  - id: r\n    when: { after: 10s, for: 0s }\n    faults: [reset]\n`;
    expect(summary(refused(window))).toEqual([{ ...at(window, '0s }'), path: 'rules.0.when.for', message: 'a window of 0 is never open' }]);
    expect(at(window, '0s }')).toEqual({ line: 3, column: 30 });
    const phase = `timeline:\n  - phase: blink\n    for: 0s\n  - phase: rest\n`;
    expect(summary(refused(phase))).toEqual([{ line: 3, column: 10, path: 'timeline.0.for', message: 'a phase of 0 never happens' }]);
    const per = refused(`rules:\n  - id: r\n    rateLimit: { requests: 5, per: 0ms }\n`);
    expect(per).toEqual([expect.objectContaining({ path: 'rules.0.rateLimit', message: expect.stringMatching(/per must be at least 1ms/) })]);
  });

  it('a bad latency shorthand is refused saying a duration is expected', () => {
    for (const value of ['-5s', '5 seconds', '300']) {
      const [problem] = faultProblems(`latency: ${value}`);
      expect(problem.path).toBe('rules.0.faults.0.latency');
      expect(problem.message).toMatch(/duration/);
    }
  });

  it('a duration parameter written as a bare number is refused saying a duration is expected', () => {
    for (const fault of ['timeout: { after: 5000 }', 'status: { code: 503, retryAfter: 5 }']) {
      const [problem] = faultProblems(fault);
      expect(problem.message, fault).toBe(DURATION);
    }
  });

  it('probabilities outside 0..1 and non-numbers, whatever the kind', () => {
    for (const value of ['1.5', '-0.1', '2', 'often', '"0.5"', 'null', '.nan', '[0.5]']) {
      for (const fault of [`status: { code: 503, probability: ${value} }`, `reset: { probability: ${value} }`, `latency: { distribution: fixed, value: 1s, probability: ${value} }`]) {
        const problems = faultProblems(fault);
        expect(problems, fault).toHaveLength(1);
        expect(problems[0].path, fault).toMatch(/^rules\.0\.faults\.0\.\w+\.probability$/);
        expect(problems[0].message, fault).toBe('must be a number from 0 to 1');
        expect(problems[0].line, fault).toBe(4);
      }
    }
    // the bounds themselves are fine
    for (const p of ['0', '1', '0.0001']) expect(() => profileFromText(`rules:\n  - id: r\n    faults:\n      - reset: { probability: ${p} }\n`)).not.toThrow();
  });

  it('contradictory windows: a rule that would open only after its phase has ended', () => {
    const text = `name: never
timeline:
  - phase: short
    for: 1m
    rules:
      - id: late
        when: { after: 2m }
        faults: [reset]
      - id: exactly-at-the-end
        when: { after: 60s }
        faults: [reset]
      - id: just-in-time
        when: { after: 59s, for: 10m }
        faults: [reset]
  - phase: rest
`;
    expect(summary(refused(text))).toEqual([
      { ...at(text, '2m }'), path: 'timeline.0.rules.0.when.after', message: 'the window never opens: its phase lasts only 60000 ms' },
      { ...at(text, '60s }'), path: 'timeline.0.rules.1.when.after', message: 'the window never opens: its phase lasts only 60000 ms' },
    ]);
    expect(at(text, '60s }').line).toBe(10);
  });

  it('latency parameters that contradict each other or are missing', () => {
    const uniform = 'latency: { distribution: uniform, min: 500ms, max: 100ms }';
    expect(summary(faultProblems(uniform))).toEqual([
      { line: 4, column: 9 + uniform.indexOf('100ms'), path: 'rules.0.faults.0.latency.max', message: 'max is below min' },
    ]);
    const lognormal = 'latency: { distribution: lognormal, median: 2s, p99: 300ms }';
    expect(summary(faultProblems(lognormal))).toEqual([
      { line: 4, column: 9 + lognormal.indexOf('300ms'), path: 'rules.0.faults.0.latency.p99', message: 'p99 is below the median' },
    ]);
    expect(faultProblems('latency: { distribution: lognormal, median: 0ms, p99: 1s }')[0].message).toBe('median must be above 0');
    expect(faultProblems('latency: { distribution: normal, mean: 1s }')[0].message).toBe('the normal distribution needs "stddev"');
    expect(faultProblems('latency: { distribution: pareto, min: 100ms }')[0].message).toBe('the pareto distribution needs "alpha"');
    expect(faultProblems('latency: { distribution: pareto, min: 100ms, alpha: -1 }')[0].path).toBe('rules.0.faults.0.latency.alpha');
    expect(faultProblems('latency: { distribution: gamma, value: 1s }')[0]).toMatchObject({
      path: 'rules.0.faults.0.latency.distribution',
      message: 'must be one of fixed, uniform, normal, lognormal, pareto',
    });
  });

  it('parameters of the other kinds out of range', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['status: { code: 200 }', 'rules.0.faults.0.status.code', /must be >= 400/],
      ['status: { code: 503, retryAfterFormat: rfc850 }', 'rules.0.faults.0.status.retryAfterFormat', /must be one of seconds, http-date/],
      ['status: { code: 503, headers: { X-Count: 5 } }', 'rules.0.faults.0.status.headers.X-Count', /must be string/],
      ['slowBody: { bytesPerSecond: 0 }', 'rules.0.faults.0.slowBody.bytesPerSecond', /must be >= 1/],
      ['failFirst: { count: 0 }', 'rules.0.faults.0.failFirst.count', /must be >= 1/],
      ['succeedFirst: { count: 2.5 }', 'rules.0.faults.0.succeedFirst.count', /must be integer/],
      ['lostAck: { as: 404 }', 'rules.0.faults.0.lostAck.as', /must be one of reset, timeout/],
      ['outage: { mode: meltdown }', 'rules.0.faults.0.outage.mode', /must be one of .*refuse-after-accept/],
      ['drift: {}', 'rules.0.faults.0.drift', /fewer than 1 properties/],
      ['timeout: {}', 'rules.0.faults.0.timeout', /must have required property 'after'/],
    ];
    for (const [fault, path, message] of cases) {
      const problems = faultProblems(fault);
      expect(problems, fault).toHaveLength(1);
      expect(problems[0].path, fault).toBe(path);
      expect(problems[0].message, fault).toMatch(message);
    }
  });

  it('regular expressions that could backtrack catastrophically, in match.client and match.header values', () => {
    const text = `rules:
  - id: r
    match:
      client: "/(a+)+$/"
      header: { X-Tenant: "/^(\\\\w+\\\\s?)*$/", X-Ok: "/^ci-\\\\d+$/" }
    faults: [reset]
  - id: s
    match: { client: [ci, "/(x*)*y/"] }
    faults: [reset]
`;
    expect(summary(refused(text))).toEqual([
      { line: 4, column: 15, path: 'rules.0.match.client', message: expect.stringMatching(/\/\(a\+\)\+\$\/ could backtrack catastrophically/) },
      { ...at(text, '"/^(\\\\w'), path: 'rules.0.match.header.X-Tenant', message: expect.stringMatching(/could backtrack catastrophically/) },
      { ...at(text, '"/(x*)*y/"'), path: 'rules.1.match.client.1', message: expect.stringMatching(/could backtrack catastrophically/) },
    ]);
    // a plain regex and plain values are fine
    expect(() => profileFromText(`rules:\n  - id: r\n    match: { client: "/^ci-\\\\d+$/i", header: { X-Tenant: acme } }\n    faults: [reset]\n`)).not.toThrow();
  });

  it('an invalid regular expression is refused as invalid, not as catastrophic', () => {
    const [problem] = refused(`rules:\n  - id: r\n    match: { client: "/[/" }\n    faults: [reset]\n`);
    expect(problem.path).toBe('rules.0.match.client');
    expect(problem.message).toMatch(/not a valid regular expression/);
  });

  it('duplicate rule ids, also across the rules and the timeline; missing and malformed ids', () => {
    const problems = refused(`rules:
  - id: same
    faults: [reset]
  - id: same
    faults: [empty]
timeline:
  - phase: one
    rules:
      - id: same
        faults: [reset]
      - faults: [reset]
      - id: "has spaces"
        faults: [reset]
`);
    expect(summary(problems)).toEqual([
      { line: 4, column: 9, path: 'rules.1.id', message: 'the rule id same is used twice' },
      { line: 9, column: 13, path: 'timeline.0.rules.0.id', message: 'the rule id same is used twice' },
      { line: 11, column: 9, path: 'timeline.0.rules.1.id', message: expect.stringMatching(/every rule needs an id/) },
      { line: 12, column: 13, path: 'timeline.0.rules.2.id', message: expect.stringMatching(/every rule needs an id/) },
    ]);
  });

  it('a rule with neither faults nor a policy', () => {
    expect(summary(refused(`rules:\n  - id: idle\n    match: { system: wms }\n`))).toEqual([
      { line: 2, column: 5, path: 'rules.0', message: 'this rule does nothing: give it faults, a rateLimit or a quota' },
    ]);
  });

  it('a rule with an empty faults list and no policy is refused too', () => {
    const [problem] = refused(`rules:\n  - id: idle\n    faults: []\n`);
    expect(problem.message).toMatch(/does nothing/);
  });

  it('unknown keys at every level: profile, rule, when, match, fault parameters, policies, phases', () => {
    const text = `name: typos
rulez: []
rules:
  - id: r
    fault: [reset]
    when: { after: 1s, until: 2s }
    match: { systen: wms }
    faults:
      - status: { code: 503, retry: 5s }
    rateLimit: { requests: 5, per: 1m, burst: 10 }
timeline:
  - phase: p
    length: 1m
`;
    expect(summary(refused(text))).toEqual([
      { line: 2, column: 1, path: 'rulez', message: 'unknown profile field; use name, description, seed, rules, timeline, deliveries, expect' },
      { line: 5, column: 5, path: 'rules.0.fault', message: 'unknown rule field; use id, match, when, faults, rateLimit, quota' },
      { ...at(text, 'until'), path: 'rules.0.when.until', message: 'unknown; use after and for' },
      { ...at(text, 'wms'), path: 'rules.0.match.systen', message: 'unknown match field; use system, method, path, operation, client, header, workspace' },
      { ...at(text, 'retry'), path: 'rules.0.faults.0.status.retry', message: 'unknown parameter of status' },
      { ...at(text, 'burst'), path: 'rules.0.rateLimit.burst', message: 'unknown parameter of rateLimit' },
      { line: 13, column: 5, path: 'timeline.0.length', message: 'unknown; use phase, for, rules' },
    ]);
  });

  it('a timeline phase without `for` that is not the last; the last may be open-ended', () => {
    expect(summary(refused(`timeline:\n  - phase: forever\n  - phase: never-reached\n    for: 1m\n`))).toEqual([
      { line: 2, column: 5, path: 'timeline.0', message: 'every phase but the last needs a length (for: 2m)' },
    ]);
    expect(refused(`timeline: []\n`)[0].message).toBe('timeline is a non-empty list of phases');
    const ok = profileFromText(`timeline:\n  - phase: a\n    for: 1m\n  - phase: b\n`);
    expect(ok.phases.map((p) => [p.name, p.startMs, p.endMs])).toEqual([
      ['a', 0, 60_000],
      ['b', 60_000, Infinity],
    ]);
  });

  it('malformed YAML, duplicate keys and wrong shapes', () => {
    const unclosed = refused(`name: x\nrules:\n  - id: a\n    faults: [reset, empty\n  - id: b\n`);
    expect(unclosed[0]).toMatchObject({ line: 5, path: '', message: expect.stringMatching(/Flow sequence/) });
    const duplicateKey = refused(`name: x\nrules:\n  - id: a\n    faults: [reset]\n    id: b\n`);
    expect(summary(duplicateKey)).toEqual([{ line: 5, column: 5, path: '', message: 'Map keys must be unique' }]);
    const tabs = refused(`rules:\n\t- id: a\n`);
    expect(tabs[0].line).toBe(2);
    expect(refused(`rules: { id: a }\n`)[0]).toMatchObject({ path: 'rules', message: 'rules is a list' });
    expect(refused(`rules:\n  - reset\n`)[0]).toMatchObject({ path: 'rules.0', message: expect.stringMatching(/a rule is a map/) });
    expect(refused(`rules:\n  - id: a\n    faults: reset\n`)[0]).toMatchObject({ path: 'rules.0.faults', message: 'faults is a list' });
    expect(refused(`seed: -1\nrules: []\n`)[0]).toMatchObject({ line: 1, column: 7, path: 'seed' });
    expect(refused(`name: 42\n`)[0]).toMatchObject({ path: 'name' });
  });

  it('empty, blank, comment-only and non-map bodies', () => {
    for (const text of ['', '   \n\n', '# nothing but a comment\n', '- a\n- b\n', '"just a string"\n', '42\n']) {
      expect(summary(refused(text)), JSON.stringify(text)).toEqual([
        { line: 1, column: 1, path: '', message: 'a profile is a map with name, description, rules (and/or timeline)' },
      ]);
    }
  });

  it('absurd sizes: 10,000 rules, 33 faults in a rule, alias bombs', () => {
    const many = `name: huge\nrules:\n${Array.from({ length: 10_000 }, (_, i) => `  - { id: r${i}, faults: [reset] }\n`).join('')}`;
    expect(summary(refused(many))).toEqual([{ line: 3, column: 3, path: 'rules', message: 'at most 1000 rules' }]);
    const crowded = `rules:\n  - id: r\n    faults:\n${'      - reset\n'.repeat(33)}`;
    expect(refused(crowded)[0]).toMatchObject({ path: 'rules.0.faults', message: 'at most 32 faults per rule' });
    // a "billion laughs": aliases expanding exponentially must be refused, not expanded
    const laughs = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) laughs.push(`${'b'.repeat(i)}: &${'b'.repeat(i)} [${Array(10).fill(i === 1 ? '*a' : `*${'b'.repeat(i - 1)}`).join(', ')}]`);
    expect(() => profileFromText(laughs.join('\n') + '\n')).toThrow();
  });

  it('reports every problem at once', () => {
    const problems = refused(`name: many
rules:
  - id: a
    faults:
      - explode
  - id: b
    faults:
      - status: { code: 503, probability: 1.5 }
  - id: c
    when: { for: 5 seconds }
    faults: [reset]
`);
    expect(summary(problems).map((p) => p.line)).toEqual([5, 8, 10]);
  });

  it('JSON profiles get line numbers too', () => {
    const problems = refused(`{
  "name": "json",
  "rules": [
    {
      "id": "a",
      "faults": [
        { "status": { "code": 503, "probability": 2 } }
      ]
    }
  ]
}
`);
    expect(summary(problems)).toEqual([{ line: 7, column: 51, path: 'rules.0.faults.0.status.probability', message: 'must be a number from 0 to 1' }]);
    expect(profileFromText('{"name":"ok","rules":[{"id":"a","faults":["reset"]}]}').rules).toHaveLength(1);
  });
});

describe('valid profiles load', () => {
  it('every fault kind, both policies, a timeline and every delivery fault kind', () => {
    const profile = loadProfile(join(FIXTURES, 'every-kind.yaml'));
    expect(profile.name).toBe('every-kind');
    expect(profile.seed).toBe(1234);
    expect(profile.source).toBe(join(FIXTURES, 'every-kind.yaml'));
    const kinds = new Set([...profile.rules, ...profile.phases.flatMap((p) => p.rules)].flatMap((r) => r.faults.map((f) => f.kind.kind)));
    expect([...kinds].sort()).toEqual([...KNOWN_KINDS].sort());
    const limits = profile.rules.find((r) => r.id === 'limits')!.limits;
    expect(limits.map((l) => [l.kind, l.params.requests, l.params.perMs, l.params.algorithm, l.params.style])).toEqual([
      ['rateLimit', 100, 60_000, 'bucket', 'ietf'],
      ['quota', 15_000, 86_400_000, 'window', 'salesforce'],
    ]);
    expect(limits[0].params.by).toEqual({ kind: 'header', name: 'x-api-key' });
    expect(profile.rules.find((r) => r.id === 'slow')).toMatchObject({ afterMs: 30_000, forMs: 120_000 });
    expect(profile.phases.map((p) => p.name)).toEqual(['calm', 'down', 'after']);
    expect(profile.notes).toEqual([]);
    expect(profile.deliveries.map((r) => r.id)).toEqual(['deliveries-0', 'forged']);
    expect([...new Set(profile.deliveries.flatMap((r) => r.faults.map((f) => f.kind.kind)))].sort()).toEqual([...DELIVERY_FAULT_KINDS.keys()].sort());
    expect(profile.rules.find((r) => r.id === 'slow')!.faults.find((f) => f.probability !== 1)!.probability).toBe(0.5);
  });

  it('a fault may be bare, an empty map or null', () => {
    const profile = profileFromText(`rules:\n  - id: r\n    faults:\n      - reset\n      - reset: {}\n      - reset:\n`);
    expect(profile.rules[0].faults.map((f) => f.kind.kind)).toEqual(['reset', 'reset', 'reset']);
  });

  it('the built-in profiles all load, by name, their match values checked against the default systems', async () => {
    const catalogue = catalogueOf(await buildSystems({}));
    const names = builtInProfiles();
    expect(names).toEqual(expect.arrayContaining(['calm', 'flaky-network', 'brownout', 'rate-limited', 'outage-drill', 'salesforce-timeouts', 'bench-delay-100ms']));
    for (const name of names) {
      const profile = loadProfile(name, catalogue);
      expect(profile.name).toBe(name);
      expect(profile.source).toBe(`built-in:${name}`);
      expect(profile.description.length).toBeGreaterThan(10);
    }
  });
});

describe('loadProfile from a file', () => {
  it('names the file in every problem, with its lines', () => {
    const file = join(FIXTURES, 'three-problems.yaml');
    let problems: SourceProblem[] = [];
    try {
      loadProfile(file);
    } catch (err) {
      problems = (err as SourceError).problems;
    }
    expect(problems.map((p) => [p.file, p.line, p.column, p.path])).toEqual([
      [file, 7, 9, 'rules.0.faults.0.explode'],
      [file, 10, 43, 'rules.1.faults.0.status.probability'],
      [file, 13, 12, 'rules.2.when.for'],
    ]);
  });

  it('an unknown name or a missing file lists the built-ins', () => {
    expect(() => loadProfile('no-such-profile')).toThrow(/no such profile: not a built-in \(.*calm.*\) and not a file/);
    expect(() => loadProfile(join(FIXTURES, 'missing.yaml'))).toThrow(SourceError);
  });

  it('a server will not start with a broken profile', async () => {
    await expect(start({ profile: join(FIXTURES, 'broken-yaml.yaml') })).rejects.toThrow(/broken-yaml\.yaml:5:\d+: Flow sequence/);
  });
});

describe('PUT /__admin/chaos refuses a broken profile and keeps the old one', () => {
  async function server() {
    const clock = new ManualClock();
    const s = await start({ profile: 'brownout', clock, scheduler: new ManualScheduler(clock), systems: { wms: { skus: 20 } } });
    const before = await call(`${s.url}/__admin/chaos`);
    expect(before.body.profile.name).toBe('brownout');
    /** asserts the active profile is still brownout, unchanged */
    const unchanged = async () => {
      const now = await call(`${s.url}/__admin/chaos`);
      expect(now.status).toBe(200);
      expect(now.body.profile).toEqual(before.body.profile);
      expect(now.body.text).toBe(before.body.text);
      expect(now.body.rules.map((r: { id: string }) => r.id)).toEqual(['slow', 'shed-load']);
    };
    return { url: s.url, unchanged };
  }

  it('400 with every error (line, column, path, message) for each kind of bad profile', async () => {
    const { url, unchanged } = await server();
    const bodies: Array<[string, { line: number; path: string; message: RegExp }]> = [
      [`name: a\nrules:\n  - id: r\n    faults:\n      - explode\n`, { line: 5, path: 'rules.0.faults.0', message: /unknown fault kind "explode"; known: latency, status/ }],
      [`name: a\nrules:\n  - id: r\n    faults:\n      - timeout: { after: -5s }\n`, { line: 5, path: 'rules.0.faults.0.timeout.after', message: /must be a duration/ }],
      [`name: a\nrules:\n  - id: r\n    faults:\n      - reset: { probability: 1.01 }\n`, { line: 5, path: 'rules.0.faults.0.reset.probability', message: /from 0 to 1/ }],
      [`name: a\nrules:\n  - id: r\n    when: { for: 0s }\n    faults: [reset]\n`, { line: 4, path: 'rules.0.when.for', message: /never open/ }],
      [`name: a\nrules:\n  - id: r\n    match: { client: "/(a+)+$/" }\n    faults: [reset]\n`, { line: 4, path: 'rules.0.match.client', message: /catastrophically/ }],
      [`name: a\nrules:\n  - id: r\n    faults: [reset]\n  - id: r\n    faults: [reset]\n`, { line: 5, path: 'rules.1.id', message: /used twice/ }],
      [`name: a\nrules:\n  - id: r\n`, { line: 3, path: 'rules.0', message: /does nothing/ }],
      [`name: a\nrules:\n  - id: r\n    faults:\n      - latency: { distribution: uniform, min: 2s, max: 1s }\n`, { line: 5, path: 'rules.0.faults.0.latency.max', message: /max is below min/ }],
      [`name: a\ncolour: red\nrules: []\n`, { line: 2, path: 'colour', message: /unknown profile field/ }],
      [`name: a\nrules: [ { id: r, faults: [reset] }\n`, { line: 3, path: '', message: /./ }],
      [`name: a\ntimeline:\n  - phase: p\n  - phase: q\n`, { line: 3, path: 'timeline.0', message: /needs a length/ }],
    ];
    for (const [body, expected] of bodies) {
      const r = await call(`${url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body });
      expect(r.status, body).toBe(400);
      expect(r.body.type).toBe('urn:understudy:problem:invalid-profile');
      expect(r.body.detail).toMatch(/the active profile is unchanged/);
      expect(r.body.errors, body).toEqual([
        { line: expected.line, column: expect.any(Number), path: expected.path, message: expect.stringMatching(expected.message) },
      ]);
      await unchanged();
    }
  });

  it('lists several errors of one profile together', async () => {
    const { url, unchanged } = await server();
    const r = await call(`${url}/__admin/chaos`, {
      method: 'PUT',
      body: `name: a\nrules:\n  - id: r\n    faults:\n      - explode\n      - status: { code: 503, probability: 3 }\n    when: { after: soon }\n`,
    });
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: { line: number; path: string }) => [e.line, e.path])).toEqual([
      [7, 'rules.0.when.after'],
      [5, 'rules.0.faults.0'],
      [6, 'rules.0.faults.1.status.probability'],
    ]);
    await unchanged();
  });

  it('an empty body, and 10,000 rules, are refused; a valid profile is then accepted', async () => {
    const { url, unchanged } = await server();
    const empty = await call(`${url}/__admin/chaos`, { method: 'PUT', body: '' });
    expect(empty.status).toBe(400);
    expect(empty.body.type).toBe('urn:understudy:problem:empty-profile');
    await unchanged();
    const many = `name: huge\nrules:\n${Array.from({ length: 10_000 }, (_, i) => `  - { id: r${i}, faults: [reset] }\n`).join('')}`;
    const huge = await call(`${url}/__admin/chaos`, { method: 'PUT', body: many });
    expect(huge.status).toBe(400);
    expect(huge.body.errors).toEqual([{ line: 3, column: 3, path: 'rules', message: 'at most 1000 rules' }]);
    await unchanged();
    // the refusals are not blanket ones
    const ok = await call(`${url}/__admin/chaos`, { method: 'PUT', body: `name: fine\nrules:\n  - id: r\n    faults: [reset]\n` });
    expect(ok.status).toBe(200);
    expect((await call(`${url}/__admin/chaos`)).body.profile.name).toBe('fine');
  });

  it('a 2 MB body gets 413 and the server keeps serving, the old profile still active', async () => {
    const { url, unchanged } = await server();
    const body = `name: big\ndescription: "${'x'.repeat(2 * 1024 * 1024)}"\nrules: []\n`;
    const r = await call(`${url}/__admin/chaos`, { method: 'PUT', body });
    expect(r.status).toBe(413);
    await unchanged();
    expect((await call(`${url}/wms/v1/inventory/SKU-1`)).status).toBe(200);
    expect((await call(`${url}/__admin/health`)).status).toBe(200);
  });

  it('?profile=NAME activates a built-in; an unknown name is refused', async () => {
    const { url, unchanged } = await server();
    const unknown = await call(`${url}/__admin/chaos?profile=no-such-profile`, { method: 'PUT' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].message).toMatch(/no such profile/);
    await unchanged();
    const named = await call(`${url}/__admin/chaos?profile=calm`, { method: 'PUT' });
    expect(named.status).toBe(200);
    expect(named.body.profile).toMatchObject({ name: 'calm', source: 'built-in:calm' });
  });

  it('?profile= does not read files from the server by path', async () => {
    const { url, unchanged } = await server();
    const byPath = await call(`${url}/__admin/chaos?profile=${encodeURIComponent(join(FIXTURES, 'every-kind.yaml'))}`, { method: 'PUT' });
    expect(byPath.status).toBe(400);
    await unchanged();
  });
});

describe('understudy profiles check', () => {
  function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    return once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  }

  it('exits 1 listing file:line:column: path: message for every problem of every bad file', async () => {
    const good = join(FIXTURES, 'every-kind.yaml');
    const three = join(FIXTURES, 'three-problems.yaml');
    const broken = join(FIXTURES, 'broken-yaml.yaml');
    const r = await cli(['profiles', 'check', good, three, broken]);
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stdout.split('\n').map((l) => l.trim());
    expect(lines).toContain(`ok    ${good} (every-kind: 4 rules, 2 delivery rules, 0 expectations)`.trim());
    expect(lines).toContain(`FAIL  ${three}`);
    expect(lines).toContain(`FAIL  ${broken}`);
    expect(lines).toContain(`${three}:7:9: rules.0.faults.0.explode: unknown fault kind "explode"; known: ${KNOWN_KINDS.join(', ')}`);
    expect(lines).toContain(`${three}:10:43: rules.1.faults.0.status.probability: must be a number from 0 to 1`);
    expect(lines).toContain(`${three}:13:12: rules.2.when.for: ${DURATION}`);
    expect(lines.some((l) => l.startsWith(`${broken}:5:`))).toBe(true);
  }, 30_000);

  it('exits 0 for every built-in profile in chaos-profiles/', async () => {
    const files = readdirSync(PROFILES_DIR)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => join('chaos-profiles', f));
    expect(files.length).toBeGreaterThanOrEqual(7);
    const r = await cli(['profiles', 'check', ...files]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const file of files) expect(r.stdout).toMatch(new RegExp(`^ok {4}${file.replace(/[.]/g, '\\.')} \\(`, 'm'));
    expect(r.stdout).not.toMatch(/FAIL/);
  }, 30_000);
});
