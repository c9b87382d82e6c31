/**
 * The load-time check's eyes (SchemaCompiler.check): a walk over the schemas the validators reach, following local
 * $refs, and the test of each schema for what ajv would refuse to compile — a $ref to nothing, a `pattern` that is
 * no regular expression in Unicode mode, an unknown `type`, a keyword whose value has the wrong type — or for
 * constructs the walk cannot judge ($id, $schema, $dynamicRef, a non-local $ref), which are compiled at load to
 * know. A few milliseconds for a document whose validators would take seconds to compile (STAPI).
 */
import { getPointer, pointerToken } from '../contract.js';

/** keywords whose value is one schema */
const ONE_SCHEMA = ['items', 'additionalItems', 'additionalProperties', 'not', 'contains', 'propertyNames', 'if', 'then', 'else', 'unevaluatedProperties', 'unevaluatedItems', 'contentSchema'];
/** keywords whose value is a list of schemas */
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];
/** keywords whose value maps names to schemas */
const NAMED_SCHEMAS = ['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas', 'dependencies'];

/**
 * Walks the schemas of the document from given pointers, following local $refs (each target looked up once):
 * every schema object is visited once per `visited` set, with the pointer it was first reached at.
 */
export class SchemaWalker {
  private readonly targets = new Map<string, unknown>();

  constructor(private readonly document: object) {}

  /** what a local $ref (`#/components/schemas/Pet`) points at, or undefined */
  target(ref: string): unknown {
    if (this.targets.has(ref)) return this.targets.get(ref);
    const found = ref.startsWith('#/') || ref === '#' ? getPointer(this.document, ref.slice(1)) : undefined;
    this.targets.set(ref, found);
    return found;
  }

  walk(pointers: string[], visited: Set<object>, visit: (at: string, schema: Record<string, unknown>) => void): void {
    const nodes: unknown[] = [];
    const places: string[] = [];
    for (const pointer of pointers) {
      nodes.push(getPointer(this.document, pointer));
      places.push(pointer);
    }
    while (nodes.length) {
      const node = nodes.pop();
      const at = places.pop()!;
      if (!node || typeof node !== 'object' || Array.isArray(node) || visited.has(node)) continue;
      visited.add(node);
      const schema = node as Record<string, unknown>;
      visit(at, schema);
      const ref = schema.$ref;
      if (typeof ref === 'string') {
        const target = this.target(ref);
        if (target !== undefined) {
          nodes.push(target);
          places.push(decodePointer(ref.slice(1)));
        }
      }
      for (const key in schema) {
        const value = schema[key];
        if (!value || typeof value !== 'object') continue;
        if (ONE_SCHEMA_SET.has(key) && !Array.isArray(value)) {
          nodes.push(value);
          places.push(`${at}/${key}`);
        } else if (SCHEMA_LISTS_SET.has(key) && Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) {
            nodes.push(value[i]);
            places.push(`${at}/${key}/${i}`);
          }
        } else if (NAMED_SCHEMAS_SET.has(key) && !Array.isArray(value)) {
          for (const name in value as Record<string, unknown>) {
            nodes.push((value as Record<string, unknown>)[name]);
            places.push(`${at}/${key}/${pointerToken(name)}`);
          }
        }
      }
    }
  }
}

const ONE_SCHEMA_SET = new Set(ONE_SCHEMA);
const SCHEMA_LISTS_SET = new Set(SCHEMA_LISTS);
const NAMED_SCHEMAS_SET = new Set(NAMED_SCHEMAS);

const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);
const NUMBERS = ['maximum', 'minimum', 'exclusiveMaximum', 'exclusiveMinimum', 'multipleOf', 'maxLength', 'minLength', 'maxItems', 'minItems', 'maxProperties', 'minProperties', 'maxContains', 'minContains'];
/** constructs the walk does not follow itself: the schema is compiled at load to know */
const COMPILE_TO_KNOW = ['$id', '$schema', '$anchor', '$dynamicRef', '$dynamicAnchor', '$recursiveRef', '$recursiveAnchor'];

const NUMBERS_SET = new Set(NUMBERS);
const COMPILE_TO_KNOW_SET = new Set(COMPILE_TO_KNOW);

/**
 * Why ajv might refuse this schema node (its own keywords; children are visited on their own), if it might. One
 * pass over the node's own keys: this runs for every schema of the document at every start.
 */
export function suspicion(walker: SchemaWalker, schema: Record<string, unknown>): string | undefined {
  for (const key in schema) {
    const value = schema[key];
    if (value === undefined) continue;
    switch (key) {
      case '$ref':
        if (typeof value !== 'string') return '$ref is not a string';
        if (!value.startsWith('#')) return `$ref ${value} is not a reference into this document`;
        if (value !== '#' && !value.startsWith('#/')) return `$ref ${value} names an anchor`;
        if (walker.target(value) === undefined) return `$ref ${value} points at nothing`;
        break;
      case 'type': {
        const types = Array.isArray(value) ? value : [value];
        if (types.length === 0 || types.some((t) => typeof t !== 'string' || !JSON_TYPES.has(t))) return `type ${JSON.stringify(value)} is not a JSON Schema type (${[...JSON_TYPES].join(', ')})`;
        break;
      }
      case 'pattern': {
        const why = regexProblem('pattern', value);
        if (why !== undefined) return why;
        break;
      }
      case 'required':
        if (!Array.isArray(value) || value.some((r) => typeof r !== 'string')) return `required is ${JSON.stringify(value)}, not a list of property names`;
        break;
      case 'enum':
        if (!Array.isArray(value)) return `enum is ${JSON.stringify(value)}, not a list`;
        break;
      case 'format':
        if (typeof value !== 'string') return 'format is not a string';
        break;
      case 'uniqueItems':
        if (typeof value !== 'boolean') return 'uniqueItems is not a boolean';
        break;
      default:
        if (NUMBERS_SET.has(key)) {
          if (typeof value !== 'number') return `${key} is ${JSON.stringify(value)}, not a number`;
        } else if (NAMED_SCHEMAS_SET.has(key)) {
          if (!value || typeof value !== 'object' || Array.isArray(value)) return `${key} is not an object of schemas`;
          if (key !== 'dependencies') {
            for (const name in value as Record<string, unknown>) {
              if (!isSchema((value as Record<string, unknown>)[name])) return `${key} holds a value that is not a schema`;
              if (key === 'patternProperties') {
                const why = regexProblem('patternProperties', name);
                if (why !== undefined) return why;
              }
            }
          }
        } else if (key === 'items' && Array.isArray(value)) {
          if (value.some((child) => !isSchema(child))) return 'items is not a list of schemas';
        } else if (ONE_SCHEMA_SET.has(key)) {
          if (!isSchema(value)) return `${key} is not a schema`;
        } else if (SCHEMA_LISTS_SET.has(key)) {
          if (!Array.isArray(value) || value.some((child) => !isSchema(child))) return `${key} is not a list of schemas`;
        } else if (COMPILE_TO_KNOW_SET.has(key)) return `${key} is used`;
    }
  }
  return undefined;
}

/** why `pattern` is no regular expression as ajv compiles one (Unicode mode), if it is not */
function regexProblem(key: string, pattern: unknown): string | undefined {
  if (typeof pattern !== 'string') return `${key} is not a string`;
  try {
    new RegExp(pattern, 'u');
    return undefined;
  } catch (err) {
    return `${key} "${pattern}" is not a regular expression: ${(err as Error).message}`;
  }
}

function isSchema(value: unknown): boolean {
  return typeof value === 'boolean' || (value !== null && typeof value === 'object' && !Array.isArray(value));
}

/** a JSON pointer with its percent-encoded tokens decoded (as ajv writes them in $ref ids) */
export function decodePointer(pointer: string): string {
  try {
    return pointer.split('/').map((t) => decodeURIComponent(t)).join('/');
  } catch {
    return pointer;
  }
}
