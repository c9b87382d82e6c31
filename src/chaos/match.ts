/**
 * A rule's `match`, compiled into one predicate over an exchange. Every field is optional and all given fields
 * must hold. Values are exact strings or lists of them (any of); `client` and header values may also be
 * regular expressions written /like this/, refused at load when they could backtrack catastrophically.
 * `path` is the path the caller sees without /w/{workspace}: a template (/wms/v1/inventory/{sku}) or a glob
 * where * is one segment and ** any number.
 */
import safeRegex from 'safe-regex2';
import type { Exchange } from '../engine/exchange.js';

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

export function compileMatch(raw: unknown, at: Array<string | number>, problems: MatchProblem[]): Matcher {
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
  const workspaces = list(spec.workspace);
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
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0];
  return (ex) => tests.every((t) => t(ex));
}
