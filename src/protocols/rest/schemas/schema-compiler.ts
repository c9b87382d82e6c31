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
import type { ContractError } from '../../../engine/exchange.js';
import { pointerToken, type LoadedContract } from '../contract.js';
import { decodePointer, SchemaWalker, suspicion } from './schema-walk.js';
import { normalizeOas30, notRequiring } from './schema-views.js';

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
