/**
 * The key of a REST request: what lets the journal follow one order through its retries, including the attempts
 * that chaos answered before any handler ran (a 429, a failFirst 503, a reset). It is the `Idempotency-Key`
 * header when the caller sends one, else the operation's external key, which the contract names with the
 * extension `x-understudy-key` on the operation:
 *
 *   x-understudy-key: { in: body, pointer: /externalOrderId }     a JSON pointer into the JSON or form body
 *                                                                 (`metadata[order_id]` is /metadata/order_id)
 *   x-understudy-key: { in: header, name: X-Request-Id }          a request header
 *   x-understudy-key: { in: query, name: orderRef }               a query parameter
 *   x-understudy-key: { in: path, name: orderId }                 a path parameter of the operation's template
 *
 * The pipeline asks for the key before chaos and before validation, so nothing here may trust the request: a
 * body that is not JSON, a pointer that leads nowhere or a value that is not a string or a number simply gives
 * no key (validation reports what is wrong later). The body is parsed only for operations that declare a body
 * key, and only when it is JSON or a form; requests to every other operation cost one header lookup and allocate
 * nothing.
 */
import type { Exchange } from '../../engine/exchange.js';
import { ContractLoadError } from './contract.js';
import { parseForm } from './read/form-body.js';
import type { CompiledOperation } from './operations.js';

export const KEY_EXTENSION = 'x-understudy-key';

/** Reads an operation's declared key from a request; undefined when the request does not carry one. */
export type KeyReader = (exchange: Exchange) => string | undefined;

/** The request's key: its Idempotency-Key header, else the operation's declared key, else none. */
export function requestKey(exchange: Exchange, declared: KeyReader | undefined): string | undefined {
  const header = exchange.headers['idempotency-key'];
  if (typeof header === 'string' && header !== '') return header;
  return declared === undefined ? undefined : declared(exchange);
}

/** One reader per operation that declares `x-understudy-key`; a malformed declaration fails the contract's load. */
export function compileKeyReaders(operations: readonly CompiledOperation[], file: string): Map<CompiledOperation, KeyReader> {
  const readers = new Map<CompiledOperation, KeyReader>();
  for (const op of operations) {
    const raw = (op.operation as unknown as Record<string, unknown>)[KEY_EXTENSION];
    if (raw === undefined) continue;
    const problem = (message: string) => new ContractLoadError(file, `${op.id}: ${KEY_EXTENSION} ${message}`);
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw problem('must be a map such as { in: body, pointer: /externalOrderId } or { in: header, name: X-Request-Id }');
    }
    const spec = raw as Record<string, unknown>;
    const allowed = spec.in === 'body' ? ['in', 'pointer'] : ['in', 'name'];
    const extra = Object.keys(spec).filter((k) => !allowed.includes(k));
    if (extra.length) throw problem(`has unknown propert${extra.length > 1 ? 'ies' : 'y'} ${extra.join(', ')} (it takes ${allowed.join(' and ')})`);
    switch (spec.in) {
      case 'body': {
        if (typeof spec.pointer !== 'string' || (spec.pointer !== '' && !spec.pointer.startsWith('/'))) {
          throw problem('in: body needs a JSON pointer, e.g. pointer: /externalOrderId');
        }
        if (!op.body?.media.some((m) => m.kind === 'json' || m.kind === 'form')) throw problem('in: body, but the operation takes no JSON or form request body');
        readers.set(op, bodyReader(parsePointer(spec.pointer)));
        break;
      }
      case 'header':
      case 'query':
      case 'path': {
        if (typeof spec.name !== 'string' || spec.name === '') throw problem(`in: ${spec.in} needs the parameter's name, e.g. name: X-Request-Id`);
        const name = spec.name;
        if (spec.in === 'path' && !op.template.includes(`{${name}}`)) throw problem(`names path parameter ${name}, which ${op.template} does not have`);
        readers.set(op, spec.in === 'header' ? headerReader(name.toLowerCase()) : spec.in === 'query' ? queryReader(name) : pathReader(name));
        break;
      }
      default:
        throw problem('needs in: body, header, query or path');
    }
  }
  return readers;
}

/** a usable key: a non-empty string, or a number written out (order numbers are sometimes sent as numbers) */
function asKey(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function headerReader(name: string): KeyReader {
  return (exchange) => {
    const value = exchange.headers[name];
    return asKey(Array.isArray(value) ? value[0] : value);
  };
}

function queryReader(name: string): KeyReader {
  return (exchange) => (exchange.rawQuery === '' ? undefined : asKey(new URLSearchParams(exchange.rawQuery).get(name) ?? undefined));
}

function pathReader(name: string): KeyReader {
  return (exchange) => asKey(exchange.params?.[name]);
}

/** application/json and any +json type, parameters allowed */
const JSON_TYPE = /^\s*application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;
const FORM_TYPE = /^\s*application\/x-www-form-urlencoded\s*(?:;|$)/i;

/** The body as JSON or as a form (bracket keys nested, form-body.ts), or undefined when it is neither. */
function parsedBody(raw: Buffer, type: string): unknown {
  if (JSON_TYPE.test(type)) {
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch {
      return undefined; // validation answers this request with a 400 that says why
    }
  }
  if (FORM_TYPE.test(type)) {
    const form = parseForm(raw.toString('utf8'));
    return 'value' in form ? form.value : undefined;
  }
  return undefined;
}

function bodyReader(pointer: string[]): KeyReader {
  return (exchange) => {
    const raw = exchange.body;
    if (raw === undefined || raw.length === 0 || exchange.bodyProblem !== undefined) return undefined;
    const type = exchange.headers['content-type'];
    if (type === undefined) return undefined;
    let node = parsedBody(raw, type);
    for (const token of pointer) {
      if (node === null || typeof node !== 'object') return undefined;
      if (Array.isArray(node)) {
        if (!/^(0|[1-9]\d*)$/.test(token)) return undefined;
        node = node[Number(token)];
      } else {
        if (!Object.prototype.hasOwnProperty.call(node, token)) return undefined;
        node = (node as Record<string, unknown>)[token];
      }
    }
    return asKey(node);
  };
}

/** RFC 6901: "/a~1b/c~0d" → ["a/b", "c~d"]; "" is the whole document */
function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}
