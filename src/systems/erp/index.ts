/**
 * The fake ERP (issue #11): a SAP-like order-to-cash system — customers, products, sales orders, invoices and a
 * million invoice lines — as the SOAP engine mounts it at /erp/soap from contracts/erp.wsdl, and as OData 4.0 and
 * 2.0 services at /erp/odata/v4 and /erp/odata/v2 from contracts/erp.csdl.xml (issue #12; odata-sets.ts). One
 * ErpState behind all three: what one face writes, the others read. Everything domain-specific lives in
 * the files this one imports; this file validates the options and wires them together.
 */
import { fileURLToPath } from 'node:url';
import type { StateOptions } from '../../engine/system.js';
import type { SoapHandler, SoapSystemDefinition } from '../../protocols/soap/handler.js';
import { getCustomer, upsertCustomer } from './customer-handlers.js';
import { getInvoice, listInvoices } from './invoice-handlers.js';
import { cancelSalesOrder, createSalesOrder, getSalesOrder } from './order-handlers.js';
import { restoreErp, snapshotErp } from './snapshot.js';
import { ErpState, type ErpStateOptions } from './state.js';

export { ErpState, type CustomerFields, type SalesOrderFields } from './state.js';
export type * from './records.js';
export { ERP_FAULT_CODES, type ErpFaultCode } from './faults.js';
export { erpODataDefinition } from './odata-sets.js';
export { loadErpModel, erpMetadata } from './odata-model.js';

export interface ErpOptions {
  /** systems.erp.customers: seeded customers (default 500) */
  customers: number;
  /** systems.erp.invoices: seeded invoices, each with its seeded sales order (default 10,000) */
  invoices: number;
  /** systems.erp.invoiceLines: seeded invoice lines over all invoices (default 1,000,000) */
  invoiceLines: number;
  /** limits.objects: accepted and ignored — the ERP's overlays are business documents and are not pruned (state.ts) */
  maxObjects?: number;
  /** another WSDL (a drifted variant in tests); default contracts/erp.wsdl */
  wsdlFile?: string;
}

export const ERP_DEFAULTS: Readonly<Required<Pick<ErpOptions, 'customers' | 'invoices' | 'invoiceLines'>>> = Object.freeze({
  customers: 500,
  invoices: 10_000,
  invoiceLines: 1_000_000,
});

/** Upper bounds keeping ids inside their 10-digit ranges and the seeded columns within memory. */
export const ERP_LIMITS = Object.freeze({ customers: 10_000_000, invoices: 10_000_000, invoiceLines: 100_000_000 });

/** The same relative URL works from src/systems/erp (vitest) and dist/systems/erp (after tsc): same depth. */
const DEFAULT_WSDL = fileURLToPath(new URL('../../../contracts/erp.wsdl', import.meta.url));

const handlers: Record<string, SoapHandler<ErpState>> = {
  GetCustomer: getCustomer,
  UpsertCustomer: upsertCustomer,
  CreateSalesOrder: createSalesOrder,
  GetSalesOrder: getSalesOrder,
  CancelSalesOrder: cancelSalesOrder,
  GetInvoice: getInvoice,
  ListInvoices: listInvoices,
};

/** How the one ERP state is made and kept: the same for its SOAP endpoint and both OData services. */
export interface ErpStateLifecycle {
  createState(options: StateOptions): ErpState;
  snapshotState(state: ErpState): Buffer;
  restoreState(snapshot: Buffer, options: StateOptions): ErpState;
  /** what the state depends on besides the seed: a stored log replays only against the same seeded data */
  stateOptions: Record<string, unknown>;
}

export function erpStateLifecycle(options: Partial<ErpOptions> = {}): ErpStateLifecycle {
  const sizes = checkOptions(options);
  const stateOptions = (state: StateOptions): ErpStateOptions => ({ ...state, ...sizes, maxObjects: options.maxObjects });
  return {
    createState: (state) => new ErpState(stateOptions(state)),
    snapshotState: snapshotErp,
    restoreState: (snapshot, state) => restoreErp(snapshot, stateOptions(state)),
    stateOptions: { ...sizes },
  };
}

export function createErpSystem(options: Partial<ErpOptions> = {}): SoapSystemDefinition<ErpState> {
  return {
    name: 'erp',
    mount: '/erp/soap',
    wsdlFile: options.wsdlFile ?? DEFAULT_WSDL,
    handlers,
    writes: ['UpsertCustomer', 'CreateSalesOrder', 'CancelSalesOrder'],
    keys: { CreateSalesOrder: 'ExternalOrderNumber', UpsertCustomer: 'ExternalId' },
    faultElement: 'ErpFault',
    ...erpStateLifecycle(options),
  };
}

/** the service roots of the ERP's OData faces */
export const ERP_ODATA_MOUNTS = { v4: '/erp/odata/v4', v2: '/erp/odata/v2' } as const;

/** The sizes with defaults applied; throws on anything out of range (at start-up, not on some request). */
function checkOptions(options: Partial<ErpOptions>): { customers: number; invoices: number; invoiceLines: number } {
  const sizes = {
    customers: options.customers ?? ERP_DEFAULTS.customers,
    invoices: options.invoices ?? ERP_DEFAULTS.invoices,
    invoiceLines: options.invoiceLines ?? ERP_DEFAULTS.invoiceLines,
  };
  for (const key of ['customers', 'invoices', 'invoiceLines'] as const) {
    const value = sizes[key];
    const min = key === 'customers' ? 1 : 0;
    if (!Number.isSafeInteger(value) || value < min || value > ERP_LIMITS[key]) {
      throw new Error(`erp: ${key} must be an integer from ${min} to ${ERP_LIMITS[key]}, got ${String(value)}`);
    }
  }
  if (options.maxObjects !== undefined && (!Number.isSafeInteger(options.maxObjects) || options.maxObjects < 1)) {
    throw new Error(`erp: maxObjects must be an integer >= 1, got ${String(options.maxObjects)}`);
  }
  return sizes;
}
