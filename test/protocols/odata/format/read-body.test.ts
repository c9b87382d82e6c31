/**
 * read-body.ts: client write bodies in v4 JSON, v2 verbose JSON and Atom, read into row values.
 * - Round trips: every row of every ERP set, written by the serialisers and read back, is the same row.
 * - Each format's encodings (IEEE754Compatible strings, /Date(ms)/ with and without an offset, Atom text, ISO 8601
 *   offsets) become the rows' values; annotations and navigation stubs are skipped; bindings, nested values and
 *   dates with a time of day are refused with a sentence naming the property.
 * - Malformed, hostile and absurd bodies: not JSON, arrays, scalars, DOCTYPE/XXE and billion laughs in Atom (refused,
 *   nothing expanded), a feed instead of an entry, deep nesting, invalid UTF-8, __proto__, huge values (passed
 *   through: MaxLength is checked later), gzip bombs and bodies that are not gzip.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gunzipBody, readAtomEntry, readV2Json, readV4Json } from '../../../../src/protocols/odata/format/read-body.js';
import type { ReadBody } from '../../../../src/protocols/odata/format/types.js';
import { entityV2Json, feedV2Json } from '../../../../src/protocols/odata/format/v2-json.js';
import { entryAtom, feedAtom } from '../../../../src/protocols/odata/format/v2-atom.js';
import { entityV4 } from '../../../../src/protocols/odata/format/v4-json.js';
import type { EntityType } from '../../../../src/protocols/odata/model/model.js';
import type { RowValue } from '../../../../src/protocols/odata/evaluate/values.js';
import { contextOf, ERP_SETS, out, ROOT, ROOT_V2, rowsOf, setOf } from './support.js';

const customer = setOf('Customers').entityType;
const order = setOf('SalesOrders').entityType;
const line = setOf('InvoiceLines').entityType;
const UPDATED = '2026-03-01T09:00:00.000Z';

function values(read: ReadBody): Record<string, RowValue> {
  if ('problems' in read) throw new Error(`expected values, got problems: ${read.problems.join(' | ')}`);
  return read.values;
}
function problems(read: ReadBody): string[] {
  if ('values' in read) throw new Error(`expected problems, got values: ${JSON.stringify(read.values)}`);
  return read.problems;
}

const M = 'http://schemas.microsoft.com/ado/2007/08/dataservices/metadata';
const D = 'http://schemas.microsoft.com/ado/2007/08/dataservices';
const A = 'http://www.w3.org/2005/Atom';
const atom = (properties: string, extra = ''): Buffer =>
  Buffer.from(
    `<?xml version="1.0" encoding="utf-8"?><entry xmlns="${A}" xmlns:d="${D}" xmlns:m="${M}">${extra}<content type="application/xml"><m:properties>${properties}</m:properties></content></entry>`,
  );

describe('round trips: a row written and read back is the same row', () => {
  it.each(ERP_SETS)('%s in v4 JSON', (name) => {
    const ctx = contextOf(name);
    const type = setOf(name).entityType;
    for (const row of rowsOf(name)) expect(values(readV4Json(entityV4(ctx, out(ctx, row, 'W/"1"')), type))).toEqual(row);
  });

  it.each(ERP_SETS)('%s in v2 verbose JSON (the entity, and each member of a feed)', (name) => {
    const ctx = contextOf(name, undefined, ROOT_V2);
    const type = setOf(name).entityType;
    const rows = rowsOf(name);
    for (const row of rows) expect(values(readV2Json(entityV2Json(ctx, out(ctx, row, 'W/"1"')), type))).toEqual(row);
    const feed = JSON.parse(feedV2Json(ctx, { entities: rows.map((r) => out(ctx, r)), updated: UPDATED })) as { d: { results: unknown[] } };
    feed.d.results.forEach((e, i) => expect(values(readV2Json(JSON.stringify(e), type))).toEqual(rows[i]));
  });

  it.each(ERP_SETS)('%s in Atom', (name) => {
    const ctx = contextOf(name, undefined, ROOT_V2);
    const type = setOf(name).entityType;
    for (const row of rowsOf(name)) expect(values(readAtomEntry(Buffer.from(entryAtom(ctx, out(ctx, row, 'W/"1"'), UPDATED)), type))).toEqual(row);
  });

  it('rows with nulls, escaping and long text survive all three', () => {
    const row = { ...rowsOf('Customers')[0], Name: `A & "B" <c> 'd' \\ /Date(0)/ ${'x'.repeat(5_000)}`, Email: null, CreditLimit: 1234567890123.45 };
    const v4 = contextOf('Customers');
    const v2 = contextOf('Customers', undefined, ROOT_V2);
    expect(values(readV4Json(entityV4(v4, out(v4, row)), customer))).toEqual(row);
    expect(values(readV2Json(entityV2Json(v2, out(v2, row)), customer))).toEqual(row);
    expect(values(readAtomEntry(Buffer.from(entryAtom(v2, out(v2, row), UPDATED)), customer))).toEqual(row);
  });

  it('only the properties sent are returned (a PATCH of two)', () => {
    expect(values(readV4Json('{"Name":"N","City":null}', customer))).toEqual({ Name: 'N', City: null });
    expect(values(readV2Json('{"d":{"Name":"N","City":null}}', customer))).toEqual({ Name: 'N', City: null });
    expect(values(readAtomEntry(atom('<d:Name>N</d:Name><d:City m:null="true"/>'), customer))).toEqual({ Name: 'N', City: null });
  });
});

describe('readV4Json', () => {
  it('skips annotations and control information; keeps unknown names for the engine to refuse', () => {
    const body = {
      '@odata.context': `${ROOT}$metadata#Customers/$entity`,
      '@odata.type': '#Understudy.Erp.Customer',
      'odata.type': 'Understudy.Erp.Customer',
      '@odata.etag': 'W/"1"',
      'Name@odata.type': 'String',
      __metadata: { uri: 'x' },
      Name: 'N',
      Nickname: 'unknown',
      Extra: 5,
    };
    expect(values(readV4Json(JSON.stringify(body), customer))).toEqual({ Name: 'N', Nickname: 'unknown', Extra: 5 });
  });

  it('IEEE754Compatible strings for Decimal and Int64 become numbers; other values are left for valueProblem', () => {
    expect(values(readV4Json('{"CreditLimit":"12.50","OpenOrderValue":"-0.5"}', customer))).toEqual({ CreditLimit: 12.5, OpenOrderValue: -0.5 });
    // not a number: left as given, so that valueProblem says "CreditLimit must be a number"
    expect(values(readV4Json('{"CreditLimit":"12,50","Blocked":"yes","LineCount":"4"}', customer))).toEqual({ CreditLimit: '12,50', Blocked: 'yes', LineCount: '4' });
    expect(values(readV4Json('{"LineCount":"4"}', order))).toEqual({ LineCount: '4' });
  });

  it('a Decimal string a number cannot hold exactly is refused, not rounded', () => {
    expect(problems(readV4Json('{"CreditLimit":"12.50000000000000000001"}', customer))).toEqual([
      'CreditLimit has more digits than can be held exactly (12.50000000000000000001)',
    ]);
  });

  it('a number for a Date or a DateTimeOffset is a problem', () => {
    expect(problems(readV4Json('{"OrderDate":1700000000000,"CreatedAt":1700000000000}', order))).toEqual([
      'OrderDate must be a date (YYYY-MM-DD), not a number',
      'CreatedAt must be a date and time with an offset (ISO 8601), not a number',
    ]);
  });

  it('a DateTimeOffset with an offset becomes UTC with the property digits; more digits than that are left for valueProblem', () => {
    expect(values(readV4Json('{"CreatedAt":"2026-01-05T10:00:00+02:00"}', order))).toEqual({ CreatedAt: '2026-01-05T08:00:00.000Z' });
    expect(values(readV4Json('{"CreatedAt":"2026-01-05T10:00:00.1234567Z"}', order))).toEqual({ CreatedAt: '2026-01-05T10:00:00.1234567Z' });
    expect(values(readV4Json('{"CreatedAt":"2026-01-05"}', order))).toEqual({ CreatedAt: '2026-01-05' });
    expect(values(readV4Json('{"OrderDate":"2026-01-05"}', order))).toEqual({ OrderDate: '2026-01-05' });
  });

  it('bindings, deep inserts and nested values are refused by name', () => {
    const body = {
      'Customer@odata.bind': "Customers('0001000000')",
      Customer: { CustomerId: '1' },
      Name: { value: 'x' },
      City: ['a'],
    };
    expect(problems(readV4Json(JSON.stringify(body), order))).toEqual([
      "Customer: binding navigation properties is not supported (Customer@odata.bind); set CustomerId instead",
      'Customer is a navigation property: deep inserts and updates are not supported',
      'Name is not a primitive value',
      'City is not a primitive value',
    ]);
    expect(problems(readV4Json('{"Invoices@bind":["Invoices(\'1\')"]}', customer))).toEqual(['Invoices: binding navigation properties is not supported (Invoices@bind)']);
  });

  it.each([
    ['', 'the body is empty; it must be a JSON object (one entity)'],
    ['   \n', 'the body is empty; it must be a JSON object (one entity)'],
    ['[{"Name":"x"}]', 'the body must be a JSON object (one entity), not an array'],
    ['"Name"', 'the body must be a JSON object (one entity), not a string ("Name")'],
    ['42', 'the body must be a JSON object (one entity), not a number (42)'],
    ['null', 'the body must be a JSON object (one entity), not null'],
    ['true', 'the body must be a JSON object (one entity), not a boolean (true)'],
  ])('%j → %s', (text, problem) => {
    expect(problems(readV4Json(text, customer))).toEqual([problem]);
  });

  it('text that is not JSON says so, with the parser’s reason', () => {
    for (const text of ['{"Name":', "{'Name':'x'}", '<entry/>', '{"Name":"x"} trailing', 'Name=x']) {
      expect(problems(readV4Json(text, customer))[0]).toMatch(/^the body is not JSON: ./);
    }
  });

  it('a byte order mark is skipped', () => {
    expect(values(readV4Json('\uFEFF{"Name":"N"}', customer))).toEqual({ Name: 'N' });
  });

  it('__proto__ stays an own property: no prototype is changed, and the engine sees an unknown name', () => {
    const read = values(readV4Json('{"__proto__":"x","constructor":1,"Name":"N"}', customer));
    expect(Object.getPrototypeOf(read)).toBe(Object.prototype);
    expect(Object.keys(read)).toEqual(['__proto__', 'constructor', 'Name']);
    expect(Object.getOwnPropertyDescriptor(read, '__proto__')?.value).toBe('x');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('huge and absurd values pass through: length is valueProblem’s check', () => {
    const name = 'n'.repeat(2_000_000);
    expect(values(readV4Json(JSON.stringify({ Name: name, Country: '', LineCount: 1e308 }), customer))).toEqual({ Name: name, Country: '', LineCount: 1e308 });
  });

  it('a deeply nested value is a problem, not a crash', () => {
    const deep = `{"Name":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    expect(problems(readV4Json(deep, customer))).toEqual(['Name is not a primitive value']);
  });
});

describe('readV2Json', () => {
  it('accepts {"d":{…}} and the bare object; skips __metadata and __deferred navigation stubs', () => {
    const entity = { __metadata: { uri: "Customers('1')", type: 'Understudy.Erp.Customer' }, Name: 'N', SalesOrders: { __deferred: { uri: "Customers('1')/SalesOrders" } } };
    expect(values(readV2Json(JSON.stringify({ d: entity }), customer))).toEqual({ Name: 'N' });
    expect(values(readV2Json(JSON.stringify(entity), customer))).toEqual({ Name: 'N' });
  });

  it('"d" that is not an object is a problem', () => {
    expect(problems(readV2Json('{"d":[1]}', customer))).toEqual(['the body\'s "d" must be a JSON object (one entity), not an array']);
  });

  it('Decimal and Int64 as strings or numbers', () => {
    expect(values(readV2Json('{"d":{"CreditLimit":"1000.00","OpenOrderValue":12.5}}', customer))).toEqual({ CreditLimit: 1000, OpenOrderValue: 12.5 });
  });

  it('a Date property (v2 Edm.DateTime): /Date(ms)/, with an offset suffix, escaped in the JSON text, ISO midnight, or a bare date', () => {
    const ms = Date.UTC(2026, 0, 5);
    const cases = [`"/Date(${ms})/"`, `"\\/Date(${ms})\\/"`, `"/Date(${ms}+0120)/"`, `"/Date(${ms}-0300)/"`, '"2026-01-05T00:00:00"', '"2026-01-05T00:00"', '"2026-01-05T00:00:00.000"', '"2026-01-05"'];
    for (const v of cases) expect(values(readV2Json(`{"d":{"OrderDate":${v}}}`, order)), v).toEqual({ OrderDate: '2026-01-05' });
    expect(values(readV2Json(`{"OrderDate":"/Date(-86400000)/"}`, order))).toEqual({ OrderDate: '1969-12-31' });
  });

  it('a Date property given a time of day is refused: it holds a date', () => {
    const ms = Date.UTC(2026, 0, 5, 23);
    for (const v of [`"/Date(${ms})/"`, '"2026-01-05T10:30:00"', '"2026-01-05T00:00:00.001"']) {
      expect(problems(readV2Json(`{"OrderDate":${v}}`, order))).toEqual(['OrderDate has a time of day; it holds a date (write midnight: YYYY-MM-DDT00:00:00)']);
    }
  });

  it('a Date property given something else: what it must be, in v2 terms', () => {
    expect(problems(readV2Json('{"OrderDate":"5 Jan 2026"}', order))).toEqual(['OrderDate must be a date: "/Date(<milliseconds>)/" or "YYYY-MM-DDT00:00:00" (5 Jan 2026)']);
    expect(problems(readV2Json('{"OrderDate":"2026-02-30T00:00:00"}', order))[0]).toMatch(/^OrderDate must be a date/);
    expect(problems(readV2Json('{"OrderDate":1767571200000}', order))[0]).toMatch(/^OrderDate must be a date: .*not a number$/);
    expect(problems(readV2Json('{"OrderDate":"/Date(9999999999999999)/"}', order))).toEqual(['OrderDate is outside the years 0000 to 9999']);
  });

  it('a DateTimeOffset: /Date(ms)/ and /Date(ms+0120)/ are UTC milliseconds; ISO 8601 with an offset becomes UTC', () => {
    const ms = Date.UTC(2026, 0, 5, 10, 30, 0, 250);
    const iso = '2026-01-05T10:30:00.250Z';
    for (const v of [`"/Date(${ms})/"`, `"/Date(${ms}+0120)/"`, `"\\/Date(${ms}-0060)\\/"`, '"2026-01-05T12:30:00.25+02:00"', `"${iso}"`]) {
      expect(values(readV2Json(`{"CreatedAt":${v}}`, order)), v).toEqual({ CreatedAt: iso });
    }
    // no offset: left for valueProblem ("… with an offset")
    expect(values(readV2Json('{"CreatedAt":"2026-01-05T10:30:00"}', order))).toEqual({ CreatedAt: '2026-01-05T10:30:00' });
    expect(problems(readV2Json('{"CreatedAt":"yesterday"}', order))[0]).toMatch(/^CreatedAt must be a date and time: .*\(yesterday\)$/);
  });

  it('v2 bindings ({"__metadata":{"uri"}}) and nested values are refused', () => {
    expect(problems(readV2Json(`{"d":{"Customer":{"__metadata":{"uri":"Customers('1')"}},"Name":{"a":1}}}`, order))).toEqual([
      'Customer: binding navigation properties is not supported (Customer.__metadata.uri); set CustomerId instead',
      'Name is not a primitive value',
    ]);
  });

  it('not an object: the same sentences as v4', () => {
    expect(problems(readV2Json('[]', customer))).toEqual(['the body must be a JSON object (one entity), not an array']);
    expect(problems(readV2Json('{', customer))[0]).toMatch(/^the body is not JSON: /);
  });
});

describe('readAtomEntry', () => {
  it('reads typed text: numbers, booleans, dates at midnight, instants with offsets; strings exactly as written', () => {
    const body = atom(
      '<d:Name>  spaced &amp; &lt;escaped&gt; </d:Name><d:CreditLimit m:type="Edm.Decimal"> 12.50 </d:CreditLimit><d:Blocked>1</d:Blocked><d:Email m:null="true"/><d:City/><d:CreatedAt>2026-01-05T10:00:00+01:00</d:CreatedAt>',
    );
    expect(values(readAtomEntry(body, customer))).toEqual({ Name: '  spaced & <escaped> ', CreditLimit: 12.5, Blocked: true, Email: null, City: '', CreatedAt: '2026-01-05T09:00:00.000Z' });
    expect(values(readAtomEntry(atom('<d:OrderDate m:type="Edm.DateTime">2026-01-05T00:00:00</d:OrderDate><d:LineCount>3</d:LineCount><d:OrderStatus>OPEN</d:OrderStatus>'), order))).toEqual({
      OrderDate: '2026-01-05',
      LineCount: 3,
      OrderStatus: 'OPEN',
    });
  });

  it('text that is not its type is left for valueProblem; a date with a time of day is refused', () => {
    expect(values(readAtomEntry(atom('<d:Blocked>maybe</d:Blocked><d:CreditLimit>lots</d:CreditLimit>'), customer))).toEqual({ Blocked: 'maybe', CreditLimit: 'lots' });
    expect(problems(readAtomEntry(atom('<d:OrderDate>2026-01-05T12:00:00</d:OrderDate>'), order))).toEqual(['OrderDate has a time of day; it holds a date (write midnight: YYYY-MM-DDT00:00:00)']);
    expect(problems(readAtomEntry(atom('<d:OrderDate>soon</d:OrderDate>'), order))).toEqual(['OrderDate must be a date and time like 2026-01-05T00:00:00 (soon)']);
  });

  it('namespaces by URI, not by prefix: other prefixes and default namespaces read the same', () => {
    const body = Buffer.from(
      `<a:entry xmlns:a="${A}" xmlns:data="${D}" xmlns:meta="${M}"><a:content type="application/xml"><meta:properties><data:Name>N</data:Name><Country xmlns="${D}">DE</Country><data:City meta:null="true"/></meta:properties></a:content></a:entry>`,
    );
    expect(values(readAtomEntry(body, customer))).toEqual({ Name: 'N', Country: 'DE', City: null });
  });

  it('m:properties directly under <entry> (a media link entry) is read too', () => {
    const body = Buffer.from(`<entry xmlns="${A}" xmlns:d="${D}" xmlns:m="${M}"><content type="image/png" src="x.png"/><m:properties><d:Name>N</d:Name></m:properties></entry>`);
    expect(values(readAtomEntry(body, customer))).toEqual({ Name: 'N' });
  });

  it('unknown properties are text; an empty entry has no values', () => {
    expect(values(readAtomEntry(atom('<d:Nickname m:type="Edm.Int32">5</d:Nickname>'), customer))).toEqual({ Nickname: '5' });
    expect(values(readAtomEntry(Buffer.from(`<entry xmlns="${A}"/>`), customer))).toEqual({});
  });

  it('bindings (<link rel="…/related/…">), nested elements, duplicates and foreign namespaces are refused by name', () => {
    const link = `<link rel="${D}/related/Customer" type="application/atom+xml;type=entry" href="Customers('1')"/>`;
    expect(problems(readAtomEntry(atom('<d:Name><d:First>x</d:First></d:Name><d:Name>y</d:Name><d:Name>z</d:Name><x:Other xmlns:x="urn:x">1</x:Other>', link), order))).toEqual([
      `Customer: binding navigation properties is not supported (<link rel="${D}/related/Customer">); set CustomerId instead`,
      'Name is not a primitive value',
      'Name is given more than once',
      `<Other> in <m:properties> must be in the namespace ${D}, not urn:x`,
    ]);
    expect(problems(readAtomEntry(Buffer.from(`<entry xmlns="${A}"><content type="application/xml"><properties><Name>x</Name></properties></content></entry>`), customer))).toEqual([
      `<properties> must be in the namespace ${M} (m:properties), not ${A}`,
    ]);
  });

  it('a feed, or any other root, is not an entry', () => {
    const ctx = contextOf('Customers', undefined, ROOT_V2);
    const feed = Buffer.from(feedAtom(ctx, { entities: [out(ctx, rowsOf('Customers')[0])], updated: UPDATED }));
    expect(problems(readAtomEntry(feed, customer))).toEqual([`the body must be an Atom entry (<entry xmlns="${A}">), not <feed> in the namespace ${A} (a feed; write one entity at a time)`]);
    expect(problems(readAtomEntry(Buffer.from('<entry><Name>x</Name></entry>'), customer))).toEqual([`the body must be an Atom entry (<entry xmlns="${A}">), not <entry> in no namespace`]);
    expect(problems(readAtomEntry(Buffer.from(`<m:properties xmlns:m="${M}"/>`), customer))).toEqual([`the body must be an Atom entry (<entry xmlns="${A}">), not <properties> in the namespace ${M}`]);
  });

  it('XXE: a DOCTYPE with an external entity is refused before anything is declared or read', () => {
    const xxe = Buffer.from(
      `<?xml version="1.0"?><!DOCTYPE entry [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><entry xmlns="${A}" xmlns:d="${D}" xmlns:m="${M}"><content type="application/xml"><m:properties><d:Name>&xxe;</d:Name></m:properties></content></entry>`,
    );
    const found = problems(readAtomEntry(xxe, customer));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^the body is not acceptable XML: a DOCTYPE is not allowed/);
    expect(found[0]).not.toMatch(/root:/);
  });

  it('billion laughs, processing instructions, undefined entities, deep nesting, invalid UTF-8, not XML: each a problem', () => {
    const laughs = `<!DOCTYPE l [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><entry xmlns="${A}">&b;</entry>`;
    const cases: [Buffer, RegExp][] = [
      [Buffer.from(laughs), /DOCTYPE is not allowed/],
      [Buffer.from(`<?xml-stylesheet href="x"?><entry xmlns="${A}"/>`), /processing instructions are not allowed/],
      [atom('<d:Name>&nbsp;</d:Name>'), /malformed XML: .*entity/i],
      [atom(`<d:Name>${'<x>'.repeat(40)}${'</x>'.repeat(40)}</d:Name>`), /nested deeper than 32/],
      [Buffer.from([0x3c, 0x65, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x65, 0x3e]), /not valid UTF-8/],
      [Buffer.from('{"Name":"x"}'), /malformed XML/],
      [Buffer.alloc(0), /no XML element|malformed/],
      [Buffer.from(`<?xml version="1.0" encoding="ISO-8859-1"?><entry xmlns="${A}"/>`), /only UTF-8/],
    ];
    for (const [body, pattern] of cases) {
      const found = problems(readAtomEntry(body, customer));
      expect(found, body.toString('latin1').slice(0, 60)).toHaveLength(1);
      expect(found[0]).toMatch(/^the body is not acceptable XML: /);
      expect(found[0]).toMatch(pattern);
    }
  });

  it('huge values pass through (MaxLength is checked later), up to the XML reader’s text limit per element', () => {
    const name = 'n'.repeat(900_000);
    expect(values(readAtomEntry(atom(`<d:Name>${name}</d:Name>`), customer)).Name).toBe(name);
    expect(problems(readAtomEntry(atom(`<d:Name>${'n'.repeat(1_000_001)}</d:Name>`), customer))[0]).toMatch(/more than 1000000 characters/);
  });

  it('numbers: integers, decimals, exponents; text a number cannot hold exactly is refused', () => {
    expect(values(readAtomEntry(atom('<d:Quantity>+7</d:Quantity><d:UnitPrice>1.5E2</d:UnitPrice><d:NetAmount>-0.10</d:NetAmount>'), line))).toEqual({ Quantity: 7, UnitPrice: 150, NetAmount: -0.1 });
    expect(problems(readAtomEntry(atom('<d:NetAmount>123456789012345678.25</d:NetAmount>'), line))).toEqual(['NetAmount has more digits than can be held exactly (123456789012345678.25)']);
    expect(problems(readAtomEntry(atom('<d:NetAmount>1e400</d:NetAmount>'), line))).toEqual(['NetAmount is too large (1e400)']);
  });
});

describe('gunzipBody', () => {
  it('inflates a gzip body', () => {
    const text = JSON.stringify({ Name: 'N'.repeat(10_000) });
    expect(gunzipBody(gzipSync(text), 1_000_000).toString()).toBe(text);
  });

  it('exactly the limit is inflated; one byte more is refused', () => {
    const body = gzipSync(Buffer.alloc(4096, 'a'));
    expect(gunzipBody(body, 4096)).toHaveLength(4096);
    expect(() => gunzipBody(body, 4095)).toThrow('the gzip body expands beyond 4095 bytes');
  });

  it('a gzip bomb (10 MB of zeros in about 10 KB) is stopped at the limit', () => {
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(20_000);
    expect(() => gunzipBody(bomb, 1024 * 1024)).toThrow('the gzip body expands beyond 1048576 bytes');
  });

  it('a body that is not gzip (plain text, truncated, trailing garbage, empty) is refused as such', () => {
    const good = gzipSync('{"Name":"x"}');
    for (const body of [Buffer.from('{"Name":"x"}'), good.subarray(0, good.length - 6), Buffer.concat([good, Buffer.from('garbage')]), Buffer.alloc(0)]) {
      expect(() => gunzipBody(body, 1_000_000)).toThrow('the body is not valid gzip');
    }
  });

  it('a limit that is not a positive integer is the caller’s mistake', () => {
    expect(() => gunzipBody(gzipSync('x'), 0)).toThrow(RangeError);
  });
});

// the type is what the readers take; a sanity check that the test model is the ERP's
it('the model under test is the ERP model', () => {
  const types: EntityType[] = [customer, order, line];
  expect(types.map((t) => t.qualifiedName)).toEqual(['Understudy.Erp.Customer', 'Understudy.Erp.SalesOrder', 'Understudy.Erp.InvoiceLine']);
});
