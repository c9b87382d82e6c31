/**
 * The OData 2.0 EDMX generated from the CSDL: it reads as XML (the repo's safe reader), declares EDMX 1.0 /
 * DataServiceVersion 2.0, holds every entity set with its key and properties, has no Edm.Date left (v2 has none),
 * and its associations are consistent: every NavigationProperty's Relationship names an Association whose Ends
 * name real entity types and carry its FromRole and ToRole, every AssociationSet names a real Association and
 * real entity sets of the right types.
 */
import { describe, expect, it } from 'vitest';
import { DATASERVICES_METADATA_NS, EDM_V2_NS, EDMX_V1_NS, edmxV2 } from '../../../../src/protocols/odata/model/edmx-v2.js';
import { erpMetadata, loadErpModel } from '../../../../src/systems/erp/odata-model.js';
import { readXml, type XmlElement } from '../../../../src/protocols/xml/xml-reader.js';

const model = loadErpModel();
const text = edmxV2(model);
const root = readXml(text);

const attr = (e: XmlElement, name: string) => e.attrs.find((a) => a.local === name && a.uri === '')?.value;
const kids = (e: XmlElement, local: string) => e.children.filter((c) => c.local === local && c.uri === EDM_V2_NS);
const services = root.children[0];
const schema = services.children[0];
const container = kids(schema, 'EntityContainer')[0];

describe('the OData 2.0 EDMX', () => {
  it('is EDMX 1.0 with DataServiceVersion 2.0 and one CSDL 2.0 schema', () => {
    expect([root.uri, root.local, attr(root, 'Version')]).toEqual([EDMX_V1_NS, 'Edmx', '1.0']);
    expect([services.uri, services.local]).toEqual([EDMX_V1_NS, 'DataServices']);
    expect(services.attrs.find((a) => a.uri === DATASERVICES_METADATA_NS && a.local === 'DataServiceVersion')?.value).toBe('2.0');
    expect([schema.uri, schema.local, attr(schema, 'Namespace')]).toEqual([EDM_V2_NS, 'Schema', 'Understudy.Erp']);
    expect(attr(container, 'Name')).toBe('ErpService');
    expect(container.attrs.find((a) => a.uri === DATASERVICES_METADATA_NS && a.local === 'IsDefaultEntityContainer')?.value).toBe('true');
  });

  it('holds every entity set, with the same keys and properties as v4', () => {
    const sets = kids(container, 'EntitySet').map((s) => [attr(s, 'Name'), attr(s, 'EntityType')]);
    expect(sets).toEqual(model.entitySets.map((s) => [s.name, s.entityType.qualifiedName]));
    for (const t of model.entityTypes) {
      const e = kids(schema, 'EntityType').find((x) => attr(x, 'Name') === t.name)!;
      expect(kids(kids(e, 'Key')[0], 'PropertyRef').map((r) => attr(r, 'Name'))).toEqual(t.key);
      const props = kids(e, 'Property');
      expect(props.map((p) => attr(p, 'Name'))).toEqual(t.properties.map((p) => p.name));
      for (const p of t.properties) {
        const x = props.find((y) => attr(y, 'Name') === p.name)!;
        expect(attr(x, 'Nullable'), `${t.name}.${p.name}`).toBe(String(p.nullable));
        expect(attr(x, 'MaxLength'), `${t.name}.${p.name}`).toBe(p.maxLength === undefined ? undefined : String(p.maxLength));
      }
    }
  });

  it('is what the ERP serves as v2 $metadata (v4: the CSDL file)', () => {
    expect(erpMetadata('v2')).toBe(text);
    expect(erpMetadata('v4')).toBe(model.csdl);
  });

  it('has no Edm.Date: dates are Edm.DateTime, instants stay Edm.DateTimeOffset (or become DateTime on request)', () => {
    expect(text).not.toMatch(/"Edm\.Date"/);
    const typeOf = (xml: string, type: string, name: string) =>
      kids(kids(readXml(xml).children[0].children[0], 'EntityType').find((e) => attr(e, 'Name') === type)!, 'Property').find((p) => attr(p, 'Name') === name)!;
    expect(attr(typeOf(text, 'SalesOrder', 'OrderDate'), 'Type')).toBe('Edm.DateTime');
    expect(attr(typeOf(text, 'Customer', 'CreatedAt'), 'Type')).toBe('Edm.DateTimeOffset');
    const plain = edmxV2(model, { dateTimeOffset: 'DateTime' });
    expect(plain).not.toMatch(/Edm\.DateTimeOffset|"Edm\.Date"/);
    expect(attr(typeOf(plain, 'Customer', 'CreatedAt'), 'Type')).toBe('Edm.DateTime');
  });

  it('has consistent associations: every navigation property names an Association whose Ends are real types and its roles', () => {
    const ns = 'Understudy.Erp.';
    const associations = new Map(kids(schema, 'Association').map((a) => [`${ns}${attr(a, 'Name')}`, a]));
    let navigations = 0;
    for (const e of kids(schema, 'EntityType')) {
      for (const n of kids(e, 'NavigationProperty')) {
        navigations++;
        const where = `${attr(e, 'Name')}.${attr(n, 'Name')}`;
        const a = associations.get(attr(n, 'Relationship')!);
        expect(a, where).toBeDefined();
        const ends = kids(a!, 'End');
        expect(ends, where).toHaveLength(2);
        for (const end of ends) expect(model.entityType(attr(end, 'Type')!), where).toBeDefined();
        const from = ends.find((x) => attr(x, 'Role') === attr(n, 'FromRole'));
        const to = ends.find((x) => attr(x, 'Role') === attr(n, 'ToRole'));
        expect(from && attr(from, 'Type'), where).toBe(`${ns}${attr(e, 'Name')}`);
        const v4 = model.entityType(`${ns}${attr(e, 'Name')}`)!.navigationProperty(attr(n, 'Name')!)!;
        expect(to && attr(to, 'Type'), where).toBe(v4.target);
        expect(attr(to!, 'Multiplicity'), where).toBe(v4.collection ? '*' : v4.nullable ? '0..1' : '1');
        expect(attr(from!, 'Role'), where).not.toBe(attr(to!, 'Role'));
      }
    }
    expect(navigations).toBe(model.entityTypes.reduce((k, t) => k + t.navigationProperties.length, 0));
    // partners share one association: Customer.SalesOrders and SalesOrder.Customer
    expect(associations.size).toBe(6);
  });

  it('keeps the referential constraints: principal = the referenced key, dependent = the foreign key', () => {
    for (const a of kids(schema, 'Association')) {
      const c = kids(a, 'ReferentialConstraint')[0];
      if (!c) continue;
      const roleType = (role: string) => attr(kids(a, 'End').find((e) => attr(e, 'Role') === role)!, 'Type')!;
      const principal = kids(c, 'Principal')[0];
      const dependent = kids(c, 'Dependent')[0];
      const principalType = model.entityType(roleType(attr(principal, 'Role')!))!;
      expect(kids(principal, 'PropertyRef').map((r) => attr(r, 'Name'))).toEqual(principalType.key);
      const dependentType = model.entityType(roleType(attr(dependent, 'Role')!))!;
      for (const r of kids(dependent, 'PropertyRef')) expect(dependentType.property(attr(r, 'Name')!), attr(a, 'Name')).toBeDefined();
    }
    expect(kids(schema, 'Association').filter((a) => kids(a, 'ReferentialConstraint').length)).toHaveLength(6);
  });

  it('binds every association to entity sets of the right types with an AssociationSet', () => {
    const associations = new Map(kids(schema, 'Association').map((a) => [`Understudy.Erp.${attr(a, 'Name')}`, a]));
    const sets = new Map(kids(container, 'EntitySet').map((s) => [attr(s, 'Name')!, attr(s, 'EntityType')!]));
    const used = new Set<string>();
    for (const s of kids(container, 'AssociationSet')) {
      const a = associations.get(attr(s, 'Association')!)!;
      expect(a, attr(s, 'Name')).toBeDefined();
      used.add(attr(s, 'Association')!);
      for (const end of kids(s, 'End')) {
        const aEnd = kids(a, 'End').find((x) => attr(x, 'Role') === attr(end, 'Role'));
        expect(aEnd && attr(aEnd, 'Type')).toBe(sets.get(attr(end, 'EntitySet')!));
      }
    }
    expect([...used].sort()).toEqual([...associations.keys()].sort());
  });
});
