/**
 * Delivery chaos rules (the profile's `deliveries:` section). Two halves:
 *  - compiling, through profileFromText as a user meets it (and once through PUT /__admin/chaos): every bad input
 *    is refused with its line, column, path and a message saying what was expected (unknown keys with "did you
 *    mean", rules with no fault, bad durations, probabilities outside 0..1, out-of-range copies and windows,
 *    parameters on parameterless kinds, bad event patterns, systems that are not mounted); valid shapes load
 *    with their defaults.
 *  - planning: planDelivery is deterministic (same seed, rule, subscription and ordinal → the same plan),
 *    probability 0 never fires and 1 always does, copies become duplicates, matches filter, later rules win on
 *    what they set and delays add up; reorderRank is a seeded permutation that is never the identity.
 */
import { describe, expect, it } from 'vitest';
import { catalogueOf } from '../../../src/chaos/match.js';
import { builtInProfiles, loadProfile, profileFromText } from '../../../src/chaos/profile.js';
import { SourceError, type SourceProblem } from '../../../src/config/yaml-source.js';
import {
  compileDeliveryRules,
  planDelivery,
  reorderRank,
  type CompiledDeliveryRule,
  type DeliveryCatalogue,
  type PlannedDelivery,
} from '../../../src/deliveries/chaos/delivery-rules.js';
import { buildSystems } from '../../../src/server.js';
import { call, start } from '../../helpers.js';
import { at, summary } from '../../chaos/source-problems.js';

const DURATION = 'must be a duration such as 250ms, 5s, 2m, 1h or 1d';

/** The problems a profile text is refused with; fails the test if it is accepted. */
function refused(text: string, catalogue?: DeliveryCatalogue): SourceProblem[] {
  try {
    profileFromText(text, catalogue);
  } catch (err) {
    if (err instanceof SourceError) return err.problems;
    throw err;
  }
  throw new Error(`accepted:\n${text}`);
}



/** the single problem of a profile with one delivery rule whose body is `lines` (YAML, indented 4) */
function oneProblem(...lines: string[]): { line: number; column: number; path: string; message: string } & { text: string } {
  const text = `name: d\ndeliveries:\n  - id: r\n${lines.map((l) => `    ${l}\n`).join('')}`;
  const problems = summary(refused(text));
  expect(problems, text).toHaveLength(1);
  return { ...problems[0], text };
}

/** the compiled delivery rules of a profile text */
function rules(yaml: string, catalogue?: DeliveryCatalogue): CompiledDeliveryRule[] {
  return profileFromText(`name: d\ndeliveries:\n${yaml}`, catalogue).deliveries;
}

const delivery = (ordinal: number, over: Partial<PlannedDelivery> = {}): PlannedDelivery => ({
  system: 'wms',
  eventType: 'inventory.changed',
  subscription: 'sub_1',
  ordinal,
  ...over,
});

describe('compiling deliveries: bad input is refused with line, column, path and what was expected', () => {
  it('unknown rule keys, with "did you mean"; request-only keys say where they belong', () => {
    const text = `name: d
deliveries:
  - id: a
    dupliate: { copies: 2 }
    drop: {}
  - id: b
    faults: [ { duplicate: {} } ]
  - id: c
    latency: 5s
  - id: e
    rateLimit: { requests: 5, per: 1m }
    drop: {}
  - id: f
    colour: red
    drop: {}
`;
    expect(summary(refused(text))).toEqual([
      { ...at(text, 'dupliate'), path: 'deliveries.0.dupliate', message: 'unknown delivery rule field (did you mean duplicate?)' },
      {
        ...at(text, 'faults'),
        path: 'deliveries.1.faults',
        message: 'delivery faults stand directly on the rule (duplicate: { copies: 2 }), not in a faults list; use duplicate, reorder, delay, drop, badSignature, staleTimestamp',
      },
      { ...at(text, 'latency'), path: 'deliveries.2.latency', message: 'latency is a request fault; a delivery rule delays with delay (the same distributions)' },
      {
        ...at(text, 'rateLimit'),
        path: 'deliveries.3.rateLimit',
        message: 'rateLimit applies to requests (rules:), not to deliveries; a delivery rule takes duplicate, reorder, delay, drop, badSignature, staleTimestamp',
      },
      { ...at(text, 'colour'), path: 'deliveries.4.colour', message: 'unknown delivery rule field; use id, match, duplicate, reorder, delay, drop, badSignature, staleTimestamp' },
    ]);
  });

  it('unknown match fields; request match fields say they match requests', () => {
    const text = `name: d\ndeliveries:\n  - match: { sytem: wms, path: /wms/v1/items, evnt: "*" }\n    drop: {}\n`;
    expect(summary(refused(text))).toEqual([
      { ...at(text, 'sytem'), path: 'deliveries.0.match.sytem', message: 'unknown delivery match field (did you mean system?)' },
      { ...at(text, 'path'), path: 'deliveries.0.match.path', message: 'path matches requests; a delivery rule matches system, event, subscription' },
      { ...at(text, 'evnt'), path: 'deliveries.0.match.evnt', message: 'unknown delivery match field (did you mean event?)' },
    ]);
  });

  it('a rule with no fault does nothing and is refused', () => {
    const p = oneProblem('match: { system: wms }');
    expect(p).toMatchObject({ line: 3, column: 5, path: 'deliveries.0', message: 'this delivery rule does nothing: give it duplicate, reorder, delay, drop, badSignature or staleTimestamp' });
    expect(summary(refused(`deliveries:\n  - {}\n`))[0]).toMatchObject({ line: 2, path: 'deliveries.0', message: expect.stringMatching(/does nothing/) });
  });

  it('bad durations in spacing, maxWait and delay, as a shorthand or a distribution', () => {
    for (const [line, path] of [
      ['duplicate: { spacing: 2 seconds }', 'deliveries.0.duplicate.spacing'],
      ['duplicate: { spacing: 5 }', 'deliveries.0.duplicate.spacing'],
      ['reorder: { window: 5, maxWait: soon }', 'deliveries.0.reorder.maxWait'],
      ['delay: { distribution: uniform, min: 0s, max: ten }', 'deliveries.0.delay.max'],
      ['delay: { distribution: fixed, value: -1s }', 'deliveries.0.delay.value'],
    ]) {
      const p = oneProblem(line);
      expect(p, line).toMatchObject({ line: 4, path, message: DURATION });
      expect(p.column, line).toBe(at(p.text, path.split('.').pop()!).column + path.split('.').pop()!.length + 2);
    }
    expect(oneProblem('delay: soon')).toMatchObject({ line: 4, column: 12, path: 'deliveries.0.delay', message: `${DURATION}, or a map of delay parameters` });
  });

  it('probabilities outside 0..1, or not numbers, on every kind', () => {
    for (const kind of ['duplicate', 'reorder', 'delay', 'drop', 'badSignature', 'staleTimestamp']) {
      for (const p of ['1.5', '-0.1', '"0.5"', 'often']) {
        const extra = kind === 'reorder' ? ', window: 3' : kind === 'delay' ? ', distribution: fixed, value: 1s' : '';
        const line = `${kind}: { probability: ${p}${extra} }`;
        const problem = oneProblem(line);
        expect(problem, line).toMatchObject({ line: 4, path: `deliveries.0.${kind}.probability`, message: 'must be a number from 0 to 1' });
        expect(problem.column, line).toBe(at(problem.text, p).column);
      }
    }
  });

  it('copies and window outside their ranges, and maxWait 0', () => {
    for (const copies of ['1', '11', '2.5', '"2"']) {
      expect(oneProblem(`duplicate: { copies: ${copies} }`), copies).toMatchObject({ line: 4, path: 'deliveries.0.duplicate.copies', message: 'must be an integer from 2 to 10' });
    }
    for (const window of ['1', '1001', '0', '4.5']) {
      expect(oneProblem(`reorder: { window: ${window} }`), window).toMatchObject({ line: 4, path: 'deliveries.0.reorder.window', message: 'must be an integer from 2 to 1000' });
    }
    expect(oneProblem('reorder: { maxWait: 2s }')).toMatchObject({ line: 4, path: 'deliveries.0.reorder', message: 'reorder needs "window"' });
    expect(oneProblem('reorder:')).toMatchObject({ line: 4, path: 'deliveries.0.reorder', message: 'reorder needs "window"' });
    expect(oneProblem('reorder: { window: 3, maxWait: 0s }')).toMatchObject({ line: 4, path: 'deliveries.0.reorder.maxWait', message: expect.stringMatching(/^maxWait must be above 0/) });
  });

  it('parameterless kinds refuse parameters and non-maps; unknown parameters are named', () => {
    expect(oneProblem('drop: { count: 1 }')).toMatchObject({ line: 4, path: 'deliveries.0.drop.count', message: 'unknown parameter of drop; drop takes only probability' });
    expect(oneProblem('badSignature: true')).toMatchObject({ line: 4, path: 'deliveries.0.badSignature', message: 'badSignature takes a map: badSignature: {} or badSignature: { probability: 0.5 }' });
    expect(oneProblem('staleTimestamp: 600s')).toMatchObject({ path: 'deliveries.0.staleTimestamp', message: expect.stringMatching(/takes a map/) });
    expect(oneProblem('duplicate: { copies: 2, spaceing: 1s }')).toMatchObject({ path: 'deliveries.0.duplicate.spaceing', message: 'unknown parameter of duplicate (did you mean spacing?)' });
    expect(oneProblem('reorder: { window: 3, size: 4 }')).toMatchObject({ path: 'deliveries.0.reorder.size', message: 'unknown parameter of reorder; reorder takes window, maxWait, probability' });
  });

  it("delay's parameters are latency's, with latency's checks", () => {
    expect(oneProblem('delay: { distribution: uniform, min: 2s, max: 1s }')).toMatchObject({ path: 'deliveries.0.delay.max', message: 'max is below min' });
    expect(oneProblem('delay: { distribution: lognormal, median: 1s }')).toMatchObject({ path: 'deliveries.0.delay.p99', message: 'the lognormal distribution needs "p99"' });
    expect(oneProblem('delay: { distribution: gamma, value: 1s }')).toMatchObject({ path: 'deliveries.0.delay.distribution', message: 'must be one of fixed, uniform, normal, lognormal, pareto' });
    expect(oneProblem('delay: { value: 1s }')).toMatchObject({ path: 'deliveries.0.delay', message: 'delay needs "distribution"' });
  });

  it('match values: event patterns, lists, and the shape of each field', () => {
    expect(oneProblem('match: { event: Charge.Succeeded }', 'drop: {}')).toMatchObject({
      line: 4,
      path: 'deliveries.0.match.event',
      message: '"Charge.Succeeded" is not an event pattern (a type such as inventory.changed, a family such as inventory.*, or *)',
    });
    expect(oneProblem('match: { event: [inventory.changed, "inventory.**"] }', 'drop: {}')).toMatchObject({ path: 'deliveries.0.match.event.1', message: expect.stringMatching(/is not an event pattern/) });
    expect(oneProblem('match: { event: [] }', 'drop: {}')).toMatchObject({ path: 'deliveries.0.match.event', message: 'must be an event pattern (inventory.changed, inventory.* or *) or a non-empty list of them' });
    expect(oneProblem('match: { subscription: 42 }', 'drop: {}')).toMatchObject({ path: 'deliveries.0.match.subscription', message: 'must be a subscription id or a non-empty list of them' });
    expect(oneProblem('match: { system: { name: wms } }', 'drop: {}')).toMatchObject({ path: 'deliveries.0.match.system', message: 'must be a system name or a non-empty list of them' });
    expect(oneProblem('match: [wms]', 'drop: {}')).toMatchObject({ path: 'deliveries.0.match', message: 'match is a map of system, event, subscription' });
  });

  it('ids: optional, well-formed, not used twice (a default id counts)', () => {
    expect(summary(refused(`deliveries:\n  - id: "two words"\n    drop: {}\n`))).toEqual([
      { line: 2, column: 9, path: 'deliveries.0.id', message: 'a delivery rule id is 1-64 of A-Z a-z 0-9 . _ -' },
    ]);
    const text = `deliveries:\n  - id: x\n    drop: {}\n  - id: x\n    drop: {}\n  - id: deliveries-3\n    drop: {}\n  - drop: {}\n`;
    expect(summary(refused(text))).toEqual([
      { line: 4, column: 9, path: 'deliveries.1.id', message: 'the delivery rule id x is used twice' },
      { line: 8, column: 5, path: 'deliveries.3', message: 'the delivery rule id deliveries-3 is used twice' },
    ]);
  });

  it('a section that is not a list, rules that are not maps, and too many rules', () => {
    expect(summary(refused(`name: d\ndeliveries: { duplicate: {} }\n`))).toEqual([
      { line: 2, column: 13, path: 'deliveries', message: 'deliveries is a list of rules: - { match: {...}, duplicate: {...}, ... }' },
    ]);
    expect(summary(refused(`deliveries:\n  - drop\n`))[0]).toMatchObject({ line: 2, path: 'deliveries.0', message: expect.stringMatching(/^a delivery rule is a map/) });
    const many = `deliveries:\n${'  - { drop: {} }\n'.repeat(1001)}`;
    expect(summary(refused(many))).toEqual([{ line: 2, column: 3, path: 'deliveries', message: 'at most 1000 delivery rules' }]);
  });

  it('given what is mounted, a system that is not is refused with "did you mean"', async () => {
    const catalogue = catalogueOf(await buildSystems({ systems: { wms: { skus: 5 } } }));
    const text = `name: d\ndeliveries:\n  - match: { system: wsm }\n    drop: {}\n  - match: { system: [wms, crm] }\n    drop: {}\n`;
    expect(summary(refused(text, catalogue))).toEqual([
      { ...at(text, 'wsm'), path: 'deliveries.0.match.system', message: 'no system named wsm is mounted (did you mean wms?)' },
      { ...at(text, 'crm'), path: 'deliveries.1.match.system.1', message: 'no system named crm is mounted; mounted: wms, payments, alerts, erp, outbound, oauth' },
    ]);
    // without a catalogue only the form is checked
    expect(rules(`  - match: { system: wsm }\n    drop: {}\n`)[0].match).toEqual({ systems: ['wsm'] });
    expect(rules(`  - match: { system: wms }\n    drop: {}\n`, catalogue)[0].match).toEqual({ systems: ['wms'] });
  });

  it('given the events systems emit, a pattern that matches none is refused, with a suggestion when one is near', () => {
    const catalogue: DeliveryCatalogue = {
      systems: [
        { name: 'wms', mount: '/wms/v1' },
        { name: 'payments', mount: '/payments/v1' },
        { name: 'erp', mount: '/erp' },
      ],
      events: { wms: ['inventory.changed', 'reservation.created'], payments: ['charge.succeeded', 'charge.failed'] },
    };
    const text = `name: d
deliveries:
  - match: { system: payments, event: "chrage.*" }
    drop: {}
  - match: { system: wms, event: charge.succeeded }
    drop: {}
  - match: { event: shipment.lost }
    drop: {}
  - match: { system: erp, event: "*" }
    drop: {}
`;
    expect(summary(refused(text, catalogue))).toEqual([
      { ...at(text, '"chrage'), path: 'deliveries.0.match.event', message: '"chrage.*" matches no event payments emits (did you mean charge.*?)' },
      { ...at(text, 'charge.succeeded'), path: 'deliveries.1.match.event', message: '"charge.succeeded" matches no event wms emits; events: inventory.changed, reservation.created' },
      {
        ...at(text, 'shipment.lost'),
        path: 'deliveries.2.match.event',
        message: '"shipment.lost" matches no event a mounted system emits; events: inventory.changed, reservation.created, charge.succeeded, charge.failed',
      },
      { ...at(text, '"*"'), path: 'deliveries.3.match.event', message: 'erp emits no events' },
    ]);
    expect(rules(`  - match: { system: payments, event: ["charge.*", charge.failed] }\n    drop: {}\n`, catalogue)[0].match.events).toEqual(['charge.*', 'charge.failed']);
  });

  it('every problem of a section at once, with the request rules\' problems', () => {
    const text = `name: d
rules:
  - id: r
    faults: [explode]
deliveries:
  - duplicate: { copies: 20 }
    delay: 5 seconds
  - reorder: { window: 5, probability: 2 }
`;
    expect(summary(refused(text)).map((p) => [p.line, p.path])).toEqual([
      [4, 'rules.0.faults.0'],
      [6, 'deliveries.0.duplicate.copies'],
      [7, 'deliveries.0.delay'],
      [8, 'deliveries.1.reorder.probability'],
    ]);
  });

  it('PUT /__admin/chaos answers 400 with line and path for a broken deliveries section, and keeps the old profile', async () => {
    const s = await start({ profile: 'brownout', systems: { wms: { skus: 5 } } });
    const body = `name: hooks\ndeliveries:\n  - match: { system: wsm }\n    duplicate: { copies: 2, spacing: 2 s }\n`;
    const r = await call(`${s.url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body });
    expect(r.status).toBe(400);
    expect(r.body.type).toBe('urn:understudy:problem:invalid-profile');
    expect(r.body.errors).toEqual([
      { ...at(body, 'wsm'), path: 'deliveries.0.match.system', message: 'no system named wsm is mounted (did you mean wms?)' },
      { ...at(body, '2 s'), path: 'deliveries.0.duplicate.spacing', message: DURATION },
    ]);
    expect((await call(`${s.url}/__admin/chaos`)).body.profile.name).toBe('brownout');
    const ok = await call(`${s.url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: body.replace('wsm', 'wms').replace('2 s', '2s') });
    expect(ok.status).toBe(200);
    expect(ok.body.profile.notes).toEqual([]);
  });
});

describe('compiling deliveries: valid shapes load with their defaults', () => {
  it('defaults: ids deliveries-<index>, probability 1, copies 2, spacing 0, maxWait 1s', () => {
    const compiled = rules(`  - duplicate: {}\n    reorder: { window: 2 }\n  - id: named\n    duplicate:\n    drop:\n    badSignature: {}\n    staleTimestamp: { probability: 0.25 }\n    delay: 300ms\n`);
    expect(compiled.map((r) => r.id)).toEqual(['deliveries-0', 'named']);
    expect(compiled[0].faults.map((f) => [f.kind.kind, f.params, f.probability])).toEqual([
      ['duplicate', { copies: 2, spacingMs: 0 }, 1],
      ['reorder', { window: 2, maxWaitMs: 1_000 }, 1],
    ]);
    expect(compiled[1].faults.map((f) => [f.kind.kind, f.probability])).toEqual([
      ['duplicate', 1],
      ['drop', 1],
      ['badSignature', 1],
      ['staleTimestamp', 0.25],
      ['delay', 1],
    ]);
    expect(compiled[0].match).toEqual({});
  });

  it('an absent or empty section is no rules; the profile carries no note about it', () => {
    expect(profileFromText(`name: d\nrules: []\n`).deliveries).toEqual([]);
    expect(profileFromText(`name: d\ndeliveries: []\n`).deliveries).toEqual([]);
    expect(profileFromText(`name: d\ndeliveries:\n`).deliveries).toEqual([]);
    expect(profileFromText(`name: d\ndeliveries: [ { drop: {} } ]\n`).notes).toEqual([]);
  });

  it('the example of PRODUCT.md §4 loads as written', () => {
    const compiled = rules(`  - match: { system: payments, event: "charge.*" }
    duplicate: { probability: 0.3, copies: 2, spacing: 2s }
    reorder: { window: 5 }
    delay: { distribution: uniform, min: 0s, max: 10s }
`);
    expect(compiled).toHaveLength(1);
    expect(compiled[0].match).toEqual({ systems: ['payments'], events: ['charge.*'] });
    expect(compiled[0].faults.map((f) => [f.kind.kind, f.probability])).toEqual([
      ['duplicate', 0.3],
      ['reorder', 1],
      ['delay', 1],
    ]);
  });

  it('the built-in duplicate-webhooks drill loads against the default systems: every event twice, in shuffled windows', async () => {
    expect(builtInProfiles()).toContain('duplicate-webhooks');
    const profile = loadProfile('duplicate-webhooks', catalogueOf(await buildSystems({})));
    expect(profile).toMatchObject({ name: 'duplicate-webhooks', source: 'built-in:duplicate-webhooks', rules: [], phases: [], notes: [] });
    expect(profile.deliveries.map((r) => [r.id, r.match, r.faults.map((f) => [f.kind.kind, f.params, f.probability])])).toEqual([
      ['twice', {}, [['duplicate', { copies: 2, spacingMs: 2_000 }, 1]]],
      ['out-of-order', {}, [['reorder', { window: 5, maxWaitMs: 2_000 }, 1]]],
    ]);
  });

  it('compileDeliveryRules reports to the sink it is given, with paths under the one it is handed', () => {
    const seen: Array<[string, string, string | undefined]> = [];
    const compiled = compileDeliveryRules([{ drop: {} }, { drop: { probability: 3 } }], ['phase', 'deliveries'], (path, message, where) => seen.push([path.join('.'), message, where]));
    expect(compiled.map((r) => r.id)).toEqual(['deliveries-0']);
    expect(seen).toEqual([['phase.deliveries.1.drop.probability', 'must be a number from 0 to 1', undefined]]);
  });
});

describe('planDelivery', () => {
  const jittery = () => rules(`  - id: slow\n    delay: { distribution: uniform, min: 0s, max: 10s }\n  - id: lossy\n    drop: { probability: 0.5 }\n    duplicate: { probability: 0.5, copies: 3, spacing: 1s }\n`);

  it('is deterministic: the same seed, rules, subscription and ordinal give the same plan, from separately compiled profiles', () => {
    for (let ordinal = 0; ordinal < 50; ordinal++) {
      expect(planDelivery(jittery(), delivery(ordinal), 42)).toEqual(planDelivery(jittery(), delivery(ordinal), 42));
    }
  });

  it('records what was injected as { kind, rule, ...drawn values }', () => {
    const plan = planDelivery(rules(`  - id: slow\n    delay: { distribution: uniform, min: 100ms, max: 900ms }\n`), delivery(0), 42);
    expect(plan.faults).toEqual([{ kind: 'delay', rule: 'slow', ms: plan.delayMs }]);
    expect(plan.delayMs).toBeGreaterThanOrEqual(100);
    expect(plan.delayMs).toBeLessThanOrEqual(900);
    expect(Number.isInteger(plan.delayMs)).toBe(true);
    const all = planDelivery(rules(`  - id: all\n    duplicate: { copies: 3, spacing: 2s }\n    reorder: { window: 4 }\n    drop: {}\n    staleTimestamp: {}\n`), delivery(0), 1);
    expect(all).toEqual({
      delayMs: 0,
      dropFirst: true,
      signatureFault: 'staleTimestamp',
      duplicates: 2,
      spacingMs: 2_000,
      reorder: { window: 4, maxWaitMs: 1_000 },
      faults: [
        { kind: 'duplicate', rule: 'all', copies: 3, spacingMs: 2_000 },
        { kind: 'reorder', rule: 'all', window: 4, maxWaitMs: 1_000 },
        { kind: 'drop', rule: 'all' },
        { kind: 'staleTimestamp', rule: 'all', staleByS: 600 },
      ],
    });
  });

  it('draws differently for different ordinals, subscriptions and seeds', () => {
    const compiled = jittery();
    const delays = (over: Partial<PlannedDelivery>, seed = 42) => Array.from({ length: 40 }, (_, i) => planDelivery(compiled, delivery(i, over), seed).delayMs);
    const base = delays({});
    expect(new Set(base).size).toBeGreaterThan(35);
    expect(delays({ subscription: 'sub_2' })).not.toEqual(base);
    expect(delays({}, 43)).not.toEqual(base);
    // the event's type or system plays no part in the draws, only in matching
    expect(delays({ eventType: 'reservation.created' })).toEqual(base);
  });

  it("a rule's draws do not depend on the rules before it", () => {
    const alone = rules(`  - id: slow\n    delay: { distribution: uniform, min: 0s, max: 10s }\n`);
    const after = rules(`  - id: first\n    duplicate: { probability: 0.5 }\n  - id: slow\n    delay: { distribution: uniform, min: 0s, max: 10s }\n`);
    for (let i = 0; i < 20; i++) expect(planDelivery(after, delivery(i), 7).delayMs).toBe(planDelivery(alone, delivery(i), 7).delayMs);
  });

  it('probability 0 never fires, 1 always does, and 0.3 about three times in ten', () => {
    const never = rules(`  - drop: { probability: 0 }\n    duplicate: { probability: 0 }\n`);
    const always = rules(`  - drop: { probability: 1 }\n    badSignature: {}\n`);
    const sometimes = rules(`  - drop: { probability: 0.3 }\n`);
    let fired = 0;
    for (let i = 0; i < 1000; i++) {
      const none = planDelivery(never, delivery(i), 5);
      expect(none.dropFirst || none.duplicates > 0 || none.faults.length > 0).toBe(false);
      const both = planDelivery(always, delivery(i), 5);
      expect(both.dropFirst && both.signatureFault === 'badSignature').toBe(true);
      if (planDelivery(sometimes, delivery(i), 5).dropFirst) fired++;
    }
    expect(fired).toBeGreaterThan(250);
    expect(fired).toBeLessThan(350);
  });

  it('copies are the total sends: duplicates = copies - 1; with probability 1 and copies 2 every event is sent twice', () => {
    for (const copies of [2, 3, 10]) {
      const plan = planDelivery(rules(`  - duplicate: { probability: 1, copies: ${copies}, spacing: 500ms }\n`), delivery(0), 1);
      expect(plan).toMatchObject({ duplicates: copies - 1, spacingMs: 500 });
    }
    const builtIn = loadProfile('duplicate-webhooks').deliveries;
    for (let i = 0; i < 100; i++) expect(1 + planDelivery(builtIn, delivery(i), i).duplicates).toBe(2);
  });

  it('matches on system, event pattern and subscription; an absent match takes everything', () => {
    const compiled = rules(`  - id: charges
    match: { system: payments, event: "charge.*" }
    drop: {}
  - id: one-sub
    match: { subscription: [sub_9, sub_7] }
    badSignature: {}
  - id: exact
    match: { event: [reservation.created, shipment.status_changed] }
    delay: 1s
  - id: everything
    delay: 2s
`);
    const ruleIds = (over: Partial<PlannedDelivery>) => planDelivery(compiled, delivery(0, over), 1).faults.map((f) => f.rule);
    expect(ruleIds({ system: 'payments', eventType: 'charge.failed' })).toEqual(['charges', 'everything']);
    expect(ruleIds({ system: 'payments', eventType: 'refund.succeeded' })).toEqual(['everything']);
    expect(ruleIds({ system: 'wms', eventType: 'charge.failed' })).toEqual(['everything']);
    expect(ruleIds({ subscription: 'sub_7' })).toEqual(['one-sub', 'everything']);
    expect(ruleIds({ eventType: 'reservation.created' })).toEqual(['exact', 'everything']);
    expect(ruleIds({ eventType: 'reservation.released' })).toEqual(['everything']);
    expect(planDelivery(compiled, delivery(0, { eventType: 'reservation.created' }), 1).delayMs).toBe(3_000);
  });

  it('when rules set the same thing the later one wins, and only its record stays; delays add up', () => {
    const compiled = rules(`  - id: a
    duplicate: { copies: 5, spacing: 1s }
    delay: 1s
    badSignature: {}
    reorder: { window: 10 }
  - id: b
    duplicate: { copies: 2 }
    delay: 250ms
    staleTimestamp: {}
  - id: c
    reorder: { window: 3, maxWait: 5s }
`);
    const plan = planDelivery(compiled, delivery(0), 1);
    expect(plan).toMatchObject({ duplicates: 1, spacingMs: 0, delayMs: 1_250, signatureFault: 'staleTimestamp', reorder: { window: 3, maxWaitMs: 5_000 } });
    expect(plan.faults.map((f) => `${f.rule}/${f.kind}`)).toEqual(['a/delay', 'b/duplicate', 'b/delay', 'b/staleTimestamp', 'c/reorder']);
  });
});

describe('reorderRank', () => {
  const isPermutation = (order: number[], size: number) => [...order].sort((a, b) => a - b).every((v, i) => v === i) && order.length === size;

  it('is a seeded permutation that is never the identity for two events or more', () => {
    for (const seed of [0, 1, 42, 4294967295]) {
      for (let size = 2; size <= 9; size++) {
        for (let windowIndex = 0; windowIndex < 150; windowIndex++) {
          const order = reorderRank(seed, 'sub_1', windowIndex, size);
          expect(isPermutation(order, size)).toBe(true);
          expect(order.some((v, i) => v !== i), `${seed}/${size}/${windowIndex}`).toBe(true);
        }
      }
    }
    expect(isPermutation(reorderRank(1, 's', 0, 1000), 1000)).toBe(true);
  });

  it('is deterministic, and varies with the seed, the subscription and the window', () => {
    const of = (seed: number, sub: string, w: number) => JSON.stringify(reorderRank(seed, sub, w, 8));
    expect(of(3, 'a', 1)).toBe(of(3, 'a', 1));
    const all = new Set<string>();
    for (let w = 0; w < 30; w++) all.add(of(3, 'a', w));
    expect(all.size).toBeGreaterThan(25);
    expect(of(4, 'a', 1)).not.toBe(of(3, 'a', 1));
    expect(of(3, 'b', 1)).not.toBe(of(3, 'a', 1));
  });

  it('uses every other order of a small window; two events always swap; zero or one stays as is', () => {
    const seen = new Set<string>();
    for (let w = 0; w < 300; w++) seen.add(reorderRank(9, 's', w, 3).join(''));
    expect([...seen].sort()).toEqual(['021', '102', '120', '201', '210']);
    for (let w = 0; w < 50; w++) expect(reorderRank(w, 's', w, 2)).toEqual([1, 0]);
    expect(reorderRank(1, 's', 0, 1)).toEqual([0]);
    expect(reorderRank(1, 's', 0, 0)).toEqual([]);
    expect(() => reorderRank(1, 's', 0, -1)).toThrow(RangeError);
    expect(() => reorderRank(1, 's', 0, 2.5)).toThrow(RangeError);
  });
});
