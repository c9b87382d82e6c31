/**
 * Compiles a contract's JSON Schemas into ajv validators once, at start-up. The whole (bundled) document is added
 * to ajv under one id and each validator is compiled *by reference* to the schema's place in it, so internal
 * `#/components/...` references and recursive schemas resolve as the contract author wrote them.
 *
 * Two ajv instances per contract: parameters are strings on the wire, so that one coerces ("10" -> 10, "a" ->
 * ["a"]); bodies are JSON, where "10" for an integer is a client bug to report, so that one does not.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ContractError } from '../../engine/exchange.js';
import { pointerToken, type LoadedContract } from './contract.js';

// ajv-formats is CommonJS with a default export
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const CONTRACT_ID = 'understudy-contract';
/** the most errors listed for one request: enough to fix it, bounded so absurd input stays cheap to answer */
export const MAX_REPORTED_ERRORS = 50;

export type Location = 'body' | 'query' | 'path' | 'header' | 'response';

export class SchemaCompiler {
  private readonly params: Ajv;
  private readonly bodies: Ajv;
  readonly warnings: string[] = [];

  constructor(readonly contract: LoadedContract) {
    const document = contract.dialect === '3.0' ? normalizeOas30(structuredClone(contract.document)) : contract.document;
    const options = { strict: false, allErrors: true, validateSchema: false, allowUnionTypes: true } as const;
    const AjvClass = contract.dialect === '3.1' ? Ajv2020 : Ajv;
    this.params = new AjvClass({ ...options, coerceTypes: 'array' });
    this.bodies = new AjvClass({ ...options });
    for (const ajv of [this.params, this.bodies]) {
      addFormats(ajv as Ajv);
      // OpenAPI's own formats that JSON Schema does not define: accept, so they never fail a compile
      for (const format of ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password']) ajv.addFormat(format, true);
      ajv.addSchema(document as object, CONTRACT_ID);
    }
  }

  /** Validator for the schema at `pointer` in the document (a body or a response body). */
  body(pointer: string, what: string): ValidateFunction | undefined {
    return this.compile(this.bodies, { $ref: ref(pointer) }, what);
  }

  /**
   * Validator for a set of parameters of one location, as one object schema: each property refers to the
   * parameter's schema in the document. `closed` rejects parameters the contract does not name.
   */
  parameters(
    parameters: Array<{ name: string; pointer: string; required: boolean }>,
    closed: boolean,
    what: string,
  ): ValidateFunction | undefined {
    const schema = {
      type: 'object',
      properties: Object.fromEntries(parameters.map((p) => [p.name, { $ref: ref(p.pointer) }])),
      required: parameters.filter((p) => p.required).map((p) => p.name),
      additionalProperties: !closed,
    };
    return this.compile(this.params, schema, what);
  }

  private compile(ajv: Ajv | Ajv2020, schema: object, what: string): ValidateFunction | undefined {
    try {
      return ajv.compile(schema);
    } catch (err) {
      // one broken schema must not take the whole contract down: serve it unvalidated and say so
      this.warnings.push(`${what}: schema not validated (${err instanceof Error ? err.message : String(err)})`);
      return undefined;
    }
  }
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
      message = location === 'body' || location === 'response' ? 'is not allowed here by the contract' : 'is not a parameter of this operation';
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

/**
 * OpenAPI 3.0 schemas are a JSON Schema draft-04 dialect: `exclusiveMinimum: true` is a flag on `minimum`.
 * ajv speaks draft-07, where it is a number; rewrite so such contracts compile.
 */
function normalizeOas30<T>(node: T): T {
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
    for (const value of Object.values(o)) normalizeOas30(value);
  }
  return node;
}
