/**
 * A profile's `expect:` list (issue #10 item 5): every accepted form compiled into the report card's Expectation
 * (`written` as the profile wrote it), and every refusal listed at once with its line, column and path: unknown
 * check ids (with "did you mean"), unknown keys, two expectations in one item, a client on something that is not a
 * per-client check, bad client names, bad and zero durations, counts that are not whole and 0 or more, empty
 * items, bare strings, a list that is not one or is too long. Through PUT /__admin/chaos too: 400 with every
 * problem, and the old profile stays active. The built-in drills each state expectations.
 */
import { describe, expect, it } from 'vitest';
import { builtInProfiles, loadProfile, profileFromText } from '../../src/chaos/profile.js';
import { SourceError, type SourceProblem } from '../../src/config/yaml-source.js';
import { CHECK_IDS } from '../../src/report/types.js';
import { call, start } from '../helpers.js';
import { at, summary } from './source-problems.js';

function refused(text: string): SourceProblem[] {
  try {
    profileFromText(text);
  } catch (err) {
    if (err instanceof SourceError) return err.problems;
    throw err;
  }
  throw new Error(`accepted:\n${text}`);
}

const withExpect = (items: string) => `name: drill\nrules: []\nexpect:\n${items}`;

describe('expect: accepted forms', () => {
  it('compiles each form, keeping the item as written', () => {
    const profile = profileFromText(
      withExpect(`  - check: retry.respectsRetryAfter
  - { check: breaker.stopsDuringOutage, client: sf-sandbox }
  - client: "integration@acme.example:prod"
    check: idempotency.keyReused
  - alertWithin: 2m
  - maxDuplicateEffects: 0
  - maxDuplicateEffects: 3
  - recoveredWithin: 1m
  - recoveredWithin: 1500ms
  - check: deliveries.ack
`),
    );
    expect(profile.expectations).toEqual([
      { kind: 'check', check: 'retry.respectsRetryAfter', written: { check: 'retry.respectsRetryAfter' } },
      { kind: 'check', check: 'breaker.stopsDuringOutage', client: 'sf-sandbox', written: { check: 'breaker.stopsDuringOutage', client: 'sf-sandbox' } },
      { kind: 'check', check: 'idempotency.keyReused', client: 'integration@acme.example:prod', written: { client: 'integration@acme.example:prod', check: 'idempotency.keyReused' } },
      { kind: 'alertWithin', ms: 120_000, written: { alertWithin: '2m' } },
      { kind: 'maxDuplicateEffects', count: 0, written: { maxDuplicateEffects: 0 } },
      { kind: 'maxDuplicateEffects', count: 3, written: { maxDuplicateEffects: 3 } },
      { kind: 'recoveredWithin', ms: 60_000, written: { recoveredWithin: '1m' } },
      { kind: 'recoveredWithin', ms: 1500, written: { recoveredWithin: '1500ms' } },
      { kind: 'check', check: 'deliveries.ack', written: { check: 'deliveries.ack' } },
    ]);
    // a check without client has no client key at all (the report reads "every client that called")
    expect('client' in profile.expectations[0]).toBe(false);
  });

  it('every check id is accepted', () => {
    const profile = profileFromText(withExpect(CHECK_IDS.map((id) => `  - check: ${id}\n`).join('')));
    expect(profile.expectations.map((e) => (e.kind === 'check' ? e.check : ''))).toEqual([...CHECK_IDS]);
  });

  it('absent, null or an empty list: no expectations; JSON profiles take them too', () => {
    expect(profileFromText('name: a\nrules: []\n').expectations).toEqual([]);
    expect(profileFromText('name: a\nrules: []\nexpect:\n').expectations).toEqual([]);
    expect(profileFromText('name: a\nrules: []\nexpect: []\n').expectations).toEqual([]);
    expect(profileFromText('{"name": "j", "rules": [], "expect": [{"alertWithin": "30s"}]}').expectations).toEqual([{ kind: 'alertWithin', ms: 30_000, written: { alertWithin: '30s' } }]);
  });
});

describe('expect: refusals, every one with its line and column', () => {
  it('lists every problem of a bad list at once', () => {
    const text = withExpect(`  - check: retry.respectRetryAfter
  - check: flux.capacitor
  - { check: retry.bounded, clinet: sf }
  - { check: retry.bounded, alertWithin: 2m }
  - alertWithin: 2 minutes
  - alertWithin: 120
  - recoveredWithin: 0s
  - maxDuplicateEffects: -1
  - maxDuplicateEffects: 1.5
  - maxDuplicateEffects: "0"
  - { check: retry.bounded, client: "sf sandbox" }
  - { check: alerting.timeToDetect, client: sf }
  - { alertWithin: 2m, client: sf }
  -
  - {}
  - retry.bounded
  - check: 5
  - frobnicate: yes
`);
    const problems = summary(refused(text));
    const checks = CHECK_IDS.join(', ');
    expect(problems).toEqual([
      { ...at(text, 'retry.respectRetryAfter'), path: 'expect.0.check', message: 'unknown check "retry.respectRetryAfter" (did you mean retry.respectsRetryAfter?)' },
      { ...at(text, 'flux.capacitor'), path: 'expect.1.check', message: `unknown check "flux.capacitor"; known: ${checks}` },
      { ...at(text, 'clinet'), path: 'expect.2.clinet', message: 'unknown expectation key (did you mean client?)' },
      { ...at(text, 'alertWithin', 0), path: 'expect.3.alertWithin', message: 'one expectation per item: this item already says check; give alertWithin its own - item' },
      { ...at(text, '2 minutes'), path: 'expect.4.alertWithin', message: 'must be a duration such as 250ms, 5s, 2m, 1h or 1d' },
      { ...at(text, '120'), path: 'expect.5.alertWithin', message: 'must be a duration such as 250ms, 5s, 2m, 1h or 1d' },
      { ...at(text, '0s'), path: 'expect.6.recoveredWithin', message: 'must be longer than 0: nothing happens within 0 ms, so it could never hold' },
      { ...at(text, '-1'), path: 'expect.7.maxDuplicateEffects', message: 'must be a whole number, 0 or more' },
      { ...at(text, '1.5'), path: 'expect.8.maxDuplicateEffects', message: 'must be a whole number, 0 or more' },
      { ...at(text, '"0"'), path: 'expect.9.maxDuplicateEffects', message: 'must be a whole number, 0 or more' },
      { ...at(text, '"sf sandbox"'), path: 'expect.10.client', message: 'must be a client name as the server resolves it: 1-80 of A-Z a-z 0-9 . _ : @ -' },
      { ...at(text, 'client: sf }', 0), path: 'expect.11.client', message: 'alerting.timeToDetect judges the drill as a whole, not one client: drop client' },
      { ...at(text, 'client: sf }', 1), path: 'expect.12.client', message: 'client goes with check only: alertWithin is judged over the whole drill' },
      // a null item is placed just after its dash
      { line: at(text, '-\n').line, column: at(text, '-\n').column + 1, path: 'expect.13', message: expect.stringMatching(/^an empty expectation; write one of - check: ID, .*- recoveredWithin: 1m$/) },
      { ...at(text, '{}'), path: 'expect.14', message: expect.stringMatching(/^an empty expectation/) },
      { ...at(text, 'retry.bounded\n'), path: 'expect.15', message: expect.stringMatching(/^an expectation is a map: .* \(write - check: retry.bounded\)$/) },
      { line: at(text, 'check: 5').line, column: at(text, 'check: 5').column + 7, path: 'expect.16.check', message: `must be a check id: ${checks}` },
      { ...at(text, 'frobnicate'), path: 'expect.17.frobnicate', message: 'unknown expectation key; use one of check, alertWithin, maxDuplicateEffects, recoveredWithin, client' },
    ]);
  });

  it('expect that is not a list, or too long a list', () => {
    const map = 'name: a\nrules: []\nexpect: { check: retry.bounded }\n';
    expect(summary(refused(map))).toEqual([{ ...at(map, '{ check'), path: 'expect', message: expect.stringMatching(/^expect is a list: - check: ID/) }]);
    const long = withExpect('  - maxDuplicateEffects: 0\n'.repeat(101));
    expect(summary(refused(long))).toEqual([{ line: 4, column: 3, path: 'expect', message: 'at most 100 expectations (this list has 101)' }]);
    expect(profileFromText(withExpect('  - maxDuplicateEffects: 0\n'.repeat(100))).expectations).toHaveLength(100);
  });

  it('problems in expect are reported beside the rules\' problems', () => {
    const text = 'name: a\nrules:\n  - id: r\n    faults: [explode]\nexpect:\n  - check: retry.bounded\n  - alertWithin: soon\n';
    expect(summary(refused(text)).map((p) => [p.line, p.path])).toEqual([
      [4, 'rules.0.faults.0'],
      [7, 'expect.1.alertWithin'],
    ]);
  });
});

describe('expect: through the admin API', () => {
  it('PUT /__admin/chaos refuses a bad expect with every problem and keeps the old profile; GET lists a good one', async () => {
    const s = await start();
    const put = (body: string) => call(`${s.url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body });
    const good = 'name: expecting\nrules: []\nexpect:\n  - { check: breaker.stopsDuringOutage, client: sf-sandbox }\n  - alertWithin: 2m\n';
    const ok = await put(good);
    expect(ok.status).toBe(200);
    expect(ok.body.expectations).toEqual([{ check: 'breaker.stopsDuringOutage', client: 'sf-sandbox' }, { alertWithin: '2m' }]);

    const bad = 'name: broken\nrules: []\nexpect:\n  - check: retry.bounced\n  - alertWithin: 2\n  - { maxDuplicateEffects: 0, colour: red }\n';
    const r = await put(bad);
    expect(r.status).toBe(400);
    expect(r.body.detail).toBe('The profile has 3 problem(s); the active profile is unchanged.');
    expect(r.body.errors).toEqual([
      { ...at(bad, 'retry.bounced'), path: 'expect.0.check', message: 'unknown check "retry.bounced" (did you mean retry.bounded?)' },
      { ...at(bad, '2\n'), path: 'expect.1.alertWithin', message: 'must be a duration such as 250ms, 5s, 2m, 1h or 1d' },
      { ...at(bad, 'colour'), path: 'expect.2.colour', message: expect.stringMatching(/^unknown expectation key/) },
    ]);
    const still = (await call(`${s.url}/__admin/chaos`)).body;
    expect(still.profile.name).toBe('expecting');
    expect(still.expectations).toHaveLength(2);
  });
});

describe('the built-in drills', () => {
  it('state expectations, and name every phase for what happens in it', () => {
    const drills = { 'payment-outage': 7, 'wms-rate-limits': 4, 'duplicate-webhooks': 1, 'erp-brownout': 5 };
    expect(builtInProfiles()).toEqual(expect.arrayContaining(Object.keys(drills)));
    for (const [name, count] of Object.entries(drills)) expect(loadProfile(name).expectations, name).toHaveLength(count);
    expect(loadProfile('payment-outage').phases.map((p) => p.name)).toEqual(['calm', 'errors', 'outage', 'recovery', 'calm-again']);
    expect(loadProfile('wms-rate-limits').phases.map((p) => p.name)).toEqual(['calm', 'limited', 'calm-again']);
    expect(loadProfile('erp-brownout').phases.map((p) => p.name)).toEqual(['calm', 'brownout', 'backend-down', 'calm-again']);
    expect(loadProfile('payment-outage').expectations.map((e) => e.written)).toContainEqual({ check: 'breaker.stopsDuringOutage' });
    expect(loadProfile('duplicate-webhooks').expectations).toEqual([{ kind: 'check', check: 'deliveries.ack', written: { check: 'deliveries.ack' } }]);
    // the other built-ins are fault profiles, not drills: they judge nothing
    for (const name of ['calm', 'brownout', 'outage-drill', 'rate-limited']) expect(loadProfile(name).expectations, name).toEqual([]);
  });
});
