/**
 * The ERP's records as its read API hands them out (ErpState), shared by both faces of the one ERP: SOAP's views
 * (views.ts) and OData's entity sets (odata-sets.ts) read these, never the seeded columns or the overlays directly.
 *
 * Every record is plain, immutable data: money in integer cents, dates (xsd:date) as YYYY-MM-DD, instants as epoch
 * milliseconds. Each carries `changedAt` (the last change, for delta links) and `version` (1 when seeded or created,
 * +1 per change: an ETag is (id, version)). A record handed out is never mutated afterwards: a write replaces it.
 */

export const CURRENCY_CODES = ['EUR', 'USD', 'GBP'] as const;
export type CurrencyCode = (typeof CURRENCY_CODES)[number];

export const INVOICE_STATUSES = ['OPEN', 'PAID', 'OVERDUE'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

export const ORDER_STATUSES = ['OPEN', 'INVOICED', 'CANCELLED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** A material (MAT-000001 .. MAT-000250): seeded, never written. */
export interface Product {
  readonly index: number;
  readonly id: string;
  readonly description: string;
  readonly unitPriceCents: number;
}

export interface CustomerRecord {
  readonly id: string;
  /** the id's number (CUSTOMER_BASE + index) */
  readonly number: number;
  /** the caller's key for UpsertCustomer (LEGACY-000001 for most seeded ones); never changes once set */
  readonly externalId: string | null;
  readonly name: string;
  readonly email: string | null;
  readonly city: string | null;
  readonly country: string;
  readonly currencyCode: CurrencyCode;
  /** null: no credit limit */
  readonly creditLimitCents: number | null;
  readonly blocked: boolean;
  readonly createdAt: number;
  readonly changedAt: number;
  readonly version: number;
}

/** A line of a sales order or an invoice: numbered 10, 20, 30 ... (SAP style). */
export interface LineRecord {
  readonly lineNumber: number;
  readonly productId: string;
  readonly description: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
  readonly netCents: number;
}

export interface SalesOrderRecord {
  readonly id: string;
  readonly number: number;
  readonly externalOrderNumber: string | null;
  readonly customerId: string;
  readonly status: OrderStatus;
  /** YYYY-MM-DD */
  readonly orderDate: string;
  readonly requestedDeliveryDate: string | null;
  readonly currencyCode: CurrencyCode;
  readonly netCents: number;
  readonly cancellationReason: string | null;
  /** 1 .. 100 lines (seeded and SOAP-created orders); none for an order created through OData (netCents given) */
  readonly lines: readonly LineRecord[];
  /** the invoice that billed it (seeded orders), else null */
  readonly invoiceId: string | null;
  readonly createdAt: number;
  readonly changedAt: number;
  readonly version: number;
}

/**
 * A sales order without its lines, with their count: what a listing needs (OData's SalesOrders rows). Reading one
 * costs no line: a seeded order's lines are computed only when the order itself is read.
 */
export type SalesOrderHeader = Omit<SalesOrderRecord, 'lines'> & { readonly lineCount: number };

/** An invoice without its lines (they are read by range: ErpState.invoiceLines). Seeded, never written. */
export interface InvoiceRecord {
  /** position in id order (0 .. invoiceCount-1) */
  readonly index: number;
  readonly id: string;
  readonly customerId: string;
  /** null for an invoice that bills no single sales order (one with no line, or more than an order holds) */
  readonly salesOrderId: string | null;
  readonly status: InvoiceStatus;
  readonly invoiceDate: string;
  readonly dueDate: string;
  readonly currencyCode: CurrencyCode;
  readonly netCents: number;
  /** its lines are the global line indexes [lineStart, lineStart + lineCount) */
  readonly lineStart: number;
  readonly lineCount: number;
  readonly changedAt: number;
  readonly version: number;
}

/** An invoice line with its place: the global index keys OData's InvoiceLines. Seeded, never written. */
export interface InvoiceLineRecord extends LineRecord {
  readonly index: number;
  readonly invoiceIndex: number;
  readonly invoiceId: string;
}
