/**
 * Finds the resources of a user's OpenAPI contract, so that it can be served with state (issue #14 §2): a
 * collection path (`/pets`, `/stores/{storeId}/orders`) with POST and/or GET, and its item path (the collection
 * plus `/{param}`) with GET, PUT, PATCH and DELETE. `POST /pets` then `GET /pets/{id}` gives back what was posted.
 *
 * Inference is by the shape of the paths, because that is what vendor contracts share; names differ too much
 * (`/pet` vs `/pets`, `petId` vs `id`) to be relied on. Paths are grouped by their template with parameter names
 * blanked (`/stores/{}/orders`), so an item path whose parent parameter is spelled differently still pairs up.
 * A path item's `x-understudy-resource` says what inference cannot: `{ name, id }` names the resource (paths
 * given one name form one resource, `/pet` with `/pet/{petId}`) and its id property; `false` opts that path out.
 *
 * What fits no resource (`/pets/{id}/photo`, a GET-only report) is left out: the engine keeps generating its
 * responses. A collection that can only be read and has no item path is left out too: nothing could ever fill it.
 */
import type { OpenAPIV3 } from 'openapi-types';
import { resolveRef } from '../contract.js';
import { HTTP_METHODS, mediaKind } from '../operations.js';
import { pointerOf } from '../schemas/schema-compiler.js';
import { resolveSchema, typeOf, viewOf, type Schema, type SchemaView } from './schema-view.js';

/** on a path item: `{ name?, id? }` declares the resource, `false` opts the path out */
export const RESOURCE_EXTENSION = 'x-understudy-resource';
/** at the document's root: `true` serves the contract with state */
export const STATEFUL_EXTENSION = 'x-understudy-stateful';

export type CrudAction = 'create' | 'list' | 'read' | 'replace' | 'update' | 'delete';

export interface ResourceOperation {
  /** the engine's id for it: operationId, else `METHOD /path` (operations.ts) */
  id: string;
  action: CrudAction;
  method: string;
  /** the path template as the contract writes it (no mount) */
  path: string;
  operation: OpenAPIV3.OperationObject;
  /** the operation's parameters, path-level ones merged in, $refs resolved */
  parameters: OpenAPIV3.ParameterObject[];
  /** the path parameters that select the collection (parents), in template order: orders of store 1 ≠ of store 2 */
  scope: string[];
  /** the path parameter that names one record (item paths only) */
  itemParam?: string;
}

export interface Resource {
  /** unique: the declared name, else the collection's template with parameter names blanked */
  key: string;
  /** for messages: the declared name, else the collection's last segment (`pets`) */
  label: string;
  collectionPath?: string;
  itemPath?: string;
  /** the record's property that holds its id; undefined: the id lives only in the path */
  idProperty?: string;
  /** how new ids are made */
  idKind: 'integer' | 'uuid' | 'string';
  /** the id's schema (property, else item path parameter) */
  idSchema: Schema | undefined;
  /**
   * for string ids the contract constrains so that a short generated one would not do (a pattern, an enum,
   * lengths, on the property or the item path parameter, which must accept the id to reach the record again):
   * the schema new ids are generated from
   */
  idPattern?: Schema;
  /** the client may choose the id (posts it): not when the id property is readOnly */
  clientIds: boolean;
  schema: SchemaView;
  operations: ResourceOperation[];
}

interface PathInfo {
  path: string;
  item: OpenAPIV3.PathItemObject;
  pointer: string;
  /** literal and parameter segments; parameters as `{}` */
  segments: string[];
  params: string[];
  declared?: { name?: string; id?: string };
}

/** Whether the document asks for state itself: `x-understudy-stateful: true`, or any `x-understudy-resource` object. */
export function documentWantsState(document: unknown): boolean {
  const doc = document as Record<string, unknown>;
  if (doc[STATEFUL_EXTENSION] === true) return true;
  const paths = (doc.paths ?? {}) as Record<string, unknown>;
  return Object.entries(paths).some(([path, raw]) => {
    const item = safeResolve<Record<string, unknown>>(document, raw, pointerOf('paths', path));
    const declared = item?.[RESOURCE_EXTENSION];
    return declared !== null && typeof declared === 'object';
  });
}

export function inferResources(document: unknown): Resource[] {
  const doc = document as OpenAPIV3.Document;
  const infos: PathInfo[] = [];
  for (const [path, raw] of Object.entries(doc.paths ?? {})) {
    const located = safeResolveLocated<OpenAPIV3.PathItemObject>(document, raw, pointerOf('paths', path));
    if (!located) continue;
    const declared = (located.value as Record<string, unknown>)[RESOURCE_EXTENSION];
    if (declared === false) continue;
    const segments = path.split('/').filter(Boolean).map((s) => (/^\{[^}]+\}$/.test(s) ? '{}' : s));
    const params = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    const info: PathInfo = { path, item: located.value, pointer: located.pointer, segments, params };
    if (declared !== undefined) info.declared = readDeclaration(path, declared);
    infos.push(info);
  }

  // structural pairs: a collection (ends in a literal) and its item (the collection plus one parameter)
  const groups = new Map<string, { collection?: PathInfo; item?: PathInfo; declared?: { name?: string; id?: string } }>();
  const join = (key: string, role: 'collection' | 'item', info: PathInfo) => {
    let group = groups.get(key);
    if (!group) groups.set(key, (group = {}));
    if (group[role] !== undefined) {
      throw new Error(`${RESOURCE_EXTENSION}: ${group[role]!.path} and ${info.path} are both the ${role} path of the resource ${key.replace(/^name:/, '')}; name them apart`);
    }
    group[role] = info;
    if (info.declared) group.declared = { ...group.declared, ...info.declared };
  };
  // a declared name wins over the structure; the partner of a named path follows it (unless it names another)
  const nameOf = new Map<PathInfo, string>();
  const byTemplate = new Map(infos.map((i) => [i.segments.join('/'), i]));
  for (const info of infos) {
    const name = info.declared?.name;
    if (name === undefined) continue;
    nameOf.set(info, name);
    const last = info.segments[info.segments.length - 1];
    const partner = last === '{}' ? byTemplate.get(info.segments.slice(0, -1).join('/')) : byTemplate.get([...info.segments, '{}'].join('/'));
    if (partner && partner.declared?.name === undefined) nameOf.set(partner, name);
  }
  for (const info of infos) {
    const last = info.segments[info.segments.length - 1];
    if (last === undefined) continue; // the root path is no collection
    const isItem = last === '{}' && info.segments.length >= 2 && info.segments[info.segments.length - 2] !== '{}';
    const named = nameOf.get(info);
    if (named !== undefined) join(`name:${named}`, last === '{}' ? 'item' : 'collection', info);
    else if (isItem) join(info.segments.slice(0, -1).join('/'), 'item', info);
    else if (last !== '{}') join(info.segments.join('/'), 'collection', info);
  }

  const resources: Resource[] = [];
  for (const [key, group] of groups) {
    const resource = buildResource(document, key, group);
    if (resource) resources.push(resource);
  }
  return resources;
}

function buildResource(
  document: unknown,
  key: string,
  group: { collection?: PathInfo; item?: PathInfo; declared?: { name?: string; id?: string } },
): Resource | undefined {
  const { collection, item, declared } = group;
  const has = (info: PathInfo | undefined, method: string) => info?.item[method as keyof OpenAPIV3.PathItemObject] !== undefined;
  const creatable = has(collection, 'post') || has(item, 'put');
  const reachable = has(collection, 'post') || (item !== undefined && (has(collection, 'get') || has(item, 'put')));
  // nothing could ever put a record in it: the contract's generated answers serve it better
  if (!declared && !(creatable && reachable)) return undefined;

  const operations: ResourceOperation[] = [];
  const add = (info: PathInfo | undefined, method: string, action: CrudAction) => {
    const op = info?.item[method as keyof OpenAPIV3.PathItemObject] as OpenAPIV3.OperationObject | undefined;
    if (!info || !op || typeof op !== 'object') return;
    const parameters = parametersOf(document, info, method);
    const isItem = info === item;
    const scope = isItem ? info.params.slice(0, -1) : info.params;
    if ((action === 'create' || action === 'replace' || action === 'update') && !takesObjectBody(document, op)) return;
    operations.push({
      id: op.operationId ?? `${method.toUpperCase()} ${info.path}`,
      action,
      method: method.toUpperCase(),
      path: info.path,
      operation: op,
      parameters,
      scope,
      ...(isItem ? { itemParam: info.params[info.params.length - 1] } : {}),
    });
  };
  add(collection, 'post', 'create');
  add(collection, 'get', 'list');
  add(item, 'get', 'read');
  add(item, 'put', 'replace');
  add(item, 'patch', 'update');
  add(item, 'delete', 'delete');
  if (operations.length === 0) return undefined;

  const itemParam = item ? item.params[item.params.length - 1] : undefined;
  const schema = viewOf(document, resourceSchema(document, collection, item));
  const idProperty = pickIdProperty(schema, key, collection ?? item!, itemParam, declared?.id);
  const itemParamSchema = itemParam !== undefined && item ? resolveSchema(document, pathParamSchema(document, item, itemParam)) : undefined;
  const idSchema = (idProperty !== undefined ? schema.properties.get(idProperty) : undefined) ?? itemParamSchema;
  const idType = typeOf(idSchema);
  const idKind = idType === 'integer' || idType === 'number' ? 'integer' : idSchema?.format === 'uuid' || itemParamSchema?.format === 'uuid' ? 'uuid' : 'string';
  // a 12-character id of letters and digits (resource-state.ts) fits unless a pattern, an enum or lengths rule it out
  const constrained = (s: Schema | undefined) =>
    s !== undefined && typeOf(s) === 'string' && (s.pattern !== undefined || s.enum !== undefined || (s.minLength ?? 0) > 12 || (s.maxLength ?? Infinity) < 12);
  const idPattern = idKind === 'string' ? [itemParamSchema, idSchema].find(constrained) : undefined;
  const literal = (collection ?? item)!.segments.filter((s) => s !== '{}');
  return {
    key,
    label: declared?.name ?? literal[literal.length - 1] ?? key,
    ...(collection ? { collectionPath: collection.path } : {}),
    ...(item ? { itemPath: item.path } : {}),
    ...(idProperty !== undefined ? { idProperty } : {}),
    idKind,
    idSchema,
    ...(idPattern !== undefined ? { idPattern } : {}),
    clientIds: idProperty !== undefined && !schema.readOnly.has(idProperty),
    schema,
    operations,
  };
}

/** The resource's schema: the item GET's 200 JSON schema, else the POST's 2xx, else what POST or PUT takes. */
function resourceSchema(document: unknown, collection: PathInfo | undefined, item: PathInfo | undefined): unknown {
  const get = item?.item.get;
  const post = collection?.item.post;
  const put = item?.item.put;
  return (
    responseSchema(document, get, (code) => code === '200') ??
    responseSchema(document, get, (code) => /^2\d\d$/.test(code)) ??
    responseSchema(document, post, (code) => /^2\d\d$/.test(code)) ??
    bodySchema(document, post) ??
    bodySchema(document, put)
  );
}

/** the JSON schema of the lowest declared response whose code passes `accepts` */
export function responseSchema(document: unknown, op: OpenAPIV3.OperationObject | undefined, accepts: (code: string) => boolean): unknown {
  if (!op) return undefined;
  const codes = Object.keys(op.responses ?? {}).filter(accepts).sort();
  for (const code of codes) {
    const response = safeResolve<OpenAPIV3.ResponseObject>(document, op.responses[code], '');
    const schema = jsonContent(response?.content)?.schema;
    if (schema !== undefined && typeOf(resolveSchema(document, schema)) === 'object') return schema;
  }
  return undefined;
}

function bodySchema(document: unknown, op: OpenAPIV3.OperationObject | undefined): unknown {
  if (!op?.requestBody) return undefined;
  const body = safeResolve<OpenAPIV3.RequestBodyObject>(document, op.requestBody, '');
  const schema = jsonContent(body?.content)?.schema;
  return schema !== undefined && typeOf(resolveSchema(document, schema)) === 'object' ? schema : undefined;
}

export function jsonContent(content: Record<string, OpenAPIV3.MediaTypeObject> | undefined): OpenAPIV3.MediaTypeObject | undefined {
  const type = Object.keys(content ?? {}).find((t) => mediaKind(t.toLowerCase().split(';')[0].trim()) === 'json');
  return type === undefined ? undefined : content![type];
}

/**
 * A body the handlers can read as a record: JSON (merge patches included) or a form, or no body at all. An
 * operation taking only JSON Patch (RFC 6902) documents or binary uploads stays generated.
 */
function takesObjectBody(document: unknown, op: OpenAPIV3.OperationObject): boolean {
  if (!op.requestBody) return true;
  const body = safeResolve<OpenAPIV3.RequestBodyObject>(document, op.requestBody, '');
  return Object.keys(body?.content ?? {}).some((t) => {
    const type = t.toLowerCase().split(';')[0].trim();
    return type !== 'application/json-patch+json' && mediaKind(type) !== 'other';
  });
}

/**
 * The id property: the declared one; the item path parameter's name when the record has it (`petId`); `id`; the
 * one property named for the resource (`petId`, `pet_id`); the only property named like an id (`*Id`, `*_id`).
 */
function pickIdProperty(schema: SchemaView, key: string, info: PathInfo, itemParam: string | undefined, declared: string | undefined): string | undefined {
  if (declared !== undefined) return declared;
  const names = [...schema.properties.keys()];
  if (itemParam !== undefined && schema.properties.has(itemParam)) return itemParam;
  if (schema.properties.has('id')) return 'id';
  const literal = info.segments.filter((s) => s !== '{}');
  const plural = (key.startsWith('name:') ? key.slice(5) : literal[literal.length - 1] ?? '').toLowerCase();
  const singular = plural.endsWith('ies') ? plural.slice(0, -3) + 'y' : plural.endsWith('ses') ? plural.slice(0, -2) : plural.replace(/s$/, '');
  const own = names.filter((n) => [`${singular}id`, `${singular}_id`, `${plural}id`, `${plural}_id`].includes(n.toLowerCase()));
  if (own.length === 1) return own[0];
  const idLike = names.filter((n) => /(Id|_id|ID)$/.test(n));
  return idLike.length === 1 ? idLike[0] : undefined;
}

function readDeclaration(path: string, declared: unknown): { name?: string; id?: string } {
  if (declared === true) return {};
  if (declared === null || typeof declared !== 'object' || Array.isArray(declared)) {
    throw new Error(`${path}: ${RESOURCE_EXTENSION} is { name, id } or false, not ${JSON.stringify(declared)}`);
  }
  const { name, id, ...rest } = declared as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length) throw new Error(`${path}: ${RESOURCE_EXTENSION} takes name and id, not ${unknown.join(', ')}`);
  if (name !== undefined && (typeof name !== 'string' || !/^[A-Za-z0-9._~-]{1,100}$/.test(name))) throw new Error(`${path}: ${RESOURCE_EXTENSION} name must be a short word (letters, digits, . _ ~ -)`);
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > 200)) throw new Error(`${path}: ${RESOURCE_EXTENSION} id must name a property`);
  return { ...(name !== undefined ? { name: name as string } : {}), ...(id !== undefined ? { id: id as string } : {}) };
}

/** path-level parameters overridden by the operation's own (same name and location), as operations.ts does */
function parametersOf(document: unknown, info: PathInfo, method: string): OpenAPIV3.ParameterObject[] {
  const out = new Map<string, OpenAPIV3.ParameterObject>();
  const op = info.item[method as keyof OpenAPIV3.PathItemObject] as OpenAPIV3.OperationObject | undefined;
  for (const raw of [...(info.item.parameters ?? []), ...(op?.parameters ?? [])]) {
    const p = safeResolve<OpenAPIV3.ParameterObject>(document, raw, '');
    if (p && typeof p.name === 'string') out.set(`${p.in}:${p.name}`, p);
  }
  return [...out.values()];
}

function pathParamSchema(document: unknown, info: PathInfo, name: string): unknown {
  for (const method of HTTP_METHODS) {
    const found = parametersOf(document, info, method).find((p) => p.in === 'path' && p.name === name);
    if (found?.schema) return found.schema;
  }
  return undefined;
}

function safeResolve<T>(document: unknown, raw: unknown, pointer: string): T | undefined {
  return safeResolveLocated<T>(document, raw, pointer)?.value;
}

function safeResolveLocated<T>(document: unknown, raw: unknown, pointer: string): { value: T; pointer: string } | undefined {
  try {
    const located = resolveRef<T>(document, raw, pointer);
    return located.value !== null && typeof located.value === 'object' ? located : undefined;
  } catch {
    return undefined;
  }
}
