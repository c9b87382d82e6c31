/**
 * Form-encoded request bodies (application/x-www-form-urlencoded), decoded with qs: bracket keys make nested
 * objects and arrays (`metadata[order_id]=SO-1`, `card[number]=…`, `expand[]=customer`), which is how Stripe's
 * API, its client libraries and Apex code written for it encode a body, and how OpenAPI's `deepObject` style writes
 * an object. Values stay strings here: the operation's form validator coerces them to what its schema says
 * (schema-compiler.ts formBody). Limits keep an absurd form from costing more than a large JSON body would; past
 * them the body is refused, never cut silently. Objects have no prototype, so no key (`constructor`,
 * `hasOwnProperty`) can reach Object.prototype; qs drops `__proto__` keys.
 *
 * Also here, shared with multipart bodies (multipart-body.ts): the form's plan, read once from the schema and the
 * media type's `encoding` map, saying how each named field is serialised — plain text (coerced by the validator),
 * JSON (`encoding.<name>.contentType: application/json`, or an object property, whose default content type
 * OpenAPI says is JSON), a file (`format: binary`, `contentMediaType`, or a non-text `contentType`), and an
 * array written as one delimited value (`style: form` with `explode: false`, `spaceDelimited`, `pipeDelimited`).
 */
import type { OpenAPIV3 } from 'openapi-types';
import qs from 'qs';
import { resolvedOrUndefined } from '../contract.js';

const OPTIONS: qs.IParseOptions = {
  depth: 8,
  strictDepth: true,
  arrayLimit: 100,
  parameterLimit: 1000,
  throwOnLimitExceeded: true,
  allowPrototypes: true,
  plainObjects: true,
  charset: 'utf-8',
};

/** The form as an object, or why it cannot be read (too deep, too many parameters, too long an array). */
export function parseForm(text: string): { value: Record<string, unknown> } | { error: string } {
  try {
    return { value: qs.parse(text, OPTIONS) as Record<string, unknown> };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** How one named field (or part) of a form is written. */
export interface FieldPlan {
  as: 'text' | 'json' | 'file';
  /** the schema is an array: repeated fields make it, one field is a list of one */
  array: boolean;
  /** an array written as one value (`explode: false`): the items are split on this */
  delimiter?: string;
}

/** The plan of a form's fields, by name; fields it does not name are text. */
export type FormPlan = Map<string, FieldPlan>;

type Schema = OpenAPIV3.SchemaObject & { contentMediaType?: string; type?: string | string[] };

const DELIMITERS: Record<string, string> = { form: ',', spaceDelimited: ' ', pipeDelimited: '|' };

/**
 * The plan of the form whose schema is `raw` (as written, $refs allowed), with the media type's `encoding` map.
 * Properties are read from the schema and its allOf members; a schema that cannot be followed gives an empty plan
 * (every field text), never an error here: the load-time check reports unresolvable references.
 */
export function formPlan(document: unknown, raw: unknown, encoding: Record<string, OpenAPIV3.EncodingObject> = {}): FormPlan {
  const plan: FormPlan = new Map();
  const properties = new Map<string, unknown>();
  const collect = (node: unknown, depth: number) => {
    const schema = resolvedOrUndefined<Schema>(document, node);
    if (!schema || depth > 8) return;
    for (const [name, property] of Object.entries(schema.properties ?? {})) if (!properties.has(name)) properties.set(name, property);
    for (const member of schema.allOf ?? []) collect(member, depth + 1);
  };
  collect(raw, 0);
  for (const [name, rawProperty] of properties) {
    const property = resolvedOrUndefined<Schema>(document, rawProperty);
    const items = property && isType(property, 'array') ? resolvedOrUndefined<Schema>(document, (property as OpenAPIV3.ArraySchemaObject).items) : undefined;
    const array = items !== undefined || (property !== undefined && isType(property, 'array'));
    const value = items ?? property;
    const declared = encoding[name];
    const contentType = declared?.contentType?.split(',')[0].trim().toLowerCase();
    let as: FieldPlan['as'] = 'text';
    if (value && isFile(value)) as = 'file';
    if (contentType !== undefined) {
      if (isJsonType(contentType)) as = 'json';
      else if (!contentType.startsWith('text/')) as = 'file';
    } else if (value && isType(value, 'object') && as === 'text') as = 'json';
    const style = declared?.style ?? 'form';
    const explode = declared?.explode ?? style === 'form';
    const delimiter = array && as === 'text' && !explode ? DELIMITERS[style] : undefined;
    plan.set(name, { as, array, ...(delimiter !== undefined ? { delimiter } : {}) });
  }
  return plan;
}

/** A file's schema: binary content, not text the validator could check. */
function isFile(schema: Schema): boolean {
  return schema.format === 'binary' || typeof schema.contentMediaType === 'string';
}

function isType(schema: Schema, type: string): boolean {
  if (Array.isArray(schema.type)) return schema.type.includes(type);
  if (schema.type !== undefined) return schema.type === type;
  if (type === 'object') return schema.properties !== undefined;
  if (type === 'array') return (schema as OpenAPIV3.ArraySchemaObject).items !== undefined;
  return false;
}

export function isJsonType(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json');
}

/**
 * The form's values read by its plan, in place: delimited arrays split, JSON fields parsed. Returns a problem per
 * field that is not what its encoding says (invalid JSON), pointing at the field.
 */
export function applyFormPlan(value: Record<string, unknown>, plan: FormPlan): Array<{ pointer: string; message: string }> {
  const problems: Array<{ pointer: string; message: string }> = [];
  for (const [name, field] of plan) {
    const current = value[name];
    if (current === undefined) continue;
    if (field.delimiter !== undefined && typeof current === 'string') value[name] = current === '' ? [] : current.split(field.delimiter);
    if (field.as === 'json') {
      const parse = (text: unknown): unknown => {
        if (typeof text !== 'string') return text;
        try {
          return JSON.parse(text);
        } catch (err) {
          problems.push({ pointer: `/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`, message: `is not valid JSON, as its encoding says it is: ${(err as Error).message}` });
          return text;
        }
      };
      value[name] = Array.isArray(current) ? current.map(parse) : parse(current);
    }
  }
  return problems;
}
