/**
 * Chaos profiles (PRODUCT.md §4): read from YAML or JSON, checked, and compiled into rules ready for the chaos
 * stage. Every problem is reported at once with the file, line and column (via YamlSource) and what was
 * expected; nothing of a broken profile is ever activated. Checked here so that a profile can never fail at
 * request time: unknown kinds, bad durations, probabilities outside 0..1, windows that can never be open,
 * dangerous regular expressions, duplicate rule ids, and (given what the server mounts) match values that name
 * no mounted system, operation or route. The `deliveries:` section (webhook delivery chaos) is checked and
 * compiled by deliveries/chaos/delivery-rules.ts, and the `expect:` list (what a drill must show, judged by the
 * report card) by expect-section.ts; their problems are reported here with the others.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { SourceError, YamlSource, type SourceProblem } from '../config/yaml-source.js';
import { compileDeliveryRules, type CompiledDeliveryRule } from '../deliveries/chaos/delivery-rules.js';
import type { Expectation } from '../report/types.js';
import { DURATION_FORMAT, parseDuration } from '../util/units.js';
import { compileExpectations } from './expect-section.js';
import { FaultParamError, type FaultKind } from './faults/fault.js';
import { FAULT_KINDS, LATER_KINDS } from './faults/index.js';
import { compileMatch, type Matcher, type MatchProblem, type MountCatalogue } from './match.js';
import { compileLimiter, LIMITER_SCHEMA, type LimiterParams } from './policies/limiter.js';

export const PROFILES_DIR = fileURLToPath(new URL('../../chaos-profiles/', import.meta.url));

export interface CompiledFault {
  kind: FaultKind;
  params: unknown;
  probability: number;
  /** the parameters as written, for the journal */
  written: Record<string, unknown>;
}

export interface CompiledRule {
  id: string;
  match: Matcher;
  /** open from afterMs to afterMs + forMs after activation (or after the phase began, inside a timeline) */
  afterMs: number;
  forMs: number;
  faults: CompiledFault[];
  /** rateLimit / quota; each workspace keeps its own counts (see chaos-stage.ts) */
  limits: Array<{ kind: 'rateLimit' | 'quota'; params: LimiterParams }>;
}

export interface CompiledPhase {
  name: string;
  startMs: number;
  /** Infinity for an open-ended last phase */
  endMs: number;
  rules: CompiledRule[];
}

export interface CompiledProfile {
  name: string;
  description: string;
  seed?: number;
  /** where it came from: "built-in:NAME", a file path, or "admin API" */
  source: string;
  /** rules that apply throughout */
  rules: CompiledRule[];
  phases: CompiledPhase[];
  /** the `deliveries:` rules, applied when an event is queued for a subscriber (empty when absent) */
  deliveries: CompiledDeliveryRule[];
  /** the `expect:` list: what a drill with this profile must show (empty when absent) */
  expectations: Expectation[];
  /** the profile's own text, for GET /__admin/chaos */
  text: string;
  notes: string[];
}

// verbose: errors carry the schema they failed, so a duration given as a number is told a duration is expected
const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const DURATION_PATTERN = '^\\d+(\\.\\d+)?(ms|s|m|h|d)$';

function isDurationSchema(schema: unknown): boolean {
  return isMap(schema) && schema.pattern === DURATION_PATTERN;
}

/** enum values as a readable list: the schemas accept 503 and "503" alike, say it once */
function allowed(values: unknown[]): string {
  return [...new Set(values.map(String))].join(', ');
}
const paramValidators = new Map<string, ValidateFunction>();
function validatorFor(kind: string, schema: object): ValidateFunction {
  let v = paramValidators.get(kind);
  if (!v) paramValidators.set(kind, (v = ajv.compile(schema)));
  return v;
}

const RULE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const TOP_KEYS = ['name', 'description', 'seed', 'rules', 'timeline', 'deliveries', 'expect'];
const RULE_KEYS = ['id', 'match', 'when', 'faults', 'rateLimit', 'quota'];

type Path = Array<string | number>;

class Problems {
  readonly list: SourceProblem[] = [];
  constructor(private readonly source: YamlSource) {}
  add(path: Path, message: string, at: 'key' | 'value' = 'value'): void {
    this.list.push(this.source.problemAt(path, message, at));
  }
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function duration(value: unknown, path: Path, problems: Problems): number | undefined {
  if (typeof value !== 'string') {
    problems.add(path, `must be ${DURATION_FORMAT}`);
    return undefined;
  }
  try {
    return parseDuration(value);
  } catch {
    problems.add(path, `must be ${DURATION_FORMAT}`);
    return undefined;
  }
}

function compileFault(entry: unknown, path: Path, problems: Problems): CompiledFault | undefined {
  let kindName: string;
  let raw: unknown;
  if (typeof entry === 'string') {
    kindName = entry;
    raw = {};
  } else if (isMap(entry) && Object.keys(entry).length === 1) {
    kindName = Object.keys(entry)[0];
    raw = entry[kindName] ?? {};
  } else {
    problems.add(path, 'a fault is a kind name (- reset) or a map with one kind and its parameters (- latency: 300ms)');
    return undefined;
  }
  const kind = FAULT_KINDS.get(kindName);
  if (!kind) {
    const later = LATER_KINDS[kindName];
    problems.add(
      typeof entry === 'string' ? path : [...path, kindName],
      later ? `fault kind ${kindName} ${later}` : `unknown fault kind "${kindName}"; known: ${[...FAULT_KINDS.keys()].join(', ')}`,
      typeof entry === 'string' ? 'value' : 'key',
    );
    return undefined;
  }
  const at = typeof entry === 'string' ? path : [...path, kindName];
  let probability = 1;
  let params = raw;
  if (isMap(raw) && 'probability' in raw) {
    const { probability: p, ...rest } = raw;
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
      problems.add([...at, 'probability'], 'must be a number from 0 to 1');
      return undefined;
    }
    probability = p;
    params = rest;
  }
  const validate = validatorFor(kind.kind, kind.schema);
  if (!validate(params)) {
    if (!isMap(params) && 'anyOf' in kind.schema) {
      // the shorthand (latency: 300ms) or the map of parameters: neither fits
      problems.add(at, `must be ${DURATION_FORMAT}, or a map of ${kind.kind} parameters`);
      return undefined;
    }
    for (const e of validate.errors ?? []) {
      if (e.keyword === 'anyOf' || e.schemaPath.includes('/anyOf/0/')) continue; // the shorthand branch's own complaint
      const sub = e.instancePath.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
      if (e.keyword === 'additionalProperties') {
        const extra = (e.params as { additionalProperty: string }).additionalProperty;
        problems.add([...at, ...sub, extra], `unknown parameter of ${kind.kind}`, 'key');
      } else if (e.keyword === 'pattern' || isDurationSchema(e.parentSchema)) problems.add([...at, ...sub], `must be ${DURATION_FORMAT}`);
      else if (e.keyword === 'enum') problems.add([...at, ...sub], `must be one of ${allowed((e.params as { allowedValues: unknown[] }).allowedValues)}`);
      else problems.add([...at, ...sub], e.message ?? 'is invalid');
    }
    return undefined;
  }
  try {
    return { kind, params: kind.compile(params), probability, written: isMap(params) ? params : { value: params } };
  } catch (err) {
    const param = err instanceof FaultParamError ? err.param : undefined;
    problems.add(param ? [...at, param] : at, (err as Error).message);
    return undefined;
  }
}

/** what every rule of one profile is compiled with */
interface RuleContext {
  problems: Problems;
  ids: Set<string>;
  catalogue?: MountCatalogue;
}

function compileRule(raw: unknown, path: Path, { problems, ids, catalogue }: RuleContext, phaseMs: number): CompiledRule | undefined {
  if (!isMap(raw)) {
    problems.add(path, 'a rule is a map with id, match, when, faults, rateLimit, quota');
    return undefined;
  }
  for (const key of Object.keys(raw)) if (!RULE_KEYS.includes(key)) problems.add([...path, key], `unknown rule field; use ${RULE_KEYS.join(', ')}`, 'key');
  const id = raw.id;
  if (typeof id !== 'string' || !RULE_ID.test(id)) problems.add([...path, 'id'], 'every rule needs an id: 1-64 of A-Z a-z 0-9 . _ -');
  else if (ids.has(id)) problems.add([...path, 'id'], `the rule id ${id} is used twice`);
  else ids.add(id);
  const ruleId = typeof id === 'string' ? id : `rule-${path.join('.')}`;

  const matchProblems: MatchProblem[] = [];
  const match = compileMatch(raw.match, [...path, 'match'], matchProblems, catalogue);
  for (const p of matchProblems) problems.add(p.path, p.message);

  let afterMs = 0;
  let forMs = Infinity;
  if (raw.when !== undefined) {
    if (!isMap(raw.when)) problems.add([...path, 'when'], 'when is a map: { after: 30s, for: 2m }');
    else {
      for (const key of Object.keys(raw.when)) if (key !== 'after' && key !== 'for') problems.add([...path, 'when', key], 'unknown; use after and for', 'key');
      if (raw.when.after !== undefined) afterMs = duration(raw.when.after, [...path, 'when', 'after'], problems) ?? 0;
      if (raw.when.for !== undefined) {
        forMs = duration(raw.when.for, [...path, 'when', 'for'], problems) ?? Infinity;
        if (forMs === 0) problems.add([...path, 'when', 'for'], 'a window of 0 is never open');
      }
      if (afterMs >= phaseMs) problems.add([...path, 'when', 'after'], `the window never opens: its phase lasts only ${phaseMs} ms`);
    }
  }

  const faults: CompiledFault[] = [];
  if (raw.faults !== undefined) {
    if (!Array.isArray(raw.faults)) problems.add([...path, 'faults'], 'faults is a list');
    else if (raw.faults.length > 32) problems.add([...path, 'faults'], 'at most 32 faults per rule');
    else raw.faults.forEach((f, i) => {
      const compiled = compileFault(f, [...path, 'faults', i], problems);
      if (compiled) faults.push(compiled);
    });
  }
  const limits: CompiledRule['limits'] = [];
  for (const kind of ['rateLimit', 'quota'] as const) {
    const spec = raw[kind];
    if (spec === undefined) continue;
    const validate = validatorFor(`policy:${kind}`, LIMITER_SCHEMA);
    if (!validate(spec)) {
      for (const e of validate.errors ?? []) {
        const sub = e.instancePath.split('/').slice(1);
        if (e.keyword === 'additionalProperties') problems.add([...path, kind, ...sub, (e.params as { additionalProperty: string }).additionalProperty], `unknown parameter of ${kind}`, 'key');
        else if (sub[0] === 'per' && (e.keyword === 'pattern' || e.keyword === 'type')) problems.add([...path, kind, ...sub], `must be ${DURATION_FORMAT}`);
        else if (e.keyword === 'enum') problems.add([...path, kind, ...sub], `must be one of ${allowed((e.params as { allowedValues: unknown[] }).allowedValues)}`);
        else if (e.keyword === 'pattern' && sub[0] === 'by') problems.add([...path, kind, ...sub], 'must be client, ip, global or header:<name>');
        else problems.add([...path, kind, ...sub], e.message ?? 'is invalid');
      }
      continue;
    }
    try {
      const params = compileLimiter(spec, kind === 'quota' ? { by: 'global', algorithm: 'window' } : { by: 'client', algorithm: 'window' });
      limits.push({ kind, params });
    } catch (err) {
      problems.add([...path, kind], (err as Error).message);
    }
  }
  const noFaults = raw.faults === undefined || (Array.isArray(raw.faults) && raw.faults.length === 0);
  if (noFaults && raw.rateLimit === undefined && raw.quota === undefined) {
    problems.add(path, 'this rule does nothing: give it faults, a rateLimit or a quota');
  }
  return { id: ruleId, match, afterMs, forMs, faults, limits };
}

function compileRules(raw: unknown, path: Path, context: RuleContext, phaseMs: number): CompiledRule[] {
  const { problems } = context;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    problems.add(path, 'rules is a list');
    return [];
  }
  if (raw.length > 1000) {
    problems.add(path, 'at most 1000 rules');
    return [];
  }
  return raw.map((r, i) => compileRule(r, [...path, i], context, phaseMs)).filter((r): r is CompiledRule => r !== undefined);
}

/**
 * Checks and compiles a profile; throws SourceError listing every problem. `catalogue` is what the server
 * mounts: every caller that activates a profile passes it; without it match values are not checked against it.
 */
export function compileProfile(source: YamlSource, origin: string, catalogue?: MountCatalogue): CompiledProfile {
  const problems = new Problems(source);
  const doc = source.toJS();
  if (!isMap(doc)) {
    problems.add([], 'a profile is a map with name, description, rules (and/or timeline)');
    throw new SourceError(problems.list);
  }
  for (const key of Object.keys(doc)) if (!TOP_KEYS.includes(key)) problems.add([key], `unknown profile field; use ${TOP_KEYS.join(', ')}`, 'key');
  const name = doc.name ?? basename(source.file, extname(source.file));
  if (typeof name !== 'string' || name.length === 0 || name.length > 100) problems.add(['name'], 'name is a string of 1-100 characters');
  if (doc.description !== undefined && typeof doc.description !== 'string') problems.add(['description'], 'description is a string');
  if (doc.seed !== undefined && !(Number.isInteger(doc.seed) && (doc.seed as number) >= 0 && (doc.seed as number) <= 4294967295)) {
    problems.add(['seed'], 'seed is an integer from 0 to 4294967295');
  }
  const context: RuleContext = { problems, ids: new Set<string>(), catalogue };
  const rules = compileRules(doc.rules, ['rules'], context, Infinity);

  const phases: CompiledPhase[] = [];
  if (doc.timeline !== undefined) {
    if (!Array.isArray(doc.timeline) || doc.timeline.length === 0) problems.add(['timeline'], 'timeline is a non-empty list of phases');
    else {
      let start = 0;
      doc.timeline.forEach((phase, i) => {
        const at = ['timeline', i];
        if (!isMap(phase)) return problems.add(at, 'a phase is a map: { phase: name, for: 1m, rules: [...] }');
        for (const key of Object.keys(phase)) if (!['phase', 'for', 'rules'].includes(key)) problems.add([...at, key], 'unknown; use phase, for, rules', 'key');
        const last = i === (doc.timeline as unknown[]).length - 1;
        let length = Infinity;
        if (phase.for !== undefined) {
          length = duration(phase.for, [...at, 'for'], problems) ?? Infinity;
          if (length === 0) problems.add([...at, 'for'], 'a phase of 0 never happens');
        } else if (!last) problems.add(at, 'every phase but the last needs a length (for: 2m)');
        phases.push({
          name: typeof phase.phase === 'string' ? phase.phase : `phase ${i + 1}`,
          startMs: start,
          endMs: start + length,
          rules: compileRules(phase.rules, [...at, 'rules'], context, length),
        });
        start += length;
      });
    }
  }
  const deliveries = compileDeliveryRules(doc.deliveries, ['deliveries'], (path, message, at) => problems.add(path, message, at), catalogue);
  const expectations = compileExpectations(doc.expect, ['expect'], (path, message, at) => problems.add(path, message, at));
  const notes: string[] = [];
  if (problems.list.length) throw new SourceError(problems.list);
  return {
    name: name as string,
    description: (doc.description as string | undefined) ?? '',
    seed: doc.seed as number | undefined,
    source: origin,
    rules,
    phases,
    deliveries,
    expectations,
    text: source.text,
    notes,
  };
}

/** Names of the built-in profiles (files in chaos-profiles/). */
export function builtInProfiles(): string[] {
  return readdirSync(PROFILES_DIR)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .map((f) => basename(f, extname(f)))
    .sort();
}

function builtInFile(name: string): string | undefined {
  for (const ext of ['.yaml', '.yml', '.json']) {
    const file = join(PROFILES_DIR, name + ext);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** A built-in profile by name only (for the admin API, which must not read files by path). */
export function loadBuiltInProfile(name: string, catalogue?: MountCatalogue): CompiledProfile {
  const file = /^[a-z0-9-]{1,64}$/.test(name) ? builtInFile(name) : undefined;
  if (!file) {
    throw new SourceError([{ file: '(profile name)', line: 1, column: 1, path: '', message: `no such profile: "${name}" is not a built-in one (${builtInProfiles().join(', ')})` }]);
  }
  return compileProfile(YamlSource.read(file), `built-in:${name}`, catalogue);
}

/** A profile by built-in name or file path (command line and config file: the operator's choice). */
export function loadProfile(nameOrFile: string, catalogue?: MountCatalogue): CompiledProfile {
  const builtIn = isBuiltInProfile(nameOrFile) ? builtInFile(nameOrFile) : undefined;
  if (builtIn) return compileProfile(YamlSource.read(builtIn), `built-in:${nameOrFile}`, catalogue);
  if (!existsSync(nameOrFile)) {
    throw new SourceError([{ file: nameOrFile, line: 1, column: 1, path: '', message: `no such profile: not a built-in (${builtInProfiles().join(', ')}) and not a file` }]);
  }
  return compileProfile(YamlSource.read(nameOrFile), nameOrFile, catalogue);
}

/** Whether `name` names a built-in profile (a config file's `profile: calm` is a name, not a path). */
export function isBuiltInProfile(name: string): boolean {
  return /^[a-z0-9-]+$/.test(name) && builtInFile(name) !== undefined;
}

/** A profile sent as text (PUT /__admin/chaos). */
export function profileFromText(text: string, catalogue?: MountCatalogue, origin = 'admin API'): CompiledProfile {
  return compileProfile(new YamlSource('(request body)', text), origin, catalogue);
}
