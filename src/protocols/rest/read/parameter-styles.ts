/**
 * Reads parameters the way OpenAPI says they are written on the wire (its `style` and `explode`), so the
 * validators see the array or object the contract describes, not the raw text:
 *  - path: `simple` (`3,4,5`; an object `role,admin,name,Alex`, exploded `role=admin,name=Alex`), `label`
 *    (`.3.4.5` exploded, `.3,4,5` not), `matrix` (`;id=3;id=4` exploded, `;id=3,4` not; objects likewise);
 *  - query: `form` (repeated names exploded, `a,b` not; an exploded object's properties stand as parameters of their
 *    own: `?color=blue&size=L` is the object `filter`), `spaceDelimited` (`a b`), `pipeDelimited` (`a|b`) and
 *    `deepObject` (`filter[color]=blue`), read by the REST engine itself;
 *  - header: `simple`, as in paths (items trimmed of the blanks after commas);
 *  - cookie: `form`, from the Cookie header.
 * A value that is not written in its parameter's style (a label without its dot, a matrix value without its name)
 * is a problem named in the 400, never guessed at. Primitive values are left to the validators' coercion.
 *
 * Written here rather than taken from a library: the maintained ones (Prism's deserializers, openapi-backend's)
 * come inside whole frameworks; the rules are a few lines each, once the parameter's shape is known at load.
 */
import type { OpenAPIV3 } from 'openapi-types';
import { resolveRef, type OpenApiDocument } from '../contract.js';

export type ParameterStyle = 'simple' | 'label' | 'matrix' | 'form' | 'spaceDelimited' | 'pipeDelimited' | 'deepObject';

/** What decoding one parameter needs, settled when the contract loads. */
export interface StyledParameter {
  name: string;
  style: ParameterStyle;
  explode: boolean;
  /** what its schema is: values of other shapes are left to the validator */
  shape: 'array' | 'object' | 'primitive';
  /** an object's property names (for an exploded form-style object, whose properties are query parameters) */
  properties: string[];
}

export type Decoded = { value: unknown } | { problem: string };

/** The parameter's style and shape, with OpenAPI's defaults (path and header: simple; query and cookie: form). */
export function styledParameter(document: OpenApiDocument, parameter: OpenAPIV3.ParameterObject): StyledParameter {
  const defaultStyle: ParameterStyle = parameter.in === 'query' || parameter.in === 'cookie' ? 'form' : 'simple';
  const style = (parameter.style ?? defaultStyle) as ParameterStyle;
  const explode = parameter.explode ?? style === 'form';
  const schema = parameter.schema ? resolveRef<OpenAPIV3.SchemaObject>(document, parameter.schema, '').value : undefined;
  const type = Array.isArray(schema?.type) ? (schema!.type as string[]).find((t) => t !== 'null') : schema?.type;
  const shape = type === 'array' ? 'array' : type === 'object' || (type === undefined && schema?.properties) ? 'object' : 'primitive';
  return { name: parameter.name, style, explode, shape, properties: Object.keys(schema?.properties ?? {}) };
}

/** Whether reading the parameter takes more than the validators' own coercion. */
export function needsDecoding(p: StyledParameter): boolean {
  if (p.style === 'label' || p.style === 'matrix') return true;
  if (p.shape === 'primitive') return false;
  if (p.style === 'deepObject') return false; // the engine reads bracket keys itself
  // an exploded form array is the repeated parameter, which the query string parser already makes a list
  return !(p.style === 'form' && p.explode && p.shape === 'array');
}

/** A path or header value in its style: simple, label or matrix. */
export function decodeValue(raw: string, p: StyledParameter): Decoded {
  let text = raw;
  let separator = ',';
  if (p.style === 'label') {
    if (!text.startsWith('.')) return { problem: `is in label style: it starts with a dot (.${p.shape === 'array' ? 'a.b' : 'value'})` };
    text = text.slice(1);
    if (p.explode) separator = '.';
  } else if (p.style === 'matrix') {
    return decodeMatrix(text, p);
  }
  return { value: split(text, separator, p, p.explode) };
}

/** `;id=5`, `;id=3,4`, `;id=3;id=4`, `;role=admin;name=Alex` (an exploded object) */
function decodeMatrix(raw: string, p: StyledParameter): Decoded {
  const prefix = `;${p.name}`;
  if (p.shape === 'object' && p.explode) {
    if (!raw.startsWith(';')) return { problem: `is in matrix style: ;property=value;…` };
    const out: Record<string, string> = Object.create(null);
    for (const pair of raw.slice(1).split(';')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) return { problem: `is in matrix style: ;property=value;… (not ${JSON.stringify(pair.slice(0, 40))})` };
      out[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    return { value: out };
  }
  if (!raw.startsWith(prefix)) return { problem: `is in matrix style: it starts with ${prefix}=` };
  if (p.shape === 'array' && p.explode) {
    const items: string[] = [];
    for (const part of raw.slice(1).split(';')) {
      if (!part.startsWith(`${p.name}=`)) return { problem: `is in matrix style, exploded: ${prefix}=a${prefix}=b` };
      items.push(part.slice(p.name.length + 1));
    }
    return { value: items };
  }
  const rest = raw.slice(prefix.length);
  if (rest === '') return { value: p.shape === 'array' ? [] : '' };
  if (!rest.startsWith('=')) return { problem: `is in matrix style: it starts with ${prefix}=` };
  return { value: split(rest.slice(1), ',', p, false) };
}

/** A list of items, or an object's pairs (`k,v,k2,v2`, or `k=v,k2=v2` when exploded), or the text itself. */
function split(text: string, separator: string, p: StyledParameter, explode: boolean): unknown {
  if (p.shape === 'primitive') return text;
  if (text === '') return p.shape === 'array' ? [] : Object.create(null);
  const items = text.split(separator).map((item) => (separator === ',' ? item.trim() : item));
  if (p.shape === 'array') return items;
  const out: Record<string, string> = Object.create(null);
  if (explode) {
    for (const item of items) {
      const eq = item.indexOf('=');
      if (eq > 0) out[item.slice(0, eq)] = item.slice(eq + 1);
      else out[item] = '';
    }
  } else {
    for (let i = 0; i < items.length; i += 2) out[items[i]] = items[i + 1] ?? '';
  }
  return out;
}

/**
 * Decodes the query's styled parameters in place: delimited arrays, comma-written arrays and objects, and exploded
 * form objects gathered from their properties (which are then no parameters of their own).
 */
export function decodeQuery(query: Record<string, unknown>, parameters: readonly StyledParameter[]): void {
  for (const p of parameters) {
    if (p.shape === 'object' && p.style === 'form' && p.explode) {
      const value: Record<string, unknown> = Object.create(null);
      let found = false;
      for (const property of p.properties) {
        if (property in query && property !== p.name) {
          value[property] = query[property];
          delete query[property];
          found = true;
        }
      }
      if (found) query[p.name] = value;
      continue;
    }
    const raw = query[p.name];
    if (typeof raw !== 'string') continue; // absent, or repeated: the validator judges it
    const separator = p.style === 'spaceDelimited' ? ' ' : p.style === 'pipeDelimited' ? '|' : ',';
    query[p.name] = split(raw, separator, p, false);
  }
}

/** `Cookie: a=1; b=2` as names and values (the first of a repeated name), within the header's own text. */
export function parseCookies(header: string | string[] | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  const text = Array.isArray(header) ? header.join('; ') : header;
  if (!text) return out;
  for (const pair of text.split(';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    if (name in out) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    try {
      out[name] = decodeURIComponent(value);
    } catch {
      out[name] = value;
    }
  }
  return out;
}
