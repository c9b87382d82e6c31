/**
 * Writes through the ERP's OData face: create, update (PATCH/MERGE or PUT) and delete of Customers and
 * SalesOrders (the other sets are seeded and read-only). They write the same ErpState SOAP writes, by the same
 * rules, so that each protocol can always serve what the other wrote:
 *
 * - values: every value is checked against the WSDL's own types (contracts/erp.wsdl's Customer and SalesOrder,
 *   with the SOAP engine's XSD code: patterns, enumerations, lengths, amounts) before it is stored — a value SOAP's
 *   schema forbids would otherwise come back out of GetCustomer / GetSalesOrder as a response that breaks its
 *   contract. The engine has already checked the CSDL's types, MaxLengths and nullability.
 * - customers: Name, Country and CurrencyCode make a new one (UpsertCustomer's rule); an external id is one
 *   customer's and never changes; a customer with invoices or sales orders cannot be deleted.
 * - sales orders: the customer must exist and not be blocked, the order is in the customer's currency, and the
 *   credit limit is checked exactly as CreateSalesOrder checks it (creditLimitRefusal, shared). An OData order has
 *   no lines (the CSDL has none): its NetAmount is given, and may change while it is OPEN; its lines-made
 *   amount may not. OPEN → CANCELLED is CancelSalesOrder (the open value is released); an INVOICED order is
 *   locked; nothing is ever reopened.
 *
 * Every rule is checked before anything is written: a refused write changes nothing. An update that changes
 * nothing answers the row with changedState false (not logged, no effect), as UpsertCustomer's does.
 *
 * Codes: SOAP's where SOAP has the same refusal (REQUIRED_FIELD_MISSING, CUSTOMER_NOT_FOUND, CUSTOMER_BLOCKED,
 * CREDIT_LIMIT_EXCEEDED, EXTERNAL_ORDER_NUMBER_IN_USE, ORDER_NOT_FOUND); the rest (ERP_ODATA_ERROR_CODES) only
 * OData can provoke, so they are not in ERP_FAULT_CODES.
 */
import { fileURLToPath } from 'node:url';
import type { Effect } from '../../engine/exchange.js';
import type { RowValue } from '../../protocols/odata/evaluate/values.js';
import type { ODataEntitySetHandler, ODataFailure, WriteValues } from '../../protocols/odata/handler.js';
import type { Property } from '../../protocols/odata/model/model.js';
import { loadWsdl } from '../../protocols/soap/wsdl.js';
import { writeContent, type ComplexType, type Problem } from '../../protocols/soap/xsd.js';
import type { ErpFaultCode } from './faults.js';
import { dayOfMs, isoDate, toCents } from './ids.js';
import { customerRow, loadErpModel, salesOrderRow } from './odata-model.js';
import { creditLimitRefusal } from './order-handlers.js';
import type { CurrencyCode, CustomerRecord, OrderStatus, SalesOrderRecord } from './records.js';
import type { CustomerFields, ErpState, SalesOrderChanges } from './state.js';

/** the properties a client may not set: ids the ERP assigns, derived values, timestamps */
export const ERP_ODATA_READ_ONLY = {
  Customers: ['CustomerId', 'OpenOrderValue', 'CreatedAt', 'ChangedAt'],
  SalesOrders: ['SalesOrderId', 'LineCount', 'InvoiceId', 'CreatedAt', 'ChangedAt'],
} as const satisfies Record<string, readonly string[]>;

/** refusals only the OData face can produce (SOAP has no delete, no PUT, no settable status or amount) */
export const ERP_ODATA_ERROR_CODES = [
  'INVALID_VALUE',
  'EXTERNAL_ID_IN_USE',
  'EXTERNAL_ID_IMMUTABLE',
  'FIELD_IMMUTABLE',
  'CUSTOMER_HAS_DOCUMENTS',
  'ORDER_LOCKED',
  'STATUS_CHANGE_NOT_ALLOWED',
  'NET_AMOUNT_NOT_CHANGEABLE',
] as const;
export type ErpODataErrorCode = (typeof ERP_ODATA_ERROR_CODES)[number];

type WriteHandlers = Pick<ODataEntitySetHandler<ErpState>, 'create' | 'update' | 'remove'>;
type Refusal = { error: ODataFailure };

function refuse(status: ODataFailure['status'], code: ErpFaultCode | ErpODataErrorCode, message: string, target?: string): Refusal {
  return { error: { status, code, message, ...(target === undefined ? {} : { target }) } };
}

const effect = (entity: 'Customer' | 'SalesOrder', id: string, action: string): Effect[] => [{ entity, id, action }];
const sent = (values: WriteValues, property: string): boolean => values[property] !== undefined;
const given = (values: WriteValues, property: string): boolean => values[property] !== undefined && values[property] !== null;

function countOf(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

// ---- the contracts: the WSDL's types for values, the CSDL's nullability for PUT -----------------------------

/** The same relative URL works from src/systems/erp (vitest) and dist/systems/erp (after tsc): same depth. */
const WSDL_FILE = fileURLToPath(new URL('../../../contracts/erp.wsdl', import.meta.url));
let soapTypes: { Customer: ComplexType; SalesOrder: ComplexType } | undefined;

/** the WSDL's Customer and SalesOrder complex types (what GetCustomer and GetSalesOrder answer), read once */
function soapType(name: 'Customer' | 'SalesOrder'): ComplexType {
  if (!soapTypes) {
    const wsdl = loadWsdl(WSDL_FILE);
    const inside = (element: string, child: string) => (wsdl.elements.get(element)!.type as ComplexType).byLocal.get(child)!.type as ComplexType;
    soapTypes = { Customer: inside('GetCustomerResponse', 'Customer'), SalesOrder: inside('GetSalesOrderResponse', 'SalesOrder') };
  }
  return soapTypes[name];
}

/** INVALID_VALUE naming every value the WSDL's type refuses (row values are SOAP's values: same names, units) */
function contractRefusal(name: 'Customer' | 'SalesOrder', values: WriteValues): Refusal | undefined {
  const type = soapType(name);
  const checked = Object.fromEntries(Object.entries(values).filter(([property, v]) => v !== undefined && type.byLocal.has(property)));
  const problems: Problem[] = [];
  writeContent(checked, type, '', problems);
  // a property not sent is "required but not written": not this write's business
  const found = problems.map((p) => ({ property: p.path.split('/')[1], text: p.text })).filter((p) => Object.hasOwn(checked, p.property));
  if (!found.length) return undefined;
  return refuse(400, 'INVALID_VALUE', found.map((p) => `${p.property} ${p.text}`).join('; '), found[0].property);
}

type TrackedSet = keyof typeof ERP_ODATA_READ_ONLY;
const writableCache = new Map<TrackedSet, readonly Property[]>();

/** the properties a client may set on the set, as the CSDL declares them */
function writable(set: TrackedSet): readonly Property[] {
  let properties = writableCache.get(set);
  if (!properties) {
    const readOnly: readonly string[] = ERP_ODATA_READ_ONLY[set];
    properties = loadErpModel().entitySet(set)!.entityType.properties.filter((p) => !readOnly.includes(p.name));
    writableCache.set(set, properties);
  }
  return properties;
}

/** PUT replaces the entity: what it does not send goes back to null, and a non-nullable property must be sent */
function replaced(set: TrackedSet, what: string, values: WriteValues): { values: WriteValues } | Refusal {
  const out: WriteValues = { ...values };
  const missing: string[] = [];
  for (const p of writable(set)) {
    if (sent(values, p.name)) continue;
    if (p.nullable) out[p.name] = null;
    else missing.push(p.name);
  }
  if (missing.length) return refuse(400, 'REQUIRED_FIELD_MISSING', `A PUT replaces the whole ${what} and must send ${missing.join(', ')}`, missing[0]);
  return { values: out };
}

// ---- Customers ----------------------------------------------------------------------------------------------

/** Customers properties → the customer record's fields (CreditLimit in cents) */
const CUSTOMER_FIELDS = [
  ['Name', 'name'],
  ['Email', 'email'],
  ['City', 'city'],
  ['Country', 'country'],
  ['CurrencyCode', 'currencyCode'],
  ['CreditLimit', 'creditLimitCents'],
  ['Blocked', 'blocked'],
] as const satisfies ReadonlyArray<readonly [string, keyof CustomerFields]>;

const centsOrNull = (v: RowValue | undefined): number | null => (typeof v === 'number' ? toCents(v) : null);

function customerOf(state: ErpState, key: RowValue): CustomerRecord | Refusal {
  const customer = typeof key === 'string' ? state.customer(key) : undefined;
  return customer ?? refuse(404, 'CUSTOMER_NOT_FOUND', `Customer ${String(key)} does not exist`);
}

export const customerWrites: WriteHandlers = {
  create(state, values) {
    const missing = ['Name', 'Country', 'CurrencyCode'].filter((p) => !given(values, p));
    if (missing.length) return refuse(400, 'REQUIRED_FIELD_MISSING', `A new customer needs ${missing.join(', ')}`, missing[0]);
    const invalid = contractRefusal('Customer', values);
    if (invalid) return invalid;
    const externalId = (values.ExternalId ?? null) as string | null;
    const holder = externalId === null ? undefined : state.customerByExternalId(externalId);
    if (holder) return refuse(409, 'EXTERNAL_ID_IN_USE', `External id ${externalId} is already used by customer ${holder.id}`, 'ExternalId');
    const created = state.createCustomer({
      externalId,
      name: values.Name as string,
      email: (values.Email ?? null) as string | null,
      city: (values.City ?? null) as string | null,
      country: values.Country as string,
      currencyCode: values.CurrencyCode as CurrencyCode,
      creditLimitCents: centsOrNull(values.CreditLimit),
      blocked: values.Blocked === true,
    });
    return { row: customerRow(state, created), effects: effect('Customer', created.id, 'created') };
  },

  update(state, key, input, { replace }) {
    const current = customerOf(state, key);
    if ('error' in current) return current;
    const put = replace ? replaced('Customers', 'customer', input) : { values: input };
    if ('error' in put) return put;
    const values = put.values;
    if (sent(values, 'ExternalId') && values.ExternalId !== current.externalId) {
      const now = current.externalId === null ? 'has none' : `is ${current.externalId}`;
      return refuse(400, 'EXTERNAL_ID_IMMUTABLE', `The external id of customer ${current.id} ${now} and cannot change`, 'ExternalId');
    }
    const invalid = contractRefusal('Customer', values);
    if (invalid) return invalid;
    const changes: Record<string, unknown> = {};
    for (const [property, field] of CUSTOMER_FIELDS) {
      if (!sent(values, property)) continue;
      const value = property === 'CreditLimit' ? centsOrNull(values[property]) : values[property];
      if (current[field] !== value) changes[field] = value;
    }
    if (Object.keys(changes).length === 0) return { row: customerRow(state, current), changedState: false };
    const updated = state.updateCustomer(current.id, changes);
    return { row: customerRow(state, updated), effects: effect('Customer', updated.id, 'updated') };
  },

  remove(state, key) {
    const current = customerOf(state, key);
    if ('error' in current) return current;
    const { invoices, salesOrders } = state.customerDocuments(current.id);
    if (invoices || salesOrders) {
      return refuse(
        409,
        'CUSTOMER_HAS_DOCUMENTS',
        `Customer ${current.id} has ${countOf(invoices, 'invoice')} and ${countOf(salesOrders, 'sales order')}; only a customer without documents can be deleted`,
      );
    }
    state.deleteCustomer(current.id);
    return { removed: true, effects: effect('Customer', current.id, 'deleted') };
  },
};

// ---- SalesOrders --------------------------------------------------------------------------------------------

function orderOf(state: ErpState, key: RowValue): SalesOrderRecord | Refusal {
  const order = typeof key === 'string' ? state.salesOrder(key) : undefined;
  return order ?? refuse(404, 'ORDER_NOT_FOUND', `Sales order ${String(key)} does not exist`);
}

function locked(order: SalesOrderRecord): Refusal {
  return refuse(409, 'ORDER_LOCKED', `Sales order ${order.id} is invoiced${order.invoiceId ? ` (invoice ${order.invoiceId})` : ''} and can no longer be changed or deleted`);
}

/** what an update may not change, and the record field it is compared with */
const FIXED_ON_ORDERS = [
  ['ExternalOrderNumber', 'externalOrderNumber'],
  ['CustomerId', 'customerId'],
  ['CurrencyCode', 'currencyCode'],
  ['OrderDate', 'orderDate'],
] as const satisfies ReadonlyArray<readonly [string, keyof SalesOrderRecord]>;

const NO_REASON = 'Only a cancelled sales order has a cancellation reason';

export const salesOrderWrites: WriteHandlers = {
  create(state, values) {
    const missing = ['CustomerId', 'NetAmount'].filter((p) => !given(values, p));
    if (missing.length) return refuse(400, 'REQUIRED_FIELD_MISSING', `A new sales order needs ${missing.join(', ')}`, missing[0]);
    const invalid = contractRefusal('SalesOrder', values);
    if (invalid) return invalid;
    if (sent(values, 'OrderStatus') && values.OrderStatus !== 'OPEN') {
      return refuse(400, 'INVALID_VALUE', `A new sales order is OPEN; it cannot be created ${String(values.OrderStatus)}`, 'OrderStatus');
    }
    if (given(values, 'CancellationReason')) return refuse(400, 'INVALID_VALUE', NO_REASON, 'CancellationReason');
    const external = (values.ExternalOrderNumber ?? null) as string | null;
    const holder = external === null ? undefined : state.salesOrderByExternalNumber(external);
    if (holder) return refuse(409, 'EXTERNAL_ORDER_NUMBER_IN_USE', `External order number ${external} is already used by sales order ${holder.id}`, 'ExternalOrderNumber');
    const customer = state.customer(values.CustomerId as string);
    if (!customer) return refuse(400, 'CUSTOMER_NOT_FOUND', `Customer ${String(values.CustomerId)} does not exist`, 'CustomerId');
    if (customer.blocked) return refuse(422, 'CUSTOMER_BLOCKED', `Customer ${customer.id} is blocked for sales orders`, 'CustomerId');
    if (given(values, 'CurrencyCode') && values.CurrencyCode !== customer.currencyCode) {
      return refuse(400, 'INVALID_VALUE', `Sales orders of customer ${customer.id} are in ${customer.currencyCode}, not ${String(values.CurrencyCode)}`, 'CurrencyCode');
    }
    const netCents = toCents(values.NetAmount as number);
    const overCredit = creditLimitRefusal(state, customer, netCents);
    if (overCredit) return refuse(422, 'CREDIT_LIMIT_EXCEEDED', overCredit, 'NetAmount');
    const order = state.createSalesOrder({
      externalOrderNumber: external,
      customerId: customer.id,
      status: 'OPEN',
      orderDate: (values.OrderDate ?? isoDate(dayOfMs(state.now()))) as string,
      requestedDeliveryDate: (values.RequestedDeliveryDate ?? null) as string | null,
      currencyCode: customer.currencyCode,
      netCents,
      cancellationReason: null,
      lines: Object.freeze([]),
      invoiceId: null,
    });
    return { row: salesOrderRow(order), effects: effect('SalesOrder', order.id, 'created') };
  },

  update(state, key, input, { replace }) {
    const current = orderOf(state, key);
    if ('error' in current) return current;
    if (current.status === 'INVOICED') return locked(current);
    const put = replace ? replaced('SalesOrders', 'sales order', input) : { values: input };
    if ('error' in put) return put;
    const values = put.values;
    for (const [property, field] of FIXED_ON_ORDERS) {
      if (!sent(values, property) || values[property] === current[field]) continue;
      return refuse(
        400,
        property === 'ExternalOrderNumber' ? 'EXTERNAL_ID_IMMUTABLE' : 'FIELD_IMMUTABLE',
        `${property} of sales order ${current.id} is ${current[field] === null ? 'not set' : String(current[field])} and cannot change`,
        property,
      );
    }
    const invalid = contractRefusal('SalesOrder', values);
    if (invalid) return invalid;

    const status = (values.OrderStatus ?? current.status) as OrderStatus;
    if (status !== current.status) {
      if (current.status === 'CANCELLED') return refuse(409, 'STATUS_CHANGE_NOT_ALLOWED', `Sales order ${current.id} is cancelled; a cancelled order is never reopened`, 'OrderStatus');
      if (status !== 'CANCELLED') return refuse(409, 'STATUS_CHANGE_NOT_ALLOWED', `Sales order ${current.id} is OPEN; it can be cancelled, and becomes INVOICED only when the ERP bills it`, 'OrderStatus');
    }
    const reason = sent(values, 'CancellationReason') ? (values.CancellationReason as string | null) : current.cancellationReason;
    if (status === 'OPEN' && reason !== null) return refuse(400, 'INVALID_VALUE', NO_REASON, 'CancellationReason');

    const netCents = sent(values, 'NetAmount') ? toCents(values.NetAmount as number) : current.netCents;
    if (netCents !== current.netCents) {
      if (current.lines.length) {
        return refuse(409, 'NET_AMOUNT_NOT_CHANGEABLE', `The net amount of sales order ${current.id} is the sum of its ${countOf(current.lines.length, 'line')} and cannot be set`, 'NetAmount');
      }
      if (current.status !== 'OPEN') return refuse(409, 'NET_AMOUNT_NOT_CHANGEABLE', `Sales order ${current.id} is cancelled; its net amount can no longer change`, 'NetAmount');
      // a raise of an order that stays open is checked against the credit limit (a cut never makes it worse)
      if (status === 'OPEN' && netCents > current.netCents) {
        const overCredit = creditLimitRefusal(state, state.customer(current.customerId)!, netCents, current.netCents);
        if (overCredit) return refuse(422, 'CREDIT_LIMIT_EXCEEDED', overCredit, 'NetAmount');
      }
    }

    const changes: { -readonly [K in keyof SalesOrderChanges]: SalesOrderChanges[K] } = {};
    if (status !== current.status) changes.status = status;
    if (reason !== current.cancellationReason) changes.cancellationReason = reason;
    if (netCents !== current.netCents) changes.netCents = netCents;
    if (sent(values, 'RequestedDeliveryDate') && values.RequestedDeliveryDate !== current.requestedDeliveryDate) {
      changes.requestedDeliveryDate = values.RequestedDeliveryDate as string | null;
    }
    if (Object.keys(changes).length === 0) return { row: salesOrderRow(current), changedState: false };
    const updated = state.updateSalesOrder(current.id, changes);
    // an OPEN order set to CANCELLED is CancelSalesOrder's compensation, and reported as SOAP reports it
    return { row: salesOrderRow(updated), effects: effect('SalesOrder', updated.id, changes.status === 'CANCELLED' ? 'cancelled' : 'updated') };
  },

  remove(state, key) {
    const current = orderOf(state, key);
    if ('error' in current) return current;
    if (current.status === 'INVOICED') return locked(current);
    state.deleteSalesOrder(current.id);
    return { removed: true, effects: effect('SalesOrder', current.id, 'deleted') };
  },
};
