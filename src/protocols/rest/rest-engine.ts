/**
 * The REST protocol engine: serves one OpenAPI contract at a mount path. Routing (find-my-way, compiled at start),
 * request reading and validation (read/request-reader.ts, over ajv validators compiled at start), the system's
 * handlers or generated responses (generate/), the write log's input and replay, and the response check. Errors are
 * problem+json (RFC 9457) listing every violation with where it is, or the shape the system or contract declares.
 */
import FindMyWay from 'find-my-way';
import type { ContractError, Exchange, Reply } from '../../engine/exchange.js';
import { problemReply, statusTitle } from '../../engine/problem.js';
import type { ProtocolEngine, Resolution } from '../../engine/system.js';
import { ContractLoadError, type LoadedContract } from './contract.js';
import { maskCardData } from '../../journal/redact.js';
import type { RestHandler, RestRequest, RestResult, RestSystemDefinition } from './handler.js';
import { compileOperations, mediaKind, responseFor, type CompiledOperation } from './operations.js';
import { cachedEntryOf, ReplyCache, type CachedReply } from './reply-cache.js';
import { compileKeyReaders, requestKey, type KeyReader } from './request-key.js';
import { readRequest, type ReadRequest } from './read/request-reader.js';
import { ResponseGenerator } from './generate/response-generator.js';
import { describeErrors, SchemaCompiler, type Validator } from './schemas/schema-compiler.js';

/** Operations sharing one path template, by method. */
interface PathEntry {
  byMethod: Map<string, CompiledOperation>;
  allow: string;
  /** the parameter that takes the rest of the path (the router's `*`), when the template ends in one */
  greedy?: string;
}

/** What validation hands to invoke(). */
type ParsedRequest = ReadRequest;

/**
 * A write as logged (JSON): what the handler reads, no more. Headers only as the contract declares them (a
 * handler reads no others); a body that is not JSON or a form as base64.
 */
interface LoggedRestInput {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
  body?: unknown;
  bodyBase64?: string;
  client: string;
  baseUrl: string;
}

const READS = new Set(['GET', 'HEAD']);

/** What a system may add to how the engine serves its contract (RestSystemDefinition documents each). */
export type RestEngineOptions = Pick<RestSystemDefinition<any>, 'replyCache' | 'errorShape' | 'sanitizeBody' | 'masksCardData' | 'stateless'> & {
  /** the largest body a compressed one may inflate to (the server's limits.bodyBytes) */
  maxBodyBytes?: number;
  /**
   * --lenient: what the load-time check finds cannot be validated is served unvalidated, with a warning, instead
   * of refusing the contract (ContractLoadError)
   */
  lenient?: boolean;
  /**
   * Errors of operations with handlers answer in the shape the operation declares too, as generated operations'
   * do: refusals, 401s, chaos statuses, and the handlers' own problem results (a user's stateful contract, whose
   * handlers are understudy's, not the contract author's). The generator that writes them.
   */
  declaredErrors?: ResponseGenerator;
};

/** most load-time problems listed in the refusal: enough to see the pattern */
const MAX_LOAD_PROBLEMS = 20;

/** limits.bodyBytes's default, for an engine not told the server's */
const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** problem types of the refusals the engine itself makes */
/** marks a reply the engine answered for the contract (Reply.memo): the response check passes it by */
const ENGINE_REFUSAL = Symbol('engine refusal');

const ENGINE_PROBLEMS: Record<number, string> = { 400: 'invalid-request', 401: 'unauthorized', 403: 'insufficient-scope', 413: 'body-too-large', 503: 'store-unavailable' };

export class RestEngine implements ProtocolEngine {
  readonly protocol = 'rest' as const;
  readonly operations: CompiledOperation[];
  /** schemas that could not be compiled (served unvalidated); printed at start-up */
  readonly warnings: string[];
  /**
   * what the load-time check found (formats not checked; with `lenient`, what is served unvalidated): printed as
   * the server starts
   */
  readonly loadWarnings: string[];
  private readonly router = FindMyWay({ caseSensitive: true, ignoreTrailingSlash: false, maxParamLength: 1000 });
  private readonly compiler: SchemaCompiler;
  /** operations whose replies may be reused while the state is unchanged, and how to read the state's revision */
  private readonly cacheable: ReadonlySet<string>;
  private readonly revisionOf: ((state: any) => number) | undefined;
  private readonly replies = new ReplyCache();
  /** operations whose contract names their external key (x-understudy-key) */
  private readonly keyReaders: Map<CompiledOperation, KeyReader>;

  /** use create(): the response generator, when needed, loads asynchronously */
  private constructor(
    contract: LoadedContract,
    readonly mount: string,
    private readonly handlers: Record<string, RestHandler<any>>,
    private readonly generator: ResponseGenerator | undefined,
    private readonly options: RestEngineOptions,
  ) {
    const replyCache = options.replyCache;
    this.compiler = new SchemaCompiler(contract);
    this.compiler.lenient = options.lenient === true;
    this.operations = compileOperations(contract, mount, this.compiler);
    this.warnings = this.compiler.warnings;
    this.loadWarnings = this.checkAtLoad(contract);
    this.keyReaders = compileKeyReaders(this.operations, contract.file);

    const entries = new Map<string, PathEntry>();
    for (const op of this.operations) {
      let entry = entries.get(op.template);
      if (!entry) entries.set(op.template, (entry = { byMethod: new Map(), allow: '' }));
      entry.byMethod.set(op.method, op);
    }
    for (const [template, entry] of entries) {
      if (entry.byMethod.has('GET') && !entry.byMethod.has('HEAD')) entry.byMethod.set('HEAD', entry.byMethod.get('GET')!);
      entry.allow = [...entry.byMethod.keys()].join(', ');
      const greedy = new Set([...entry.byMethod.values()].map((op) => op.greedy));
      if (greedy.size > 1) throw new Error(`${template}: the operations of one path disagree on which parameter takes the rest of the path`);
      entry.greedy = [...greedy][0];
      let route = template;
      // the router's wildcard stands only last, where compileOperations has checked the greedy parameter is
      if (entry.greedy !== undefined) route = route.slice(0, -`{${entry.greedy}}`.length) + '*';
      // one registration per path (under GET): the method is looked up in the entry, so a wrong one can get 405
      this.router.on('GET', route.replace(/\{([^}]+)\}/g, ':$1'), () => undefined, entry);
    }
    const unknown = Object.keys(handlers).filter((id) => !this.operations.some((op) => op.id === id));
    if (unknown.length) throw new Error(`handlers for operations the contract does not have: ${unknown.join(', ')}`);
    const notReads = (replyCache?.operations ?? []).filter((id) => this.operations.find((op) => op.id === id)?.method !== 'GET');
    if (notReads.length) throw new Error(`only GET operations of the contract can have cached replies, not ${notReads.join(', ')}`);
    this.cacheable = new Set(replyCache?.operations ?? []);
    this.revisionOf = replyCache?.revision;
  }

  static async create(
    contract: LoadedContract,
    mount: string,
    handlers: Record<string, RestHandler<any>>,
    options: RestEngineOptions = {},
  ): Promise<RestEngine> {
    const paths = Object.values(contract.document.paths ?? {}) as Array<Record<string, { operationId?: string }>>;
    const unhandled = paths.some((item) => Object.values(item ?? {}).some((op) => typeof op === 'object' && op !== null && 'responses' in op && !handlers[op.operationId ?? '']));
    const generator = unhandled ? await ResponseGenerator.create(contract.document) : undefined;
    return new RestEngine(contract, mount, handlers, generator, options);
  }

  /**
   * What cannot be validated as written refuses the contract, naming each construct, its operation and why; with
   * `lenient` it is a warning (served unvalidated). The warnings of the check either way.
   */
  private checkAtLoad(contract: LoadedContract): string[] {
    const { problems, warnings } = this.compiler.check();
    const described = problems.map((p) => `${p.what}: #${p.pointer}: ${p.message}`);
    if (problems.length > 0 && this.options.lenient !== true) {
      const shown = described.slice(0, MAX_LOAD_PROBLEMS).map((d) => `  - ${d}`);
      if (described.length > MAX_LOAD_PROBLEMS) shown.push(`  - and ${described.length - MAX_LOAD_PROBLEMS} more`);
      throw new ContractLoadError(
        contract.file,
        `${problems.length === 1 ? 'one construct' : `${problems.length} constructs`} cannot be validated as written (--lenient, lenient: true in a config file or UNDERSTUDY_LENIENT=1 serves them unvalidated, with a warning):\n${shown.join('\n')}`,
      );
    }
    return [...described.map((d) => `${d} — served unvalidated (lenient)`), ...warnings];
  }

  /** Compiles every validator not compiled yet, a few at a time, without blocking requests for long. */
  async warmUp(): Promise<string[]> {
    await this.compiler.compilePending();
    return this.warnings;
  }

  resolve(exchange: Exchange): Resolution {
    // masked first, before routing and chaos: whoever answers, the journal never keeps a card number
    if (this.options.masksCardData === true && exchange.body !== undefined && exchange.body.length !== 0) exchange.journalBody = maskCardData(exchange.body);
    let found: ReturnType<typeof this.router.find>;
    try {
      found = this.router.find('GET', exchange.path);
    } catch {
      return { reply: this.refusal(400, 'bad-path', `The path ${exchange.path} is not validly percent-encoded.`) };
    }
    if (!found) {
      return { reply: this.refusal(404, 'no-such-operation', `No operation of this API matches ${exchange.method} ${exchange.path}.`) };
    }
    const entry = found.store as PathEntry;
    let params = found.params as Record<string, string>;
    if (entry.greedy !== undefined) {
      const rest = params['*'];
      // like {param}, which takes one non-empty segment, the rest of the path is not empty (/hooks/ is no hook)
      if (!rest) return { reply: this.refusal(404, 'no-such-operation', `No operation of this API matches ${exchange.method} ${exchange.path}.`) };
      params = { ...params, [entry.greedy]: rest };
      delete params['*'];
    }
    const op = entry.byMethod.get(exchange.method);
    if (!op) {
      return {
        reply: this.refusal(405, 'method-not-allowed', `${exchange.method} is not allowed on ${exchange.path}; allowed: ${entry.allow}.`, {}, { allow: entry.allow }),
      };
    }
    return { operation: op, params };
  }

  keyOf(exchange: Exchange): string | undefined {
    return requestKey(exchange, this.keyReaders.get(exchange.operation as CompiledOperation));
  }

  validateRequest(exchange: Exchange): Reply | undefined {
    const refused = this.validate(exchange);
    if (refused === undefined) return undefined;
    // a generated operation answers in the error shape its contract declares for the status, where it declares one
    const op = exchange.operation as CompiledOperation;
    const shaper = this.handlers[op.id] === undefined ? this.generator : this.options.declaredErrors;
    if (shaper === undefined) return refused;
    // a contract that refuses invalid input with 422 and declares no 400 is answered with its 422, as Prism does
    const status = refused.status === 400 && !op.responses.has('400') && op.responses.has('422') ? 422 : refused.status;
    const problem = status === refused.status ? problemOf(refused) : { ...problemOf(refused), status, title: statusTitle(status) };
    return shaper.declaredError(op, exchange, status, problem, exchange.contractErrors) ?? refused;
  }

  private validate(exchange: Exchange): Reply | undefined {
    const op = exchange.operation as CompiledOperation;
    const read = readRequest(exchange, op, this.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, this.options.masksCardData === true);
    if ('refuse' in read) {
      const { status, slug, detail, extra } = read.refuse;
      return this.refusal(status, slug, detail, extra, {}, op.id);
    }
    // what must never be stored (a card number) leaves the request here: the handler and the write log get the rest
    if (read.request.body !== undefined && this.options.sanitizeBody !== undefined) read.request.body = this.options.sanitizeBody(op.id, read.request.body);
    exchange.parsed = read.request;
    return undefined;
  }

  invoke(exchange: Exchange, state: unknown): Reply | Promise<Reply> {
    const op = exchange.operation as CompiledOperation;
    const handler = this.handlers[op.id];
    if (!handler) {
      if (!this.generator) throw new Error(`no handler for ${op.id}`);
      const generated = this.generator.generate(op, exchange);
      if (!('refuse' in generated)) return generated;
      // a preference the contract cannot honour, or nothing declared to send: the engine's own refusal
      const { status, slug, detail } = generated.refuse;
      if (status === 400) exchange.contractErrors.push({ in: 'header', name: 'prefer', message: detail });
      if (status === 406) exchange.contractErrors.push({ in: 'header', name: 'accept', message: detail });
      const reply = this.refusal(status, slug, detail, { operation: op.id });
      reply.memo = ENGINE_REFUSAL;
      return reply;
    }
    // a read the state has not changed since: the reply stored for it (reply-cache.ts)
    let cacheKey: string | undefined;
    let revision = 0;
    if (this.revisionOf !== undefined && this.cacheable.has(op.id)) {
      revision = this.revisionOf(state);
      cacheKey = `${exchange.prefix}${exchange.path}?${exchange.rawQuery}`;
      const stored = this.replies.get(state as object, cacheKey, revision);
      if (stored !== undefined) {
        exchange.key ??= (stored.memo as CachedReply).key;
        return stored;
      }
    }
    const parsed = exchange.parsed as ParsedRequest;
    const request: RestRequest = {
      operationId: op.id,
      params: parsed.params,
      query: parsed.query,
      headers: exchange.headers,
      body: parsed.body,
      client: exchange.client,
      workspace: exchange.workspace.name,
      baseUrl: exchange.prefix + this.mount,
    };
    const result = handler(request, state);
    // most handlers answer synchronously: no promise for them
    if (result instanceof Promise) return result.then((r) => this.finish(exchange, r));
    const reply = this.finish(exchange, result);
    if (cacheKey !== undefined && !result.effects?.length) this.replies.put(state as object, cacheKey, revision, reply, result.key);
    return reply;
  }

  writeInput(exchange: Exchange): LoggedRestInput | undefined {
    const op = exchange.operation as CompiledOperation;
    if (READS.has(op.method) || this.handlers[op.id] === undefined || this.options.stateless === true) return undefined;
    const parsed = exchange.parsed as ParsedRequest;
    const headers: Record<string, unknown> = {};
    for (const name of op.headerNames) if (exchange.headers[name] !== undefined) headers[name] = exchange.headers[name];
    const input: LoggedRestInput = { params: parsed.params, query: parsed.query, headers, client: exchange.client, baseUrl: exchange.prefix + this.mount };
    if (Buffer.isBuffer(parsed.body)) input.bodyBase64 = parsed.body.toString('base64');
    else if (parsed.body !== undefined) input.body = parsed.body;
    return input;
  }

  replayWrite(operation: string, logged: unknown, state: unknown, workspace: string): number {
    const handler = this.handlers[operation];
    if (handler === undefined) throw new Error(`the log names an operation this contract has no handler for: ${operation}`);
    const input = logged as LoggedRestInput;
    const result = handler(
      {
        operationId: operation,
        params: input.params,
        query: input.query,
        headers: input.headers as RestRequest['headers'],
        body: input.bodyBase64 !== undefined ? Buffer.from(input.bodyBase64, 'base64') : input.body,
        client: input.client,
        workspace,
        baseUrl: input.baseUrl,
      },
      state,
    );
    if (result instanceof Promise) throw new Error(`${operation}: a handler that answers asynchronously cannot be replayed`);
    return result.status;
  }

  private finish(exchange: Exchange, result: RestResult): Reply {
    if (result.effects) exchange.effects.push(...result.effects);
    // the key the request carried (keyOf, before chaos) wins, so every attempt of a retry has the same one; the
    // handler's fills in for requests that name their order only by the system's own id
    if (exchange.key === undefined) exchange.key = result.key;
    // execution time: the transport holds the reply as it does for injected latency
    if (result.holdMs !== undefined && result.holdMs > 0) exchange.delayMs += result.holdMs;
    let reply = toReply(result);
    // a handler's problem in the operation's declared error shape, when the system asks for it
    if (this.options.declaredErrors !== undefined && result.status >= 400 && String(result.headers?.['content-type']).startsWith('application/problem+json')) {
      const body = result.body as { title?: string; detail?: string } & Record<string, unknown>;
      const problem = { ...body, title: String(body.title ?? ''), detail: String(body.detail ?? '') };
      reply = this.options.declaredErrors.declaredError(exchange.operation as CompiledOperation, exchange, result.status, problem, exchange.contractErrors) ?? reply;
    }
    if (result.changedState !== undefined) reply.changedState = result.changedState;
    return reply;
  }

  checkResponse(exchange: Exchange, reply: Reply): void {
    // the engine's own refusal of a preference, or of an operation that declares nothing to send: not the contract's
    if (reply.memo === ENGINE_REFUSAL) return;
    const op = exchange.operation as CompiledOperation;
    const spec = responseFor(op, reply.status);
    if (!spec) {
      exchange.contractErrors.push({ in: 'response', message: `status ${reply.status} is not declared for ${op.id}` });
      return;
    }
    if (spec.headers) this.checkHeaders(exchange, reply, spec.headers);
    if (!spec.validate || isStream(reply.body)) return;
    const type = String(reply.headers['content-type'] ?? '');
    if (!type.includes('json')) return;
    // a stored reply sent unchanged: its verdict was reached when it was first checked
    const stored = cachedEntryOf(reply);
    if (stored?.checked !== undefined) {
      if (stored.checked.length) exchange.contractErrors.push(...stored.checked);
      return;
    }
    let value = reply.source;
    if (value === undefined && reply.body !== undefined) {
      try {
        value = JSON.parse(reply.body.toString());
      } catch {
        exchange.contractErrors.push({ in: 'response', message: 'body is not valid JSON' });
        return;
      }
    }
    const found = spec.validate(value) ? [] : describeErrors(spec.validate.errors, 'response');
    if (found.length) exchange.contractErrors.push(...found);
    if (stored !== undefined) {
      stored.checked = found;
      // the verdict is what later reuses need; the parsed value would only hold memory (drift parses the text)
      stored.source = undefined;
    }
  }

  /** the response headers the contract declares: present when required, and of their schema's type */
  private checkHeaders(exchange: Exchange, reply: Reply, declared: { validate: Validator; names: string[] }): void {
    const values: Record<string, unknown> = {};
    for (const name of declared.names) {
      const value = reply.headers[name];
      if (value !== undefined) values[name] = Array.isArray(value) ? value.join(', ') : String(value);
    }
    if (declared.validate(values)) return;
    for (const e of describeErrors(declared.validate.errors, 'header')) exchange.contractErrors.push({ in: 'response', name: e.name, message: `header ${e.name ?? ''}: ${e.message}` });
  }

  errorReply(status: number, _title: string, detail: string, extra?: Record<string, unknown>, exchange?: Exchange): Reply {
    const reply = this.refusal(status, ENGINE_PROBLEMS[status] ?? 'error', detail, extra);
    // a generated operation's errors (a 401 for its declared security, a chaos status) in the shape it declares
    const op = exchange?.operation as CompiledOperation | undefined;
    const shaper = op === undefined ? undefined : this.handlers[op.id] === undefined ? this.generator : this.options.declaredErrors;
    if (op === undefined || shaper === undefined) return reply;
    const shaped = shaper.declaredError(op, exchange!, status, problemOf(reply), []);
    // (headers such as WWW-Authenticate or Retry-After are added by the caller, to whichever reply this is)
    return shaped ?? reply;
  }

  /**
   * An error the engine answers: problem+json, or the system's own shape (RestSystemDefinition.errorShape), told
   * the operation (`extra.operation`, else `operationId`) when the request got as far as one.
   */
  private refusal(
    status: number,
    code: string,
    detail: string,
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
    operationId?: string,
  ): Reply {
    const shape = this.options.errorShape;
    if (shape === undefined) return problemReply(status, code, detail, extra, headers);
    const { body, contentType = 'application/json' } = shape(status, {
      code,
      detail,
      errors: extra.errors as ContractError[] | undefined,
      operationId: (extra.operation as string | undefined) ?? operationId,
    });
    const text = typeof body === 'string' && mediaKind(contentType.toLowerCase().split(';')[0].trim()) !== 'json' ? body : JSON.stringify(body);
    return { status, headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(text), ...headers }, body: text };
  }

  /** a multipart body's parts as one object, with the problems of parts that are not what they say */


}



/** the problem+json refusal this engine wrote, as a value */
function problemOf(reply: Reply): { title: string; detail: string } & Record<string, unknown> {
  try {
    const body = JSON.parse(String(reply.body ?? '{}')) as Record<string, unknown>;
    return { ...body, title: String(body.title ?? ''), detail: String(body.detail ?? '') };
  } catch {
    return { title: '', detail: '' };
  }
}



function isStream(body: Reply['body']): body is AsyncIterable<string | Buffer> {
  return body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body);
}

function toReply(result: RestResult): Reply {
  const headers: Reply['headers'] = { ...result.headers };
  if (result.stream) return { status: result.status, headers, body: result.stream };
  if (result.text !== undefined) {
    if (!headers['content-type']) headers['content-type'] = 'text/plain; charset=utf-8';
    headers['content-length'] = Buffer.byteLength(result.text);
    return { status: result.status, headers, body: result.text };
  }
  if (result.json === undefined && result.body === undefined) return { status: result.status, headers };
  const body = result.json ?? JSON.stringify(result.body);
  if (!headers['content-type']) headers['content-type'] = 'application/json';
  headers['content-length'] = Buffer.byteLength(body);
  return { status: result.status, headers, body, source: result.body };
}

