/**
 * wsdl.ts: contracts/erp.wsdl loads with its seven operations; every construct the engine cannot honour is
 * refused with a message naming it; renderWsdl sets the address (escaped) and derives a SOAP 1.2 variant with only
 * soap12 binding elements. And contracts/erp.wsdl checked, independently of wsdl.ts, against the WSDL2Apex rules
 * of SALESFORCE.md §7, so the file Salesforce imports stays importable.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadWsdl, parseWsdl, renderWsdl, WSDL_NS, WSDL_SOAP11_NS, WSDL_SOAP12_NS, XSD_NS } from '../../../src/protocols/soap/wsdl.js';
import { readXml, type XmlElement } from '../../../src/protocols/xml/xml-reader.js';
import { binding, parse, TNS, wsdlText, type WsdlParts } from '../../fixtures/soap/wsdl-text.js';

const ERP_WSDL = fileURLToPath(new URL('../../../contracts/erp.wsdl', import.meta.url));
const ERP_TEXT = readFileSync(ERP_WSDL, 'utf8');
const ERP_NS = 'urn:understudy:erp:v1';
const OPERATIONS = ['GetCustomer', 'UpsertCustomer', 'CreateSalesOrder', 'GetSalesOrder', 'CancelSalesOrder', 'GetInvoice', 'ListInvoices'];

const attr = (e: XmlElement, name: string) => e.attrs.find((a) => a.uri === '' && a.local === name)?.value;
function* walk(e: XmlElement): Generator<XmlElement> {
  yield e;
  for (const c of e.children) yield* walk(c);
}
const all = (root: XmlElement, uri: string, local?: string) => [...walk(root)].filter((e) => e.uri === uri && (local === undefined || e.local === local));

describe('contracts/erp.wsdl', () => {
  const wsdl = loadWsdl(ERP_WSDL);

  it('loads with its seven operations, each with its soapAction and wrapped request and response elements', () => {
    expect(wsdl.targetNamespace).toBe(ERP_NS);
    expect([...wsdl.operations.keys()]).toEqual(OPERATIONS);
    for (const name of OPERATIONS) {
      const op = wsdl.operations.get(name)!;
      expect(op.soapAction).toBe(`${ERP_NS}/${name}`);
      expect(op.input).toMatchObject({ name, uri: ERP_NS, minOccurs: 1, maxOccurs: 1 });
      expect(op.output).toMatchObject({ name: `${name}Response`, uri: ERP_NS });
      expect(op.input.type.kind).toBe('complex');
      expect(wsdl.byRequestElement.get(`${ERP_NS} ${name}`)).toBe(op);
    }
    expect(wsdl.address).toBe('http://localhost:8080/erp/soap');
    expect(wsdl.elements.get('ErpFault')?.uri).toBe(ERP_NS);
  });

  it('its request types are what the engine validates: qualified children, facets, occurrences', () => {
    const create = wsdl.operations.get('CreateSalesOrder')!.input.type;
    expect(create.order).toBe('sequence');
    expect(create.elements.map((e) => [e.name, e.uri, e.minOccurs, e.maxOccurs, e.nillable])).toEqual([
      ['ExternalOrderNumber', ERP_NS, 1, 1, false],
      ['CustomerId', ERP_NS, 1, 1, false],
      ['RequestedDeliveryDate', ERP_NS, 0, 1, true],
      ['Line', ERP_NS, 1, 100, false],
    ]);
    const customerId = create.byLocal.get('CustomerId')!.type;
    expect(customerId).toMatchObject({ kind: 'simple', base: 'string', name: 'CustomerIdType' });
    const amount = wsdl.operations.get('UpsertCustomer')!.input.type.byLocal.get('CreditLimit')!.type;
    expect(amount).toMatchObject({ base: 'decimal', minInclusive: 0, totalDigits: 15, fractionDigits: 2 });
  });

  it('loadWsdl names the file in its errors', () => {
    expect(() => loadWsdl(fileURLToPath(new URL('../../fixtures/vendor.openapi.yaml', import.meta.url)))).toThrow(/vendor\.openapi\.yaml: /);
  });
});

describe('parseWsdl: the test WSDL itself loads', () => {
  it('one operation Op', () => {
    const w = parse();
    expect([...w.operations.keys()]).toEqual(['Op']);
    expect(w.operations.get('Op')!.soapAction).toBe(`${TNS}/Op`);
  });

  it('an xsd:import without schemaLocation of a schema declared earlier in the same wsdl:types loads', () => {
    const other = `<xsd:schema targetNamespace="urn:other" elementFormDefault="qualified"><xsd:complexType name="Thing"><xsd:sequence><xsd:element name="Z" type="xsd:string"/></xsd:sequence></xsd:complexType></xsd:schema>`;
    const parts: WsdlParts = { schema: '<xsd:import namespace="urn:other"/>', request: '<xsd:element name="T" type="o:Thing"/>' };
    const text = (order: 'before' | 'after') => {
      const t = wsdlText({ ...parts, moreTypes: order === 'after' ? other : '' }).replace('xmlns:tns=', 'xmlns:o="urn:other" xmlns:tns=');
      return order === 'before' ? t.replace('<wsdl:types>', `<wsdl:types>${other}`) : t;
    };
    const w = parseWsdl('t.wsdl', text('before'));
    expect(w.operations.get('Op')!.input.type.byLocal.get('T')!.type).toMatchObject({ kind: 'complex', name: 'Thing' });
  });

  // Regression: an element whose type lives in a later xsd:schema of the same wsdl:types once failed to resolve (WSDL2Apex allows it).
  it('an xsd:import of a schema declared later in the same wsdl:types loads', () => {
    const other = `<xsd:schema targetNamespace="urn:other" elementFormDefault="qualified"><xsd:complexType name="Thing"><xsd:sequence><xsd:element name="Z" type="xsd:string"/></xsd:sequence></xsd:complexType></xsd:schema>`;
    const text = wsdlText({ schema: '<xsd:import namespace="urn:other"/>', request: '<xsd:element name="T" type="o:Thing"/>', moreTypes: other }).replace(
      'xmlns:tns=',
      'xmlns:o="urn:other" xmlns:tns=',
    );
    expect(parseWsdl('t.wsdl', text).operations.size).toBe(1);
  });

  it('a recursive type, element refs, choice and all load', () => {
    const w = parse({
      schema: `<xsd:complexType name="Node"><xsd:sequence><xsd:element name="V" type="xsd:int"/><xsd:element name="Kid" type="tns:Node" minOccurs="0" maxOccurs="unbounded"/></xsd:sequence></xsd:complexType>
        <xsd:element name="Shared" type="xsd:string"/>`,
      request: '<xsd:element name="N" type="tns:Node"/><xsd:element ref="tns:Shared" minOccurs="0"/>',
    });
    const node = w.operations.get('Op')!.input.type.byLocal.get('N')!.type;
    expect(node.kind === 'complex' && node.byLocal.get('Kid')!.type).toBe(node);
    expect(w.operations.get('Op')!.input.type.byLocal.get('Shared')).toMatchObject({ minOccurs: 0, maxOccurs: 1 });
  });
});

describe('parseWsdl refuses, naming the construct', () => {
  const twoParts = `<wsdl:message name="OpRequest"><wsdl:part name="a" element="tns:Op"/><wsdl:part name="b" element="tns:Op"/></wsdl:message>
    <wsdl:message name="OpResponse"><wsdl:part name="parameters" element="tns:OpResponse"/></wsdl:message>`;
  const typePart = `<wsdl:message name="OpRequest"><wsdl:part name="a" type="xsd:string"/></wsdl:message>
    <wsdl:message name="OpResponse"><wsdl:part name="parameters" element="tns:OpResponse"/></wsdl:message>`;
  const otherInput = `<wsdl:message name="OpRequest"><wsdl:part name="parameters" element="tns:Other"/></wsdl:message>
    <wsdl:message name="OpResponse"><wsdl:part name="parameters" element="tns:OpResponse"/></wsdl:message>`;
  const pt = '<wsdl:portType name="PT"><wsdl:operation name="Op"><wsdl:input message="tns:OpRequest"/><wsdl:output message="tns:OpResponse"/></wsdl:operation></wsdl:portType>';
  const port = (name: string) => `<wsdl:port name="${name}" binding="tns:B"><soap:address location="http://localhost/${name}"/></wsdl:port>`;
  const flatBase = '<xsd:complexType name="Base"><xsd:sequence><xsd:element name="Id" type="xsd:string"/></xsd:sequence></xsd:complexType>';

  const cases: Array<[string, WsdlParts | string, RegExp]> = [
    ['rpc style on the binding', { binding: binding({ style: 'rpc' }) }, /binding style rpc is not supported: only document\/literal wrapped/],
    ['rpc style on an operation', { binding: binding({ opStyle: 'rpc' }) }, /operation Op: style rpc is not supported/],
    ['encoded use', { binding: binding({ use: 'encoded' }) }, /operation Op: use="encoded" is not supported: only literal/],
    ['two parts in a message', { messages: twoParts }, /message OpRequest has 2 parts; document\/literal wrapped takes exactly one/],
    ['a type= part', { messages: typePart }, /the part of message OpRequest has no element= \(type= parts are rpc style\)/],
    ['wsdl:import', { extra: '<wsdl:import namespace="urn:x" location="http://example.com/other.wsdl"/>' }, /wsdl:import is not supported: the WSDL must be self-contained/],
    ['xsd:include', { schema: '<xsd:include schemaLocation="types.xsd"/>' }, /xsd:include is not supported: the WSDL must be self-contained/],
    ['xsd:redefine', { schema: '<xsd:redefine schemaLocation="types.xsd"/>' }, /xsd:redefine is not supported/],
    ['xsd:import with schemaLocation', { schema: '<xsd:import namespace="urn:x" schemaLocation="http://example.com/x.xsd"/>' }, /xsd:import from http:\/\/example\.com\/x\.xsd: external schema imports are not supported/],
    [
      'complexContent extension',
      { schema: `${flatBase}<xsd:complexType name="Derived"><xsd:complexContent><xsd:extension base="tns:Base"><xsd:sequence><xsd:element name="More" type="xsd:string"/></xsd:sequence></xsd:extension></xsd:complexContent></xsd:complexType>`, request: '<xsd:element name="D" type="tns:Derived"/>' },
      /Derived: xsd:complexContent \(type extension or restriction\) is not supported: use flat types/,
    ],
    [
      'simpleContent',
      { schema: '<xsd:complexType name="Money"><xsd:simpleContent><xsd:extension base="xsd:decimal"/></xsd:simpleContent></xsd:complexType>', request: '<xsd:element name="M" type="tns:Money"/>' },
      /Money: xsd:simpleContent .* is not supported/,
    ],
    ['xsd:anyType', { request: '<xsd:element name="X" type="xsd:anyType"/>' }, /element X: xsd:anyType is not supported/],
    ['an element without a type (anyType implied)', { request: '<xsd:element name="X"/>' }, /element X has neither a type nor an inline type \(xsd:anyType is not supported\)/],
    ['attributes', { schema: '<xsd:complexType name="T"><xsd:sequence><xsd:element name="V" type="xsd:string"/></xsd:sequence><xsd:attribute name="a" type="xsd:string"/></xsd:complexType>', request: '<xsd:element name="T" type="tns:T"/>' }, /T: attributes are not supported/],
    ['anyAttribute', { schema: '<xsd:complexType name="T"><xsd:sequence/><xsd:anyAttribute/></xsd:complexType>', request: '<xsd:element name="T" type="tns:T"/>' }, /T: attributes are not supported/],
    ['two bindings', { binding: binding() + binding({ name: 'B2' }) }, /expected one portType, one binding and one service \(found 1, 2, 1\)/],
    ['two portTypes', { portType: pt + pt.replace('name="PT"', 'name="PT2"') }, /\(found 2, 1, 1\)/],
    ['two services', { service: `<wsdl:service name="S">${port('P')}</wsdl:service><wsdl:service name="S2">${port('P')}</wsdl:service>` }, /\(found 1, 1, 2\)/],
    ['two ports', { service: `<wsdl:service name="S">${port('P')}${port('P2')}</wsdl:service>` }, /the service has 2 ports; expected one/],
    ['a port without soap:address', { service: '<wsdl:service name="S"><wsdl:port name="P" binding="tns:B"/></wsdl:service>' }, /the port has no soap:address location/],
    ['an input element not named after the operation', { messages: otherInput, schema: '<xsd:element name="Other"><xsd:complexType><xsd:sequence/></xsd:complexType></xsd:element>' }, /operation Op: its input element is Other; wrapped style names it after the operation/],
    ['a SOAP 1.2 binding only', { binding: binding().replace(/<soap:binding /, '<s12:binding xmlns:s12="http://schemas.xmlsoap.org/wsdl/soap12/" ') }, /the binding is not a SOAP 1\.1 binding/],
    ['a one-way operation', { portType: '<wsdl:portType name="PT"><wsdl:operation name="Op"><wsdl:input message="tns:OpRequest"/></wsdl:operation></wsdl:portType>' }, /operation Op has no output \(one-way and notification operations are not supported\)/],
    ['an operation missing from the binding', { binding: binding({ ops: [] }) }, /operation Op is not in the binding/],
    ['a non-wrapped input (a simple element)', { messages: otherInput, schema: '<xsd:element name="Other" type="xsd:string"/>' }, /the input element Other is not a complexType/],
    ['an undefined message', { portType: pt.replace('tns:OpRequest', 'tns:Nope') }, /operation Op: message Nope is not defined/],
    ['an undeclared element', { messages: otherInput }, /element \{urn:test:v1\}Other is not declared/],
    ['an undeclared type', { request: '<xsd:element name="X" type="tns:Nope"/>' }, /type \{urn:test:v1\}Nope is not declared/],
    ['an undeclared prefix', { request: '<xsd:element name="X" type="nope:T"/>' }, /the prefix "nope" of nope:T is not declared/],
    ['an unsupported built-in type', { request: '<xsd:element name="X" type="xsd:gDay"/>' }, /xsd:gDay is not a supported type/],
    ['a list simpleType', { schema: '<xsd:simpleType name="L"><xsd:list itemType="xsd:int"/></xsd:simpleType>', request: '<xsd:element name="X" type="tns:L"/>' }, /simpleType L: only xsd:restriction is supported \(no list or union\)/],
    ['an unsupported facet', { schema: '<xsd:simpleType name="F"><xsd:restriction base="xsd:string"><xsd:assertion test="true()"/></xsd:restriction></xsd:simpleType>', request: '<xsd:element name="X" type="tns:F"/>' }, /simpleType F: facet xsd:assertion is not supported/],
    ['an XSD-only pattern', { schema: '<xsd:simpleType name="P"><xsd:restriction base="xsd:string"><xsd:pattern value="\\i\\c*"/></xsd:restriction></xsd:simpleType>', request: '<xsd:element name="X" type="tns:P"/>' }, /the pattern \\i\\c\* uses XSD-only regex syntax/],
    ['an invalid pattern', { schema: '<xsd:simpleType name="P"><xsd:restriction base="xsd:string"><xsd:pattern value="[a-"/></xsd:restriction></xsd:simpleType>', request: '<xsd:element name="X" type="tns:P"/>' }, /the pattern \[a- is not a valid regular expression/],
    ['xsd:any beside named elements', { request: '<xsd:element name="X" type="xsd:string"/><xsd:any/>' }, /Op: xsd:any beside named elements is not supported/],
    ['a model group reference', { request: '<xsd:group ref="tns:G"/>' }, /Op: xsd:group inside xsd:sequence is not supported/],
    ['an xsd:attributeGroup at the top of a schema', { schema: '<xsd:attributeGroup name="G"/>' }, /xsd:attributeGroup at the top of a schema is not supported/],
    ['a document that is not a WSDL', '<definitions xmlns="urn:not-wsdl"/>', /not a WSDL 1\.1 document \(expected wsdl:definitions\)/],
    ['a WSDL with a DOCTYPE', '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/">&x;</wsdl:definitions>', /a DOCTYPE is not allowed/],
  ];

  it.each(cases)('%s', (_, parts, message) => {
    const text = typeof parts === 'string' ? parts : wsdlText(parts);
    expect(() => parseWsdl('t.wsdl', text)).toThrow(message);
  });

  // Regression: named types no element used were once never checked, so an unsupported construct in one loaded silently.
  it('an unreferenced complexType with complexContent extension is refused too', () => {
    const schema = `${flatBase}<xsd:complexType name="Derived"><xsd:complexContent><xsd:extension base="tns:Base"/></xsd:complexContent></xsd:complexType>`;
    expect(() => parse({ schema })).toThrow(/complexContent/);
  });
});

describe('renderWsdl', () => {
  const wsdl = loadWsdl(ERP_WSDL);
  const location = (text: string, ns = WSDL_SOAP11_NS) => {
    const addresses = all(readXml(text), ns, 'address');
    expect(addresses).toHaveLength(1);
    return attr(addresses[0], 'location');
  };

  it('sets soap:address to the caller\'s location and changes nothing else', () => {
    const out = renderWsdl(wsdl, 'https://erp.example.com:8443/w/uat/erp/soap', '1.1');
    expect(location(out)).toBe('https://erp.example.com:8443/w/uat/erp/soap');
    expect(out.replace('https://erp.example.com:8443/w/uat/erp/soap', wsdl.address)).toBe(ERP_TEXT);
    // and it still loads as the same service
    const again = parseWsdl('again', out);
    expect([...again.operations.keys()]).toEqual(OPERATIONS);
    expect(again.address).toBe('https://erp.example.com:8443/w/uat/erp/soap');
  });

  it('escapes a hostile location: quotes, angle brackets and ampersands stay inside the attribute', () => {
    const hostile = 'http://h/x"/><wsdl:import location="http://evil/a.wsdl"/><x a="&amp;&lt;';
    const out = renderWsdl(wsdl, hostile, '1.1');
    expect(location(out)).toBe(hostile);
    const root = readXml(out);
    expect(all(root, WSDL_NS, 'import')).toHaveLength(0);
    expect(() => parseWsdl('again', out)).not.toThrow();
  });

  // Regression: the location was once a String.replace pattern, so $& or $' in it garbled the document.
  it('writes a location holding $& or $\' as it is', () => {
    for (const loc of ['http://h/a$&b', "http://h/a$'b", 'http://h/a$$b']) expect(location(renderWsdl(wsdl, loc, '1.1'))).toBe(loc);
  });

  it('the SOAP 1.2 variant has only soap12 binding elements, the same operations and soapActions, one binding, the address set', () => {
    const out = renderWsdl(wsdl, 'http://127.0.0.1:9/erp/soap', '1.2');
    const root = readXml(out);
    expect(all(root, WSDL_SOAP11_NS)).toEqual([]);
    expect(out).not.toContain(WSDL_SOAP11_NS);
    expect(root.namespaces).toMatchObject({ soap12: WSDL_SOAP12_NS });
    expect(all(root, WSDL_NS, 'binding')).toHaveLength(1);
    const b = all(root, WSDL_SOAP12_NS, 'binding');
    expect(b).toHaveLength(1);
    expect(attr(b[0], 'style')).toBe('document');
    expect(attr(b[0], 'transport')).toBe('http://schemas.xmlsoap.org/soap/http');
    const ops = all(root, WSDL_SOAP12_NS, 'operation');
    expect(ops.map((o) => attr(o, 'soapAction'))).toEqual(OPERATIONS.map((o) => `${ERP_NS}/${o}`));
    expect(all(root, WSDL_SOAP12_NS, 'body')).toHaveLength(OPERATIONS.length * 2);
    expect(all(root, WSDL_SOAP12_NS, 'body').every((e) => attr(e, 'use') === 'literal')).toBe(true);
    expect(all(root, WSDL_SOAP12_NS, 'fault')).toHaveLength(OPERATIONS.length);
    expect(location(out, WSDL_SOAP12_NS)).toBe('http://127.0.0.1:9/erp/soap');
    // the schema is untouched
    expect(all(root, XSD_NS, 'schema')).toHaveLength(1);
    expect(out.slice(out.indexOf('<wsdl:types>'), out.indexOf('</wsdl:types>'))).toBe(ERP_TEXT.slice(ERP_TEXT.indexOf('<wsdl:types>'), ERP_TEXT.indexOf('</wsdl:types>')));
    // parseWsdl needs a SOAP 1.1 binding, so it refuses the variant: the 1.1 document is the one that is loaded
    expect(() => parseWsdl('v12', out)).toThrow(/not a SOAP 1\.1 binding/);
  });

  it('the SOAP 1.2 variant of the test WSDL too (its own prefix)', () => {
    const text = wsdlText().replace(/xmlns:soap=/, 'xmlns:s11=').replace(/<soap:/g, '<s11:');
    const out = renderWsdl(parseWsdl('t', text), 'http://x/y', '1.2');
    const root = readXml(out);
    expect(all(root, WSDL_SOAP11_NS)).toEqual([]);
    expect(all(root, WSDL_SOAP12_NS).map((e) => e.local).sort()).toEqual(['address', 'binding', 'body', 'body', 'operation']);
  });
});

// ------------------------------------------------------------------------------- WSDL2Apex (SALESFORCE.md §7)

/** Apex reserved words (the Apex developer guide's list), compared case-insensitively */
const APEX_RESERVED = new Set(
  `abstract activate and any array as asc autonomous begin bigdecimal blob boolean break bulk by byte case cast catch char
  class collect commit const continue currency date datetime decimal default delete desc do double else end enum exception
  exit export extends false final finally float for from global goto group having hint if implements import in inner insert
  instanceof int integer interface into join like limit list long loop map merge new not null nulls number object of on or
  outer override package parallel pragma private protected public retrieve return rollback select set short sobject sort
  static string super switch synchronized system testmethod then this throw time transaction trigger true try type undelete
  update upsert using virtual void webservice when where while`.split(/\s+/),
);

/** the xsd types WSDL2Apex maps (SALESFORCE.md §7 Types) */
const APEX_XSD_TYPES = new Set(
  'anyURI boolean date dateTime double float int integer language long Name NCName nonNegativeInteger NMTOKEN NMTOKENS normalizedString NOTATION positiveInteger QName short string time token unsignedInt unsignedLong unsignedShort decimal base64Binary'.split(' '),
);

describe('contracts/erp.wsdl follows the WSDL2Apex rules (SALESFORCE.md §7)', () => {
  const root = readXml(ERP_TEXT, { maxDepth: 64, maxElements: 1_000_000, maxAttributes: 64, maxText: 1_000_000 });
  const top = (local: string) => root.children.filter((c) => c.uri === WSDL_NS && c.local === local);
  const xsd = (local: string) => all(root, XSD_NS, local);

  it('is small enough: under 1 MB', () => {
    expect(Buffer.byteLength(ERP_TEXT)).toBeLessThan(1_000_000);
  });

  it('one portType, one binding (SOAP 1.1, document, the HTTP transport), one service with one port and a soap:address', () => {
    expect(root).toMatchObject({ uri: WSDL_NS, local: 'definitions' });
    expect(top('portType')).toHaveLength(1);
    expect(top('binding')).toHaveLength(1);
    expect(top('service')).toHaveLength(1);
    const ports = top('service')[0].children.filter((c) => c.uri === WSDL_NS && c.local === 'port');
    expect(ports).toHaveLength(1);
    expect(all(ports[0], WSDL_SOAP11_NS, 'address')).toHaveLength(1);
    const soapBinding = all(top('binding')[0], WSDL_SOAP11_NS, 'binding');
    expect(soapBinding).toHaveLength(1);
    expect(attr(soapBinding[0], 'style')).toBe('document');
    expect(attr(soapBinding[0], 'transport')).toBe('http://schemas.xmlsoap.org/soap/http');
    expect(all(root, WSDL_SOAP12_NS)).toEqual([]);
  });

  it('document/literal: no rpc style, no encoded use anywhere', () => {
    for (const op of all(root, WSDL_SOAP11_NS, 'operation')) expect(attr(op, 'style') ?? 'document').toBe('document');
    for (const e of [...all(root, WSDL_SOAP11_NS, 'body'), ...all(root, WSDL_SOAP11_NS, 'fault'), ...all(root, WSDL_SOAP11_NS, 'header')]) {
      expect(attr(e, 'use')).toBe('literal');
    }
  });

  it('wrapped: every message has exactly one part, with element=; each operation\'s input element is named after it', () => {
    const messages = top('message');
    expect(messages.length).toBeGreaterThan(0);
    for (const m of messages) {
      const parts = m.children.filter((c) => c.uri === WSDL_NS && c.local === 'part');
      expect(parts, attr(m, 'name')).toHaveLength(1);
      expect(attr(parts[0], 'element'), attr(m, 'name')).toMatch(/^tns:\w+$/);
      expect(attr(parts[0], 'type')).toBeUndefined();
    }
    const partElement = new Map(messages.map((m) => [attr(m, 'name'), attr(m.children[0], 'element')]));
    for (const op of top('portType')[0].children) {
      const input = op.children.find((c) => c.local === 'input')!;
      expect(partElement.get(attr(input, 'message')!.replace('tns:', ''))).toBe(`tns:${attr(op, 'name')}`);
    }
  });

  it('self-contained and flat: no wsdl:import, xsd:include, xsd:import, redefine, extension, restriction of complex content, any, anyType, attributes', () => {
    expect(all(root, WSDL_NS, 'import')).toEqual([]);
    for (const local of ['include', 'import', 'redefine', 'extension', 'complexContent', 'simpleContent', 'any', 'anyAttribute', 'attribute', 'attributeGroup', 'group', 'list', 'union']) {
      expect(xsd(local), `xsd:${local}`).toEqual([]);
    }
    // outside comments (the header comment names the rule)
    expect(ERP_TEXT.replace(/<!--[\s\S]*?-->/g, '')).not.toMatch(/anyType/);
  });

  it('every type= and base= is a type of the schema or an xsd type WSDL2Apex maps; every element has a type', () => {
    const declared = new Set([...xsd('complexType'), ...xsd('simpleType')].map((t) => attr(t, 'name')).filter(Boolean));
    for (const e of [...xsd('element'), ...xsd('restriction')]) {
      const ref = attr(e, 'type') ?? attr(e, 'base');
      if (ref === undefined) {
        expect(e.children.some((c) => c.uri === XSD_NS && c.local === 'complexType'), `${attr(e, 'name')} has a type`).toBe(true);
        continue;
      }
      const [prefix, local] = ref.split(':');
      if (prefix === 'xsd') expect(APEX_XSD_TYPES.has(local), ref).toBe(true);
      else expect(prefix === 'tns' && declared.has(local), ref).toBe(true);
    }
  });

  it('no element, type or operation name is an Apex reserved word', () => {
    const names = [
      ...xsd('element').map((e) => attr(e, 'name')),
      ...xsd('complexType').map((e) => attr(e, 'name')),
      ...xsd('simpleType').map((e) => attr(e, 'name')),
      ...top('portType')[0].children.map((e) => attr(e, 'name')),
    ].filter((n): n is string => n !== undefined);
    expect(names.length).toBeGreaterThan(50);
    expect(names.filter((n) => APEX_RESERVED.has(n.toLowerCase()))).toEqual([]);
    // names WSDL2Apex would have to mangle (leading non-letter, illegal characters, trailing underscore)
    expect(names.filter((n) => !/^[A-Za-z][A-Za-z0-9]*$/.test(n))).toEqual([]);
  });

  it('the reserved-word check would catch one (case-insensitively)', () => {
    for (const n of ['Date', 'Currency', 'Number', 'Limit', 'Type', 'Object', 'SYSTEM', 'long']) expect(APEX_RESERVED.has(n.toLowerCase()), n).toBe(true);
    expect(APEX_RESERVED.has('customerid')).toBe(false);
  });

  it('namespaces and soapActions under urn:understudy:erp:v1, elements qualified', () => {
    expect(attr(root, 'targetNamespace')).toBe(ERP_NS);
    const schemas = xsd('schema');
    expect(schemas).toHaveLength(1);
    expect(attr(schemas[0], 'targetNamespace')).toBe(ERP_NS);
    expect(attr(schemas[0], 'elementFormDefault')).toBe('qualified');
    for (const op of all(root, WSDL_SOAP11_NS, 'operation')) expect(attr(op, 'soapAction')).toMatch(/^urn:understudy:erp:v1\//);
    const uris = new Set([...walk(root)].flatMap((e) => Object.values(e.namespaces ?? {})));
    expect([...uris].filter((u) => u.startsWith('urn:'))).toEqual([ERP_NS]);
  });

  it('says at the top which rules it follows', () => {
    const head = ERP_TEXT.slice(0, ERP_TEXT.indexOf('<wsdl:definitions'));
    expect(head).toMatch(/<!--[\s\S]*WSDL2Apex[\s\S]*document\/literal wrapped[\s\S]*-->/);
  });
});
