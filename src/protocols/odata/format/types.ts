/**
 * What the OData serialisers (v4 JSON, v2 verbose JSON, v2 Atom) and body readers share: the description of one
 * response the engine hands them. The engine has already evaluated the query; a serialiser only writes.
 */
import type { EntitySet, Property } from '../model/model.js';
import type { Row, RowValue } from '../evaluate/values.js';

export interface EntityWriteContext {
  /** absolute service root, ending in '/': https://host/w/ws/erp/odata/v4/ */
  serviceRoot: string;
  set: EntitySet;
  /** the properties written for each row, in this order (the $select projection; all properties when none) */
  properties: readonly Property[];
  /** $select was given (v4: the context URL names the properties: $metadata#Customers(Name,City)) */
  selected: boolean;
}

/** One entity to write: its (projected) row, its key value (the key may not be selected) and its ETag header value. */
export interface EntityOut {
  row: Row;
  key: RowValue;
  /** the ETag as a header value (W/"3"), when the set has ETags */
  etag?: string;
  /**
   * Atom only: the entry's <updated> (ISO 8601), e.g. the row's ChangedAt; absent: the feed's `updated`. (An Atom
   * entry must have one; the other formats have no such member.)
   */
  updated?: string;
}

export interface FeedOut {
  entities: readonly EntityOut[];
  /** $count=true / $inlinecount=allpages */
  count?: number;
  /** absolute URL of the next page */
  nextLink?: string;
  /** v4 only: absolute URL of the delta link (on the last page of a change-tracked result or delta) */
  deltaLink?: string;
  /** v4 delta responses only: keys of the entities removed (or no longer matching) since the delta link */
  removed?: readonly RowValue[];
  /** v4: this is a delta response ($metadata#Set/$delta) */
  delta?: boolean;
  /** Atom: the feed's <updated> (ISO 8601) */
  updated: string;
}

/** A client's write body read in its format: values as row values, or what is wrong with it. */
export type ReadBody = { values: Record<string, RowValue> } | { problems: string[] };
