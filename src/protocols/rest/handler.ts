/**
 * What a REST system's author writes: plain functions from a validated request (and the workspace's state) to a
 * result, one per OpenAPI operationId. The REST engine has already routed, coerced and validated everything the
 * contract describes, so a handler holds only domain logic. Operations without a handler answer with a response
 * generated from the contract.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ContractError, Effect } from '../../engine/exchange.js';
import { PROBLEM_JSON, problemType, statusTitle } from '../../engine/problem.js';
import type { StateOptions, SystemChange, SystemEvents } from '../../engine/system.js';

export interface RestRequest {
  operationId: string;
  /** path parameters, coerced to the contract's types */
  params: Record<string, any>;
  /** query parameters, coerced to the contract's types (arrays for repeated/exploded parameters) */
  query: Record<string, any>;
  headers: IncomingHttpHeaders;
  /** the parsed and validated body (JSON), undefined when the request had none */
  body: any;
  /** the resolved caller (PRODUCT.md §3) */
  client: string;
  workspace: string;
  /** the path prefix the caller used to reach this system, workspace included (/w/ci-7/wms/v1): for links */
  baseUrl: string;
}

export interface RestResult {
  status: number;
  /** serialized as JSON unless `stream`, `json` or `text` is given */
  body?: unknown;
  /**
   * a body that is not JSON, sent as it is: `text/plain; charset=utf-8` unless the headers name another
   * content-type (an API that answers `ok`, as Slack's webhooks do)
   */
  text?: string;
  /**
   * the body already serialized as JSON (a stored answer replayed as it was sent, byte for byte): sent as it is;
   * `body`, when given too, must be the value it was made from (the response check reads it instead of parsing)
   */
  json?: string;
  headers?: Record<string, string>;
  /** a streamed body (exports); headers must carry the content-type */
  stream?: AsyncIterable<string>;
  /** what this call changed, for the journal and the report card */
  effects?: Effect[];
  /** the idempotency key or external key this call used (external order number, Idempotency-Key ...) */
  key?: string;
  /**
   * For a write: whether it changed the state (and so is logged and replayed). Absent: a 2xx did, nothing else
   * did. Set it when that rule is wrong: a declined charge answered 402 is kept, a replayed 201 changes nothing.
   */
  changedState?: boolean;
  /**
   * How long the operation takes to execute, in ms: the reply is delivered no earlier than that after the request
   * arrived (on top of any injected latency). The state changes now; the caller waits (a slow payment holding its
   * idempotency key). Never a timer inside a handler: the transport holds the reply as it does for latency.
   */
  holdMs?: number;
}

/**
 * An error the engine itself answers (routing, validation, body limits, chaos faults, the store refusing a write),
 * for a system that words its errors in its own shape (RestSystemDefinition.errorShape).
 */
export interface EngineError {
  /**
   * what kind of error, as the problem type's slug would say: request-validation, no-such-operation,
   * method-not-allowed, bad-path, unsupported-media-type, body-too-large, store-unavailable, error (chaos
   * faults, rate limits, 500s)
   */
  code: string;
  /** a sentence saying what is wrong (already worded for people) */
  detail: string;
  /** request-validation: every violation found, first first */
  errors?: ContractError[];
  /** the operation, when the request got as far as one */
  operationId?: string;
}

/**
 * A handler of a write (any method but GET and HEAD) must answer synchronously and change the state only when it
 * answers 2xx: accepted writes are logged and replayed at start-up (engine/system-states.ts).
 */
export type RestHandler<S> = (req: RestRequest, state: S) => RestResult | Promise<RestResult>;

export interface RestSystemDefinition<S> {
  /** short name: journal `system`, chaos `match.system`, config key */
  name: string;
  /** path of the OpenAPI 3.x document */
  contractFile: string;
  /** path prefix; default: the path of the contract's first `servers` URL, else the file's base name */
  mount?: string;
  handlers: Record<string, RestHandler<S>>;
  createState(options: StateOptions): S;
  /** the state as bytes for snapshots, and back (without them, start-up replays the whole log) */
  snapshotState?(state: S): Buffer;
  restoreState?(snapshot: Buffer, options: StateOptions): S;
  /** replays an event the state recorded through StateOptions.record */
  replayEvent?(state: S, event: string): void;
  /** the configuration the state depends on (besides seed and contract): a stored log replays only against the same */
  stateOptions?: Record<string, unknown>;
  /**
   * Reads whose serialised replies the engine may reuse while the state is unchanged (reply-cache.ts).
   * `operations`: GET operations whose handlers read only the state, the path, the query and the base URL (not the
   * client, not other headers). `revision`: brings the state up to date with the background changes due by now and
   * returns a number that changes with every write.
   */
  replyCache?: { operations: string[]; revision(state: S): number };
  /** the business events the system emits (engine/system.ts SystemEvents), over its own state type */
  events?: RestSystemEvents<S>;
  /**
   * The system's own error shape for the errors the engine answers (default: problem+json, RFC 9457): the body,
   * serialised as JSON with `contentType` (default application/json), or, a string with a content type that is
   * not JSON, sent as it is (a plain-text error). Status and headers stay the engine's.
   */
  errorShape?(status: number, error: EngineError): { body: unknown; contentType?: string };
  /**
   * The system keeps no state: none of its operations changes anything, whatever its method (a sink that only
   * receives). Nothing is logged or replayed, a full store does not refuse its requests, and a data directory
   * does not depend on its contract or on its being mounted.
   */
  stateless?: boolean;
  /**
   * Makes the validated request body what the handler and the write log get, for operations whose bodies carry
   * what must never be stored (a card number becomes its brand, last four digits and a keyed digest). Called
   * with the validated body, live; the handler and a replay see only its result. Return the body unchanged for
   * other operations.
   */
  sanitizeBody?(operationId: string, body: unknown): unknown;
  /**
   * The journal keeps every request body sent to this system with card numbers and CVCs masked (journal/redact.ts
   * maskCardData), whatever the operation: one that reaches no operation (a 404), or that chaos answers, too. For
   * a system that takes card data, where a number may arrive anywhere, not only where the contract expects it.
   */
  masksCardData?: boolean;
  /**
   * an admin command on the state (PUT /__admin/wms/simulation ...), run and logged by SystemStates.command:
   * returns what the admin route shows; throws CommandError, before changing anything, on input it refuses
   */
  applyCommand?(state: S, name: string, input: unknown): unknown;
}

/** SystemEvents (engine/system.ts) for a state of type S. */
export interface RestSystemEvents<S> {
  readonly types: readonly string[];
  position(state: S): number;
  since(state: S, from: number): SystemChange[];
  tick?(state: S): number | undefined;
  envelope?: SystemEvents['envelope'];
}

/** A problem+json result (RFC 9457) for handlers: `problem(409, 'insufficient-stock', 'SKU-1 has 3 available')`. */
export function problem(status: number, slug: string, detail: string, extra: Record<string, unknown> = {}): RestResult {
  return {
    status,
    headers: { 'content-type': PROBLEM_JSON },
    body: { type: problemType(slug), title: statusTitle(status), status, detail, ...extra },
  };
}
