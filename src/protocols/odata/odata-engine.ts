/**
 * The OData protocol engine: serves one model at one service root, as OData 4.0 or 2.0 (one engine per version;
 * the ERP mounts both over one state). It knows no domain: a system gives it entity-set handlers (handler.ts).
 *
 *   resolve          the resource path (resource-path.ts) and the method → operation `<Set>.query|read|count|
 *                    create|update|delete|delta`, `service` or `metadata` (the same names for v2 and v4: what the
 *                    journal shows and chaos `match.operation` matches); the response format (negotiate.ts); a
 *                    write's body, read before chaos so that the journal's `key` is known whoever answers
 *   keyOf            an entity's key, or a create's external key (ODataSystemDefinition.keys)
 *   validateRequest  $format; for writes the CSRF token (csrf.ts) and the body (write-body.ts); for reads the
 *                    query options, typed and compiled (query-plan.ts): a 400 naming the problem
 *   invoke           reads (reads.ts) and writes (writes.ts) over the workspace's state
 *   errorReply       every refusal and chaos status as the version's OData error, never problem+json
 *
 * Headers: v4 answers `OData-Version: 4.0`, v2 `DataServiceVersion: 2.0`. `X-HTTP-Method` tunnels MERGE, PATCH,
 * PUT and DELETE through POST (v2 clients behind proxies that only pass GET and POST do this).
 */
import type { Exchange, Reply } from '../../engine/exchange.js';
import type { OperationInfo, ProtocolEngine, Resolution } from '../../engine/system.js';
import { checkReply } from './check-reply.js';
import { CSRF_HEADER, CsrfTokens } from './csrf.js';
import { DeltaGoneError } from './delta-token.js';
import { QueryTypeError, SkipTokenError } from './evaluate/errors.js';
import type { ODataSystemDefinition, WriteValues } from './handler.js';
import type { Model } from './model/model.js';
import { acceptFormat, FormatError, formatOption, type ResponseFormat } from './negotiate.js';
import { planQuery, type QueryPlan } from './query-plan.js';
import { parseQueryString, QueryError, type ODataDialect, type ParsedQuery } from './query/index.js';
import { preferences, serveCount, serveDelta, serveEntity, serveQuery, serviceRootOf, type ReadContext } from './reads.js';
import { parseResourcePath, ResourceError, type Resource } from './resource-path.js';
import { errorReply, metadataReply, serviceReply, type Voice } from './respond.js';
import { applyWrite, writeReply, type LoggedODataWrite } from './writes.js';
import { readWriteBody, type BodyRefusal } from './write-body.js';
import { statusErrorCode } from '../status-codes.js';

export interface ODataEngineOptions {
  dialect: ODataDialect;
  /** the service root's path (/erp/odata/v4) */
  mount: string;
  model: Model;
  /** the $metadata document as served (v4: the CSDL; v2: the EDMX derived from it) */
  metadata: string;
  /** server-driven paging: rows per page (systems.erp.odataPageSize) */
  pageSize: number;
  /** writes need the SAP CSRF token */
  csrf: boolean;
  /** derives the CSRF tokens */
  seed: number;
  /** a gzip body is refused when it expands beyond this (the server's body limit) */
  maxBodyBytes: number;
}

export type ODataAction = 'service' | 'metadata' | 'query' | 'count' | 'read' | 'create' | 'update' | 'delete' | 'delta';

/** What resolve() and validateRequest() learnt, for invoke(). */
export interface ParsedOData {
  resource: Resource;
  action: ODataAction;
  voice: Voice;
  /** PUT: replace the entity (else merge) */
  replace?: boolean;
  query?: ParsedQuery;
  plan?: QueryPlan;
  body?: { values: WriteValues } | BodyRefusal;
}

const READ_METHODS = new Set(['GET', 'HEAD']);
const TUNNELLED = new Set(['MERGE', 'PATCH', 'PUT', 'DELETE']);


export class ODataEngine implements ProtocolEngine {
  readonly protocol = 'odata' as const;
  readonly operations: OperationInfo[] = [];
  private readonly byId = new Map<string, OperationInfo>();
  readonly csrf: CsrfTokens;
  readonly readOnly: Map<string, ReadonlySet<string>>;
  readonly model: Model;
  readonly dialect: ODataDialect;

  constructor(
    readonly options: ODataEngineOptions,
    readonly definition: ODataSystemDefinition<unknown>,
  ) {
    const { mount, model } = options;
    this.model = model;
    this.dialect = options.dialect;
    this.csrf = new CsrfTokens(options.seed, mount);
    const add = (id: string, template: string, method: string): void => {
      const op: OperationInfo = { id, template, method, safe: READ_METHODS.has(method) };
      // the report card's over-fetching check: reads of entities select their fields with $select
      if (/\.(query|read|delta)$/.test(id)) op.fieldSelection = '$select';
      this.operations.push(op);
      this.byId.set(id, op);
    };
    add('service', mount, 'GET');
    add('metadata', `${mount}/$metadata`, 'GET');
    for (const set of model.entitySets) {
      const handler = definition.sets[set.name];
      if (!handler) throw new Error(`${definition.name}: no handler for the entity set ${set.name}`);
      const base = `${mount}/${set.name}`;
      add(`${set.name}.query`, base, 'GET');
      add(`${set.name}.count`, `${base}/$count`, 'GET');
      add(`${set.name}.read`, `${base}({key})`, 'GET');
      if (handler.changedKeys && options.dialect === 'v4') add(`${set.name}.delta`, base, 'GET');
      if (handler.create) add(`${set.name}.create`, base, 'POST');
      if (handler.update) add(`${set.name}.update`, `${base}({key})`, 'PATCH');
      if (handler.remove) add(`${set.name}.delete`, `${base}({key})`, 'DELETE');
    }
    const unknown = Object.keys(definition.sets).filter((name) => !model.entitySet(name));
    if (unknown.length) throw new Error(`${definition.name}: handlers for ${unknown.join(', ')}, which the model does not declare`);
    this.readOnly = new Map(model.entitySets.map((s) => [s.name, new Set(definition.readOnly?.[s.name] ?? [])]));
  }

  resolve(exchange: Exchange): Resolution {
    const voice = this.voiceOf(exchange);
    let resource: Resource;
    try {
      resource = parseResourcePath(exchange.path.slice(this.options.mount.length), this.model, this.dialect);
    } catch (err) {
      if (!(err instanceof ResourceError)) throw err;
      return { reply: errorReply(err.status, voice, { code: err.status === 404 ? 'NOT_FOUND' : 'NOT_SUPPORTED', message: err.message }) };
    }
    let method = exchange.method;
    const tunnel = exchange.headers['x-http-method'];
    if (method === 'POST' && typeof tunnel === 'string' && TUNNELLED.has(tunnel.toUpperCase()) && resource.kind === 'entity') method = tunnel.toUpperCase();

    const found = this.actionOf(resource, method, exchange.rawQuery);
    if ('allow' in found) {
      const reply = errorReply(405, voice, { code: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed on this resource; it allows ${found.allow}.` });
      reply.headers.allow = found.allow;
      return { reply };
    }
    const parsed: ParsedOData = { resource, action: found.action, voice };
    if (method === 'PUT') parsed.replace = true;
    if ((found.action === 'create' || found.action === 'update') && resource.kind !== 'service' && resource.kind !== 'metadata') {
      parsed.body = readWriteBody(exchange, resource.set, this.dialect, this.readOnly.get(resource.set.name)!, this.options.maxBodyBytes);
    }
    exchange.parsed = parsed;
    const id = resource.kind === 'service' || resource.kind === 'metadata' ? resource.kind : `${resource.set.name}.${found.action}`;
    return { operation: this.byId.get(id)!, params: resource.kind === 'entity' ? { key: resource.keyText } : {} };
  }

  /** The action a method asks of a resource, or what the resource allows. */
  private actionOf(resource: Resource, method: string, rawQuery: string): { action: ODataAction } | { allow: string } {
    const read = READ_METHODS.has(method);
    switch (resource.kind) {
      case 'service':
      case 'metadata':
        return read ? { action: resource.kind } : { allow: 'GET, HEAD' };
      case 'count':
        return read ? { action: 'count' } : { allow: 'GET, HEAD' };
      case 'collection': {
        const handler = this.definition.sets[resource.set.name];
        if (read) return { action: handler.changedKeys && this.dialect === 'v4' && /(^|&)\$?deltatoken=/i.test(rawQuery) ? 'delta' : 'query' };
        if (method === 'POST' && handler.create) return { action: 'create' };
        return { allow: handler.create ? 'GET, HEAD, POST' : 'GET, HEAD' };
      }
      case 'entity': {
        const handler = this.definition.sets[resource.set.name];
        if (read) return { action: 'read' };
        const merge = this.dialect === 'v2' ? ', MERGE' : '';
        if (handler.update && (method === 'PATCH' || method === 'PUT' || (method === 'MERGE' && this.dialect === 'v2'))) return { action: 'update' };
        if (handler.remove && method === 'DELETE') return { action: 'delete' };
        const allowed = ['GET', 'HEAD', ...(handler.update ? [`PUT, PATCH${merge}`] : []), ...(handler.remove ? ['DELETE'] : [])];
        return { allow: allowed.join(', ') };
      }
    }
  }

  keyOf(exchange: Exchange): string | undefined {
    const parsed = exchange.parsed as ParsedOData | undefined;
    if (!parsed) return undefined;
    const { resource } = parsed;
    if (resource.kind === 'entity') return String(resource.key).slice(0, 200);
    if (parsed.action === 'create' && resource.kind === 'collection' && parsed.body && 'values' in parsed.body) {
      const property = this.definition.keys?.[resource.set.name];
      const value = property === undefined ? undefined : parsed.body.values[property];
      return typeof value === 'string' && value !== '' ? value.slice(0, 200) : undefined;
    }
    return undefined;
  }

  validateRequest(exchange: Exchange): Reply | undefined {
    const parsed = exchange.parsed as ParsedOData;
    const { voice, action, resource } = parsed;
    try {
      const query = parseQueryString(exchange.rawQuery, this.dialect);
      parsed.query = query;
      if (query.format !== undefined) formatOption(query.format, this.dialect);
      if (action === 'create' || action === 'update' || action === 'delete') {
        if (this.options.csrf && !this.csrf.valid(exchange.workspace.name, exchange.headers[CSRF_HEADER])) {
          exchange.contractErrors.push({ in: 'header', name: 'X-CSRF-Token', message: 'CSRF token validation failed' });
          const reply = errorReply(403, voice, {
            code: 'CSRF_TOKEN_INVALID',
            message: 'CSRF token validation failed. Fetch a token with a GET carrying X-CSRF-Token: Fetch and send it in X-CSRF-Token.',
          });
          reply.headers[CSRF_HEADER] = 'Required';
          return reply;
        }
        const body = parsed.body;
        if (body && !('values' in body)) {
          for (const problem of body.problems ?? [body.message]) exchange.contractErrors.push({ in: 'body', message: problem });
          return errorReply(body.status, voice, {
            code: body.status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : body.status === 413 ? 'REQUEST_TOO_LARGE' : 'INVALID_BODY',
            message: body.message,
            details: body.problems?.map((message) => ({ code: 'INVALID_VALUE', message })),
          });
        }
        return undefined;
      }
      if (resource.kind === 'collection' || resource.kind === 'count' || resource.kind === 'entity') {
        if (resource.kind !== 'collection' && query.skiptoken !== undefined) throw new QueryError('$skiptoken', 0, 'is only for reading an entity set');
        parsed.plan = planQuery(resource.set, query, this.dialect);
      }
      return undefined;
    } catch (err) {
      if (err instanceof QueryError || err instanceof QueryTypeError || err instanceof SkipTokenError || err instanceof FormatError) {
        const option = err instanceof QueryError ? err.option : undefined;
        exchange.contractErrors.push({ in: 'query', name: option || undefined, message: err.message });
        return errorReply(400, voice, { code: /not supported/.test(err.message) ? 'NOT_SUPPORTED' : 'INVALID_QUERY', message: err.message, target: option || undefined });
      }
      if (err instanceof DeltaGoneError) return errorReply(410, voice, { code: 'GONE', message: err.message });
      throw err;
    }
  }

  invoke(exchange: Exchange, state: unknown): Reply {
    const parsed = exchange.parsed as ParsedOData;
    const root = serviceRootOf(exchange, this.options.mount);
    if (typeof root !== 'string') return errorReply(400, parsed.voice, { code: 'BAD_REQUEST', message: root.problem });
    const reply = this.serve(exchange, state, parsed, root);
    // the SAP convention: any GET may fetch the CSRF token
    if (this.options.csrf && READ_METHODS.has(exchange.method) && /^fetch$/i.test(String(exchange.headers[CSRF_HEADER] ?? ''))) {
      reply.headers[CSRF_HEADER] = this.csrf.current(exchange.workspace.name);
    }
    return reply;
  }

  private serve(exchange: Exchange, state: unknown, parsed: ParsedOData, root: string): Reply {
    const { voice, action, resource } = parsed;
    if (resource.kind === 'service') return serviceReply(voice, root, this.model);
    if (resource.kind === 'metadata') return metadataReply(voice, this.options.metadata);
    const ctx: ReadContext = { engine: this, exchange, state, parsed, root, handler: this.definition.sets[resource.set.name] };
    try {
      switch (action) {
        case 'query':
          return serveQuery(ctx);
        case 'count':
          return serveCount(ctx);
        case 'read':
          return serveEntity(ctx);
        case 'delta':
          return serveDelta(ctx);
        default: {
          const input = this.writeInput(exchange)!;
          const outcome = applyWrite(this, input, state);
          if (outcome.effects) exchange.effects.push(...outcome.effects);
          return writeReply(ctx, input, outcome);
        }
      }
    } catch (err) {
      if (err instanceof QueryTypeError || err instanceof SkipTokenError) {
        exchange.contractErrors.push({ in: 'query', message: err.message });
        return errorReply(400, voice, { code: 'INVALID_QUERY', message: err.message });
      }
      if (err instanceof DeltaGoneError) return errorReply(410, voice, { code: 'GONE', message: err.message });
      throw err;
    }
  }

  writeInput(exchange: Exchange): LoggedODataWrite | undefined {
    const parsed = exchange.parsed as ParsedOData | undefined;
    if (!parsed || (parsed.action !== 'create' && parsed.action !== 'update' && parsed.action !== 'delete')) return undefined;
    const { resource } = parsed;
    if (resource.kind !== 'collection' && resource.kind !== 'entity') return undefined;
    const input: LoggedODataWrite = { set: resource.set.name, action: parsed.action, client: exchange.client };
    if (resource.kind === 'entity') input.key = resource.key;
    if (parsed.body && 'values' in parsed.body) input.values = parsed.body.values;
    if (parsed.replace) input.replace = true;
    const ifMatch = exchange.headers['if-match'];
    if (typeof ifMatch === 'string') input.ifMatch = ifMatch;
    const prefer = preferences(exchange).get('return');
    if (prefer === 'minimal' || prefer === 'representation') input.prefer = prefer;
    return input;
  }

  replayWrite(_operation: string, logged: unknown, state: unknown): number {
    return applyWrite(this, logged as LoggedODataWrite, state).status;
  }

  /** A reply chaos rewrote, against the model (check-reply.ts); the engine's own replies are not read again. */
  checkResponse(exchange: Exchange, reply: Reply): void {
    const parsed = exchange.parsed as ParsedOData | undefined;
    const resource = parsed?.resource;
    if (!parsed || !resource || resource.kind === 'service' || resource.kind === 'metadata' || resource.kind === 'count') return;
    const selected = parsed.plan !== undefined && !parsed.plan.select.all;
    checkReply(reply, resource.set.entityType, this.dialect, selected, exchange.contractErrors);
  }

  errorReply(status: number, _title: string, detail: string, _extra?: Record<string, unknown>, exchange?: Exchange): Reply {
    const voice = exchange ? ((exchange.parsed as ParsedOData | undefined)?.voice ?? this.voiceOf(exchange)) : this.dialect === 'v4' ? V4_VOICE : V2_ATOM_VOICE;
    return errorReply(status, voice, { code: statusErrorCode(status), message: detail });
  }

  /** chaos `csrfExpiry`: the workspace's CSRF token stops being valid (false when this service checks none) */
  expireCsrfTokens(exchange: Exchange): boolean {
    if (!this.options.csrf) return false;
    this.csrf.expire(exchange.workspace.name);
    return true;
  }

  /** v4: JSON; v2: $format, else Accept (negotiate.ts); a bad $format is refused in validateRequest. */
  private voiceOf(exchange: Exchange): Voice {
    if (this.dialect === 'v4') return V4_VOICE;
    let format: ResponseFormat | undefined;
    const m = /(?:^|&)\$?format=([^&]*)/i.exec(exchange.rawQuery);
    if (m) {
      try {
        format = formatOption(decodeURIComponent(m[1]), 'v2');
      } catch {
        format = undefined;
      }
    }
    format ??= acceptFormat(typeof exchange.headers.accept === 'string' ? exchange.headers.accept : undefined);
    return format === 'json' ? V2_JSON_VOICE : V2_ATOM_VOICE;
  }
}

const V4_VOICE: Voice = Object.freeze({ dialect: 'v4', format: 'json' });
const V2_JSON_VOICE: Voice = Object.freeze({ dialect: 'v2', format: 'json' });
const V2_ATOM_VOICE: Voice = Object.freeze({ dialect: 'v2', format: 'atom' });
