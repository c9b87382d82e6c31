/**
 * The ERP's document numbers, dates and money, in one place.
 *
 * SAP numbers documents from number ranges, zero-padded to 10 digits; so does this ERP (the WSDL's
 * CustomerIdType, SalesOrderIdType and InvoiceIdType are [0-9]{10}). Each entity has its own range and a
 * document's id is a pure function of its number, so ids need no random source and no lookup table:
 * - customers: 0001000000 + i (seeded i = 0 .. customers-1; created ones continue the range);
 * - sales orders: 0070000001 + i for the seeded order of invoice i, created ones continue after the last seeded
 *   invoice's (so a seeded order and its invoice share i);
 * - invoices: 0090000001 + i.
 * Products are MAT-000001 .. MAT-000250 (ProductIdType MAT-[0-9]{6}).
 *
 * Money is integer cents everywhere inside the ERP; the engine gets cents / 100 (AmountType has fractionDigits 2).
 * Dates (xsd:date) are whole UTC days, kept as day numbers (days since 1970-01-01) and written as YYYY-MM-DD.
 */

export const CUSTOMER_BASE = 1_000_000;
export const SALES_ORDER_BASE = 70_000_001;
export const INVOICE_BASE = 90_000_001;
/** a 10-digit document number: ids stay inside [0-9]{10} */
const MAX_DOCUMENT_NUMBER = 9_999_999_999;

export const PRODUCT_COUNT = 250;

const DAY_MS = 86_400_000;

/** 2026-01-01T00:00:00Z: every seeded date lies before it; nothing seeded reads the clock. */
export const ERP_BASE_MS = Date.UTC(2026, 0, 1);
export const ERP_BASE_DAY = ERP_BASE_MS / DAY_MS;

export function documentId(number: number): string {
  return String(number).padStart(10, '0');
}

/** The number in a 10-digit id, or undefined when it is not one (the engine checks the pattern; this does not trust it). */
export function documentNumber(id: unknown): number | undefined {
  if (typeof id !== 'string' || !/^[0-9]{10}$/.test(id)) return undefined;
  const n = Number(id);
  return n <= MAX_DOCUMENT_NUMBER ? n : undefined;
}

export const customerId = (index: number): string => documentId(CUSTOMER_BASE + index);
export const invoiceId = (index: number): string => documentId(INVOICE_BASE + index);
export const salesOrderId = (number: number): string => documentId(number);

export function productId(index: number): string {
  return `MAT-${String(index + 1).padStart(6, '0')}`;
}

/** The product's index (0 .. PRODUCT_COUNT-1), or undefined for an id that names no product. */
export function productIndex(id: unknown): number | undefined {
  if (typeof id !== 'string') return undefined;
  const m = /^MAT-([0-9]{6})$/.exec(id);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n >= 1 && n <= PRODUCT_COUNT ? n - 1 : undefined;
}

/** cents as the number the engine writes with two fraction digits */
export const amount = (cents: number): number => cents / 100;

/** cents as a human-readable amount for messages: 1234567 → "12345.67" */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/**
 * An AmountType value (a number with at most 2 fraction digits, validated by the engine) in integer cents.
 * Math.round absorbs binary fractions (19.99 * 100 = 1998.9999999999998).
 */
export const toCents = (value: number): number => Math.round(value * 100);

export const dayOfMs = (ms: number): number => Math.floor(ms / DAY_MS);
export const msOfDay = (day: number): number => day * DAY_MS;

/** a day number as xsd:date */
export function isoDate(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** an xsd:date (YYYY-MM-DD, as the engine hands it over) as a day number, or undefined */
export function dayOfIsoDate(date: unknown): number | undefined {
  if (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const ms = Date.parse(`${date}T00:00:00Z`);
  return Number.isFinite(ms) ? ms / DAY_MS : undefined;
}

/** epoch ms as xsd:dateTime (UTC, milliseconds) */
export const isoDateTime = (ms: number): string => new Date(ms).toISOString();
