/**
 * What the CSDL reader refuses, each with a message naming it: variants of the real contract with one thing
 * wrong — a DOCTYPE (no DTD is ever read), a missing key, an unknown type, a nullable key property, and the other
 * things the model cannot represent or the OData face could not serve. The real contract reads cleanly.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CsdlError, loadCsdlFile, readCsdl } from '../../../../src/protocols/odata/model/csdl-reader.js';
import { ERP_CSDL_FILE } from '../../../../src/systems/erp/odata-model.js';

const CSDL = readFileSync(ERP_CSDL_FILE, 'utf8');

/** the contract with `from` replaced by `to` (which must occur) */
function variant(from: string | RegExp, to: string): string {
  const out = CSDL.replace(from, to);
  expect(out, `variant: ${String(from)}`).not.toBe(CSDL);
  return out;
}

const refusal = (text: string): string => {
  try {
    readCsdl(text);
  } catch (err) {
    expect(err).toBeInstanceOf(CsdlError);
    return (err as Error).message;
  }
  throw new Error('the variant was accepted');
};

describe('the CSDL reader refuses', () => {
  it('reads the real contract', () => {
    expect(readCsdl(CSDL).entitySets).toHaveLength(5);
    expect(loadCsdlFile(ERP_CSDL_FILE).entitySets).toHaveLength(5);
  });

  it('a DOCTYPE, before any entity is declared', () => {
    const xxe = CSDL.replace('<edmx:Edmx', '<!DOCTYPE edmx:Edmx [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<edmx:Edmx').replace('MaxLength="80"/>', 'MaxLength="80">&x;</Property>');
    expect(refusal(xxe)).toMatch(/DOCTYPE is not allowed/);
  });

  it('an entity type without a key', () => {
    expect(refusal(variant('<Key><PropertyRef Name="ProductId"/></Key>', ''))).toMatch(/EntityType Product has no Key.*External ID/);
  });

  it('a key naming no property', () => {
    expect(refusal(variant('<PropertyRef Name="ProductId"/>', '<PropertyRef Name="Sku"/>'))).toMatch(/Product's key names Sku, which is not one of its properties/);
  });

  it('an unknown type, a complex type and a collection-valued property', () => {
    expect(refusal(variant('Name="Blocked" Type="Edm.Boolean"', 'Name="Blocked" Type="Edm.Geography"'))).toMatch(/Customer\.Blocked has type Edm\.Geography, which the model does not support/);
    expect(refusal(variant('Name="City" Type="Edm.String"', 'Name="City" Type="Understudy.Erp.Address"'))).toMatch(/Customer\.City has type Understudy\.Erp\.Address/);
    expect(refusal(variant('Name="City" Type="Edm.String"', 'Name="City" Type="Collection(Edm.String)"'))).toMatch(/collection-valued properties are not supported/);
    expect(refusal(variant('<EntityType Name="Product">', '<ComplexType Name="Address"/><EntityType Name="Product">'))).toMatch(/<ComplexType>, which the model does not support/);
  });

  it('a nullable key property, stated or by default', () => {
    expect(refusal(variant('Name="CustomerId" Type="Edm.String" Nullable="false"', 'Name="CustomerId" Type="Edm.String" Nullable="true"'))).toMatch(/Customer's key property CustomerId is nullable/);
    expect(refusal(variant('Name="InvoiceLineId" Type="Edm.Int32" Nullable="false"', 'Name="InvoiceLineId" Type="Edm.Int32"'))).toMatch(/InvoiceLine's key property InvoiceLineId is nullable: key properties must be Nullable="false"/);
  });

  it('facets it cannot honour', () => {
    expect(refusal(variant('Name="Name" Type="Edm.String" Nullable="false" MaxLength="80"', 'Name="Name" Type="Edm.String" Nullable="false" MaxLength="max"'))).toMatch(/Customer\.Name: MaxLength="max" is not supported/);
    expect(refusal(variant('Name="Blocked" Type="Edm.Boolean" Nullable="false"', 'Name="Blocked" Type="Edm.Boolean" Nullable="false" MaxLength="1"'))).toMatch(/MaxLength applies to Edm\.String/);
    expect(refusal(variant('Name="UnitPrice" Type="Edm.Decimal" Nullable="false" Precision="15" Scale="2"/>\n      </EntityType>', 'Name="UnitPrice" Type="Edm.Decimal" Nullable="false" Precision="15" Scale="variable"/>\n      </EntityType>'))).toMatch(/Product\.UnitPrice: Scale="variable" is not supported/);
    expect(refusal(variant('Name="Blocked" Type="Edm.Boolean" Nullable="false"', 'Name="Blocked" Type="Edm.Boolean" Nullable="no"'))).toMatch(/Nullable="no" is neither true nor false/);
  });

  it('navigation that does not resolve', () => {
    expect(refusal(variant('Type="Collection(Understudy.Erp.SalesOrder)"', 'Type="Collection(Understudy.Erp.Order)"'))).toMatch(/Customer\.SalesOrders leads to Understudy\.Erp\.Order, which is not an entity type/);
    expect(refusal(variant('Partner="SalesOrders">', 'Partner="Orders">'))).toMatch(/SalesOrder\.Customer names (the|another) partner \(?Orders/);
    expect(refusal(variant('<ReferentialConstraint Property="ProductId" ReferencedProperty="ProductId"/>', '<ReferentialConstraint Property="Sku" ReferencedProperty="ProductId"/>'))).toMatch(/InvoiceLine\.Product's referential constraint names Sku/);
    expect(refusal(variant('<NavigationPropertyBinding Path="Product" Target="Products"/>', ''))).toMatch(/EntitySet InvoiceLines does not bind InvoiceLine\.Product.*AssociationSet/);
    expect(refusal(variant('<NavigationPropertyBinding Path="Product" Target="Products"/>', '<NavigationPropertyBinding Path="Product" Target="Invoices"/>'))).toMatch(/targets Invoices, a set of Invoice, but Product leads to Understudy\.Erp\.Product/);
    expect(refusal(variant('<NavigationPropertyBinding Path="Product" Target="Products"/>', '<NavigationPropertyBinding Path="Product" Target="Parts"/>'))).toMatch(/targets Parts, which is not an entity set/);
  });

  it('inheritance, open types, media entities, singletons and operations', () => {
    expect(refusal(variant('<EntityType Name="Product">', '<EntityType Name="Product" OpenType="true">'))).toMatch(/EntityType Product: OpenType is not supported/);
    expect(refusal(variant('<EntityType Name="Product">', '<EntityType Name="Product" BaseType="Understudy.Erp.Customer">'))).toMatch(/BaseType is not supported/);
    expect(refusal(variant('<EntityType Name="Product">', '<EntityType Name="Product" HasStream="true">'))).toMatch(/HasStream is not supported/);
    expect(refusal(variant('<EntityContainer Name="ErpService">', '<EntityContainer Name="ErpService"><Singleton Name="Me" Type="Understudy.Erp.Customer"/>'))).toMatch(/EntityContainer holds <Singleton>/);
    expect(refusal(variant('<EntityType Name="Product">', '<Function Name="Top"><ReturnType Type="Edm.Int32"/></Function><EntityType Name="Product">'))).toMatch(/holds <Function>/);
  });

  it('documents that are not CSDL 4.0', () => {
    expect(refusal(variant('Version="4.0"', 'Version="1.0"'))).toMatch(/Version="1.0" is not supported/);
    expect(refusal(CSDL.replace('http://docs.oasis-open.org/odata/ns/edm"', 'http://schemas.microsoft.com/ado/2008/09/edm"'))).toMatch(/not an edm:Schema/);
    expect(refusal('<root/>')).toMatch(/root element is <root>/);
    expect(refusal('<edmx:Edmx')).toMatch(/not acceptable XML/);
    expect(refusal(variant('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="UTF-8"?><?php x?>'))).toMatch(/processing instructions are not allowed/);
  });

  it('names the file when reading one', () => {
    expect(() => loadCsdlFile('/nonexistent/erp.csdl.xml')).toThrow(/ENOENT/);
  });
});
