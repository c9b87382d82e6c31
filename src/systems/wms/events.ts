/**
 * The WMS's business events (issue #8, PRODUCT.md §6), derived from its change feed so that polling
 * (GET /wms/v1/changes) and push (webhooks) always agree: an event is a live feed entry, its position the entry's
 * sequence number, its data the record exactly as the feed and GET show it (views.ts changedRecordView).
 *
 * The feed shows each record once, at its latest change, so a record that changed twice between two calls shows
 * once, as it is now: a reservation made and released in one go is one `reservation.released` (version 2), not a
 * `created` and a `released`. A record pruned (limits.objects) before the bus asked is gone with its entry, as from
 * the feed.
 *
 * Types, by the record as the entry shows it:
 * - inventory: `inventory.changed`;
 * - reservation: `reservation.created` (its first change, version 1), `reservation.released` (status released),
 *   `reservation.expired` (the hold lapsed: not a release, which is the caller's compensating action, and every
 *   feed change needs an event), else `reservation.updated` (a shipment attached or detached, fulfilled);
 * - shipment: `shipment.status_changed`, creation (to `created`) included.
 */
import type { RestSystemEvents } from '../../protocols/rest/handler.js';
import type { ChangeRef } from './change-log.js';
import type { WmsState } from './state.js';
import { changedRecordView } from './views.js';

export const WMS_EVENT_TYPES = [
  'inventory.changed',
  'reservation.created',
  'reservation.released',
  'reservation.expired',
  'reservation.updated',
  'shipment.status_changed',
] as const;

export type WmsEventType = (typeof WMS_EVENT_TYPES)[number];

/**
 * Most changes one since() returns: a subscriber from position 0 of a million-SKU catalogue would otherwise get
 * a million events in one call, on the event loop. The caller asks again from the last one's seq.
 */
export const MAX_CHANGES_PER_CALL = 10_000;

/** Bounds of tick()'s answer: a busy simulation is looked at at most 20 times a second, an expiry queue at least every second. */
const MIN_TICK_MS = 50;
const MAX_SIMULATION_TICK_MS = 1_000;
/** with no simulation, expiries are looked for at least every second: a hold made since is noticed in time */
const MAX_EXPIRY_TICK_MS = 1_000;

export const wmsEvents: RestSystemEvents<WmsState> = {
  types: WMS_EVENT_TYPES,

  // the feed's latest sequence number: every change so far lies at or before it. Neither this nor since() catches
  // up on what fell due: the bus sees time-driven changes once tick() or a request has applied them
  position: (state) => state.changes.latestSeq,

  since(state, from) {
    // the bus asks after every exchange, mostly reads that changed nothing: no search, no allocation
    if (from >= state.changes.latestSeq) return [];
    const { entries } = state.changes.page(from, undefined, MAX_CHANGES_PER_CALL);
    return entries.map((entry) => ({
      seq: entry.seq,
      type: typeOf(state, entry),
      at: entry.updatedAt,
      // built only for the changes someone subscribed to (the bus reads it at once, before anything else changes)
      get data() {
        return changedRecordView(state, entry);
      },
    }));
  },

  tick(state) {
    state.catchUp();
    const rate = state.simulationRate;
    // a change every 1/rate seconds; looked at no more than 20 times a second, and at least every second
    if (rate > 0) return clamp(1000 / rate, MIN_TICK_MS, MAX_SIMULATION_TICK_MS);
    if (state.reservationTtlMs > 0) {
      const due = state.nextExpiryDue();
      return due === undefined ? MAX_EXPIRY_TICK_MS : clamp(due - state.clock.now(), MIN_TICK_MS, MAX_EXPIRY_TICK_MS);
    }
    return undefined;
  },
};

/** The event type of a live entry, from its record as it is now (which is as that change left it). */
function typeOf(state: WmsState, entry: ChangeRef): WmsEventType {
  if (entry.entity === 'inventory') return 'inventory.changed';
  if (entry.entity === 'shipment') return 'shipment.status_changed';
  const reservation = state.reservations.get(entry.ref)!;
  if (reservation.version === 1) return 'reservation.created';
  if (reservation.status === 'released') return 'reservation.released';
  if (reservation.status === 'expired') return 'reservation.expired';
  return 'reservation.updated';
}

function clamp(ms: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, ms));
}
