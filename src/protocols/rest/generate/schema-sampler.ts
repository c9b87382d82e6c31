/**
 * Values generated from a JSON Schema (an OpenAPI response schema, a header's schema …) with a seeded faker, for
 * operations that have no hand-written handler and no example: data that reads like real records (faker by
 * property name and format, sample-strings.ts) and keeps every constraint of the schema, so the response check
 * has nothing to report. The same (document, schema, seed) gives a deep-equal value in any process: faker is
 * seeded at the start of each sample and is the only source of randomness (no Math.random, no clock).
 *
 * Why a hand-written walker: json-schema-faker, the usual library, keeps global options and a global random
 * source, which breaks per-request determinism; openapi-sampler produces one fixed placeholder per schema and no
 * data. What is made here by construction: numbers (sample-numbers.ts), strings, formats and patterns
 * (sample-strings.ts, sample-pattern.ts), arrays, objects, allOf merged into one schema first (sample-merge.ts),
 * enum, const, and discriminators. What is checked after the fact, with ajv (sample-check.ts, compiled only when
 * first needed): a oneOf value must match its branch and no other, a `not` must not match, an example must keep
 * its schema; a bounded number of other tries (other branches, more draws) follows a miss.
 *
 * Bounded for any schema: $ref cycles and deep nesting end at HARD_DEPTH; below MAX_DEPTH, or past NODE_BUDGET
 * values, only what is required is generated; arrays hold at most 3 items unless minItems asks for more (capped at
 * MAX_ITEMS). Contradictory constraints never throw: the best effort is returned and the response check reports it.
 */
import type { Faker } from '@faker-js/faker';
import { resolveRef, type OpenApiDocument } from '../contract.js';
import { SchemaChecker } from './sample-check.js';
import { allowsNull, BASE, mergeAllOf, NOTS, typeOf, type Discriminator, type Schema } from './sample-merge.js';
import { numberFits, numberFor } from './sample-numbers.js';
import { numberHint as numberHintFor, stringFits, stringFor, stringHint } from './sample-strings.js';

/** nesting below which objects get only their required properties and arrays only minItems items */
const MAX_DEPTH = 8;
/** nesting past which nothing more is generated (a required $ref cycle ends here, unfulfilled) */
const HARD_DEPTH = 16;
/** values generated in one sample before the walker turns minimal as below MAX_DEPTH */
const NODE_BUDGET = 20_000;
/** most items generated for one array: a larger minItems gets this many, and the response check says so */
const MAX_ITEMS = 100;
/** values tried for a oneOf (across its branches) or a `not` before the first one made is kept anyway */
const MAX_TRIES = 12;

/** a discriminator property and the value this object must carry in it */
interface Forced {
  property: string;
  value: string;
}

export class SchemaSampler {
  private readonly checker: SchemaChecker;
  private readonly merges = new WeakMap<object, Schema>();
  private nodes = 0;

  constructor(
    private readonly document: OpenApiDocument,
    private readonly faker: Faker,
  ) {
    this.checker = new SchemaChecker(document);
  }

  /** faker (English only) loaded on first need: it costs ~100 ms and ~25 MB */
  static async create(document: OpenApiDocument): Promise<SchemaSampler> {
    const { faker } = await import('@faker-js/faker/locale/en');
    return new SchemaSampler(document, faker);
  }

  /** a value for `schema` (a schema object or a {$ref}), seeded: the same (schema, seed) gives the same value */
  sample(schema: unknown, seed: number, propertyName = ''): unknown {
    if (!schema) return {};
    this.faker.seed(seed);
    this.nodes = 0;
    try {
      return this.value(schema, 0, propertyName);
    } catch {
      return null; // nothing in a contract may make generation throw; the response check reports what is missing
    }
  }

  private value(raw: unknown, depth: number, name: string, forced?: Forced): unknown {
    this.nodes++;
    const located = this.resolve(raw);
    if (!located || depth > HARD_DEPTH) return null;
    const s = this.merged(located.schema, located.name);
    const here = forced ?? this.inherited(s, located.name);
    const nots = [s.not, ...((s[NOTS] as unknown[]) ?? [])].filter((n) => n !== undefined);
    if (!nots.length) return this.generate(s, depth, name, here, located.name);
    let first: unknown;
    for (let i = 0; i < MAX_TRIES / 2; i++) {
      const v = this.generate(s, depth, name, here, located.name);
      if (!nots.some((n) => this.checker.matches(n, v))) return v;
      if (i === 0) first = v;
    }
    return first;
  }

  private generate(s: Schema, depth: number, name: string, forced: Forced | undefined, componentName: string | undefined): unknown {
    const f = this.faker;
    // the contract's own example, else its default (as Prism serves them), when it keeps the schema (a stale one
    // would fail the response check)
    for (const example of [s.example, ...(Array.isArray(s.examples) ? s.examples : []), s.default]) {
      if (example !== undefined && this.keeps(s, example)) return example !== null && typeof example === 'object' ? structuredClone(example) : example;
    }
    if (s.const !== undefined) return s.const;
    if (Array.isArray(s.enum) && s.enum.length) {
      const values = s.enum.filter((v) => v !== null);
      return f.helpers.arrayElement(values.length ? values : s.enum);
    }
    if (Array.isArray(s.oneOf) && s.oneOf.length) return this.choose(s, 'oneOf', depth, name, forced);
    if (Array.isArray(s.anyOf) && s.anyOf.length) return this.choose(s, 'anyOf', depth, name, forced);
    if (isDiscriminator(s.discriminator) && !forced) {
      const sub = this.subtype(s, s.discriminator, componentName, depth, name);
      if (sub !== undefined) return sub;
      if (componentName) forced = { property: s.discriminator.propertyName, value: componentName };
    }
    switch (typeOf(s)) {
      case 'object':
        return this.object(s, depth, forced);
      case 'array':
        return this.array(s, depth, name);
      case 'integer':
      case 'number':
        return numberFor(f, s, typeOf(s) === 'integer', numberHintFor(name));
      case 'boolean':
        return f.datatype.boolean();
      case 'string':
        return stringFor(f, s, name);
      case 'null':
        return null;
      default:
        // a schema that says nothing: text when the name suggests some, else null (which it accepts)
        return name ? stringHint(f, name) ?? null : null;
    }
  }

  /**
   * A value of one branch of a oneOf (matching no other branch) or an anyOf, merged with the constraints beside
   * it. The first branch tried is drawn; then the others in turn, each twice, within MAX_TRIES.
   */
  private choose(s: Schema, kind: 'oneOf' | 'anyOf', depth: number, name: string, forced?: Forced): unknown {
    const branches = s[kind] as unknown[];
    const rest: Schema = { ...s };
    for (const key of [kind, 'discriminator', 'example', 'examples', 'description', 'title', 'nullable']) delete rest[key];
    const alone = Object.keys(rest).length === 0;
    const start = this.faker.number.int({ min: 0, max: branches.length - 1 });
    let order = branches.map((_, i) => (start + i) % branches.length);
    // an anyOf with a null branch (3.1's nullable) is data first
    if (kind === 'anyOf') order = [...order.filter((i) => !this.isNull(branches[i])), ...order.filter((i) => this.isNull(branches[i]))];
    const disc = isDiscriminator(s.discriminator) ? s.discriminator : undefined;
    let first: unknown;
    let tries = 0;
    for (const i of order) {
      for (let attempt = 0; attempt < 2 && tries < MAX_TRIES; attempt++, tries++) {
        const branch = branches[i];
        const value = disc ? discriminatorValue(disc, branch) : undefined;
        const here = value !== undefined ? { property: disc!.propertyName, value } : forced ?? this.inheritedOf(branch);
        const v = this.value(alone ? branch : { allOf: [rest, branch] }, depth + 1, name, here);
        if (kind === 'anyOf' || this.exactlyOne(branches, i, v)) return v;
        if (tries === 0) first = v;
      }
    }
    return first;
  }

  /** whether `v` matches branch `i` and no other (branches compiled only as far as needed) */
  private exactlyOne(branches: unknown[], i: number, v: unknown): boolean {
    if (!this.checker.matches(branches[i], v)) return false;
    return branches.every((b, j) => j === i || !this.checker.matches(b, v));
  }

  /**
   * A value of one of a base schema's subtypes, when the base has a discriminator and no oneOf: the mapping's
   * targets, else the schemas whose allOf includes the base; undefined when there are none but the base itself.
   */
  private subtype(s: Schema, disc: Discriminator, componentName: string | undefined, depth: number, name: string): unknown {
    let targets = Object.entries(disc.mapping ?? {}).map(([key, target]) => [key, target.startsWith('#') ? target : `#/components/schemas/${target}`]);
    if (!targets.length && componentName) targets = this.implicitSubtypes(componentName).map((sub) => [sub, `#/components/schemas/${sub}`]);
    const own = componentName === undefined ? s : this.resolve({ $ref: `#/components/schemas/${componentName}` })?.schema;
    targets = targets.filter(([, ref]) => {
      const target = this.resolve({ $ref: ref })?.schema;
      return target !== undefined && target !== own && target !== s;
    });
    if (!targets.length) return undefined;
    const [key, ref] = this.faker.helpers.arrayElement(targets);
    return this.value({ $ref: ref }, depth + 1, name, { property: disc.propertyName, value: key });
  }

  /** component schemas whose allOf refers to `#/components/schemas/{base}`, in document order */
  private implicitSubtypes(base: string): string[] {
    const schemas = ((this.document as { components?: { schemas?: Record<string, Schema> } }).components?.schemas ?? {}) as Record<string, Schema>;
    const ref = `#/components/schemas/${base}`;
    return Object.entries(schemas)
      .filter(([, s]) => Array.isArray(s?.allOf) && s.allOf.some((p) => (p as { $ref?: unknown })?.$ref === ref))
      .map(([n]) => n);
  }

  private object(s: Schema, depth: number, forced?: Forced): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (depth > HARD_DEPTH) return out;
    const minimal = depth >= MAX_DEPTH || this.nodes > NODE_BUDGET;
    const props = isObject(s.properties) ? s.properties : {};
    const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
    const maxProps = typeof s.maxProperties === 'number' ? s.maxProperties : Infinity;
    const minProps = Math.min(typeof s.minProperties === 'number' ? s.minProperties : 0, MAX_ITEMS);
    // every optional property is included (deterministic, and the fullest-looking record), as room allows
    let room = maxProps - required.size;
    const skipped: string[] = [];
    for (const [key, prop] of Object.entries(props)) {
      // writeOnly properties (a password) are never in a response, as OpenAPI says
      if (this.resolve(prop)?.schema.writeOnly === true) continue;
      if (!required.has(key) && (minimal || room <= 0)) {
        skipped.push(key);
        continue;
      }
      if (!required.has(key)) room--;
      out[key] = this.value(prop, depth + 1, key);
    }
    const patterned = isObject(s.patternProperties) ? Object.entries(s.patternProperties) : [];
    const extra = (key: string) => patterned.find(([p]) => safeTest(p, key))?.[1] ?? (isObject(s.additionalProperties) ? s.additionalProperties : { type: 'string' });
    for (const key of required) if (!(key in out) && !(key in props)) out[key] = this.value(extra(key), depth + 1, key);
    // a map (additionalProperties and nothing declared) gets a few entries; minProperties is met where allowed
    const open = s.additionalProperties !== false && s.additionalProperties !== undefined;
    const isMap = (open || patterned.length > 0) && !Object.keys(props).length && !minimal;
    const wanted = Math.min(maxProps, Math.max(minProps, isMap ? this.faker.number.int({ min: 1, max: 2 }) : 0));
    for (const key of skipped) if (Object.keys(out).length < wanted) out[key] = this.value(props[key], depth + 1, key);
    for (let guard = 0; Object.keys(out).length < wanted && (open || patterned.length) && guard < MAX_ITEMS * 2; guard++) {
      const key = patterned.length && !open ? this.keyFor(patterned[0][0]) : this.faker.lorem.word() + (guard > 3 ? guard : '');
      if (!(key in out)) out[key] = this.value(extra(key), depth + 1, key);
    }
    if (forced) out[forced.property] = forced.value;
    return out;
  }

  private array(s: Schema, depth: number, name: string): unknown[] {
    if (depth > HARD_DEPTH) return [];
    const prefix = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : [];
    const rest = Array.isArray(s.items) ? s.additionalItems : s.items;
    const min = Math.min(typeof s.minItems === 'number' ? s.minItems : 0, MAX_ITEMS);
    let max = typeof s.maxItems === 'number' ? s.maxItems : Infinity;
    if (rest === false) max = Math.min(max, prefix.length);
    const drawn = depth >= MAX_DEPTH || this.nodes > NODE_BUDGET ? min : this.faker.number.int({ min: 1, max: 3 });
    const count = Math.min(max, Math.max(min, drawn));
    const itemName = singular(name);
    const out: unknown[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < count; i++) {
      let schema: unknown = i < prefix.length ? prefix[i] : rest === undefined || rest === true ? { type: 'string' } : rest;
      if (i === prefix.length && s.contains !== undefined) schema = rest === undefined || rest === true ? s.contains : { allOf: [rest, s.contains] };
      let v = this.value(schema, depth + 1, itemName);
      for (let tries = 0; s.uniqueItems === true && seen.has(JSON.stringify(v)) && tries < 5; tries++) v = this.value(schema, depth + 1, itemName);
      if (s.uniqueItems === true && seen.has(JSON.stringify(v))) {
        if (out.length >= min) break; // the item schema has too few values: fewer items rather than duplicates
      }
      seen.add(JSON.stringify(v));
      out.push(v);
    }
    return out;
  }

  /** whether an example keeps its schema: primitives checked here, objects and arrays with ajv */
  private keeps(s: Schema, example: unknown): boolean {
    if (example === null) return allowsNull(s);
    if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(example))) return false;
    const type = typeOf(s);
    if (typeof example === 'string') return (type === undefined || type === 'string') && stringFits(example, s);
    if (typeof example === 'number') return (type === 'integer' || type === 'number' || type === undefined) && numberFits(example, s, type === 'integer');
    if (typeof example === 'boolean') return type === undefined || type === 'boolean';
    return this.checker.matches(s, example);
  }

  /** a key matching a patternProperties pattern, else a word */
  private keyFor(pattern: string): string {
    const key = stringFor(this.faker, { type: 'string', pattern }, '');
    return key || this.faker.lorem.word();
  }

  /** the discriminator value a subtype (a schema whose allOf includes a discriminated base) must carry */
  private inherited(s: Schema, componentName: string | undefined): Forced | undefined {
    const base = s[BASE];
    if (!isDiscriminator(base) || !componentName) return undefined;
    return { property: base.propertyName, value: discriminatorValue(base, { $ref: `#/components/schemas/${componentName}` }) ?? componentName };
  }

  private inheritedOf(raw: unknown): Forced | undefined {
    const located = this.resolve(raw);
    return located ? this.inherited(this.merged(located.schema, located.name), located.name) : undefined;
  }

  private isNull(raw: unknown): boolean {
    const s = this.resolve(raw)?.schema;
    return s !== undefined && (s.type === 'null' || (Array.isArray(s.type) && s.type.length === 1 && s.type[0] === 'null'));
  }

  private merged(schema: Schema, componentName: string | undefined): Schema {
    if (!Array.isArray(schema.allOf)) return schema;
    let merged = this.merges.get(schema);
    if (!merged) {
      merged = mergeAllOf(schema, (raw) => this.resolve(raw)?.schema, componentName);
      this.merges.set(schema, merged);
    }
    return merged;
  }

  /**
   * The schema a raw schema or $ref stands for, and the component name when it is a `#/components/schemas/…`
   * ref. A $ref with constraints beside it (3.1 allows them, ajv applies them) counts as allOf of both.
   */
  private resolve(raw: unknown): { schema: Schema; name?: string } | undefined {
    if (raw === true) return { schema: {} };
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
    const ref = (raw as { $ref?: unknown }).$ref;
    if (typeof ref !== 'string') return { schema: raw as Schema };
    const beside = Object.keys(raw).filter((k) => !['$ref', 'description', 'summary', 'title'].includes(k));
    if (beside.length) {
      const { $ref: _ref, ...rest } = raw as Schema;
      return { schema: { allOf: [{ $ref: ref }, rest] } };
    }
    try {
      const { value, pointer } = resolveRef<Schema>(this.document, raw, '');
      if (!value || typeof value !== 'object') return undefined;
      const parts = pointer.split('/');
      const name = parts.length === 4 && parts[1] === 'components' && parts[2] === 'schemas' ? decodeURIComponent(parts[3]).replace(/~1/g, '/').replace(/~0/g, '~') : undefined;
      return { schema: value, name };
    } catch {
      return undefined; // an external or dangling $ref: nothing to generate from
    }
  }
}

/** the value of the discriminator that selects `branch`: its mapping key, else its component name */
function discriminatorValue(disc: Discriminator, branch: unknown): string | undefined {
  const ref = (branch as { $ref?: unknown } | undefined)?.$ref;
  if (typeof ref !== 'string') return undefined;
  const name = ref.split('/').pop()!;
  for (const [key, target] of Object.entries(disc.mapping ?? {})) if (target === ref || target === name || target.split('/').pop() === name) return key;
  return name;
}

function isDiscriminator(d: unknown): d is Discriminator {
  return isObject(d) && typeof d.propertyName === 'string';
}

function isObject(v: unknown): v is Schema {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function safeTest(pattern: string, key: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(key);
  } catch {
    return false;
  }
}

/** `addresses` → `address`, `categories` → `category`: an array item is named after one of the array */
function singular(name: string): string {
  if (/ies$/i.test(name)) return name.slice(0, -3) + 'y';
  if (/(ss|x|ch|sh)es$/i.test(name)) return name.slice(0, -2);
  if (/[^s]s$/i.test(name)) return name.slice(0, -1);
  return name;
}
