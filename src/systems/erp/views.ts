/**
 * Records (records.ts) as the WSDL's complex types, for SOAP responses: element names by local name, in the
 * schema's order (the engine writes them in schema order anyway), money as cents / 100, instants as xsd:dateTime.
 * Optional nillable elements are sent as null when empty (xsi:nil), never left out, so a client always sees them.
 */
import { amount, isoDateTime } from './ids.js';
import type { CustomerRecord, InvoiceLineRecord, InvoiceRecord, LineRecord, SalesOrderRecord } from './records.js';
import type { ErpState } from './state.js';

export function customerView(state: ErpState, c: CustomerRecord): Record<string, unknown> {
  return {
    CustomerId: c.id,
    ExternalId: c.externalId,
    Name: c.name,
    Email: c.email,
    City: c.city,
    Country: c.country,
    CurrencyCode: c.currencyCode,
    CreditLimit: c.creditLimitCents === null ? null : amount(c.creditLimitCents),
    OpenOrderValue: amount(state.openOrderValueCents(c.id)),
    Blocked: c.blocked,
    CreatedAt: isoDateTime(c.createdAt),
    ChangedAt: isoDateTime(c.changedAt),
  };
}

function lineView(l: LineRecord): Record<string, unknown> {
  return {
    LineNumber: l.lineNumber,
    ProductId: l.productId,
    Description: l.description,
    Quantity: l.quantity,
    UnitPrice: amount(l.unitPriceCents),
    NetAmount: amount(l.netCents),
  };
}

/** a sales order's own fields, without its lines: shared with the OData face's SalesOrders rows */
export function salesOrderFields(o: Omit<SalesOrderRecord, 'lines'>): Record<string, string | number | null> {
  return {
    SalesOrderId: o.id,
    ExternalOrderNumber: o.externalOrderNumber,
    CustomerId: o.customerId,
    OrderStatus: o.status,
    OrderDate: o.orderDate,
    RequestedDeliveryDate: o.requestedDeliveryDate,
    CurrencyCode: o.currencyCode,
    NetAmount: amount(o.netCents),
    CancellationReason: o.cancellationReason,
    CreatedAt: isoDateTime(o.createdAt),
    ChangedAt: isoDateTime(o.changedAt),
  };
}

export function salesOrderView(o: SalesOrderRecord): Record<string, unknown> {
  // in the schema's order: the lines come before the timestamps
  const { CreatedAt, ChangedAt, ...head } = salesOrderFields(o);
  return { ...head, Line: o.lines.map(lineView), CreatedAt, ChangedAt };
}

/** InvoiceSummary: the invoice without its lines (also the OData face's Invoices rows, with ChangedAt) */
export function invoiceSummaryView(i: InvoiceRecord): Record<string, string | number | null> {
  return {
    InvoiceId: i.id,
    CustomerId: i.customerId,
    SalesOrderId: i.salesOrderId,
    InvoiceStatus: i.status,
    InvoiceDate: i.invoiceDate,
    DueDate: i.dueDate,
    CurrencyCode: i.currencyCode,
    NetAmount: amount(i.netCents),
    LineCount: i.lineCount,
  };
}

export function invoiceView(i: InvoiceRecord, lines: readonly InvoiceLineRecord[]): Record<string, unknown> {
  return { ...invoiceSummaryView(i), Line: lines.map(lineView) };
}
