/**
 * The document as each of SchemaCompiler's ajv instances sees it: OpenAPI 3.0's schema dialect rewritten into the
 * JSON Schema ajv compiles (normalizeOas30), and `readOnly` / `writeOnly` properties no longer required where
 * OpenAPI says they are not (notRequiring). Both work on a copy the caller made.
 */
import { getPointer } from '../contract.js';

/** Drops properties marked `flag` (readOnly / writeOnly) from every `required` list of the document. */
export function notRequiring<T extends object>(document: T, flag: 'readOnly' | 'writeOnly'): T {
  const marked = (schema: unknown): boolean => {
    let node = schema as Record<string, unknown> | undefined;
    for (let hops = 0; node && typeof node.$ref === 'string' && node.$ref.startsWith('#') && hops < 32; hops++) {
      node = getPointer(document, node.$ref.slice(1)) as Record<string, unknown> | undefined;
    }
    return node?.[flag] === true;
  };
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (Array.isArray(o.required) && o.properties && typeof o.properties === 'object') {
      const properties = o.properties as Record<string, unknown>;
      o.required = o.required.filter((name) => !marked(properties[name as string]));
    }
    for (const value of Object.values(o)) walk(value);
  };
  walk(document);
  return document;
}

/**
 * OpenAPI 3.0 schemas are a JSON Schema draft-04 dialect, with one keyword of their own; rewritten for ajv
 * (draft-07) so such contracts compile, every schema in them validated:
 *  - `exclusiveMinimum: true` is a flag on `minimum` (draft-07: a number);
 *  - `nullable: true` adds null to the schema's `type` (and `enum`); where the schema has no `type` (beside a
 *    `$ref`, an `allOf`, on its own), which ajv's own `nullable` refuses to compile, the schema becomes
 *    `anyOf: [itself, { type: null }]`, keeping `readOnly` / `writeOnly` where the required-ness rules look for
 *    them. OpenAPI 3.0.3 allows all of these.
 * Values (examples, enums, defaults, consts) are data, not schemas: never rewritten.
 */
export function normalizeOas30<T>(node: T): T {
  if (Array.isArray(node)) node.forEach(normalizeOas30);
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    for (const [flag, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
      if (typeof o[flag] === 'boolean') {
        if (o[flag] && typeof o[bound] === 'number') {
          o[flag] = o[bound];
          delete o[bound];
        } else delete o[flag];
      }
    }
    const schema = isSchemaLike(o);
    for (const [key, value] of Object.entries(o)) {
      // a map of schemas by name: each value is a schema, whatever its name (a property may be called `example`)
      if (SCHEMA_MAPS.has(key) && value && typeof value === 'object' && !Array.isArray(value)) {
        for (const child of Object.values(value)) normalizeOas30(child);
        continue;
      }
      if (DATA_KEYS.has(key) || (key === 'default' && schema)) continue;
      normalizeOas30(value);
    }
    if (typeof o.nullable === 'boolean' && schema) nullable(o);
  }
  return node;
}

/** keys whose values map names to schemas */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'schemas', 'definitions']);
/** keys whose values are data, not schemas */
const DATA_KEYS = new Set(['example', 'examples', 'enum', 'const']);
const SCHEMA_KEYWORDS = ['type', 'properties', 'items', 'allOf', 'anyOf', 'oneOf', '$ref', 'format', 'nullable', 'additionalProperties'];

function isSchemaLike(o: Record<string, unknown>): boolean {
  return SCHEMA_KEYWORDS.some((k) => k in o);
}

function nullable(o: Record<string, unknown>): void {
  const allowed = o.nullable === true;
  delete o.nullable;
  if (!allowed) return;
  if (typeof o.type === 'string' || Array.isArray(o.type)) {
    const types = Array.isArray(o.type) ? o.type : [o.type];
    if (!types.includes('null')) o.type = [...types, 'null'];
    if (Array.isArray(o.enum) && !o.enum.includes(null)) o.enum = [...o.enum, null];
    return;
  }
  const itself: Record<string, unknown> = { ...o };
  for (const key of Object.keys(o)) delete o[key];
  o.anyOf = [itself, { type: 'null' }];
  for (const flag of ['readOnly', 'writeOnly', 'description', 'title'] as const) if (itself[flag] !== undefined) o[flag] = itself[flag];
}
