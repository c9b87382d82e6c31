/**
 * One workspace's warehouse: stock levels, reservations, shipments and the change feed.
 *
 * Many workspaces live in one process, and a catalogue may have 1,000,000 SKUs, so stock is columnar: typed
 * arrays indexed by cell (skuIndex × warehouseCount + warehouseIndex) for on-hand and reserved units, and by SKU
 * for last change, version and feed position. Item descriptors are not stored here at all (see catalogue.ts).
 *
 * Every write goes through touch*(), which stamps the record, bumps its version and moves it to the end of the
 * change feed. Stamps come from the clock but never go backwards (a clock stepping back, or a clock set before
 * the seed epoch, must not reorder the feed), see stamp().
 *
 * A sandbox may point at one instance for months, so nothing may grow with every write forever:
 * - active reservations expire `reservationTtlMs` after they were made (expiry.ts), lazily in catchUp(), like
 *   the stock simulation, so that the outcome depends only on the writes and their clock times;
 * - finished records (released, expired and fulfilled reservations, delivered and cancelled shipments) are
 *   retired in the order they finished, and beyond `maxObjects` of them the oldest is pruned: removed from the
 *   tables, from the idempotency index and from the change feed (whose horizon then moves past it).
 */
import type { StateOptions } from '../../engine/system.js';
import type { Clock } from '../../util/clock.js';
import { catalogueFor, type Catalogue } from './catalogue.js';
import { describeChangeRate } from './change-rate.js';
import { ChangeLog, type ChangeEntity, type ChangeLogData, type CurrentSeq } from './change-log.js';
import { ReservationExpiry, type ReservationExpiryData } from './expiry.js';
import { PairQueue, RecordTable, type PairQueueData, type RecordTableData } from './record-table.js';
import { stockTemplate, type StockTemplate } from './seed.js';
import { StockSimulation, type SimulationChange, type SimulationSettings, type StockSimulationData } from './simulation.js';
import { warehousesFor, type Warehouse } from './warehouses.js';

export interface WmsStateOptions extends StateOptions {
  skuCount: number;
  warehouseCount: number;
  /** background stock changes per second of clock time at the start (0: none, until an admin sets a rate) */
  changeRatePerSecond?: number;
  /** an active reservation without a shipment under way expires this long after it was made; 0 or absent: never */
  reservationTtlMs?: number;
  /** most finished reservations and shipments kept; absent: all */
  maxObjects?: number;
}

export type ReservationStatus = 'active' | 'released' | 'expired' | 'fulfilled';
export type ShipmentStatus = 'created' | 'picked' | 'packed' | 'shipped' | 'delivered' | 'cancelled';

/** A line as the caller asked for it. */
export interface RequestedLine {
  sku: string;
  quantity: number;
  warehouseId: string | null;
}

/** Units of one line held in one warehouse. */
export interface Allocation {
  skuIndex: number;
  warehouseIndex: number;
  quantity: number;
}

export interface StoredReservation {
  /** the reservation's number (from 0); the id is derived from it */
  index: number;
  id: string;
  externalOrderId: string;
  status: ReservationStatus;
  lines: RequestedLine[];
  /** per line, the warehouses it was allocated from */
  allocations: Allocation[][];
  /** the lines in canonical form: an idempotent repeat must ask for exactly these */
  linesSignature: string;
  /**
   * number of the shipment that is not cancelled, -1 when none. Once the reservation is fulfilled that shipment
   * may be pruned before it, so this only ever names it (shipmentIdOf), never looks it up.
   */
  shipmentIndex: number;
  createdAt: number;
  updatedAt: number;
  /**
   * when the hold lapses: set while active without a shipment under way, null while one is (and when
   * reservations never expire); kept as it was when the reservation ends, so an expired one shows when.
   */
  expiresAt: number | null;
  releasedAt: number | null;
  fulfilledAt: number | null;
  version: number;
  /** change-feed sequence number of the latest change */
  seq: number;
}

export interface Address {
  name: string;
  line1: string;
  line2?: string;
  city: string;
  postalCode: string;
  countryCode: string;
}

export interface StoredShipment {
  index: number;
  id: string;
  reservationIndex: number;
  /**
   * What the shipment shows of its reservation, shared with it (not copied): a shipped shipment outlives its
   * fulfilled reservation when that is pruned first, and must still answer GET.
   */
  reservationId: string;
  externalOrderId: string;
  allocations: Allocation[][];
  status: ShipmentStatus;
  carrier: string | null;
  service: string | null;
  trackingNumber: string | null;
  shipTo: Address | null;
  history: Array<{ status: ShipmentStatus; at: number }>;
  createdAt: number;
  updatedAt: number;
  version: number;
  seq: number;
}

/** The stock columns of a WmsState. */
export interface StockColumns {
  onHand: Int32Array;
  reserved: Int32Array;
  updatedAt: Float64Array;
  version: Uint32Array;
  skuSeq: Float64Array;
}

/**
 * Everything of a WmsState that does not follow from its options (snapshot.ts turns it into bytes and back). From
 * toData() the stock columns, the records and the parts' lists (change log, tables' order, queues) are the
 * state's own, not copies: serialise it before the state changes again.
 */
export interface WmsStateData extends StockColumns {
  changes: ChangeLogData;
  reservations: RecordTableData<StoredReservation>;
  shipments: RecordTableData<StoredShipment>;
  /**
   * the idempotency index (external order id to reservation): the numbers of the reservations in it, in its
   * order; each one's key is its externalOrderId
   */
  externalOrderIndex: Float64Array;
  retired: PairQueueData;
  /** null when reservations never expire */
  expiry: ReservationExpiryData | null;
  /** null while there is no background simulation (none configured, and no admin has set one) */
  simulation: StockSimulationData | null;
  lastStamp: number;
}

/** The stock columns a workspace starts with: the template's stock, nothing reserved, version 1, feed position number + 1. */
export function seededStock(template: StockTemplate, skuCount: number): StockColumns {
  const skuSeq = new Float64Array(skuCount);
  for (let i = 0; i < skuCount; i++) skuSeq[i] = i + 1;
  return {
    onHand: template.onHand.slice(),
    reserved: new Int32Array(template.onHand.length),
    updatedAt: template.updatedAt.slice(),
    version: new Uint32Array(skuCount).fill(1),
    skuSeq,
  };
}

/** The largest on-hand quantity of one cell (keeps Int32 arithmetic safe). */
export const MAX_ON_HAND = 1_000_000_000;
export const MAX_SKUS = 1_000_000;

/** Throws when the configured catalogue size is out of range (a configuration error). */
export function checkSkuCount(skuCount: number): void {
  if (!Number.isInteger(skuCount) || skuCount < 1 || skuCount > MAX_SKUS) {
    throw new Error(`wms: skus must be an integer from 1 to ${MAX_SKUS}, got ${skuCount}`);
  }
}

const RESERVATION_ID = /^RES-(\d{6,})$/;
const SHIPMENT_ID = /^SHP-(\d{6,})$/;

export function reservationIdOf(index: number): string {
  return idOf(RESERVATION_PREFIXES, index + 1);
}

export function shipmentIdOf(index: number): string {
  return idOf(SHIPMENT_PREFIXES, index + 1);
}

/** An id's prefix by the number of digits of its number (0 to 6): enough zeros to make 6 digits. */
const prefixes = (kind: string) => Array.from({ length: 7 }, (_, digits) => kind + '0'.repeat(6 - digits));
const RESERVATION_PREFIXES = prefixes('RES-');
const SHIPMENT_PREFIXES = prefixes('SHP-');

/** `${kind}${number, zero-padded to 6 digits}`: by table, as padStart costs several times more (restores make 100,000s). */
function idOf(prefixes: readonly string[], number: number): string {
  const digits = String(number);
  return prefixes[Math.min(digits.length, 6)] + digits;
}

/** Entity tags in the retirement queue. */
const RESERVATION = 0;
const SHIPMENT = 1;

export class WmsState {
  readonly seed: number;
  readonly clock: Clock;
  readonly catalogue: Catalogue;
  readonly skuCount: number;
  readonly warehouses: readonly Warehouse[];
  readonly warehouseCount: number;

  /** units per cell (skuIndex * warehouseCount + warehouseIndex) */
  readonly onHand: Int32Array;
  readonly reserved: Int32Array;
  /** per SKU: last change (ms), version (starts at 1), change-feed sequence number */
  readonly updatedAt: Float64Array;
  readonly version: Uint32Array;
  readonly skuSeq: Float64Array;

  readonly changes: ChangeLog;
  readonly reservations: RecordTable<StoredReservation>;
  readonly shipments: RecordTable<StoredShipment>;
  /** 0: reservations never expire */
  readonly reservationTtlMs: number;
  readonly maxObjects: number;
  /** the configured rate the simulation starts at (an admin may change the running one: configureSimulation) */
  readonly changeRatePerSecond: number;
  private readonly reservationByExternalOrder: Map<string, StoredReservation>;
  private readonly warehouseIndexById: Map<string, number>;
  /** created at the start when a rate is configured, else by the first admin change (configureSimulation) */
  private simulation: StockSimulation | undefined;
  /** StateOptions.record: for catch-ups whose outcome depends on when they ran */
  private readonly record: StateOptions['record'];
  private readonly expiry: ReservationExpiry | undefined;
  /** finished records not yet pruned, oldest first: (RESERVATION | SHIPMENT, number) */
  private readonly retired: PairQueue;
  /** the latest stamp handed out: stamps never go below it */
  private lastStamp: number;

  /**
   * The seeded state for `options`, or with `restored` (restoreWms in snapshot.ts, which checks it against the
   * options first) the state it describes, adopting its arrays and records: nothing is seeded then.
   */
  constructor(options: WmsStateOptions, restored?: WmsStateData) {
    checkSkuCount(options.skuCount);
    this.seed = options.seed;
    this.clock = options.clock;
    this.catalogue = catalogueFor(options.seed);
    this.skuCount = options.skuCount;
    this.warehouses = warehousesFor(options.warehouseCount);
    this.warehouseCount = this.warehouses.length;
    this.warehouseIndexById = new Map(this.warehouses.map((w, i) => [w.warehouseId, i]));
    this.reservationTtlMs = options.reservationTtlMs ?? 0;
    this.maxObjects = options.maxObjects ?? Infinity;
    this.changeRatePerSecond = options.changeRatePerSecond ?? 0;

    const template = stockTemplate(options.seed, this.skuCount, this.warehouseCount);
    const stock = restored ?? seededStock(template, this.skuCount);
    this.onHand = stock.onHand;
    this.reserved = stock.reserved;
    this.updatedAt = stock.updatedAt;
    this.version = stock.version;
    this.skuSeq = stock.skuSeq;
    const currentSeq: CurrentSeq = (entity, ref) => this.currentSeq(entity, ref);
    this.record = options.record;

    if (restored === undefined) {
      this.changes = new ChangeLog(this.skuCount, template.updatedAt, currentSeq);
      this.reservations = new RecordTable();
      this.shipments = new RecordTable();
      this.reservationByExternalOrder = new Map();
      this.retired = new PairQueue();
      this.lastStamp = template.updatedAt[this.skuCount - 1];
      const rate = this.changeRatePerSecond;
      this.simulation = rate > 0 ? new StockSimulation(this, { perSecond: rate, text: describeChangeRate(rate) }, options.clock.now()) : undefined;
      this.expiry = this.reservationTtlMs > 0 ? new ReservationExpiry(this) : undefined;
    } else {
      this.changes = ChangeLog.fromData(restored.changes, this.skuCount, template.updatedAt, currentSeq);
      this.reservations = RecordTable.fromData(restored.reservations);
      this.shipments = RecordTable.fromData(restored.shipments);
      this.reservationByExternalOrder = new Map();
      for (const index of restored.externalOrderIndex) {
        const reservation = this.reservations.get(index);
        if (reservation === undefined) throw new Error(`external order index: no reservation ${index}`);
        const size = this.reservationByExternalOrder.size;
        // (a key listed twice does not grow the map)
        this.reservationByExternalOrder.set(reservation.externalOrderId, reservation);
        if (this.reservationByExternalOrder.size === size) throw new Error(`external order index: ${reservation.externalOrderId} listed twice`);
      }
      this.retired = PairQueue.fromData(restored.retired);
      this.lastStamp = restored.lastStamp;
      this.simulation = restored.simulation === null ? undefined : StockSimulation.fromData(this, restored.simulation);
      this.expiry = restored.expiry === null ? undefined : ReservationExpiry.fromData(this, restored.expiry);
    }
  }

  /** Everything snapshot.ts keeps of the state (see WmsStateData): shares the live arrays and records. */
  toData(): WmsStateData {
    return {
      onHand: this.onHand,
      reserved: this.reserved,
      updatedAt: this.updatedAt,
      version: this.version,
      skuSeq: this.skuSeq,
      changes: this.changes.toData(),
      reservations: this.reservations.toData(),
      shipments: this.shipments.toData(),
      externalOrderIndex: externalOrderIndex(this.reservationByExternalOrder),
      retired: this.retired.toData(),
      expiry: this.expiry?.toData() ?? null,
      simulation: this.simulation?.toData() ?? null,
      lastStamp: this.lastStamp,
    };
  }

  /**
   * Applies what has fallen due by now: reservation expiries and background stock changes, merged in time
   * order (a simulated change may only take stock that an earlier expiry freed), so the outcome is the same
   * whether this runs once at the end or at every step on the way. Called before every request is handled.
   */
  catchUp(): void {
    const now = this.clock.now();
    let skipped = false;
    if (this.expiry !== undefined) {
      for (let due = this.expiry.nextDue(); due !== undefined && due <= now; due = this.expiry.nextDue()) {
        if (this.simulation?.catchUp(due)) skipped = true;
        this.expiry.expireNext();
      }
    }
    if (this.simulation?.catchUp(now)) skipped = true;
    // which changes a long idle skipped depends on when this ran: the log keeps the moment, to replay it then
    if (skipped) this.record?.('catch-up', now);
  }

  /** The background simulation as GET /__admin/wms/simulation shows it. */
  simulationSettings(): SimulationSettings {
    return this.simulation?.settings() ?? { running: false, rate: describeChangeRate(this.changeRatePerSecond) };
  }

  /** Simulated changes per second right now: 0 when there is no simulation, or it is paused or at rate 0. */
  get simulationRate(): number {
    return this.simulation?.activeRate ?? 0;
  }

  /**
   * An admin's change to the simulation (PUT /__admin/wms/simulation), now: throws CommandError, changing
   * nothing, when it cannot be made; else applies what fell due by now at the old rate, then switches.
   */
  configureSimulation(change: SimulationChange): SimulationSettings {
    const now = this.clock.now();
    // none yet (no rate configured): one at rate 0 from now, which has made no changes
    const simulation = this.simulation ?? new StockSimulation(this, { perSecond: 0, text: describeChangeRate(this.changeRatePerSecond) }, now);
    simulation.check(change);
    this.catchUp();
    simulation.reconfigure(change, now);
    this.simulation = simulation;
    return simulation.settings();
  }

  /** When the earliest pending reservation expiry falls due (ms), or undefined when none is pending. */
  nextExpiryDue(): number | undefined {
    return this.expiry?.nextDue();
  }

  /** A timestamp for a write: the clock's time, or the previous stamp when the clock is behind it. */
  stamp(at: number = this.clock.now()): number {
    if (at > this.lastStamp) this.lastStamp = at;
    return this.lastStamp;
  }

  // --- lookups -------------------------------------------------------------------------------------------

  /** Zero-based index of `SKU-n`, or -1 when there is no such SKU. */
  skuIndex(sku: string): number {
    if (!sku.startsWith('SKU-')) return -1;
    const digits = sku.slice(4);
    const n = Number(digits);
    // String(n) === digits rejects "SKU-01", "SKU-1.0", "SKU- 1" and the like: one spelling per SKU
    if (!Number.isInteger(n) || n < 1 || n > this.skuCount || String(n) !== digits) return -1;
    return n - 1;
  }

  /** Index of a warehouse id, or -1. */
  warehouseIndex(warehouseId: string): number {
    return this.warehouseIndexById.get(warehouseId) ?? -1;
  }

  cell(skuIndex: number, warehouseIndex: number): number {
    return skuIndex * this.warehouseCount + warehouseIndex;
  }

  availableAt(cell: number): number {
    return this.onHand[cell] - this.reserved[cell];
  }

  reservation(id: string): StoredReservation | undefined {
    const index = indexOf(RESERVATION_ID, id, reservationIdOf);
    return index === undefined ? undefined : this.reservations.get(index);
  }

  reservationFor(externalOrderId: string): StoredReservation | undefined {
    return this.reservationByExternalOrder.get(externalOrderId);
  }

  shipment(id: string): StoredShipment | undefined {
    const index = indexOf(SHIPMENT_ID, id, shipmentIdOf);
    return index === undefined ? undefined : this.shipments.get(index);
  }

  /** True when `id` names a reservation or shipment that existed and was pruned. */
  wasPruned(kind: 'reservation' | 'shipment', id: string): boolean {
    const [pattern, idOf, table] =
      kind === 'reservation' ? [RESERVATION_ID, reservationIdOf, this.reservations] : [SHIPMENT_ID, shipmentIdOf, this.shipments];
    const index = indexOf(pattern, id, idOf);
    return index !== undefined && (table as RecordTable<{ index: number }>).wasRemoved(index);
  }

  // --- writes --------------------------------------------------------------------------------------------

  /** Records a change of a SKU's stock (call once per SKU per write, after changing its cells). */
  touchSku(skuIndex: number, at: number): void {
    this.updatedAt[skuIndex] = at;
    this.version[skuIndex]++;
    this.skuSeq[skuIndex] = this.changes.append('inventory', skuIndex, at, this.skuSeq[skuIndex]);
  }

  touchReservation(reservation: StoredReservation, at: number): void {
    reservation.updatedAt = at;
    reservation.version++;
    reservation.seq = this.changes.append('reservation', reservation.index, at, reservation.seq);
  }

  touchShipment(shipment: StoredShipment, at: number): void {
    shipment.updatedAt = at;
    shipment.version++;
    shipment.seq = this.changes.append('shipment', shipment.index, at, shipment.seq);
  }

  /** Stores a new reservation (version 1, at the end of the feed) with the next id; its hold starts now. */
  addReservation(
    fields: Pick<StoredReservation, 'externalOrderId' | 'lines' | 'allocations' | 'linesSignature'>,
    at: number,
  ): StoredReservation {
    const index = this.reservations.issued;
    const reservation: StoredReservation = {
      index,
      id: reservationIdOf(index),
      status: 'active',
      shipmentIndex: -1,
      createdAt: at,
      updatedAt: at,
      expiresAt: null,
      releasedAt: null,
      fulfilledAt: null,
      version: 0,
      seq: 0,
      ...fields,
    };
    this.reservations.add(reservation);
    this.reservationByExternalOrder.set(reservation.externalOrderId, reservation);
    this.startHold(reservation, at);
    this.touchReservation(reservation, at);
    return reservation;
  }

  /** Stores a new shipment for an active reservation, in status `created`, and attaches it. */
  addShipment(
    reservation: StoredReservation,
    fields: Pick<StoredShipment, 'carrier' | 'service' | 'shipTo'>,
    at: number,
  ): StoredShipment {
    const index = this.shipments.issued;
    const shipment: StoredShipment = {
      index,
      id: shipmentIdOf(index),
      reservationIndex: reservation.index,
      reservationId: reservation.id,
      externalOrderId: reservation.externalOrderId,
      allocations: reservation.allocations,
      status: 'created',
      trackingNumber: null,
      history: [{ status: 'created', at }],
      createdAt: at,
      updatedAt: at,
      version: 0,
      seq: 0,
      ...fields,
    };
    this.shipments.add(shipment);
    this.touchShipment(shipment, at);
    // the warehouse is working on it now: the hold no longer lapses on its own (until the shipment is cancelled)
    reservation.shipmentIndex = index;
    const hadDeadline = reservation.expiresAt !== null;
    // cleared before abandon(), which may compact the queue and must see this entry as dead
    reservation.expiresAt = null;
    if (hadDeadline) this.expiry?.abandon();
    this.touchReservation(reservation, at);
    return shipment;
  }

  /** The reservation's (cancelled) shipment is detached; it holds its stock again, with a fresh deadline. */
  detachShipment(reservation: StoredReservation, at: number): void {
    reservation.shipmentIndex = -1;
    this.startHold(reservation, at);
    this.touchReservation(reservation, at);
  }

  /**
   * The reservation (after its final touch) has ended: released, expired or fulfilled. It will not change
   * again; it is kept until `maxObjects` later finished records push it out.
   */
  retireReservation(reservation: StoredReservation): void {
    // a released reservation leaves its deadline queued: the queue skips it when it comes up
    if (reservation.status === 'released' && reservation.expiresAt !== null) this.expiry?.abandon();
    this.retire(RESERVATION, reservation.index);
  }

  /** The shipment (after its final touch) is delivered or cancelled. */
  retireShipment(shipment: StoredShipment): void {
    this.retire(SHIPMENT, shipment.index);
  }

  /** How many finished records are kept now (at most maxObjects). */
  get retiredCount(): number {
    return this.retired.length;
  }

  private startHold(reservation: StoredReservation, at: number): void {
    if (this.expiry === undefined) return;
    reservation.expiresAt = at + this.reservationTtlMs;
    this.expiry.schedule(reservation.index, reservation.expiresAt);
  }

  private retire(kind: number, index: number): void {
    this.retired.push(kind, index);
    while (this.retired.length > this.maxObjects) {
      const oldestKind = this.retired.firstA()!;
      const oldest = this.retired.firstB()!;
      this.retired.shift();
      this.prune(oldestKind, oldest);
    }
  }

  /** Forgets a finished record: its storage, its idempotency key and its feed entry. */
  private prune(kind: number, index: number): void {
    if (kind === RESERVATION) {
      const reservation = this.reservations.get(index);
      if (reservation === undefined) return;
      this.reservations.remove(index);
      if (this.reservationByExternalOrder.get(reservation.externalOrderId) === reservation) {
        this.reservationByExternalOrder.delete(reservation.externalOrderId);
      }
      this.changes.forget(reservation.seq);
    } else {
      const shipment = this.shipments.get(index);
      if (shipment === undefined) return;
      this.shipments.remove(index);
      this.changes.forget(shipment.seq);
    }
  }

  private currentSeq(entity: ChangeEntity, ref: number): number {
    if (entity === 'inventory') return this.skuSeq[ref];
    if (entity === 'reservation') return this.reservations.get(ref)?.seq ?? 0;
    return this.shipments.get(ref)?.seq ?? 0;
  }
}

function externalOrderIndex(index: Map<string, StoredReservation>): Float64Array {
  const numbers = new Float64Array(index.size);
  let i = 0;
  for (const reservation of index.values()) numbers[i++] = reservation.index;
  return numbers;
}

/**
 * Ids are RES-000001 / SHP-000001: the number is the record's index + 1, so lookup needs no map of ids. Only
 * the canonical spelling counts (RES-0000001 is not RES-000001).
 */
function indexOf(pattern: RegExp, id: string, idOf: (index: number) => string): number | undefined {
  const match = pattern.exec(id);
  if (!match) return undefined;
  const index = Number(match[1]) - 1;
  return Number.isSafeInteger(index) && index >= 0 && idOf(index) === id ? index : undefined;
}
