/**
 * A request's query string → ParsedQuery: splits on '&', decodes each name and value (percent-decoding, '+' as a
 * space, as Salesforce's v2 filters use it), and hands each system query option to its parser. Error positions are
 * offsets in the decoded value of the option named in the error.
 *
 * Names: `$filter`-style names are matched case-insensitively; in v4 the `$` may be left out (OData 4.01), in v2 it
 * may not. Names without `$` that are not system options are custom options (kept in `custom`); v2's `doSearch` is
 * lifted to `doSearch`. Aliases (`@p=`) and the system options Salesforce never sends ($expand, $format, …) are
 * refused as not supported; a system option given twice is refused.
 *
 * Written by hand rather than with an npm OData parser: neither one evaluated accepts the v4 filter Salesforce sends by default
 * or knows the v2 dialect (the evaluation table is in index.ts).
 */
import type { ParsedQuery } from './ast.js';
import { DIALECT_LABEL, type ODataDialect } from './dialect.js';
import { QueryError } from './errors.js';
import { parseFilter } from './filter.js';
import { parseCount, parseInlineCount, parseNonNegativeInteger, parseOrderBy, parseSearch, parseSelect } from './options.js';
import { checkText } from './scanner.js';

const SUPPORTED = new Set(['filter', 'select', 'orderby', 'top', 'skip', 'count', 'search', 'skiptoken', 'inlinecount', 'format', 'deltatoken']);
const UNSUPPORTED = new Set(['expand', 'compute', 'apply', 'index', 'schemaversion', 'levels', 'id', 'batch']);
/** Longest query string accepted (Salesforce's own limit on a request is far above; this bounds the work). */
export const MAX_QUERY_LENGTH = 262_144;

function decode(text: string, option: string): string {
  const plus = text.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    const bad = /%(?![0-9a-fA-F]{2})/.exec(plus);
    throw new QueryError(option, bad?.index ?? 0, 'malformed percent-encoding');
  }
}

/** Parses a raw query string (without the leading '?'). */
export function parseQueryString(raw: string, dialect: ODataDialect): ParsedQuery {
  if (raw.length > MAX_QUERY_LENGTH) {
    throw new QueryError('', MAX_QUERY_LENGTH, `the query string is ${raw.length} characters long; at most ${MAX_QUERY_LENGTH} are accepted`);
  }
  const hash = raw.indexOf('#');
  if (hash >= 0) throw new QueryError('', hash, "an unencoded '#' ends the query; encode it as %23");
  const pairs: [string, string | undefined][] = [];
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    const name = decode(rawName, rawName);
    const value = eq < 0 ? undefined : part.slice(eq + 1);
    // ABNF searchWord: a ';' must be percent-encoded (unencoded it separates nested options).
    if (value !== undefined && /^\$?search$/i.test(name) && value.includes(';')) {
      throw new QueryError(name, value.indexOf(';'), "an unencoded ';' is not allowed in $search; encode it as %3B");
    }
    pairs.push([name, value === undefined ? undefined : decode(value, name)]);
  }
  return parseQueryOptions(pairs, dialect);
}

/** Parses already split and decoded options; `value` undefined means the name had no '='. */
export function parseQueryOptions(pairs: Iterable<[string, string | undefined]>, dialect: ODataDialect): ParsedQuery {
  const q: ParsedQuery = { custom: {} };
  const seen = new Set<string>();
  for (const [name, value] of pairs) {
    checkText('', name, 256);
    if (name.startsWith('@')) throw new QueryError(name, 0, 'parameter aliases (@name=…) are not supported');
    const dollar = name.startsWith('$');
    const key = (dollar ? name.slice(1) : name).toLowerCase();
    const system = dollar || (dialect === 'v4' && (SUPPORTED.has(key) || UNSUPPORTED.has(key)));
    if (!system) {
      if (dialect === 'v2' && name === 'doSearch') q.doSearch = value ?? '';
      else q.custom[name] = value ?? '';
      continue;
    }
    if (UNSUPPORTED.has(key)) throw new QueryError(name, 0, `the system query option $${key} is not supported`);
    if (!SUPPORTED.has(key)) throw new QueryError(name, 0, `unknown system query option ${name}`);
    if (seen.has(key)) throw new QueryError(name, 0, `the system query option $${key} is given more than once; repeating a system query option is not supported`);
    seen.add(key);
    if (value === undefined) throw new QueryError(name, name.length, `expected '=' and a value after ${name}`);
    switch (key) {
      case 'filter':
        q.filter = parseFilter(value, dialect, name);
        break;
      case 'select':
        q.select = parseSelect(value, name);
        break;
      case 'orderby':
        q.orderby = parseOrderBy(value, name);
        break;
      case 'top':
        q.top = parseNonNegativeInteger(value, name);
        break;
      case 'skip':
        q.skip = parseNonNegativeInteger(value, name);
        break;
      case 'count':
        if (dialect === 'v2') throw new QueryError(name, 0, `$count=… is not ${DIALECT_LABEL.v2}; use $inlinecount=allpages`);
        if (seen.has('inlinecount')) throw new QueryError(name, 0, '$count and $inlinecount are both given');
        q.count = parseCount(value, name);
        break;
      case 'inlinecount':
        if (dialect === 'v4') throw new QueryError(name, 0, `$inlinecount is OData 2.0; in ${DIALECT_LABEL.v4} use $count=true`);
        q.count = parseInlineCount(value, name);
        break;
      case 'search':
        q.search = parseSearch(value, dialect, name);
        break;
      case 'skiptoken':
        checkText(name, value);
        if (value === '') throw new QueryError(name, 0, 'expected a token but the text is empty');
        q.skiptoken = value;
        break;
      case 'deltatoken':
        // a delta link's token (OData 4.0 change tracking); v2 has none
        if (dialect === 'v2') throw new QueryError(name, 0, `$deltatoken is not part of ${DIALECT_LABEL.v2}: change tracking is OData 4.0`);
        checkText(name, value);
        if (value === '') throw new QueryError(name, 0, 'expected a token but the text is empty');
        q.deltatoken = value;
        break;
      case 'format':
        // json, atom, xml or a media type; which of them the service serves is its decision (the engine's)
        checkText(name, value, 256);
        q.format = value;
        break;
    }
  }
  return q;
}
