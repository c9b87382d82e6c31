/**
 * The profile's `deliveries:` section (PRODUCT.md §4): checked and compiled like the request rules (every problem
 * reported at once, with its path, which profile.ts turns into a line and column), and turned into a delivery's
 * plan when an event is queued for a subscriber.
 *
 *   deliveries:
 *     - id: twice                                      # optional: deliveries-<index>
 *       match: { system: payments, event: "charge.*", subscription: sub_1 }   # each optional, a value or a list
 *       duplicate: { probability: 0.3, copies: 2, spacing: 2s }
 *       reorder: { window: 5, maxWait: 1s }
 *       delay: { distribution: uniform, min: 0s, max: 10s }
 *       drop: {}
 *
 * The faults stand directly on the rule (a rule is about one delivery, and a kind makes sense at most once in
 * it), unlike request rules' `faults` list. Everything is decided here, at load, so that a plan can never fail
 * when an event is queued; and a match value that can never fire (a typo in a system name) is refused, because a
 * drill that silently injects nothing is the worst way for it to fail.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { DURATION_SCHEMA, FaultParamError } from '../../chaos/faults/fault.js';
import { FAULT_KINDS } from '../../chaos/faults/index.js';
import { compileMatch, type MatchProblem, type MountCatalogue } from '../../chaos/match.js';
import { EVENT_PATTERN, matchesEvent, unknownPattern } from '../../events/event.js';
import { suggestion } from '../../util/did-you-mean.js';
import { seededRandom } from '../../util/seeded-random.js';
import { DURATION_FORMAT } from '../../util/units.js';
import { emptyPlan, type DeliveryFaultKind, type DeliveryPlan } from './delivery-fault.js';
import { DELIVERY_FAULT_KINDS } from './index.js';

export { reorderRank } from './reorder.js';

type Path = Array<string | number>;

/** Where compileDeliveryRules reports a problem: `at: 'key'` points at a key that should not be there. */
export type ProblemSink = (path: Path, message: string, at?: 'key' | 'value') => void;

/**
 * What the server mounts, for checking match values; `events` (event types by system name, for the systems that
 * emit events) also lets event patterns be checked against what can be emitted. Without it they are checked for
 * their form only.
 */
export interface DeliveryCatalogue extends MountCatalogue {
  events?: Readonly<Record<string, readonly string[]>>;
}

/** Which deliveries a rule applies to; an absent field matches everything. */
export interface DeliveryMatch {
  systems?: string[];
  /** event patterns: an exact type, `family.*` or `*` */
  events?: string[];
  subscriptions?: string[];
}

export interface CompiledDeliveryFault {
  kind: DeliveryFaultKind;
  params: unknown;
  probability: number;
}

export interface CompiledDeliveryRule {
  id: string;
  match: DeliveryMatch;
  /** in the order written */
  faults: CompiledDeliveryFault[];
}

/** The delivery a plan is for. */
export interface PlannedDelivery {
  system: string;
  eventType: string;
  subscription: string;
  /** how many events were queued for this subscription before this one (0 for the first) */
  ordinal: number;
}

const RULE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const KINDS = [...DELIVERY_FAULT_KINDS.keys()];
const RULE_KEYS = ['id', 'match', ...KINDS];
const MATCH_KEYS = ['system', 'event', 'subscription'];
/** request match fields, told apart from typos: they exist, but not for deliveries */
const REQUEST_MATCH_KEYS = ['method', 'path', 'operation', 'client', 'header', 'workspace'];
const MAX_RULES = 1000;

// verbose: errors carry the schema they failed, so that messages can say what the schema expected
const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validators = new Map<string, ValidateFunction>();
function validatorFor(kind: DeliveryFaultKind): ValidateFunction {
  let v = validators.get(kind.kind);
  if (!v) validators.set(kind.kind, (v = ajv.compile(kind.schema)));
  return v;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** enum values as a readable list: schemas may accept 503 and "503" alike, say it once */
function allowed(values: unknown[]): string {
  return [...new Set(values.map(String))].join(', ');
}

/**
 * Checks `params` against the kind's schema; reports each error where it is, in words that say what was
 * expected. True when they are valid.
 */
function checkParams(kind: DeliveryFaultKind, params: unknown, at: Path, add: ProblemSink): boolean {
  const validate = validatorFor(kind);
  if (validate(params)) return true;
  if (!isMap(params)) {
    // delay's shorthand (delay: 5s) or a map; the others take a map only
    add(at, 'anyOf' in kind.schema ? `must be ${DURATION_FORMAT}, or a map of ${kind.kind} parameters` : `${kind.kind} takes a map: ${kind.kind}: {} or ${kind.kind}: { probability: 0.5 }`);
    return false;
  }
  for (const e of validate.errors ?? []) {
    if (e.keyword === 'anyOf' || e.schemaPath.includes('/anyOf/0/')) continue; // the shorthand branch's own complaint
    const sub = e.instancePath.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
    const schema = e.parentSchema as Record<string, unknown> | undefined;
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys((kind.schema as { properties?: object }).properties ?? {});
      const otherwise = known.length ? `${kind.kind} takes ${[...known, 'probability'].join(', ')}` : `${kind.kind} takes only probability`;
      add([...at, ...sub, extra], `unknown parameter of ${kind.kind}${suggestion(extra, [...known, 'probability'], otherwise)}`, 'key');
    } else if (e.keyword === 'required') {
      add(at, `${kind.kind} needs "${(e.params as { missingProperty: string }).missingProperty}"`);
    } else if (schema?.pattern === DURATION_SCHEMA.pattern) add([...at, ...sub], `must be ${DURATION_FORMAT}`);
    else if (schema?.type === 'integer' && schema.minimum !== undefined && schema.maximum !== undefined) {
      add([...at, ...sub], `must be an integer from ${schema.minimum} to ${schema.maximum}`);
    } else if (e.keyword === 'enum') add([...at, ...sub], `must be one of ${allowed((e.params as { allowedValues: unknown[] }).allowedValues)}`);
    else add([...at, ...sub], e.message ?? 'is invalid');
  }
  return false;
}

/** One fault written on a rule: `drop: {}`, `drop:` (null), `delay: 5s`, `duplicate: { probability: 0.3, copies: 3 }`. */
function compileFault(kind: DeliveryFaultKind, raw: unknown, at: Path, add: ProblemSink): CompiledDeliveryFault | undefined {
  let params = raw ?? {};
  let probability = 1;
  if (isMap(params) && 'probability' in params) {
    const { probability: p, ...rest } = params;
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
      add([...at, 'probability'], 'must be a number from 0 to 1');
      return undefined;
    }
    probability = p;
    params = rest;
  }
  if (!checkParams(kind, params, at, add)) return undefined;
  try {
    return { kind, params: kind.compile(params), probability };
  } catch (err) {
    const param = err instanceof FaultParamError ? err.param : undefined;
    add(param ? [...at, param] : at, (err as Error).message);
    return undefined;
  }
}

/** A match field's values: one string or a non-empty list of them. */
function strings(value: unknown, at: Path, what: string, add: ProblemSink): string[] | undefined {
  if (typeof value === 'string' && value.length > 0) return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v.length > 0)) return value as string[];
  add(at, `must be ${what} or a non-empty list of them`);
  return undefined;
}

function compileDeliveryMatch(raw: unknown, at: Path, add: ProblemSink, catalogue?: DeliveryCatalogue): DeliveryMatch {
  if (raw === undefined || raw === null) return {};
  if (!isMap(raw)) {
    add(at, `match is a map of ${MATCH_KEYS.join(', ')}`);
    return {};
  }
  for (const key of Object.keys(raw)) {
    if (MATCH_KEYS.includes(key)) continue;
    if (REQUEST_MATCH_KEYS.includes(key)) add([...at, key], `${key} matches requests; a delivery rule matches ${MATCH_KEYS.join(', ')}`, 'key');
    else add([...at, key], `unknown delivery match field${suggestion(key, MATCH_KEYS, `use ${MATCH_KEYS.join(', ')}`)}`, 'key');
  }
  const match: DeliveryMatch = {};
  const where = (field: string, i: number): Path => [...at, field, ...(Array.isArray(raw[field]) ? [i] : [])];

  if (raw.system !== undefined) {
    const systems = strings(raw.system, [...at, 'system'], 'a system name', add);
    if (systems) {
      match.systems = systems;
      // the request rules' check, word for word ("no system named paymnets is mounted (did you mean payments?)")
      if (catalogue) {
        const problems: MatchProblem[] = [];
        compileMatch({ system: raw.system }, at, problems, catalogue);
        for (const p of problems) add(p.path, p.message);
      }
    }
  }

  if (raw.event !== undefined) {
    const events = strings(raw.event, [...at, 'event'], 'an event pattern (inventory.changed, inventory.* or *)', add);
    if (events) {
      match.events = events;
      // the types the rule's systems can emit (those of them that are mounted: the others were reported above);
      // every mounted system's when it names none
      const emitted = catalogue?.events;
      const mounted = new Set(catalogue?.systems.map((s) => s.name));
      const named = match.systems?.filter((s) => mounted.has(s));
      const scope = named?.length ? named : [...mounted];
      const known = emitted ? scope.flatMap((s) => emitted[s] ?? []) : undefined;
      events.forEach((pattern, i) => {
        if (!EVENT_PATTERN.test(pattern)) add(where('event', i), unknownPattern(pattern, [])!);
        else if (known !== undefined && known.length === 0) {
          add(where('event', i), named?.length ? `${named.join(' and ')} ${named.length === 1 ? 'emits' : 'emit'} no events` : 'no mounted system emits events');
        } else if (known !== undefined && !known.some((type) => matchesEvent(pattern, type))) {
          // a typo is near a type or a family: chrage.* → charge.*
          const candidates = [...new Set([...known, ...known.map((type) => type.split('.')[0] + '.*')])];
          const who = named?.length ? named.join(' or ') : 'a mounted system';
          add(where('event', i), `"${pattern}" matches no event ${who} emits${suggestion(pattern, candidates, `events: ${known.join(', ')}`)}`);
        }
      });
    }
  }

  if (raw.subscription !== undefined) {
    const subscriptions = strings(raw.subscription, [...at, 'subscription'], 'a subscription id', add);
    if (subscriptions) match.subscriptions = subscriptions;
  }
  return match;
}

function compileRule(raw: unknown, index: number, path: Path, add: ProblemSink, ids: Set<string>, catalogue?: DeliveryCatalogue): CompiledDeliveryRule | undefined {
  // every problem goes to `add`; undefined only when there is no rule to speak of
  const at = [...path, index];
  if (!isMap(raw)) {
    add(at, `a delivery rule is a map with id, match and its faults (${KINDS.join(', ')})`);
    return undefined;
  }
  const unknown = Object.keys(raw).filter((key) => !RULE_KEYS.includes(key));
  for (const key of unknown) {
    let message: string;
    if (key === 'faults') message = `delivery faults stand directly on the rule (duplicate: { copies: 2 }), not in a faults list; use ${KINDS.join(', ')}`;
    else if (key === 'latency') message = 'latency is a request fault; a delivery rule delays with delay (the same distributions)';
    else if (FAULT_KINDS.has(key) || ['when', 'rateLimit', 'quota'].includes(key)) message = `${key} applies to requests (rules:), not to deliveries; a delivery rule takes ${KINDS.join(', ')}`;
    else message = `unknown delivery rule field${suggestion(key, RULE_KEYS, `use ${RULE_KEYS.join(', ')}`)}`;
    add([...at, key], message, 'key');
  }

  let id = `deliveries-${index}`;
  if (raw.id !== undefined) {
    if (typeof raw.id !== 'string' || !RULE_ID.test(raw.id)) add([...at, 'id'], 'a delivery rule id is 1-64 of A-Z a-z 0-9 . _ -');
    else id = raw.id;
  }
  if (ids.has(id)) add(raw.id !== undefined ? [...at, 'id'] : at, `the delivery rule id ${id} is used twice`);
  ids.add(id);

  const match = compileDeliveryMatch(raw.match, [...at, 'match'], add, catalogue);

  const faults: CompiledDeliveryFault[] = [];
  const written = Object.keys(raw).filter((key) => DELIVERY_FAULT_KINDS.has(key));
  for (const key of written) {
    const compiled = compileFault(DELIVERY_FAULT_KINDS.get(key)!, raw[key], [...at, key], add);
    if (compiled) faults.push(compiled);
  }
  // a rule whose only keys are unknown ones was told what is wrong with them: that it does nothing follows
  if (written.length === 0 && unknown.length === 0) add(at, `this delivery rule does nothing: give it ${KINDS.slice(0, -1).join(', ')} or ${KINDS[KINDS.length - 1]}`);
  return { id, match, faults };
}

/**
 * Checks and compiles a profile's `deliveries:` section (`raw`, found at `path`), reporting every problem to
 * `add`; returns the rules that compiled without a problem (the caller refuses the profile when anything was
 * reported). With a
 * catalogue, `match.system` values must name mounted systems, and (when it lists events) `match.event` patterns
 * must match an event those systems emit.
 */
export function compileDeliveryRules(raw: unknown, path: Path, add: ProblemSink, catalogue?: DeliveryCatalogue): CompiledDeliveryRule[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    add(path, 'deliveries is a list of rules: - { match: {...}, duplicate: {...}, ... }');
    return [];
  }
  if (raw.length > MAX_RULES) {
    add(path, `at most ${MAX_RULES} delivery rules`);
    return [];
  }
  const ids = new Set<string>();
  const compiled: CompiledDeliveryRule[] = [];
  raw.forEach((r, i) => {
    // a rule with a problem is not returned at all: half a rule (its bad fault left out) would be a different rule
    let problems = 0;
    const counted: ProblemSink = (p, message, where) => {
      problems++;
      add(p, message, where);
    };
    const rule = compileRule(r, i, path, counted, ids, catalogue);
    if (rule && problems === 0) compiled.push(rule);
  });
  return compiled;
}

/** Whether a rule's match admits this delivery. */
export function matchesDelivery(match: DeliveryMatch, target: PlannedDelivery): boolean {
  if (match.systems && !match.systems.includes(target.system)) return false;
  if (match.events && !match.events.some((p) => matchesEvent(p, target.eventType))) return false;
  if (match.subscriptions && !match.subscriptions.includes(target.subscription)) return false;
  return true;
}

/**
 * The plan of one delivery: every matching rule, in order, applies its faults in the order written. Each fault's
 * probability is drawn once, and its values drawn after it, from seededRandom(seed, 'delivery', rule, kind,
 * subscription, ordinal): the same seed, subscriptions and traffic give the same plans whatever else is queued
 * meanwhile, and one fault's draws never shift another's. Where two faults set the same part of the plan the
 * later wins (and only its record stays); delays add up. plan.faults lists what was injected, as
 * { kind, rule, ...drawn values }.
 */
export function planDelivery(rules: readonly CompiledDeliveryRule[], target: PlannedDelivery, seed: number): DeliveryPlan {
  const plan = emptyPlan();
  for (const rule of rules) {
    if (!matchesDelivery(rule.match, target)) continue;
    for (const fault of rule.faults) {
      const random = seededRandom(seed, 'delivery', rule.id, fault.kind.kind, target.subscription, target.ordinal);
      // drawn only below 1, as the request faults do: a certain fault's values come first in its stream
      if (fault.probability < 1 && random() >= fault.probability) continue;
      const drawn = fault.kind.apply(plan, fault.params, random);
      const aspect = fault.kind.aspect;
      if (aspect !== undefined) {
        plan.faults = plan.faults.filter((f) => DELIVERY_FAULT_KINDS.get(f.kind as string)?.aspect !== aspect);
      }
      plan.faults.push({ kind: fault.kind.kind, rule: rule.id, ...drawn });
    }
  }
  return plan;
}
