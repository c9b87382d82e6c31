/**
 * The shipment status lifecycle: created → picked → packed → shipped → delivered, and cancelled from any status
 * before shipped. One table, read by the status handler (to refuse illegal moves) and by the shipment view (to
 * tell the caller what it may do next).
 */
import type { ShipmentStatus } from './state.js';

const NEXT: Record<ShipmentStatus, readonly ShipmentStatus[]> = {
  created: ['picked', 'cancelled'],
  picked: ['packed', 'cancelled'],
  packed: ['shipped', 'cancelled'],
  shipped: ['delivered'],
  delivered: [],
  cancelled: [],
};

export function allowedTransitions(from: ShipmentStatus): readonly ShipmentStatus[] {
  return NEXT[from];
}

export function canTransition(from: ShipmentStatus, to: ShipmentStatus): boolean {
  return NEXT[from].includes(to);
}

/** A shipment that still holds (or has consumed) its reservation's stock. */
export function isLive(status: ShipmentStatus): boolean {
  return status !== 'cancelled';
}
