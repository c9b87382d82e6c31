/**
 * What a fake system looks like to the engine. A system (wms, payments, erp, a user's --contract) is mounted at a
 * path prefix and speaks through one protocol engine (REST from OpenAPI now; SOAP from WSDL and OData from CSDL
 * plug in here later). The pipeline calls the protocol engine's steps in a fixed order; the protocol engine owns
 * everything protocol-shaped: routing inside the mount, validation, error bodies, and calling the system's
 * handlers with the workspace's state.
 */
import type { Exchange, Protocol, Reply } from './exchange.js';

export interface OperationInfo {
  /** stable id used by the journal, chaos matching and the report card (OpenAPI operationId, SOAP operation ...) */
  id: string;
  /** the route template as the user writes it in chaos profiles, e.g. /wms/v1/inventory/{sku} */
  template: string;
  /** the HTTP method, for protocols that have one */
  method?: string;
  /**
   * For the report card: where the request body carries a list of records, when the operation is a bulk one (a
   * JSON pointer; '' for a top-level array), so that bulk calls carrying a single record can be counted
   */
  records?: string;
  /** the query parameter that selects the fields of a read (`fields`, OData's `$select`), when it offers one */
  fieldSelection?: string;
  /**
   * whether the operation changes nothing, when its HTTP method does not say so (a SOAP read is POSTed): the
   * report card then treats its retries as reads, which need no idempotency key. Absent: GET, HEAD and OPTIONS are.
   */
  safe?: boolean;
  /**
   * the OAuth scopes a bearer token needs for it (a REST contract's security requirement; the ERP's from
   * systems.erp.scopes), when the system runs with `auth: oauth`
   */
  scopes?: readonly string[];
  /**
   * served to anyone whatever the system's auth: the WSDL, which Salesforce's Generate from WSDL and the soap
   * client libraries fetch without credentials
   */
  open?: boolean;
}

export type Resolution = { operation: OperationInfo; params: Record<string, string> } | { reply: Reply };

export interface ProtocolEngine {
  readonly protocol: Protocol;
  /** every operation it serves, read-only (chaos profiles check their match values against them) */
  readonly operations?: readonly OperationInfo[];
  /** find the operation inside the system's mount, or answer 404/405 in the protocol's error shape */
  resolve(exchange: Exchange): Resolution;
  /**
   * the request's idempotency or external key (journal `key`), read before chaos so that attempts chaos answers
   * carry it too; must not throw on a malformed request and should allocate nothing when there is no key
   */
  keyOf?(exchange: Exchange): string | undefined;
  /** validate the request; on failure record exchange.contractErrors and return the protocol's error reply */
  validateRequest(exchange: Exchange): Reply | undefined;
  /** run the system's handler (or generate a response from the contract) against the workspace's state */
  invoke(exchange: Exchange, state: unknown): Reply | Promise<Reply>;
  /** check the reply against the contract; violations go to exchange.contractErrors (in: 'response') */
  checkResponse(exchange: Exchange, reply: Reply): void;
  /** finish start-up work (compiling validators) in the background once the server listens; returns warnings */
  warmUp?(): Promise<string[]>;
  /**
   * For an operation that changes the system's state: what its handler reads, normalised and JSON-serialisable, to
   * be logged (SystemStates). Undefined for reads and for operations without state (generated responses).
   */
  writeInput?(exchange: Exchange): unknown;
  /** Runs a logged write again on a state being rebuilt; returns the status it answered. */
  replayWrite?(operation: string, input: unknown, state: unknown, workspace: string): number;
  /**
   * A SOAP fault carrying a system error code (chaos `soapFault`, outage mode `soap-fault`): faultstring
   * `CODE: text`, the code and `detail` (default: text) in the detail element, faultcode Server (1.2: Receiver), HTTP 500. Only SOAP engines have it.
   */
  soapFault?(exchange: Exchange, code: string, text: string, detail?: string): Reply;
  /**
   * Chaos `csrfExpiry`: the CSRF token issued to the exchange's workspace stops being valid. False when this
   * service checks no CSRF tokens. Only OData engines have it.
   */
  expireCsrfTokens?(exchange: Exchange): boolean;
  /**
   * an error in this protocol's shape (problem+json, SOAP fault, OData error) for engine-level refusals; given the
   * exchange when there is one (a SOAP fault is written in the request's SOAP version)
   */
  errorReply(status: number, title: string, detail: string, extra?: Record<string, unknown>, exchange?: Exchange): Reply;
}

/** Options every system's state factory receives. */
export interface StateOptions {
  seed: number;
  clock: import('../util/clock.js').Clock;
  /**
   * Records that the state did time-driven work whose outcome depends on *when* it ran, not only on the writes and
   * their times (a stock simulation skipping changes after a long idle): the store logs it with `at`, the clock
   * time the state read for it, and a restart replays it at that time (MountedSystem.replayEvent), so the rebuilt
   * state takes the same turn.
   */
  record?(event: string, at: number): void;
}

/** A change a system made, as a business event's type and data (events/event.ts adds id, created and system). */
export interface SystemChange {
  /** position of the change in the system's own order (the WMS change feed's sequence number) */
  seq: number;
  /** event type, one of SystemEvents.types (`inventory.changed` ...) */
  type: string;
  /** clock time of the change (ms) */
  at: number;
  /** the changed record exactly as the system's GET shows it after the change (may be a getter: read it at once) */
  readonly data: unknown;
}

/**
 * The business events a system emits (issue #8). Events are derived from the system's own record of changes
 * (the WMS change feed), so polling and push always agree. The workspace's event bus keeps a position per
 * system and asks for what changed after it once an exchange or a tick is done.
 */
export interface SystemEvents {
  /** every event type the system can emit */
  readonly types: readonly string[];
  /** the position after the latest change: where a new subscriber starts */
  position(state: unknown): number;
  /** the changes after position `from`, oldest first, as they stand now (a record changed twice shows once) */
  since(state: unknown, from: number): SystemChange[];
  /**
   * time-driven work that has fallen due by now (stock simulation, reservation expiry), done on a timer while
   * someone is subscribed, so that events flow when nobody calls; returns how soon (ms) it wants to run again,
   * or undefined when nothing time-driven is configured
   */
  tick?(state: unknown): number | undefined;
  /**
   * The webhook body of one event, for a system whose events have their own shape (the payment gateway's are
   * Stripe event objects). Absent: `{ id, type, created (ISO 8601), system, data }`. `created` is in ms.
   */
  envelope?(event: { id: string; type: string; created: number; system: string }, data: unknown): unknown;
}

export interface MountedSystem {
  /** short name used in journal entries, chaos `match.system` and config (`wms`, `payments`, `erp`, custom) */
  name: string;
  /** path prefix, e.g. /wms/v1; requests under it go to this system */
  mount: string;
  engine: ProtocolEngine;
  /** who is calling; absent means the X-Understudy-Client header or 'anonymous' (auth arrives per system later) */
  auth?: import('./seams.js').ClientIdentifier;
  /** builds a workspace's fresh state (seeded); called on first use and on reset */
  createState(options: StateOptions): unknown;
  /** the state as bytes, for the store's snapshots (without: start-up replays the whole log) */
  snapshotState?(state: unknown): Buffer;
  /** runs again, on a state being rebuilt, an event the state recorded (StateOptions.record), at its time */
  replayEvent?(state: unknown, event: string): void;
  /** a state from snapshotState's bytes; throws when they are not a snapshot of this system as configured */
  restoreState?(snapshot: Buffer, options: StateOptions): unknown;
  /** business events (issue #8), for systems that emit them */
  events?: SystemEvents;
  /**
   * A state change made through the admin API (PUT /__admin/wms/simulation ...), not through the protocol: run
   * live by SystemStates.command, with the clock pinned, logged with its input, and run again the same way when
   * the state is rebuilt. Returns what the admin route shows; throws CommandError (a 400) on bad input.
   */
  applyCommand?(state: unknown, name: string, input: unknown): unknown;
  /**
   * what the system's state depends on besides the seed (its contract, its configuration), compared at start-up
   * with what the stored log was written with: a log replays only against the same
   */
  fingerprint?: Record<string, unknown>;
  /**
   * the system answers with an acknowledgement a chaos `noAck` fault can withhold (Exchange.ackWithheld): the
   * Outbound Message receiver
   */
  acknowledges?: boolean;
}

/** Thrown by MountedSystem.applyCommand for input it refuses (the admin route answers 400 with the message). */
export class CommandError extends Error {}
