/**
 * The part of XML Schema a document/literal WSDL uses, as a model the SOAP engine validates requests with and
 * writes responses from. Hand-written because no maintained npm library validates XML against XSD without a
 * native toolchain (libxmljs needs node-gyp and has had no release for Node 20's ABI in years); the subset is the
 * one WSDL2Apex itself supports (SALESFORCE.md §7): sequence / all / choice of elements, simple types restricted
 * by enumeration, pattern, lengths, bounds and digits, and xsd:any as an open element. Anything else in a WSDL
 * is refused when it is loaded (wsdl.ts), never silently skipped.
 *
 * Reading (readElement) checks an element against its declaration and turns it into the plain value handlers
 * get (soap/handler.ts SoapRequest.body says how); every problem is collected with its path, none stops the
 * rest. Writing (writeContent) serialises a handler's value in schema order and notes what breaks the schema
 * (the response check).
 */
import { escapeXml, isNil, type XmlElement } from '../xml/xml-reader.js';

export type SimpleBase =
  | 'string' | 'normalizedString' | 'token' | 'anyURI' | 'language' | 'Name' | 'NCName' | 'NMTOKEN' | 'ID' | 'base64Binary'
  | 'boolean' | 'int' | 'long' | 'short' | 'byte' | 'integer' | 'nonNegativeInteger' | 'positiveInteger' | 'unsignedInt' | 'unsignedLong' | 'unsignedShort'
  | 'decimal' | 'double' | 'float' | 'date' | 'dateTime' | 'time';

export const SIMPLE_BASES: ReadonlySet<string> = new Set<SimpleBase>([
  'string', 'normalizedString', 'token', 'anyURI', 'language', 'Name', 'NCName', 'NMTOKEN', 'ID', 'base64Binary',
  'boolean', 'int', 'long', 'short', 'byte', 'integer', 'nonNegativeInteger', 'positiveInteger', 'unsignedInt', 'unsignedLong', 'unsignedShort',
  'decimal', 'double', 'float', 'date', 'dateTime', 'time',
]);

export interface SimpleType {
  kind: 'simple';
  /** the type's name in the schema (for messages), or the built-in's */
  name: string;
  base: SimpleBase;
  enumeration?: string[];
  /** anchored: the whole value must match, as XSD patterns are */
  patterns?: Array<{ source: string; regex: RegExp }>;
  length?: number;
  minLength?: number;
  maxLength?: number;
  minInclusive?: number;
  maxInclusive?: number;
  minExclusive?: number;
  maxExclusive?: number;
  totalDigits?: number;
  fractionDigits?: number;
}

export interface ComplexType {
  kind: 'complex';
  name: string;
  /** sequence: children in this order; all / choice: any order (WSDL2Apex makes every branch of a choice a field) */
  order: 'sequence' | 'all' | 'choice';
  elements: ElementDecl[];
  byLocal: Map<string, ElementDecl>;
  /** xsd:any: the element takes any children (an Outbound Message's sObject) */
  open: boolean;
}

export interface ElementDecl {
  name: string;
  /** the namespace the element must be in: the target namespace when qualified, '' when unqualified */
  uri: string;
  type: SimpleType | ComplexType;
  minOccurs: number;
  /** Infinity for unbounded */
  maxOccurs: number;
  nillable: boolean;
}

export interface Problem {
  path: string;
  text: string;
}

/** what an open element (xsd:any) becomes for a handler */
export interface OpenValue {
  type: string | null;
  fields: Record<string, string | null>;
}

// ---------------------------------------------------------------------------------------------- reading

/** Reads the content of `element` as `type` (the element itself has been matched to its declaration). */
export function readComplex(element: XmlElement, type: ComplexType, path: string, problems: Problem[]): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  if (element.text.trim() !== '') problems.push({ path, text: `holds text, but ${type.name} has only elements` });
  if (type.open) return openValue(element) as unknown as Record<string, unknown>;
  const counts = new Map<ElementDecl, number>();
  let position = 0;
  for (const child of element.children) {
    const decl = type.byLocal.get(child.local);
    const childPath = `${path}/${child.local}`;
    if (decl === undefined) {
      problems.push({ path: childPath, text: `is not an element of ${type.name}; expected ${type.elements.map((e) => e.name).join(', ')}` });
      continue;
    }
    if (child.uri !== decl.uri) {
      problems.push({ path: childPath, text: `is in namespace ${child.uri ? `"${child.uri}"` : 'none'}; expected ${decl.uri ? `"${decl.uri}"` : 'no namespace'}` });
      continue;
    }
    const index = type.elements.indexOf(decl);
    if (type.order === 'sequence' && index < position) {
      problems.push({ path: childPath, text: `is out of order: ${type.name} takes ${type.elements.map((e) => e.name).join(', ')} in that order` });
    }
    position = Math.max(position, index);
    const n = (counts.get(decl) ?? 0) + 1;
    counts.set(decl, n);
    const at = decl.maxOccurs > 1 ? `${childPath}[${n}]` : childPath;
    if (n > decl.maxOccurs) {
      if (n === decl.maxOccurs + 1) problems.push({ path: childPath, text: `appears more than ${decl.maxOccurs} time${decl.maxOccurs === 1 ? '' : 's'}` });
      continue;
    }
    const item = readElement(child, decl, at, problems);
    if (decl.maxOccurs > 1) ((value[decl.name] ??= []) as unknown[]).push(item);
    else value[decl.name] = item;
  }
  for (const decl of type.elements) {
    const n = counts.get(decl) ?? 0;
    if (n < decl.minOccurs && type.order !== 'choice') {
      problems.push({ path: `${path}/${decl.name}`, text: decl.minOccurs === 1 ? 'is required' : `must appear at least ${decl.minOccurs} times (found ${n})` });
    }
    if (decl.maxOccurs > 1 && value[decl.name] === undefined) value[decl.name] = [];
  }
  return value;
}

/** Reads one element against its declaration: null for xsi:nil, the typed value otherwise. */
export function readElement(element: XmlElement, decl: ElementDecl, path: string, problems: Problem[]): unknown {
  if (isNil(element)) {
    if (!decl.nillable) problems.push({ path, text: 'may not be nil (xsi:nil)' });
    else if (element.children.length || element.text.trim() !== '') problems.push({ path, text: 'is nil (xsi:nil) but has content' });
    return null;
  }
  if (decl.type.kind === 'complex') return readComplex(element, decl.type, path, problems);
  if (element.children.length) {
    problems.push({ path, text: `holds elements, but is a ${decl.type.name}` });
    return undefined;
  }
  return readSimple(element.text, decl.type, path, problems);
}

function openValue(element: XmlElement): OpenValue {
  // fromEntries defines own properties: a field named __proto__ stays a field and never touches the prototype
  const fields: Record<string, string | null> = Object.fromEntries(element.children.map((child) => [child.local, isNil(child) ? null : textContent(child)]));
  return { type: element.xsiType?.local ?? null, fields };
}

function textContent(element: XmlElement): string {
  if (!element.children.length) return element.text;
  return element.text + element.children.map(textContent).join('');
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const FLOAT = /^([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN)$/;
const DATE = /^(-?\d{4,})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?$/;
const DATE_TIME = /^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;
const TIME = /^(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;
const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

const INTEGER_RANGES: Partial<Record<SimpleBase, [number, number]>> = {
  int: [-2147483648, 2147483647],
  short: [-32768, 32767],
  byte: [-128, 127],
  unsignedInt: [0, 4294967295],
  unsignedShort: [0, 65535],
  long: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  unsignedLong: [0, Number.MAX_SAFE_INTEGER],
  integer: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  nonNegativeInteger: [0, Number.MAX_SAFE_INTEGER],
  positiveInteger: [1, Number.MAX_SAFE_INTEGER],
};

/** Checks a simple value's text against its type and facets; returns the typed value (undefined when invalid). */
export function readSimple(raw: string, type: SimpleType, path: string, problems: Problem[]): unknown {
  const before = problems.length;
  const bad = (text: string) => problems.push({ path, text });
  const base = type.base;
  // whitespace: strings keep it; every other type collapses it (XSD's whiteSpace facet)
  const text = base === 'string' ? raw : base === 'normalizedString' ? raw.replace(/[\t\n\r]/g, ' ') : raw.trim();
  let value: unknown = text;
  switch (base) {
    case 'boolean':
      if (text === 'true' || text === '1') value = true;
      else if (text === 'false' || text === '0') value = false;
      else bad(`must be true or false, not "${clip(text)}"`);
      break;
    case 'decimal':
      if (!DECIMAL.test(text)) bad(`must be a decimal number, not "${clip(text)}"`);
      else value = Number(text);
      break;
    case 'double':
    case 'float':
      if (!FLOAT.test(text)) bad(`must be a number, not "${clip(text)}"`);
      else value = text.endsWith('INF') ? (text.startsWith('-') ? -Infinity : Infinity) : Number(text);
      break;
    case 'date':
      if (!DATE.test(text) || !validDate(text)) bad(`must be a date (YYYY-MM-DD), not "${clip(text)}"`);
      break;
    case 'dateTime':
      if (!DATE_TIME.test(text) || !validDate(text)) bad(`must be a dateTime (YYYY-MM-DDThh:mm:ss, with Z or an offset), not "${clip(text)}"`);
      break;
    case 'time': {
      const m = TIME.exec(text);
      if (!m || !validClock(Number(m[1]), Number(m[2]), Number(m[3])) || !validZone(m[5])) bad(`must be a time (hh:mm:ss), not "${clip(text)}"`);
      break;
    }
    case 'base64Binary':
      if (!BASE64.test(text)) bad('must be base64');
      break;
    default: {
      const range = INTEGER_RANGES[base];
      if (range !== undefined) {
        if (!INTEGER.test(text)) bad(`must be an integer, not "${clip(text)}"`);
        else {
          const n = Number(text);
          if (n < range[0] || n > range[1]) bad(`must be a ${base} (${range[0]}..${range[1]}), not ${clip(text)}`);
          else value = n;
        }
      } else if (base === 'token' || base === 'NMTOKEN' || base === 'Name' || base === 'NCName' || base === 'language' || base === 'ID' || base === 'anyURI') {
        value = text.replace(/\s+/g, ' ');
      }
    }
  }
  if (problems.length > before) return undefined;
  checkFacets(text, value, type, path, problems);
  return problems.length > before ? undefined : value;
}

function checkFacets(text: string, value: unknown, type: SimpleType, path: string, problems: Problem[]): void {
  const bad = (t: string) => problems.push({ path, text: t });
  if (type.enumeration && !type.enumeration.includes(String(value))) {
    bad(`must be one of ${type.enumeration.join(', ')}, not "${clip(text)}"`);
    return;
  }
  if (typeof value === 'string' && (type.length !== undefined || type.minLength !== undefined || type.maxLength !== undefined)) {
    const length = codePoints(value);
    if (type.length !== undefined && length !== type.length) bad(`must be exactly ${type.length} characters long (is ${length})`);
    if (type.minLength !== undefined && length < type.minLength) bad(type.minLength === 1 ? 'may not be empty' : `must be at least ${type.minLength} characters long (is ${length})`);
    if (type.maxLength !== undefined && length > type.maxLength) bad(`must be at most ${type.maxLength} characters long (is ${length})`);
  }
  if (type.patterns && !type.patterns.some((p) => p.regex.test(String(value)))) {
    bad(`must match the pattern ${type.patterns.map((p) => p.source).join(' or ')} (${type.name}), not "${clip(text)}"`);
  }
  if (typeof value === 'number') {
    if (type.minInclusive !== undefined && value < type.minInclusive) bad(`must be at least ${type.minInclusive}, not ${text}`);
    if (type.maxInclusive !== undefined && value > type.maxInclusive) bad(`must be at most ${type.maxInclusive}, not ${text}`);
    if (type.minExclusive !== undefined && value <= type.minExclusive) bad(`must be more than ${type.minExclusive}, not ${text}`);
    if (type.maxExclusive !== undefined && value >= type.maxExclusive) bad(`must be less than ${type.maxExclusive}, not ${text}`);
    if (type.fractionDigits !== undefined || type.totalDigits !== undefined) {
      const [int, frac = ''] = text.replace(/^[+-]/, '').split('.');
      const fraction = frac.replace(/0+$/, '');
      const digits = (int.replace(/^0+/, '') + fraction).length;
      if (type.fractionDigits !== undefined && fraction.length > type.fractionDigits) bad(`may have at most ${type.fractionDigits} decimal places, not ${fraction.length}`);
      if (type.totalDigits !== undefined && digits > type.totalDigits) bad(`may have at most ${type.totalDigits} digits, not ${digits}`);
    }
  }
}

/** length in characters (code points), as XSD counts it; most strings have no surrogate pairs */
function codePoints(value: string): number {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) return [...value].length;
  }
  return value.length;
}

/** hh:mm:ss, 24:00:00 included (the end of a day) */
function validClock(h: number, m: number, s: number): boolean {
  return (h < 24 && m < 60 && s < 60) || (h === 24 && m === 0 && s === 0);
}

/** a time zone: Z, or an offset from -14:00 to +14:00 */
function validZone(zone: string | undefined): boolean {
  if (zone === undefined || zone === 'Z') return true;
  const h = Number(zone.slice(1, 3));
  const m = Number(zone.slice(4, 6));
  return m < 60 && (h < 14 || (h === 14 && m === 0));
}

function validDate(text: string): boolean {
  if (!validZone(/(Z|[+-]\d{2}:\d{2})$/.exec(text)?.[1])) return false;
  const m = /^(-?\d{4,})-(\d{2})-(\d{2})/.exec(text)!;
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1) return false;
  const year = Number(m[1]);
  const days = [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (day > days) return false;
  const t = /T(\d{2}):(\d{2}):(\d{2})/.exec(text);
  return t === null || validClock(Number(t[1]), Number(t[2]), Number(t[3]));
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// ---------------------------------------------------------------------------------------------- writing

/**
 * Writes `value` as the children of an element of `type` (unprefixed: the caller declares the default namespace
 * the qualified elements are in). What breaks the schema is written as well as it can be and noted in `problems`
 * (the response check records them; drift is a feature, never a crash).
 */
export function writeContent(value: Record<string, unknown>, type: ComplexType, path: string, problems: Problem[]): string {
  let out = '';
  for (const decl of type.elements) {
    const v = value[decl.name];
    if (v === undefined) {
      if (decl.minOccurs > 0 && type.order !== 'choice') problems.push({ path: `${path}/${decl.name}`, text: 'is required but was not written' });
      continue;
    }
    if (Array.isArray(v)) {
      if (decl.maxOccurs <= 1) problems.push({ path: `${path}/${decl.name}`, text: 'is a list, but may appear once' });
      if (v.length < decl.minOccurs) problems.push({ path: `${path}/${decl.name}`, text: `appears ${v.length} times, fewer than ${decl.minOccurs}` });
      if (v.length > decl.maxOccurs) problems.push({ path: `${path}/${decl.name}`, text: `appears ${v.length} times, more than ${decl.maxOccurs}` });
      for (let i = 0; i < v.length; i++) out += writeElement(v[i], decl, `${path}/${decl.name}[${i + 1}]`, problems);
    } else out += writeElement(v, decl, `${path}/${decl.name}`, problems);
  }
  return out;
}

function writeElement(v: unknown, decl: ElementDecl, path: string, problems: Problem[]): string {
  const name = decl.name;
  if (v === null) {
    if (!decl.nillable) problems.push({ path, text: 'is nil, but may not be' });
    return `<${name} xsi:nil="true"/>`;
  }
  const type = decl.type;
  if (type.kind === 'complex') {
    if (typeof v !== 'object') {
      problems.push({ path, text: `is ${typeof v}, but ${type.name} has elements` });
      return `<${name}>${escapeXml(String(v))}</${name}>`;
    }
    return `<${name}>${writeContent(v as Record<string, unknown>, type, path, problems)}</${name}>`;
  }
  const text = formatSimple(v, type);
  checkWritten(v, text, type, path, problems);
  return `<${name}>${escapeXml(text)}</${name}>`;
}

/**
 * Checks a value about to be written against its type. A number written as a number type, a boolean as a boolean
 * and epoch ms as a date are well-formed by construction: only their facets are checked (the common case, kept
 * cheap: every response passes here). Anything else is read back as a request value would be.
 */
function checkWritten(v: unknown, text: string, type: SimpleType, path: string, problems: Problem[]): void {
  const base = type.base;
  if (typeof v === 'number' && Number.isFinite(v)) {
    if (base === 'date' || base === 'dateTime') return;
    // toFixed writes 1e21 as "1e+21": the lexical form is checked, cheaply
    if ((base === 'decimal' && DECIMAL.test(text)) || base === 'double' || base === 'float') {
      checkFacets(text, v, type, path, problems);
      return;
    }
    const range = INTEGER_RANGES[base];
    if (range !== undefined && Number.isInteger(v) && v >= range[0] && v <= range[1]) {
      checkFacets(text, v, type, path, problems);
      return;
    }
  } else if (typeof v === 'boolean' && base === 'boolean') return;
  readSimple(text, type, path, problems);
}

/** A handler's value as the type's lexical form: decimals with the type's fraction digits, epoch ms as dates. */
export function formatSimple(v: unknown, type: SimpleType): string {
  switch (type.base) {
    case 'decimal':
      return typeof v === 'number' && type.fractionDigits !== undefined ? v.toFixed(type.fractionDigits) : String(v);
    case 'dateTime':
      return typeof v === 'number' ? new Date(v).toISOString() : String(v);
    case 'date':
      return typeof v === 'number' ? new Date(v).toISOString().slice(0, 10) : String(v);
    case 'boolean':
      return v === true ? 'true' : v === false ? 'false' : String(v);
    default:
      return String(v);
  }
}
