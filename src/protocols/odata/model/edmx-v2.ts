/**
 * The OData 2.0 $metadata (EDMX 1.0, DataServiceVersion 2.0, CSDL 2.0) of a model read from the CSDL 4.0
 * contract, so that the two versions Salesforce Connect can be pointed at describe the same entity sets, keys and
 * properties from one source, and v2 never drifts from v4.
 *
 * What changes between the versions:
 * - navigation: v4 declares it on the types (Partner, ReferentialConstraint) and the sets (bindings); v2 needs an
 *   Association per relationship (a pair of partners is one Association), each NavigationProperty naming it with
 *   Relationship/FromRole/ToRole, and an AssociationSet per bound relationship in the container. Multiplicities
 *   come from the navigation properties (Collection → *, Nullable="false" → 1, else 0..1); the referential
 *   constraint is kept (principal = the referenced type, its key; dependent = the type holding the foreign key).
 * - types: v2 has no Edm.Date: it becomes Edm.DateTime (Salesforce maps v2 DateTime to Date/Time, as it maps
 *   v4 Date to Date/Time at zero time, so the field is the same). Edm.DateTimeOffset STAYS Edm.DateTimeOffset by
 *   default: v2 has the type, Salesforce maps it to Date/Time (SALESFORCE.md §3), and unlike v2's zone-less
 *   DateTime it keeps the instant unambiguous; `dateTimeOffset: 'DateTime'` writes it as Edm.DateTime instead, for
 *   v2 clients without DateTimeOffset (values are then UTC by convention). DateTimeOffset's Precision (a v4 facet)
 *   is not written.
 * - capabilities: the Capabilities vocabulary is v4; v2 has no standard equivalent (SAP's sap:creatable is a
 *   vendor extension Salesforce does not read), so writability is not stated here.
 * - the container is the default one (m:IsDefaultEntityContainer="true").
 */
import { escapeXml } from '../../xml/xml-reader.js';
import type { EntityType, Model, NavigationProperty, Property } from './model.js';

export const EDMX_V1_NS = 'http://schemas.microsoft.com/ado/2007/06/edmx';
export const DATASERVICES_METADATA_NS = 'http://schemas.microsoft.com/ado/2007/08/dataservices/metadata';
export const EDM_V2_NS = 'http://schemas.microsoft.com/ado/2008/09/edm';

export interface EdmxV2Options {
  /** how Edm.DateTimeOffset is written: kept (default) or as Edm.DateTime */
  dateTimeOffset?: 'keep' | 'DateTime';
}

/** one v2 Association: a relationship between two entity types, from one or two (partner) navigation properties */
export interface Association {
  readonly name: string;
  readonly ends: readonly [AssociationEnd, AssociationEnd];
  /** principal → dependent, when a referential constraint is declared */
  readonly constraint?: { principalRole: string; principalProperties: string[]; dependentRole: string; dependentProperties: string[] };
}

export interface AssociationEnd {
  readonly role: string;
  /** qualified entity type name */
  readonly type: string;
  readonly multiplicity: '1' | '0..1' | '*';
  /** the navigation property leaving this end, when there is one */
  readonly navigation?: string;
}

const multiplicityOf = (n: NavigationProperty): AssociationEnd['multiplicity'] => (n.collection ? '*' : n.nullable ? '0..1' : '1');

/** The v2 associations of a model: one per navigation property, partners sharing one. */
export function associationsOf(model: Model): Association[] {
  const out: Association[] = [];
  const done = new Set<string>();
  for (const t of model.entityTypes) {
    for (const nav of t.navigationProperties) {
      if (done.has(`${t.qualifiedName}/${nav.name}`)) continue;
      done.add(`${t.qualifiedName}/${nav.name}`);
      const target = model.entityType(nav.target)!;
      const partner = nav.partner === undefined ? undefined : target.navigationProperty(nav.partner);
      if (partner) done.add(`${target.qualifiedName}/${partner.name}`);
      const fromRole = t.name;
      const toRole = target.name === t.name ? `${target.name}_${nav.name}` : target.name;
      // the source end: as the partner says, else "many of these point to one target" for a single-valued
      // navigation property and "at most one owner" for a collection
      const fromMultiplicity = partner ? multiplicityOf(partner) : nav.collection ? '0..1' : '*';
      const from: AssociationEnd = { role: fromRole, type: t.qualifiedName, multiplicity: fromMultiplicity, navigation: nav.name };
      const to: AssociationEnd = { role: toRole, type: target.qualifiedName, multiplicity: multiplicityOf(nav), ...(partner ? { navigation: partner.name } : {}) };
      let constraint: Association['constraint'];
      if (nav.constraints.length) {
        constraint = { principalRole: toRole, principalProperties: nav.constraints.map((c) => c.referencedProperty), dependentRole: fromRole, dependentProperties: nav.constraints.map((c) => c.property) };
      } else if (partner?.constraints.length) {
        constraint = { principalRole: fromRole, principalProperties: partner.constraints.map((c) => c.referencedProperty), dependentRole: toRole, dependentProperties: partner.constraints.map((c) => c.property) };
      }
      // CSDL 2.0: a constraint's principal properties are the principal's key, and its end is 1 or 0..1
      if (constraint) {
        const principal = constraint.principalRole === fromRole ? from : to;
        const principalType = model.entityType(principal.type)!;
        if (principal.multiplicity === '*' || !sameMembers(constraint.principalProperties, principalType.key)) constraint = undefined;
      }
      out.push({ name: `${t.name}_${nav.name}`, ends: [from, to], ...(constraint ? { constraint } : {}) });
    }
  }
  return out;
}

const sameMembers = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));

function v2Type(p: Property, options: EdmxV2Options): string {
  if (p.type === 'Edm.Date') return 'Edm.DateTime';
  if (p.type === 'Edm.DateTimeOffset' && options.dateTimeOffset === 'DateTime') return 'Edm.DateTime';
  return p.type;
}

function propertyXml(p: Property, options: EdmxV2Options): string {
  let s = `<Property Name="${escapeXml(p.name)}" Type="${v2Type(p, options)}" Nullable="${p.nullable}"`;
  if (p.maxLength !== undefined) s += ` MaxLength="${p.maxLength}"`;
  if (p.type === 'Edm.Decimal') {
    if (p.precision !== undefined) s += ` Precision="${p.precision}"`;
    if (p.scale !== undefined) s += ` Scale="${p.scale}"`;
  }
  return `${s}/>`;
}

/** The OData 2.0 EDMX document of the model. */
export function edmxV2(model: Model, options: EdmxV2Options = {}): string {
  const ns = model.namespace;
  const associations = associationsOf(model);
  const navEnd = new Map<string, { association: Association; from: AssociationEnd; to: AssociationEnd }>();
  for (const a of associations) {
    const [x, y] = a.ends;
    if (x.navigation) navEnd.set(`${x.type}/${x.navigation}`, { association: a, from: x, to: y });
    if (y.navigation) navEnd.set(`${y.type}/${y.navigation}`, { association: a, from: y, to: x });
  }
  const lines: string[] = [];
  const add = (indent: number, text: string) => lines.push(' '.repeat(indent) + text);
  add(0, '<?xml version="1.0" encoding="utf-8"?>');
  add(0, `<edmx:Edmx Version="1.0" xmlns:edmx="${EDMX_V1_NS}">`);
  add(2, `<edmx:DataServices m:DataServiceVersion="2.0" xmlns:m="${DATASERVICES_METADATA_NS}">`);
  add(4, `<Schema Namespace="${escapeXml(ns)}" xmlns="${EDM_V2_NS}">`);
  for (const t of model.entityTypes) entityTypeXml(t, options, navEnd, ns, add);
  for (const a of associations) {
    add(6, `<Association Name="${escapeXml(a.name)}">`);
    for (const e of a.ends) add(8, `<End Type="${escapeXml(e.type)}" Role="${escapeXml(e.role)}" Multiplicity="${e.multiplicity}"/>`);
    if (a.constraint) {
      const c = a.constraint;
      add(8, '<ReferentialConstraint>');
      add(10, `<Principal Role="${escapeXml(c.principalRole)}">${c.principalProperties.map((p) => `<PropertyRef Name="${escapeXml(p)}"/>`).join('')}</Principal>`);
      add(10, `<Dependent Role="${escapeXml(c.dependentRole)}">${c.dependentProperties.map((p) => `<PropertyRef Name="${escapeXml(p)}"/>`).join('')}</Dependent>`);
      add(8, '</ReferentialConstraint>');
    }
    add(6, '</Association>');
  }
  add(6, `<EntityContainer Name="${escapeXml(model.containerName)}" m:IsDefaultEntityContainer="true">`);
  for (const s of model.entitySets) add(8, `<EntitySet Name="${escapeXml(s.name)}" EntityType="${escapeXml(s.entityType.qualifiedName)}"/>`);
  // one AssociationSet per association and pair of sets it joins (partners bound both ways yield one)
  const seen = new Set<string>();
  const setNames = new Set<string>();
  for (const s of model.entitySets) {
    for (const b of s.bindings) {
      const end = navEnd.get(`${s.entityType.qualifiedName}/${b.path}`)!;
      const key = `${end.association.name}|${[`${end.from.role}=${s.name}`, `${end.to.role}=${b.target}`].sort().join('|')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      // the association's name, unless another pair of sets already uses it
      const name = setNames.has(end.association.name) ? `${end.association.name}_${s.name}_${b.target}` : end.association.name;
      setNames.add(name);
      add(8, `<AssociationSet Name="${escapeXml(name)}" Association="${escapeXml(`${ns}.${end.association.name}`)}">`);
      add(10, `<End EntitySet="${escapeXml(s.name)}" Role="${escapeXml(end.from.role)}"/>`);
      add(10, `<End EntitySet="${escapeXml(b.target)}" Role="${escapeXml(end.to.role)}"/>`);
      add(8, '</AssociationSet>');
    }
  }
  add(6, '</EntityContainer>');
  add(4, '</Schema>');
  add(2, '</edmx:DataServices>');
  add(0, '</edmx:Edmx>');
  return lines.join('\n') + '\n';
}

function entityTypeXml(
  t: EntityType,
  options: EdmxV2Options,
  navEnd: Map<string, { association: Association; from: AssociationEnd; to: AssociationEnd }>,
  ns: string,
  add: (indent: number, text: string) => void,
): void {
  add(6, `<EntityType Name="${escapeXml(t.name)}">`);
  add(8, `<Key>${t.key.map((k) => `<PropertyRef Name="${escapeXml(k)}"/>`).join('')}</Key>`);
  for (const p of t.properties) add(8, propertyXml(p, options));
  for (const n of t.navigationProperties) {
    const end = navEnd.get(`${t.qualifiedName}/${n.name}`)!;
    add(8, `<NavigationProperty Name="${escapeXml(n.name)}" Relationship="${escapeXml(`${ns}.${end.association.name}`)}" FromRole="${escapeXml(end.from.role)}" ToRole="${escapeXml(end.to.role)}"/>`);
  }
  add(6, '</EntityType>');
}
