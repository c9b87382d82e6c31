/**
 * Responses for operations that have no hand-written handler, so that any OpenAPI contract a user drops in gives a
 * working mock: the contract's own example when it has one, else data generated from the response schema with a
 * seeded faker (SchemaSampler, schema-sampler.ts). The seed is derived from (server seed, operation, request path
 * and query), so the same request gets the same response on every machine and every run, while different resources
 * differ.
 *
 * Like Prism, a caller can pick the response with `Prefer: code=404` and/or `Prefer: example=name`; unlike the
 * old behaviour (and stricter than Prism), a preference is never ignored in silence: one honoured is named in
 * `Preference-Applied` (RFC 7240), one that cannot be (a code that is not a status, a status the operation declares
 * no response for and no `default`, an example it does not have) is refused with a 400 saying what is declared.
 * Without a preference the response is the lowest declared 2xx, else `2XX`, else `default`; an operation that
 * declares none of them gets a 501 naming it, never an answer the contract does not declare.
 *
 * faker (English only) is loaded by create(), and only for contracts that have operations without handlers: it
 * costs ~100 ms and ~25 MB, which a system whose every operation is hand-written does not need to pay.
 */
import type { Faker } from '@faker-js/faker';
import type { OpenAPIV3 } from 'openapi-types';
import { XMLBuilder } from 'fast-xml-parser';
import Negotiator from 'negotiator';
import type { ContractError, Exchange, Reply } from '../../../engine/exchange.js';
import { hashKey } from '../../../util/seeded-random.js';
import { resolveRef, type OpenApiDocument } from '../contract.js';
import { mediaKind, type CompiledOperation, type ResponseSpec } from '../operations.js';
import type { RememberedBody } from '../reply-cache.js';
import { SchemaSampler } from './schema-sampler.js';

type Schema = OpenAPIV3.SchemaObject & { const?: unknown; examples?: unknown[] };

export interface Preference {
  code?: number;
  example?: string;
  /** what is wrong with the preferences understudy reads (code, example); others are not its to judge */
  problems: string[];
}

/** Why the generator answers with an error instead of a response the contract declares. */
export interface GenerationRefusal {
  refuse: { status: 400 | 406 | 501; slug: string; detail: string };
}

/**
 * Parses Prism's `Prefer: code=404, example=notFound` header. Preferences it does not know (`return=minimal`,
 * `respond-async`) are left alone, as RFC 7240 lets a server do.
 */
export function parsePrefer(header: string | string[] | undefined): Preference {
  const out: Preference = { problems: [] };
  const text = Array.isArray(header) ? header.join(',') : header;
  if (!text) return out;
  for (const part of text.split(/[,;]/)) {
    const eq = part.indexOf('=');
    const k = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const v = eq < 0 ? '' : part.slice(eq + 1).trim().replace(/^"|"$/g, '');
    if (k === 'code') {
      if (/^[1-5]\d\d$/.test(v)) out.code = Number(v);
      else out.problems.push(`Prefer: code=${v.slice(0, 40)} is not an HTTP status code`);
    }
    if (k === 'example') {
      if (v) out.example = v;
      else out.problems.push('Prefer: example= names no example');
    }
  }
  return out;
}

/** A generated answer as remembered (its body's check verdict kept as the reply cache keeps its own). */
interface MadeAnswer extends RememberedBody {
  headers: Reply['headers'];
}

/** generated answers remembered at most (the oldest forgotten first) */
const MAX_MADE = 2000;

export class ResponseGenerator {
  /**
   * answers already generated, by everything that decides them (see generate); each is also the reply's memo, where
   * the response check keeps its verdict on the body (reply-cache.ts cachedEntryOf), so it runs once per answer
   */
  private readonly made = new Map<string, MadeAnswer>();

  private readonly sampler: SchemaSampler;

  private constructor(
    private readonly document: OpenApiDocument,
    faker: Faker,
  ) {
    this.sampler = new SchemaSampler(document, faker);
  }

  static async create(document: OpenApiDocument): Promise<ResponseGenerator> {
    const { faker } = await import('@faker-js/faker/locale/en');
    return new ResponseGenerator(document, faker);
  }

  generate(op: CompiledOperation, exchange: Exchange): Reply | GenerationRefusal {
    const prefer = parsePrefer(exchange.headers.prefer);
    if (prefer.problems.length) return refusal(400, 'bad-preference', `${prefer.problems.join('; ')}.`);
    const picked = this.pickResponse(op, prefer.code);
    if ('refuse' in picked) return picked;
    const [status, spec] = picked;
    const applied: string[] = prefer.code !== undefined ? [`code=${prefer.code}`] : [];
    const headers: Record<string, string | number> = {};
    const content = spec.response.content ?? {};
    const types = Object.keys(content);
    // a named example is looked for in every media type the response declares; else JSON is preferred
    const withExample = prefer.example === undefined ? undefined : types.find((t) => this.hasExample(content[t], prefer.example!));
    if (prefer.example !== undefined) {
      if (withExample === undefined) {
        const names = types.flatMap((t) => Object.keys(content[t].examples ?? {}));
        return refusal(400, 'bad-preference', `Prefer: example=${prefer.example.slice(0, 60)}: the ${status} response of ${op.id} has ${names.length ? `the examples ${[...new Set(names)].join(', ')}` : 'no named examples'}.`);
      }
      applied.push(`example=${prefer.example}`);
    }
    if (applied.length) headers['preference-applied'] = applied.join(', ');
    let type = withExample;
    if (type === undefined && types.length) {
      // the caller's Accept among the declared media types (q-values, wildcards), JSON first among equals
      const ordered = [...types].sort((a, b) => Number(mediaKind(b.toLowerCase()) === 'json') - Number(mediaKind(a.toLowerCase()) === 'json'));
      const accept = exchange.headers.accept;
      type = accept ? new Negotiator({ headers: { accept } }).mediaTypes(ordered)[0] : ordered[0];
      if (type === undefined) {
        return refusal(406, 'not-acceptable', `The ${status} response of ${op.id} is ${types.join(' or ')}; Accept: ${String(accept).slice(0, 200)} takes none of them.`);
      }
    }
    // the same request gets the same answer (seeded): made once, then served from a bounded memo
    const memoKey = `${exchange.workspace.seed}\n${op.id}\n${exchange.path}\n${exchange.rawQuery}\n${status}\n${type ?? ''}\n${prefer.example ?? ''}`;
    const made = this.made.get(memoKey);
    if (made !== undefined) return { status, headers: { ...headers, ...made.headers }, body: made.body, source: made.source, memo: made };
    this.declaredHeaders(spec, headers, hashKey(exchange.workspace.seed, op.id, exchange.path, exchange.rawQuery, 'headers'));
    if (!type || status === 204 || status === 304) return this.remember(memoKey, { status, headers });

    const media = content[type];
    const seed = hashKey(exchange.workspace.seed, op.id, exchange.path, exchange.rawQuery);
    const value = this.exampleOf(media, prefer.example) ?? this.sampler.sample(media.schema, seed);
    const kind = bodyKind(type);
    const body =
      kind === 'json'
        ? JSON.stringify(value)
        : typeof value === 'string'
          ? value
          : kind === 'xml'
            ? this.xml(value, media.schema)
            : kind === 'text' && (value === null || typeof value !== 'object')
              ? String(value)
              : JSON.stringify(value);
    headers['content-type'] = type.includes('*') ? (kind === 'json' ? 'application/json' : 'application/octet-stream') : type;
    headers['content-length'] = Buffer.byteLength(body);
    return this.remember(memoKey, { status, headers, body, source: kind === 'json' ? value : undefined });
  }

  /**
   * Keeps what a request was answered with, and returns it. The headers are copied (later steps add to the reply's
   * own: rate-limit headers, say) without Preference-Applied, which is each request's own.
   */
  private remember(key: string, reply: Reply): Reply {
    if (this.made.size >= MAX_MADE) this.made.delete(this.made.keys().next().value!);
    const { 'preference-applied': _applied, ...headers } = reply.headers;
    const made: MadeAnswer = { headers, body: reply.body as string | undefined, source: reply.source };
    this.made.set(key, made);
    reply.memo = made;
    return reply;
  }

  /**
   * A value as XML, after its schema's `xml` objects (OpenAPI's XML Object): the root and element names
   * (`xml.name`, else the schema's component name, else `root`), attributes (`xml.attribute`), and arrays wrapped
   * in an element of their own (`xml.wrapped`) or repeated in place. Written by fast-xml-parser's builder.
   */
  private xml(value: unknown, rawSchema: unknown): string {
    const name = (raw: unknown, fallback: string): string => {
      const ref = raw && typeof raw === 'object' && '$ref' in raw ? String((raw as { $ref: string }).$ref).split('/').pop() : undefined;
      return resolveRef<Schema>(this.document, raw, '').value?.xml?.name ?? ref ?? fallback;
    };
    const convert = (v: unknown, raw: unknown): unknown => {
      const schema = raw ? resolveRef<Schema>(this.document, raw, '').value : undefined;
      if (Array.isArray(v)) return v.map((item) => convert(item, (schema as OpenAPIV3.ArraySchemaObject | undefined)?.items));
      if (v === null || typeof v !== 'object') return v;
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(v)) {
        const propRaw = schema?.properties?.[key];
        const prop = propRaw ? resolveRef<Schema>(this.document, propRaw, '').value : undefined;
        const element = prop?.xml?.name ?? key;
        if (prop?.xml?.attribute) out[`@_${element}`] = child;
        else if (Array.isArray(child) && prop?.xml?.wrapped) {
          const items = (prop as OpenAPIV3.ArraySchemaObject).items;
          out[element] = { [name(items, element)]: convert(child, prop) };
        } else if (Array.isArray(child)) out[name((prop as OpenAPIV3.ArraySchemaObject | undefined)?.items, element)] = convert(child, prop);
        else out[element] = convert(child, propRaw);
      }
      return out;
    };
    const root = name(rawSchema, 'root');
    const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: false, suppressEmptyNode: false });
    return builder.build({ [root]: convert(value, rawSchema) });
  }

  /** the headers the response declares (Content-Type aside), from their examples or generated from their schemas */
  private declaredHeaders(spec: ResponseSpec, headers: Record<string, string | number>, seed: number): void {
    for (const [name, raw] of Object.entries(spec.response.headers ?? {})) {
      if (name.toLowerCase() === 'content-type') continue;
      const header = resolveRef<OpenAPIV3.HeaderObject>(this.document, raw, '').value;
      if (!header?.schema) continue;
      const value = header.example ?? this.sampler.sample(header.schema, seed, name);
      if (value !== null && typeof value !== 'object') headers[name.toLowerCase()] = String(value);
    }
  }

  /**
   * The response to send: the preferred status's (declared exactly, as a range, or by `default`), else the lowest
   * declared 2xx, the 2XX range, or `default`; else a refusal.
   */
  private pickResponse(op: CompiledOperation, preferred?: number): [number, ResponseSpec] | GenerationRefusal {
    const declared = () => [...op.responses.keys()].map((c) => (c === 'DEFAULT' ? 'default' : c)).join(', ');
    if (preferred !== undefined) {
      const spec = op.responses.get(String(preferred)) ?? op.responses.get(`${Math.floor(preferred / 100)}XX`) ?? op.responses.get('DEFAULT');
      if (spec) return [preferred, spec];
      return refusal(400, 'bad-preference', `Prefer: code=${preferred}: ${op.id} declares no ${preferred} response and no default (it declares ${declared() || 'none'}).`);
    }
    const codes = [...op.responses.keys()].filter((c) => /^\d{3}$/.test(c)).sort();
    const success = codes.find((c) => c.startsWith('2'));
    if (success) return [Number(success), op.responses.get(success)!];
    const range = op.responses.get('2XX') ?? op.responses.get('DEFAULT');
    if (range) return [200, range];
    return refusal(501, 'no-response-declared', `The contract declares no response to send for ${op.id}: no 2xx and no default (it declares ${declared() || 'none'}). Ask for one of them with Prefer: code=N.`);
  }

  /**
   * A refusal (400, 415) in the shape the operation declares for that status (exactly, as a range, or as
   * `default`). A JSON schema that accepts understudy's own problem as it is (a problem+json declaration, an open
   * object) gets it whole, every problem listed, in the declared media type. Otherwise the body is generated from
   * the schema and filled with what was wrong: string fields named like a message get the detail, numeric ones
   * named like a code the status, a list named like errors one entry per problem. JSON is preferred; XML is written
   * from the same value (fast-xml-parser), under the schema's `xml.name`; a declared response without content
   * answers with no body. Undefined when the operation declares nothing for the status: the engine's problem+json
   * then stands.
   */
  declaredError(op: CompiledOperation, exchange: Exchange, status: number, problem: { title: string; detail: string } & Record<string, unknown>, errors: readonly ContractError[]): Reply | undefined {
    const spec = op.responses.get(String(status)) ?? op.responses.get(`${Math.floor(status / 100)}XX`) ?? op.responses.get('DEFAULT');
    if (!spec) return undefined;
    const content = spec.response.content ?? {};
    const types = Object.keys(content);
    const type = types.find((t) => mediaKind(t.toLowerCase()) === 'json') ?? types.find((t) => /[/+]xml$/i.test(t.split(';')[0])) ?? types.find((t) => t.startsWith('text/'));
    if (types.length === 0) return { status, headers: { 'content-length': 0 }, body: '' };
    if (type === undefined) return undefined;
    const media = content[type];
    const contentType = type.includes('*') ? 'application/json' : type;
    if (mediaKind(type.toLowerCase()) === 'json' && spec.validate?.(problem)) {
      const whole = JSON.stringify(problem);
      return { status, headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(whole) }, body: whole, source: problem };
    }
    const seed = hashKey(exchange.workspace.seed, op.id, 'error', status);
    const schema = media.schema ? resolveRef<Schema>(this.document, media.schema, '').value : undefined;
    const value = fillError(this.sampler.sample(media.schema, seed), schema, this.document, status, problem, errors);
    let body: string;
    let source: unknown;
    if (mediaKind(type.toLowerCase()) === 'json') {
      body = JSON.stringify(value);
      source = value;
    } else if (type.startsWith('text/')) body = problem.detail;
    else body = new XMLBuilder({ ignoreAttributes: true, format: false }).build({ [schema?.xml?.name ?? 'error']: value });
    return { status, headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }, body, source };
  }

  private hasExample(media: OpenAPIV3.MediaTypeObject, name: string): boolean {
    return media.examples !== undefined && Object.prototype.hasOwnProperty.call(media.examples, name);
  }

  private exampleOf(media: OpenAPIV3.MediaTypeObject, wanted?: string): unknown {
    const examples = media.examples ?? {};
    const names = Object.keys(examples);
    const name = wanted && names.includes(wanted) ? wanted : undefined;
    if (name === undefined && media.example !== undefined) return media.example;
    const chosen = name ?? names[0];
    if (chosen === undefined) return undefined;
    return resolveRef<OpenAPIV3.ExampleObject>(this.document, examples[chosen], '').value.value;
  }
}

const MESSAGE_FIELD = /^(message|msg|detail|details|description|error_?description|error_?message|reason|error|fault_?string)$/i;
const CODE_FIELD = /^(code|status|status_?code|http_?status|error_?code|fault_?code)$/i;
const LIST_FIELD = /^(errors|details|messages|problems|violations|issues)$/i;
const WHERE_FIELD = /^(field|pointer|path|param|parameter|name|location|property)$/i;

/**
 * A generated error value with what was wrong written into it, where its schema has room: see declaredError. Only
 * top-level fields and the items of an errors list are touched; everything else stays as generated.
 */
function fillError(value: unknown, schema: Schema | undefined, document: OpenApiDocument, status: number, problem: { title: string; detail: string }, errors: readonly ContractError[]): unknown {
  if (!schema || value === null || typeof value !== 'object' || Array.isArray(value)) {
    return schema?.type === 'string' || (schema === undefined && typeof value === 'string') ? problem.detail : value;
  }
  const out = value as Record<string, unknown>;
  for (const [name, raw] of Object.entries(schema.properties ?? {})) {
    const prop = resolveRef<Schema>(document, raw, '').value;
    const type = Array.isArray(prop.type) ? prop.type.find((t) => t !== 'null') : prop.type;
    if (type === 'string' && !prop.enum && MESSAGE_FIELD.test(name)) out[name] = problem.detail;
    else if (type === 'string' && !prop.enum && name.toLowerCase() === 'title') out[name] = problem.title;
    else if ((type === 'integer' || type === 'number') && CODE_FIELD.test(name)) out[name] = status;
    else if (type === 'string' && !prop.enum && CODE_FIELD.test(name)) out[name] = String(status);
    else if (type === 'array' && LIST_FIELD.test(name) && errors.length) {
      const items = resolveRef<Schema>(document, (prop as OpenAPIV3.ArraySchemaObject).items, '').value;
      out[name] = errors.map((e) => {
        if (items.type === 'string') return e.message;
        const entry: Record<string, unknown> = {};
        for (const [field, rawField] of Object.entries(items.properties ?? {})) {
          const f = resolveRef<Schema>(document, rawField, '').value;
          if (f.type !== 'string') continue;
          if (MESSAGE_FIELD.test(field)) entry[field] = e.message;
          else if (WHERE_FIELD.test(field)) entry[field] = e.pointer ?? e.name ?? e.in;
        }
        return entry;
      });
    }
  }
  return out;
}

/** how a media type's body is written */
function bodyKind(type: string): 'json' | 'xml' | 'text' | 'other' {
  const media = type.split(';')[0].trim().toLowerCase();
  if (mediaKind(media) === 'json') return 'json';
  if (media === 'application/xml' || media === 'text/xml' || media.endsWith('+xml')) return 'xml';
  if (media.startsWith('text/')) return 'text';
  return 'other';
}

function refusal(status: 400 | 406 | 501, slug: string, detail: string): GenerationRefusal {
  return { refuse: { status, slug, detail } };
}
