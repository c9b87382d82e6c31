/**
 * Shipments: moving a reservation's stock out of the warehouse through the status lifecycle
 * (shipment-lifecycle.ts). Shipping consumes the reserved units and fulfils the reservation; cancelling before
 * that hands the reservation back, still holding its stock, so the caller can release it or ship it again.
 *
 * Holds and shipments: once a shipment is created the warehouse is working on the order, so the reservation no
 * longer expires by itself (a real WMS does not pull stock out of a pick in progress); cancelling the shipment
 * hands the hold back with a fresh reservationTtl, counted from the cancellation.
 */
import type { Effect } from '../../engine/exchange.js';
import { problem, type RestHandler, type RestResult } from '../../protocols/rest/handler.js';
import { seededRandom } from '../../util/seeded-random.js';
import { consumeStock } from './allocation.js';
import { notFound, prunedDetail, stockEffects } from './handler-support.js';
import { allowedTransitions, canTransition } from './shipment-lifecycle.js';
import { shipmentIdOf, type Address, type ShipmentStatus, type StoredShipment, type WmsState } from './state.js';
import { shipmentView } from './views.js';

interface ShipmentRequest {
  reservationId: string;
  carrier?: string;
  service?: string;
  shipTo?: Address | null;
}

interface StatusUpdate {
  status: ShipmentStatus;
  trackingNumber?: string;
}

export const createShipment: RestHandler<WmsState> = (req, state): RestResult => {
  const body = req.body as ShipmentRequest;
  const reservation = state.reservation(body.reservationId);
  if (reservation === undefined) {
    const detail = state.wasPruned('reservation', body.reservationId) ? prunedDetail('reservation', body.reservationId) : `No reservation ${body.reservationId}.`;
    return problem(422, 'unknown-reservation', detail, { reservationId: body.reservationId });
  }
  const key = reservation.externalOrderId;
  // checked before the status: a retried create (lost acknowledgement) learns which shipment it already made
  if (reservation.shipmentIndex >= 0) {
    // a fulfilled reservation's delivered shipment may have been pruned: name it, its status if still known
    const shipmentId = shipmentIdOf(reservation.shipmentIndex);
    const existing = state.shipments.get(reservation.shipmentIndex);
    const detail = `${reservation.id} already has shipment ${shipmentId}${existing ? ` (${existing.status})` : ''}.`;
    return {
      ...problem(409, 'shipment-exists', detail, {
        reservationId: reservation.id,
        shipmentId,
        ...(existing ? { currentStatus: existing.status } : {}),
      }),
      key,
    };
  }
  if (reservation.status !== 'active') {
    return {
      ...problem(409, 'reservation-not-active', `${reservation.id} is ${reservation.status}; only an active reservation can be shipped.`, {
        reservationId: reservation.id,
        reservationStatus: reservation.status,
      }),
      key,
    };
  }

  const at = state.stamp();
  const shipment = state.addShipment(reservation, { carrier: body.carrier ?? null, service: body.service ?? null, shipTo: body.shipTo ?? null }, at);
  return {
    status: 201,
    headers: { location: `${req.baseUrl}/shipments/${shipment.id}` },
    body: shipmentView(state, shipment),
    effects: [{ entity: 'shipment', id: shipment.id, action: 'created' }],
    key,
  };
};

export const getShipment: RestHandler<WmsState> = (req, state) => {
  const shipment = state.shipment(req.params.shipmentId);
  if (shipment === undefined) return notFound('shipment', req.params.shipmentId, state.wasPruned('shipment', req.params.shipmentId));
  return { status: 200, body: shipmentView(state, shipment) };
};

export const updateShipmentStatus: RestHandler<WmsState> = (req, state): RestResult => {
  const shipment = state.shipment(req.params.shipmentId);
  if (shipment === undefined) return notFound('shipment', req.params.shipmentId, state.wasPruned('shipment', req.params.shipmentId));
  const { status: to, trackingNumber } = req.body as StatusUpdate;
  const key = shipment.externalOrderId;

  // asking for the status it already has is a retry, not a transition: answer it without changing anything
  if (to === shipment.status) return { status: 200, body: shipmentView(state, shipment), key };
  if (!canTransition(shipment.status, to)) {
    return {
      ...problem(409, 'illegal-transition', `${shipment.id} cannot move from ${shipment.status} to ${to}.`, {
        shipmentId: shipment.id,
        currentStatus: shipment.status,
        allowedTransitions: [...allowedTransitions(shipment.status)],
      }),
      key,
    };
  }

  const at = state.stamp();
  shipment.status = to;
  shipment.history.push({ status: to, at });
  if (trackingNumber !== undefined) shipment.trackingNumber = trackingNumber;
  const effects: Effect[] = [{ entity: 'shipment', id: shipment.id, action: to }];

  // shipping and cancelling leave created/picked/packed, where the reservation is active with this shipment
  // attached (it can neither expire nor be released then), so it is still stored
  if (to === 'shipped') {
    const reservation = state.reservations.get(shipment.reservationIndex)!;
    shipment.trackingNumber ??= trackingNumberFor(state, shipment);
    effects.push(...stockEffects(consumeStock(state, reservation.allocations, at), 'shipped'));
    reservation.status = 'fulfilled';
    reservation.fulfilledAt = at;
    state.touchReservation(reservation, at);
    state.retireReservation(reservation);
    effects.push({ entity: 'reservation', id: reservation.id, action: 'fulfilled' });
  } else if (to === 'cancelled') {
    // the reservation keeps its stock and may be shipped again or released
    state.detachShipment(state.reservations.get(shipment.reservationIndex)!, at);
  }
  state.touchShipment(shipment, at);
  if (to === 'delivered' || to === 'cancelled') state.retireShipment(shipment);
  return { status: 200, body: shipmentView(state, shipment), effects, key };
};

/** A carrier-looking tracking number, the same for the same seed and shipment. */
function trackingNumberFor(state: WmsState, shipment: StoredShipment): string {
  const next = seededRandom(state.seed, 'tracking', shipment.index);
  let digits = '';
  for (let i = 0; i < 12; i++) digits += Math.floor(next() * 10);
  return `UST${digits}`;
}
