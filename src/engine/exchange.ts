/**
 * The Exchange is one request's record as it travels through the pipeline (engine/pipeline.ts), and the Reply is
 * what the pipeline hands back to the transport. Both are transport-agnostic: node:http, msw or an embedding
 * express app build an Exchange and write a Reply.
 *
 * Kept deliberately flat and cheap: the hot path allocates one Exchange per request and fills fields in as the
 * pipeline learns them. The journal keeps a reference to it (no copies) and serializes lazily when read.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Workspace } from './workspace.js';
import type { MountedSystem, OperationInfo } from './system.js';

export type Protocol = 'rest' | 'soap' | 'odata' | 'oauth' | 'admin' | 'none';

/** A header value as the transport will write it. */
export type HeaderValue = string | number | readonly string[];
export type ReplyHeaders = Record<string, HeaderValue>;

/**
 * A reply the transport must deliver badly, on purpose (chaos): these are the failures a client meets below HTTP.
 *  reset     a TCP RST instead of an answer (the client sees ECONNRESET)
 *  close     the connection closed with nothing written (an empty reply)
 *  hang      nothing for `ms`, then the connection closed (a server that stopped answering)
 *  truncate  status, headers and Content-Length as normal, then the connection closed halfway through the body
 *  slow      the body dripped at `bytesPerSecond`
 */
export type Disruption =
  | { kind: 'reset' }
  | { kind: 'close' }
  | { kind: 'hang'; ms: number }
  | { kind: 'truncate' }
  | { kind: 'slow'; bytesPerSecond: number };

/** What the pipeline answers. `body` may be a stream of chunks (exports) that the transport pipes with backpressure. */
export interface Reply {
  status: number;
  headers: ReplyHeaders;
  body?: string | Buffer | AsyncIterable<string | Buffer>;
  /**
   * The value a JSON body was serialized from, so the contract check need not parse it again. A chaos fault that
   * rewrites the body must drop it (the check then parses what is actually sent).
   */
  source?: unknown;
  /** set by chaos faults that break delivery rather than content */
  disruption?: Disruption;
  /** the protocol engine's own note on where a reply came from (a reused stored reply, see reply-cache.ts) */
  memo?: unknown;
  /**
   * For a write: whether it changed the system's state, and must therefore be logged (engine/system-states.ts).
   * Absent: a 2xx did and anything else did not. A system sets it where that rule is wrong: a declined payment
   * (402) keeps a failed charge and stores its idempotency key; a replayed idempotent 201 changes nothing.
   */
  changedState?: boolean;
}

/** One contract violation, in the request or in the response. */
export interface ContractError {
  /** where: body (JSON pointer in `pointer`), query/path/header/cookie (parameter name in `name`), or the response */
  in: 'body' | 'query' | 'path' | 'header' | 'cookie' | 'content-type' | 'response';
  name?: string;
  pointer?: string;
  message: string;
}

/** A fault injected into this exchange (recorded by the chaos stage; issue #3 fills these in). */
export interface FaultRecord {
  rule: string;
  kind: string;
  params?: Record<string, unknown>;
  /** set when the fault matched but could not apply (e.g. drift on an empty body) */
  skipped?: string;
}

/** Something the handler changed: the report card uses these to spot duplicate side effects. */
export interface Effect {
  entity: string;
  id: string;
  action: string;
}

/** Why the request never reached a handler, when the body could not be read. */
export type BodyProblem = 'too-large' | 'aborted';

export interface Exchange {
  /** journal id, assigned when the exchange enters the pipeline (monotonic per workspace) */
  id: number;
  workspace: Workspace;
  /** wall-clock start (ms since epoch) and a monotonic start for precise durations */
  startedAt: number;
  startedHr: number;
  method: string;
  /** '' or the /w/{workspace} prefix the caller used, for building links back */
  prefix: string;
  /** the path as the user sees it, without the /w/{workspace} prefix and without the query string */
  path: string;
  /** the raw query string without '?', '' when absent */
  rawQuery: string;
  /** node's header object (built lazily by node) and the raw header list kept for the journal */
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer | undefined;
  bodyProblem?: BodyProblem;
  /**
   * the request body as the journal may keep it, when that is not `body`: card numbers and CVCs masked (set by the
   * protocol engine when the request reaches a system that takes card data, before routing inside it, so that a
   * request to no operation, or one chaos answers, is masked too)
   */
  journalBody?: Buffer;
  remoteAddress: string;
  /** the request came over TLS to this server (not through a TLS-terminating proxy: X-Forwarded-Proto says that) */
  secure?: boolean;

  // filled in by the pipeline:
  system?: MountedSystem;
  operation?: OperationInfo;
  /** path parameters extracted by the router */
  params?: Record<string, string>;
  client: string;
  faults: FaultRecord[];
  contractErrors: ContractError[];
  effects: Effect[];
  /** idempotency key or external key (external order number, ...) the request carried */
  key?: string;
  /** the protocol engine's parsed request (parsed JSON body, coerced query...), for the handler */
  parsed?: unknown;
  /** what the chaos stage remembers between before() and after() (the rules that matched) */
  chaos?: unknown;
  /** injected latency: the transport delivers the reply no earlier than startedAt + delayMs */
  delayMs: number;
  /**
   * set by a chaos `noAck` fault: the system does its work but answers that it did not accept the request (an
   * Outbound Message's `<Ack>false</Ack>`); only systems that acknowledge (MountedSystem.acknowledges) read it
   */
  ackWithheld?: boolean;
  /**
   * how the caller authenticated, for the journal's `auth` (PRODUCT.md §5): set by the system's ClientIdentifier
   * on a protected call, or by the authorization server on a token request
   */
  auth?: AuthRecord;
  /** the certificate the caller presented on a TLS connection (mutual TLS), as the transport read it */
  clientCertificate?: ClientCertificate;
}

/**
 * What the journal keeps about a call's credentials (PRODUCT.md §5 `auth`). `refreshOf` and `replayOf` point at
 * the refused exchange a token request refreshed after and the call that repeated it; the journal writes their ids.
 */
export interface AuthRecord {
  /** the OAuth grant behind the token (a protected call) or asked for (a token request); null without OAuth */
  grant: string | null;
  /**
   * how the caller proved who it is: at the token endpoint the RFC 7591 token_endpoint_auth_method
   * (client_secret_basic, client_secret_post, private_key_jwt, none); on a protected call the credential it
   * carried (bearer, apikey, basic, wsse, tls_client_auth)
   */
  method: string;
  /** the scopes the token carries (granted, at the token endpoint) */
  scopes: string[];
  /** the scopes the operation needed, on a protected call (the report compares them for over-scoping) */
  required?: string[];
  /** insecure-flow (password grant), certificate-expiring (within 30 days), certificate-expired */
  flags: string[];
  refreshOf?: Exchange;
  replayOf?: Exchange;
  /** the access token's id and issue time (ms), for chaos tokenExpiry; not journaled */
  token?: { id: string; issuedAt: number };
}

/** A TLS client certificate as the transport saw it (node's TLSSocket.getPeerCertificate, reduced). */
export interface ClientCertificate {
  /** the subject's common name ('' when it has none) */
  subjectCN: string;
  /** the subject as one line, e.g. "CN=sf-sandbox, O=Acme" */
  subject: string;
  /** notAfter, ms since epoch */
  validTo: number;
  /** SHA-256 fingerprint, colon-separated hex as node writes it */
  fingerprint256: string;
  /** whether it chains to the configured CA (tls.ca) */
  authorized: boolean;
}
