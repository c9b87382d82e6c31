/**
 * GetCustomer and UpsertCustomer. UpsertCustomer is keyed by ExternalId (the caller's id, Salesforce's external id
 * field): a new ExternalId inserts (Name, Country and CurrencyCode required), a known one updates only the elements
 * present — null (xsi:nil) clears a nillable element (CreditLimit null = no limit), absent leaves it. An update that
 * changes nothing answers the customer as it is, without an effect and without changing the state.
 */
import type { SoapHandler } from '../../protocols/soap/handler.js';
import { fault, missingFields } from './faults.js';
import { toCents } from './ids.js';
import type { CustomerRecord, CurrencyCode } from './records.js';
import type { CustomerFields, ErpState } from './state.js';
import { customerView } from './views.js';

export const getCustomer: SoapHandler<ErpState> = (req, state) => {
  const id = req.body.CustomerId;
  const customer = typeof id === 'string' ? state.customer(id) : undefined;
  if (!customer) return fault('CUSTOMER_NOT_FOUND', `Customer ${String(id)} does not exist`);
  return { body: { Customer: customerView(state, customer) } };
};

/** the request elements UpsertCustomer may set, and whether xsi:nil may clear them */
const FIELDS = [
  { element: 'Name', field: 'name', nillable: false },
  { element: 'Email', field: 'email', nillable: true },
  { element: 'City', field: 'city', nillable: true },
  { element: 'Country', field: 'country', nillable: false },
  { element: 'CurrencyCode', field: 'currencyCode', nillable: false },
  { element: 'CreditLimit', field: 'creditLimitCents', nillable: true },
] as const;

type Changes = Partial<Omit<CustomerFields, 'externalId'>>;

export const upsertCustomer: SoapHandler<ErpState> = (req, state) => {
  const body = req.body;
  const externalId = body.ExternalId;
  if (typeof externalId !== 'string' || externalId === '') return missingFields('UpsertCustomer', ['ExternalId']);

  // what the request sets: absent elements are left out; a nil on an element that is not nillable (the engine
  // refuses it first) counts as missing
  const changes: Record<string, unknown> = {};
  const nilled: string[] = [];
  for (const { element, field, nillable } of FIELDS) {
    const value = body[element];
    if (value === undefined) continue;
    if (value === null && !nillable) {
      nilled.push(element);
      continue;
    }
    changes[field] = element === 'CreditLimit' && value !== null ? toCents(value as number) : value;
  }

  const existing = state.customerByExternalId(externalId);
  if (!existing) {
    const missing = ['Name', 'Country', 'CurrencyCode'].filter((e) => body[e] === undefined || body[e] === null);
    if (missing.length) return missingFields('UpsertCustomer (a new customer)', missing);
    const fields: CustomerFields = {
      externalId,
      name: changes.name as string,
      email: (changes.email as string | null | undefined) ?? null,
      city: (changes.city as string | null | undefined) ?? null,
      country: changes.country as string,
      currencyCode: changes.currencyCode as CurrencyCode,
      creditLimitCents: (changes.creditLimitCents as number | null | undefined) ?? null,
      blocked: false,
    };
    const created = state.createCustomer(fields);
    return {
      body: { Customer: customerView(state, created), Created: true },
      effects: [{ entity: 'Customer', id: created.id, action: 'created' }],
    };
  }

  if (nilled.length) return missingFields('UpsertCustomer', nilled);
  const differing = Object.keys(changes).filter((field) => existing[field as keyof CustomerRecord] !== changes[field]);
  if (differing.length === 0) return { body: { Customer: customerView(state, existing), Created: false }, changedState: false };
  const updated = state.updateCustomer(existing.id, Object.fromEntries(differing.map((f) => [f, changes[f]])) as Changes);
  return {
    body: { Customer: customerView(state, updated), Created: false },
    effects: [{ entity: 'Customer', id: updated.id, action: 'updated' }],
  };
};
