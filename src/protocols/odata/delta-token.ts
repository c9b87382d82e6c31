/**
 * The $deltatoken of OData 4.0 change tracking (SALESFORCE.md §9: External Change Data Capture). A delta link
 * names a change position of the state (ODataSystemDefinition.position: the ERP's revision) and the query it
 * tracks; following it answers the entities changed after that position, and a new link from the position the
 * answer was read at.
 *
 * Opaque to clients: base64url of JSON {v, e, p, d}: version, the workspace's state epoch (its creation or latest
 * reset: a link from before a reset is for state that no longer exists), the position, and a digest of the
 * tracked query ($filter, $select and the entity set; skiptoken.ts's requestDigest). A link whose epoch is not the
 * current one, or whose position is ahead of the state, is gone (410); a damaged one or one for another query is a
 * 400 naming the problem.
 */
import { SkipTokenError } from './evaluate/errors.js';

const VERSION = 1;
const MAX_LENGTH = 512;

export interface DeltaPosition {
  /** the state epoch the position belongs to */
  epoch: number;
  /** changes after this position are the delta */
  position: number;
}

/** a delta link that cannot be followed any more: 410 Gone */
export class DeltaGoneError extends Error {}

export function encodeDeltaToken(at: DeltaPosition, digest: string): string {
  return Buffer.from(JSON.stringify({ v: VERSION, e: at.epoch, p: at.position, d: digest }), 'utf8').toString('base64url');
}

/** The position of a token, checked against the current epoch and position; throws SkipTokenError (400) or DeltaGoneError (410). */
export function decodeDeltaToken(token: string, digest: string, current: DeltaPosition): DeltaPosition {
  const bad = (what: string): never => {
    throw new SkipTokenError(`$deltatoken: not a delta token issued by this server (${what}); follow the delta link as it was given`);
  };
  if (token.length > MAX_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) bad('not a token of this server');
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    bad('damaged or truncated');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) bad('not a token object');
  const t = data as Record<string, unknown>;
  if (t.v !== VERSION) bad('unknown version');
  if (typeof t.e !== 'number' || typeof t.p !== 'number' || !Number.isSafeInteger(t.p) || t.p < 0) bad('bad position');
  if (t.d !== digest) {
    throw new SkipTokenError('$deltatoken: the delta link was issued for a request with another entity set, $filter or $select; follow it with the options it carries');
  }
  if (t.e !== current.epoch || (t.p as number) > current.position) {
    throw new DeltaGoneError('The delta link is no longer valid: the data it tracked was reset. Start change tracking again with a request carrying Prefer: odata.track-changes.');
  }
  return { epoch: t.e as number, position: t.p as number };
}
