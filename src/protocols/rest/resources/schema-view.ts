/**
 * What the stateful handlers need to know about a resource's JSON Schema, read once at start-up: its top-level
 * properties (through $refs and allOf, where vendor schemas put them: `Pet = allOf[NewPet, {id}]`), which of them
 * the server owns (readOnly, and timestamps) and which the client sends but never reads back (writeOnly).
 *
 * Only the top level is read: a record is created, replaced and merged property by property at the top, and the
 * id, timestamps and readOnly fields of real APIs live there. Nested objects are kept as the client sent them.
 */
import type { OpenAPIV3 } from 'openapi-types';
import { resolvedOrUndefined } from '../contract.js';

export type Schema = OpenAPIV3.SchemaObject & { const?: unknown };

/** deepest allOf nesting followed (schemas are bounded documents, but a cycle through allOf must not hang us) */
const MAX_ALLOF_DEPTH = 16;

/** names of properties that record when a record was made or changed (compared lower-case, without _ and -) */
const CREATED_NAMES = new Set(['created', 'createdat', 'createdon', 'createdtime', 'creationdate', 'creationtime', 'datecreated', 'inserted', 'insertedat']);
const UPDATED_NAMES = new Set(['updated', 'updatedat', 'updatedon', 'updatedtime', 'modified', 'modifiedat', 'modifiedon', 'lastmodified', 'lastmodifiedat', 'lastupdated', 'lastupdatedat', 'datemodified', 'dateupdated']);

export interface SchemaView {
  /** the schema as the document has it (a {$ref} or inline), for the sampler */
  raw: unknown;
  /** the resolved schema object: identity tells "this is the resource" in other responses */
  resolved: Schema | undefined;
  properties: Map<string, Schema>;
  readOnly: Set<string>;
  writeOnly: Set<string>;
  /** string date-time (or date) properties the server stamps: on creation only, or on every change */
  createdStamps: Map<string, 'date-time' | 'date'>;
  updatedStamps: Map<string, 'date-time' | 'date'>;
}

/** the schema `raw` is or refers to (contract.ts resolvedOrUndefined, typed as this folder reads schemas) */
export function resolveSchema(document: unknown, raw: unknown): Schema | undefined {
  return resolvedOrUndefined<Schema>(document, raw);
}

/** The top-level properties of an object schema, allOf parts merged in order (later ones win, as validation would). */
export function objectProperties(document: unknown, raw: unknown, depth = 0): Map<string, Schema> {
  const out = new Map<string, Schema>();
  const schema = resolveSchema(document, raw);
  if (!schema || depth > MAX_ALLOF_DEPTH) return out;
  for (const part of schema.allOf ?? []) for (const [name, prop] of objectProperties(document, part, depth + 1)) out.set(name, prop);
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const resolved = resolveSchema(document, prop);
    if (resolved) out.set(name, resolved);
  }
  return out;
}

export function viewOf(document: unknown, raw: unknown): SchemaView {
  const properties = objectProperties(document, raw);
  const view: SchemaView = {
    raw,
    resolved: resolveSchema(document, raw),
    properties,
    readOnly: new Set(),
    writeOnly: new Set(),
    createdStamps: new Map(),
    updatedStamps: new Map(),
  };
  for (const [name, prop] of properties) {
    if (prop.readOnly === true) view.readOnly.add(name);
    if (prop.writeOnly === true) view.writeOnly.add(name);
    const type = Array.isArray(prop.type) ? (prop.type as string[]).find((t) => t !== 'null') : prop.type;
    if (type !== 'string' || prop.enum !== undefined || prop.const !== undefined) continue;
    // named like a creation or change time, and a date-time (or date) or readOnly: the server's clock stamps it
    const plain = name.toLowerCase().replace(/[_-]/g, '');
    const timeLike = prop.format === 'date-time' || prop.format === 'date';
    if (!timeLike && prop.readOnly !== true) continue;
    const format = prop.format === 'date' ? 'date' : 'date-time';
    if (UPDATED_NAMES.has(plain)) view.updatedStamps.set(name, format);
    else if (CREATED_NAMES.has(plain)) view.createdStamps.set(name, format);
  }
  return view;
}

/** the schema's type, the non-null one of a list */
export function typeOf(schema: Schema | undefined): string | undefined {
  if (!schema) return undefined;
  if (Array.isArray(schema.type)) return (schema.type as string[]).find((t) => t !== 'null');
  return schema.type ?? (schema.properties || schema.allOf ? 'object' : undefined);
}

/** whether null is a value of the schema (OpenAPI 3.0 `nullable`, 3.1 `type: [..., 'null']`) */
export function allowsNull(schema: Schema): boolean {
  return (schema as { nullable?: boolean }).nullable === true || (Array.isArray(schema.type) && (schema.type as string[]).includes('null'));
}
