/**
 * Checks a generated value against a schema of the contract with ajv, for what the sampler cannot get right by
 * construction alone: a `oneOf` value must match its branch and no other, a `not` must not match, an object
 * example must keep its schema. Validators are compiled on first need and remembered per schema object, so a
 * contract pays only for the oneOfs that are actually sampled (the "first request under 1 s" target rules out
 * compiling eagerly).
 *
 * The ajv instance holds the whole document (OpenAPI 3.0 documents normalised as schema-compiler.ts does, so the
 * answer is the one the response check will give), and a schema is compiled as a copy whose local `$ref`s point
 * into it. A schema that does not compile counts as matched: the sampler then keeps what it made.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { OpenApiDocument } from '../contract.js';
import { normalizeOas30 } from '../schemas/schema-views.js';

// ajv-formats is CommonJS with a default export
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const DOCUMENT_ID = 'understudy-sampled-contract';

export class SchemaChecker {
  private ajv?: Ajv | Ajv2020;
  private readonly validators = new WeakMap<object, ValidateFunction | null>();
  private readonly oas30: boolean;

  constructor(private readonly document: OpenApiDocument) {
    this.oas30 = !String((document as { openapi?: unknown }).openapi ?? '').startsWith('3.1');
  }

  /** whether `value` matches `schema` (a schema of this document, or a `$ref` into it) */
  matches(schema: unknown, value: unknown): boolean {
    if (typeof schema === 'boolean') return schema;
    if (!schema || typeof schema !== 'object') return true;
    let validate = this.validators.get(schema);
    if (validate === undefined) {
      validate = this.compile(schema);
      this.validators.set(schema, validate);
    }
    return validate === null ? true : (validate(value) as boolean);
  }

  private compile(schema: object): ValidateFunction | null {
    try {
      let copy = structuredClone(schema);
      if (this.oas30) copy = normalizeOas30(copy);
      return this.instance().compile(pointingIntoDocument(copy) as object);
    } catch {
      return null;
    }
  }

  private instance(): Ajv | Ajv2020 {
    if (this.ajv) return this.ajv;
    const options = { strict: false, validateSchema: false, allowUnionTypes: true, inlineRefs: false } as const;
    const ajv = this.oas30 ? new Ajv(options) : new Ajv2020(options);
    addFormats(ajv as Ajv);
    for (const format of ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password']) ajv.addFormat(format, true);
    ajv.addSchema(this.oas30 ? normalizeOas30(structuredClone(this.document)) : this.document, DOCUMENT_ID);
    this.ajv = ajv;
    return ajv;
  }
}

const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
const DATA_KEYS = new Set(['example', 'examples', 'enum', 'const', 'default']);

/** the copy with every local `$ref` (`#/components/…`) made to point into the document added to ajv */
function pointingIntoDocument(node: unknown): unknown {
  if (Array.isArray(node)) node.forEach(pointingIntoDocument);
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (typeof o.$ref === 'string' && o.$ref.startsWith('#')) o.$ref = DOCUMENT_ID + o.$ref;
    for (const [key, value] of Object.entries(o)) {
      // under a map of schemas by name every value is a schema, even one named `example`; elsewhere these are data
      if (SCHEMA_MAPS.has(key) && value && typeof value === 'object') Object.values(value).forEach(pointingIntoDocument);
      else if (!DATA_KEYS.has(key)) pointingIntoDocument(value);
    }
  }
  return node;
}
