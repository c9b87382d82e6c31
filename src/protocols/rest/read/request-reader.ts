/**
 * Reading a REST request the way its operation describes it, before any handler sees it: path, query, header and
 * cookie parameters decoded in their styles (parameter-styles.ts) and coerced by their validators; the body
 * inflated (content-encoding), picked by its media type (415 for one the operation does not take) and read as
 * JSON, a form, multipart parts or XML, then validated. Every problem is listed, with where it is; the engine
 * (rest-engine.ts) words the refusal in the system's or the contract's error shape.
 */
import { parse as parseQueryString } from 'node:querystring';
import type { ContractError, Exchange } from '../../../engine/exchange.js';
import { maskCardData } from '../../../journal/redact.js';
import { decodedBody } from '../../content-encoding.js';
import type { AcceptedMedia, CompiledOperation } from '../operations.js';
import { describeErrors } from '../schemas/schema-compiler.js';
import { applyFormPlan, parseForm } from './form-body.js';
import { parseMultipart } from './multipart-body.js';
import { decodeQuery, decodeValue, parseCookies, type StyledParameter } from './parameter-styles.js';
import { readXmlBody } from './xml-body.js';

/** The request as its handler gets it: parameters and body read, coerced and validated. */
export interface ReadRequest {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body: unknown;
}

/** Why the request is refused: the engine words it (status, problem slug, sentence, extra problem members). */
export interface Refusal {
  refuse: { status: number; slug: string; detail: string; extra: Record<string, unknown> };
}

export type Reading = { request: ReadRequest } | Refusal;

/** an XML body declared without a schema: read safely, mapped as it comes */
const NO_SCHEMA = { document: {}, schema: undefined };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads the request as its operation describes it — path, query, header and cookie parameters in their styles,
 * the body by its media type — and validates each part, listing every problem (also on exchange.contractErrors).
 * The request as the handler will see it, or what to refuse it with.
 */
export function readRequest(exchange: Exchange, op: CompiledOperation, maxBodyBytes: number, masksCardData: boolean): Reading {
  const errors: ContractError[] = [];
  const limits = { maxBodyBytes, masksCardData };

  // the router's params object is this request's own: ajv coerces it in place
  const params: Record<string, unknown> = exchange.params ?? {};
  if (op.pathStyles.length) decodeStyled(params, op.pathStyles, 'path', errors);
  if (op.path && !op.path(params)) errors.push(...unreported(describeErrors(op.path.errors, 'path'), errors));

  const query = readQuery(exchange.rawQuery, op);
  if (op.query && !op.query(query)) errors.push(...describeErrors(op.query.errors, 'query'));

  if (op.header) {
    const headers: Record<string, unknown> = {};
    for (const name of op.headerNames) if (exchange.headers[name] !== undefined) headers[name] = exchange.headers[name];
    if (op.headerStyles.length) decodeStyled(headers, op.headerStyles, 'header', errors);
    if (!op.header(headers)) errors.push(...unreported(describeErrors(op.header.errors, 'header'), errors));
  }

  if (op.cookie) {
    const sent = parseCookies(exchange.headers.cookie);
    const cookies: Record<string, unknown> = {};
    for (const name of op.cookieNames) if (sent[name] !== undefined) cookies[name] = sent[name];
    if (op.cookieStyles.length) decodeStyled(cookies, op.cookieStyles, 'cookie', errors);
    if (!op.cookie(cookies)) errors.push(...unreported(describeErrors(op.cookie.errors, 'cookie'), errors));
  }

  let body: unknown;
  if (op.body) {
    const outcome = readBody(exchange, op.body.media, op.body.required, errors, limits);
    if ('refuse' in outcome) {
      exchange.contractErrors.push(...errors);
      return outcome;
    }
    body = outcome.body;
  }

  if (errors.length) {
    exchange.contractErrors.push(...errors);
    const where = [...new Set(errors.map((e) => e.in))].join(', ');
    const detail = `The request does not match the contract (${errors.length} problem${errors.length > 1 ? 's' : ''} in ${where}).`;
    return { refuse: { status: 400, slug: 'request-validation', detail, extra: { operation: op.id, errors } } };
  }
  return { request: { params, query, body } };
}

function readQuery(rawQuery: string, op: CompiledOperation): Record<string, unknown> {
  if (rawQuery === '') return {};
  const query = parseQueryString(rawQuery) as Record<string, unknown>;
  // deepObject: `filter[status]=open` is the property status of the object filter (one level, as OpenAPI has it)
  if (op.deepObjects.size) {
    for (const key of Object.keys(query)) {
      const open = key.indexOf('[');
      if (open <= 0 || !key.endsWith(']')) continue;
      const name = key.slice(0, open);
      const property = key.slice(open + 1, -1);
      if (!op.deepObjects.has(name) || property === '' || property.includes('[') || property.includes(']')) continue;
      const target = (query[name] ??= Object.create(null)) as Record<string, unknown>;
      if (typeof target !== 'object' || Array.isArray(target)) continue;
      target[property] = query[key];
      delete query[key];
    }
  }
  // comma-, space- and pipe-delimited lists, comma-written objects, exploded objects gathered from their properties
  if (op.queryStyles.length) decodeQuery(query, op.queryStyles);
  return query;
}

function readMultipart(raw: Buffer, contentType: string, media: AcceptedMedia): { value: unknown; problems: ContractError[] } | { error: string } {
  const read = parseMultipart(raw, contentType, media.plan ?? new Map());
  if ('error' in read) return { error: `the multipart body cannot be read: ${read.error}` };
  return { value: read.value, problems: read.problems.map((p) => ({ in: 'body' as const, ...p })) };
}

/** Decodes and parses the body by its media type; a 415 when the type is not one the operation accepts. */
function readBody(
  exchange: Exchange,
  accepted: AcceptedMedia[],
  required: boolean,
  errors: ContractError[],
  limits: { maxBodyBytes: number; masksCardData: boolean },
): { body: unknown } | Refusal {
  const decoded = decodedBody(exchange, limits.maxBodyBytes);
  if ('status' in decoded) {
    if (decoded.status === 400) {
      errors.push({ in: 'body', pointer: '', message: decoded.message });
      return { body: undefined };
    }
    errors.push({ in: decoded.status === 415 ? 'content-type' : 'body', message: decoded.message });
    return { refuse: { status: decoded.status, slug: decoded.status === 413 ? 'body-too-large' : 'unsupported-content-encoding', detail: decoded.message, extra: {} } };
  }
  const raw = decoded.body;
  // the journal keeps the inflated body: card numbers in it are masked as in a plain one
  if (raw !== exchange.body && raw !== undefined && limits.masksCardData) exchange.journalBody = maskCardData(raw);
  if (!raw || raw.length === 0) {
    if (required) errors.push({ in: 'body', pointer: '', message: 'a request body is required' });
    return { body: undefined };
  }
  const contentType = String(exchange.headers['content-type'] ?? '').toLowerCase().split(';')[0].trim();
  const media = accepted.find((m) => m.type === contentType) ?? accepted.find((m) => matchesRange(m.type, contentType));
  if (!media) {
    const acceptedTypes = accepted.map((m) => m.type);
    errors.push({ in: 'content-type', message: `${contentType || 'no content type'} is not accepted; send ${acceptedTypes.join(' or ')}` });
    const detail = `This operation takes ${acceptedTypes.join(' or ')}, not ${contentType || 'a body without a Content-Type'}.`;
    return { refuse: { status: 415, slug: 'unsupported-media-type', detail, extra: { accepted: acceptedTypes } } };
  }
  if (media.kind === 'other') return { body: raw };
  // parts and XML are read from the bytes (a part may be binary; XML says its own encoding)
  if (media.kind === 'multipart' || media.kind === 'xml') {
    const read = media.kind === 'multipart' ? readMultipart(raw, String(exchange.headers['content-type'] ?? ''), media) : readXmlBody(raw, media.xml ?? NO_SCHEMA);
    if ('error' in read) {
      errors.push({ in: 'body', pointer: '', message: read.error });
      return { body: undefined };
    }
    errors.push(...read.problems);
    if (media.validate && !media.validate(read.value)) errors.push(...besides(read.problems, describeErrors(media.validate.errors, 'body')));
    return { body: read.value };
  }
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    errors.push({ in: 'body', pointer: '', message: 'the body is not valid UTF-8' });
    return { body: undefined };
  }
  let body: unknown;
  if (media.kind === 'json') {
    try {
      body = JSON.parse(text);
    } catch (err) {
      errors.push({ in: 'body', pointer: '', message: `the body is not valid JSON: ${(err as Error).message}` });
      return { body: undefined };
    }
  } else {
    const form = parseForm(text);
    if ('error' in form) {
      errors.push({ in: 'body', pointer: '', message: `the form cannot be read: ${form.error}` });
      return { body: undefined };
    }
    body = form.value;
    if (media.plan !== undefined) for (const p of applyFormPlan(form.value, media.plan)) errors.push({ in: 'body', ...p });
  }
  if (media.validate && !media.validate(body)) errors.push(...besides(errors, describeErrors(media.validate.errors, 'body')));
  return { body };
}

/**
 * Path, header or cookie values read in their parameters' styles (parameter-styles.ts), in place; a value not
 * written in its style is a problem naming the parameter.
 */
function decodeStyled(values: Record<string, unknown>, styles: readonly StyledParameter[], where: 'path' | 'header' | 'cookie', errors: ContractError[]): void {
  for (const p of styles) {
    const raw = values[p.name];
    if (typeof raw !== 'string') continue;
    const decoded = decodeValue(raw, p);
    if ('problem' in decoded) errors.push({ in: where, name: p.name, message: decoded.problem });
    else values[p.name] = decoded.value;
  }
}

/** the validator's findings about parameters not already reported as written out of their style */
function unreported(found: ContractError[], reported: readonly ContractError[]): ContractError[] {
  if (reported.length === 0) return found;
  return found.filter((e) => !reported.some((r) => r.in === e.in && r.name === e.name));
}

/** the validator's findings, less those inside a part already reported as unreadable (its JSON, say) */
function besides(reported: ContractError[], found: ContractError[]): ContractError[] {
  const unreadable = reported.filter((e) => e.in === 'body' && e.pointer).map((e) => e.pointer!);
  if (unreadable.length === 0) return found;
  return found.filter((e) => !unreadable.some((p) => e.pointer === p || e.pointer?.startsWith(p + '/')));
}

function matchesRange(range: string, type: string): boolean {
  if (range === '*/*') return type !== '';
  if (range.endsWith('/*')) return type.startsWith(range.slice(0, -1));
  return false;
}
