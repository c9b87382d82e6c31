/**
 * xsd.ts: the XML Schema subset requests are validated with and responses written from. Types are built by
 * wsdl.ts from schema text (so patterns are anchored exactly as the engine anchors them); each base type and
 * facet checked at its edges; complex content (order, occurrences, required, nil, namespaces, open elements);
 * writing in schema order with the problems it notes, and a round trip through the reader.
 */
import { describe, expect, it } from 'vitest';
import { readXml, XSI } from '../../../src/protocols/xml/xml-reader.js';
import { formatSimple, readComplex, readElement, readSimple, writeContent, type Problem } from '../../../src/protocols/soap/xsd.js';
import { complexOf, declarations, simpleOf, TNS } from '../../fixtures/soap/wsdl-text.js';

const SIMPLE = `
  <xsd:simpleType name="Qty"><xsd:restriction base="xsd:int"><xsd:minInclusive value="1"/><xsd:maxInclusive value="100"/></xsd:restriction></xsd:simpleType>
  <xsd:simpleType name="Open"><xsd:restriction base="xsd:int"><xsd:minExclusive value="0"/><xsd:maxExclusive value="10"/></xsd:restriction></xsd:simpleType>
  <xsd:simpleType name="Amount"><xsd:restriction base="xsd:decimal"><xsd:minInclusive value="0"/><xsd:totalDigits value="5"/><xsd:fractionDigits value="2"/></xsd:restriction></xsd:simpleType>
  <xsd:simpleType name="Currency"><xsd:restriction base="xsd:string"><xsd:enumeration value="EUR"/><xsd:enumeration value="USD"/><xsd:enumeration value="GBP"/></xsd:restriction></xsd:simpleType>
  <xsd:simpleType name="Id10"><xsd:restriction base="xsd:string"><xsd:pattern value="[0-9]{10}"/></xsd:restriction></xsd:simpleType>
  <xsd:simpleType name="AorB"><xsd:restriction base="xsd:string"><xsd:pattern value="A|B"/></xsd:restriction></xsd:simpleType>
  <xsd:simpleType name="Short3"><xsd:restriction base="xsd:string"><xsd:minLength value="1"/><xsd:maxLength value="3"/></xsd:restriction></xsd:simpleType>
  <xsd:simpleType name="Two"><xsd:restriction base="xsd:string"><xsd:length value="2"/></xsd:restriction></xsd:simpleType>
  <xsd:simpleType name="Code"><xsd:restriction base="tns:Short3"><xsd:pattern value="[A-Z]+"/></xsd:restriction></xsd:simpleType>
  ${['int', 'short', 'byte', 'long', 'unsignedInt', 'unsignedShort', 'positiveInteger', 'nonNegativeInteger', 'integer', 'decimal', 'double', 'float', 'boolean', 'date', 'dateTime', 'time', 'string', 'normalizedString', 'token', 'base64Binary']
    .map((t) => `<xsd:element name="${t}" type="xsd:${t}"/>`)
    .join('')}
  ${['Qty', 'Open', 'Amount', 'Currency', 'Id10', 'AorB', 'Short3', 'Two', 'Code'].map((t) => `<xsd:element name="${t}" type="tns:${t}"/>`).join('')}
`;
const simple = declarations(SIMPLE);

/** the typed value, or the problems' texts */
function read(element: string, text: string): { value?: unknown; problems?: string[] } {
  const problems: Problem[] = [];
  const value = readSimple(text, simpleOf(simple.get(element)), 'X', problems);
  if (problems.length) {
    expect(value).toBeUndefined();
    for (const p of problems) expect(p.path).toBe('X');
    return { problems: problems.map((p) => p.text) };
  }
  return { value };
}
const ok = (element: string, text: string, value: unknown) => expect(read(element, text), `${element} "${text}"`).toEqual({ value });
const bad = (element: string, text: string, message: RegExp | string = /./) => {
  const r = read(element, text);
  expect(r.problems, `${element} "${text}" is refused`).toBeDefined();
  expect(r.problems!.join('; ')).toMatch(message);
};

describe('readSimple: integers', () => {
  it('xsd:int: its whole range, and no further', () => {
    ok('int', '2147483647', 2147483647);
    ok('int', '-2147483648', -2147483648);
    ok('int', '+7', 7);
    ok('int', ' 42\n', 42);
    ok('int', '007', 7);
    bad('int', '2147483648', 'must be a int (-2147483648..2147483647), not 2147483648');
    bad('int', '-2147483649', /must be a int/);
    for (const text of ['4.0', '1e3', '', ' ', 'x', '0x10', '4 2', '--1']) bad('int', text, /must be an integer/);
  });

  it('the other integer types at their edges', () => {
    ok('short', '32767', 32767);
    bad('short', '32768', /short/);
    ok('byte', '-128', -128);
    bad('byte', '128', /byte/);
    ok('unsignedInt', '4294967295', 4294967295);
    bad('unsignedInt', '-1', /unsignedInt/);
    ok('unsignedShort', '65535', 65535);
    bad('unsignedShort', '65536', /unsignedShort/);
    ok('positiveInteger', '1', 1);
    bad('positiveInteger', '0', /positiveInteger/);
    ok('nonNegativeInteger', '0', 0);
    bad('nonNegativeInteger', '-1', /nonNegativeInteger/);
    ok('long', String(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
    ok('integer', '-12345678901', -12345678901);
  });

  it('range facets: minInclusive / maxInclusive and minExclusive / maxExclusive', () => {
    ok('Qty', '1', 1);
    ok('Qty', '100', 100);
    bad('Qty', '0', 'must be at least 1, not 0');
    bad('Qty', '101', 'must be at most 100, not 101');
    ok('Open', '1', 1);
    ok('Open', '9', 9);
    bad('Open', '0', 'must be more than 0, not 0');
    bad('Open', '10', 'must be less than 10, not 10');
  });
});

describe('readSimple: decimals and floating point', () => {
  it('xsd:decimal lexical forms', () => {
    ok('decimal', '12.5', 12.5);
    ok('decimal', '-0.50', -0.5);
    ok('decimal', '.5', 0.5);
    ok('decimal', '5.', 5);
    ok('decimal', '+3', 3);
    for (const text of ['1e3', 'abc', '1,5', '', '.', '1.2.3', 'NaN', 'INF']) bad('decimal', text, /must be a decimal number/);
  });

  it('fractionDigits counts significant fraction digits (trailing zeros are not), totalDigits all significant digits', () => {
    ok('Amount', '123.45', 123.45);
    ok('Amount', '1.230', 1.23);
    ok('Amount', '000123.45', 123.45);
    ok('Amount', '0.05', 0.05);
    bad('Amount', '1.234', 'may have at most 2 decimal places, not 3');
    bad('Amount', '1234.56', 'may have at most 5 digits, not 6');
    bad('Amount', '123456', 'may have at most 5 digits, not 6');
    bad('Amount', '-0.01', 'must be at least 0, not -0.01');
  });

  it('xsd:double and xsd:float: exponents, INF, -INF, NaN', () => {
    ok('double', '1e3', 1000);
    ok('double', '-1.5E-2', -0.015);
    ok('float', 'INF', Infinity);
    ok('float', '-INF', -Infinity);
    expect(Number.isNaN(read('double', 'NaN').value)).toBe(true);
    for (const text of ['abc', 'inf', '1e', 'Infinity']) bad('double', text, /must be a number/);
  });
});

describe('readSimple: booleans', () => {
  it('true, false, 1 and 0 (whitespace collapsed), nothing else', () => {
    ok('boolean', 'true', true);
    ok('boolean', '1', true);
    ok('boolean', 'false', false);
    ok('boolean', '0', false);
    ok('boolean', ' true ', true);
    for (const text of ['TRUE', 'True', 'yes', 'no', '', '2', 't']) bad('boolean', text, /must be true or false/);
  });
});

describe('readSimple: dates and times', () => {
  it('xsd:date: real calendar dates, Feb 29 only in leap years, an optional zone', () => {
    ok('date', '2026-03-01', '2026-03-01');
    ok('date', '2024-02-29', '2024-02-29');
    ok('date', '2000-02-29', '2000-02-29');
    ok('date', '2026-03-01Z', '2026-03-01Z');
    ok('date', '2026-03-01+02:00', '2026-03-01+02:00');
    ok('date', ' 2026-03-01 ', '2026-03-01');
    for (const text of ['2026-02-29', '1900-02-29', '2026-04-31', '2026-13-01', '2026-00-10', '2026-01-00', '2026-3-1', '26-03-01', '2026/03/01', '2026-03-01T00:00:00Z', '']) {
      bad('date', text, /must be a date \(YYYY-MM-DD\)/);
    }
  });

  it('xsd:dateTime: with Z, an offset, fractions, or no zone; 24:00:00 only', () => {
    for (const text of ['2026-03-01T09:00:00Z', '2026-03-01T09:00:00.123+05:30', '2026-03-01T09:00:00-08:00', '2026-03-01T09:00:00', '2026-03-01T24:00:00Z', '2024-02-29T23:59:59Z']) {
      ok('dateTime', text, text);
    }
    for (const text of ['2026-03-01T25:00:00Z', '2026-03-01T09:60:00Z', '2026-03-01T09:00:60Z', '2026-03-01T24:00:01Z', '2026-02-29T00:00:00Z', '2026-03-01 09:00:00Z', '2026-03-01T9:00:00Z', '2026-03-01', '2026-03-01T09:00:00+0530']) {
      bad('dateTime', text, /must be a dateTime/);
    }
  });

  // Regression: zone offsets were once not range-checked (XML Schema allows -14:00..+14:00).
  it('xsd:dateTime refuses a zone offset outside -14:00..+14:00', () => {
    bad('dateTime', '2026-03-01T09:00:00+99:99', /must be a dateTime/);
  });

  it('xsd:time: hh:mm:ss with fractions and zones', () => {
    ok('time', '09:30:00', '09:30:00');
    ok('time', '23:59:59.5Z', '23:59:59.5Z');
    for (const text of ['9:30:00', '09:30', 'noon', '']) bad('time', text, /must be a time/);
  });

  // Regression: xsd:time was once not range-checked (99:99:99 passed).
  it('xsd:time refuses hours, minutes and seconds out of range', () => {
    bad('time', '99:99:99', /must be a time/);
    bad('time', '25:00:00', /must be a time/);
  });
});

describe('readSimple: strings and their facets', () => {
  it('xsd:string keeps whitespace; normalizedString turns tabs and newlines into spaces; token collapses', () => {
    ok('string', '  a \n b  ', '  a \n b  ');
    ok('normalizedString', 'a\tb\nc', 'a b c');
    ok('token', '  a   b\n c ', 'a b c');
    ok('string', '', '');
  });

  it('enumeration: exactly one of the values, case and whitespace included', () => {
    ok('Currency', 'EUR', 'EUR');
    bad('Currency', 'eur', 'must be one of EUR, USD, GBP, not "eur"');
    bad('Currency', ' EUR', /must be one of/);
    bad('Currency', 'CHF', /must be one of/);
    bad('Currency', '', /must be one of/);
  });

  it('patterns are anchored: the whole value must match, alternations included', () => {
    ok('Id10', '0001000003', '0001000003');
    for (const text of ['x0001000003', '00010000031', '000100000', '0001000003\n', ' 0001000003', '０００１０００００３']) {
      bad('Id10', text, /must match the pattern \[0-9\]\{10\} \(Id10\)/);
    }
    ok('AorB', 'A', 'A');
    ok('AorB', 'B', 'B');
    bad('AorB', 'AB', /must match the pattern A\|B/);
    bad('AorB', 'xB', /must match the pattern/);
    bad('AorB', 'Ax', /must match the pattern/);
  });

  it('minLength, maxLength and length count code points, not UTF-16 units', () => {
    ok('Short3', '🚚🚚🚚', '🚚🚚🚚');
    ok('Short3', 'é', 'é');
    bad('Short3', '🚚🚚🚚🚚', 'must be at most 3 characters long (is 4)');
    bad('Short3', 'abcd', 'must be at most 3 characters long (is 4)');
    bad('Short3', '', 'may not be empty');
    ok('Two', '🚚x', '🚚x');
    bad('Two', '🚚', 'must be exactly 2 characters long (is 1)');
  });

  it('a restriction of a restriction keeps the base facets and adds its own', () => {
    ok('Code', 'ABC', 'ABC');
    bad('Code', 'ABCD', /at most 3 characters/);
    bad('Code', 'ab', /must match the pattern \[A-Z\]\+/);
  });

  it('xsd:base64Binary', () => {
    ok('base64Binary', 'aGVsbG8=', 'aGVsbG8=');
    bad('base64Binary', '***', 'must be base64');
  });

  it('messages clip long values', () => {
    const r = read('Currency', 'x'.repeat(500));
    expect(r.problems![0].length).toBeLessThan(150);
    expect(r.problems![0]).toContain('...');
  });
});

// ------------------------------------------------------------------------------------------------ complex

const COMPLEX = `
  <xsd:simpleType name="Amount"><xsd:restriction base="xsd:decimal"><xsd:fractionDigits value="2"/></xsd:restriction></xsd:simpleType>
  <xsd:simpleType name="Currency"><xsd:restriction base="xsd:string"><xsd:enumeration value="EUR"/><xsd:enumeration value="USD"/></xsd:restriction></xsd:simpleType>
  <xsd:complexType name="Line"><xsd:sequence><xsd:element name="N" type="xsd:int"/></xsd:sequence></xsd:complexType>
  <xsd:complexType name="Rec"><xsd:sequence>
    <xsd:element name="A" type="xsd:string"/>
    <xsd:element name="B" type="xsd:int" minOccurs="0" nillable="true"/>
    <xsd:element name="C" type="xsd:string" minOccurs="0"/>
    <xsd:element name="L" type="tns:Line" minOccurs="0" maxOccurs="2"/>
    <xsd:element name="M" type="tns:Amount" minOccurs="0"/>
    <xsd:element name="Cur" type="tns:Currency" minOccurs="0"/>
    <xsd:element name="At" type="xsd:dateTime" minOccurs="0"/>
    <xsd:element name="On" type="xsd:date" minOccurs="0"/>
    <xsd:element name="F" type="xsd:boolean" minOccurs="0"/>
  </xsd:sequence></xsd:complexType>
  <xsd:complexType name="Pick"><xsd:choice>
    <xsd:element name="X" type="xsd:string"/><xsd:element name="Y" type="xsd:int"/>
  </xsd:choice></xsd:complexType>
  <xsd:complexType name="Any"><xsd:all>
    <xsd:element name="P" type="xsd:string"/><xsd:element name="Q" type="xsd:string"/>
  </xsd:all></xsd:complexType>
  <xsd:complexType name="SObject"><xsd:sequence><xsd:any processContents="lax" minOccurs="0" maxOccurs="unbounded"/></xsd:sequence></xsd:complexType>
  <xsd:element name="Rec" type="tns:Rec"/>
  <xsd:element name="Pick" type="tns:Pick"/>
  <xsd:element name="All" type="tns:Any"/>
  <xsd:element name="SObject" type="tns:SObject"/>
`;
const complex = declarations(COMPLEX);
const unqualified = declarations(COMPLEX, 'elementFormDefault="unqualified"');

function readRec(inner: string, name = 'Rec', decls = complex, ns = `xmlns="${TNS}"`): { value: unknown; problems: string[] } {
  const element = readXml(`<${name} ${ns} xmlns:xsi="${XSI}" xmlns:o="urn:other">${inner}</${name}>`);
  const problems: Problem[] = [];
  const value = readComplex(element, complexOf(decls.get(name)), name, problems);
  return { value, problems: problems.map((p) => `${p.path} ${p.text}`) };
}

describe('readComplex', () => {
  it('reads a sequence into a plain object: repeated elements as arrays, optional ones absent, nil as null', () => {
    expect(readRec('<A>x</A><B xsi:nil="true"/><L><N>1</N></L><L><N>2</N></L><M>1.50</M><F>1</F>')).toEqual({
      value: { A: 'x', B: null, L: [{ N: 1 }, { N: 2 }], M: 1.5, F: true },
      problems: [],
    });
    const { value } = readRec('<A>x</A>');
    expect(value).toEqual({ A: 'x', L: [] });
    expect(Object.keys(value as object)).not.toContain('C');
  });

  it('nil on an element that is not nillable is a problem; nil with content too', () => {
    expect(readRec('<A>x</A><C xsi:nil="true"/>').problems).toEqual(['Rec/C may not be nil (xsi:nil)']);
    expect(readRec('<A>x</A><B xsi:nil="true">5</B>').problems).toEqual(['Rec/B is nil (xsi:nil) but has content']);
    expect(readRec('<A xsi:nil="true"/>').problems).toEqual(['Rec/A may not be nil (xsi:nil)']);
  });

  it('an element out of the sequence order is a problem naming the order', () => {
    expect(readRec('<B>1</B><A>x</A>').problems).toEqual(['Rec/A is out of order: Rec takes A, B, C, L, M, Cur, At, On, F in that order']);
    expect(readRec('<A>x</A><L><N>1</N></L><C>c</C><L><N>2</N></L>').problems).toEqual([
      'Rec/C is out of order: Rec takes A, B, C, L, M, Cur, At, On, F in that order',
    ]);
  });

  it('too many occurrences: one problem, the extra ones not read', () => {
    const r = readRec('<A>x</A><A>y</A><L><N>1</N></L><L><N>2</N></L><L><N>3</N></L><L><N>4</N></L>');
    expect(r.problems).toEqual(['Rec/A appears more than 1 time', 'Rec/L appears more than 2 times']);
    expect((r.value as { A: string; L: unknown[] }).A).toBe('x');
    expect((r.value as { L: unknown[] }).L).toHaveLength(2);
  });

  it('a required element missing is a problem; every problem is collected with its path, none stops the rest', () => {
    expect(readRec('').problems).toEqual(['Rec/A is required']);
    expect(readRec('<A>x</A><B>no</B><L><N>1</N></L><L><N>two</N><Z/></L><Cur>CHF</Cur><Unknown/>').problems).toEqual([
      'Rec/B must be an integer, not "no"',
      'Rec/L[2]/N must be an integer, not "two"',
      'Rec/L[2]/Z is not an element of Line; expected N',
      'Rec/Cur must be one of EUR, USD, not "CHF"',
      'Rec/Unknown is not an element of Rec; expected A, B, C, L, M, Cur, At, On, F',
    ]);
  });

  it('text in a complex element, and elements in a simple one, are problems', () => {
    expect(readRec('stray<A>x</A>').problems).toEqual(['Rec holds text, but Rec has only elements']);
    expect(readRec('<A><i>x</i></A>').problems).toEqual(['Rec/A holds elements, but is a xsd:string']);
  });

  it('qualified schema: a child in no namespace or another namespace is a problem saying which it should be in', () => {
    expect(readRec('<A xmlns="">x</A>').problems).toEqual([`Rec/A is in namespace none; expected "${TNS}"`, 'Rec/A is required']);
    expect(readRec('<o:A>x</o:A>').problems).toEqual([`Rec/A is in namespace "urn:other"; expected "${TNS}"`, 'Rec/A is required']);
  });

  it('unqualified schema: children are in no namespace', () => {
    expect(readRec('<A xmlns="">x</A>', 'Rec', unqualified).value).toEqual({ A: 'x', L: [] });
    expect(readRec('<A>x</A>', 'Rec', unqualified).problems).toEqual([`Rec/A is in namespace "${TNS}"; expected no namespace`, 'Rec/A is required']);
  });

  it('choice: any branch, none required; all: any order, each required', () => {
    expect(readRec('<Y>3</Y>', 'Pick')).toEqual({ value: { Y: 3 }, problems: [] });
    expect(readRec('', 'Pick')).toEqual({ value: {}, problems: [] });
    expect(readRec('<Q>q</Q><P>p</P>', 'All')).toEqual({ value: { Q: 'q', P: 'p' }, problems: [] });
    expect(readRec('<Q>q</Q>', 'All').problems).toEqual(['All/P is required']);
  });

  it('an open element (xsd:any) becomes { type, fields }: the xsi:type local name, fields by local name, nil as null', () => {
    const r = readRec(
      '<o:Name>Acme</o:Name><Phone xsi:nil="true"/><Nested>a<b>b</b>c<d>d</d></Nested><Id>001</Id>',
      'SObject',
      complex,
      `xmlns="${TNS}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com" xsi:type="sf:Account"`,
    );
    expect(r).toEqual({ value: { type: 'Account', fields: { Name: 'Acme', Phone: null, Nested: 'acbd', Id: '001' } }, problems: [] });
    expect(readRec('<Id>1</Id>', 'SObject').value).toEqual({ type: null, fields: { Id: '1' } });
    // a field named __proto__ is a field like any other, and the record keeps its prototype
    const hostile = readRec('<__proto__ xsi:nil="true"/><Id>2</Id>', 'SObject').value as { fields: Record<string, unknown> };
    expect(Object.getPrototypeOf(hostile.fields)).toBe(Object.prototype);
    expect(Object.keys(hostile.fields)).toEqual(['__proto__', 'Id']);
  });

  it('readElement: nil, simple and complex', () => {
    const decl = complex.get('Rec')!;
    const problems: Problem[] = [];
    expect(readElement(readXml(`<Rec xmlns:xsi="${XSI}" xsi:nil="true"/>`), decl, 'Rec', problems)).toBeNull();
    expect(problems).toEqual([{ path: 'Rec', text: 'may not be nil (xsi:nil)' }]);
  });
});

describe('writeContent', () => {
  const rec = () => complexOf(complex.get('Rec'));

  function write(value: Record<string, unknown>): { xml: string; problems: string[] } {
    const problems: Problem[] = [];
    const xml = writeContent(value, rec(), 'Rec', problems);
    return { xml, problems: problems.map((p) => `${p.path} ${p.text}`) };
  }

  it('writes in schema order whatever the object order; decimals with the fraction digits; nil; lists; dates from epoch ms', () => {
    const at = Date.UTC(2026, 2, 1, 9, 30, 0, 5);
    const { xml, problems } = write({ F: false, On: at, At: at, Cur: 'USD', M: 12.5, L: [{ N: 1 }, { N: 2 }], B: null, A: 'a<&>"b' });
    expect(problems).toEqual([]);
    expect(xml).toBe(
      '<A>a&lt;&amp;&gt;&quot;b</A><B xsi:nil="true"/><L><N>1</N></L><L><N>2</N></L><M>12.50</M><Cur>USD</Cur>' +
        '<At>2026-03-01T09:30:00.005Z</At><On>2026-03-01</On><F>false</F>',
    );
  });

  it('what it writes reads back as the same value', () => {
    const value = { A: ' spaced & <marked> ', B: null, L: [{ N: -3 }], M: 0.1, Cur: 'EUR', At: '2026-03-01T09:30:00+02:00', On: '2024-02-29', F: true };
    const { xml, problems } = write(value);
    expect(problems).toEqual([]);
    const back: Problem[] = [];
    const read = readComplex(readXml(`<Rec xmlns="${TNS}" xmlns:xsi="${XSI}">${xml}</Rec>`), rec(), 'Rec', back);
    expect(back).toEqual([]);
    expect(read).toEqual(value);
  });

  it('notes what breaks the schema, and still writes it', () => {
    expect(write({}).problems).toEqual(['Rec/A is required but was not written']);
    const r = write({ A: 'x', C: null, Cur: 'CHF', M: 1e21, L: [{}, { N: 1 }, { N: 2 }], F: 'maybe' });
    expect(r.problems).toEqual([
      'Rec/C is nil, but may not be',
      'Rec/L appears 3 times, more than 2',
      'Rec/L[1]/N is required but was not written',
      // 1e21.toFixed(2) is "1e+21": the writer's own check catches it
      expect.stringMatching(/^Rec\/M must be a decimal number, not "1e\+21"/),
      'Rec/Cur must be one of EUR, USD, not "CHF"',
      'Rec/F must be true or false, not "maybe"',
    ]);
    expect(r.xml).toContain('<Cur>CHF</Cur>');
    expect(r.xml).toContain('<C xsi:nil="true"/>');
  });

  it('a list where one element may appear, and a scalar where a complex element belongs, are noted', () => {
    expect(write({ A: ['x', 'y'] }).problems).toEqual(['Rec/A is a list, but may appear once', 'Rec/A appears 2 times, more than 1']);
    expect(write({ A: 'x', L: ['flat'] }).problems).toEqual(['Rec/L[1] is string, but Line has elements']);
  });

  it('formatSimple: decimals to the type\'s fraction digits, booleans, epoch ms as dates and dateTimes', () => {
    const amount = { kind: 'simple', name: 'Amount', base: 'decimal', fractionDigits: 2 } as const;
    expect(formatSimple(3, amount)).toBe('3.00');
    expect(formatSimple(0.1 + 0.2, amount)).toBe('0.30');
    expect(formatSimple('7.5', amount)).toBe('7.5');
    expect(formatSimple(3.25, { kind: 'simple', name: 'd', base: 'decimal' })).toBe('3.25');
    expect(formatSimple(0, { kind: 'simple', name: 'dt', base: 'dateTime' })).toBe('1970-01-01T00:00:00.000Z');
    expect(formatSimple(0, { kind: 'simple', name: 'd', base: 'date' })).toBe('1970-01-01');
    expect(formatSimple(true, { kind: 'simple', name: 'b', base: 'boolean' })).toBe('true');
  });
});
