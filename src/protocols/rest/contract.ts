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
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { OpenAPIV3, OpenAPIV3_1 } from 'openapi-types';
import { load as parseYaml } from 'js-yaml';

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

/** Validates a contract file; returns human-readable problems (empty when valid). */
export async function checkContract(file: string): Promise<string[]> {
  try {
    const { validate, compileErrors } = await import('@readme/openapi-parser');
    const result = await validate(file);
    if (result.valid) return [];
    return [compileErrors(result)];
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
}

export async function loadContract(file: string, options: { validate: boolean }): Promise<LoadedContract> {
  if (options.validate) {
    const problems = await checkContract(file);
    if (problems.length) throw new ContractLoadError(file, problems.join('\n'));
  }
  let document: OpenApiDocument;
  try {
    document = parseYaml(await readFile(file, 'utf8')) as OpenApiDocument;
  } catch (err) {
    throw new ContractLoadError(file, err instanceof Error ? err.message : String(err));
  }
  if (hasExternalRef(document)) {
    const { bundle } = await import('@readme/openapi-parser');
    document = (await bundle(file)) as OpenApiDocument;
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
