/**
 * Loads a WSDL 1.1 document (document/literal wrapped, as WSDL2Apex takes them) into what the SOAP engine needs:
 * the schema's types (xsd.ts), and per operation its request and response elements and soapAction. Refuses, with
 * a message naming the construct, what the engine could not honour faithfully (rpc style, encoded use, several
 * parts, imports and includes, type extension, attributes, anyType) — a WSDL Salesforce can import has none.
 *
 * Also renders the document for GET ?wsdl: the text as written with soap:address set to the caller's URL, and a
 * SOAP 1.2 variant derived by rebinding the one binding to the soap12 namespace (the 1.1 document stays
 * single-binding, which WSDL2Apex requires).
 */
import { readFileSync } from 'node:fs';
import { readXml, type XmlElement } from '../xml/xml-reader.js';
import { SIMPLE_BASES, type ComplexType, type ElementDecl, type SimpleBase, type SimpleType } from './xsd.js';

export const WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/';
export const WSDL_SOAP11_NS = 'http://schemas.xmlsoap.org/wsdl/soap/';
export const WSDL_SOAP12_NS = 'http://schemas.xmlsoap.org/wsdl/soap12/';
export const XSD_NS = 'http://www.w3.org/2001/XMLSchema';

export interface WsdlOperation {
  name: string;
  soapAction: string;
  input: ElementDecl & { type: ComplexType };
  output: ElementDecl & { type: ComplexType };
}

export interface Wsdl {
  file: string;
  text: string;
  targetNamespace: string;
  operations: Map<string, WsdlOperation>;
  /** operations by their request element's namespace and local name (`uri local`) */
  byRequestElement: Map<string, WsdlOperation>;
  /** global elements by local name (in any schema namespace) */
  elements: Map<string, ElementDecl>;
  /** the soap:address location as written, replaced when served */
  address: string;
}

class WsdlError extends Error {}

type Scope = Record<string, string>;

function scopeOf(parent: Scope, element: XmlElement): Scope {
  return element.namespaces ? { ...parent, ...element.namespaces } : parent;
}

function qname(value: string, scope: Scope, where: string): { uri: string; local: string } {
  const colon = value.indexOf(':');
  const prefix = colon < 0 ? '' : value.slice(0, colon);
  const uri = scope[prefix];
  if (uri === undefined) throw new WsdlError(`${where}: the prefix "${prefix}" of ${value} is not declared`);
  return { uri, local: value.slice(colon + 1) };
}

const attr = (e: XmlElement, name: string) => e.attrs.find((a) => a.uri === '' && a.local === name)?.value;
const kids = (e: XmlElement, uri: string, local?: string) => e.children.filter((c) => c.uri === uri && (local === undefined || c.local === local));

export function loadWsdl(file: string): Wsdl {
  const text = readFileSync(file, 'utf8');
  try {
    return parseWsdl(file, text);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

export function parseWsdl(file: string, text: string): Wsdl {
  const root = readXml(text, { maxDepth: 64, maxElements: 1_000_000, maxAttributes: 64, maxText: 1_000_000 });
  if (root.uri !== WSDL_NS || root.local !== 'definitions') throw new WsdlError('not a WSDL 1.1 document (expected wsdl:definitions)');
  const rootScope = scopeOf({ xml: 'http://www.w3.org/XML/1998/namespace' }, root);
  const targetNamespace = attr(root, 'targetNamespace') ?? '';
  if (kids(root, WSDL_NS, 'import').length) throw new WsdlError('wsdl:import is not supported: the WSDL must be self-contained');

  // --- schema types
  const schema = new SchemaIndex();
  for (const types of kids(root, WSDL_NS, 'types')) {
    for (const s of kids(types, XSD_NS, 'schema')) schema.add(s, scopeOf(scopeOf(rootScope, types), s));
  }
  schema.resolveAll();

  // --- messages → element of their one part
  const messages = new Map<string, ElementDecl>();
  for (const m of kids(root, WSDL_NS, 'message')) {
    const parts = kids(m, WSDL_NS, 'part');
    const name = attr(m, 'name')!;
    if (parts.length !== 1) throw new WsdlError(`message ${name} has ${parts.length} parts; document/literal wrapped takes exactly one`);
    const element = attr(parts[0], 'element');
    if (!element) throw new WsdlError(`the part of message ${name} has no element= (type= parts are rpc style)`);
    const q = qname(element, scopeOf(scopeOf(rootScope, m), parts[0]), `message ${name}`);
    messages.set(`${targetNamespace} ${name}`, schema.element(q.uri, q.local, `message ${name}`));
  }

  // --- one portType, one binding, one service with one port
  const portTypes = kids(root, WSDL_NS, 'portType');
  const bindings = kids(root, WSDL_NS, 'binding');
  const services = kids(root, WSDL_NS, 'service');
  if (portTypes.length !== 1 || bindings.length !== 1 || services.length !== 1) {
    throw new WsdlError(`expected one portType, one binding and one service (found ${portTypes.length}, ${bindings.length}, ${services.length})`);
  }
  const binding = bindings[0];
  const soapBinding = kids(binding, WSDL_SOAP11_NS, 'binding')[0];
  if (!soapBinding) throw new WsdlError('the binding is not a SOAP 1.1 binding (soap:binding)');
  if ((attr(soapBinding, 'style') ?? 'document') !== 'document') throw new WsdlError(`binding style ${attr(soapBinding, 'style')} is not supported: only document/literal wrapped`);
  const actions = new Map<string, string>();
  for (const op of kids(binding, WSDL_NS, 'operation')) {
    const soapOp = kids(op, WSDL_SOAP11_NS, 'operation')[0];
    if (soapOp && (attr(soapOp, 'style') ?? 'document') !== 'document') throw new WsdlError(`operation ${attr(op, 'name')}: style ${attr(soapOp, 'style')} is not supported`);
    for (const io of [...kids(op, WSDL_NS, 'input'), ...kids(op, WSDL_NS, 'output')]) {
      for (const body of kids(io, WSDL_SOAP11_NS, 'body')) {
        if ((attr(body, 'use') ?? 'literal') !== 'literal') throw new WsdlError(`operation ${attr(op, 'name')}: use="${attr(body, 'use')}" is not supported: only literal`);
      }
    }
    actions.set(attr(op, 'name')!, soapOp ? (attr(soapOp, 'soapAction') ?? '') : '');
  }
  const ports = kids(services[0], WSDL_NS, 'port');
  if (ports.length !== 1) throw new WsdlError(`the service has ${ports.length} ports; expected one`);
  const address = kids(ports[0], WSDL_SOAP11_NS, 'address')[0];
  if (!address || attr(address, 'location') === undefined) throw new WsdlError('the port has no soap:address location');

  const operations = new Map<string, WsdlOperation>();
  const byRequestElement = new Map<string, WsdlOperation>();
  const ptScope = scopeOf(rootScope, portTypes[0]);
  for (const op of kids(portTypes[0], WSDL_NS, 'operation')) {
    const name = attr(op, 'name')!;
    const message = (io: string) => {
      const m = kids(op, WSDL_NS, io)[0];
      if (!m) throw new WsdlError(`operation ${name} has no ${io} (one-way and notification operations are not supported)`);
      const q = qname(attr(m, 'message') ?? '', scopeOf(scopeOf(ptScope, op), m), `operation ${name}`);
      const decl = messages.get(`${q.uri} ${q.local}`);
      if (!decl) throw new WsdlError(`operation ${name}: message ${q.local} is not defined`);
      if (decl.type.kind !== 'complex') throw new WsdlError(`operation ${name}: the ${io} element ${decl.name} is not a complexType (document/literal wrapped)`);
      return decl as WsdlOperation['input'];
    };
    const input = message('input');
    if (input.name !== name) throw new WsdlError(`operation ${name}: its input element is ${input.name}; wrapped style names it after the operation`);
    if (!actions.has(name)) throw new WsdlError(`operation ${name} is not in the binding`);
    const operation: WsdlOperation = { name, soapAction: actions.get(name)!, input, output: message('output') };
    operations.set(name, operation);
    byRequestElement.set(`${input.uri} ${input.name}`, operation);
  }
  return { file, text, targetNamespace, operations, byRequestElement, elements: schema.globalElements, address: attr(address, 'location')! };
}

/** The schemas of wsdl:types, resolved lazily by qualified name (types may refer to later ones). */
class SchemaIndex {
  private readonly simple = new Map<string, { node: XmlElement; scope: Scope; ns: string }>();
  private readonly complex = new Map<string, { node: XmlElement; scope: Scope; ns: string; qualified: boolean }>();
  private readonly globals = new Map<string, { node: XmlElement; scope: Scope; ns: string; qualified: boolean }>();
  private readonly resolvedTypes = new Map<string, SimpleType | ComplexType>();
  readonly globalElements = new Map<string, ElementDecl>();

  add(schema: XmlElement, scope: Scope): void {
    const ns = attr(schema, 'targetNamespace') ?? '';
    const qualified = attr(schema, 'elementFormDefault') === 'qualified';
    for (const child of schema.children) {
      if (child.uri !== XSD_NS) continue;
      const name = attr(child, 'name');
      switch (child.local) {
        case 'import':
          if (attr(child, 'schemaLocation') !== undefined) throw new WsdlError(`xsd:import from ${attr(child, 'schemaLocation')}: external schema imports are not supported`);
          break;
        case 'include':
        case 'redefine':
          throw new WsdlError(`xsd:${child.local} is not supported: the WSDL must be self-contained`);
        case 'simpleType':
          this.simple.set(`${ns} ${name}`, { node: child, scope: scopeOf(scope, child), ns });
          break;
        case 'complexType':
          this.complex.set(`${ns} ${name}`, { node: child, scope: scopeOf(scope, child), ns, qualified });
          break;
        case 'element':
          this.globals.set(`${ns} ${name}`, { node: child, scope: scopeOf(scope, child), ns, qualified });
          break;
        case 'annotation':
          break;
        default:
          throw new WsdlError(`xsd:${child.local} at the top of a schema is not supported`);
      }
    }
  }

  /**
   * Once every schema is added (one may use another's types, in any order): resolves every global element and
   * every named type, used or not, so that a construct the engine cannot honour is refused now, not skipped.
   */
  resolveAll(): void {
    for (const key of this.globals.keys()) {
      const [uri, local] = key.split(' ');
      this.globalElements.set(local, this.element(uri, local, 'schema'));
    }
    for (const key of [...this.complex.keys(), ...this.simple.keys()]) {
      const [uri, local] = key.split(' ');
      this.type({ uri, local }, `type ${local}`);
    }
  }

  element(uri: string, local: string, where: string): ElementDecl {
    const g = this.globals.get(`${uri} ${local}`);
    if (!g) throw new WsdlError(`${where}: element {${uri}}${local} is not declared in the WSDL's schemas`);
    // a global element is always in the target namespace
    return this.declaration(g.node, g.scope, g.ns, g.qualified, true);
  }

  private declaration(node: XmlElement, scope: Scope, ns: string, qualified: boolean, global: boolean): ElementDecl {
    const name = attr(node, 'name');
    if (attr(node, 'ref') !== undefined) {
      const q = qname(attr(node, 'ref')!, scope, `element ref ${attr(node, 'ref')}`);
      const target = this.element(q.uri, q.local, `element ref ${attr(node, 'ref')}`);
      return { ...target, minOccurs: occurs(attr(node, 'minOccurs'), 1), maxOccurs: occurs(attr(node, 'maxOccurs'), 1) };
    }
    if (!name) throw new WsdlError('an xsd:element without a name');
    const form = attr(node, 'form');
    const uri = global || (form ?? (qualified ? 'qualified' : 'unqualified')) === 'qualified' ? ns : '';
    let type: SimpleType | ComplexType;
    const typeName = attr(node, 'type');
    if (typeName !== undefined) type = this.type(qname(typeName, scope, `element ${name}`), `element ${name}`);
    else {
      const inline = node.children.find((c) => c.uri === XSD_NS && (c.local === 'complexType' || c.local === 'simpleType'));
      if (!inline) throw new WsdlError(`element ${name} has neither a type nor an inline type (xsd:anyType is not supported)`);
      const innerScope = scopeOf(scope, inline);
      type = inline.local === 'complexType' ? this.complexType(inline, innerScope, ns, qualified, name) : this.simpleType(inline, innerScope, name);
    }
    return {
      name,
      uri,
      type,
      minOccurs: occurs(attr(node, 'minOccurs'), 1),
      maxOccurs: occurs(attr(node, 'maxOccurs'), 1),
      nillable: attr(node, 'nillable') === 'true',
    };
  }

  private type(q: { uri: string; local: string }, where: string): SimpleType | ComplexType {
    const key = `${q.uri} ${q.local}`;
    const done = this.resolvedTypes.get(key);
    if (done) return done;
    if (q.uri === XSD_NS) {
      if (q.local === 'anyType') throw new WsdlError(`${where}: xsd:anyType is not supported (WSDL2Apex refuses it too)`);
      if (!SIMPLE_BASES.has(q.local)) throw new WsdlError(`${where}: xsd:${q.local} is not a supported type`);
      const t: SimpleType = { kind: 'simple', name: `xsd:${q.local}`, base: q.local as SimpleBase };
      this.resolvedTypes.set(key, t);
      return t;
    }
    const c = this.complex.get(key);
    if (c) {
      // registered before its elements are read, so a recursive type refers to itself
      const t: ComplexType = { kind: 'complex', name: q.local, order: 'sequence', elements: [], byLocal: new Map(), open: false };
      this.resolvedTypes.set(key, t);
      Object.assign(t, this.complexType(c.node, c.scope, c.ns, c.qualified, q.local));
      return t;
    }
    const s = this.simple.get(key);
    if (s) {
      const t = this.simpleType(s.node, s.scope, q.local);
      this.resolvedTypes.set(key, t);
      return t;
    }
    throw new WsdlError(`${where}: type {${q.uri}}${q.local} is not declared`);
  }

  private complexType(node: XmlElement, scope: Scope, ns: string, qualified: boolean, name: string): ComplexType {
    const t: ComplexType = { kind: 'complex', name, order: 'sequence', elements: [], byLocal: new Map(), open: false };
    for (const child of node.children) {
      if (child.uri !== XSD_NS || child.local === 'annotation') continue;
      if (child.local === 'sequence' || child.local === 'all' || child.local === 'choice') {
        t.order = child.local;
        const groupScope = scopeOf(scope, child);
        for (const item of child.children) {
          if (item.uri !== XSD_NS || item.local === 'annotation') continue;
          if (item.local === 'any') {
            t.open = true;
            continue;
          }
          if (item.local !== 'element') throw new WsdlError(`${name}: xsd:${item.local} inside xsd:${child.local} is not supported`);
          const decl = this.declaration(item, scopeOf(groupScope, item), ns, qualified, false);
          t.elements.push(decl);
          t.byLocal.set(decl.name, decl);
        }
        if (t.open && t.elements.length) throw new WsdlError(`${name}: xsd:any beside named elements is not supported`);
        continue;
      }
      if (child.local === 'complexContent' || child.local === 'simpleContent') {
        throw new WsdlError(`${name}: xsd:${child.local} (type extension or restriction) is not supported: use flat types`);
      }
      if (child.local === 'attribute' || child.local === 'attributeGroup' || child.local === 'anyAttribute') {
        throw new WsdlError(`${name}: attributes are not supported by this engine`);
      }
      throw new WsdlError(`${name}: xsd:${child.local} is not supported`);
    }
    return t;
  }

  private simpleType(node: XmlElement, scope: Scope, name: string): SimpleType {
    const restriction = node.children.find((c) => c.uri === XSD_NS && c.local === 'restriction');
    if (!restriction) throw new WsdlError(`simpleType ${name}: only xsd:restriction is supported (no list or union)`);
    const base = this.type(qname(attr(restriction, 'base') ?? '', scopeOf(scope, restriction), `simpleType ${name}`), `simpleType ${name}`);
    if (base.kind !== 'simple') throw new WsdlError(`simpleType ${name} restricts a complex type`);
    const t: SimpleType = { ...base, name, enumeration: base.enumeration && [...base.enumeration], patterns: base.patterns && [...base.patterns] };
    for (const facet of restriction.children) {
      if (facet.uri !== XSD_NS || facet.local === 'annotation') continue;
      const value = attr(facet, 'value') ?? '';
      switch (facet.local) {
        case 'enumeration':
          (t.enumeration = t.enumeration === base.enumeration ? [] : t.enumeration ?? []).push(value);
          break;
        case 'pattern':
          (t.patterns ??= []).push({ source: value, regex: xsdPattern(value, name) });
          break;
        case 'length':
        case 'minLength':
        case 'maxLength':
        case 'totalDigits':
        case 'fractionDigits':
          t[facet.local] = Number(value);
          break;
        case 'minInclusive':
        case 'maxInclusive':
        case 'minExclusive':
        case 'maxExclusive':
          t[facet.local] = Number(value);
          break;
        case 'whiteSpace':
          break;
        default:
          throw new WsdlError(`simpleType ${name}: facet xsd:${facet.local} is not supported`);
      }
    }
    return t;
  }
}

function occurs(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  return value === 'unbounded' ? Infinity : Number(value);
}

/** An XSD pattern as an anchored JS regex; XSD's \i \c classes and subtraction are not supported. */
function xsdPattern(source: string, where: string): RegExp {
  if (/\\[iIcC]|\[[^\]]*-\[/.test(source)) throw new WsdlError(`simpleType ${where}: the pattern ${source} uses XSD-only regex syntax`);
  try {
    return new RegExp(`^(?:${source})$`, 'u');
  } catch (err) {
    throw new WsdlError(`simpleType ${where}: the pattern ${source} is not a valid regular expression (${(err as Error).message})`);
  }
}

// ---------------------------------------------------------------------------------------------- rendering

/**
 * The document as served: soap:address set to `location`; for SOAP 1.2 the binding and address rebound to the
 * soap12 namespace. `location` must already be a valid URL (the engine builds it from checked parts).
 */
export function renderWsdl(wsdl: Wsdl, location: string, version: '1.1' | '1.2'): string {
  const escaped = location.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  // a function, so that $ in the location is not read as a replacement pattern
  let text = wsdl.text.replace(`location="${wsdl.address}"`, () => `location="${escaped}"`);
  if (version === '1.2') {
    const prefix = soapPrefix(text);
    text = text
      .replace(new RegExp(`<${prefix}:`, 'g'), '<soap12:')
      .replace(new RegExp(`</${prefix}:`, 'g'), '</soap12:')
      .replace(new RegExp(`xmlns:${prefix}="${WSDL_SOAP11_NS}"`), `xmlns:soap12="${WSDL_SOAP12_NS}"`);
  }
  return text;
}

function soapPrefix(text: string): string {
  const m = new RegExp(`xmlns:([A-Za-z_][\\w.-]*)="${WSDL_SOAP11_NS.replace(/[./]/g, '\\$&')}"`).exec(text);
  if (!m) throw new Error('the WSDL declares no prefix for the SOAP 1.1 binding namespace');
  return m[1];
}
