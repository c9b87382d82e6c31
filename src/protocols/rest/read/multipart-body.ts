/**
 * multipart/form-data request bodies, read with busboy (the parser multer and fastify use) into the object the
 * operation's schema describes, so the coercing form validator can check it as it checks a urlencoded form:
 * - a text part is a string value (`rows=10` becomes 10 for an integer property when validated); a name repeated
 *   makes an array; a part the plan (form-body.ts formPlan: the schema and the media type's `encoding`) says is
 *   JSON, or one sent with a JSON Content-Type, is parsed as JSON;
 * - a file part (one with a filename, or one the schema says is binary) is not kept: its value is a placeholder
 *   string naming it, its type and size, so `type: string` / `format: binary` and `required` are checked and a
 *   handler knows what arrived, while the bytes stay in the request (and in the journal only within its own
 *   body limit).
 *
 * validateRequest is synchronous, and so is this: the whole body is already in memory (within limits.bodyBytes),
 * busboy parses a buffer written to it in one call synchronously, emitting every field and file as it goes; what
 * it would report later (the closing boundary never seen) is checked here directly. Limits: parts, a text part's
 * size, a part's name; busboy itself refuses a part header over 16 KiB ("Malformed part header"). Every refusal
 * is a message naming the problem, for a 400.
 */
import busboy from 'busboy';
import type { Readable } from 'node:stream';
import { isJsonType, type FormPlan } from './form-body.js';

export interface MultipartLimits {
  /** most parts (text and files) in one body */
  maxParts: number;
  /** longest text part, in bytes (a file has only the body's own limit) */
  maxFieldBytes: number;
  /** longest part name, in bytes */
  maxNameBytes: number;
}

export const DEFAULT_MULTIPART_LIMITS: MultipartLimits = { maxParts: 1000, maxFieldBytes: 1024 * 1024, maxNameBytes: 200 };

export type MultipartOutcome = { value: Record<string, unknown>; problems: Array<{ pointer: string; message: string }> } | { error: string };

/**
 * The parts of `raw` (a multipart/form-data body whose Content-Type header is `contentType`) as one object, read
 * by `plan`; or why the body cannot be read at all.
 */
export function parseMultipart(raw: Buffer, contentType: string, plan: FormPlan, limits: MultipartLimits = DEFAULT_MULTIPART_LIMITS): MultipartOutcome {
  const boundary = boundaryOf(contentType);
  if (boundary === undefined) return { error: 'the Content-Type multipart/form-data has no boundary parameter: the parts cannot be told apart' };
  if (!raw.includes(`--${boundary}`)) return { error: `the body does not contain the boundary "${boundary}" its Content-Type names` };
  if (!raw.includes(`--${boundary}--`)) return { error: `the body ends before the closing boundary (--${boundary}--)` };

  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { 'content-type': contentType },
      limits: { parts: limits.maxParts + 1, fieldSize: limits.maxFieldBytes, fieldNameSize: limits.maxNameBytes },
      defParamCharset: 'utf8',
    });
  } catch (err) {
    return { error: `the Content-Type cannot be read: ${(err as Error).message}` };
  }
  const value: Record<string, unknown> = Object.create(null);
  const problems: Array<{ pointer: string; message: string }> = [];
  const files: Readable[] = [];
  let failure: string | undefined;
  const fail = (message: string) => (failure ??= message);

  /** names whose value is a list: an array in the schema, or sent more than once */
  const lists = new Set<string>();
  const add = (name: string, item: unknown) => {
    const existing = value[name];
    if (existing === undefined) {
      if (plan.get(name)?.array) lists.add(name);
      value[name] = lists.has(name) ? [item] : item;
    } else if (lists.has(name)) (existing as unknown[]).push(item);
    else {
      // a name sent twice is a list, whatever the schema says: the validator then names the mismatch
      lists.add(name);
      value[name] = [existing, item];
    }
  };
  const json = (name: string, text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (err) {
      problems.push({ pointer: pointerOf(name), message: `is not valid JSON, as its content type says it is: ${(err as Error).message}` });
      return text;
    }
  };

  parser.on('field', (name, text, info) => {
    if (info.nameTruncated) return fail(`a part name is longer than ${limits.maxNameBytes} bytes`);
    if (info.valueTruncated) return fail(`the part "${name}" is longer than ${limits.maxFieldBytes} bytes (send it as a file, with a filename)`);
    const field = plan.get(name);
    if (field?.as === 'file') add(name, placeholder(name, undefined, info.mimeType, Buffer.byteLength(text)));
    else if (field?.as === 'json' || isJsonType(info.mimeType.toLowerCase())) add(name, json(name, text));
    else if (field?.delimiter !== undefined) for (const item of text === '' ? [] : text.split(field.delimiter)) add(name, item);
    else add(name, text);
  });
  parser.on('file', (name, stream, info) => {
    files.push(stream);
    // destroyed below, once everything is read: an error then is of no interest
    stream.on('error', () => undefined);
    const field = plan.get(name);
    if (field?.as === 'json' || (field?.as !== 'file' && isJsonType(info.mimeType.toLowerCase()))) {
      // a JSON part sent with a filename: its bytes are what the schema describes
      const bytes = (stream.read() as Buffer | null) ?? Buffer.alloc(0);
      add(name, json(name, bytes.toString('utf8')));
    } else add(name, new PendingFile(stream, info));
  });
  parser.on('partsLimit', () => fail(`more than ${limits.maxParts} parts`));
  parser.on('error', (err: Error) => fail(`the body cannot be read: ${err.message}`));

  try {
    // one write: busboy parses all of it now (parts are emitted synchronously)
    parser.write(raw);
  } catch (err) {
    fail(`the body cannot be read: ${(err as Error).message}`);
  }
  // the sizes of file parts are what their streams hold, read now that everything is written
  for (const [name, entry] of Object.entries(value)) {
    const read = (item: unknown) => (item instanceof PendingFile ? placeholder(name, item.info.filename, item.info.mimeType, item.stream.readableLength) : item);
    value[name] = Array.isArray(entry) ? entry.map(read) : read(entry);
  }
  for (const stream of files) stream.destroy();
  parser.destroy();
  if (failure !== undefined) return { error: failure };
  return { value, problems };
}

/** The boundary parameter of a multipart Content-Type (quoted or not), if it has a usable one. */
function boundaryOf(contentType: string): string | undefined {
  const match = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  return boundary === undefined || boundary === '' ? undefined : boundary;
}

/** a file part whose size is known once the whole body is parsed */
class PendingFile {
  constructor(
    readonly stream: Readable,
    readonly info: busboy.FileInfo,
  ) {}
}

/** What stands for a file: enough to see what arrived, a string so `type: string, format: binary` holds. */
function placeholder(name: string, filename: string | undefined, type: string, bytes: number): string {
  return `[file ${filename ?? name}, ${type}, ${bytes} bytes]`;
}

function pointerOf(name: string): string {
  return '/' + name.replace(/~/g, '~0').replace(/\//g, '~1');
}
