/**
 * A write's body, from bytes to the values a handler receives: the Content-Encoding (gzip, which Salesforce's
 * "Compress Requests" sends; bounded after decompression), the media type the version takes (v4 JSON; v2 verbose
 * JSON or an Atom entry), the format's reader (format/read-body.ts), then the model: unknown and navigation
 * properties are refused by name, read-only ones dropped (OData: a service MUST ignore non-updatable properties a
 * client sends; Salesforce's UI edits send every field), every value checked against its property (type,
 * nullability, MaxLength, Precision/Scale). Problems are collected, not stopped at the first.
 */
import type { Exchange } from '../../engine/exchange.js';
import type { RowValue } from './evaluate/values.js';
import { decodedBody } from '../content-encoding.js';
import { readAtomEntry, readV2Json, readV4Json } from './format/index.js';
import type { WriteValues } from './handler.js';
import { valueProblem, type EntitySet } from './model/model.js';
import type { ODataDialect } from './query/index.js';

export type BodyRefusal = { status: 400 | 413 | 415; message: string; problems?: string[] };

export function readWriteBody(
  exchange: Exchange,
  set: EntitySet,
  dialect: ODataDialect,
  readOnly: ReadonlySet<string>,
  maxBytes: number,
): { values: WriteValues } | BodyRefusal {
  if (exchange.body === undefined || exchange.body.length === 0) return { status: 400, message: `The request has no body: send the ${set.entityType.name} as ${dialect === 'v4' ? 'JSON' : 'JSON or an Atom entry'}.` };

  const decoded = decodedBody(exchange, maxBytes);
  if ('status' in decoded) return decoded;
  const body = decoded.body!;

  const contentType = String(exchange.headers['content-type'] ?? '');
  const media = contentType.split(';')[0].trim().toLowerCase();
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) return { status: 415, message: `charset ${charset.slice(0, 40)} is not supported; send UTF-8.` };
  const type = set.entityType;
  let read;
  if (media === 'application/json') read = dialect === 'v4' ? readV4Json(body.toString('utf8'), type) : readV2Json(body.toString('utf8'), type);
  else if (dialect === 'v2' && (media === 'application/atom+xml' || media === 'application/xml')) read = readAtomEntry(body, type);
  else {
    const what = media || 'a body without a Content-Type';
    return { status: 415, message: `${what.slice(0, 80)} is not accepted: send ${dialect === 'v4' ? 'application/json' : 'application/json or application/atom+xml'}.` };
  }
  if ('problems' in read) return { status: 400, message: `The body is not a ${type.name}: ${read.problems.join('; ')}`, problems: read.problems };
  return checkValues(read.values, set, readOnly);
}

/** Unknown, navigation and ill-typed properties refused; read-only ones dropped. */
export function checkValues(sent: Record<string, RowValue>, set: EntitySet, readOnly: ReadonlySet<string>): { values: WriteValues } | BodyRefusal {
  const type = set.entityType;
  const problems: string[] = [];
  const values: WriteValues = {};
  for (const [name, value] of Object.entries(sent)) {
    const property = type.property(name);
    if (!property) {
      problems.push(
        type.navigationProperty(name)
          ? `${name} is a navigation property; set the foreign key property instead`
          : `${name.slice(0, 100)} is not a property of ${type.name}`,
      );
      continue;
    }
    if (readOnly.has(name)) continue;
    const problem = valueProblem(property, value);
    if (problem !== undefined) problems.push(problem);
    else values[name] = value;
  }
  if (problems.length) return { status: 400, message: `The ${type.name} is not valid: ${problems.join('; ')}.`, problems };
  return { values };
}
