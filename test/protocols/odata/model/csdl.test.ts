/**
 * contracts/erp.csdl.xml as the model reads it: the five entity sets Salesforce Connect syncs, each keyed by one
 * non-nullable property (Customers by the id SOAP's GetCustomer takes), navigation both ways with bindings, every
 * string a Text(n) of at most 255 in Salesforce, writability as the issue says, and the v4 $metadata served as the
 * file itself.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readXml } from '../../../../src/protocols/xml/xml-reader.js';
import { ERP_CSDL_FILE, ERP_ENTITY_SETS, loadErpModel } from '../../../../src/systems/erp/odata-model.js';
import { salesforceFieldType } from '../../../../src/protocols/odata/model/model.js';

const model = loadErpModel();

describe('the ERP CSDL', () => {
  it('holds the five entity sets in the container ErpService', () => {
    expect(model.namespace).toBe('Understudy.Erp');
    expect(model.containerName).toBe('ErpService');
    expect(model.entitySets.map((s) => s.name)).toEqual([...ERP_ENTITY_SETS]);
  });

  it('keys every set by one non-nullable property', () => {
    const keys = Object.fromEntries(model.entitySets.map((s) => [s.name, s.entityType.key]));
    expect(keys).toEqual({
      Customers: ['CustomerId'],
      Products: ['ProductId'],
      SalesOrders: ['SalesOrderId'],
      Invoices: ['InvoiceId'],
      InvoiceLines: ['InvoiceLineId'],
    });
    for (const s of model.entitySets) for (const k of s.entityType.key) expect(s.entityType.property(k)!.nullable, `${s.name}.${k}`).toBe(false);
  });

  it('keys Customers by the 10-digit id GetCustomer takes, InvoiceLines by an Int32', () => {
    expect(model.entitySet('Customers')!.entityType.property('CustomerId')).toEqual({ name: 'CustomerId', type: 'Edm.String', nullable: false, maxLength: 10 });
    expect(model.entitySet('InvoiceLines')!.entityType.property('InvoiceLineId')).toEqual({ name: 'InvoiceLineId', type: 'Edm.Int32', nullable: false });
  });

  it('declares the navigation the issue asks for, partners leading back, every one bound', () => {
    const nav = (type: string, name: string) => model.entityType(`Understudy.Erp.${type}`)!.navigationProperty(name)!;
    expect(nav('Customer', 'SalesOrders')).toMatchObject({ target: 'Understudy.Erp.SalesOrder', collection: true, partner: 'Customer' });
    expect(nav('Customer', 'Invoices')).toMatchObject({ target: 'Understudy.Erp.Invoice', collection: true, partner: 'Customer' });
    expect(nav('SalesOrder', 'Customer')).toMatchObject({ target: 'Understudy.Erp.Customer', collection: false, nullable: false, partner: 'SalesOrders', constraints: [{ property: 'CustomerId', referencedProperty: 'CustomerId' }] });
    expect(nav('Invoice', 'Lines')).toMatchObject({ target: 'Understudy.Erp.InvoiceLine', collection: true, partner: 'Invoice' });
    expect(nav('InvoiceLine', 'Invoice')).toMatchObject({ target: 'Understudy.Erp.Invoice', collection: false, partner: 'Lines' });
    expect(nav('InvoiceLine', 'Product')).toMatchObject({ target: 'Understudy.Erp.Product', collection: false, constraints: [{ property: 'ProductId', referencedProperty: 'ProductId' }] });
    const bindings = Object.fromEntries(model.entitySets.map((s) => [s.name, Object.fromEntries(s.bindings.map((b) => [b.path, b.target]))]));
    expect(bindings).toEqual({
      Customers: { SalesOrders: 'SalesOrders', Invoices: 'Invoices' },
      Products: {},
      SalesOrders: { Customer: 'Customers', Invoice: 'Invoices' },
      Invoices: { Customer: 'Customers', SalesOrder: 'SalesOrders', Lines: 'InvoiceLines' },
      InvoiceLines: { Invoice: 'Invoices', Product: 'Products' },
    });
  });

  it('makes every string a Text(n) of at most 255 in Salesforce, money Decimal(15,2)', () => {
    for (const t of model.entityTypes) {
      for (const p of t.properties) {
        const sf = salesforceFieldType(p);
        if (p.type === 'Edm.String') {
          expect(sf, `${t.name}.${p.name}`).toMatch(/^Text\(\d+\)$/);
          expect(p.maxLength, `${t.name}.${p.name}`).toBeLessThanOrEqual(255);
        }
        if (p.type === 'Edm.Decimal') expect([p.precision, p.scale], `${t.name}.${p.name}`).toEqual([15, 2]);
      }
    }
  });

  it('lets Salesforce write Customers and SalesOrders only', () => {
    const rights = Object.fromEntries(model.entitySets.map((s) => [s.name, [s.insertable, s.updatable, s.deletable]]));
    expect(rights).toEqual({
      Customers: [true, true, true],
      Products: [false, false, false],
      SalesOrders: [true, true, true],
      Invoices: [false, false, false],
      InvoiceLines: [false, false, false],
    });
  });

  it('is served as v4 $metadata as written, and that document reads as XML', () => {
    expect(model.csdl).toBe(readFileSync(ERP_CSDL_FILE, 'utf8'));
    const root = readXml(model.csdl);
    expect([root.local, root.attrs.find((a) => a.local === 'Version')?.value]).toEqual(['Edmx', '4.0']);
  });

  it('is read once per process', () => {
    expect(loadErpModel()).toBe(model);
  });
});
