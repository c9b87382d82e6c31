/**
 * What an OData system's author writes: one handler per entity set of the model, over plain rows (evaluate/values.ts:
 * strings, numbers, booleans, YYYY-MM-DD dates, ISO 8601 instants, null). The OData engine (odata-engine.ts) does
 * everything protocol-shaped — URLs and key predicates, query options, paging, formats (v4 JSON, v2 verbose JSON and
 * Atom), ETags and If-Match, CSRF tokens, change tracking — so a handler holds only domain logic and never sees HTTP,
 * JSON or XML.
 *
 * Write bodies reach a handler already read in the request's format, converted to row values, checked against the
 * property types (model.ts valueProblem: type, nullability, MaxLength, Precision/Scale), with unknown properties
 * refused and read-only ones (`readOnly`) dropped, as OData requires of non-updatable properties a client sends
 * ("the service MUST ignore" them: Salesforce's UI edits send every field).
 *
 * Determinism: a handler must answer synchronously, be a function of (its input, the state, the state's clock), and
 * change the state only when it answers with a row (or `removed`): accepted writes are logged and replayed at start-up.
 */
import type { Effect } from '../../engine/exchange.js';
import type { RowSource } from './evaluate/page.js';
import type { Row, RowValue } from './evaluate/values.js';

/** A refusal in the system's own words: the engine writes it in the version's error format. */
export interface ODataFailure {
  /** 400 bad input, 404 no such entity, 409 conflict with the state (ORDER_LOCKED ...), 422 a rule of the domain */
  status: 400 | 404 | 409 | 422;
  /** the system's error code (CUSTOMER_NOT_FOUND, CREDIT_LIMIT_EXCEEDED ...) */
  code: string;
  /** a sentence saying what is wrong */
  message: string;
  /** the property it is about, when one */
  target?: string;
}

export type ODataWriteResult =
  | {
      /** the entity as it now is (what a read by key answers) */
      row: Row;
      /** what changed, for the journal and the report card */
      effects?: Effect[];
      /** false: the write changed nothing (an update to the values it already had): not logged. Absent: it did. */
      changedState?: boolean;
    }
  | { error: ODataFailure };

export type ODataRemoveResult = { removed: true; effects?: Effect[] } | { error: ODataFailure };

export interface WriteContext {
  /** the resolved caller (X-Understudy-Client, later the OAuth client) */
  client: string;
}

/** The values of a write body: property name → row value, only the properties the client sent (minus read-only ones). */
export type WriteValues = Record<string, RowValue>;

export interface ODataEntitySetHandler<S> {
  /**
   * Every row of the set. A row holds every property of the set's entity type, in declaration order (null for no
   * value), and nothing else: v4 JSON writes a whole row as it is. Give `scanFrom` (rows after a key, ascending) and `size` when they are cheap: paging in
   * key order then reads one page per request, and a count without $filter costs nothing.
   */
  rows(state: S): RowSource;
  /** one row by its (single-property) key, converted to the key property's row value; undefined when absent */
  byKey(state: S, key: RowValue): Row | undefined;
  /**
   * Rows that may satisfy `property eq value`, in ascending key order — a superset is fine, the filter still
   * applies — or undefined when the property is not indexed. Lets `InvoiceId eq '…'` over a million lines read a
   * few rows instead of all of them.
   */
  equal?(state: S, property: string, value: RowValue): Iterable<Row> | undefined;
  /**
   * The entity's version as an opaque token (the engine writes the ETag W/"<token>"); must change whenever any of
   * the row's values does. Absent: the set has no ETags and If-Match is not checked.
   */
  etag?(state: S, row: Row): string;
  /** POST to the set. Absent: the set is read-only (405). */
  create?(state: S, values: WriteValues, ctx: WriteContext): ODataWriteResult;
  /**
   * PATCH/MERGE (`replace` false: only the properties sent change) or PUT (`replace` true: the properties not sent
   * go back to null, or the handler refuses when one cannot). The engine has found the entity and checked If-Match.
   */
  update?(state: S, key: RowValue, values: WriteValues, ctx: WriteContext & { replace: boolean }): ODataWriteResult;
  /** DELETE by key. The engine has found the entity and checked If-Match. */
  remove?(state: S, key: RowValue, ctx: WriteContext): ODataRemoveResult;
  /**
   * Change tracking (OData 4.0 delta links): the keys of this set's entities created, changed or removed after
   * change position `from` up to and including `to` (ODataSystemDefinition.position), distinct, ascending. An
   * entity that byKey no longer finds is reported as removed. Absent: the set does not track changes.
   */
  changedKeys?(state: S, from: number, to: number): RowValue[];
}

export interface ODataSystemDefinition<S> {
  /** the system's name: journal `system`, chaos `match.system` (`erp`: the same system SOAP serves) */
  name: string;
  /** one handler per entity set of the model, by set name */
  sets: Record<string, ODataEntitySetHandler<S>>;
  /** per set, the properties a client may not set (the key when the system assigns it, derived values, timestamps) */
  readOnly?: Record<string, readonly string[]>;
  /** per set, the property of a POST body that is the request's external key (journal `key`: ExternalOrderNumber) */
  keys?: Record<string, string>;
  /** the state's change position: grows with every write (the revision); needed for change tracking */
  position?(state: S): number;
}
