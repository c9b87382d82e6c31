/**
 * One workspace's ERP: the shared seeded base (seed.ts) plus this workspace's overlays — customers written (a
 * changed seeded one or a new one), sales orders created or changed, customers and orders deleted — the counters
 * that number new documents, and a change log. One state, two protocols: SOAP's handlers and OData's entity sets
 * (odata-sets.ts) both read through the read API below and write through the write API, never the columns or
 * overlays directly, so whatever one protocol writes the other serves.
 *
 * Read API (records.ts types; ids are the 10-digit document ids; iteration is in id order; deleted records are in
 * none of it):
 *   customerCount(), customers(afterId?), customer(id), customerByExternalId(externalId), openOrderValueCents(id),
 *   customerDocuments(id)
 *   products, product(id)
 *   salesOrderCount(), salesOrders(afterId?), salesOrder(id), salesOrderByExternalNumber(number),
 *   salesOrderHeaders(afterId?), customerSalesOrderHeaders(customerId) — orders without their lines, for listings
 *   invoiceCount, invoiceAt(index), invoice(id), invoiceIndexOf(id), customerInvoiceIndexes(customerId)
 *   invoiceLineCount, invoiceLineAt(globalIndex), invoiceLines(invoiceIndex)
 *   revision — +1 per write: the change position of OData's delta links
 *   changedKeys(set, from, to) — the customers / sales orders a write after `from` up to `to` created, changed or
 *   deleted
 * Every record carries changedAt and version (ETag = id + version).
 *
 * Write API: createCustomer, updateCustomer, deleteCustomer, createSalesOrder, updateSalesOrder, deleteSalesOrder.
 * Each is one write: the revision grows by one, every record it changes is stamped with the clock's time and a
 * new version, and every entity it created, changed or deleted is logged under that revision. The write methods
 * throw on what would break the state's invariants (a taken external key, deleting a customer that has documents
 * or an invoiced order); the rules a client is refused by live in the handlers, which check before they write.
 *
 * Deletes leave tombstones: a deleted number is never handed out again, never read again, and its external key
 * (ExternalId, ExternalOrderNumber) is free for a new record. Only documents without dependants can go: a
 * customer with no invoices and no sales orders (so every order's customer exists), an order that is not
 * INVOICED (so every seeded order, all of them invoiced, stays).
 *
 * OpenOrderValue is derived (the net value of the customer's OPEN orders) but shown on the customer (SOAP's
 * Customer, OData's Customers row): a write that changes it (an order created, cancelled, deleted, its net
 * amount changed) also bumps the customer's version and changedAt and logs the customer as changed, so ETags
 * and delta links see it.
 *
 * Determinism: the state is a pure function of (seed, sizes, the accepted writes in order, their clock times): the
 * base never reads the clock, new documents are numbered from counters, and writes read time only from
 * StateOptions.clock.
 *
 * What grows: the overlays, one record per customer written and per order created or changed, the tombstones, and
 * the change log (two numbers per entity a write touches), for the life of the workspace. They are business
 * documents and their history (like payments' charges), so `maxObjects` (limits.objects) does not prune them: it
 * is accepted and ignored here.
 */
import type { StateOptions } from '../../engine/system.js';
import type { Clock } from '../../util/clock.js';
import { CUSTOMER_BASE, customerId, documentId, documentNumber, INVOICE_BASE, invoiceId, isoDate, msOfDay, productIndex, SALES_ORDER_BASE, salesOrderId } from './ids.js';
import {
  INVOICE_STATUSES,
  type CustomerRecord,
  type InvoiceLineRecord,
  type InvoiceRecord,
  type LineRecord,
  type Product,
  type SalesOrderHeader,
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
/** what an update may change on a sales order: its customer and external order number are fixed */
export type SalesOrderChanges = Partial<Omit<SalesOrderFields, 'externalOrderNumber' | 'customerId'>>;

/** the sets whose changes are logged (OData change tracking) */
export type TrackedSet = 'Customers' | 'SalesOrders';

/** a change log as plain data: entry i is (revisions[i], numbers[i]), revisions non-decreasing */
export interface ChangeLogData {
  revisions: number[];
  numbers: number[];
}

/** The overlays as plain data: what a snapshot keeps (snapshot.ts). */
export interface ErpOverlays {
  revision: number;
  nextCustomerNumber: number;
  nextOrderNumber: number;
  customers: CustomerRecord[];
  salesOrders: SalesOrderRecord[];
  /** tombstones: the numbers of deleted customers and sales orders, ascending */
  deletedCustomers: number[];
  deletedSalesOrders: number[];
  changeLog: Record<TrackedSet, ChangeLogData>;
}

/**
 * Which numbers each write touched, in write order: two parallel arrays of small integers (no object per entry),
 * searched by revision with a binary search.
 */
class ChangeLog {
  private readonly revisions: number[] = [];
  private readonly numbers: number[] = [];

  add(revision: number, number: number): void {
    const last = this.revisions.length - 1;
    // one entry per entity per write
    if (last >= 0 && this.revisions[last] === revision && this.numbers[last] === number) return;
    this.revisions.push(revision);
    this.numbers.push(number);
  }

  /** distinct numbers logged with from < revision <= to, ascending */
  numbersBetween(from: number, to: number): number[] {
    const r = this.revisions;
    let lo = 0;
    let hi = r.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (r[mid] <= from) lo = mid + 1;
      else hi = mid;
    }
    const found = new Set<number>();
    for (let i = lo; i < r.length && r[i] <= to; i++) found.add(this.numbers[i]);
    return [...found].sort((a, b) => a - b);
  }

  get size(): number {
    return this.revisions.length;
  }

  data(): ChangeLogData {
    return { revisions: [...this.revisions], numbers: [...this.numbers] };
  }

  /** loads a snapshot's entries into an empty log, checking them (throws on what does not fit) */
  load(data: ChangeLogData, maxRevision: number, validNumber: (n: number) => boolean, what: string): void {
    if (!data || !Array.isArray(data.revisions) || !Array.isArray(data.numbers) || data.revisions.length !== data.numbers.length) {
      throw new Error(`${what} change log`);
    }
    let previous = 1;
    for (let i = 0; i < data.revisions.length; i++) {
      const revision = data.revisions[i];
      const number = data.numbers[i];
      if (!Number.isSafeInteger(revision) || revision < previous || revision > maxRevision) throw new Error(`${what} change log revision ${String(revision)}`);
      if (!Number.isSafeInteger(number) || !validNumber(number)) throw new Error(`${what} change log number ${String(number)}`);
      previous = revision;
      this.revisions.push(revision);
      this.numbers.push(number);
    }
  }
}

const HOUR_MS = 3_600_000;

/** a written order without its lines */
function headerOf(o: SalesOrderRecord): SalesOrderHeader {
  const { lines, ...fields } = o;
  return { ...fields, lineCount: lines.length };
}

/** what an order adds to its customer's open order value */
const openCents = (o: SalesOrderRecord): number => (o.status === 'OPEN' ? o.netCents : 0);

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
  /** per customer number, how many created orders it has (seeded orders are its invoices'); absent = 0 */
  private readonly createdOrderCount = new Map<number, number>();
  /** tombstones */
  private readonly deletedCustomers = new Set<number>();
  private readonly deletedOrders = new Set<number>();
  private readonly changes: Record<TrackedSet, ChangeLog> = { Customers: new ChangeLog(), SalesOrders: new ChangeLog() };

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

  /** +1 with every write: the change position (OData delta links) */
  get revision(): number {
    return this.revisionValue;
  }

  /**
   * The ids of the set's records created, changed or deleted by the writes after revision `from` up to and
   * including `to`: distinct, ascending.
   */
  changedKeys(set: TrackedSet, from: number, to: number): string[] {
    return this.changes[set].numbersBetween(from, to).map(documentId);
  }

  /** starts a write: its revision, under which everything it touches is logged */
  private nextRevision(): number {
    return ++this.revisionValue;
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

  /** live customers (deleted ones not counted) */
  customerCount(): number {
    return this.nextCustomer - CUSTOMER_BASE - this.deletedCustomers.size;
  }

  customer(id: string): CustomerRecord | undefined {
    const n = documentNumber(id);
    return n === undefined ? undefined : this.customerByNumber(n);
  }

  private customerByNumber(n: number): CustomerRecord | undefined {
    if (n < CUSTOMER_BASE || n >= this.nextCustomer || this.deletedCustomers.has(n)) return undefined;
    return this.customerOverlay.get(n) ?? this.base.customers[n - CUSTOMER_BASE];
  }

  customerByExternalId(externalId: string): CustomerRecord | undefined {
    // a created customer first: it may carry the external id of a seeded customer deleted before it
    const created = this.createdByExternalId.get(externalId);
    if (created !== undefined) return this.customerByNumber(created);
    const seeded = this.base.customerByExternalId.get(externalId);
    return seeded === undefined ? undefined : this.customerByNumber(CUSTOMER_BASE + seeded);
  }

  /** customers in id order, starting after `afterId` (keyset paging) */
  *customers(afterId?: string): IterableIterator<CustomerRecord> {
    const from = afterId === undefined ? CUSTOMER_BASE : Math.max(CUSTOMER_BASE, (documentNumber(afterId) ?? Infinity) + 1);
    for (let n = from; n < this.nextCustomer; n++) {
      const customer = this.customerByNumber(n);
      if (customer) yield customer;
    }
  }

  /** what keeps a customer from being deleted: its invoices and its sales orders (seeded and created) */
  customerDocuments(id: string): { invoices: number; salesOrders: number } {
    const invoices = this.customerInvoiceIndexes(id);
    let seededOrders = 0;
    for (const i of invoices) {
      const count = lineStartOf(this.sizes, i + 1) - lineStartOf(this.sizes, i);
      if (count >= 1 && count <= MAX_ORDER_LINES) seededOrders++;
    }
    return { invoices: invoices.length, salesOrders: seededOrders + (this.createdOrderCount.get(documentNumber(id) ?? -1) ?? 0) };
  }

  /** the net value of the customer's OPEN sales orders, in cents */
  openOrderValueCents(id: string): number {
    return this.openOrderCents.get(documentNumber(id) ?? -1) ?? 0;
  }

  createCustomer(fields: CustomerFields): CustomerRecord {
    if (fields.externalId !== null && this.customerByExternalId(fields.externalId)) throw new Error(`erp: external id ${fields.externalId} is taken`);
    const revision = this.nextRevision();
    const number = this.nextCustomer++;
    const now = this.now();
    const record: CustomerRecord = Object.freeze({ ...fields, id: customerId(number - CUSTOMER_BASE), number, createdAt: now, changedAt: now, version: 1 });
    this.customerOverlay.set(number, record);
    if (record.externalId !== null) this.createdByExternalId.set(record.externalId, number);
    this.changes.Customers.add(revision, number);
    return record;
  }

  /** Replaces the fields given (the external id is the key: it cannot change). */
  updateCustomer(id: string, changes: Partial<Omit<CustomerFields, 'externalId'>>): CustomerRecord {
    const current = this.customer(id);
    if (!current) throw new Error(`erp: no customer ${id}`);
    return this.touchCustomer(current, changes, this.nextRevision());
  }

  /** Deletes a customer that has no documents (throws otherwise); its external id is free again. */
  deleteCustomer(id: string): CustomerRecord {
    const current = this.customer(id);
    if (!current) throw new Error(`erp: no customer ${id}`);
    const documents = this.customerDocuments(id);
    if (documents.invoices || documents.salesOrders) throw new Error(`erp: customer ${id} has documents`);
    const revision = this.nextRevision();
    this.deletedCustomers.add(current.number);
    this.customerOverlay.delete(current.number);
    if (current.externalId !== null && this.createdByExternalId.get(current.externalId) === current.number) this.createdByExternalId.delete(current.externalId);
    this.changes.Customers.add(revision, current.number);
    return current;
  }

  /** a new version of the customer, stamped now and logged under the write's revision */
  private touchCustomer(current: CustomerRecord, changes: Partial<Omit<CustomerFields, 'externalId'>>, revision: number): CustomerRecord {
    const record: CustomerRecord = Object.freeze({ ...current, ...changes, changedAt: this.now(), version: current.version + 1 });
    this.customerOverlay.set(record.number, record);
    this.changes.Customers.add(revision, record.number);
    return record;
  }

  // ---- sales orders --------------------------------------------------------------------------------------------

  /** live sales orders (deleted ones not counted) */
  salesOrderCount(): number {
    return this.base.seededOrderCount + (this.nextOrder - this.firstCreatedOrder) - this.deletedOrders.size;
  }

  salesOrder(id: string): SalesOrderRecord | undefined {
    const n = documentNumber(id);
    return n === undefined ? undefined : this.orderByNumber(n);
  }

  private orderByNumber(n: number): SalesOrderRecord | undefined {
    if (this.deletedOrders.has(n)) return undefined;
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

  /**
   * sales orders without their lines, in id order after `afterId`: a listing of the seeded orders computes none of
   * their (up to 100) lines, which reading the orders themselves would
   */
  *salesOrderHeaders(afterId?: string): IterableIterator<SalesOrderHeader> {
    const from = afterId === undefined ? SALES_ORDER_BASE : Math.max(SALES_ORDER_BASE, (documentNumber(afterId) ?? Infinity) + 1);
    for (let n = from; n < this.nextOrder; n++) {
      const header = this.headerByNumber(n);
      if (header) yield header;
    }
  }

  /** the customer's sales orders without their lines, in id order: its seeded ones (its invoices'), then its created ones */
  customerSalesOrderHeaders(customerId: string): SalesOrderHeader[] {
    const out: SalesOrderHeader[] = [];
    for (const i of this.customerInvoiceIndexes(customerId)) {
      const header = this.headerByNumber(SALES_ORDER_BASE + i);
      if (header) out.push(header);
    }
    if (this.createdOrderCount.has(documentNumber(customerId) ?? -1)) {
      const created = [...this.orderOverlay.values()].filter((o) => o.number >= this.firstCreatedOrder && o.customerId === customerId);
      for (const o of created.sort((a, b) => a.number - b.number)) out.push(headerOf(o));
    }
    return out;
  }

  private headerByNumber(n: number): SalesOrderHeader | undefined {
    if (this.deletedOrders.has(n)) return undefined;
    const written = this.orderOverlay.get(n);
    if (written) return headerOf(written);
    if (n >= SALES_ORDER_BASE && n < this.firstCreatedOrder) return this.seededOrderHeader(n - SALES_ORDER_BASE);
    return undefined;
  }

  createSalesOrder(fields: SalesOrderFields): SalesOrderRecord {
    if (fields.externalOrderNumber !== null && this.orderByExternalNumber.has(fields.externalOrderNumber)) {
      throw new Error(`erp: external order number ${fields.externalOrderNumber} is taken`);
    }
    if (!this.customer(fields.customerId)) throw new Error(`erp: no customer ${fields.customerId}`);
    const revision = this.nextRevision();
    const number = this.nextOrder++;
    const now = this.now();
    const record: SalesOrderRecord = Object.freeze({ ...fields, id: salesOrderId(number), number, createdAt: now, changedAt: now, version: 1 });
    this.putOrder(undefined, record);
    this.changes.SalesOrders.add(revision, number);
    this.openValueChanged(record.customerId, openCents(record), revision);
    return record;
  }

  updateSalesOrder(id: string, changes: SalesOrderChanges): SalesOrderRecord {
    const current = this.salesOrder(id);
    if (!current) throw new Error(`erp: no sales order ${id}`);
    const revision = this.nextRevision();
    const record: SalesOrderRecord = Object.freeze({ ...current, ...changes, changedAt: this.now(), version: current.version + 1 });
    this.putOrder(current, record);
    this.changes.SalesOrders.add(revision, record.number);
    this.openValueChanged(record.customerId, openCents(record) - openCents(current), revision);
    return record;
  }

  /** Deletes a sales order that is not INVOICED (throws otherwise); an OPEN one releases its value. */
  deleteSalesOrder(id: string): SalesOrderRecord {
    const current = this.salesOrder(id);
    if (!current) throw new Error(`erp: no sales order ${id}`);
    if (current.status === 'INVOICED') throw new Error(`erp: sales order ${id} is invoiced`);
    const revision = this.nextRevision();
    this.deletedOrders.add(current.number);
    this.orderOverlay.delete(current.number);
    if (current.externalOrderNumber !== null && this.orderByExternalNumber.get(current.externalOrderNumber) === current.number) {
      this.orderByExternalNumber.delete(current.externalOrderNumber);
    }
    this.addOpen(current.customerId, -openCents(current));
    if (current.number >= this.firstCreatedOrder) this.addCount(this.createdOrderCount, current.customerId, -1);
    this.changes.SalesOrders.add(revision, current.number);
    this.openValueChanged(current.customerId, -openCents(current), revision);
    return current;
  }

  /** keeps the overlay, the external-number index, the open order values and the order counts in step */
  private putOrder(previous: SalesOrderRecord | undefined, record: SalesOrderRecord): void {
    if (previous) this.addOpen(previous.customerId, -openCents(previous));
    else if (record.number >= this.firstCreatedOrder) this.addCount(this.createdOrderCount, record.customerId, 1);
    this.addOpen(record.customerId, openCents(record));
    this.orderOverlay.set(record.number, record);
    if (record.externalOrderNumber !== null) this.orderByExternalNumber.set(record.externalOrderNumber, record.number);
  }

  /** a write moved the customer's open order value by `delta`: the customer shows it, so it has changed */
  private openValueChanged(customer: string, delta: number, revision: number): void {
    if (delta !== 0) this.touchCustomer(this.customer(customer)!, {}, revision);
  }

  private addOpen(customer: string, cents: number): void {
    if (cents !== 0) this.addCount(this.openOrderCents, customer, cents);
  }

  private addCount(counts: Map<number, number>, customer: string, by: number): void {
    const n = documentNumber(customer)!;
    const value = (counts.get(n) ?? 0) + by;
    if (value === 0) counts.delete(n);
    else counts.set(n, value);
  }

  /** the seeded order billed by invoice i, or undefined when that invoice bills none */
  private seededOrder(invoice: number): SalesOrderRecord | undefined {
    const header = this.seededOrderHeader(invoice);
    if (!header) return undefined;
    const start = lineStartOf(this.sizes, invoice);
    const lines: LineRecord[] = [];
    for (let k = 0; k < header.lineCount; k++) lines.push(this.lineRecord(start + k, k));
    const { lineCount: _, ...fields } = header;
    return Object.freeze({ ...fields, lines: Object.freeze(lines) });
  }

  /** the seeded order of invoice i without its lines (they are the invoice's) */
  private seededOrderHeader(invoice: number): SalesOrderHeader | undefined {
    const start = lineStartOf(this.sizes, invoice);
    const count = lineStartOf(this.sizes, invoice + 1) - start;
    if (count < 1 || count > MAX_ORDER_LINES) return undefined;
    const base = this.base;
    const h = hashOf(base.orderSalt, invoice);
    const invoiceDay = base.invoiceDay[invoice];
    const orderDay = invoiceDay - (h % 10);
    const requested = (h >>> 4) % 3 === 0 ? null : orderDay + ((h >>> 6) % (invoiceDay - orderDay + 1));
    return {
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
      lineCount: count,
      invoiceId: invoiceId(invoice),
      // entered during the working day, changed when invoiced
      createdAt: msOfDay(orderDay) + 8 * HOUR_MS + ((h >>> 10) % 32_400) * 1000,
      changedAt: msOfDay(invoiceDay) + 18 * HOUR_MS,
      version: 1,
    };
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
      deletedCustomers: [...this.deletedCustomers].sort((a, b) => a - b),
      deletedSalesOrders: [...this.deletedOrders].sort((a, b) => a - b),
      changeLog: { Customers: this.changes.Customers.data(), SalesOrders: this.changes.SalesOrders.data() },
    };
  }

  /** Loads overlays into a fresh state (throws on data that does not fit it: snapshot.ts reports it as corrupt). */
  loadOverlays(data: ErpOverlays): void {
    const fresh =
      this.revisionValue === 0 && !this.customerOverlay.size && !this.orderOverlay.size && !this.deletedCustomers.size && !this.deletedOrders.size && !this.changes.Customers.size && !this.changes.SalesOrders.size;
    if (!fresh) throw new Error('erp: overlays load into a fresh state only');
    const count = (v: unknown, min: number, what: string): number => {
      if (!Number.isSafeInteger(v) || (v as number) < min) throw new Error(`${what} ${String(v)}`);
      return v as number;
    };
    this.revisionValue = count(data.revision, 0, 'revision');
    this.nextCustomer = count(data.nextCustomerNumber, CUSTOMER_BASE + this.sizes.customers, 'next customer number');
    this.nextOrder = count(data.nextOrderNumber, this.firstCreatedOrder, 'next order number');
    const isCustomerNumber = (n: number): boolean => n >= CUSTOMER_BASE && n < this.nextCustomer;
    const isOrderNumber = (n: number): boolean => n >= SALES_ORDER_BASE && n < this.nextOrder;

    // tombstones first: a deleted customer has no invoices, and no order of the overlays may name it
    const tombstones = (list: unknown, valid: (n: number) => boolean, what: string): number[] => {
      if (!Array.isArray(list)) throw new Error(`no deleted ${what}s`);
      list.forEach((n, i) => {
        if (!Number.isSafeInteger(n) || !valid(n) || (i > 0 && n <= list[i - 1])) throw new Error(`deleted ${what} ${String(n)}`);
      });
      return list as number[];
    };
    for (const n of tombstones(data.deletedCustomers, isCustomerNumber, 'customer')) {
      if (this.customerInvoiceIndexes(documentId(n)).length) throw new Error(`deleted customer ${documentId(n)} has invoices`);
      this.deletedCustomers.add(n);
    }
    // seeded orders are all invoiced: only created ones can have been deleted
    for (const n of tombstones(data.deletedSalesOrders, (n) => n >= this.firstCreatedOrder && isOrderNumber(n), 'sales order')) this.deletedOrders.add(n);

    for (const c of data.customers) {
      if (documentNumber(c.id) !== c.number || !isCustomerNumber(c.number)) throw new Error(`customer ${String(c.id)}`);
      if (this.deletedCustomers.has(c.number)) throw new Error(`customer ${c.id} is deleted`);
      const record = Object.freeze({ ...c });
      if (c.number >= CUSTOMER_BASE + this.sizes.customers && c.externalId !== null) {
        if (this.customerByExternalId(c.externalId)) throw new Error(`customer ${c.id}: external id ${c.externalId} used twice`);
        this.createdByExternalId.set(c.externalId, c.number);
      }
      this.customerOverlay.set(c.number, record);
    }
    for (const o of data.salesOrders) {
      if (documentNumber(o.id) !== o.number || !isOrderNumber(o.number)) throw new Error(`sales order ${String(o.id)}`);
      if (this.deletedOrders.has(o.number)) throw new Error(`sales order ${o.id} is deleted`);
      if (!this.customer(o.customerId)) throw new Error(`sales order ${o.id} of an unknown customer`);
      if (o.externalOrderNumber !== null && this.orderByExternalNumber.has(o.externalOrderNumber)) throw new Error(`sales order ${o.id}: external order number used twice`);
      this.putOrder(undefined, Object.freeze({ ...o, lines: Object.freeze(o.lines.map((l) => Object.freeze({ ...l }))) }));
    }
    if (!data.changeLog || typeof data.changeLog !== 'object') throw new Error('no change log');
    this.changes.Customers.load(data.changeLog.Customers, this.revisionValue, isCustomerNumber, 'customer');
    this.changes.SalesOrders.load(data.changeLog.SalesOrders, this.revisionValue, isOrderNumber, 'sales order');
  }
}
