/**
 * Opaque page cursors. A cursor carries a position (an index or a change-feed sequence number), the list it
 * belongs to, and a check value, base64url-encoded. The check lets the server tell its own cursors from
 * made-up or mangled ones and answer those with 400 `invalid-cursor`, as a real API would, instead of quietly
 * starting somewhere arbitrary. It is a consistency check, not a secret.
 */
import { hashKey } from '../../util/seeded-random.js';

/** The lists that page; a cursor from one is not accepted by another. */
export type CursorScope = 'items' | 'stock' | 'reservations' | 'changes';

function check(scope: CursorScope, position: number): string {
  return hashKey('understudy-wms-cursor', scope, position).toString(36);
}

export function encodeCursor(scope: CursorScope, position: number): string {
  return Buffer.from(`${scope}.${position}.${check(scope, position)}`).toString('base64url');
}

/** The position, or undefined when this is not a cursor the server issued for `scope` within [0, max]. */
export function decodeCursor(scope: CursorScope, cursor: string, max: number): number | undefined {
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split('.');
  if (parts.length !== 3 || parts[0] !== scope) return undefined;
  const position = Number(parts[1]);
  if (!Number.isSafeInteger(position) || position < 0 || position > max || String(position) !== parts[1]) {
    return undefined;
  }
  return parts[2] === check(scope, position) ? position : undefined;
}
