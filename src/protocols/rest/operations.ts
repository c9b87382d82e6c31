/**
 * Turns each operation of a contract into a CompiledOperation: its validators (path, query, header, body),
 * the media types it accepts, and a validator per declared response. Everything here runs once at start-up; the
 * request path only calls the compiled functions.
 */
import type { OpenAPIV3 } from 'openapi-types';
import type { OperationInfo } from '../../engine/system.js';
import { ContractLoadError, resolveRef, type LoadedContract } from './contract.js';
import { formPlan, type FormPlan } from './read/form-body.js';
import { fieldSelectionParameter, recordsPointer } from './report-hints.js';
import { needsDecoding, styledParameter, type StyledParameter } from './read/parameter-styles.js';
import { pointerOf, SchemaCompiler, type Validator } from './schemas/schema-compiler.js';
import type { XmlBodyPlan } from './read/xml-body.js';

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** the document-level switch that makes unknown query parameters an error (OpenAPI has no word for this) */
export const STRICT_QUERY_EXTENSION = 'x-understudy-strict-query';

/**
 * On a path parameter that ends the template (`/hooks/{rest}`): it takes the rest of the path, slashes included
 * (`/hooks/a/b/c` gives `a/b/c`), as webhook URLs with secret path segments need. OpenAPI has no way to say so: a
 * parameter is one segment there.
 */
export const GREEDY_EXTENSION = 'x-understudy-greedy';

export type BodyKind = 'json' | 'form' | 'multipart' | 'xml' | 'other';

export interface AcceptedMedia {
  /** lower-case media type without parameters; may be a range such as application/* */
  type: string;
  kind: BodyKind;
  validate?: Validator;
  /** forms and multipart bodies: how each named field or part is written (its schema and `encoding`) */
  plan?: FormPlan;
  /** XML bodies: the schema the elements are mapped by */
  xml?: XmlBodyPlan;
}

export interface ResponseSpec {
  /** the response object's pointer, for generating examples */
  pointer: string;
  response: OpenAPIV3.ResponseObject;
  /** validator of the JSON body, when the response declares a JSON schema */
  validate?: Validator;
  /** validator of the headers it declares (names lower-case; Content-Type ignored, as OpenAPI says), when any */
  headers?: { validate: Validator; names: string[] };
}

/** An operation ready to serve; it is also the OperationInfo the pipeline keeps on the exchange. */
export interface CompiledOperation extends OperationInfo {
  method: string;
  pointer: string;
  operation: OpenAPIV3.OperationObject;
  /** the path parameter that takes the rest of the path (GREEDY_EXTENSION), when the template ends in one */
  greedy?: string;
  path?: Validator;
  query?: Validator;
  /** query parameters written in a style the query string parser does not read (parameter-styles.ts) */
  queryStyles: StyledParameter[];
  /** query parameters in OpenAPI's deepObject style: `filter[status]=open&filter[type]=b2b` is one object */
  deepObjects: Set<string>;
  /** path parameters written in a style other than a plain value (label, matrix, simple lists and objects) */
  pathStyles: StyledParameter[];
  header?: Validator;
  headerNames: string[];
  /** header parameters that are lists or objects (simple style) */
  headerStyles: StyledParameter[];
  /** cookie parameters, read from the Cookie header */
  cookie?: Validator;
  cookieNames: string[];
  cookieStyles: StyledParameter[];
  body?: { required: boolean; media: AcceptedMedia[] };
  /** by status code ("200"), range ("2XX") or "default" */
  responses: Map<string, ResponseSpec>;
  /**
   * the operation's security requirement as the contract declares it (its own `security`, else the document's):
   * alternatives, each a list of schemes that must all be satisfied; `[]` or an empty alternative: none needed
   */
  security: SecurityAlternative[];
}

/** One scheme a request must satisfy, as enforcement needs it. */
export type SecurityScheme =
  | { name: string; type: 'apiKey'; in: 'header' | 'query' | 'cookie'; parameter: string }
  | { name: string; type: 'http'; scheme: string }
  | { name: string; type: 'oauth2' | 'openIdConnect'; scopes: string[] };

/** Schemes that together satisfy the requirement (an OpenAPI Security Requirement Object). */
export type SecurityAlternative = SecurityScheme[];

/** schema keywords a body taken as bytes satisfies whatever it holds: annotations, and saying it is binary */
const BYTES_KEYWORDS = new Set(['type', 'format', 'description', 'title', 'example', 'examples', 'contentMediaType', 'contentEncoding', 'default', 'deprecated', 'readOnly', 'writeOnly', 'externalDocs', 'nullable']);

// headers OpenAPI says to ignore as parameters: they are described elsewhere in the document
const IGNORED_HEADER_PARAMS = new Set(['accept', 'content-type', 'authorization']);

export function mediaKind(type: string): BodyKind {
  if (type === 'application/json' || type.endsWith('+json') || type === '*/*' || type === 'application/*') return 'json';
  if (type === 'application/x-www-form-urlencoded') return 'form';
  if (type === 'multipart/form-data') return 'multipart';
  if (type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml')) return 'xml';
  return 'other';
}

export function compileOperations(contract: LoadedContract, mount: string, compiler: SchemaCompiler): CompiledOperation[] {
  const doc = contract.document as OpenAPIV3.Document;
  const strictQuery = (doc as unknown as Record<string, unknown>)[STRICT_QUERY_EXTENSION] === true;
  const compiled: CompiledOperation[] = [];

  for (const [path, rawItem] of Object.entries(doc.paths ?? {})) {
    const item = resolveRef<OpenAPIV3.PathItemObject>(doc, rawItem, pointerOf('paths', path));
    for (const method of HTTP_METHODS) {
      const operation = item.value[method];
      if (!operation) continue;
      const opPointer = `${item.pointer}${pointerOf(method)}`;
      const id = operation.operationId ?? `${method.toUpperCase()} ${path}`;
      const what = `${id}`;

      // parameters: path-level ones, overridden by operation-level ones with the same name and location
      const params = new Map<string, { p: OpenAPIV3.ParameterObject; pointer: string }>();
      const collect = (list: unknown[] | undefined, base: string) =>
        (list ?? []).forEach((raw, i) => {
          const located = resolveRef<OpenAPIV3.ParameterObject>(doc, raw, `${base}/parameters/${i}`);
          params.set(`${located.value.in}:${located.value.name}`, { p: located.value, pointer: located.pointer });
        });
      collect(item.value.parameters, item.pointer);
      collect(operation.parameters, opPointer);

      const byLocation = (where: string) =>
        [...params.values()]
          .filter(({ p }) => p.in === where && p.schema !== undefined)
          .filter(({ p }) => where !== 'header' || !IGNORED_HEADER_PARAMS.has(p.name.toLowerCase()))
          .map(({ p, pointer }) => ({
            name: where === 'header' ? p.name.toLowerCase() : p.name,
            pointer: `${pointer}/schema`,
            required: where === 'path' ? true : Boolean(p.required),
          }));

      // what no validator would check: refused at load unless lenient (SchemaCompiler.check)
      for (const { p, pointer } of params.values()) {
        const what = `${id} ${p.in} parameter ${p.name}`;
        if (p.schema === undefined && (p as { content?: unknown }).content !== undefined) compiler.unvalidated({ what, pointer: `${pointer}/content`, message: 'a parameter described by `content` (a media type) is not validated by understudy' });
      }

      const pathParams = byLocation('path');
      const queryParams = byLocation('query');
      const headerParams = byLocation('header');
      const cookieParams = byLocation('cookie');
      // how each parameter is written (style, explode), where reading it takes more than the validators' coercion
      const styled = (where: string) =>
        [...params.values()]
          .filter(({ p }) => p.in === where && p.schema !== undefined)
          .map(({ p }) => styledParameter(doc, where === 'header' ? { ...p, name: p.name.toLowerCase() } : p))
          .filter(needsDecoding)
          // an exploded object's properties stand as query parameters, but never one the operation declares itself
          .map((sp) => (where === 'query' ? { ...sp, properties: sp.properties.filter((name) => !params.has(`query:${name}`)) } : sp));

      const greedy = [...params.values()].filter(({ p }) => p.in === 'path' && (p as unknown as Record<string, unknown>)[GREEDY_EXTENSION] === true);
      if (greedy.length > 1 || (greedy.length === 1 && !path.endsWith(`/{${greedy[0].p.name}}`))) {
        throw new ContractLoadError(contract.file, `${id}: ${GREEDY_EXTENSION} fits one path parameter, the one that ends the template (${path})`);
      }

      compiled.push({
        id,
        template: mount + path,
        method: method.toUpperCase(),
        pointer: opPointer,
        operation,
        ...(greedy.length ? { greedy: greedy[0].p.name } : {}),
        path: pathParams.length ? compiler.parameters(pathParams, false, `${what} path parameters`) : undefined,
        query: queryParams.length || strictQuery ? compiler.parameters(queryParams, strictQuery, `${what} query parameters`) : undefined,
        queryStyles: styled('query'),
        pathStyles: styled('path'),
        deepObjects: new Set([...params.values()].filter(({ p }) => p.in === 'query' && p.style === 'deepObject').map(({ p }) => p.name)),
        header: headerParams.length ? compiler.parameters(headerParams, false, `${what} header parameters`) : undefined,
        headerNames: headerParams.map((h) => h.name),
        headerStyles: styled('header').filter((p) => !IGNORED_HEADER_PARAMS.has(p.name)),
        cookie: cookieParams.length ? compiler.parameters(cookieParams, false, `${what} cookie parameters`) : undefined,
        cookieNames: cookieParams.map((c) => c.name),
        cookieStyles: styled('cookie'),
        body: compileBody(doc, operation, opPointer, compiler, what),
        responses: compileResponses(doc, operation, opPointer, compiler, what),
        records: recordsPointer(doc, operation, opPointer),
        fieldSelection: fieldSelectionParameter([...params.values()].map(({ p }) => p)),
        scopes: oauthScopes(doc, operation),
        security: securityOf(doc, operation),
      });
    }
  }
  return compiled;
}

/**
 * The OAuth scopes the operation's security requirement names (its own `security`, else the document's), from the
 * first requirement that uses an oauth2 or openIdConnect scheme: what a bearer token must carry when the system
 * runs with `auth: oauth`. Undefined when no requirement uses OAuth (`security: []` included).
 */
function oauthScopes(doc: OpenAPIV3.Document, operation: OpenAPIV3.OperationObject): string[] | undefined {
  const schemes = doc.components?.securitySchemes ?? {};
  const isOAuth = (name: string) => {
    const scheme = schemes[name];
    const type = scheme && !('$ref' in scheme) ? scheme.type : undefined;
    return type === 'oauth2' || type === 'openIdConnect';
  };
  for (const requirement of operation.security ?? doc.security ?? []) {
    const names = Object.keys(requirement).filter(isOAuth);
    if (names.length) return [...new Set(names.flatMap((n) => requirement[n] ?? []))];
  }
  return undefined;
}

/** The operation's security requirement with its schemes resolved (unknown or mutual-TLS schemes are left out). */
function securityOf(doc: OpenAPIV3.Document, operation: OpenAPIV3.OperationObject): SecurityAlternative[] {
  const schemes = doc.components?.securitySchemes ?? {};
  return (operation.security ?? doc.security ?? []).map((requirement) =>
    Object.entries(requirement).flatMap(([name, scopes]): SecurityScheme[] => {
      const raw = schemes[name];
      const scheme = raw && '$ref' in raw ? resolveRef<OpenAPIV3.SecuritySchemeObject>(doc, raw, '').value : raw;
      if (!scheme) return [];
      switch (scheme.type) {
        case 'apiKey':
          return [{ name, type: 'apiKey', in: scheme.in as 'header' | 'query' | 'cookie', parameter: scheme.name }];
        case 'http':
          return [{ name, type: 'http', scheme: scheme.scheme.toLowerCase() }];
        case 'oauth2':
        case 'openIdConnect':
          return [{ name, type: scheme.type, scopes: [...(scopes ?? [])] }];
        default:
          return [];
      }
    }),
  );
}

function compileBody(
  doc: OpenAPIV3.Document,
  operation: OpenAPIV3.OperationObject,
  opPointer: string,
  compiler: SchemaCompiler,
  what: string,
): CompiledOperation['body'] {
  if (!operation.requestBody) return undefined;
  const located = resolveRef<OpenAPIV3.RequestBodyObject>(doc, operation.requestBody, `${opPointer}/requestBody`);
  const media: AcceptedMedia[] = Object.entries(located.value.content ?? {}).map(([type, content]) => {
    const lower = type.toLowerCase().split(';')[0].trim();
    const kind = mediaKind(lower);
    const pointer = `${located.pointer}${pointerOf('content', type, 'schema')}`;
    if (!content.schema) return { type: lower, kind };
    switch (kind) {
      case 'json':
        return { type: lower, kind, validate: compiler.requestBody(pointer, `${what} request body`) };
      // forms, parts and XML carry text: their validators coerce it to the schema's types
      case 'form':
      case 'multipart':
        return { type: lower, kind, validate: compiler.formBody(pointer, `${what} ${kind === 'form' ? 'form' : 'multipart'} body`), plan: formPlan(doc, content.schema, content.encoding) };
      case 'xml':
        return { type: lower, kind, validate: compiler.formBody(pointer, `${what} XML body`), xml: { document: doc, schema: content.schema } };
      default: {
        // raw bytes: nothing of them is checked but presence, which is all a bytes schema asks
        const schema = resolveRef<Record<string, unknown>>(doc, content.schema, pointer);
        const asks = Object.keys(schema.value ?? {}).filter((k) => !BYTES_KEYWORDS.has(k));
        if (asks.length > 0 || (schema.value?.type !== undefined && schema.value.type !== 'string')) {
          compiler.unvalidated({ what: `${what} ${lower} body`, pointer: schema.pointer, message: `a ${lower} body is taken as bytes; its schema's ${asks.length ? asks.join(', ') : `type ${JSON.stringify(schema.value?.type)}`} is not checked` });
        }
        return { type: lower, kind };
      }
    }
  });
  for (const [type, content] of Object.entries(located.value.content ?? {})) {
    for (const [part, encoding] of Object.entries(content.encoding ?? {})) {
      if (Object.keys(encoding.headers ?? {}).length > 0) {
        compiler.unvalidated({ what: `${what} ${type} body`, pointer: `${located.pointer}${pointerOf('content', type, 'encoding', part, 'headers')}`, message: `the headers of the part "${part}" are not validated by understudy` });
      }
    }
  }
  return { required: Boolean(located.value.required), media };
}

function compileResponses(
  doc: OpenAPIV3.Document,
  operation: OpenAPIV3.OperationObject,
  opPointer: string,
  compiler: SchemaCompiler,
  what: string,
): Map<string, ResponseSpec> {
  const out = new Map<string, ResponseSpec>();
  for (const [code, raw] of Object.entries(operation.responses ?? {})) {
    const located = resolveRef<OpenAPIV3.ResponseObject>(doc, raw, `${opPointer}${pointerOf('responses', code)}`);
    const jsonType = Object.keys(located.value.content ?? {}).find((t) => mediaKind(t.toLowerCase()) === 'json');
    const validate =
      jsonType && located.value.content?.[jsonType]?.schema
        ? compiler.responseBody(`${located.pointer}${pointerOf('content', jsonType, 'schema')}`, `${what} ${code} response`)
        : undefined;
    const declared = Object.entries(located.value.headers ?? {})
      .filter(([name]) => name.toLowerCase() !== 'content-type')
      .map(([name, raw]) => {
        const header = resolveRef<OpenAPIV3.HeaderObject>(doc, raw, `${located.pointer}${pointerOf('headers', name)}`);
        return { name: name.toLowerCase(), pointer: `${header.pointer}/schema`, required: header.value.required === true, hasSchema: header.value.schema !== undefined };
      })
      .filter((h) => h.hasSchema);
    const headers = declared.length ? { validate: compiler.parameters(declared, false, `${what} ${code} response headers`), names: declared.map((h) => h.name) } : undefined;
    out.set(code.toUpperCase(), { pointer: located.pointer, response: located.value, validate, ...(headers ? { headers } : {}) });
  }
  return out;
}

/** The response spec that applies to a status: exact code, then its range (2XX), then default. */
export function responseFor(op: CompiledOperation, status: number): ResponseSpec | undefined {
  return op.responses.get(String(status)) ?? op.responses.get(`${Math.floor(status / 100)}XX`) ?? op.responses.get('DEFAULT');
}
