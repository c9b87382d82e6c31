/**
 * The ERP's error codes and the faults that carry them. The engine writes a fault as `CODE: message` in the
 * faultstring (Apex shows only that) and as an ErpFault detail (Code, Message, Problem*). `side: 'client'` marks
 * what the caller must change in the request (faultcode Client / Sender); the rest are the ERP's business refusals
 * (faultcode Server / Receiver, as SAP answers them).
 */
import type { SoapFault, SoapResult } from '../../protocols/soap/handler.js';

export const ERP_FAULT_CODES = [
  'CUSTOMER_NOT_FOUND',
  'CUSTOMER_BLOCKED',
  'REQUIRED_FIELD_MISSING',
  'PRODUCT_NOT_FOUND',
  'CREDIT_LIMIT_EXCEEDED',
  'EXTERNAL_ORDER_NUMBER_IN_USE',
  'ORDER_NOT_FOUND',
  'ORDER_NOT_CANCELLABLE',
  'INVOICE_NOT_FOUND',
  'INVALID_PAGE_TOKEN',
] as const;
export type ErpFaultCode = (typeof ERP_FAULT_CODES)[number];

export function fault(code: ErpFaultCode, message: string, extra: Omit<SoapFault, 'code' | 'message'> = {}): SoapResult {
  return { fault: { code, message, side: 'server', ...extra } };
}

export function clientFault(code: ErpFaultCode, message: string, problems?: SoapFault['problems']): SoapResult {
  return { fault: { code, message, side: 'client', ...(problems ? { problems } : {}) } };
}

/** REQUIRED_FIELD_MISSING naming each missing element */
export function missingFields(operation: string, paths: string[]): SoapResult {
  return clientFault(
    'REQUIRED_FIELD_MISSING',
    `${operation} needs ${paths.join(', ')}`,
    paths.map((path) => ({ path, text: 'is required' })),
  );
}
