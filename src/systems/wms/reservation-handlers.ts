/**
 * Reservations: stock held for the caller's order, keyed by its external order number.
 *
 * Creating is idempotent by externalOrderId (a retry after a lost acknowledgement must not hold stock twice)
 * and all or nothing (one short line reserves nothing). Releasing is the compensating action and is idempotent
 * too, so a saga can repeat it safely; releasing a hold that has already expired is the same harmless repeat.
 *
 * The idempotency horizon is the reservation itself: a repeat is recognised for as long as the reservation is
 * kept. Once it has been pruned (limits.objects later finished records have pushed it out) the externalOrderId
 * is free again and a repeat makes a new reservation, as a payment API treats a request whose idempotency key
 * has expired. Keeping every key forever would be the unbounded growth pruning is there to stop.
 */
import { problem, type RestHandler, type RestResult } from '../../protocols/rest/handler.js';
import { holdStock, planAllocations, releaseStock, type LineRequest } from './allocation.js';
import { encodeCursor } from './cursor.js';
import { cursorPosition, notFound, pageSize, stockEffects } from './handler-support.js';
import { shipmentIdOf, type RequestedLine, type StoredReservation, type WmsState } from './state.js';
import { reservationView } from './views.js';

interface ReservationRequest {
  externalOrderId: string;
  lines: LineRequest[];
}

/** Lines in an order-independent form: a retry that lists the same lines in another order is the same request. */
function linesSignature(lines: readonly LineRequest[]): string {
  return lines
    .map((line) => `${line.sku}\u0000${line.quantity}\u0000${line.warehouseId ?? ''}`)
    .sort()
    .join('\u0001');
}

export const createReservation: RestHandler<WmsState> = (req, state): RestResult => {
  const body = req.body as ReservationRequest;
  const key = body.externalOrderId;
  const signature = linesSignature(body.lines);

  const existing = state.reservationFor(key);
  if (existing !== undefined) {
    if (existing.linesSignature !== signature) {
      return {
        ...problem(409, 'external-order-conflict', `External order ${key} is already reserved as ${existing.id} with different lines.`, {
          reservationId: existing.id,
        }),
        key,
      };
    }
    // the idempotent repeat: the same reservation, whatever became of it since, and no new effect
    return { status: 200, body: reservationView(state, existing), key };
  }

  const plan = planAllocations(state, body.lines);
  if (plan.outcome === 'unknown') {
    const slug = plan.unknownSkus.length > 0 ? 'unknown-sku' : 'unknown-warehouse';
    const names = [...plan.unknownSkus.map((s) => `SKU ${s}`), ...plan.unknownWarehouses.map((w) => `warehouse ${w}`)];
    return {
      ...problem(422, slug, `Unknown ${names.join(', ')}; nothing was reserved.`, {
        unknownSkus: plan.unknownSkus,
        unknownWarehouses: plan.unknownWarehouses,
      }),
      key,
    };
  }
  if (plan.outcome === 'short') {
    const n = plan.shortages.length;
    return {
      ...problem(409, 'insufficient-stock', `${n} line${n === 1 ? '' : 's'} cannot be covered by available stock; nothing was reserved.`, {
        shortages: plan.shortages,
      }),
      key,
    };
  }

  const at = state.stamp();
  const lines: RequestedLine[] = body.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, warehouseId: l.warehouseId ?? null }));
  const touchedSkus = holdStock(state, plan.allocations, at);
  const reservation = state.addReservation({ externalOrderId: key, lines, allocations: plan.allocations, linesSignature: signature }, at);
  return {
    status: 201,
    headers: { location: `${req.baseUrl}/reservations/${reservation.id}` },
    body: reservationView(state, reservation),
    effects: [{ entity: 'reservation', id: reservation.id, action: 'created' }, ...stockEffects(touchedSkus, 'reserved')],
    key,
  };
};

export const getReservation: RestHandler<WmsState> = (req, state) => {
  const reservation = state.reservation(req.params.reservationId);
  if (reservation === undefined) return notFound('reservation', req.params.reservationId, state.wasPruned('reservation', req.params.reservationId));
  return { status: 200, body: reservationView(state, reservation), key: reservation.externalOrderId };
};

export const listReservations: RestHandler<WmsState> = (req, state): RestResult => {
  const start = cursorPosition(req, 'reservations', state.reservations.issued);
  if (typeof start !== 'number') return start;
  const limit = pageSize(req);
  const externalOrderId: string | undefined = req.query.externalOrderId;
  const status: string | undefined = req.query.status;
  const matches = (r: StoredReservation) => status === undefined || r.status === status;

  if (externalOrderId !== undefined) {
    // at most one reservation per external order: no scan, no further page
    const r = state.reservationFor(externalOrderId);
    const found = r !== undefined && r.index >= start && matches(r) ? [reservationView(state, r)] : [];
    return { status: 200, body: { reservations: found, nextCursor: null } };
  }

  // the cursor is a reservation number: pruned reservations leave gaps, never shift the ones after them
  const reservations = [];
  let nextCursor: string | null = null;
  for (const r of state.reservations.from(start)) {
    if (reservations.length === limit) {
      nextCursor = encodeCursor('reservations', r.index);
      break;
    }
    if (matches(r)) reservations.push(reservationView(state, r));
  }
  return { status: 200, body: { reservations, nextCursor } };
};

export const releaseReservation: RestHandler<WmsState> = (req, state): RestResult => {
  const reservation = state.reservation(req.params.reservationId);
  if (reservation === undefined) return notFound('reservation', req.params.reservationId, state.wasPruned('reservation', req.params.reservationId));
  const key = reservation.externalOrderId;
  // released by the caller or by the clock: either way the stock is back, and repeating is harmless
  if (reservation.status === 'released' || reservation.status === 'expired') {
    return { status: 200, body: reservationView(state, reservation), key };
  }
  if (reservation.status === 'fulfilled') {
    return {
      ...problem(409, 'reservation-fulfilled', `${reservation.id} has been shipped; its stock is gone and cannot be released.`, {
        reservationId: reservation.id,
        reservationStatus: reservation.status,
        shipmentId: shipmentIdOf(reservation.shipmentIndex),
      }),
      key,
    };
  }
  if (reservation.shipmentIndex >= 0) {
    // an active reservation's shipment is still under way, so it is never pruned
    const shipment = state.shipments.get(reservation.shipmentIndex)!;
    const detail = `${reservation.id} has shipment ${shipment.id} in status ${shipment.status}; cancel it before releasing.`;
    return {
      ...problem(409, 'shipment-in-progress', detail, {
        reservationId: reservation.id,
        shipmentId: shipment.id,
        currentStatus: shipment.status,
      }),
      key,
    };
  }

  const at = state.stamp();
  const touchedSkus = releaseStock(state, reservation.allocations, at);
  reservation.status = 'released';
  reservation.releasedAt = at;
  state.touchReservation(reservation, at);
  state.retireReservation(reservation);
  return {
    status: 200,
    body: reservationView(state, reservation),
    effects: [{ entity: 'reservation', id: reservation.id, action: 'released' }, ...stockEffects(touchedSkus, 'unreserved')],
    key,
  };
};
