/**
 * The handlers that make a user's contract stateful: one RestHandler per operation of each inferred resource
 * (infer.ts), over the workspace's ResourceState. POST creates, GET reads and lists, PUT replaces, PATCH merges,
 * DELETE removes; what is answered is always a response the operation declares.
 *
 * Written as built-in systems' handlers are (engine/system-states.ts's rules): synchronous, deterministic (ids
 * and generated fields from the seed and the collection's sequence, times from the state's clock), and changing
 * the state only when answering 2xx, so that the engine's write log replays them into the same records after a
 * restart. Refusals are problem results (handler.ts problem()); the engine rewrites them into the error shape the
 * operation declares (RestEngineOptions.declaredErrors).
 *
 * A record is made of: a seeded sample of the resource schema for what the client did not send, the client's
 * body over it, and the server's own fields over that (the id, readOnly properties, timestamps, the parent path
 * values). writeOnly properties are kept but never shown. Only JSON is answered.
 */
import type { OpenAPIV3 } from 'openapi-types';
import { hashKey } from '../../../util/seeded-random.js';
import { problem, type RestHandler, type RestRequest, type RestResult } from '../handler.js';
import type { SchemaSampler } from '../generate/schema-sampler.js';
import { jsonContent, type Resource, type ResourceOperation } from './infer.js';
import { fillWrapper, filterRecords, pageOf, planList, type ListPlan } from './list-query.js';
import { copyJson, hasOwn, isPlainObject, mergePatch, setOwn, type JsonObject } from './record-values.js';
import type { ResourceState } from './resource-state.js';
import { allowsNull, objectProperties, resolveSchema, type Schema } from './schema-view.js';

/** ids longer than this are shown shortened in messages (a 10 KB id is not echoed back) */
const SHOWN_ID_LENGTH = 80;

interface Answer {
  status: number;
  /** the JSON schema of its body; undefined: no body */
  schema?: unknown;
  contentType?: string;
  /** declared response headers (lower-case name → header object), Content-Type aside */
  headers: Array<[string, OpenAPIV3.HeaderObject]>;
}

interface Plan {
  resource: Resource;
  op: ResourceOperation;
  answer: Answer;
  /** PUT that declares 201: a missing record is created with the path's id */
  created?: Answer;
  list?: ListPlan;
  /** top-level properties the client cannot set here: readOnly ones, and the resource's that this body lacks */
  serverOwned: Set<string>;
}

/** The handlers of every resource operation, by operation id. */
export function crudHandlers(document: unknown, resources: Resource[], sampler: SchemaSampler): Record<string, RestHandler<ResourceState>> {
  const handlers: Record<string, RestHandler<ResourceState>> = {};
  const byItemPath = new Map(resources.filter((r) => r.itemPath !== undefined).map((r) => [blanked(r.itemPath!), r]));
  for (const resource of resources) {
    for (const op of resource.operations) {
      const plan = planOf(document, resource, op);
      if (plan === undefined) continue;
      const handler = handlerFor(document, plan, sampler);
      const parent = parentOf(op, byItemPath);
      handlers[op.id] = parent === undefined ? handler : underParent(handler, parent, op);
    }
  }
  return handlers;
}

/** a path template with its parameter names blanked: `/stores/{}/orders` */
function blanked(path: string): string {
  return path.replace(/\{[^}]*\}/g, '{}');
}

/**
 * The resource whose record a nested operation's path goes through (`/stores/{storeId}` for the orders of
 * `/stores/{storeId}/orders`), when the contract has it as a stateful resource: the orders of a store that does
 * not exist are then a 404, as the vendor would answer.
 */
function parentOf(op: ResourceOperation, byItemPath: ReadonlyMap<string, Resource>): Resource | undefined {
  if (op.scope.length === 0) return undefined;
  const last = op.scope[op.scope.length - 1];
  const end = op.path.indexOf(`{${last}}`) + last.length + 2;
  // its item path is our path up to our last parent parameter: its collection is scoped by the ones before
  return byItemPath.get(blanked(op.path.slice(0, end)));
}

function underParent(handler: RestHandler<ResourceState>, parent: Resource, op: ResourceOperation): RestHandler<ResourceState> {
  return (req, state) => {
    const values = op.scope.map((name) => String(req.params[name]));
    const id = values[values.length - 1];
    if (!state.has(JSON.stringify([parent.key, ...values.slice(0, -1)]), id)) {
      return problem(404, 'not-found', `No ${parent.label} record has the id ${shown(req.params[op.scope[op.scope.length - 1]])}.`, { operation: op.id });
    }
    return handler(req, state);
  };
}

function planOf(document: unknown, resource: Resource, op: ResourceOperation): Plan | undefined {
  const responses = op.operation.responses ?? {};
  const answer = answerOf(document, op, responses, (code) => !(op.action === 'replace' && code === '201' && hasOtherSuccess(responses)));
  if (answer === undefined) return undefined;
  const plan: Plan = { resource, op, answer, serverOwned: serverOwned(document, resource, op) };
  if (op.action === 'replace' && responses['201'] !== undefined) plan.created = answerOf(document, op, responses, (code) => code === '201');
  if (op.action === 'list') {
    const list = planList(document, op.parameters, answer.schema, resource.schema.resolved, resource.schema.properties);
    if (list === undefined) return undefined;
    plan.list = list;
  }
  return plan;
}

function hasOtherSuccess(responses: OpenAPIV3.ResponsesObject): boolean {
  return Object.keys(responses).some((c) => /^2\d\d$/.test(c) && c !== '201');
}

/** the declared 2xx to answer with: the lowest code `accepts`, else the 2XX range, else default */
function answerOf(document: unknown, op: ResourceOperation, responses: OpenAPIV3.ResponsesObject, accepts: (code: string) => boolean): Answer | undefined {
  const code = Object.keys(responses).filter((c) => /^2\d\d$/.test(c) && accepts(c)).sort()[0];
  const key = code ?? Object.keys(responses).find((c) => c.toUpperCase() === '2XX') ?? Object.keys(responses).find((c) => c === 'default');
  if (key === undefined) return undefined;
  let response: OpenAPIV3.ResponseObject | undefined;
  try {
    response = resolveSchema(document, responses[key]) as OpenAPIV3.ResponseObject | undefined;
  } catch {
    return undefined;
  }
  const content = response?.content;
  const hasContent = content !== undefined && Object.keys(content).length > 0;
  const status = code !== undefined ? Number(code) : op.action === 'create' ? 201 : hasContent ? 200 : 204;
  const media = jsonContent(content);
  const contentType = media ? Object.keys(content!).find((t) => content![t] === media) : undefined;
  const headers = Object.entries(response?.headers ?? {})
    .filter(([name]) => name.toLowerCase() !== 'content-type')
    .map(([name, raw]): [string, OpenAPIV3.HeaderObject] => [name.toLowerCase(), (resolveSchema(document, raw) ?? {}) as OpenAPIV3.HeaderObject]);
  return {
    status,
    ...(media && status !== 204 ? { schema: media.schema ?? {}, contentType: contentType!.includes('*') ? 'application/json' : contentType } : {}),
    headers,
  };
}

/** readOnly properties, and, when the operation's body schema lists its properties, the resource's it lacks */
function serverOwned(document: unknown, resource: Resource, op: ResourceOperation): Set<string> {
  const owned = new Set(resource.schema.readOnly);
  let sent: Map<string, unknown> | undefined;
  if (op.operation.requestBody) {
    const body = resolveSchema(document, op.operation.requestBody) as unknown as OpenAPIV3.RequestBodyObject | undefined;
    const media = jsonContent(body?.content);
    if (media?.schema) sent = objectProperties(document, media.schema);
  }
  if (sent !== undefined && sent.size > 0) for (const name of resource.schema.properties.keys()) if (!sent.has(name)) owned.add(name);
  return owned;
}

function handlerFor(document: unknown, plan: Plan, sampler: SchemaSampler): RestHandler<ResourceState> {
  const { resource, op } = plan;
  const label = resource.label;

  /** the collection the request is in: the resource under its parent path values */
  const collectionOf = (req: RestRequest) => JSON.stringify([resource.key, ...op.scope.map((name) => String(req.params[name]))]);
  const notFound = (id: unknown) => problem(404, 'not-found', `No ${label} record has the id ${shown(id)}.`, { operation: op.id });
  const visible = (record: JsonObject): JsonObject => {
    const out = copyJson(record);
    for (const name of resource.schema.writeOnly) delete out[name];
    return out;
  };

  /** the record as the answer's schema has it: itself, or inside (or merged into) another declared object */
  const shaped = (answer: Answer, record: JsonObject, seed: number): unknown => {
    const schema = resolveSchema(document, answer.schema);
    if (schema === undefined || schema === resource.schema.resolved || resource.schema.resolved === undefined) return visible(record);
    const fields = objectProperties(document, answer.schema);
    if (fields.size === 0) return visible(record);
    const sample = copyJson(sampler.sample(answer.schema, seed));
    const out: JsonObject = isPlainObject(sample) ? sample : {};
    const shown = visible(record);
    for (const [name, field] of fields) {
      if (field === resource.schema.resolved) setOwn(out, name, shown);
      else if (hasOwn(shown, name)) setOwn(out, name, shown[name]);
    }
    return out;
  };

  const respond = (answer: Answer, req: RestRequest, state: ResourceState, record: JsonObject | undefined, id: unknown, body?: unknown): RestResult => {
    const headers: Record<string, string> = {};
    const seed = hashKey(state.seed, op.id, String(id));
    for (const [name, header] of answer.headers) {
      if (name === 'location') {
        const path = resource.itemPath ?? (resource.collectionPath !== undefined ? `${resource.collectionPath}/{}` : undefined);
        if (path !== undefined) headers.location = req.baseUrl + fillPath(path, [...op.scope.map((name) => req.params[name]), id]);
        continue;
      }
      const value = header.example ?? (header.schema ? sampler.sample(header.schema, hashKey(seed, name)) : undefined);
      if (value !== undefined && value !== null && typeof value !== 'object') headers[name] = String(value);
    }
    const result: RestResult = { status: answer.status, headers, ...(id !== undefined ? { key: String(id) } : {}) };
    if (answer.schema !== undefined) {
      result.body = body ?? (record !== undefined ? shaped(answer, record, seed) : undefined);
      if (answer.contentType) headers['content-type'] = answer.contentType;
    }
    return result;
  };

  /** the server's fields over a record: parent path values, the id, timestamps */
  const stamp = (record: JsonObject, req: RestRequest, state: ResourceState, id: unknown, created: JsonObject | undefined) => {
    for (const name of op.scope) if (resource.schema.properties.has(name)) setOwn(record, name, req.params[name]);
    if (resource.idProperty !== undefined && id !== undefined) setOwn(record, resource.idProperty, id);
    const now = new Date(state.clock.now()).toISOString();
    for (const [name, format] of resource.schema.createdStamps) {
      if (created !== undefined && hasOwn(created, name)) setOwn(record, name, created[name]);
      else setOwn(record, name, format === 'date' ? now.slice(0, 10) : now);
    }
    for (const [name, format] of resource.schema.updatedStamps) setOwn(record, name, format === 'date' ? now.slice(0, 10) : now);
  };

  // string ids the contract constrains (`^PO-[0-9]+$`) are generated from its schema, examples left out (an
  // example is one value: every record would get it)
  const idSchema = resource.idPattern !== undefined ? withoutExamples(resource.idPattern) : undefined;
  const newIdFrom = idSchema !== undefined ? (seed: number) => String(sampler.sample(idSchema, seed, resource.idProperty ?? 'id')) : undefined;

  /** POST (id from the body, else a new one), or PUT of a missing record declaring 201 (id from the path) */
  const create = (req: RestRequest, state: ResourceState, answer: Answer, pathId?: unknown): RestResult => {
    const body = req.body ?? {};
    if (!isPlainObject(body)) return problem(400, 'invalid-request', `The body must be a JSON object: a ${label} record.`, { operation: op.id });
    const collection = collectionOf(req);
    let id: unknown = pathId;
    const idProperty = resource.idProperty;
    if (id === undefined && resource.clientIds && idProperty !== undefined && hasOwn(body, idProperty) && body[idProperty] !== null) id = body[idProperty];
    if (id !== undefined && (typeof id === 'object' || String(id) === '')) return problem(400, 'invalid-request', `A ${label} id must be a number or a non-empty string.`, { operation: op.id });
    if (id !== undefined && state.has(collection, String(id))) return problem(409, 'conflict', `A ${label} record with the id ${shown(id)} exists already.`, { operation: op.id });
    if (state.full) {
      return problem(507, 'insufficient-storage', `This workspace holds ${state.size} records, the most limits.objects (${state.maxObjects}) allows: delete some, reset the workspace, or raise limits.objects.`, { operation: op.id });
    }
    id ??= state.newId(collection, resource.idKind, newIdFrom);
    if (id === undefined) {
      return problem(507, 'insufficient-storage', `No new ${label} id could be found that the contract's id schema accepts and no record has: send the id in the body.`, { operation: op.id });
    }
    const sequence = state.sequence(collection);
    const sample = resource.schema.raw !== undefined ? copyJson(sampler.sample(resource.schema.raw, hashKey(state.seed, resource.key, collection, sequence))) : {};
    const record: JsonObject = isPlainObject(sample) ? sample : {};
    for (const [name, value] of Object.entries(body)) if (!plan.serverOwned.has(name) || name === idProperty) setOwn(record, name, copyJson(value));
    stamp(record, req, state, id, undefined);
    state.insert(collection, id as number | string, record);
    return respond(answer, req, state, record, id);
  };

  const itemId = (req: RestRequest) => req.params[op.itemParam!];

  switch (op.action) {
    case 'create':
      return (req, state) => create(req, state, plan.answer);
    case 'read':
      return (req, state) => {
        const id = itemId(req);
        const record = state.get(collectionOf(req), String(id));
        return record === undefined ? notFound(id) : respond(plan.answer, req, state, record, id);
      };
    case 'list':
      return (req, state) => {
        const list = plan.list!;
        const matched = filterRecords(list, state.list(collectionOf(req)), req.query, resource.schema.properties);
        const page = pageOf(list, matched, req.query);
        const items = page.records.map(visible);
        if (list.shape.kind === 'array') return respond(plan.answer, req, state, undefined, undefined, items);
        const sample = copyJson(sampler.sample(list.shape.raw, hashKey(state.seed, op.id)));
        return respond(plan.answer, req, state, undefined, undefined, fillWrapper(document, isPlainObject(sample) ? sample : {}, list.shape, page, items));
      };
    case 'replace':
      return (req, state) => {
        const id = itemId(req);
        const collection = collectionOf(req);
        const existing = state.get(collection, String(id));
        if (existing === undefined) return plan.created !== undefined ? create(req, state, plan.created, id) : notFound(id);
        const body = req.body ?? {};
        if (!isPlainObject(body)) return problem(400, 'invalid-request', `The body must be a JSON object: a ${label} record.`, { operation: op.id });
        const record: JsonObject = {};
        for (const [name, value] of Object.entries(body)) if (!plan.serverOwned.has(name) && name !== resource.idProperty) setOwn(record, name, copyJson(value));
        for (const name of plan.serverOwned) if (hasOwn(existing, name)) setOwn(record, name, copyJson(existing[name]));
        stamp(record, req, state, resource.idProperty !== undefined ? existing[resource.idProperty] ?? id : id, existing);
        state.replace(collection, String(id), inSchemaOrder(record, resource.schema.properties));
        return respond(plan.answer, req, state, state.get(collection, String(id)), id);
      };
    case 'update':
      return (req, state) => {
        const id = itemId(req);
        const collection = collectionOf(req);
        const existing = state.get(collection, String(id));
        if (existing === undefined) return notFound(id);
        const patch = req.body ?? {};
        if (!isPlainObject(patch)) return problem(400, 'invalid-request', `The body must be a JSON object: the ${label} fields to change.`, { operation: op.id });
        const skip = new Set(plan.serverOwned);
        if (resource.idProperty !== undefined) skip.add(resource.idProperty);
        let record: JsonObject;
        if (isMergePatch(req)) record = mergePatch(existing, patch, skip) as JsonObject;
        else {
          // application/json: the top-level fields sent replace the record's; null clears a field the record's
          // schema does not let be null (the only way such an API can mean it)
          record = copyJson(existing);
          for (const [name, value] of Object.entries(patch)) {
            if (skip.has(name)) continue;
            const property = resource.schema.properties.get(name);
            if (value === null && property !== undefined && !allowsNull(property)) delete record[name];
            else setOwn(record, name, copyJson(value));
          }
        }
        stamp(record, req, state, resource.idProperty !== undefined ? existing[resource.idProperty] ?? id : id, existing);
        state.replace(collection, String(id), record);
        return respond(plan.answer, req, state, record, id);
      };
    case 'delete':
      return (req, state) => {
        const id = itemId(req);
        const collection = collectionOf(req);
        const existing = state.get(collection, String(id));
        if (existing === undefined) return notFound(id);
        state.remove(collection, String(id));
        return respond(plan.answer, req, state, existing, id);
      };
  }
}

/** the record's properties in the order the schema lists them, others after: a replaced record reads as a created one */
function inSchemaOrder(record: JsonObject, properties: ReadonlyMap<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const name of properties.keys()) if (hasOwn(record, name)) setOwn(out, name, record[name]);
  for (const [name, value] of Object.entries(record)) if (!hasOwn(out, name)) setOwn(out, name, value);
  return out;
}

function withoutExamples(schema: Schema): Schema {
  const { example: _example, examples: _examples, default: _default, ...rest } = schema as Schema & { examples?: unknown };
  return rest;
}

function isMergePatch(req: RestRequest): boolean {
  return String(req.headers['content-type'] ?? '').toLowerCase().split(';')[0].trim() === 'application/merge-patch+json';
}

/** the item path with `values` (the parent values, by position, then the id), each percent-encoded */
function fillPath(template: string, values: unknown[]): string {
  let index = 0;
  return template.replace(/\{[^}]*\}/g, () => encodeURIComponent(String(values[index++])));
}

function shown(id: unknown): string {
  const text = typeof id === 'number' ? String(id) : JSON.stringify(String(id));
  return text.length > SHOWN_ID_LENGTH ? `${text.slice(0, SHOWN_ID_LENGTH)}…" (${String(id).length} characters)` : text;
}
