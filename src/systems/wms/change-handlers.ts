/**
 * GET /changes: the change feed for batch synchronisation (the index itself is change-log.ts). Each entry
 * carries the record's current data, so a sync needs no follow-up reads.
 *
 * A cursor from before the feed's pruned horizon is answered 410 Gone: the caller has missed the last change of
 * a record that is gone now, and resuming quietly would hide that. It must resync from `updatedSince` (the time
 * of its last complete sync), as with an expired replay position at other providers.
 */
import { problem, type RestHandler, type RestResult } from '../../protocols/rest/handler.js';
import { skuOf } from './catalogue.js';
import type { ChangeRef } from './change-log.js';
import { encodeCursor } from './cursor.js';
import { cursorPosition, pageSize } from './handler-support.js';
import type { WmsState } from './state.js';
import { changedRecordView, iso } from './views.js';

export const listChanges: RestHandler<WmsState> = (req, state): RestResult => {
  const latestSeq = state.changes.latestSeq;
  const afterSeq = cursorPosition(req, 'changes', latestSeq);
  if (typeof afterSeq !== 'number') return afterSeq;
  if (afterSeq < state.changes.horizon && req.query.cursor !== undefined) return cursorExpired();
  const since = typeof req.query.updatedSince === 'string' ? Date.parse(req.query.updatedSince) : undefined;

  const { entries, hasMore } = state.changes.page(afterSeq, since, pageSize(req));
  const changes = entries.map((entry) => ({
    seq: entry.seq,
    entity: entry.entity,
    id: idOf(state, entry),
    updatedAt: iso(entry.updatedAt),
    data: changedRecordView(state, entry),
  }));
  // When the feed is drained every entry up to latestSeq has been considered, so the caller can resume from
  // there: the cursor is never null, and polling with it later returns exactly what changed since.
  const resumeAfter = hasMore ? entries[entries.length - 1].seq : latestSeq;
  return { status: 200, body: { changes, nextCursor: encodeCursor('changes', resumeAfter), hasMore } };
};

function cursorExpired(): RestResult {
  return problem(
    410,
    'cursor-expired',
    'Changes after this cursor have been pruned (the WMS keeps the most recent limits.objects finished records). ' +
      'Resume with updatedSince set to the time of your last complete sync, without a cursor.',
  );
}

// a live entry's record is stored (pruning kills its entry), hence the assertions
function idOf(state: WmsState, entry: ChangeRef): string {
  if (entry.entity === 'inventory') return skuOf(entry.ref);
  if (entry.entity === 'reservation') return state.reservations.get(entry.ref)!.id;
  return state.shipments.get(entry.ref)!.id;
}
