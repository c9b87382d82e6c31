/**
 * The resource path of an OData request, after the service root: what it addresses and, for an entity, its key.
 * Only what Salesforce Connect (and ordinary clients of a read/write entity service) address is recognised:
 *
 *   ''  or '/'            the service document
 *   /$metadata            the metadata document
 *   /Set                  an entity set (query, create; delta with $deltatoken)
 *   /Set/$count           the number of entities (text/plain)
 *   /Set(key)             one entity: Set('0000100001'), Set(5), Set(CustomerId='0000100001'); v2 literals too
 *
 * Everything else (navigation and property paths, $value, $batch, $ref, functions) is refused with what is not
 * supported, so a client never gets a silently different resource. Key literals are read by the query parser's
 * literal reader (query/literals.ts), so a key is written exactly as in $filter.
 */
import type { EntitySet, Model, Property } from './model/model.js';
import { parseLiteral, QueryError, type ODataDialect } from './query/index.js';
import type { RowValue } from './evaluate/values.js';

export type Resource =
  | { kind: 'service' }
  | { kind: 'metadata' }
  | { kind: 'collection'; set: EntitySet }
  | { kind: 'count'; set: EntitySet }
  | { kind: 'entity'; set: EntitySet; key: RowValue; keyText: string };

/** A path this service does not serve: 404 (no such resource) or 400 (a form it does not support). */
export class ResourceError extends Error {
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
  }
}

/** `path` is the part after the service root, percent-encoded as the client sent it. */
export function parseResourcePath(path: string, model: Model, dialect: ODataDialect): Resource {
  if (path === '' || path === '/') return { kind: 'service' };
  // split before decoding: an encoded slash (%2F) inside a key is part of the key, not a path separator
  let segments: string[];
  try {
    segments = path.slice(1).split('/').map((s) => decodeURIComponent(s));
  } catch {
    throw new ResourceError(400, 'The resource path has malformed percent-encoding.');
  }
  if (segments[segments.length - 1] === '') segments.pop(); // a trailing slash
  const first = segments[0];
  if (first === '$metadata' && segments.length === 1) return { kind: 'metadata' };
  if (first.startsWith('$')) throw new ResourceError(first === '$batch' ? 400 : 404, `${first} is not supported by this service; address an entity set (${setNames(model)}).`);

  const open = first.indexOf('(');
  const name = open < 0 ? first : first.slice(0, open);
  const set = model.entitySet(name);
  if (!set) throw new ResourceError(404, `Resource not found for the segment '${name.slice(0, 100)}': this service's entity sets are ${setNames(model)}.`);

  if (open < 0) {
    if (segments.length === 1) return { kind: 'collection', set };
    if (segments.length === 2 && segments[1] === '$count') return { kind: 'count', set };
    throw new ResourceError(400, `${describeRest(segments.slice(1))} after ${name} is not supported; address ${name}, ${name}/$count or ${name}(key).`);
  }
  if (!first.endsWith(')')) throw new ResourceError(400, `The key predicate of ${name} is not closed: write ${name}(key).`);
  if (segments.length > 1) {
    throw new ResourceError(400, `${describeRest(segments.slice(1))} after ${name}(…) is not supported; this service serves whole entities (no navigation, property or $value paths).`);
  }
  const keyText = first.slice(open + 1, -1);
  return { kind: 'entity', set, key: readKey(set, keyText, dialect), keyText };
}

function describeRest(rest: string[]): string {
  const next = rest[0];
  if (next === '$value' || next === '$ref' || next === '$count') return next;
  return `the path /${rest.join('/').slice(0, 100)}`;
}

function setNames(model: Model): string {
  return model.entitySets.map((s) => s.name).join(', ');
}

/** The key value of `Set(<keyText>)` as a row value of the key property. */
export function readKey(set: EntitySet, keyText: string, dialect: ODataDialect): RowValue {
  const type = set.entityType;
  if (type.key.length !== 1) throw new ResourceError(400, `${set.name} has a composite key, which this service does not address by key.`);
  const property = type.property(type.key[0])!;
  let literal = keyText;
  const eq = /^([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/s.exec(keyText);
  if (eq) {
    if (eq[1] !== property.name) throw new ResourceError(400, `${set.name} is keyed by ${property.name}, not ${eq[1]}: write ${set.name}(${example(property)}).`);
    literal = eq[2];
  }
  if (literal === '') throw new ResourceError(400, `The key of ${set.name} is empty: write ${set.name}(${example(property)}).`);
  let node;
  try {
    node = parseLiteral(literal, dialect, 'key');
  } catch (err) {
    const why = err instanceof QueryError ? err.message : String(err);
    throw new ResourceError(400, `The key of ${set.name} is not a literal (${why}): write ${set.name}(${example(property)}).`);
  }
  if (node.kind === 'null') throw new ResourceError(400, `The key of ${set.name} cannot be null.`);
  const value = node.value;
  if (property.type === 'Edm.String' && typeof value === 'string' && node.type === 'Edm.String') return value;
  if ((property.type === 'Edm.Int32' || property.type === 'Edm.Int64' || property.type === 'Edm.Int16') && typeof value === 'number' && Number.isSafeInteger(value)) {
    return value;
  }
  throw new ResourceError(400, `The key of ${set.name} is ${property.name}, an ${property.type}: write ${set.name}(${example(property)}).`);
}

function example(p: Property): string {
  return p.type === 'Edm.String' ? `'…'` : '1';
}
