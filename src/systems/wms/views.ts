/**
 * What the API shows: the JSON representations of inventory records, stock levels, items, reservations and
 * shipments, built from the columnar state. Each matches one schema of contracts/wms.openapi.yaml exactly (the
 * engine checks responses against the contract, and test/wms-contract.test.ts checks these builders).
 */
import { skuOf, type ItemDescriptor } from './catalogue.js';
import type { ChangeRef } from './change-log.js';
import { allowedTransitions } from './shipment-lifecycle.js';
import { shipmentIdOf, type Address, type ReservationStatus, type ShipmentStatus, type StoredReservation, type StoredShipment, type WmsState } from './state.js';

/**
 * RFC 3339 text of a timestamp. Formatting a Date costs about as much as the rest of GET /inventory/{sku}
 * together, and the same few timestamps are formatted over and over, so the last result per slot of a small
 * direct-mapped table (shared by all workspaces, fixed size) is reused.
 */
const ISO_SLOTS = 4096;
const isoStamps = new Float64Array(ISO_SLOTS).fill(NaN);
const isoTexts: string[] = new Array(ISO_SLOTS).fill('');

export function iso(ms: number): string {
  const slot = ms % ISO_SLOTS;
  if (isoStamps[slot] === ms) return isoTexts[slot];
  const text = new Date(ms).toISOString();
  isoStamps[slot] = ms;
  isoTexts[slot] = text;
  return text;
}

export interface WarehouseLevelView {
  warehouseId: string;
  name: string;
  onHand: number;
  reserved: number;
  available: number;
}

/** GET /inventory/{sku}, export lines and change-feed data: the `Inventory` schema. */
export interface InventoryView {
  sku: string;
  name: string;
  onHand: number;
  reserved: number;
  available: number;
  warehouses: WarehouseLevelView[];
  updatedAt: string;
  version: number;
}

export function inventoryView(state: WmsState, skuIndex: number, item: ItemDescriptor): InventoryView {
  const warehouses: WarehouseLevelView[] = new Array(state.warehouseCount);
  let onHand = 0;
  let reserved = 0;
  const firstCell = state.cell(skuIndex, 0);
  for (let w = 0; w < state.warehouseCount; w++) {
    const cellOnHand = state.onHand[firstCell + w];
    const cellReserved = state.reserved[firstCell + w];
    onHand += cellOnHand;
    reserved += cellReserved;
    warehouses[w] = {
      warehouseId: state.warehouses[w].warehouseId,
      name: state.warehouses[w].name,
      onHand: cellOnHand,
      reserved: cellReserved,
      available: cellOnHand - cellReserved,
    };
  }
  return {
    sku: item.sku,
    name: item.name,
    onHand,
    reserved,
    available: onHand - reserved,
    warehouses,
    updatedAt: iso(state.updatedAt[skuIndex]),
    version: state.version[skuIndex],
  };
}

/** One SKU in one warehouse: the `StockLevel` schema. */
export function stockLevelView(state: WmsState, skuIndex: number, warehouseIndex: number) {
  const cell = state.cell(skuIndex, warehouseIndex);
  const item = state.catalogue.item(skuIndex);
  return {
    sku: item.sku,
    name: item.name,
    onHand: state.onHand[cell],
    reserved: state.reserved[cell],
    available: state.availableAt(cell),
    updatedAt: iso(state.updatedAt[skuIndex]),
  };
}

export interface ReservationView {
  id: string;
  externalOrderId: string;
  status: ReservationStatus;
  lines: Array<{
    sku: string;
    quantity: number;
    warehouseId: string | null;
    allocations: Array<{ warehouseId: string; quantity: number }>;
  }>;
  shipmentId: string | null;
  createdAt: string;
  updatedAt: string;
  expiresAt: string | null;
  releasedAt: string | null;
  fulfilledAt: string | null;
  version: number;
}

export function reservationView(state: WmsState, reservation: StoredReservation): ReservationView {
  return {
    id: reservation.id,
    externalOrderId: reservation.externalOrderId,
    status: reservation.status,
    lines: reservation.lines.map((line, i) => ({
      sku: line.sku,
      quantity: line.quantity,
      warehouseId: line.warehouseId,
      allocations: reservation.allocations[i].map((a) => ({
        warehouseId: state.warehouses[a.warehouseIndex].warehouseId,
        quantity: a.quantity,
      })),
    })),
    shipmentId: reservation.shipmentIndex < 0 ? null : shipmentIdOf(reservation.shipmentIndex),
    createdAt: iso(reservation.createdAt),
    updatedAt: iso(reservation.updatedAt),
    expiresAt: reservation.expiresAt === null ? null : iso(reservation.expiresAt),
    releasedAt: reservation.releasedAt === null ? null : iso(reservation.releasedAt),
    fulfilledAt: reservation.fulfilledAt === null ? null : iso(reservation.fulfilledAt),
    version: reservation.version,
  };
}

export interface ShipmentView {
  id: string;
  reservationId: string;
  externalOrderId: string;
  status: ShipmentStatus;
  carrier: string | null;
  service: string | null;
  trackingNumber: string | null;
  shipTo: Address | null;
  lines: Array<{ sku: string; warehouseId: string; quantity: number }>;
  statusHistory: Array<{ status: ShipmentStatus; at: string }>;
  allowedTransitions: ShipmentStatus[];
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** Built from the shipment alone: its reservation may have been pruned before it. */
export function shipmentView(state: WmsState, shipment: StoredShipment): ShipmentView {
  return {
    id: shipment.id,
    reservationId: shipment.reservationId,
    externalOrderId: shipment.externalOrderId,
    status: shipment.status,
    carrier: shipment.carrier,
    service: shipment.service,
    trackingNumber: shipment.trackingNumber,
    shipTo: shipment.shipTo,
    // a shipment ships exactly what its reservation holds, warehouse by warehouse
    lines: shipment.allocations.flat().map((a) => ({
      sku: skuOf(a.skuIndex),
      warehouseId: state.warehouses[a.warehouseIndex].warehouseId,
      quantity: a.quantity,
    })),
    statusHistory: shipment.history.map((h) => ({ status: h.status, at: iso(h.at) })),
    allowedTransitions: [...allowedTransitions(shipment.status)],
    createdAt: iso(shipment.createdAt),
    updatedAt: iso(shipment.updatedAt),
    version: shipment.version,
  };
}

/**
 * The record a live change-feed entry names, exactly as its GET shows it now: the `data` of the change feed's
 * entries (GET /changes) and of the WMS's business events (events.ts), built here once so that the two cannot
 * differ. A live entry's record is stored (pruning kills its entry), hence the assertions.
 */
export function changedRecordView(state: WmsState, entry: ChangeRef): InventoryView | ReservationView | ShipmentView {
  // item, not peek: polling clients re-read recently changed SKUs, and every workspace of a seed shares the cache;
  // a full sync of a huge catalogue churns it, but the cache is bounded (catalogue.ts)
  if (entry.entity === 'inventory') return inventoryView(state, entry.ref, state.catalogue.item(entry.ref));
  if (entry.entity === 'reservation') return reservationView(state, state.reservations.get(entry.ref)!);
  return shipmentView(state, state.shipments.get(entry.ref)!);
}
