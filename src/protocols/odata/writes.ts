/**
 * The writes of an entity set — create (POST), update (PATCH and v2's MERGE merge; PUT replaces) and delete —
 * as one function of (the logged input, the state), so that a write replayed at start-up takes exactly the path
 * it took live: find the entity (404), check If-Match against its current ETag (412), then the handler. The
 * reply follows each version's conventions: a create answers 201 with the entity, Location and ETag (or 204 with
 * `Prefer: return=minimal`); an update answers 204 with the new ETag (v4 `Prefer: return=representation`: 200
 * with the entity); a delete answers 204.
 */
import type { Effect, Reply } from '../../engine/exchange.js';
import type { Row, RowValue } from './evaluate/values.js';
import { entityPath } from './format/index.js';
import type { ODataFailure, WriteValues } from './handler.js';
import type { ODataEngine } from './odata-engine.js';
import { entityOut, etagListMatches, notFound, writeContext, type ReadContext } from './reads.js';
import { emptyReply, entityReply, errorReply } from './respond.js';

/** A write as the log keeps it (JSON): what applyWrite reads, no more. */
export interface LoggedODataWrite {
  set: string;
  action: 'create' | 'update' | 'delete';
  client: string;
  /** update, delete: the entity's key */
  key?: RowValue;
  /** create, update: the checked values */
  values?: WriteValues;
  /** PUT */
  replace?: boolean;
  /** the If-Match header as sent */
  ifMatch?: string;
  /** `Prefer: return=…` as sent (it decides the success status) */
  prefer?: 'minimal' | 'representation';
}

/** The status a successful write answers (the same live and replayed). */
function successStatus(input: LoggedODataWrite, dialect: 'v2' | 'v4'): number {
  if (input.action === 'create') return input.prefer === 'minimal' ? 204 : 201;
  if (input.action === 'update' && dialect === 'v4' && input.prefer === 'representation') return 200;
  return 204;
}

export interface WriteOutcome {
  status: number;
  row?: Row;
  effects?: Effect[];
  changedState?: boolean;
  failure?: ODataFailure | { status: 404 | 412; code: string; message: string };
}

export function applyWrite(engine: ODataEngine, input: LoggedODataWrite, state: unknown): WriteOutcome {
  const handler = engine.definition.sets[input.set];
  if (!handler) throw new Error(`the log names an entity set this model has no handler for: ${input.set}`);
  const ctx = { client: input.client };
  if (input.action === 'create') {
    const result = handler.create!(state, input.values ?? {}, ctx);
    if ('error' in result) return { status: result.error.status, failure: result.error };
    return { status: successStatus(input, engine.dialect), row: result.row, effects: result.effects, changedState: result.changedState };
  }
  const key = input.key!;
  const current = handler.byKey(state, key);
  if (!current) return { status: 404, failure: { status: 404, code: 'NOT_FOUND', message: '' } };
  if (input.ifMatch !== undefined && handler.etag) {
    const etag = `W/"${handler.etag(state, current)}"`;
    if (!etagListMatches(input.ifMatch, etag)) {
      return {
        status: 412,
        failure: { status: 412, code: 'PRECONDITION_FAILED', message: `The entity was changed since it was read: its ETag is now ${etag}, the request's If-Match ${input.ifMatch.slice(0, 100)}. Read it again and repeat the change.` },
      };
    }
  }
  if (input.action === 'update') {
    const result = handler.update!(state, key, input.values ?? {}, { ...ctx, replace: input.replace === true });
    if ('error' in result) return { status: result.error.status, failure: result.error };
    return { status: successStatus(input, engine.dialect), row: result.row, effects: result.effects, changedState: result.changedState };
  }
  const result = handler.remove!(state, key, ctx);
  if ('error' in result) return { status: result.error.status, failure: result.error };
  return { status: 204, effects: result.effects };
}

export function writeReply(ctx: ReadContext, input: LoggedODataWrite, outcome: WriteOutcome): Reply {
  const { voice, resource } = ctx.parsed;
  if (resource.kind !== 'collection' && resource.kind !== 'entity') throw new Error('a write addresses an entity set or an entity');
  const set = resource.set;
  if (outcome.failure) {
    if (outcome.status === 404) return notFound(ctx, set, input.key!);
    const f = outcome.failure;
    return errorReply(outcome.status, voice, { code: f.code, message: f.message, ...('target' in f && f.target ? { target: f.target } : {}) });
  }
  const returnPref = input.prefer;
  let reply: Reply;
  if (input.action === 'delete') reply = emptyReply(204, voice);
  else {
    const out = entityOut(ctx, set, outcome.row!);
    const location = `${ctx.root}${entityPath(set, out.key, ctx.engine.dialect)}`;
    const wantsBody = outcome.status !== 204;
    if (wantsBody) reply = entityReply(outcome.status, voice, writeContext(ctx, set), out, new Date(ctx.exchange.startedAt).toISOString());
    else {
      reply = emptyReply(204, voice);
      if (out.etag !== undefined) reply.headers.etag = out.etag;
      if (input.action === 'create' && ctx.engine.dialect === 'v4') reply.headers['odata-entityid'] = location;
    }
    if (input.action === 'create') reply.headers.location = location;
    if (returnPref !== undefined && ctx.engine.dialect === 'v4') reply.headers['preference-applied'] = `return=${wantsBody ? 'representation' : 'minimal'}`;
  }
  if (outcome.changedState !== undefined) reply.changedState = outcome.changedState;
  return reply;
}
