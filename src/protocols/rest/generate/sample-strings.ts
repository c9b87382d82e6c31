/**
 * Strings (and numeric ranges) for generated data that read like real records: by the property's name (`email`,
 * `first_name`, `createdAt`, `iban` …, matched case- and separator-insensitively) and by the schema's `format`,
 * always within the schema's constraints. Every candidate is checked against the schema's length (counted in code
 * points, as JSON Schema does), patterns and format before it is used; one that breaks them is dropped for the next
 * source — the format, then the pattern, then plain text cut to length — so a name hint never overrides a constraint.
 *
 * Formats are checked with ajv-formats' own definitions (the ones the response check compiles with), so "fits" here
 * means what the response check will say. Dates are drawn between fixed instants, never relative to the clock:
 * the same seed gives the same data on any day.
 */
import type { Faker } from '@faker-js/faker';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import type { PreferredRange } from './sample-numbers.js';
import { stringFromPattern } from './sample-pattern.js';

type Schema = Record<string, unknown>;

const FROM = '2025-01-01T00:00:00Z';
const TO = '2026-12-31T00:00:00Z';
const EPOCH_FROM = Date.parse(FROM) / 1000;
const EPOCH_TO = Date.parse(TO) / 1000;
/** longest string generated, whatever minLength asks: a response is not the place for megabytes of filler */
const MAX_LENGTH = 100_000;

/** The property name split into lower-case words: `createdAt`, `created_at`, `Created-At` → created, at. */
function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[\s_\-.]+/)
    .filter(Boolean);
}

/** what a name says about a number: the range its values are drawn from when the constraints allow */
export function numberHint(name: string): PreferredRange | undefined {
  const words = wordsOf(name);
  const n = words.join('');
  const last = words.at(-1) ?? '';
  if (n === 'lat' || n.endsWith('latitude')) return { min: -90, max: 90, fractionDigits: 6 };
  if (['lng', 'lon', 'long'].includes(n) || n.endsWith('longitude')) return { min: -180, max: 180, fractionDigits: 6 };
  if (isDateName(words)) return { min: EPOCH_FROM, max: EPOCH_TO, fractionDigits: 0 };
  if (['amount', 'price', 'cost', 'total', 'subtotal', 'balance', 'fee', 'salary'].includes(last)) return { min: 1, max: 1000, fractionDigits: 2 };
  if (last === 'age') return { min: 18, max: 90 };
  if (last === 'id') return { min: 1, max: 99_999, fractionDigits: 0 };
  if (['quantity', 'qty', 'count'].includes(last)) return { min: 1, max: 20 };
  if (last === 'year') return { min: 1990, max: 2030 };
  if (['percent', 'percentage'].includes(last)) return { min: 0, max: 100, fractionDigits: 1 };
  if (last === 'rating') return { min: 1, max: 5, fractionDigits: 1 };
  return undefined;
}

/** `createdAt`, `updated_at`, `shipDate`, `timestamp`: a point in time */
function isDateName(words: string[]): boolean {
  const last = words.at(-1) ?? '';
  return (words.length > 1 && (last === 'at' || last === 'on')) || last === 'date' || last === 'timestamp' || last === 'datetime';
}

type Hint = [test: (n: string, last: string, words: string[]) => boolean, make: (f: Faker, words: string[]) => string];

const is = (...names: string[]) => (n: string) => names.includes(n);
const endsIn = (...lasts: string[]) => (_n: string, last: string) => lasts.includes(last);

/** name hints in the order they are tried: the more specific first (`emailAddress` is an email, not an address) */
const STRING_HINTS: Hint[] = [
  [(n) => n.includes('email'), (f) => f.internet.email().toLowerCase()],
  [(n) => n.includes('uuid') || n.includes('guid'), (f) => f.string.uuid()],
  [(n, last) => n === 'ip' || last === 'ip' || n.endsWith('ipaddress'), (f) => f.internet.ipv4()],
  [(n) => n.endsWith('macaddress'), (f) => f.internet.mac()],
  [(n) => n.includes('avatar'), (f) => f.image.avatar()],
  [endsIn('image', 'photo', 'picture', 'thumbnail', 'logo', 'icon') as Hint[0], (f) => f.image.url()],
  [(n, last) => ['url', 'uri', 'href', 'link', 'website', 'homepage'].includes(last) || n === 'website', (f) => f.internet.url()],
  [is('firstname', 'givenname', 'forename'), (f) => f.person.firstName()],
  [is('lastname', 'surname', 'familyname'), (f) => f.person.lastName()],
  [is('middlename'), (f) => f.person.middleName()],
  [is('username', 'login', 'nickname', 'handle', 'screenname'), (f) => f.internet.username()],
  [(n) => /^(company|companyname|organization|organisation|employer|vendor|supplier|merchant|business)$/.test(n), (f) => f.company.name()],
  [is('countryname'), (f) => f.location.country()],
  [(n, last) => last === 'country' || n.endsWith('countrycode'), (f) => f.location.countryCode()],
  [(n, last) => last === 'city' || last === 'town' || n === 'cityname', (f) => f.location.city()],
  [(n) => n.endsWith('statecode'), (f) => f.location.state({ abbreviated: true })],
  [endsIn('state', 'province', 'region') as Hint[0], (f) => f.location.state()],
  [(n, last) => last === 'zip' || n.endsWith('zipcode') || n.endsWith('postalcode') || n.endsWith('postcode'), (f) => f.location.zipCode()],
  [(n) => /(address2|line2)$/.test(n), (f) => f.location.secondaryAddress()],
  [(n, last) => last === 'street' || last === 'address' || /(streetaddress|address1|line1)$/.test(n), (f) => f.location.streetAddress()],
  [(n, last) => ['phone', 'mobile', 'telephone', 'tel', 'fax', 'cell'].includes(last) || n.endsWith('phonenumber'), (f) => f.phone.number({ style: 'international' })],
  [(_n, last) => last === 'iban', (f) => f.finance.iban()],
  [(n, last) => ['bic', 'swift'].includes(last) || n.endsWith('swiftcode') || n.endsWith('biccode'), (f) => f.finance.bic()],
  [(n, last) => last === 'currency' || n.endsWith('currencycode'), (f) => f.finance.currencyCode()],
  [(n) => n.endsWith('accountnumber'), (f) => f.finance.accountNumber()],
  [(_n, last) => ['amount', 'price', 'cost', 'total', 'subtotal', 'balance', 'fee'].includes(last), (f) => f.finance.amount()],
  [(n) => n === 'dob' || n.startsWith('birth'), (f) => f.date.between({ from: '1950-01-01T00:00:00Z', to: '2005-12-31T00:00:00Z' }).toISOString().slice(0, 10)],
  [(_n, last, words) => isDateName(words) && last === 'date', (f) => f.date.between({ from: FROM, to: TO }).toISOString().slice(0, 10)],
  [(_n, _last, words) => isDateName(words), (f) => f.date.between({ from: FROM, to: TO }).toISOString()],
  [(n) => n === 'lat' || n.endsWith('latitude'), (f) => String(f.location.latitude())],
  [(n) => ['lng', 'lon', 'long'].includes(n) || n.endsWith('longitude'), (f) => String(f.location.longitude())],
  [is('colorname', 'colourname'), (f) => f.color.human()],
  [(_n, last) => last === 'color' || last === 'colour', (f) => f.color.rgb()],
  [(n) => n.endsWith('jobtitle'), (f) => f.person.jobTitle()],
  [(_n, last) => ['description', 'summary', 'comment', 'comments', 'note', 'notes', 'bio', 'message', 'remarks'].includes(last), (f) => f.lorem.sentence()],
  [(_n, last) => last === 'title', (f) => f.lorem.words({ min: 2, max: 4 }).replace(/^./, (c) => c.toUpperCase())],
  [(_n, last) => last === 'sku', (f) => `${f.string.alpha({ length: 3, casing: 'upper' })}-${f.string.numeric(5)}`],
  [is('status', 'state'), (f) => f.helpers.arrayElement(['active', 'pending', 'completed', 'cancelled'])],
  [(n) => n.endsWith('filename'), (f) => f.system.fileName()],
  [(n, last) => n.endsWith('hostname') || last === 'domain' || last === 'host', (f) => f.internet.domainName()],
  [(n) => /^(product|productname|item|itemname|brand|brandname)$/.test(n), (f) => f.commerce.productName()],
  [(n, last) => ['fullname', 'displayname'].includes(n) || last === 'name', (f) => f.person.fullName()],
  [(_n, last) => last === 'id', (f) => f.string.alphanumeric({ length: 10, casing: 'upper' })],
  [(_n, last) => last === 'language' || last === 'lang', (f) => f.helpers.arrayElement(['en', 'de', 'fr', 'es', 'nl', 'it'])],
  [(_n, last) => last === 'locale', (f) => f.helpers.arrayElement(['en-US', 'en-GB', 'de-DE', 'fr-FR', 'nl-NL'])],
  [(_n, last) => last === 'timezone' || last === 'tz', (f) => f.location.timeZone()],
  [(_n, last) => last === 'gender' || last === 'sex', (f) => f.person.sex()],
  [(_n, last) => last === 'version', (f) => f.system.semver()],
  [(n) => /(mimetype|contenttype|mediatype)$/.test(n), (f) => f.system.mimeType()],
  [(_n, last) => last === 'slug', (f) => f.lorem.slug()],
  [(_n, last) => ['token', 'secret', 'apikey'].includes(last), (f) => f.string.alphanumeric(32)],
  [(_n, last) => last === 'password', (f) => f.internet.password()],
  [(_n, last) => last === 'category' || last === 'department', (f) => f.commerce.department()],
];

/** the string a property name suggests (`e_mail` an email, `createdAt` an ISO instant), or undefined */
export function stringHint(f: Faker, name: string): string | undefined {
  const words = wordsOf(name);
  if (!words.length) return undefined;
  const n = words.join('');
  const last = words.at(-1)!;
  for (const [test, make] of STRING_HINTS) if (test(n, last, words)) return make(f, words);
  return undefined;
}

/** a string in the given `format`, or undefined for formats that are not strings or not known */
export function formatString(f: Faker, format: string, schema: Schema): string | undefined {
  const { min, max } = lengthOf(schema);
  switch (format) {
    case 'date-time':
      return f.date.between({ from: FROM, to: TO }).toISOString();
    case 'date':
      return f.date.between({ from: FROM, to: TO }).toISOString().slice(0, 10);
    case 'time':
      return `${f.date.between({ from: FROM, to: TO }).toISOString().slice(11, 19)}Z`;
    case 'duration':
      return `P${f.number.int({ min: 1, max: 30 })}D`;
    case 'email':
    case 'idn-email':
      return f.internet.email().toLowerCase();
    case 'uuid':
      return f.string.uuid();
    case 'uri':
    case 'url':
    case 'iri':
    case 'uri-reference':
    case 'iri-reference':
    case 'uri-template':
      return f.internet.url();
    case 'hostname':
    case 'idn-hostname':
      return f.internet.domainName();
    case 'ipv4':
      return f.internet.ipv4();
    case 'ipv6':
      return f.internet.ipv6();
    case 'json-pointer':
      return `/${f.lorem.word()}`;
    case 'regex':
      return '^[a-z]+$';
    case 'byte': {
      // base64 of n bytes is 4·ceil(n/3) characters: n chosen so that fits the length bounds
      const most = max === undefined ? 24 : Math.floor(max / 4) * 3;
      const least = Math.ceil(min / 4) * 3;
      const bytes = Math.max(least, Math.min(most, f.number.int({ min: 6, max: 24 })));
      return Buffer.from(f.helpers.multiple(() => f.number.int(255), { count: Math.min(bytes, MAX_LENGTH) })).toString('base64');
    }
    case 'binary':
      return f.string.alphanumeric(clamp(f.number.int({ min: 8, max: 32 }), min, max));
    case 'password':
      return f.internet.password({ length: clamp(f.number.int({ min: 10, max: 16 }), min, max) });
    default:
      return undefined;
  }
}

/** A string for a string schema: name hint, format, pattern, plain text, the first that fits (see the header). */
export function stringFor(f: Faker, schema: Schema, name: string): string {
  const patterns = patternsOf(schema);
  const fits = (v: string) => stringFits(v, schema, patterns);
  const hinted = name ? stringHint(f, name) : undefined;
  if (hinted !== undefined && fits(hinted)) return hinted;
  let best: string | undefined;
  if (typeof schema.format === 'string') {
    best = formatString(f, schema.format, schema);
    if (best !== undefined && fits(best)) return best;
  }
  if (patterns.length) {
    const pick = (n: number) => f.number.int({ min: 0, max: n - 1 });
    // open quantifiers (`+`, `*`) as they come, then stretched towards the length bounds
    const { min, max } = lengthOf(schema);
    const span = max === undefined ? 3 : Math.max(0, max - min);
    const stretches = [
      { floor: 0, extra: 3 },
      { floor: min, extra: span },
      { floor: Math.ceil(min / 2), extra: Math.ceil(span / 2) },
      { floor: 0, extra: 1 },
      { floor: Math.ceil(min / 4), extra: 3 },
    ];
    for (let i = 0; i <= stretches.length; i++) {
      let candidate: string;
      try {
        candidate = i < stretches.length ? stringFromPattern(patterns[0], pick, stretches[i]) : f.helpers.fromRegExp(patterns[0]);
      } catch {
        continue; // syntax the generators do not take: try the other one, then plain text
      }
      if (fits(candidate)) return candidate;
      best ??= candidate;
    }
  }
  // an identifier-like name (`wallet_id`, `order_number`) whose hint did not fit its length: a code of that length
  const last = wordsOf(name).at(-1) ?? '';
  const text = CODE_WORDS.has(last) ? codeOfLength(f, lengthOf(schema)) : textOfLength(f, lengthOf(schema));
  return fits(text) ? text : best ?? text;
}

/** whether a string keeps the schema's length, pattern and format constraints */
export function stringFits(value: string, schema: Schema, patterns = patternsOf(schema)): boolean {
  const { min, max } = lengthOf(schema);
  const length = [...value].length;
  if (length < min || (max !== undefined && length > max)) return false;
  for (const p of patterns) {
    const re = regex(p);
    if (re && !re.test(value)) return false;
  }
  return typeof schema.format !== 'string' || formatFits(schema.format, value);
}

/** whether a string passes ajv-formats' check of `format` (unknown formats pass, as they do in the response check) */
export function formatFits(format: string, value: string): boolean {
  const def = (fullFormats as Record<string, unknown>)[format];
  const check = def && typeof def === 'object' && 'validate' in def ? (def as { validate: unknown }).validate : def;
  if (check instanceof RegExp) return check.test(value);
  if (typeof check === 'function') return Boolean((check as (s: string) => boolean)(value));
  return true;
}

/** the schema's own pattern and those merged in from allOf parts */
function patternsOf(schema: Schema): string[] {
  const extra = Array.isArray(schema['x-understudy-patterns']) ? (schema['x-understudy-patterns'] as unknown[]) : [];
  return [schema.pattern, ...extra].filter((p): p is string => typeof p === 'string');
}

const compiled = new Map<string, RegExp | null>();
/** a schema pattern compiled as ajv compiles it (unicode flag), remembered; null when it does not compile */
function regex(pattern: string): RegExp | null {
  let re = compiled.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern, 'u');
    } catch {
      re = null;
    }
    if (compiled.size > 5000) compiled.clear();
    compiled.set(pattern, re);
  }
  return re;
}

function lengthOf(schema: Schema): { min: number; max?: number } {
  const min = typeof schema.minLength === 'number' ? Math.min(schema.minLength, MAX_LENGTH) : 0;
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : undefined;
  return { min, max };
}

function clamp(n: number, min: number, max?: number): number {
  return Math.max(min, max === undefined ? n : Math.min(n, max));
}

const CODE_WORDS = new Set(['id', 'code', 'key', 'number', 'no', 'ref', 'reference', 'token', 'sku']);

/** upper-case letters and digits, 10 of them unless the bounds say otherwise */
function codeOfLength(f: Faker, { min, max }: { min: number; max?: number }): string {
  return f.string.alphanumeric({ length: clamp(10, min, max), casing: 'upper' });
}

/** a few lorem words, lengthened or cut to lie within the bounds */
function textOfLength(f: Faker, { min, max }: { min: number; max?: number }): string {
  if (max !== undefined && max <= 0) return '';
  let text = f.lorem.words(f.number.int({ min: 1, max: 3 }));
  if (min > 1000) text = f.string.alpha(min);
  while ([...text].length < min) text += ` ${f.lorem.word()}`;
  if (max !== undefined && text.length > max) text = text.slice(0, max).trimEnd();
  if (text.length < min) text += f.string.alpha(min - text.length);
  return text;
}
