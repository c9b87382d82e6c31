/**
 * Compiles a contract's JSON Schemas into ajv validators once, at start-up. The whole (bundled) document is added
 * to ajv under one id and each validator is compiled *by reference* to the schema's place in it, so internal
 * `#/components/...` references and recursive schemas resolve as the contract author wrote them.
 *
 * Three ajv instances per contract, each over its own view of the document: parameters are strings on the wire,
 * so that one coerces ("10" -> 10, "a" -> ["a"]); bodies are JSON, where "10" for an integer is a client bug to
 * report, so those do not. Request bodies do not require `readOnly` properties (a client cannot know the `id`
 * the server will assign) and responses do not require `writeOnly` ones (a password is never echoed), as
 * OpenAPI says: one schema usually serves both directions.
 *
 * Compiling takes ~100 ms for a contract like the WMS's, so validators compile on first use or in the
 * background right after the server starts listening (compilePending), whichever comes first: the first
 * request is not kept waiting for operations nobody has called yet.
 *
 * Nothing is served unvalidated without saying so, though: check() runs at load and finds what ajv would refuse
 * to compile (a $ref to nothing, a `pattern` that is no regular expression, an unknown `type`, a keyword whose
 * value has the wrong type) by walking the schemas the validators reach, which costs a few milliseconds where
 * compiling everything eagerly costs seconds (STAPI, 169 operations: ~1.5 s of a 1 s start-up budget). A
 * schema the walk suspects is compiled there and then, so ajv, not the walk, has the last word and gives the
 * reason; constructs the walk does not know ($id, $schema, $dynamicRef, a non-local $ref) are compiled at load
 * too. Unknown formats are annotations in JSON Schema (strict: false lets ajv ignore them): listed as warnings.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { formatNames } from 'ajv-formats/dist/formats.js';
import type { ContractError } from '../../engine/exchange.js';
import { getPointer, pointerToken, type LoadedContract } from './contract.js';

// ajv-formats is CommonJS with a default export
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const CONTRACT_ID = 'understudy-contract';
/** the most errors listed for one request: enough to fix it, bounded so absurd input stays cheap to answer */
export const MAX_REPORTED_ERRORS = 50;

export type Location = 'body' | 'query' | 'path' | 'header' | 'cookie' | 'response';

/** A compiled (or to-be-compiled) validator: call it, then read `errors` when it returned false. */
export interface Validator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

type Instance = Ajv | Ajv2020;

type Use = 'params' | 'requests' | 'forms' | 'responses';

/** Something of the contract that cannot be validated as written: where, and why. */
export interface LoadProblem {
  /** the validator (operation and part) that needs it: `addPet request body` */
  what: string;
  /** the JSON pointer of the construct in the document */
  pointer: string;
  message: string;
}

export class SchemaCompiler {
  private readonly instances = new Map<Use, Instance>();
  private readonly document: object;
  /** schemas that could not be compiled when first needed (served unvalidated) */
  readonly warnings: string[] = [];
  private readonly pending: Array<() => void> = [];
  /** the same schema asked for twice (a shared error response, say) gets the same validator */
  private readonly byKey = new Map<string, Validator>();
  /** every validator asked for, with what it compiles: what check() walks */
  private readonly registered: Array<{ use: Use; schema: object; what: string; compileNow: () => string | undefined }> = [];
  /** constructs outside any schema that understudy does not validate (noted by compileOperations) */
  private readonly unsupported: LoadProblem[] = [];
  /** the lenient mode: a schema that cannot be compiled is served unvalidated, with a warning */
  lenient = false;
  /** check() is compiling suspects: what fails is reported by check, not as a warning of its own */
  private checking = false;

  constructor(readonly contract: LoadedContract) {
    this.document = contract.dialect === '3.0' ? normalizeOas30(structuredClone(contract.document)) : contract.document;
  }

  /** Validator for a request body schema at `pointer` in the document. */
  requestBody(pointer: string, what: string): Validator {
    return this.lazy('requests', { $ref: ref(pointer) }, what);
  }

  /**
   * Validator for a form-encoded request body (application/x-www-form-urlencoded) at `pointer`: a form carries
   * only strings, so, as for parameters, each value is coerced in place to the type its schema says (`4999` to an
   * integer, `false` to a boolean, one value to an array of one) before it is checked.
   */
  formBody(pointer: string, what: string): Validator {
    return this.lazy('forms', { $ref: ref(pointer) }, what);
  }

  /** Validator for a response body schema at `pointer` in the document. */
  responseBody(pointer: string, what: string): Validator {
    return this.lazy('responses', { $ref: ref(pointer) }, what);
  }

  /**
   * Validator for a set of parameters of one location, as one object schema: each property refers to the
   * parameter's schema in the document. `closed` rejects parameters the contract does not name.
   */
  parameters(
    parameters: Array<{ name: string; pointer: string; required: boolean }>,
    closed: boolean,
    what: string,
  ): Validator {
    const schema = {
      type: 'object',
      properties: Object.fromEntries(parameters.map((p) => [p.name, { $ref: ref(p.pointer) }])),
      required: parameters.filter((p) => p.required).map((p) => p.name),
      additionalProperties: !closed,
    };
    return this.lazy('params', schema, what);
  }

  /** Notes a construct that no validator checks (a parameter described by `content`, say), for check(). */
  unvalidated(problem: LoadProblem): void {
    this.unsupported.push(problem);
  }

  /**
   * The load-time check (see the header): what cannot be validated as written, each with the validator that
   * needs it, where it is and why; and warnings about formats understudy does not know (not checked).
   */
  check(): { problems: LoadProblem[]; warnings: string[] } {
    const problems: LoadProblem[] = [...this.unsupported];
    const suspects = new Map<string, string>();
    const formats = new Map<string, string[]>();
    const known = this.knownFormats();
    const walker = new SchemaWalker(this.document);
    const visited = new Set<object>();
    const suspectNodes = new Set<object>();
    for (const entry of this.registered) {
      walker.walk(rootPointers(entry.schema), visited, (at, schema) => {
        const why = suspicion(walker, schema);
        if (why !== undefined) {
          suspects.set(at, why);
          suspectNodes.add(schema);
        }
        const format = schema.format;
        if (typeof format === 'string' && !known.has(format)) formats.set(format, [...(formats.get(format) ?? []), at]);
      });
    }

    if (suspects.size > 0) {
      // which validators reach a suspect: those are compiled now, and ajv says whether (and why) they fail
      this.checking = true;
      for (const entry of this.registered) {
        let found: string | undefined;
        walker.walk(rootPointers(entry.schema), new Set(), (at, schema) => {
          if (found === undefined && suspectNodes.has(schema)) found = at;
        });
        if (found === undefined) continue;
        const refused = entry.compileNow();
        if (refused === undefined) continue;
        const suspected = suspects.get(found)!;
        problems.push({ what: entry.what, pointer: found, message: suspected.includes(refused) ? suspected : `${suspected} (ajv: ${refused})` });
      }
      this.checking = false;
    }
    const warnings = [...formats].map(
      ([format, at]) => `format "${format}" is not one understudy knows, so it is not checked (an annotation, as JSON Schema has it): at ${at[0]}${at.length > 1 ? ` and ${at.length - 1} more place${at.length > 2 ? 's' : ''}` : ''}`,
    );
    return { problems, warnings };
  }

  /** the formats ajv checks: ajv-formats' and OpenAPI's own (instance() adds both) */
  private knownFormats(): Set<string> {
    return new Set([...formatNames, ...OPENAPI_FORMATS]);
  }

  /** Compiles every validator still waiting, one at a time, letting requests in between. */
  async compilePending(): Promise<void> {
    for (let compile = this.pending.shift(); compile; compile = this.pending.shift()) {
      compile();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** the ajv instance for one use, created with its view of the document when first needed */
  private instance(use: 'params' | 'requests' | 'forms' | 'responses'): Instance {
    let ajv = this.instances.get(use);
    if (ajv) return ajv;
    // inlineRefs: false compiles each referenced schema once as its own function instead of inlining it into
    // every schema that refers to it: a third of the compile time for contracts with shared components
    // logger: an unknown format is listed once at load (check), not warned about by ajv at each compile
    const options = { strict: false, allErrors: true, validateSchema: false, allowUnionTypes: true, inlineRefs: false, logger: QUIET } as const;
    const AjvClass = this.contract.dialect === '3.1' ? Ajv2020 : Ajv;
    ajv = new AjvClass(use === 'params' || use === 'forms' ? { ...options, coerceTypes: 'array' } : options);
    addFormats(ajv as Ajv);
    // OpenAPI's own formats that JSON Schema does not define: accept, so they never fail a compile
    for (const format of OPENAPI_FORMATS) ajv.addFormat(format, true);
    const flag = use === 'requests' || use === 'forms' ? 'readOnly' : use === 'responses' ? 'writeOnly' : undefined;
    // a private copy only when the contract uses the flag at all (most do not; copying costs start-up time)
    const view = flag && JSON.stringify(this.document).includes(`"${flag}":true`) ? notRequiring(structuredClone(this.document), flag) : this.document;
    ajv.addSchema(view, CONTRACT_ID);
    this.instances.set(use, ajv);
    return ajv;
  }

  private lazy(use: Use, schema: object, what: string): Validator {
    const key = `${use}${JSON.stringify(schema)}`;
    const known = this.byKey.get(key);
    if (known) return known;
    let compiled: ValidateFunction | undefined;
    let done = false;
    let refused: string | undefined;
    const compile = () => {
      if (!done) {
        done = true;
        compiled = this.compile(this.instance(use), schema, what, (reason) => (refused = reason));
      }
    };
    this.pending.push(compile);
    this.registered.push({
      use,
      schema,
      what,
      compileNow: () => {
        compile();
        return refused;
      },
    });
    const validator: Validator = (data) => {
      if (!done) compile();
      if (!compiled) return true; // could not compile: served unvalidated, and said so in warnings
      const ok = compiled(data) as boolean;
      validator.errors = compiled.errors;
      return ok;
    };
    this.byKey.set(key, validator);
    return validator;
  }

  private compile(ajv: Ajv | Ajv2020, schema: object, what: string, refused: (reason: string) => void): ValidateFunction | undefined {
    try {
      return ajv.compile(schema);
    } catch (err) {
      // past the load-time check (lenient, or a case it does not know): served unvalidated, and said so
      const reason = err instanceof Error ? err.message : String(err);
      refused(reason);
      if (!this.checking) this.warnings.push(`${what}: schema not validated (${reason})${this.lenient ? '' : ' — the load-time check let this through: please report it'}`);
      return undefined;
    }
  }
}

/** OpenAPI's own formats that JSON Schema does not define */
const OPENAPI_FORMATS = ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password'];

const QUIET = { log: () => undefined, warn: () => undefined, error: (...args: unknown[]) => console.error(...args) };

/** the document pointers a validator's schema refers to (its `$ref`s, at any depth of the wrapper) */
function rootPointers(schema: object): string[] {
  const out: string[] = [];
  const visit = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith(`${CONTRACT_ID}#`)) out.push(decodePointer(value.slice(CONTRACT_ID.length + 1)));
      else visit(value);
    }
  };
  visit(schema);
  return out;
}

function decodePointer(pointer: string): string {
  try {
    return pointer.split('/').map((t) => decodeURIComponent(t)).join('/');
  } catch {
    return pointer;
  }
}

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
class SchemaWalker {
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
function suspicion(walker: SchemaWalker, schema: Record<string, unknown>): string | undefined {
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

function ref(pointer: string): string {
  const tokens = pointer.split('/').slice(1).map((t) => encodeURIComponent(t));
  return `${CONTRACT_ID}#/${tokens.join('/')}`;
}

export function pointerOf(...tokens: Array<string | number>): string {
  return tokens.map((t) => '/' + pointerToken(t)).join('');
}

/** ajv errors as the contract errors a client reads: where (parameter name or JSON pointer) and what. */
export function describeErrors(errors: ErrorObject[] | null | undefined, location: Location): ContractError[] {
  const out: ContractError[] = [];
  for (const e of errors ?? []) {
    if (out.length === MAX_REPORTED_ERRORS) break;
    let path = e.instancePath;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') path += '/' + pointerToken((e.params as { missingProperty: string }).missingProperty);
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      path += '/' + pointerToken(extra);
      // a parameter's own property (a deepObject's) is no parameter: say which object it is not part of
      message = location === 'body' || location === 'response' ? 'is not allowed here by the contract' : e.instancePath === '' ? 'is not a parameter of this operation' : `is not a property of ${unescapeToken(e.instancePath.split('/')[1])}`;
    }
    if (e.keyword === 'enum') message += ': ' + (e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ');
    if (location === 'body' || location === 'response') out.push({ in: location, pointer: path, message });
    else {
      const [, name = '', ...rest] = path.split('/');
      out.push({ in: location, name: unescapeToken(name), ...(rest.length ? { pointer: '/' + rest.join('/') } : {}), message });
    }
  }
  return out;
}

function unescapeToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Drops properties marked `flag` (readOnly / writeOnly) from every `required` list of the document. */
function notRequiring<T extends object>(document: T, flag: 'readOnly' | 'writeOnly'): T {
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
