/**
 * Replies in the request's OData version and format: the one place that picks a serialiser (format/) and sets
 * the headers each version's clients read — `OData-Version: 4.0` / `DataServiceVersion: 2.0`, the content types,
 * ETag — and writes errors as OData error objects (v4 JSON; v2 JSON or XML, as the response format is), never
 * problem+json.
 */
import type { Reply, ReplyHeaders } from '../../engine/exchange.js';
import { ENGINE_REPLY } from './check-reply.js';
import type { Model } from './model/model.js';
import type { ResponseFormat } from './negotiate.js';
import type { ODataDialect } from './query/index.js';
import {
  ATOM_ENTRY,
  ATOM_FEED,
  ATOM_SERVICE,
  entityV2Json,
  entityV4,
  entryAtom,
  errorV2Json,
  errorV2Xml,
  errorV4,
  feedAtom,
  feedV2Json,
  feedV4,
  serviceDocumentAtom,
  serviceDocumentV2Json,
  serviceDocumentV4,
  V2_JSON,
  V4_JSON,
  XML,
} from './format/index.js';
import type { EntityOut, EntityWriteContext, FeedOut } from './format/types.js';

/** What every reply of one request is written for. */
export interface Voice {
  dialect: ODataDialect;
  /** v2: json or atom; v4: json */
  format: ResponseFormat;
}

export interface ODataErrorBody {
  code: string;
  message: string;
  target?: string;
  details?: { code: string; message: string; target?: string }[];
}

function versionHeaders(dialect: ODataDialect, contentType: string, length: number): ReplyHeaders {
  return dialect === 'v4'
    ? { 'content-type': contentType, 'content-length': length, 'odata-version': '4.0' }
    : { 'content-type': contentType, 'content-length': length, dataserviceversion: '2.0' };
}

/** A reply with a body; marked as the engine's own, so the contract check need not read it again (check-reply.ts). */
export function textReply(status: number, voice: Voice, contentType: string, text: string): Reply {
  return { status, headers: versionHeaders(voice.dialect, contentType, Buffer.byteLength(text)), body: text, memo: ENGINE_REPLY };
}

export function emptyReply(status: number, voice: Voice): Reply {
  const headers: ReplyHeaders = voice.dialect === 'v4' ? { 'odata-version': '4.0' } : { dataserviceversion: '2.0' };
  if (status !== 204 && status !== 304) headers['content-length'] = 0;
  return { status, headers };
}

export function errorReply(status: number, voice: Voice, error: ODataErrorBody): Reply {
  if (voice.dialect === 'v4') return textReply(status, voice, V4_JSON, errorV4(error));
  if (voice.format === 'json') return textReply(status, voice, V2_JSON, errorV2Json(error));
  return textReply(status, voice, XML, errorV2Xml(error));
}

export function feedReply(voice: Voice, ctx: EntityWriteContext, feed: FeedOut): Reply {
  if (voice.dialect === 'v4') return textReply(200, voice, V4_JSON, feedV4(ctx, feed));
  if (voice.format === 'json') return textReply(200, voice, V2_JSON, feedV2Json(ctx, feed));
  return textReply(200, voice, ATOM_FEED, feedAtom(ctx, feed));
}

export function entityReply(status: number, voice: Voice, ctx: EntityWriteContext, entity: EntityOut, updated: string): Reply {
  let reply: Reply;
  if (voice.dialect === 'v4') reply = textReply(status, voice, V4_JSON, entityV4(ctx, entity));
  else if (voice.format === 'json') reply = textReply(status, voice, V2_JSON, entityV2Json(ctx, entity));
  else reply = textReply(status, voice, ATOM_ENTRY, entryAtom(ctx, entity, updated));
  if (entity.etag !== undefined) reply.headers.etag = entity.etag;
  return reply;
}

export function serviceReply(voice: Voice, serviceRoot: string, model: Model): Reply {
  if (voice.dialect === 'v4') return textReply(200, voice, V4_JSON, serviceDocumentV4(serviceRoot, model));
  if (voice.format === 'json') return textReply(200, voice, V2_JSON, serviceDocumentV2Json(model));
  return textReply(200, voice, ATOM_SERVICE, serviceDocumentAtom(serviceRoot, model));
}

export function metadataReply(voice: Voice, metadata: string): Reply {
  return textReply(200, voice, XML, metadata);
}
