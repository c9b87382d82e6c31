/**
 * A rule's `match`, compiled into one predicate over an exchange. Every field is optional and all given fields
 * must hold. Values are exact strings or lists of them (any of); `client` and header values may also be
 * regular expressions written /like this/, refused at load when they could backtrack catastrophically.
 * `path` is the path the caller sees without /w/{workspace}: a template (/wms/v1/inventory/{sku}) or a glob
 * where * is one segment and ** any number.
 *
 * Given what the server mounts (a MountCatalogue), `system`, `operation`, `method` and `path` are also checked
 * against it: a typo there would otherwise load fine and never fire, which is the worst way for a chaos drill
 * to fail. `client`, `header` and `workspace` name things that only exist at request time and are not checked.
 */
import safeRegex from 'safe-regex2';
import type { Exchange } from '../engine/exchange.js';
import type { MountedSystem } from '../engine/system.js';
import { suggestion } from '../util/did-you-mean.js';

export type Matcher = (exchange: Exchange) => boolean;

export interface MatchProblem {
  path: Array<string | number>;
  message: string;
}

const MATCH_KEYS = ['system', 'method', 'path', 'operation', 'client', 'header', 'workspace'];

function list(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** exact value, or /regex/flags */
function valueTest(pattern: string, at: Array<string | number>, problems: MatchProblem[]): (v: string) => boolean {
  const m = /^\/(.+)\/([imsu]*)$/.exec(pattern);
  if (!m) return (v) => v === pattern;
  let re: RegExp;
  try {
    re = new RegExp(m[1], m[2]);
  } catch (err) {
    problems.push({ path: at, message: `not a valid regular expression: ${(err as Error).message}` });
    return () => false;
  }
  if (!safeRegex(re)) {
    problems.push({ path: at, message: `the regular expression ${pattern} could backtrack catastrophically; simplify it (no nested repetition)` });
    return () => false;
  }
  return (v) => re.test(v);
}

export function pathPattern(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      re += '[^/]+';
      i = end < 0 ? glob.length : end;
    } else re += c.replace(/[.+?^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}/?$`);
}

/** What the server mounts, as far as matching can tell: systems, their operations and routes. */
export interface MountCatalogue {
  systems: Array<{
    name: string;
    mount: string;
    /** absent when the system's protocol engine cannot list them: its operations and paths are then not checked */
    operations?: Array<{ id: string; method?: string; template: string }>;
  }>;
  /** event types by system, for the systems that emit events (delivery rules' `event` is checked against them) */
  events?: Readonly<Record<string, readonly string[]>>;
}

export function catalogueOf(systems: readonly MountedSystem[]): MountCatalogue {
  return {
    systems: systems.map((s) => ({
      name: s.name,
      mount: s.mount,
      operations: s.engine.operations?.map((op) => ({ id: op.id, method: op.method, template: op.template })),
    })),
    events: Object.fromEntries(systems.filter((s) => s.events).map((s) => [s.name, s.events!.types])),
  };
}

/**
 * Checks and compiles a rule's match. With a catalogue, values that can match nothing mounted are problems;
 * without one (unit tests, tools that mount nothing) only their form is checked.
 */
export function compileMatch(raw: unknown, at: Array<string | number>, problems: MatchProblem[], catalogue?: MountCatalogue): Matcher {
  if (raw === undefined) return () => true;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push({ path: at, message: 'match must be a map of system, method, path, operation, client, header, workspace' });
    return () => false;
  }
  const spec = raw as Record<string, unknown>;
  for (const key of Object.keys(spec)) {
    if (!MATCH_KEYS.includes(key)) problems.push({ path: [...at, key], message: `unknown match field; use ${MATCH_KEYS.join(', ')}` });
  }
  const tests: Matcher[] = [];
  const systems = list(spec.system);
  if (systems) tests.push((ex) => systems.includes(ex.system?.name ?? ''));
  const methods = list(spec.method)?.map((m) => m.toUpperCase());
  if (methods) tests.push((ex) => methods.includes(ex.method));
  const operations = list(spec.operation);
  if (operations) tests.push((ex) => operations.includes(ex.operation?.id ?? ''));
  // workspace names are case-insensitive (UAT = uat) and kept in lower case
  const workspaces = list(spec.workspace)?.map((w) => w.toLowerCase());
  if (workspaces) tests.push((ex) => workspaces.includes(ex.workspace.name));
  const paths = list(spec.path);
  if (paths) {
    const res = paths.map((p, i) => {
      if (!p.startsWith('/')) problems.push({ path: [...at, 'path', ...(Array.isArray(spec.path) ? [i] : [])], message: 'a path starts with /' });
      return pathPattern(p);
    });
    tests.push((ex) => res.some((re) => re.test(ex.path)));
  }
  const clients = list(spec.client)?.map((c, i) => valueTest(c, [...at, 'client', ...(Array.isArray(spec.client) ? [i] : [])], problems));
  if (clients) tests.push((ex) => clients.some((t) => t(ex.client)));
  if (spec.header !== undefined) {
    if (spec.header === null || typeof spec.header !== 'object' || Array.isArray(spec.header)) {
      problems.push({ path: [...at, 'header'], message: 'header must be a map of header name to value or /regex/' });
    } else {
      const headerTests = Object.entries(spec.header as Record<string, unknown>).map(([name, value]) => {
        const lower = name.toLowerCase();
        const test = valueTest(String(value), [...at, 'header', name], problems);
        return (ex: Exchange) => {
          const v = ex.headers[lower];
          return v !== undefined && test(Array.isArray(v) ? v.join(', ') : v);
        };
      });
      tests.push((ex) => headerTests.every((t) => t(ex)));
    }
  }
  if (catalogue) checkMounted(spec, at, problems, catalogue);
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0];
  return (ex) => tests.every((t) => t(ex));
}

type Operation = NonNullable<MountCatalogue['systems'][number]['operations']>[number] & { system: string };

const MAX_LISTED = 12;
function listed(values: readonly string[]): string {
  const unique = [...new Set(values)];
  return unique.length > MAX_LISTED ? `${unique.slice(0, MAX_LISTED).join(', ')}, … (${unique.length} in all)` : unique.join(', ');
}

const REGEX_WRITTEN = /^\/.+\/[imsu]*$/;

/**
 * Each value of system, operation, method and path must be able to match something mounted, given the rule's
 * other fields: an operation of the named system, a route that takes the named method. Each field narrows what
 * the next one is checked against (only by its valid values, so one typo is reported once, where it is).
 */
function checkMounted(spec: Record<string, unknown>, at: Array<string | number>, problems: MatchProblem[], catalogue: MountCatalogue): void {
  const where = (field: string, i: number) => [...at, field, ...(Array.isArray(spec[field]) ? [i] : [])];
  const mounted = catalogue.systems.map((s) => s.name);

  let systems = catalogue.systems;
  const names = list(spec.system);
  if (names) {
    names.forEach((name, i) => {
      if (mounted.includes(name)) return;
      if (REGEX_WRITTEN.test(name)) problems.push({ path: where('system', i), message: 'system takes names, not /regular expressions/ (only client and header values may be)' });
      else if (mounted.length === 0) problems.push({ path: where('system', i), message: `no system named ${name} is mounted: this server mounts none` });
      else problems.push({ path: where('system', i), message: `no system named ${name} is mounted${suggestion(name, mounted, `mounted: ${listed(mounted)}`)}` });
    });
    const known = catalogue.systems.filter((s) => names.includes(s.name));
    if (known.length) systems = known;
  }
  // a system whose operations are unknown could serve anything: nothing more can be checked
  if (systems.some((s) => !s.operations)) return;
  // "wms" when the rule names its systems, for messages; undefined when it does not
  const scope = systems !== catalogue.systems ? systems.map((s) => s.name).join(' or ') : undefined;
  const everything: Operation[] = catalogue.systems.flatMap((s) => (s.operations ?? []).map((op) => ({ ...op, system: s.name })));
  const inScope = (ops: Operation[]) => ops.filter((op) => systems.some((s) => s.name === op.system));
  let ops = inScope(everything);

  const ids = list(spec.operation);
  if (ids) {
    const all = [...new Set(ops.map((op) => op.id))];
    ids.forEach((id, i) => {
      if (all.includes(id)) return;
      const elsewhere = everything.find((op) => op.id === id);
      let message: string;
      if (REGEX_WRITTEN.test(id)) message = 'operation takes operation ids, not /regular expressions/ (only client and header values may be)';
      else if (elsewhere) message = `${id} is an operation of ${elsewhere.system}, not of ${scope}`;
      else if (scope) message = `${scope} has no operation ${id}${suggestion(id, all, `its operations: ${listed(all)}`)}`;
      else message = `no mounted system has an operation ${id}${suggestion(id, all, `operations: ${listed(all)}`)}`;
      problems.push({ path: where('operation', i), message });
    });
    const known = ops.filter((op) => ids.includes(op.id));
    if (known.length) ops = known;
  }

  // methods: a route taking GET also answers HEAD (the REST engine routes HEAD to GET)
  const methodsOf = (op: Operation) => (op.method === 'GET' ? ['GET', 'HEAD'] : [op.method ?? '']);
  const methods = list(spec.method)?.map((m) => m.toUpperCase());
  if (methods && ops.every((op) => op.method)) {
    const all = [...new Set(ops.flatMap(methodsOf))];
    const knownIds = ids?.filter((id) => ops.some((op) => op.id === id));
    methods.forEach((method, i) => {
      if (all.includes(method)) return;
      let message: string;
      if (knownIds?.length) message = `${knownIds.join(' or ')} ${knownIds.length === 1 ? 'takes' : 'take'} ${listed(all)}, not ${method}`;
      else if (scope) message = `no route of ${scope} takes ${method}; its methods: ${listed(all)}`;
      else message = `no mounted route takes ${method}; methods: ${listed(all)}`;
      problems.push({ path: where('method', i), message });
    });
    const known = ops.filter((op) => methodsOf(op).some((m) => methods.includes(m)));
    if (known.length) ops = known;
  }

  const paths = list(spec.path);
  if (paths) {
    paths.forEach((path, i) => {
      if (!path.startsWith('/')) return; // refused for its form already
      const glob = globTokens(path);
      const matches = (op: Operation) => intersects(glob, templateTokens(op.template));
      if (ops.some(matches)) return;
      const inSystems = inScope(everything).filter(matches);
      const anywhere = everything.filter(matches);
      let message: string;
      if (inSystems.length) {
        const by = [...new Set(inSystems.map((op) => (op.method ? `${op.method} ${op.id}` : op.id)))].join(', ');
        const excluded = ids && methods ? 'operation and method exclude' : ids ? 'operation excludes' : 'method excludes';
        message = `${path} is served only by ${by}, which the rule's ${excluded}`;
      } else if (anywhere.length) message = `${path} is a route of ${anywhere[0].system}, not of ${scope}`;
      else {
        // list the routes under the mount the path names; when it names none, the mounts
        const under = systems.filter((s) => path === s.mount || path.startsWith(s.mount + '/'));
        const templates = [...new Set(inScope(everything).map((op) => op.template))];
        const valid = under.length
          ? `routes under ${under.map((s) => s.mount).join(', ')}: ${listed(under.flatMap((s) => s.operations!.map((op) => op.template)))}`
          : `mounts: ${systems.map((s) => `${s.mount} (${s.name})`).join(', ') || 'none'}`;
        message = `${scope ? `no route of ${scope}` : 'no mounted route'} matches ${path}${suggestion(path, templates, valid)}`;
      }
      problems.push({ path: where('path', i), message });
    });
  }
}

/** One step of a path pattern: a literal character or a class (not /, anything), once, optionally or repeated. */
interface Token {
  /** one literal character, or a class */
  set: string | 'seg' | 'any';
  repeat: 'one' | 'optional' | 'many';
}

function globTokens(glob: string): Token[] {
  // the same reading as pathPattern: ** any, * within a segment, {name} one non-empty segment, an optional final /
  const tokens: Token[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      tokens.push({ set: 'any', repeat: 'many' });
      i++;
    } else if (c === '*') tokens.push({ set: 'seg', repeat: 'many' });
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      tokens.push({ set: 'seg', repeat: 'one' }, { set: 'seg', repeat: 'many' });
      i = end < 0 ? glob.length : end;
    } else tokens.push({ set: c, repeat: 'one' });
  }
  tokens.push({ set: '/', repeat: 'optional' });
  return tokens;
}

function templateTokens(template: string): Token[] {
  // what the router accepts: {param} is one non-empty segment; no trailing slash
  const tokens: Token[] = [];
  for (let i = 0; i < template.length; i++) {
    if (template[i] === '{') {
      const end = template.indexOf('}', i);
      tokens.push({ set: 'seg', repeat: 'one' }, { set: 'seg', repeat: 'many' });
      i = end < 0 ? template.length : end;
    } else tokens.push({ set: template[i], repeat: 'one' });
  }
  return tokens;
}

function overlap(a: Token['set'], b: Token['set']): boolean {
  if (a === 'any' || b === 'any') return true;
  if (a === 'seg') return b !== '/';
  if (b === 'seg') return a !== '/';
  return a === b;
}

/**
 * Whether two patterns (a rule's glob, a route template) can match one same path: a walk over pairs of positions
 * looking for a way to reach both ends together, each step consuming a character both tokens allow. Exact even
 * where neither pattern contains the other (a glob with * where the route says v1 and SKU-1 where it says {sku}),
 * and small: patterns are a few dozen tokens.
 */
function intersects(a: Token[], b: Token[]): boolean {
  const seen = new Set<number>();
  const stack: Array<[number, number]> = [[0, 0]];
  while (stack.length) {
    const [i, j] = stack.pop()!;
    const key = i * (b.length + 1) + j;
    if (seen.has(key)) continue;
    seen.add(key);
    if (i === a.length && j === b.length) return true;
    const x = a[i];
    const y = b[j];
    if (x && x.repeat !== 'one') stack.push([i + 1, j]);
    if (y && y.repeat !== 'one') stack.push([i, j + 1]);
    if (x && y && overlap(x.set, y.set)) stack.push([x.repeat === 'many' ? i : i + 1, y.repeat === 'many' ? j : j + 1]);
  }
  return false;
}
