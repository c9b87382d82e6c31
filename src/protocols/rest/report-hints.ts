/**
 * What the report card needs to know about a REST operation that only its contract says (OperationInfo.records
 * and .fieldSelection): whether it is a bulk operation, whose body carries a list of records, and whether a read
 * lets the caller select the fields it wants. Read from the schemas, so a user's --contract gets the same checks.
 */
import type { OpenAPIV3 } from 'openapi-types';
import { resolveRef } from './contract.js';

/** query parameters that conventionally select the fields of a read */
const FIELD_SELECTORS = new Set(['fields', 'select', '$select', '_fields']);
/** set on a query parameter to say it selects fields, whatever its name */
export const FIELD_SELECTION_EXTENSION = 'x-understudy-field-selection';

/**
 * The JSON pointer to the records of a bulk operation's JSON body: '' when the body is an array of objects, or
 * '/name' when it is an object whose only required property is an array of objects (`{ adjustments: [...] }`).
 * An order with its lines (`{ externalOrderId, lines: [...] }`) is one record, not a batch of lines.
 */
export function recordsPointer(doc: OpenAPIV3.Document, operation: OpenAPIV3.OperationObject, opPointer: string): string | undefined {
  if (!operation.requestBody) return undefined;
  const body = resolveRef<OpenAPIV3.RequestBodyObject>(doc, operation.requestBody, `${opPointer}/requestBody`).value;
  const json = Object.entries(body.content ?? {}).find(([type]) => /json/i.test(type))?.[1];
  if (!json?.schema) return undefined;
  const schema = resolve(doc, json.schema);
  if (isListOfObjects(doc, schema)) return '';
  if (schema.type !== 'object' || !schema.properties) return undefined;
  const required = schema.required ?? [];
  if (required.length !== 1) return undefined;
  const only = schema.properties[required[0]];
  if (only === undefined || !isListOfObjects(doc, resolve(doc, only))) return undefined;
  return '/' + required[0].replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The query parameter that selects fields, when the operation has one. */
export function fieldSelectionParameter(parameters: readonly OpenAPIV3.ParameterObject[]): string | undefined {
  return parameters.find(
    (p) => p.in === 'query' && (FIELD_SELECTORS.has(p.name) || (p as unknown as Record<string, unknown>)[FIELD_SELECTION_EXTENSION] === true),
  )?.name;
}

function resolve(doc: OpenAPIV3.Document, schema: OpenAPIV3.SchemaObject | OpenAPIV3.ReferenceObject): OpenAPIV3.SchemaObject {
  return resolveRef<OpenAPIV3.SchemaObject>(doc, schema, '').value;
}

function isListOfObjects(doc: OpenAPIV3.Document, schema: OpenAPIV3.SchemaObject): boolean {
  if (schema.type !== 'array' || !('items' in schema) || !schema.items) return false;
  const items = resolve(doc, schema.items);
  return items.type === 'object' || items.properties !== undefined;
}
