/**
 * Loading an OpenAPI 3.x contract: check it against the OpenAPI specification (@readme/openapi-parser), bundle
 * external $refs into one document, and offer internal $ref resolution that remembers where each resolved object
 * lives (a JSON pointer), so that ajv can compile schemas by reference into the whole document and recursive
 * schemas keep working.
 *
 * The parser library is loaded only when needed (checking a contract, or one with external $refs): a
 * single-file contract that is not re-checked at start-up is plain YAML, and start-up time is a product promise.
 * Contracts are read with js-yaml, four times faster than the `yaml` library on a cold start; `yaml` stays for
 * config files and profiles, where its node positions give line-numbered errors.
 *
 * Every contract file, and every local file its external $refs reach, is read within CONTRACT_LIMITS (size,
 * depth, nodes with aliases expanded; see yaml-source.ts) before any library walks it: @readme/openapi-parser
 * reads YAML with its own js-yaml, which has no alias limit and cannot be swapped for another parser, and its
 * validation walks every alias expansion, so a "billion laughs" contract would otherwise hang it for minutes.
 *
 * Checking a document against the OpenAPI specification costs more than loading it (STAPI, 600 KB: ~0.7 s, most
 * of it the parser compiling the OpenAPI schema), and reading 600 KB of YAML ~0.1 s, while start-up time is a
 * product promise (issue #14: under 1 s to load that document and answer it). So the check is given the document
 * already read (no second parse) when it has no external $refs; and a document found valid is remembered, as
 * read (v8-serialized, so dates and shared anchors survive), with the SHA-256 of every file it was read from, in
 * a per-user directory under the OS's temporary one, one entry per contract path, keyed also by understudy's
 * version and the checker's installed files. Starting again on unchanged files reads the entry instead of the
 * YAML and skips a check that would say the same. Only valid documents are kept, so problems are always
 * reported afresh; an entry that cannot be read or written only costs the work it would have saved.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir, userInfo } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { deserialize, serialize } from 'node:v8';
import type { OpenAPIV3, OpenAPIV3_1 } from 'openapi-types';
import { CONTRACT_LIMITS, loadBoundedYaml, readBoundedText, SourceError } from '../../config/yaml-source.js';
import { VERSION } from '../../version.js';

export type OpenApiDocument = OpenAPIV3.Document | OpenAPIV3_1.Document;

export interface LoadedContract {
  file: string;
  document: OpenApiDocument;
  /** '3.0' or '3.1': selects the JSON Schema dialect */
  dialect: '3.0' | '3.1';
  /** mount path derived from the contract: the first `servers` URL's path, else /{file base name} */
  defaultMount: string;
}

/** A contract file that cannot be served (unreadable, invalid, not OpenAPI 3.x). */
export class ContractLoadError extends Error {
  constructor(
    readonly file: string,
    readonly details: string,
  ) {
    super(`${file}: ${details}`);
  }
}

/** most files one contract may pull in through external $refs */
const MAX_REFERENCED_FILES = 200;

/** The files a document was read from, each with the SHA-256 of its text. */
type Sources = Array<[path: string, sha256: string]>;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Reads one YAML or JSON file within CONTRACT_LIMITS; `from` names the contract that referenced it. The file and
 * the digest of its text are added to `sources` (what a remembered document is checked against).
 */
function readBounded(file: string, contract: string, sources?: Sources): unknown {
  const where = file === contract ? '' : `${file} (referenced by a $ref): `;
  try {
    const text = readBoundedText(file, CONTRACT_LIMITS);
    sources?.push([resolve(file), sha256(text)]);
    return loadBoundedYaml(file, text, CONTRACT_LIMITS);
  } catch (err) {
    if (err instanceof SourceError) {
      const [p] = err.problems;
      const at = p.line > 1 || p.column > 1 ? `line ${p.line}, column ${p.column}: ` : '';
      throw new ContractLoadError(contract, `${where}${at}${p.path ? p.path + ': ' : ''}${p.message}`);
    }
    throw new ContractLoadError(contract, where + (err instanceof Error ? err.message : String(err)));
  }
}

/**
 * The contract's document, read within the limits, after the same check on every local file reachable through
 * external $refs (remote ones are left to the parser library, which fetches them with a timeout).
 */
function readContractBounded(file: string, sources?: Sources): unknown {
  const document = readBounded(file, file, sources);
  const seen = new Set([resolve(file)]);
  const pending: Array<{ from: string; value: unknown }> = [{ from: file, value: document }];
  while (pending.length) {
    const { from, value } = pending.pop()!;
    for (const target of externalRefFiles(value)) {
      const path = resolve(dirname(from), target);
      if (seen.has(path)) continue;
      seen.add(path);
      if (seen.size > MAX_REFERENCED_FILES) throw new ContractLoadError(file, `its $refs reach more than ${MAX_REFERENCED_FILES} files (the limit)`);
      // a missing file is the parser library's to report, with its own message
      let referenced: unknown;
      try {
        referenced = readBounded(path, file, sources);
      } catch (err) {
        if (err instanceof ContractLoadError && /cannot read: ENOENT/.test(err.details)) continue;
        throw err;
      }
      pending.push({ from: path, value: referenced });
    }
  }
  return document;
}

/** the local files named by external $refs in a (bounded) document */
function externalRefFiles(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((item) => externalRefFiles(item, found));
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && !value.startsWith('#') && !/^[a-z][a-z0-9+.-]*:/i.test(value)) {
        const target = safeDecode(value.split('#')[0]);
        if (target) found.add(target);
      } else externalRefFiles(value, found);
    }
  }
  return found;
}

function safeDecode(uri: string): string {
  try {
    return decodeURI(uri);
  } catch {
    return uri; // a malformed escape: the parser library will say so
  }
}

/** Validates a contract file; returns human-readable problems (empty when valid). */
export async function checkContract(file: string): Promise<string[]> {
  try {
    readContractBounded(file);
  } catch (err) {
    if (err instanceof ContractLoadError) return [err.details];
    throw err;
  }
  return validateContract(file);
}

/**
 * @readme/openapi-parser's verdict; only on files already read within the limits. Given the document read from
 * them (a copy: the parser resolves references in place), it does not read the file again.
 */
async function validateContract(file: string, document?: unknown): Promise<string[]> {
  try {
    const { validate, compileErrors } = await import('@readme/openapi-parser');
    const result = await validate(document === undefined ? file : (structuredClone(document) as Parameters<typeof validate>[0]));
    if (result.valid) return [];
    return [compileErrors(result)];
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
}

/** A contract file read (or recalled) and, when asked, being checked against the OpenAPI specification. */
interface Prepared {
  document: OpenApiDocument;
  /** the files it was read from; undefined when it was recalled (nothing to remember again) */
  sources?: Sources;
  external: boolean;
  /** the specification check's verdict: problems, none when valid; undefined when not checked */
  problems?: Promise<string[]>;
}

/** contracts prepared ahead of loadContract (prepareContract), by the path they were named with */
const prepared = new Map<string, Promise<Prepared>>();

/**
 * Starts loading `file` before the server needs it: read now (within the limits) or recalled, and, when it is not
 * remembered as valid, checked against the OpenAPI specification in a worker thread. The check is most of a cold
 * start on a large document (STAPI: ~0.45 s), and the command's own start-up (loading the server's modules,
 * building the built-in systems: ~0.4 s) does not need its verdict: on two cores they overlap. loadContract then
 * takes what was prepared. Errors surface there, where they always have. Measured on this project's 2-core VM
 * (bench:load), the overlap is smaller than it sounds: the module loading slows while the worker runs, and a cold
 * STAPI start gains ~5–10% (README, Performance).
 */
export function prepareContract(file: string): void {
  if (prepared.has(file)) return;
  // on one core a worker only competes with the start-up it was meant to overlap: the check then runs here, as always
  const inWorker = availableParallelism() > 1;
  const ready = Promise.resolve().then(() => prepare(file, true, inWorker));
  ready.catch(() => undefined); // reported by the loadContract that takes it
  prepared.set(file, ready);
}

async function prepare(file: string, validate: boolean, inWorker: boolean): Promise<Prepared> {
  const recalled = validate ? (recall(file) as OpenApiDocument | undefined) : undefined;
  if (recalled !== undefined) return { document: recalled, external: false };
  const sources: Sources = [];
  const document = readContractBounded(file, sources) as OpenApiDocument;
  const external = hasExternalRef(document);
  let problems: Promise<string[]> | undefined;
  // a document with external $refs is checked from its file (the checker follows them), on this thread
  if (validate) problems = inWorker && !external ? validateInWorker(file, document) : validateContract(file, external ? undefined : document);
  problems?.catch(() => undefined);
  return { document, sources, external, problems };
}

/**
 * validateContract on another thread: the worker is given the document (a structured clone: the parser may resolve
 * references in place) and loads the checker itself. If the worker cannot start or dies, the check runs here.
 */
function validateInWorker(file: string, document: unknown): Promise<string[]> {
  return new Promise<string[]>((resolve) => {
    let settled = false;
    const fallback = () => {
      if (!settled) {
        settled = true;
        resolve(validateContract(file, document));
      }
    };
    try {
      const checker = createRequire(import.meta.url).resolve('@readme/openapi-parser');
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { checker, document } });
      worker.unref();
      worker.once('message', (problems: string[]) => {
        settled = true;
        resolve(problems);
      });
      worker.once('error', fallback);
      worker.once('exit', fallback);
    } catch {
      fallback();
    }
  });
}

/** what the worker runs (CommonJS, as an eval'ed worker is): the checker's verdict on the document, posted back */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { validate, compileErrors } = require(workerData.checker);
validate(workerData.document).then(
  (result) => parentPort.postMessage(result.valid ? [] : [compileErrors(result)]),
  (err) => parentPort.postMessage([err && err.message ? err.message : String(err)]),
);
`;

export async function loadContract(file: string, options: { validate: boolean }): Promise<LoadedContract> {
  const early = options.validate ? prepared.get(file) : undefined;
  prepared.delete(file);
  const ready = await (early ?? prepare(file, options.validate, false));
  let document = ready.document;
  if (ready.sources !== undefined) {
    const problems = ready.problems ? await ready.problems : [];
    if (problems.length) throw new ContractLoadError(file, problems.join('\n'));
    if (ready.external) {
      const { bundle } = await import('@readme/openapi-parser');
      document = (await bundle(file)) as OpenApiDocument;
    }
    // a document whose $refs reach beyond local files may change without its files changing: not remembered
    if (options.validate && !(ready.external && hasRemoteRef(ready.document))) remember(file, ready.sources, document);
  }
  const version = String((document as { openapi?: string }).openapi ?? '');
  if (!/^3\.[01]\./.test(version)) {
    throw new ContractLoadError(file, `only OpenAPI 3.0.x and 3.1.x contracts are served (this one says "${version || 'swagger 2.0'}")`);
  }
  return {
    file,
    document,
    dialect: version.startsWith('3.1') ? '3.1' : '3.0',
    defaultMount: mountFromDocument(document, file),
  };
}

/**
 * Where the valid document read from `file` is remembered (undefined: nowhere), keyed by its path, understudy's
 * version and the checker's installed files (a new version of either checks again).
 */
function entryFor(file: string): string | undefined {
  try {
    const checker = fileURLToPath(import.meta.resolve('@readme/openapi-parser'));
    const { size, mtimeMs } = statSync(checker);
    const { uid } = userInfo();
    const home = join(tmpdir(), `understudy-${uid}`);
    // the temporary directory is shared: a directory of that name someone else made is not trusted
    if (existsSync(home) && statSync(home).uid !== uid) return undefined;
    return join(home, 'valid-contracts', sha256(`${resolve(file)}\0${VERSION}\0${checker}\0${size}\0${mtimeMs}`));
  } catch {
    return undefined;
  }
}

/** The document remembered for `file`, when every file it was read from is unchanged. */
function recall(file: string): unknown {
  const entry = entryFor(file);
  if (entry === undefined || !existsSync(entry)) return undefined;
  try {
    const { sources, document } = deserialize(readFileSync(entry)) as { sources: Sources; document: unknown };
    for (const [path, digest] of sources) if (sha256(readBoundedText(path, CONTRACT_LIMITS)) !== digest) return undefined;
    return document;
  } catch {
    return undefined;
  }
}

function remember(file: string, sources: Sources, document: unknown): void {
  const entry = entryFor(file);
  if (entry === undefined) return;
  try {
    mkdirSync(dirname(entry), { recursive: true, mode: 0o700 });
    chmodSync(dirname(dirname(entry)), 0o700);
    // written whole, then renamed: a reader never sees half an entry
    const partial = `${entry}.${process.pid}`;
    writeFileSync(partial, serialize({ sources, document }));
    renameSync(partial, entry);
  } catch {
    // not remembered: the next start reads and checks again
  }
}

/** whether a $ref names something outside the local files (http:, https: ...) */
function hasRemoteRef(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(hasRemoteRef);
  if (node === null || typeof node !== 'object') return false;
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && /^[a-z][a-z0-9+.-]*:/i.test(value)) return true;
    if (hasRemoteRef(value)) return true;
  }
  return false;
}

function hasExternalRef(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(hasExternalRef);
  if (node === null || typeof node !== 'object') return false;
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && !value.startsWith('#')) return true;
    if (hasExternalRef(value)) return true;
  }
  return false;
}

function mountFromDocument(document: OpenApiDocument, file: string): string {
  const url = document.servers?.[0]?.url;
  if (url) {
    // relative URLs ("/wms/v1") and absolute ones ("https://api.example.com/wms/v1"); variables keep their default
    const withDefaults = url.replace(/\{([^}]+)\}/g, (_m, name: string) => document.servers?.[0]?.variables?.[name]?.default ?? name);
    const path = new URL(withDefaults, 'http://placeholder.invalid').pathname.replace(/\/+$/, '');
    if (path) return path;
  }
  return '/' + basename(file, extname(file)).replace(/\.(openapi|swagger|oas)$/i, '');
}

/** Escapes one JSON-pointer token. */
export function pointerToken(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** An object of the document and the JSON pointer where it lives (after following $refs). */
export interface Located<T> {
  value: T;
  pointer: string;
}

/** Follows internal $refs (chains included) from `value` found at `pointer`. */
export function resolveRef<T>(document: unknown, value: unknown, pointer: string): Located<T> {
  let current = value as { $ref?: string };
  let at = pointer;
  for (let hops = 0; current && typeof current === 'object' && typeof current.$ref === 'string'; hops++) {
    if (hops > 32) throw new Error(`$ref chain too long at ${at}`);
    const ref = current.$ref;
    if (!ref.startsWith('#')) throw new Error(`unresolved external $ref ${ref} at ${at}`);
    at = ref.slice(1);
    current = getPointer(document, at) as { $ref?: string };
    if (current === undefined) throw new Error(`$ref ${ref} points at nothing`);
  }
  return { value: current as T, pointer: at };
}

/** The schema (or other object) `value` is or refers to; undefined when it is no object or its $ref leads nowhere. */
export function resolvedOrUndefined<T>(document: unknown, value: unknown): T | undefined {
  if (value === undefined || value === null || typeof value !== 'object') return undefined;
  try {
    return resolveRef<T>(document, value, '').value;
  } catch {
    return undefined;
  }
}

export function getPointer(document: unknown, pointer: string): unknown {
  if (pointer === '' || pointer === '/') return document;
  let node: unknown = document;
  for (const raw of pointer.slice(1).split('/')) {
    const token = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[token];
  }
  return node;
}

/**
 * `vendor.openapi.yaml@/vendor` → file and mount; the system is named after the mount's first segment. A file
 * name may contain @ itself (`vendor@2.yaml`), so text after the last @ that does not start with / is part of
 * the file name when that file exists, and a mistyped mount (`vendor.yaml@vendor`) when it does not.
 */
export function parseContractOption(option: string): { file: string; mount?: string } {
  const at = option.lastIndexOf('@');
  if (at <= 0) return { file: option };
  const file = option.slice(0, at);
  const mount = option.slice(at + 1);
  if (mount.startsWith('/')) return { file, mount };
  if (existsSync(option)) return { file: option };
  throw new Error(`--contract ${option}: the mount after @ must start with / (${file}@/${mount})`);
}
