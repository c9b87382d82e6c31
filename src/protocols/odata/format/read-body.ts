/**
 * Client write bodies (POST, PUT, PATCH, MERGE) read into row values, in the three formats the OData face speaks:
 * v4 JSON, v2 verbose JSON and v2 Atom entries. Hand-written for the same reason as the serialisers (no maintained
 * library reads v2 verbose JSON or Atom entries), and kept pure: text or bytes in, values or sentences out.
 *
 * A reader returns EVERY property the client sent, by name — it does not decide what may be written. The engine
 * then refuses unknown names, drops read-only ones and checks each value against its property (model.ts
 * valueProblem: type, nullability, MaxLength, Precision/Scale). What a reader does:
 * - converts each format's encodings to the rows' values (evaluate/values.ts) for properties the type declares:
 *   v4 "12.50" for a Decimal/Int64 (IEEE754Compatible) → 12.5; v2 "\/Date(ms)\/" → 'YYYY-MM-DD' for a Date and an
 *   ISO 8601 UTC instant for a DateTimeOffset; Atom text → numbers, booleans, dates. A DateTimeOffset with an offset
 *   becomes UTC with the property's fractional digits when that loses nothing; otherwise its text is left for
 *   valueProblem to judge. A value it cannot read as its type is also left as given, for valueProblem's sentence,
 *   except where the format's own form needs explaining (a v2 date that is neither /Date(…)/ nor ISO 8601);
 * - skips annotations and control information (`@odata.type`, `odata.type`, any name with '@', `__metadata`,
 *   v2 `__deferred` navigation stubs);
 * - refuses, with a sentence naming the property: bindings (`Customer@odata.bind`, a v2 `{"__metadata":{"uri"}}`
 *   link, an Atom `<link rel="…/related/Customer">`: this server takes the foreign key property instead), nested
 *   objects and arrays (deep inserts, complex values), a v2 date with a time of day for a Date property, a number
 *   for a date.
 * A property's value may be as long as the client likes here: MaxLength is valueProblem's check.
 *
 * Atom bodies are read by the shared safe XML reader (xml/xml-reader.ts): no DTD, no entity expansion, no
 * processing instructions, bounded depth, element count and text.
 */
import { attributeOf, readXmlBytes, XmlError, type XmlElement } from '../../xml/xml-reader.js';
import type { EntityType, Property } from '../model/model.js';
import type { ODataDialect } from '../query/dialect.js';
import type { RowValue } from '../evaluate/values.js';
import { decimalText } from './keys.js';
import type { ReadBody } from './types.js';
import { ATOM_NS, DATASERVICES_NS, METADATA_NS } from './v2-atom.js';

// ---- JSON (v4 and v2 verbose) -------------------------------------------------------------------------------------

/** An OData 4.0 JSON entity body. */
export function readV4Json(text: string, type: EntityType): ReadBody {
  const parsed = parseObject(text);
  if ('problem' in parsed) return { problems: [parsed.problem] };
  return readMembers(parsed.object, type, 'v4');
}

/** An OData 2.0 verbose JSON entity body: `{"d":{…}}` or the bare object. */
export function readV2Json(text: string, type: EntityType): ReadBody {
  const parsed = parseObject(text);
  if ('problem' in parsed) return { problems: [parsed.problem] };
  let object = parsed.object;
  const keys = Object.keys(object);
  if (keys.length === 1 && keys[0] === 'd' && type.property('d') === undefined) {
    const inner = object.d;
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) {
      return { problems: [`the body's "d" must be a JSON object (one entity), not ${describe(inner)}`] };
    }
    object = inner as Record<string, unknown>;
  }
  return readMembers(object, type, 'v2');
}

function parseObject(text: string): { object: Record<string, unknown> } | { problem: string } {
  // a byte order mark is not JSON, but editors and some HTTP stacks write one
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') return { problem: 'the body is empty; it must be a JSON object (one entity)' };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    return { problem: `the body is not JSON: ${(err as Error).message}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { problem: `the body must be a JSON object (one entity), not ${describe(value)}` };
  }
  return { object: value as Record<string, unknown> };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value === undefined) return 'nothing';
  return typeof value === 'object' ? 'an object' : `a ${typeof value} (${clip(JSON.stringify(value))})`;
}

function readMembers(object: Record<string, unknown>, type: EntityType, dialect: ODataDialect): ReadBody {
  const values: Record<string, RowValue> = {};
  const problems: string[] = [];
  for (const name of Object.keys(object)) {
    if (name === '__metadata') continue;
    const at = name.indexOf('@');
    if (at >= 0) {
      // Name@odata.bind (4.0) or Name@bind (4.01's prefix-less form); other annotations are skipped
      if (at > 0 && (name.endsWith('@odata.bind') || name.endsWith('@bind'))) problems.push(bindingProblem(type, name.slice(0, at), clipName(name)));
      continue;
    }
    if (name.startsWith('odata.')) continue;
    const raw = object[name];
    if (raw !== null && typeof raw === 'object') {
      if (dialect === 'v2' && !Array.isArray(raw) && isDeferred(raw)) continue;
      if (dialect === 'v2' && !Array.isArray(raw) && isV2Link(raw)) problems.push(bindingProblem(type, name, `${clipName(name)}.__metadata.uri`));
      else problems.push(structuredProblem(type, name));
      continue;
    }
    const p = type.property(name);
    const read = p === undefined ? { value: raw as RowValue } : dialect === 'v4' ? v4Value(p, raw as RowValue) : v2Value(p, raw as RowValue);
    if ('problem' in read) problems.push(read.problem);
    else setValue(values, name, read.value);
  }
  return problems.length > 0 ? { problems } : { values };
}

/** `{"__deferred":{"uri":…}}`: a v2 navigation property as a server writes it, sent back by a client: nothing to do */
const isDeferred = (o: object): boolean => Object.keys(o).length === 1 && '__deferred' in o;

/** `{"__metadata":{"uri":"Customers('X')"}}`: v2's way of binding a navigation property to an existing entity */
function isV2Link(o: object): boolean {
  const meta = (o as Record<string, unknown>).__metadata;
  return Object.keys(o).length === 1 && meta !== null && typeof meta === 'object' && 'uri' in meta;
}

function bindingProblem(type: EntityType, navigation: string, written: string): string {
  const nav = type.navigationProperty(navigation);
  const instead = nav && nav.constraints.length > 0 ? `; set ${nav.constraints.map((c) => c.property).join(', ')} instead` : '';
  return `${clipName(navigation)}: binding navigation properties is not supported (${written})${instead}`;
}

function structuredProblem(type: EntityType, name: string): string {
  if (type.navigationProperty(name)) return `${name} is a navigation property: deep inserts and updates are not supported`;
  return `${clipName(name)} is not a primitive value`;
}

type Read = { value: RowValue } | { problem: string };

function v4Value(p: Property, raw: RowValue): Read {
  if (raw === null) return { value: null };
  switch (p.type) {
    case 'Edm.Decimal':
    case 'Edm.Int64':
    case 'Edm.Double':
      // IEEE754Compatible=true clients write these as strings
      return typeof raw === 'string' ? numberFromText(p, raw) : { value: raw };
    case 'Edm.Date':
      return typeof raw === 'number' ? { problem: `${p.name} must be a date (YYYY-MM-DD), not a number` } : { value: raw };
    case 'Edm.DateTimeOffset':
      if (typeof raw === 'number') return { problem: `${p.name} must be a date and time with an offset (ISO 8601), not a number` };
      return { value: typeof raw === 'string' ? (instantText(p, readIso(raw)) ?? raw) : raw };
    default:
      return { value: raw };
  }
}

function v2Value(p: Property, raw: RowValue): Read {
  if (raw === null) return { value: null };
  switch (p.type) {
    case 'Edm.Decimal':
    case 'Edm.Int64':
    case 'Edm.Double':
      // MS-ODATA writes Int64 and Decimal as strings; numbers are accepted too
      return typeof raw === 'string' ? numberFromText(p, raw) : { value: raw };
    case 'Edm.Date': {
      if (typeof raw !== 'string') return { problem: `${p.name} must be a date: "/Date(<milliseconds>)/" or "YYYY-MM-DDT00:00:00", not a ${typeof raw}` };
      const ms = msDate(raw);
      const iso = ms === undefined ? readIso(raw) : undefined;
      if (ms === undefined && iso === undefined) return { problem: `${p.name} must be a date: "/Date(<milliseconds>)/" or "YYYY-MM-DDT00:00:00" (${clip(raw)})` };
      return dateOf(p, ms ?? iso!.ms);
    }
    case 'Edm.DateTimeOffset': {
      if (typeof raw !== 'string') return { problem: `${p.name} must be a date and time: "/Date(<milliseconds>)/" or ISO 8601 with an offset, not a ${typeof raw}` };
      const ms = msDate(raw);
      if (ms !== undefined) return instantOfMs(p, ms);
      const iso = readIso(raw);
      if (iso === undefined) return { problem: `${p.name} must be a date and time: "/Date(<milliseconds>)/" or ISO 8601 with an offset (${clip(raw)})` };
      return { value: instantText(p, iso) ?? raw };
    }
    default:
      return { value: raw };
  }
}

// ---- Atom ---------------------------------------------------------------------------------------------------------

/** An OData 2.0 Atom entry body: `<entry><content type="application/xml"><m:properties>…`. */
export function readAtomEntry(body: Buffer, type: EntityType): ReadBody {
  let root: XmlElement;
  try {
    root = readXmlBytes(body);
  } catch (err) {
    if (err instanceof XmlError) return { problems: [`the body is not acceptable XML: ${err.message}`] };
    throw err;
  }
  if (root.uri !== ATOM_NS || root.local !== 'entry') {
    const what = root.uri === ATOM_NS && root.local === 'feed' ? ' (a feed; write one entity at a time)' : '';
    return { problems: [`the body must be an Atom entry (<entry xmlns="${ATOM_NS}">), not <${root.local}>${root.uri ? ` in the namespace ${root.uri}` : ' in no namespace'}${what}`] };
  }
  const problems: string[] = [];
  const propertyLists: XmlElement[] = [];
  const collect = (parent: XmlElement) => {
    for (const child of parent.children) {
      if (child.local !== 'properties') continue;
      if (child.uri === METADATA_NS) propertyLists.push(child);
      else problems.push(`<properties> must be in the namespace ${METADATA_NS} (m:properties), not ${clip(child.uri) || 'no namespace'}`);
    }
  };
  for (const child of root.children) {
    if (child.uri !== ATOM_NS) continue;
    if (child.local === 'content') collect(child);
    else if (child.local === 'link') {
      const rel = attributeOf(child, '', 'rel') ?? '';
      if (rel.startsWith(`${DATASERVICES_NS}/related/`)) {
        const navigation = rel.slice(DATASERVICES_NS.length + '/related/'.length);
        problems.push(bindingProblem(type, navigation, `<link rel="${DATASERVICES_NS}/related/${clipName(navigation)}">`));
      }
    }
  }
  // m:properties directly under <entry>: how a media link entry carries its properties (allowed for any entry)
  collect(root);

  const values: Record<string, RowValue> = {};
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const list of propertyLists) {
    for (const element of list.children) {
      const name = element.local;
      if (element.uri !== DATASERVICES_NS) {
        problems.push(`<${clipName(name)}> in <m:properties> must be in the namespace ${DATASERVICES_NS}, not ${clip(element.uri) || 'no namespace'}`);
        continue;
      }
      if (seen.has(name)) {
        if (!repeated.has(name)) problems.push(`${clipName(name)} is given more than once`);
        repeated.add(name);
        continue;
      }
      seen.add(name);
      const read = atomValue(type, element);
      if ('problem' in read) problems.push(read.problem);
      else setValue(values, name, read.value);
    }
  }
  return problems.length > 0 ? { problems } : { values };
}

function atomValue(type: EntityType, element: XmlElement): Read {
  const name = element.local;
  const isNull = attributeOf(element, METADATA_NS, 'null');
  if (isNull !== undefined && (isNull.trim() === 'true' || isNull.trim() === '1')) return { value: null };
  if (element.children.length > 0) return { problem: structuredProblem(type, name) };
  const p = type.property(name);
  const text = element.text;
  if (p === undefined) return { value: text };
  switch (p.type) {
    case 'Edm.String':
    case 'Edm.Guid':
      return { value: text };
    case 'Edm.Boolean': {
      const t = text.trim();
      return { value: t === 'true' || t === '1' ? true : t === 'false' || t === '0' ? false : text };
    }
    case 'Edm.Int16':
    case 'Edm.Int32':
    case 'Edm.Int64':
    case 'Edm.Decimal':
    case 'Edm.Double':
      return numberFromText(p, text.trim());
    case 'Edm.Date': {
      const iso = readIso(text.trim());
      if (iso === undefined) return { problem: `${p.name} must be a date and time like 2026-01-05T00:00:00 (${clip(text)})` };
      return dateOf(p, iso.ms);
    }
    case 'Edm.DateTimeOffset': {
      const t = text.trim();
      return { value: instantText(p, readIso(t)) ?? t };
    }
  }
}

// ---- values -------------------------------------------------------------------------------------------------------

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A number written as text (IEEE754Compatible JSON, v2 JSON's Int64/Decimal strings, Atom): the number, or the
 * text itself when it is not one (valueProblem then says what the property needs). Decimal and integer text
 * that a JavaScript number cannot hold exactly (more than 15–17 significant digits) is refused rather than
 * rounded: money must not change on the way in.
 */
function numberFromText(p: Property, text: string): Read {
  if (!NUMBER.test(text)) return { value: text };
  const n = Number(text);
  if (!Number.isFinite(n)) return { problem: `${p.name} is too large (${clip(text)})` };
  if (p.type !== 'Edm.Double' && !/[eE]/.test(text) && canonicalDecimal(text) !== decimalText(n)) {
    return { problem: `${p.name} has more digits than can be held exactly (${clip(text)})` };
  }
  return { value: n };
}

/** 012.500 → 12.5, -0.0 → 0, +5 → 5: the text as decimalText would write its exact value */
function canonicalDecimal(text: string): string {
  let s = text;
  let negative = false;
  if (s[0] === '+' || s[0] === '-') {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  let [whole, fraction = ''] = s.split('.');
  whole = whole.replace(/^0+/, '') || '0';
  fraction = fraction.replace(/0+$/, '');
  const out = fraction === '' ? whole : `${whole}.${fraction}`;
  return negative && out !== '0' ? `-${out}` : out;
}

const DAY = 86_400_000;
/** the milliseconds of the years 0000 and 9999 (what the rows' YYYY-MM-DD and ISO 8601 texts can write) */
const MIN_MS = new Date(0).setUTCFullYear(0, 0, 1);
const MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** The ms of v2 JSON's "/Date(ms)/" or "/Date(ms+0120)/" (the ms are UTC; the suffix, minutes, is ignored) */
function msDate(text: string): number | undefined {
  if (!text.startsWith('/Date(')) return undefined;
  const m = /^\/Date\((-?\d{1,16})(?:[+-]\d{1,4})?\)\/$/.exec(text);
  return m ? Number(m[1]) : undefined;
}

interface Iso {
  /** the instant (offset-less text read as UTC), fractions of a millisecond kept */
  ms: number;
  /** the fraction digits as written */
  fraction: string;
  /** Z, ±hh:mm, or undefined */
  offset: string | undefined;
}

const ISO = /^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?(Z|[+-]\d\d:\d\d)?)?$/;

/** ISO 8601 date or date-time text, checked (a 30 February or a 25th hour is undefined, not the next day) */
function readIso(text: string): Iso | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  const [hours, minutes, seconds] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  let ms = date.getTime() + ((hours * 60 + minutes) * 60 + seconds) * 1000;
  if (m[7] !== undefined) ms += Number(`0.${m[7]}`) * 1000;
  const offset = m[8];
  if (offset !== undefined && offset !== 'Z') {
    const [oh, om] = [Number(offset.slice(1, 3)), Number(offset.slice(4, 6))];
    if (oh > 23 || om > 59) return undefined;
    ms -= (offset[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  return { ms, fraction: m[7] ?? '', offset };
}

/** A Date property's value from an instant: its day when the instant is midnight UTC, else why not. */
function dateOf(p: Property, ms: number): Read {
  if (!(ms >= MIN_MS && ms <= MAX_MS)) return { problem: `${p.name} is outside the years 0000 to 9999` };
  if (((ms % DAY) + DAY) % DAY !== 0) return { problem: `${p.name} has a time of day; it holds a date (write midnight: YYYY-MM-DDT00:00:00)` };
  return { value: new Date(ms).toISOString().slice(0, 10) };
}

function instantOfMs(p: Property, ms: number): Read {
  if (!(ms >= MIN_MS && ms <= MAX_MS)) return { problem: `${p.name} is outside the years 0000 to 9999` };
  return { value: utcText(p, ms) ?? new Date(ms).toISOString() };
}

/**
 * A DateTimeOffset written with an offset, as the rows hold it: UTC, with the property's fractional-second digits
 * (Precision, at most 3) — when that loses nothing. undefined: leave the text as the client wrote it (no offset,
 * digits beyond what is kept, out of range): valueProblem says what is wrong with it.
 */
function instantText(p: Property, iso: Iso | undefined): string | undefined {
  if (iso === undefined || iso.offset === undefined || iso.fraction.length > 3) return undefined;
  if (!(iso.ms >= MIN_MS && iso.ms <= MAX_MS)) return undefined;
  return utcText(p, iso.ms);
}

/** toISOString with the property's fractional digits (0–3), or undefined when the instant has more */
function utcText(p: Property, ms: number): string | undefined {
  if (!Number.isInteger(ms)) return undefined;
  const text = new Date(ms).toISOString();
  const digits = Math.min(p.precision ?? 0, 3);
  if (digits === 3) return text;
  const fraction = text.slice(20, 23);
  if (fraction.slice(digits) !== '000'.slice(digits)) return undefined;
  return `${text.slice(0, digits === 0 ? 19 : 20 + digits)}Z`;
}

/** a property's value by name; `__proto__` stays an own property (for the engine to refuse as unknown) */
function setValue(values: Record<string, RowValue>, name: string, value: RowValue): void {
  if (name === '__proto__') Object.defineProperty(values, name, { value, enumerable: true, writable: true, configurable: true });
  else values[name] = value;
}

/** a client's text in a message: at most 40 characters */
const clip = (text: string): string => (text.length > 40 ? `${text.slice(0, 40)}…` : text);
/** a name the client sent (a property's, an annotation's) in a message: at most 100 characters */
const clipName = (name: string): string => (name.length > 100 ? `${name.slice(0, 100)}…` : name);

// ---- Content-Encoding: shared with the REST engine (protocols/content-encoding.ts) ----------------------------

export { gunzipBody } from '../../content-encoding.js';
