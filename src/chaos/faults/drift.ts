/**
 * drift: schema drift in an otherwise valid JSON response, the way a vendor's unannounced release looks:
 * fields removed, renamed, added, or of another type. Paths are dot-separated, `*` standing for every element of
 * an array or every value of an object: `warehouses.*.available`.
 */
import { bodyText, withBody } from './body-faults.js';
import { NotApplicable, type FaultKind } from './fault.js';

interface Params {
  remove: string[][];
  rename: Array<[string[], string]>;
  add: Array<[string[], unknown]>;
  retype: string[][];
}

const PATH = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^.]+(\\.[^.]+)*$' };

/** Calls fn(parent, key) for every place `path` reaches in `root`. */
function visit(root: unknown, path: string[], fn: (parent: Record<string, unknown>, key: string) => void): void {
  const [head, ...rest] = path;
  if (root === null || typeof root !== 'object') return;
  const node = root as Record<string, unknown>;
  const keys = head === '*' ? Object.keys(node) : head in node || rest.length === 0 ? [head] : [];
  for (const key of keys) {
    if (rest.length === 0) fn(node, key);
    else visit(node[key], rest, fn);
  }
}

function retyped(value: unknown): unknown {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : [value];
  if (value === null) return 'null';
  return JSON.stringify(value);
}

export const drift: FaultKind<Params> = {
  kind: 'drift',
  stage: 'after',
  schema: {
    type: 'object',
    minProperties: 1,
    properties: {
      remove: { type: 'array', items: PATH, maxItems: 100 },
      rename: { type: 'object', propertyNames: PATH, additionalProperties: { type: 'string', minLength: 1 }, maxProperties: 100 },
      add: { type: 'object', propertyNames: PATH, maxProperties: 100 },
      retype: { type: 'array', items: PATH, maxItems: 100 },
    },
    additionalProperties: false,
  },
  compile: (raw) => ({
    remove: (raw.remove ?? []).map((p: string) => p.split('.')),
    rename: Object.entries(raw.rename ?? {}).map(([from, to]) => [from.split('.'), to as string]),
    add: Object.entries(raw.add ?? {}).map(([path, value]) => [path.split('.'), value]),
    retype: (raw.retype ?? []).map((p: string) => p.split('.')),
  }),
  after(ctx, p, reply) {
    if (!String(reply.headers['content-type'] ?? '').includes('json')) throw new NotApplicable('drift works on JSON bodies');
    let doc: unknown;
    try {
      doc = JSON.parse(bodyText(reply)); // a fresh copy: handlers may share the objects they return
    } catch {
      throw new NotApplicable('the body is not valid JSON');
    }
    const changed: string[] = [];
    for (const path of p.remove)
      visit(doc, path, (parent, key) => {
        if (key in parent) {
          delete parent[key];
          changed.push(`-${path.join('.')}`);
        }
      });
    for (const [path, to] of p.rename)
      visit(doc, path, (parent, key) => {
        if (key in parent) {
          parent[to] = parent[key];
          delete parent[key];
          changed.push(`${path.join('.')}→${to}`);
        }
      });
    for (const path of p.retype)
      visit(doc, path, (parent, key) => {
        if (key in parent) {
          parent[key] = retyped(parent[key]);
          changed.push(`~${path.join('.')}`);
        }
      });
    for (const [path, value] of p.add) {
      const parentPath = path.slice(0, -1);
      const key = path[path.length - 1];
      const targets: Array<Record<string, unknown>> = [];
      if (parentPath.length === 0) targets.push(doc as Record<string, unknown>);
      else visit(doc, parentPath, (parent, k) => {
        if (parent[k] !== null && typeof parent[k] === 'object') targets.push(parent[k] as Record<string, unknown>);
      });
      for (const t of targets) {
        t[key] = value;
        changed.push(`+${path.join('.')}`);
      }
    }
    if (changed.length === 0) throw new NotApplicable('none of the drift paths are in this body');
    ctx.record.changed = changed.length > 20 ? [...changed.slice(0, 20), `… ${changed.length - 20} more`] : changed;
    return withBody(reply, JSON.stringify(doc));
  },
};
