/**
 * One workspace's ERP: the shared seeded base (seed.ts) plus this workspace's overlays — customers written through
 * UpsertCustomer (a changed seeded one or a new one), sales orders created or changed — and the counters that
 * number new documents. One state, two protocols: SOAP's handlers and OData's entity sets (next issue) both read
 * through the read API below and write through the write API, never the columns or overlays directly.
 *
 * Read API (records.ts types; ids are the 10-digit document ids; iteration is in id order):
 *   customerCount(), customers(afterId?), customer(id), customerByExternalId(externalId), openOrderValueCents(id)
 *   products, product(id)
 *   salesOrderCount(), salesOrders(afterId?), salesOrder(id), salesOrderByExternalNumber(number)
 *   invoiceCount, invoiceAt(index), invoice(id), invoiceIndexOf(id), customerInvoiceIndexes(customerId)
 *   invoiceLineCount, invoiceLineAt(globalIndex), invoiceLines(invoiceIndex)
 *   revision — changes with every write (a cheap "has anything changed" for caches and delta links)
 * Every record carries changedAt and version (ETag = id + version).
 *
 * Write API: createCustomer, updateCustomer, createSalesOrder, updateSalesOrder. Each stamps the record with the
 * clock's time, bumps its version and the revision, and keeps the indexes (external ids, open order values).
 *
 * Determinism: the state is a pure function of (seed, sizes, the accepted writes in order, their clock times): the
 * base never reads the clock, new documents are numbered from counters, and writes read time only from
 * StateOptions.clock. OpenOrderValue is derived (the sum of the customer's OPEN orders) and does not change the
 * customer's changedAt or version.
 *
 * What grows: the overlays, one record per customer written and per order created or changed, for the life of the
 * workspace. They are business documents (like payments' charges), so `maxObjects` (limits.objects) does not
 * prune them: it is accepted and ignored here.
 */
import type { StateOptions } from '../../engine/system.js';
import type { Clock } from '../../util/clock.js';
import { CUSTOMER_BASE, customerId, documentNumber, INVOICE_BASE, invoiceId, isoDate, msOfDay, productIndex, SALES_ORDER_BASE, salesOrderId } from './ids.js';
import {
  INVOICE_STATUSES,
  type CustomerRecord,
  type InvoiceLineRecord,
  type InvoiceRecord,
  type LineRecord,
  type Product,
  type SalesOrderRecord,
} from './records.js';
import { erpBase, hashOf, invoiceOfLine, lineProductIndex, lineQuantity, lineStartOf, MAX_ORDER_LINES, type ErpBase, type ErpSizes } from './seed.js';

export interface ErpStateOptions extends StateOptions, ErpSizes {
  /** limits.objects: accepted, not applied (see above) */
  maxObjects?: number;
}

/** what a write may set on a customer (id, number, timestamps and version are the state's) */
export type CustomerFields = Omit<CustomerRecord, 'id' | 'number' | 'createdAt' | 'changedAt' | 'version'>;
export type SalesOrderFields = Omit<SalesOrderRecord, 'id' | 'number' | 'createdAt' | 'changedAt' | 'version'>;

/** The overlays as plain data: what a snapshot keeps (snapshot.ts). */
export interface ErpOverlays {
  revision: number;
  nextCustomerNumber: number;
  nextOrderNumber: number;
  customers: CustomerRecord[];
  salesOrders: SalesOrderRecord[];
}

const HOUR_MS = 3_600_000;

export class ErpState {
  readonly seed: number;
  readonly clock: Clock;
  readonly sizes: Readonly<ErpSizes>;
  /** the seeded data, shared with every workspace of the same configuration: never written */
  readonly base: ErpBase;

  private revisionValue = 0;
  private nextCustomer: number;
  private nextOrder: number;
  /** the number the first created order gets: seeded orders are SALES_ORDER_BASE + invoice index below it */
  private readonly firstCreatedOrder: number;
  /** written customers by number: seeded ones changed, created ones */
  private readonly customerOverlay = new Map<number, CustomerRecord>();
  /** created customers' external ids (seeded ones are in the base; an external id never changes) */
  private readonly createdByExternalId = new Map<string, number>();
  /** created and changed orders by number */
  private readonly orderOverlay = new Map<number, SalesOrderRecord>();
  private readonly orderByExternalNumber = new Map<string, number>();
  /** per customer number, the net value of its OPEN orders (cents); absent = 0 */
  private readonly openOrderCents = new Map<number, number>();

  constructor(options: ErpStateOptions) {
    this.seed = options.seed;
    this.clock = options.clock;
    this.sizes = Object.freeze({ customers: options.customers, invoices: options.invoices, invoiceLines: options.invoiceLines });
    this.base = erpBase(options.seed, this.sizes);
    this.nextCustomer = CUSTOMER_BASE + options.customers;
    this.firstCreatedOrder = SALES_ORDER_BASE + options.invoices;
    this.nextOrder = this.firstCreatedOrder;
  }

  now(): number {
    return this.clock.now();
  }

  /** changes with every write */
  get revision(): number {
    return this.revisionValue;
  }

  // ---- products ------------------------------------------------------------------------------------------------

  get products(): readonly Product[] {
    return this.base.products;
  }

  product(id: string): Product | undefined {
    const i = productIndex(id);
    return i === undefined ? undefined : this.base.products[i];
  }

  // ---- customers -----------------------------------------------------------------------------------------------

  customerCount(): number {
    return this.nextCustomer - CUSTOMER_BASE;
  }

  customer(id: string): CustomerRecord | undefined {
    const n = documentNumber(id);
    return n === undefined ? undefined : this.customerByNumber(n);
  }

  private customerByNumber(n: number): CustomerRecord | undefined {
    if (n < CUSTOMER_BASE || n >= this.nextCustomer) return undefined;
    return this.customerOverlay.get(n) ?? this.base.customers[n - CUSTOMER_BASE];
  }

  customerByExternalId(externalId: string): CustomerRecord | undefined {
    const seeded = this.base.customerByExternalId.get(externalId);
    if (seeded !== undefined) return this.customerByNumber(CUSTOMER_BASE + seeded);
    const created = this.createdByExternalId.get(externalId);
    return created === undefined ? undefined : this.customerByNumber(created);
  }

  /** customers in id order, starting after `afterId` (keyset paging) */
  *customers(afterId?: string): IterableIterator<CustomerRecord> {
    const from = afterId === undefined ? CUSTOMER_BASE : Math.max(CUSTOMER_BASE, (documentNumber(afterId) ?? Infinity) + 1);
    for (let n = from; n < this.nextCustomer; n++) yield this.customerByNumber(n)!;
  }

  /** the net value of the customer's OPEN sales orders, in cents */
  openOrderValueCents(id: string): number {
    return this.openOrderCents.get(documentNumber(id) ?? -1) ?? 0;
  }

  createCustomer(fields: CustomerFields): CustomerRecord {
    if (fields.externalId !== null && this.customerByExternalId(fields.externalId)) throw new Error(`erp: external id ${fields.externalId} is taken`);
    const number = this.nextCustomer++;
    const now = this.now();
    const record: CustomerRecord = Object.freeze({ ...fields, id: customerId(number - CUSTOMER_BASE), number, createdAt: now, changedAt: now, version: 1 });
    this.customerOverlay.set(number, record);
    if (record.externalId !== null) this.createdByExternalId.set(record.externalId, number);
    this.revisionValue++;
    return record;
  }

  /** Replaces the fields given (the external id is the key: it cannot change). */
  updateCustomer(id: string, changes: Partial<Omit<CustomerFields, 'externalId'>>): CustomerRecord {
    const current = this.customer(id);
    if (!current) throw new Error(`erp: no customer ${id}`);
    const record: CustomerRecord = Object.freeze({ ...current, ...changes, changedAt: this.now(), version: current.version + 1 });
    this.customerOverlay.set(record.number, record);
    this.revisionValue++;
    return record;
  }

  // ---- sales orders --------------------------------------------------------------------------------------------

  salesOrderCount(): number {
    return this.base.seededOrderCount + (this.nextOrder - this.firstCreatedOrder);
  }

  salesOrder(id: string): SalesOrderRecord | undefined {
    const n = documentNumber(id);
    return n === undefined ? undefined : this.orderByNumber(n);
  }

  private orderByNumber(n: number): SalesOrderRecord | undefined {
    const written = this.orderOverlay.get(n);
    if (written) return written;
    if (n >= SALES_ORDER_BASE && n < this.firstCreatedOrder) return this.seededOrder(n - SALES_ORDER_BASE);
    return undefined;
  }

  salesOrderByExternalNumber(externalOrderNumber: string): SalesOrderRecord | undefined {
    const n = this.orderByExternalNumber.get(externalOrderNumber);
    return n === undefined ? undefined : this.orderByNumber(n);
  }

  /** sales orders in id order (seeded, then created), starting after `afterId` */
  *salesOrders(afterId?: string): IterableIterator<SalesOrderRecord> {
    const from = afterId === undefined ? SALES_ORDER_BASE : Math.max(SALES_ORDER_BASE, (documentNumber(afterId) ?? Infinity) + 1);
    for (let n = from; n < this.nextOrder; n++) {
      const order = this.orderByNumber(n);
      if (order) yield order;
    }
  }

  createSalesOrder(fields: SalesOrderFields): SalesOrderRecord {
    if (fields.externalOrderNumber !== null && this.orderByExternalNumber.has(fields.externalOrderNumber)) {
      throw new Error(`erp: external order number ${fields.externalOrderNumber} is taken`);
    }
    const number = this.nextOrder++;
    const now = this.now();
    const record: SalesOrderRecord = Object.freeze({ ...fields, id: salesOrderId(number), number, createdAt: now, changedAt: now, version: 1 });
    this.putOrder(undefined, record);
    this.revisionValue++;
    return record;
  }

  updateSalesOrder(id: string, changes: Partial<Omit<SalesOrderFields, 'externalOrderNumber'>>): SalesOrderRecord {
    const current = this.salesOrder(id);
    if (!current) throw new Error(`erp: no sales order ${id}`);
    const record: SalesOrderRecord = Object.freeze({ ...current, ...changes, changedAt: this.now(), version: current.version + 1 });
    this.putOrder(current, record);
    this.revisionValue++;
    return record;
  }

  /** keeps the overlay, the external-number index and the open order values in step */
  private putOrder(previous: SalesOrderRecord | undefined, record: SalesOrderRecord): void {
    if (previous?.status === 'OPEN') this.addOpen(previous.customerId, -previous.netCents);
    if (record.status === 'OPEN') this.addOpen(record.customerId, record.netCents);
    this.orderOverlay.set(record.number, record);
    if (record.externalOrderNumber !== null) this.orderByExternalNumber.set(record.externalOrderNumber, record.number);
  }

  private addOpen(customer: string, cents: number): void {
    const n = documentNumber(customer)!;
    const value = (this.openOrderCents.get(n) ?? 0) + cents;
    if (value === 0) this.openOrderCents.delete(n);
    else this.openOrderCents.set(n, value);
  }

  /** the seeded order billed by invoice i, or undefined when that invoice bills none */
  private seededOrder(invoice: number): SalesOrderRecord | undefined {
    const start = lineStartOf(this.sizes, invoice);
    const count = lineStartOf(this.sizes, invoice + 1) - start;
    if (count < 1 || count > MAX_ORDER_LINES) return undefined;
    const base = this.base;
    const h = hashOf(base.orderSalt, invoice);
    const invoiceDay = base.invoiceDay[invoice];
    const orderDay = invoiceDay - (h % 10);
    const requested = (h >>> 4) % 3 === 0 ? null : orderDay + ((h >>> 6) % (invoiceDay - orderDay + 1));
    const lines: LineRecord[] = [];
    for (let k = 0; k < count; k++) lines.push(this.lineRecord(start + k, k));
    return Object.freeze({
      id: salesOrderId(SALES_ORDER_BASE + invoice),
      number: SALES_ORDER_BASE + invoice,
      externalOrderNumber: null,
      customerId: customerId(base.invoiceCustomer[invoice]),
      status: 'INVOICED',
      orderDate: isoDate(orderDay),
      requestedDeliveryDate: requested === null ? null : isoDate(requested),
      currencyCode: base.customers[base.invoiceCustomer[invoice]].currencyCode,
      netCents: base.invoiceNetCents[invoice],
      cancellationReason: null,
      lines: Object.freeze(lines),
      invoiceId: invoiceId(invoice),
      // entered during the working day, changed when invoiced
      createdAt: msOfDay(orderDay) + 8 * HOUR_MS + ((h >>> 10) % 32_400) * 1000,
      changedAt: msOfDay(invoiceDay) + 18 * HOUR_MS,
      version: 1,
    });
  }

  // ---- invoices and their lines (seeded, read-only) ------------------------------------------------------------

  get invoiceCount(): number {
    return this.sizes.invoices;
  }

  get invoiceLineCount(): number {
    return this.sizes.invoiceLines;
  }

  /** the invoice's position in id order, or undefined when there is none with that id */
  invoiceIndexOf(id: string): number | undefined {
    const n = documentNumber(id);
    if (n === undefined) return undefined;
    const i = n - INVOICE_BASE;
    return i >= 0 && i < this.sizes.invoices ? i : undefined;
  }

  invoice(id: string): InvoiceRecord | undefined {
    const i = this.invoiceIndexOf(id);
    return i === undefined ? undefined : this.invoiceAt(i);
  }

  invoiceAt(index: number): InvoiceRecord {
    if (!Number.isInteger(index) || index < 0 || index >= this.sizes.invoices) throw new RangeError(`erp: no invoice at ${index}`);
    const base = this.base;
    const lineStart = lineStartOf(this.sizes, index);
    const lineCount = lineStartOf(this.sizes, index + 1) - lineStart;
    const customer = base.invoiceCustomer[index];
    return {
      index,
      id: invoiceId(index),
      customerId: customerId(customer),
      salesOrderId: lineCount >= 1 && lineCount <= MAX_ORDER_LINES ? salesOrderId(SALES_ORDER_BASE + index) : null,
      status: INVOICE_STATUSES[base.invoiceStatus[index]],
      invoiceDate: isoDate(base.invoiceDay[index]),
      dueDate: isoDate(base.invoiceDueDay[index]),
      // the customer's currency when it was seeded: a later change to the customer does not rewrite its invoices
      currencyCode: base.customers[customer].currencyCode,
      netCents: base.invoiceNetCents[index],
      lineStart,
      lineCount,
      changedAt: msOfDay(base.invoiceDay[index]) + 18 * HOUR_MS,
      version: 1,
    };
  }

  /** the indexes of the customer's invoices, ascending (empty for a created or unknown customer) */
  customerInvoiceIndexes(id: string): Int32Array {
    const n = documentNumber(id);
    const c = n === undefined ? -1 : n - CUSTOMER_BASE;
    if (c < 0 || c >= this.sizes.customers) return new Int32Array(0);
    return this.base.invoiceIndexesByCustomer.subarray(this.base.customerInvoiceStart[c], this.base.customerInvoiceStart[c + 1]);
  }

  /** line g of all invoice lines (0 <= g < invoiceLineCount) */
  invoiceLineAt(index: number): InvoiceLineRecord {
    if (!Number.isInteger(index) || index < 0 || index >= this.sizes.invoiceLines) throw new RangeError(`erp: no invoice line at ${index}`);
    const invoice = invoiceOfLine(this.sizes, index);
    return this.invoiceLineRecord(index, index - lineStartOf(this.sizes, invoice), invoice, invoiceId(invoice));
  }

  /** the lines of invoice i, in order */
  invoiceLines(invoiceIndex: number): InvoiceLineRecord[] {
    const { lineStart, lineCount, id } = this.invoiceAt(invoiceIndex);
    const lines: InvoiceLineRecord[] = [];
    for (let k = 0; k < lineCount; k++) lines.push(this.invoiceLineRecord(lineStart + k, k, invoiceIndex, id));
    return lines;
  }

  /**
   * global line g, the k-th of its invoice, copied field by field: an OData scan reads a million of them, and
   * spreading the line record into a new object cost ten times as much (measured: 2.5 s against 0.2 s a million)
   */
  private invoiceLineRecord(g: number, k: number, invoiceIndex: number, invoiceId: string): InvoiceLineRecord {
    const l = this.lineRecord(g, k);
    const { lineNumber, productId, description, quantity, unitPriceCents, netCents } = l;
    return { lineNumber, productId, description, quantity, unitPriceCents, netCents, index: g, invoiceIndex, invoiceId };
  }

  /** global line g as the k-th line of its document */
  private lineRecord(g: number, k: number): LineRecord {
    const product = this.base.products[lineProductIndex(this.base, g)];
    const quantity = lineQuantity(this.base, g);
    return {
      lineNumber: (k + 1) * 10,
      productId: product.id,
      description: product.description,
      quantity,
      unitPriceCents: product.unitPriceCents,
      netCents: quantity * product.unitPriceCents,
    };
  }

  // ---- snapshots -----------------------------------------------------------------------------------------------

  overlays(): ErpOverlays {
    return {
      revision: this.revisionValue,
      nextCustomerNumber: this.nextCustomer,
      nextOrderNumber: this.nextOrder,
      customers: [...this.customerOverlay.values()].sort((a, b) => a.number - b.number),
      salesOrders: [...this.orderOverlay.values()].sort((a, b) => a.number - b.number),
    };
  }

  /** Loads overlays into a fresh state (throws on data that does not fit it: snapshot.ts reports it as corrupt). */
  loadOverlays(data: ErpOverlays): void {
    if (this.revisionValue !== 0 || this.customerOverlay.size || this.orderOverlay.size) throw new Error('erp: overlays load into a fresh state only');
    const count = (v: unknown, min: number, what: string): number => {
      if (!Number.isSafeInteger(v) || (v as number) < min) throw new Error(`${what} ${String(v)}`);
      return v as number;
    };
    this.revisionValue = count(data.revision, 0, 'revision');
    this.nextCustomer = count(data.nextCustomerNumber, CUSTOMER_BASE + this.sizes.customers, 'next customer number');
    this.nextOrder = count(data.nextOrderNumber, this.firstCreatedOrder, 'next order number');
    for (const c of data.customers) {
      if (documentNumber(c.id) !== c.number || c.number >= this.nextCustomer || c.number < CUSTOMER_BASE) throw new Error(`customer ${String(c.id)}`);
      const record = Object.freeze({ ...c });
      this.customerOverlay.set(c.number, record);
      if (c.number >= CUSTOMER_BASE + this.sizes.customers && c.externalId !== null) this.createdByExternalId.set(c.externalId, c.number);
    }
    for (const o of data.salesOrders) {
      if (documentNumber(o.id) !== o.number || o.number >= this.nextOrder || o.number < SALES_ORDER_BASE) throw new Error(`sales order ${String(o.id)}`);
      if (!this.customer(o.customerId)) throw new Error(`sales order ${o.id} of an unknown customer`);
      this.putOrder(undefined, Object.freeze({ ...o, lines: Object.freeze(o.lines.map((l) => Object.freeze({ ...l }))) }));
    }
  }
}
