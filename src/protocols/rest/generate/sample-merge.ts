/**
 * `allOf` as one schema, for generated data: the parts' properties, required lists and constraints are merged
 * before anything is generated (the tighter bound wins, enums intersect, a property both parts declare gets both
 * schemas), so `allOf: [{$ref: Base}, {required: [x]}]` gives an object that has `x`. Generating each part alone
 * and assigning the results together cannot do that: the second part alone has no idea what `x` is.
 *
 * A part that carries a `discriminator` is a base type (the OpenAPI inheritance pattern: `Cat = allOf[Pet, …]`):
 * its discriminator is recorded as the merged schema's base (so the object gets the subtype's discriminator value)
 * and its own oneOf/anyOf, which lists the subtypes, is not merged, or a Cat would become a Dog.
 *
 * Patterns and `not`s cannot be merged into one, so the extra ones are kept in x-understudy-* keys that only the
 * sampler reads (ajv, with strict off, ignores them).
 */
import { boundsOf } from './sample-numbers.js';

export type Schema = Record<string, unknown>;

export interface Discriminator {
  propertyName: string;
  mapping?: Record<string, string>;
}

export const BASE = 'x-understudy-base';
export const PATTERNS = 'x-understudy-patterns';
export const NOTS = 'x-understudy-nots';

/** keys of a part that describe it rather than constrain the merged value */
const PART_ONLY = new Set(['example', 'examples', 'default', 'title', 'description', 'xml', 'externalDocs', 'deprecated']);

/**
 * The schema with its allOf merged in, recursively. `resolve` follows a $ref (undefined when it cannot); `seen`
 * breaks allOf cycles (a part already being merged is skipped).
 */
export function mergeAllOf(schema: Schema, resolve: (raw: unknown) => Schema | undefined, name?: string, seen = new Set<object>()): Schema {
  if (!Array.isArray(schema.allOf) || !schema.allOf.length) return schema;
  const out: Schema = { ...schema };
  delete out.allOf;
  seen.add(schema);
  for (const raw of schema.allOf) {
    const part = resolve(raw);
    if (!part || seen.has(part)) continue;
    let merged = mergeAllOf(part, resolve, componentOf(raw), seen);
    const base = merged.discriminator !== undefined && isBase(merged, schema.allOf.length, name);
    if (base || merged[BASE]) {
      merged = { ...merged };
      out[BASE] ??= base ? merged.discriminator : merged[BASE];
      if (base) {
        delete merged.oneOf;
        delete merged.anyOf;
        delete merged.discriminator;
      }
      delete merged[BASE];
    }
    combine(out, merged);
  }
  seen.delete(schema);
  return out;
}

/**
 * Whether a discriminated part is the base type of the schema it is merged into, rather than wrapped by it (3.0's
 * `nullable: true, allOf: [{$ref: PaymentMethod}]`, which must stay a PaymentMethod, oneOf and all): the part
 * lists this schema among its subtypes, or it lists none and this schema adds parts of its own.
 */
function isBase(part: Schema, parts: number, name: string | undefined): boolean {
  const subtypes = [...(Array.isArray(part.oneOf) ? part.oneOf : []), ...(Array.isArray(part.anyOf) ? part.anyOf : [])];
  if (!subtypes.length) return parts > 1;
  const mapping = Object.values(((part.discriminator as { mapping?: Record<string, string> }).mapping ?? {}) as Record<string, string>);
  return name !== undefined && [...subtypes.map(componentOf), ...mapping.map((t) => t.split('/').pop())].includes(name);
}

/** the component name a `#/components/schemas/X` $ref points at */
export function componentOf(raw: unknown): string | undefined {
  const ref = (raw as { $ref?: unknown } | undefined)?.$ref;
  const match = typeof ref === 'string' ? /^#\/components\/schemas\/([^/]+)$/.exec(ref) : null;
  return match ? decodeURIComponent(match[1]).replace(/~1/g, '/').replace(/~0/g, '~') : undefined;
}

/** `b`'s constraints added to `a` (in place) */
function combine(a: Schema, b: Schema): void {
  for (const [key, value] of Object.entries(b)) {
    if (PART_ONLY.has(key) || value === undefined) continue;
    const mine = a[key];
    if (mine === undefined && !NUMERIC.has(key)) {
      a[key] = Array.isArray(value) ? [...value] : value && typeof value === 'object' && key === 'properties' ? { ...value } : value;
      continue;
    }
    switch (key) {
      case 'type':
        a.type = intersectTypes(mine, value);
        break;
      case 'properties': {
        const props = { ...(mine as Schema) };
        for (const [name, s] of Object.entries(value as Schema)) props[name] = props[name] === undefined ? s : { allOf: [props[name], s] };
        a.properties = props;
        break;
      }
      case 'required':
        a.required = [...new Set([...(mine as string[]), ...(value as string[])])];
        break;
      case 'enum': {
        const theirs = new Set((value as unknown[]).map((v) => JSON.stringify(v)));
        const both = (mine as unknown[]).filter((v) => theirs.has(JSON.stringify(v)));
        if (both.length) a.enum = both;
        break;
      }
      case 'minLength':
      case 'minItems':
      case 'minProperties':
        a[key] = Math.max(mine as number, value as number);
        break;
      case 'maxLength':
      case 'maxItems':
      case 'maxProperties':
        a[key] = Math.min(mine as number, value as number);
        break;
      case 'uniqueItems':
      case 'readOnly':
      case 'writeOnly':
        a[key] = mine === true || value === true;
        break;
      case 'pattern':
        if (mine !== value) a[PATTERNS] = [...((a[PATTERNS] as string[]) ?? []), value];
        break;
      case 'not':
        a[NOTS] = [...((a[NOTS] as unknown[]) ?? []), value];
        break;
      case 'items':
      case 'additionalProperties':
        if (mine === false || value === false) a[key] = false;
        else if (mine !== true && value !== true) a[key] = { allOf: [mine, value] };
        else a[key] = mine === true ? value : mine;
        break;
      case 'multipleOf':
        if (Number.isInteger(mine) && Number.isInteger(value)) a.multipleOf = lcm(mine as number, value as number);
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        break; // below, together
      default:
        break; // the first part's word stands (format, const, oneOf …)
    }
  }
  if ([...NUMERIC].some((k) => b[k] !== undefined)) tightenBounds(a, b);
}

const NUMERIC = new Set(['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']);

/** the tighter of both schemas' numeric bounds, written in 3.1's numeric form */
function tightenBounds(a: Schema, b: Schema): void {
  const x = boundsOf(a);
  const y = boundsOf(b);
  const lower = y.lo !== undefined && (x.lo === undefined || y.lo > x.lo || (y.lo === x.lo && y.loExclusive)) ? y : x;
  const upper = y.hi !== undefined && (x.hi === undefined || y.hi < x.hi || (y.hi === x.hi && y.hiExclusive)) ? y : x;
  for (const k of NUMERIC) delete a[k];
  if (lower.lo !== undefined) a[lower.loExclusive ? 'exclusiveMinimum' : 'minimum'] = lower.lo;
  if (upper.hi !== undefined) a[upper.hiExclusive ? 'exclusiveMaximum' : 'maximum'] = upper.hi;
}

function intersectTypes(a: unknown, b: unknown): unknown {
  const list = (t: unknown) => (Array.isArray(t) ? (t as string[]) : [t as string]);
  const left = list(a);
  const right = list(b);
  const both = left.filter((t) => right.includes(t) || (t === 'integer' && right.includes('number')));
  for (const t of right) if (t === 'integer' && left.includes('number') && !both.includes('integer')) both.push('integer');
  if (!both.length) return a; // contradictory: the first part's type, best effort
  return both.length === 1 ? both[0] : both;
}

function lcm(x: number, y: number): number {
  const gcd = (p: number, q: number): number => (q === 0 ? p : gcd(q, p % q));
  return Math.abs(x * y) / (gcd(Math.abs(x), Math.abs(y)) || 1);
}

/**
 * The type to generate: a non-null one of a type list (null only when it is the only one), else what the
 * keywords imply (`properties` an object, `items` an array, `pattern` a string, `minimum` a number).
 */
export function typeOf(s: Schema): string | undefined {
  const t = s.type;
  if (Array.isArray(t)) return (t.find((x) => x !== 'null') as string | undefined) ?? (t.includes('null') ? 'null' : undefined);
  if (typeof t === 'string') return t;
  const has = (...keys: string[]) => keys.some((k) => s[k] !== undefined);
  if (has('properties', 'required', 'additionalProperties', 'patternProperties', 'minProperties', 'maxProperties')) return 'object';
  if (has('items', 'prefixItems', 'minItems', 'maxItems', 'uniqueItems', 'contains')) return 'array';
  if (s.format === 'int32' || s.format === 'int64') return 'integer';
  if (has('minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf') || s.format === 'float' || s.format === 'double') return 'number';
  if (has('minLength', 'maxLength', 'pattern', 'format')) return 'string';
  return undefined;
}

/** whether the schema lets `null` through (3.1 type lists, 3.0 nullable) */
export function allowsNull(s: Schema): boolean {
  return s.nullable === true || s.type === 'null' || (Array.isArray(s.type) && s.type.includes('null')) || (Array.isArray(s.enum) && s.enum.includes(null));
}
