/**
 * XML request bodies (application/xml, text/xml, +xml) read into the value their schema describes, so the coercing
 * validator checks them like any other body and a handler gets a value, not a tree.
 *
 * The bytes are read by the XML reader every XML body from outside goes through (../xml/xml-reader.ts: saxes,
 * no DOCTYPE so no entities, bounded depth, element count, attributes and text); its refusals come back as a
 * message naming the problem, for a 400. The tree is then mapped by the schema and its `xml` objects — the inverse
 * of how ResponseGenerator writes XML (response-generator.ts xml()), with the same naming rule, so what understudy
 * writes it can read back: the root element is the schema's `xml.name`, else its component name; a property is
 * the element (or, with `xml.attribute`, the attribute) named by its `xml.name`, else its own name; an array is
 * the repeated elements named after its items, or those elements inside a wrapper element of the property's
 * name (`xml.wrapped`). Leaf text stays a string (the validator coerces `<id>10</id>` to 10 for an integer);
 * `xsi:nil` is null. Elements the schema does not name are kept as their text (or object of children), so a
 * closed schema (`additionalProperties: false`) names them. Namespaces are not compared: local names are.
 */
import type { OpenAPIV3 } from 'openapi-types';
import type { ContractError } from '../../../engine/exchange.js';
import { isNil, readXmlBytes, XmlError, type XmlElement } from '../../xml/xml-reader.js';
import { resolvedOrUndefined } from '../contract.js';

/** What an XML body is read by: the document and the media type's schema as written ($refs kept for names). */
export interface XmlBodyPlan {
  document: unknown;
  schema: unknown;
}

type Schema = OpenAPIV3.SchemaObject & { type?: string | string[]; items?: unknown };

/** The body read and mapped, with the problems of shape the mapping found; or why it is not usable XML. */
export function readXmlBody(raw: Buffer, plan: XmlBodyPlan): { value: unknown; problems: ContractError[] } | { error: string } {
  let root: XmlElement;
  try {
    root = readXmlBytes(raw);
  } catch (err) {
    if (err instanceof XmlError) return { error: `the body is not usable XML: ${err.message}` };
    throw err;
  }
  const problems: ContractError[] = [];
  const expected = elementName(plan.document, plan.schema, undefined);
  if (expected !== undefined && root.local !== expected) {
    problems.push({ in: 'body', pointer: '', message: `the root element is <${root.local}>; the contract names it <${expected}>` });
  }
  return { value: new XmlMapper(plan.document).value(root, plan.schema, 0), problems };
}

/** An element's name by the rule ResponseGenerator writes with: `xml.name`, the component's name, the fallback. */
function elementName(document: unknown, raw: unknown, fallback: string | undefined): string | undefined {
  const ref = raw && typeof raw === 'object' && '$ref' in raw ? String((raw as { $ref: unknown }).$ref).split('/').pop() : undefined;
  return resolvedOrUndefined<Schema>(document, raw)?.xml?.name ?? ref ?? fallback;
}

class XmlMapper {
  constructor(private readonly document: unknown) {}

  /** The value of `element` as the schema `raw` describes it (no schema: its text, or its children as an object). */
  value(element: XmlElement, raw: unknown, depth: number): unknown {
    if (isNil(element)) return null;
    const schema = resolvedOrUndefined<Schema>(this.document, raw);
    const properties = schema ? this.properties(schema, 0) : undefined;
    if (schema && this.is(schema, 'array')) return element.children.map((child) => this.value(child, schema.items, depth + 1));
    if (properties !== undefined || (schema === undefined && element.children.length > 0)) return this.object(element, properties ?? new Map(), depth);
    const text = element.text;
    return schema && !this.is(schema, 'string') ? text.trim() : text;
  }

  private object(element: XmlElement, properties: Map<string, unknown>, depth: number): Record<string, unknown> {
    // no prototype: an element called __proto__ is a property like any other
    const out: Record<string, unknown> = Object.create(null);
    const used = new Set<XmlElement>();
    for (const [key, rawProperty] of properties) {
      const property = resolvedOrUndefined<Schema>(this.document, rawProperty);
      const name = property?.xml?.name ?? key;
      if (property?.xml?.attribute) {
        const attribute = element.attrs.find((a) => a.local === name);
        if (attribute !== undefined) out[key] = attribute.value;
        continue;
      }
      if (property && this.is(property, 'array')) {
        const itemName = elementName(this.document, property.items, name)!;
        if (property.xml?.wrapped) {
          const wrapper = element.children.find((c) => c.local === name && !used.has(c));
          if (wrapper === undefined) continue;
          used.add(wrapper);
          out[key] = wrapper.children.filter((c) => c.local === itemName).map((c) => this.value(c, property.items, depth + 1));
        } else {
          const items = element.children.filter((c) => c.local === itemName && !used.has(c));
          if (items.length === 0) continue;
          items.forEach((c) => used.add(c));
          out[key] = items.map((c) => this.value(c, property.items, depth + 1));
        }
        continue;
      }
      const child = element.children.find((c) => c.local === name && !used.has(c));
      if (child === undefined) continue;
      used.add(child);
      out[key] = this.value(child, rawProperty, depth + 1);
    }
    // what the schema does not name stays, so that a closed schema can say so
    for (const child of element.children) {
      if (used.has(child) || child.local in out) continue;
      out[child.local] = this.value(child, undefined, depth + 1);
    }
    return out;
  }

  /** the properties of an object schema, its allOf members' included; undefined when it is not an object */
  private properties(schema: Schema, depth: number): Map<string, unknown> | undefined {
    if (depth > 8) return undefined;
    let found: Map<string, unknown> | undefined = schema.properties ? new Map(Object.entries(schema.properties)) : undefined;
    for (const member of schema.allOf ?? []) {
      const more = this.properties(resolvedOrUndefined<Schema>(this.document, member) ?? {}, depth + 1);
      if (more === undefined) continue;
      found ??= new Map();
      for (const [k, v] of more) if (!found.has(k)) found.set(k, v);
    }
    if (found === undefined && this.is(schema, 'object')) found = new Map();
    return found;
  }

  private is(schema: Schema, type: string): boolean {
    if (Array.isArray(schema.type)) return schema.type.includes(type);
    if (schema.type !== undefined) return schema.type === type;
    return type === 'array' ? schema.items !== undefined : false;
  }
}
