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
 */
import type { StateOptions } from '../../engine/system.js';
import type { Clock } from '../../util/clock.js';
import { catalogueFor, type Catalogue } from './catalogue.js';
import { ChangeLog, type ChangeEntity } from './change-log.js';
import { stockTemplate } from './seed.js';
import { StockSimulation } from './simulation.js';
import { warehousesFor, type Warehouse } from './warehouses.js';

export interface WmsStateOptions extends StateOptions {
  skuCount: number;
  warehouseCount: number;
  /** background stock changes per second of clock time (0: none) */
  changeRatePerSecond?: number;
}

export type ReservationStatus = 'active' | 'released' | 'fulfilled';
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
  /** position in WmsState.reservations; the id is derived from it */
  index: number;
  id: string;
  externalOrderId: string;
  status: ReservationStatus;
  lines: RequestedLine[];
  /** per line, the warehouses it was allocated from */
  allocations: Allocation[][];
  /** the lines in canonical form: an idempotent repeat must ask for exactly these */
  linesSignature: string;
  /** index of the shipment that is not cancelled, -1 when none */
  shipmentIndex: number;
  createdAt: number;
  updatedAt: number;
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
  readonly reservations: StoredReservation[] = [];
  readonly shipments: StoredShipment[] = [];
  private readonly reservationByExternalOrder = new Map<string, StoredReservation>();
  private readonly warehouseIndexById: Map<string, number>;
  private readonly simulation: StockSimulation | undefined;
  /** the latest stamp handed out: stamps never go below it */
  private lastStamp: number;

  constructor(options: WmsStateOptions) {
    checkSkuCount(options.skuCount);
    this.seed = options.seed;
    this.clock = options.clock;
    this.catalogue = catalogueFor(options.seed);
    this.skuCount = options.skuCount;
    this.warehouses = warehousesFor(options.warehouseCount);
    this.warehouseCount = this.warehouses.length;
    this.warehouseIndexById = new Map(this.warehouses.map((w, i) => [w.warehouseId, i]));

    const template = stockTemplate(options.seed, this.skuCount, this.warehouseCount);
    this.onHand = template.onHand.slice();
    this.reserved = new Int32Array(this.onHand.length);
    this.updatedAt = template.updatedAt.slice();
    this.version = new Uint32Array(this.skuCount).fill(1);
    this.skuSeq = new Float64Array(this.skuCount);
    for (let i = 0; i < this.skuCount; i++) this.skuSeq[i] = i + 1;
    this.changes = new ChangeLog(this.skuCount, template.updatedAt, (entity, ref) => this.currentSeq(entity, ref));
    this.lastStamp = template.updatedAt[this.skuCount - 1];

    const rate = options.changeRatePerSecond ?? 0;
    this.simulation = rate > 0 ? new StockSimulation(this, rate, options.clock.now()) : undefined;
  }

  /** Applies the background stock changes due by now. Called before every request is handled. */
  catchUp(): void {
    this.simulation?.catchUp(this.clock.now());
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
    return findById(this.reservations, RESERVATION_ID, id);
  }

  reservationFor(externalOrderId: string): StoredReservation | undefined {
    return this.reservationByExternalOrder.get(externalOrderId);
  }

  shipment(id: string): StoredShipment | undefined {
    return findById(this.shipments, SHIPMENT_ID, id);
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

  /** Stores a new reservation (version 1, at the end of the feed) with the next id. */
  addReservation(
    fields: Pick<StoredReservation, 'externalOrderId' | 'lines' | 'allocations' | 'linesSignature'>,
    at: number,
  ): StoredReservation {
    const index = this.reservations.length;
    const reservation: StoredReservation = {
      index,
      id: `RES-${String(index + 1).padStart(6, '0')}`,
      status: 'active',
      shipmentIndex: -1,
      createdAt: at,
      updatedAt: at,
      releasedAt: null,
      fulfilledAt: null,
      version: 0,
      seq: 0,
      ...fields,
    };
    this.reservations.push(reservation);
    this.reservationByExternalOrder.set(reservation.externalOrderId, reservation);
    this.touchReservation(reservation, at);
    return reservation;
  }

  /** Stores a new shipment in status `created` with the next id. */
  addShipment(
    fields: Pick<StoredShipment, 'reservationIndex' | 'carrier' | 'service' | 'shipTo'>,
    at: number,
  ): StoredShipment {
    const index = this.shipments.length;
    const shipment: StoredShipment = {
      index,
      id: `SHP-${String(index + 1).padStart(6, '0')}`,
      status: 'created',
      trackingNumber: null,
      history: [{ status: 'created', at }],
      createdAt: at,
      updatedAt: at,
      version: 0,
      seq: 0,
      ...fields,
    };
    this.shipments.push(shipment);
    this.touchShipment(shipment, at);
    return shipment;
  }

  private currentSeq(entity: ChangeEntity, ref: number): number {
    if (entity === 'inventory') return this.skuSeq[ref];
    if (entity === 'reservation') return this.reservations[ref].seq;
    return this.shipments[ref].seq;
  }
}

/** Ids are RES-000001 / SHP-000001: the number is the position + 1, so lookup needs no map. */
function findById<T extends { id: string }>(list: T[], pattern: RegExp, id: string): T | undefined {
  const match = pattern.exec(id);
  if (!match) return undefined;
  const record = list[Number(match[1]) - 1];
  return record !== undefined && record.id === id ? record : undefined;
}
