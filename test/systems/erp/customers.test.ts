/**
 * GetCustomer and UpsertCustomer: reads of seeded customers, inserts by a new ExternalId (numbering continues the
 * seeded range), updates of only the elements present, xsi:nil clearing a nillable element, a no-op update that
 * changes nothing, and the faults (CUSTOMER_NOT_FOUND, REQUIRED_FIELD_MISSING with a problem per element).
 */
import { describe, expect, it } from 'vitest';
import { customerWhere, erp, SMALL, START } from './fixtures.js';

describe('GetCustomer', () => {
  it('answers a seeded customer as the WSDL describes it', () => {
    const f = erp();
    const c = f.state.customer('0001000003')!;
    const result = f.call('GetCustomer', { CustomerId: '0001000003' });
    expect(result.body.Customer).toEqual({
      CustomerId: '0001000003',
      ExternalId: c.externalId,
      Name: c.name,
      Email: c.email,
      City: c.city,
      Country: c.country,
      CurrencyCode: c.currencyCode,
      CreditLimit: c.creditLimitCents === null ? null : c.creditLimitCents / 100,
      OpenOrderValue: 0,
      Blocked: c.blocked,
      CreatedAt: new Date(c.createdAt).toISOString(),
      ChangedAt: new Date(c.changedAt).toISOString(),
    });
    expect(result.effects).toBeUndefined();
  });

  it.each(['0001000060', '0000000001', '0070000001', '9999999999'])('%s is CUSTOMER_NOT_FOUND', (id) => {
    const result = erp().call('GetCustomer', { CustomerId: id });
    expect(result.fault).toMatchObject({ code: 'CUSTOMER_NOT_FOUND', side: 'server' });
    expect(result.fault.message).toContain(id);
  });
});

describe('UpsertCustomer', () => {
  const insert = { ExternalId: 'SF-001', Name: 'Acme Widgets Ltd', Country: 'GB', CurrencyCode: 'GBP' };

  it('inserts a customer for a new ExternalId, numbered after the seeded ones, with an effect', () => {
    const f = erp();
    f.clock.set(START + 5000);
    const result = f.call('UpsertCustomer', { ...insert, Email: 'ap@acme.example', CreditLimit: 2500.5 });
    const id = `000${1_000_000 + SMALL.customers}`;
    expect(result.body).toEqual({
      Customer: {
        CustomerId: id,
        ExternalId: 'SF-001',
        Name: 'Acme Widgets Ltd',
        Email: 'ap@acme.example',
        City: null,
        Country: 'GB',
        CurrencyCode: 'GBP',
        CreditLimit: 2500.5,
        OpenOrderValue: 0,
        Blocked: false,
        CreatedAt: new Date(START + 5000).toISOString(),
        ChangedAt: new Date(START + 5000).toISOString(),
      },
      Created: true,
    });
    expect(result.effects).toEqual([{ entity: 'Customer', id, action: 'created' }]);
    expect(result.changedState).toBeUndefined();
    expect(f.call('GetCustomer', { CustomerId: id }).body.Customer).toEqual(result.body.Customer);
    expect(f.state.customerCount()).toBe(SMALL.customers + 1);
    // the next one continues the range
    const second = f.call('UpsertCustomer', { ...insert, ExternalId: 'SF-002' });
    expect(second.body.Customer.CustomerId).toBe(`000${1_000_000 + SMALL.customers + 1}`);
    expect(second.body.Customer.CreditLimit).toBeNull();
  });

  it('a new customer needs Name, Country and CurrencyCode: a client fault with a problem per missing element, nothing created', () => {
    const f = erp();
    const result = f.call('UpsertCustomer', { ExternalId: 'SF-009', Name: 'Only A Name', Email: null });
    expect(result.fault).toMatchObject({
      code: 'REQUIRED_FIELD_MISSING',
      side: 'client',
      problems: [
        { path: 'Country', text: 'is required' },
        { path: 'CurrencyCode', text: 'is required' },
      ],
    });
    expect(f.state.customerCount()).toBe(SMALL.customers);
    expect(f.state.revision).toBe(0);
  });

  it('updates only the elements present; xsi:nil clears a nillable one; absent leaves it', () => {
    const f = erp();
    const created = f.call('UpsertCustomer', { ...insert, Email: 'ap@acme.example', City: 'Leeds', CreditLimit: 1000 }).body.Customer;
    f.clock.advance(60_000);
    const result = f.call('UpsertCustomer', { ExternalId: 'SF-001', City: null, CreditLimit: null, Name: 'Acme Widgets UK Ltd' });
    expect(result.body.Created).toBe(false);
    expect(result.body.Customer).toEqual({
      ...created,
      Name: 'Acme Widgets UK Ltd',
      City: null,
      CreditLimit: null,
      ChangedAt: new Date(START + 60_000).toISOString(),
    });
    expect(result.effects).toEqual([{ entity: 'Customer', id: created.CustomerId, action: 'updated' }]);
    expect(f.state.customer(created.CustomerId)!.version).toBe(2);
  });

  it('updates a seeded customer found by its LEGACY external id, without touching the seeded base', () => {
    const f = erp();
    const id = customerWhere(f.state, (c) => c.externalId !== null);
    const seeded = f.state.customer(id)!;
    const result = f.call('UpsertCustomer', { ExternalId: seeded.externalId, CreditLimit: 123.45, Email: null });
    expect(result.body.Created).toBe(false);
    expect(result.body.Customer).toMatchObject({ CustomerId: id, CreditLimit: 123.45, Email: null, Name: seeded.name });
    expect(f.state.base.customers[seeded.number - 1_000_000]).toBe(seeded);
    expect(erp().state.customer(id)).toEqual(seeded);
  });

  it('an update cannot nil an element that is not nillable: REQUIRED_FIELD_MISSING, nothing changed', () => {
    const f = erp();
    f.call('UpsertCustomer', insert);
    const revision = f.state.revision;
    const result = f.call('UpsertCustomer', { ExternalId: 'SF-001', Name: null, City: 'York' });
    expect(result.fault).toMatchObject({ code: 'REQUIRED_FIELD_MISSING', side: 'client', problems: [{ path: 'Name', text: 'is required' }] });
    expect(f.state.revision).toBe(revision);
    expect(f.state.customerByExternalId('SF-001')!.city).toBeNull();
  });

  it('an update that changes nothing answers the customer, with no effect and changedState false', () => {
    const f = erp();
    f.call('UpsertCustomer', { ...insert, CreditLimit: 10 });
    const revision = f.state.revision;
    f.clock.advance(1000);
    const result = f.call('UpsertCustomer', { ...insert, CreditLimit: 10 });
    expect(result.body.Created).toBe(false);
    expect(result.changedState).toBe(false);
    expect(result.effects).toBeUndefined();
    expect(result.body.Customer.ChangedAt).toBe(new Date(START).toISOString());
    expect(f.state.revision).toBe(revision);
    // only ExternalId: nothing to change either
    expect(f.call('UpsertCustomer', { ExternalId: 'SF-001' }).changedState).toBe(false);
  });
});
