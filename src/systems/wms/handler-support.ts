/**
 * Small pieces every WMS handler file uses: page sizes, cursors, the not-found answer and journal effects. Kept
 * apart so that each handler file reads as domain logic only.
 */
import type { Effect } from '../../engine/exchange.js';
import { problem, type RestRequest, type RestResult } from '../../protocols/rest/handler.js';
import { skuOf } from './catalogue.js';
import { decodeCursor, type CursorScope } from './cursor.js';

/** The contract's default page size (the engine validates 1..1000 but may not fill in defaults). */
export const DEFAULT_PAGE_SIZE = 100;

export function pageSize(req: RestRequest): number {
  return typeof req.query.limit === 'number' ? req.query.limit : DEFAULT_PAGE_SIZE;
}

/**
 * The position the request's cursor points at (0 without a cursor), or the 400 problem for a cursor this
 * server did not issue. `max` is the largest position that can be valid now.
 */
export function cursorPosition(req: RestRequest, scope: CursorScope, max: number): number | RestResult {
  const cursor = req.query.cursor;
  if (cursor === undefined) return 0;
  const position = typeof cursor === 'string' ? decodeCursor(scope, cursor, max) : undefined;
  if (position === undefined) {
    return problem(400, 'invalid-cursor', 'The cursor was not issued by this server for this list; start again without one.');
  }
  return position;
}

/** `pruned`: the id did exist, but the record has finished and been pruned since (limits.objects). */
export function notFound(what: 'sku' | 'warehouse' | 'reservation' | 'shipment', id: string, pruned = false): RestResult {
  const label = { sku: 'SKU', warehouse: 'warehouse', reservation: 'reservation', shipment: 'shipment' }[what];
  return problem(404, `${what}-not-found`, pruned ? prunedDetail(label, id) : `No ${label} ${id}.`);
}

/** Said wherever a pruned record is asked for, so the caller learns why an id it was given is unknown now. */
export function prunedDetail(label: string, id: string): string {
  return `No ${label} ${id} any more: it finished and may have been pruned (the WMS keeps the most recent limits.objects finished reservations and shipments).`;
}

/** One journal effect per SKU whose stock a write changed. */
export function stockEffects(skuIndexes: readonly number[], action: string): Effect[] {
  return skuIndexes.map((i) => ({ entity: 'inventory', id: skuOf(i), action }));
}
