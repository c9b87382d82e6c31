/**
 * CreateSalesOrder, GetSalesOrder and CancelSalesOrder.
 *
 * CreateSalesOrder is an idempotent upsert by ExternalOrderNumber: the same number with the same content
 * (customer, lines in order, requested delivery date) answers the existing order (Created false, no effect, no
 * state change); the same number with other content is refused. A new order is checked whole before anything is
 * written — customer exists and is not blocked, every product exists, the customer's credit limit holds — so a
 * refused order consumes nothing (not even an order number). CancelSalesOrder is the compensating action: it
 * releases the order's value from the customer's open orders; cancelling a cancelled order is a harmless repeat.
 *
 * The credit check (creditLimitRefusal) is shared with the OData face's SalesOrders (odata-writes.ts), so an order
 * is refused for credit by the same rule and in the same words whichever protocol creates it.
 */
import type { SoapHandler, SoapResult } from '../../protocols/soap/handler.js';
import { clientFault, fault, missingFields } from './faults.js';
import { dayOfMs, formatCents, isoDate } from './ids.js';
import type { CustomerRecord, LineRecord, SalesOrderRecord } from './records.js';
import type { ErpState } from './state.js';
import { salesOrderView } from './views.js';

interface LineInput {
  ProductId: string;
  Quantity: number;
}

/** the content an idempotent repeat must match */
function sameContent(order: SalesOrderRecord, customerId: string, requested: string | null, lines: readonly LineInput[]): boolean {
  return (
    order.customerId === customerId &&
    order.requestedDeliveryDate === requested &&
    order.lines.length === lines.length &&
    order.lines.every((l, i) => l.productId === lines[i].ProductId && l.quantity === lines[i].Quantity)
  );
}

/**
 * Why an order worth `valueCents` would break the customer's credit limit, or undefined when it does not: the
 * customer's open orders (less `countedCents`, the order's own value already among them when its amount changes)
 * plus the order may not exceed the limit. No limit (null): never refused.
 */
export function creditLimitRefusal(state: ErpState, customer: CustomerRecord, valueCents: number, countedCents = 0): string | undefined {
  if (customer.creditLimitCents === null) return undefined;
  const open = state.openOrderValueCents(customer.id) - countedCents;
  if (open + valueCents <= customer.creditLimitCents) return undefined;
  const c = customer.currencyCode;
  return (
    `Order value ${formatCents(valueCents)} ${c} would take customer ${customer.id}'s open orders from ${formatCents(open)} ${c} to ` +
    `${formatCents(open + valueCents)} ${c}, above its credit limit of ${formatCents(customer.creditLimitCents)} ${c}`
  );
}

export const createSalesOrder: SoapHandler<ErpState> = (req, state) => {
  const body = req.body;
  const externalOrderNumber = body.ExternalOrderNumber as string;
  const customerId = body.CustomerId as string;
  const requested = (body.RequestedDeliveryDate as string | null | undefined) ?? null;
  // 1 .. 100 lines: the engine enforces the WSDL's minOccurs / maxOccurs before this runs
  const lines = (Array.isArray(body.Line) ? body.Line : []) as LineInput[];
  const missing = [
    ...(typeof externalOrderNumber === 'string' && externalOrderNumber !== '' ? [] : ['ExternalOrderNumber']),
    ...(typeof customerId === 'string' ? [] : ['CustomerId']),
    ...(lines.length ? [] : ['Line']),
  ];
  if (missing.length) return missingFields('CreateSalesOrder', missing);

  const existing = state.salesOrderByExternalNumber(externalOrderNumber);
  if (existing) {
    if (sameContent(existing, customerId, requested, lines)) {
      return { body: { SalesOrder: salesOrderView(existing), Created: false }, changedState: false };
    }
    return clientFault(
      'EXTERNAL_ORDER_NUMBER_IN_USE',
      `External order number ${externalOrderNumber} is already used by sales order ${existing.id} with other content`,
      [{ path: 'ExternalOrderNumber', text: `used by sales order ${existing.id}` }],
    );
  }

  const customer = state.customer(customerId);
  if (!customer) return fault('CUSTOMER_NOT_FOUND', `Customer ${customerId} does not exist`);
  if (customer.blocked) return fault('CUSTOMER_BLOCKED', `Customer ${customerId} is blocked for sales orders`);

  const problems: Array<{ path: string; text: string }> = [];
  const orderLines: LineRecord[] = [];
  lines.forEach((line, i) => {
    const product = state.product(line.ProductId);
    if (!product) {
      problems.push({ path: `Line[${i + 1}]/ProductId`, text: `product ${String(line.ProductId)} does not exist` });
      return;
    }
    orderLines.push(
      Object.freeze({
        lineNumber: (i + 1) * 10,
        productId: product.id,
        description: product.description,
        quantity: line.Quantity,
        unitPriceCents: product.unitPriceCents,
        netCents: line.Quantity * product.unitPriceCents,
      }),
    );
  });
  if (problems.length) {
    return fault('PRODUCT_NOT_FOUND', `${problems.length === 1 ? 'A product does' : `${problems.length} products do`} not exist: ${problems.map((p) => p.path).join(', ')}`, { problems });
  }

  const value = orderLines.reduce((sum, l) => sum + l.netCents, 0);
  const overCredit = creditLimitRefusal(state, customer, value);
  if (overCredit) return fault('CREDIT_LIMIT_EXCEEDED', overCredit);

  const order = state.createSalesOrder({
    externalOrderNumber,
    customerId: customer.id,
    status: 'OPEN',
    orderDate: isoDate(dayOfMs(state.now())),
    requestedDeliveryDate: requested,
    currencyCode: customer.currencyCode,
    netCents: value,
    cancellationReason: null,
    lines: Object.freeze(orderLines),
    invoiceId: null,
  });
  return {
    body: { SalesOrder: salesOrderView(order), Created: true },
    effects: [{ entity: 'SalesOrder', id: order.id, action: 'created' }],
  };
};

export const getSalesOrder: SoapHandler<ErpState> = (req, state) => {
  const id = req.body.SalesOrderId as string | null | undefined;
  const external = req.body.ExternalOrderNumber as string | null | undefined;
  if (id == null && external == null) {
    return clientFault('REQUIRED_FIELD_MISSING', 'GetSalesOrder needs SalesOrderId or ExternalOrderNumber', [
      { path: 'SalesOrderId', text: 'SalesOrderId or ExternalOrderNumber is required' },
    ]);
  }
  const order = id != null ? state.salesOrder(id) : state.salesOrderByExternalNumber(external!);
  // both given: they must name the same order
  if (!order || (id != null && external != null && order.externalOrderNumber !== external)) {
    const named = [id != null ? `id ${id}` : '', external != null ? `external order number ${external}` : ''].filter(Boolean).join(' and ');
    return fault('ORDER_NOT_FOUND', `No sales order with ${named}`);
  }
  return { body: { SalesOrder: salesOrderView(order) } };
};

export const cancelSalesOrder: SoapHandler<ErpState> = (req, state): SoapResult => {
  const id = req.body.SalesOrderId as string;
  const reason = (req.body.Reason as string | null | undefined) ?? null;
  const order = typeof id === 'string' ? state.salesOrder(id) : undefined;
  if (!order) return fault('ORDER_NOT_FOUND', `Sales order ${String(id)} does not exist`);
  if (order.status === 'CANCELLED') return { body: { SalesOrder: salesOrderView(order) }, changedState: false };
  if (order.status !== 'OPEN') {
    return fault('ORDER_NOT_CANCELLABLE', `Sales order ${order.id} is ${order.status}${order.invoiceId ? ` (invoice ${order.invoiceId})` : ''} and can no longer be cancelled`);
  }
  const cancelled = state.updateSalesOrder(order.id, { status: 'CANCELLED', cancellationReason: reason });
  return {
    body: { SalesOrder: salesOrderView(cancelled) },
    effects: [{ entity: 'SalesOrder', id: cancelled.id, action: 'cancelled' }],
  };
};
