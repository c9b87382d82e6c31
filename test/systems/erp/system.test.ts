/**
 * The ERP's system definition and read API: the definition the SOAP engine mounts (a handler per WSDL operation,
 * writes, keys, fault element, state options), option validation, the read API OData will use (id order,
 * keyset iteration, revision, versions), and a check that the WSDL check of the fixtures catches wrong bodies.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createErpSystem, ERP_DEFAULTS, ERP_FAULT_CODES } from '../../../src/systems/erp/index.js';
import { checkBody, customerWhere, erp, SMALL, START, WSDL_FILE } from './fixtures.js';

describe('createErpSystem', () => {
  it('defines the ERP as the SOAP engine mounts it', () => {
    const system = createErpSystem(ERP_DEFAULTS);
    expect(system).toMatchObject({
      name: 'erp',
      mount: '/erp/soap',
      wsdlFile: WSDL_FILE,
      writes: ['UpsertCustomer', 'CreateSalesOrder', 'CancelSalesOrder'],
      keys: { CreateSalesOrder: 'ExternalOrderNumber', UpsertCustomer: 'ExternalId' },
      faultElement: 'ErpFault',
      stateOptions: { customers: 500, invoices: 10_000, invoiceLines: 1_000_000 },
    });
    expect(ERP_DEFAULTS).toEqual({ customers: 500, invoices: 10_000, invoiceLines: 1_000_000 });
    expect(createErpSystem({}).stateOptions).toEqual(system.stateOptions);
  });

  it('has a handler for every operation of the WSDL, and every write and key names one', () => {
    const wsdl = readFileSync(WSDL_FILE, 'utf8');
    const portType = /<wsdl:portType[\s\S]*?<\/wsdl:portType>/.exec(wsdl)![0];
    const operations = [...portType.matchAll(/<wsdl:operation name="(\w+)"/g)].map((m) => m[1]);
    const system = createErpSystem(SMALL);
    expect(Object.keys(system.handlers).sort()).toEqual([...operations].sort());
    for (const w of system.writes) expect(operations).toContain(w);
    for (const [op, element] of Object.entries(system.keys!)) expect(wsdl).toMatch(new RegExp(`<xsd:element name="${op}">[\\s\\S]*?name="${element}"`));
  });

  it.each([
    [{ customers: 0 }, /customers must be an integer from 1/],
    [{ invoices: -1 }, /invoices must be an integer from 0/],
    [{ invoiceLines: 1.5 }, /invoiceLines must be an integer/],
    [{ invoiceLines: 100_000_001 }, /invoiceLines must be an integer from 0 to 100000000/],
    [{ maxObjects: 0 }, /maxObjects must be an integer >= 1/],
  ])('refuses %o', (options, message) => {
    expect(() => createErpSystem({ ...SMALL, ...options })).toThrow(message);
  });

  it('lists its fault codes', () => {
    expect([...ERP_FAULT_CODES].sort()).toEqual(
      [
        'CREDIT_LIMIT_EXCEEDED',
        'CUSTOMER_BLOCKED',
        'CUSTOMER_NOT_FOUND',
        'EXTERNAL_ORDER_NUMBER_IN_USE',
        'INVALID_PAGE_TOKEN',
        'INVOICE_NOT_FOUND',
        'ORDER_NOT_CANCELLABLE',
        'ORDER_NOT_FOUND',
        'PRODUCT_NOT_FOUND',
        'REQUIRED_FIELD_MISSING',
      ].sort(),
    );
  });
});

describe('the read API (what OData reads next)', () => {
  it('customers and sales orders in id order, with keyset iteration; created ones after the seeded ones', () => {
    const f = erp();
    const customer = customerWhere(f.state, (c) => !c.blocked && c.creditLimitCents === null);
    f.call('UpsertCustomer', { ExternalId: 'NEW', Name: 'New Co', Country: 'US', CurrencyCode: 'USD' });
    f.call('CreateSalesOrder', { ExternalOrderNumber: 'A', CustomerId: customer, Line: [{ ProductId: 'MAT-000001', Quantity: 1 }] });
    const customers = [...f.state.customers()];
    expect(customers).toHaveLength(SMALL.customers + 1);
    expect(customers.map((c) => c.id)).toEqual([...customers.map((c) => c.id)].sort());
    expect(customers.at(-1)!.externalId).toBe('NEW');
    expect([...f.state.customers('0001000057')].map((c) => c.id)).toEqual(['0001000058', '0001000059', '0001000060']);
    const orders = [...f.state.salesOrders()];
    expect(orders).toHaveLength(f.state.salesOrderCount());
    expect(orders.map((o) => o.id)).toEqual([...orders.map((o) => o.id)].sort());
    expect(orders.at(-1)!.externalOrderNumber).toBe('A');
    expect([...f.state.salesOrders('0070000399')].map((o) => o.id)).toEqual(['0070000400', orders.at(-1)!.id]);
    expect(f.state.customerByExternalId('NEW')!.id).toBe(customers.at(-1)!.id);
  });

  it('revision changes with every write; versions and changedAt move with each record', () => {
    const f = erp();
    expect(f.state.revision).toBe(0);
    const customer = customerWhere(f.state, (c) => !c.blocked && c.creditLimitCents === null);
    f.call('CreateSalesOrder', { ExternalOrderNumber: 'A', CustomerId: customer, Line: [{ ProductId: 'MAT-000001', Quantity: 1 }] });
    expect(f.state.revision).toBe(1);
    const order = f.state.salesOrderByExternalNumber('A')!;
    expect(order).toMatchObject({ version: 1, changedAt: START, createdAt: START });
    f.clock.advance(5000);
    f.call('CancelSalesOrder', { SalesOrderId: order.id });
    expect(f.state.revision).toBe(2);
    expect(f.state.salesOrder(order.id)).toMatchObject({ version: 2, changedAt: START + 5000, createdAt: START, status: 'CANCELLED' });
    // the record handed out before is not changed by the write
    expect(order.status).toBe('OPEN');
    // seeded records are version 1, changed before the base date
    expect(f.state.invoiceAt(0)).toMatchObject({ version: 1 });
    expect(f.state.salesOrder('0070000001')!.changedAt).toBeLessThan(Date.UTC(2026, 0, 1));
  });

  it('invoice lines by global index and by invoice agree; a customer has its invoices indexed', () => {
    const f = erp();
    const line = f.state.invoiceLineAt(12_345);
    expect(f.state.invoiceLines(line.invoiceIndex).find((l) => l.index === 12_345)).toEqual(line);
    const customer = f.state.invoiceAt(7).customerId;
    expect(Array.from(f.state.customerInvoiceIndexes(customer))).toContain(7);
    expect(() => f.state.invoiceLineAt(SMALL.invoiceLines)).toThrow(RangeError);
    expect(() => f.state.invoiceAt(-1)).toThrow(RangeError);
  });
});

describe('the fixtures check bodies against the WSDL', () => {
  const good = () => erp().call('GetCustomer', { CustomerId: '0001000001' }).body;
  it.each([
    ['a missing required element', (b: any) => delete b.Customer.Name],
    ['a nil on a non-nillable element', (b: any) => (b.Customer.Country = null)],
    ['elements out of order', (b: any) => (b.Customer = { Name: b.Customer.Name, ...b.Customer })],
    ['an unknown element', (b: any) => (b.Customer.Colour = 'red')],
    ['three fraction digits', (b: any) => (b.Customer.OpenOrderValue = 1.005)],
    ['a broken pattern', (b: any) => (b.Customer.CustomerId = '123')],
  ])('catches %s', (_, spoil) => {
    const body = good();
    expect(() => checkBody('GetCustomerResponse', body)).not.toThrow();
    spoil(body);
    expect(() => checkBody('GetCustomerResponse', body)).toThrow();
  });
});
