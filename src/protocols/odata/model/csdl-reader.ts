/**
 * Reads a CSDL 4.0 document (contracts/erp.csdl.xml) into the typed model (model.ts), and refuses — with a
 * message naming the element, the attribute or the value, and its line — whatever the model cannot represent or
 * the OData face could not serve faithfully. The CSDL is the contract: a mistake in it should stop the server at
 * start-up with a sentence, not surface as a wrong $metadata in a Salesforce org weeks later.
 *
 * XML is read by the repo's safe reader (xml/xml-reader.ts): no DTD (a DOCTYPE is refused before anything is
 * declared), no processing instructions, bounded depth and size.
 *
 * Accepted: one edmx:DataServices with one Schema; edmx:Reference/Include (for vocabulary aliases); EntityType
 * with Key, Property (the primitive types of model.ts, MaxLength/Precision/Scale as integers),
 * NavigationProperty (Partner, ReferentialConstraint); one EntityContainer with EntitySets,
 * NavigationPropertyBindings and the Capabilities Insert/Update/DeleteRestrictions; Annotation elements elsewhere
 * are skipped (they are optional by definition).
 * Refused: complex and enum types, type definitions, functions and actions (and their imports), singletons,
 * terms, inheritance, open types, media entities, collection-valued properties, contained navigation, an entity
 * type without a key, a nullable key property, a navigation property no entity set binds (the OData 2.0 EDMX
 * needs an AssociationSet for each), and anything that does not resolve.
 */
import { readFileSync } from 'node:fs';
import { readXml, XmlError, type XmlElement } from '../../xml/xml-reader.js';
import {
  isPrimitiveType,
  PRIMITIVE_TYPES,
  type EntitySet,
  type EntityType,
  type Model,
  type NavigationBinding,
  type NavigationProperty,
  type PrimitiveType,
  type Property,
  type ReferentialConstraint,
} from './model.js';

export const EDMX_NS = 'http://docs.oasis-open.org/odata/ns/edmx';
export const EDM_NS = 'http://docs.oasis-open.org/odata/ns/edm';
const CAPABILITIES = 'Org.OData.Capabilities.V1';

export class CsdlError extends Error {}

/** Reads the CSDL file; errors name the file. */
export function loadCsdlFile(file: string): Model {
  const text = readFileSync(file, 'utf8');
  try {
    return readCsdl(text);
  } catch (err) {
    if (err instanceof CsdlError) throw new CsdlError(`${file}: ${err.message}`);
    throw err;
  }
}

export function readCsdl(text: string): Model {
  let root: XmlElement;
  try {
    root = readXml(text);
  } catch (err) {
    if (err instanceof XmlError) throw new CsdlError(`the CSDL is not acceptable XML: ${err.message}`);
    throw err;
  }
  return new Reader(text).read(root);
}

const where = (e: XmlElement): string => ` (line ${e.line})`;
const fail = (e: XmlElement, message: string): never => {
  throw new CsdlError(message + where(e));
};

function attr(e: XmlElement, name: string): string | undefined {
  for (const a of e.attrs) if (a.uri === '' && a.local === name) return a.value;
  return undefined;
}

function required(e: XmlElement, name: string, what: string): string {
  const v = attr(e, name);
  if (v === undefined || v.trim() === '') fail(e, `${what} has no ${name} attribute`);
  return v!.trim();
}

/** a SimpleIdentifier of CSDL (letters, digits, underscore; not starting with a digit) */
function identifier(e: XmlElement, value: string, what: string): string {
  if (!/^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}\p{Cf}]{0,127}$/u.test(value)) fail(e, `${what} "${value}" is not a valid identifier`);
  return value;
}

function booleanAttr(e: XmlElement, name: string, what: string): boolean | undefined {
  const v = attr(e, name);
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return fail(e, `${what}: ${name}="${v}" is neither true nor false`);
}

function integerAttr(e: XmlElement, name: string, what: string, min: number): number | undefined {
  const v = attr(e, name);
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,9}$/.test(v) || Number(v) < min) {
    fail(e, `${what}: ${name}="${v}" is not supported (only an integer of at least ${min}; not max, variable or floating)`);
  }
  return Number(v);
}

function refuseAttrs(e: XmlElement, names: readonly string[], what: string): void {
  for (const n of names) if (attr(e, n) !== undefined && !(attr(e, n) === 'false' && n !== 'BaseType')) fail(e, `${what}: ${n} is not supported`);
}

/** the elements of the EDM namespace in e, refusing any other element except where `skip` says */
function edmChildren(e: XmlElement, allowed: readonly string[], what: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of e.children) {
    if (c.uri === EDM_NS && c.local === 'Annotation') continue;
    if (c.uri !== EDM_NS) fail(c, `${what} holds <${c.local}> from namespace "${c.uri}", which the model does not support`);
    if (!allowed.includes(c.local)) fail(c, `${what} holds <${c.local}>, which the model does not support`);
    out.push(c);
  }
  return out;
}

interface DraftType {
  element: XmlElement;
  name: string;
  qualifiedName: string;
  key: string[];
  properties: Property[];
  navigation: { element: XmlElement; nav: NavigationProperty; targetRef: string }[];
}

class Reader {
  private namespace = '';
  /** alias or namespace → namespace, for qualified names */
  private readonly aliases = new Map<string, string>();
  private readonly types = new Map<string, DraftType>();

  constructor(private readonly text: string) {}

  read(root: XmlElement): Model {
    if (root.uri !== EDMX_NS || root.local !== 'Edmx') fail(root, `the root element is <${root.local}> in "${root.uri}", not edmx:Edmx (${EDMX_NS})`);
    const version = attr(root, 'Version');
    if (version !== '4.0' && version !== '4.01') fail(root, `edmx:Edmx Version="${version ?? ''}" is not supported (4.0 or 4.01)`);
    let services: XmlElement | undefined;
    for (const c of root.children) {
      if (c.uri === EDMX_NS && c.local === 'Reference') this.reference(c);
      else if (c.uri === EDMX_NS && c.local === 'DataServices') {
        if (services) fail(c, 'more than one edmx:DataServices');
        services = c;
      } else fail(c, `edmx:Edmx holds <${c.local}>, which the model does not support`);
    }
    if (!services) return fail(root, 'edmx:Edmx has no edmx:DataServices');
    const schemas = services.children.filter((c) => c.uri === EDM_NS && c.local === 'Schema');
    for (const c of services.children) if (!(c.uri === EDM_NS && c.local === 'Schema')) fail(c, `edmx:DataServices holds <${c.local}> in "${c.uri}", not an edm:Schema (${EDM_NS})`);
    if (schemas.length !== 1) fail(services, `edmx:DataServices holds ${schemas.length} Schemas; the model supports exactly one`);
    return this.schema(schemas[0]);
  }

  private reference(e: XmlElement): void {
    for (const c of e.children) {
      if (c.uri === EDMX_NS && c.local === 'Include') {
        const ns = required(c, 'Namespace', 'edmx:Include');
        this.aliases.set(ns, ns);
        const alias = attr(c, 'Alias');
        if (alias !== undefined) this.aliases.set(alias, ns);
      } else if (!(c.uri === EDM_NS && c.local === 'Annotation')) {
        fail(c, `edmx:Reference holds <${c.local}>, which the model does not support (only edmx:Include)`);
      }
    }
  }

  /** Namespace.Name or Alias.Name → the namespace-qualified name ('' namespace when unqualified) */
  private qualify(name: string): string {
    const dot = name.lastIndexOf('.');
    if (dot < 0) return name;
    const prefix = name.slice(0, dot);
    return `${this.aliases.get(prefix) ?? prefix}.${name.slice(dot + 1)}`;
  }

  private schema(e: XmlElement): Model {
    this.namespace = required(e, 'Namespace', 'Schema');
    if (!/^[\p{L}_][\p{L}\p{Nd}_]*(\.[\p{L}_][\p{L}\p{Nd}_]*)*$/u.test(this.namespace)) fail(e, `Schema Namespace "${this.namespace}" is not a valid namespace`);
    this.aliases.set(this.namespace, this.namespace);
    const alias = attr(e, 'Alias');
    if (alias !== undefined) this.aliases.set(identifier(e, alias, 'Schema Alias'), this.namespace);

    const children = edmChildren(e, ['EntityType', 'EntityContainer', 'Annotations'], `Schema ${this.namespace}`);
    const containers = children.filter((c) => c.local === 'EntityContainer');
    if (containers.length !== 1) fail(e, `Schema ${this.namespace} holds ${containers.length} EntityContainers; the model needs exactly one`);
    for (const c of children) if (c.local === 'EntityType') this.entityTypeDraft(c);
    for (const t of this.types.values()) this.resolveNavigation(t);

    const entityTypes = new Map<string, EntityType>();
    for (const t of this.types.values()) entityTypes.set(t.qualifiedName, freezeType(t));
    const container = containers[0];
    const containerName = identifier(container, required(container, 'Name', 'EntityContainer'), 'EntityContainer Name');
    const entitySets = this.container(container, entityTypes);

    const byName = new Map(entitySets.map((s) => [s.name, s]));
    const types = [...entityTypes.values()];
    return Object.freeze({
      namespace: this.namespace,
      containerName,
      entityTypes: Object.freeze(types),
      entitySets: Object.freeze(entitySets),
      entityType: (name: string) => entityTypes.get(name),
      entitySet: (name: string) => byName.get(name),
      csdl: this.text,
    });
  }

  private entityTypeDraft(e: XmlElement): void {
    const name = identifier(e, required(e, 'Name', 'EntityType'), 'EntityType Name');
    const what = `EntityType ${name}`;
    refuseAttrs(e, ['BaseType', 'Abstract', 'OpenType', 'HasStream'], what);
    const qualifiedName = `${this.namespace}.${name}`;
    if (this.types.has(qualifiedName)) fail(e, `EntityType ${name} is declared twice`);
    const draft: DraftType = { element: e, name, qualifiedName, key: [], properties: [], navigation: [] };
    const names = new Set<string>();
    const unique = (c: XmlElement, n: string) => {
      if (names.has(n)) fail(c, `${what} declares ${n} twice`);
      names.add(n);
    };
    let keyElement: XmlElement | undefined;
    for (const c of edmChildren(e, ['Key', 'Property', 'NavigationProperty'], what)) {
      if (c.local === 'Key') {
        if (keyElement) fail(c, `${what} has more than one Key`);
        keyElement = c;
      } else if (c.local === 'Property') {
        const p = this.property(c, what);
        unique(c, p.name);
        draft.properties.push(p);
      } else {
        const n = this.navigationDraft(c, what);
        unique(c, n.nav.name);
        draft.navigation.push(n);
      }
    }
    if (!keyElement) {
      return fail(e, `${what} has no Key: every entity set needs one (Salesforce Connect derives the External ID from it)`);
    }
    for (const ref of edmChildren(keyElement, ['PropertyRef'], `${what}'s Key`)) {
      const refName = required(ref, 'Name', `${what}'s PropertyRef`);
      if (attr(ref, 'Alias') !== undefined || refName.includes('/')) fail(ref, `${what}'s key ${refName}: key paths and aliases are not supported`);
      const p = draft.properties.find((x) => x.name === refName);
      if (!p) return fail(ref, `${what}'s key names ${refName}, which is not one of its properties`);
      if (p.nullable) fail(ref, `${what}'s key property ${refName} is nullable: key properties must be Nullable="false"`);
      if (draft.key.includes(refName)) fail(ref, `${what}'s key names ${refName} twice`);
      draft.key.push(refName);
    }
    if (draft.key.length === 0) fail(keyElement, `${what}'s Key names no property`);
    this.types.set(qualifiedName, draft);
  }

  private property(e: XmlElement, owner: string): Property {
    const name = identifier(e, required(e, 'Name', `${owner}'s Property`), `${owner}'s Property Name`);
    const what = `${owner}.${name}`;
    const typeName = required(e, 'Type', what);
    if (/^Collection\(/.test(typeName)) fail(e, `${what} has type ${typeName}: collection-valued properties are not supported`);
    if (!isPrimitiveType(typeName)) {
      fail(e, `${what} has type ${typeName}, which the model does not support (supported: ${PRIMITIVE_TYPES.join(', ')})`);
    }
    const type = typeName as PrimitiveType;
    edmChildren(e, [], what);
    const nullable = booleanAttr(e, 'Nullable', what) ?? true;
    const maxLength = integerAttr(e, 'MaxLength', what, 1);
    const precision = integerAttr(e, 'Precision', what, 0);
    const scale = integerAttr(e, 'Scale', what, 0);
    if (maxLength !== undefined && type !== 'Edm.String') fail(e, `${what}: MaxLength applies to Edm.String, not ${type}`);
    if (precision !== undefined && type !== 'Edm.Decimal' && type !== 'Edm.DateTimeOffset') fail(e, `${what}: Precision applies to Edm.Decimal and Edm.DateTimeOffset, not ${type}`);
    if (scale !== undefined && type !== 'Edm.Decimal') fail(e, `${what}: Scale applies to Edm.Decimal, not ${type}`);
    if (type === 'Edm.Decimal' && precision === undefined) fail(e, `${what}: an Edm.Decimal needs a Precision (and a Scale) here`);
    if (type === 'Edm.DateTimeOffset' && precision !== undefined && precision > 12) fail(e, `${what}: Precision="${precision}" for Edm.DateTimeOffset is above 12`);
    if (scale !== undefined && precision !== undefined && scale > precision) fail(e, `${what}: Scale ${scale} is greater than Precision ${precision}`);
    const p: Property = { name, type, nullable, maxLength, precision, scale: type === 'Edm.Decimal' ? (scale ?? 0) : scale };
    // drop the facets a type does not have, so that models compare and serialise cleanly
    for (const k of ['maxLength', 'precision', 'scale'] as const) if (p[k] === undefined) delete (p as unknown as Record<string, unknown>)[k];
    return Object.freeze(p);
  }

  private navigationDraft(e: XmlElement, owner: string): DraftType['navigation'][number] {
    const name = identifier(e, required(e, 'Name', `${owner}'s NavigationProperty`), `${owner}'s NavigationProperty Name`);
    const what = `${owner}.${name}`;
    refuseAttrs(e, ['ContainsTarget'], what);
    const typeName = required(e, 'Type', what);
    const m = /^Collection\((.+)\)$/.exec(typeName);
    const collection = m !== null;
    const targetRef = this.qualify(m ? m[1] : typeName);
    const constraints: ReferentialConstraint[] = [];
    for (const c of edmChildren(e, ['ReferentialConstraint'], what)) {
      constraints.push(Object.freeze({ property: required(c, 'Property', `${what}'s ReferentialConstraint`), referencedProperty: required(c, 'ReferencedProperty', `${what}'s ReferentialConstraint`) }));
    }
    if (collection && constraints.length) fail(e, `${what} is a collection: referential constraints belong on the single-valued side`);
    if (collection && attr(e, 'Nullable') !== undefined) fail(e, `${what} is a collection: Nullable does not apply`);
    const nullable = collection ? false : (booleanAttr(e, 'Nullable', what) ?? true);
    const partner = attr(e, 'Partner');
    const nav: NavigationProperty = { name, target: targetRef, collection, nullable, constraints: Object.freeze(constraints), ...(partner !== undefined ? { partner } : {}) };
    return { element: e, nav, targetRef };
  }

  /** checks navigation targets, partners and constraints once every type is known */
  private resolveNavigation(t: DraftType): void {
    for (const { element, nav } of t.navigation) {
      const what = `${t.name}.${nav.name}`;
      const target = this.types.get(nav.target);
      if (!target) {
        fail(element, `${what} leads to ${nav.target}, which is not an entity type of the model`);
        return;
      }
      if (nav.partner !== undefined) {
        const back = target.navigation.find((n) => n.nav.name === nav.partner);
        if (!back) fail(element, `${what} names the partner ${nav.partner}, which is not a navigation property of ${target.name}`);
        else if (back.nav.target !== t.qualifiedName) fail(element, `${what}'s partner ${target.name}.${nav.partner} does not lead back to ${t.name}`);
        else if (back.nav.partner !== undefined && back.nav.partner !== nav.name) fail(element, `${what}'s partner ${target.name}.${nav.partner} names another partner (${back.nav.partner})`);
        else if (nav.collection && back.nav.collection) fail(element, `${what} and its partner are both collections: many-to-many is not supported`);
      }
      for (const c of nav.constraints) {
        const own = t.properties.find((p) => p.name === c.property);
        const ref = target.properties.find((p) => p.name === c.referencedProperty);
        if (!own) fail(element, `${what}'s referential constraint names ${c.property}, which is not a property of ${t.name}`);
        if (!ref) fail(element, `${what}'s referential constraint names ${c.referencedProperty}, which is not a property of ${target.name}`);
        if (own!.type !== ref!.type) fail(element, `${what}'s referential constraint joins ${own!.type} to ${ref!.type}`);
        if (!nav.nullable && own!.nullable) fail(element, `${what} is Nullable="false" but its foreign key ${c.property} is nullable`);
      }
    }
  }

  private container(e: XmlElement, types: Map<string, EntityType>): EntitySet[] {
    refuseAttrs(e, ['Extends'], `EntityContainer`);
    const drafts: { element: XmlElement; name: string; type: EntityType; bindings: NavigationBinding[]; rights: Record<string, boolean> }[] = [];
    for (const c of e.children) {
      if (!(c.uri === EDM_NS && c.local === 'EntitySet')) {
        if (c.uri === EDM_NS && c.local === 'Annotation') continue;
        fail(c, `EntityContainer holds <${c.local}>, which the model does not support (only EntitySet)`);
      }
      const name = identifier(c, required(c, 'Name', 'EntitySet'), 'EntitySet Name');
      if (drafts.some((d) => d.name === name)) fail(c, `EntitySet ${name} is declared twice`);
      const typeName = this.qualify(required(c, 'EntityType', `EntitySet ${name}`));
      const type = types.get(typeName);
      if (!type) return fail(c, `EntitySet ${name} has the entity type ${typeName}, which the model does not declare`);
      const bindings: NavigationBinding[] = [];
      const rights: Record<string, boolean> = {};
      for (const b of c.children) {
        if (b.uri === EDM_NS && b.local === 'NavigationPropertyBinding') {
          bindings.push(Object.freeze({ path: required(b, 'Path', `EntitySet ${name}'s binding`), target: required(b, 'Target', `EntitySet ${name}'s binding`) }));
        } else if (b.uri === EDM_NS && b.local === 'Annotation') {
          this.capability(b, rights);
        } else {
          fail(b, `EntitySet ${name} holds <${b.local}>, which the model does not support`);
        }
      }
      drafts.push({ element: c, name, type, bindings, rights });
    }
    if (drafts.length === 0) fail(e, 'the EntityContainer has no EntitySet');
    for (const d of drafts) {
      for (const b of d.bindings) {
        const what = `EntitySet ${d.name}'s NavigationPropertyBinding ${b.path}`;
        if (b.path.includes('/')) fail(d.element, `${what}: paths through type casts or complex properties are not supported`);
        const nav = d.type.navigationProperty(b.path);
        if (!nav) fail(d.element, `${what} names no navigation property of ${d.type.name}`);
        const target = drafts.find((x) => x.name === b.target);
        if (!target) fail(d.element, `${what} targets ${b.target}, which is not an entity set of the container`);
        else if (target.type.qualifiedName !== nav!.target) fail(d.element, `${what} targets ${b.target}, a set of ${target.type.name}, but ${b.path} leads to ${nav!.target}`);
        if (d.bindings.filter((x) => x.path === b.path).length > 1) fail(d.element, `${what} is bound twice`);
      }
      for (const nav of d.type.navigationProperties) {
        if (!d.bindings.some((b) => b.path === nav.name)) {
          fail(d.element, `EntitySet ${d.name} does not bind ${d.type.name}.${nav.name}: every navigation property needs a NavigationPropertyBinding (the OData 2.0 EDMX needs an AssociationSet for it)`);
        }
      }
    }
    return drafts.map((d) =>
      Object.freeze({
        name: d.name,
        entityType: d.type,
        bindings: Object.freeze(d.bindings),
        insertable: d.rights.Insertable ?? true,
        updatable: d.rights.Updatable ?? true,
        deletable: d.rights.Deletable ?? true,
      }),
    );
  }

  /** Capabilities.{Insert,Update,Delete}Restrictions with a Bool Insertable/Updatable/Deletable; other terms skipped */
  private capability(e: XmlElement, rights: Record<string, boolean>): void {
    const term = this.qualify(required(e, 'Term', 'Annotation'));
    const m = /^(.*)\.(Insert|Update|Delete)Restrictions$/.exec(term);
    if (!m || m[1] !== CAPABILITIES) return;
    const field = { Insert: 'Insertable', Update: 'Updatable', Delete: 'Deletable' }[m[2] as 'Insert' | 'Update' | 'Delete'];
    for (const record of e.children) {
      if (record.uri !== EDM_NS || record.local !== 'Record') fail(record, `Annotation ${term} holds <${record.local}>, not a Record`);
      for (const pv of record.children) {
        if (pv.uri !== EDM_NS || pv.local !== 'PropertyValue') continue;
        if (attr(pv, 'Property') !== field) continue;
        const value = booleanAttr(pv, 'Bool', `Annotation ${term}'s ${field}`);
        if (value === undefined) fail(pv, `Annotation ${term}'s ${field} needs a Bool attribute`);
        rights[field] = value!;
      }
    }
  }
}

function freezeType(t: DraftType): EntityType {
  const properties = Object.freeze([...t.properties]);
  const navigationProperties = Object.freeze(t.navigation.map((n) => Object.freeze(n.nav)));
  const byName = new Map(properties.map((p) => [p.name, p]));
  const navByName = new Map(navigationProperties.map((n) => [n.name, n]));
  return Object.freeze({
    name: t.name,
    qualifiedName: t.qualifiedName,
    key: Object.freeze([...t.key]),
    properties,
    navigationProperties,
    property: (name: string) => byName.get(name),
    navigationProperty: (name: string) => navByName.get(name),
  });
}
