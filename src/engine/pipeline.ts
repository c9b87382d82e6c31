/**
 * The request pipeline: one exchange, top to bottom. Every request to a fake system takes exactly this path,
 * whatever the transport (node:http now; msw and embedding middleware later) and whatever the protocol:
 *
 *   1. route            which system is mounted at the path, and which of its operations is asked for
 *   2. identify         who is calling (auth seam: token / key / basic / X-Understudy-Client / anonymous), and
 *                       the request's idempotency or external key (ProtocolEngine.keyOf), for the journal
 *   3. chaos, before    rate limits and faults that answer instead of the system, or delay the answer (the
 *                       transport holds the reply: exchange.delayMs)
 *   4. validate         the request against the contract; a protocol-shaped 4xx when it is wrong
 *   5. handle           the system's handler on the workspace's state, or a response generated from the contract;
 *                       a write runs with the clock pinned, and once accepted it is logged: its reply waits until
 *                       the log row is committed (engine/system-states.ts), so nothing acknowledged is lost; the
 *                       business events of what it changed are queued for subscribers (events/event-bus.ts).
 *                       Replicas (--redis): every exchange first catches up with the shared log (before step 1);
 *                       a write is appended to it and runs where the log places it (replicas/workspace-log.ts)
 *   6. chaos, after     faults that alter the reply (drift, malformed, lostAck ...)
 *   7. check            the reply against the contract (recorded, never enforced: drift is a feature)
 *   8. journal          once the transport has written the reply (complete()), always, whatever happened above
 *
 * Read top to bottom: steps 1-3 are handle() and route(), 4-5 serve() and invoke(), 6 alter(), 7 check(); each hands on to the next
 * synchronously, or through `then` when a step answered with a promise. Step 8 is complete(), called by the
 * transport because only it knows when the last byte left and how many there were.
 */
import { performance } from 'node:perf_hooks';
import type { Clock } from '../util/clock.js';
import type { Exchange, Reply } from './exchange.js';
import { problemReply } from './problem.js';
import { headerIdentity } from './seams.js';
import type { MountedSystem } from './system.js';
import type { Workspace } from './workspace.js';

export interface NewExchange {
  workspace: Workspace;
  prefix: string;
  method: string;
  path: string;
  rawQuery: string;
  headers: Exchange['headers'];
  rawHeaders: string[];
  body: Buffer | undefined;
  bodyProblem?: Exchange['bodyProblem'];
  remoteAddress: string;
  /** a TLS client certificate the connection presented */
  clientCertificate?: Exchange['clientCertificate'];
  /** the connection is TLS */
  secure?: boolean;
}

export interface Delivered {
  /** bytes of body written */
  bytes: number;
  /** the body as written, for the journal (the transport may cut streamed bodies at the journal's limit) */
  body: string | Buffer | undefined;
  error?: string;
}

export interface EngineLimits {
  /** largest request body accepted (the transport enforces it; the engine explains it) */
  bodyBytes: number;
  /** bodies are kept in the journal up to this size */
  journalBodyBytes: number;
}

export class Engine {
  /** longest mount first, so /erp/odata/v4 wins over /erp */
  private readonly mounts: MountedSystem[];
  /** exchanges whose reply is written, waiting to be journaled (see complete()) */
  private readonly completed: Array<{ exchange: Exchange; reply: Reply; delivered: Delivered; durationMs: number }> = [];

  constructor(
    systems: MountedSystem[],
    readonly clock: Clock,
    readonly limits: EngineLimits,
  ) {
    this.mounts = [...systems].sort((a, b) => b.mount.length - a.mount.length);
  }

  get systems(): readonly MountedSystem[] {
    return this.mounts;
  }

  start(fields: NewExchange): Exchange {
    return {
      id: 0,
      workspace: fields.workspace,
      prefix: fields.prefix,
      method: fields.method,
      path: fields.path,
      rawQuery: fields.rawQuery,
      headers: fields.headers,
      rawHeaders: fields.rawHeaders,
      body: fields.body,
      bodyProblem: fields.bodyProblem,
      remoteAddress: fields.remoteAddress,
      clientCertificate: fields.clientCertificate,
      secure: fields.secure,
      startedAt: this.clock.now(),
      startedHr: performance.now(),
      client: 'anonymous',
      // in the literal, so that setting it later does not change the object's shape on the traffic path
      key: undefined,
      auth: undefined,
      faults: [],
      contractErrors: [],
      effects: [],
      delayMs: 0,
    };
  }

  /**
   * Steps 1-7. Never rejects: a failing handler becomes a 500 in the system's error shape. Answers synchronously
   * when every step did (the common case: no promise, no microtask turn per request on the traffic path); a step that
   * answers with a promise (an asynchronous handler or chaos seam) continues the rest of the way in `then`.
   */
  handle(exchange: Exchange): Reply | Promise<Reply> {
    // replicas: first catch up with the workspace's shared log, so that this exchange meets every write, chaos
    // activation and reset acknowledged on any replica before it arrived (one round trip, shared by the exchanges
    // of a moment: replicas/workspace-log.ts)
    const shared = exchange.workspace.store.shared;
    if (shared !== undefined) return shared.caughtUp().then(() => this.route(exchange));
    return this.route(exchange);
  }

  private route(exchange: Exchange): Reply | Promise<Reply> {
    // 1. route
    const system = this.systemAt(exchange.path);
    if (!system) {
      exchange.client = identityOf(headerIdentity.identify(exchange));
      return problemReply(404, 'no-such-system', `No system is mounted at ${exchange.path}.`, {
        mounted: this.mounts.map((s) => s.mount),
      });
    }
    exchange.system = system;
    try {
      const resolved = system.engine.resolve(exchange);
      if ('reply' in resolved) {
        exchange.client = identityOf(headerIdentity.identify(exchange));
        return resolved.reply;
      }
      exchange.operation = resolved.operation;
      exchange.params = resolved.params;

      // 2. identify. The key first, before the caller is checked and before chaos: a retried order is then one key
      // in the journal, whoever answered (or refused) each attempt
      if (system.engine.keyOf !== undefined) exchange.key = system.engine.keyOf(exchange);
      const identity = (system.auth ?? headerIdentity).identify(exchange);
      if (typeof identity !== 'string') return identity;
      exchange.client = identity;

      // 3. chaos, before
      const preempted = exchange.workspace.chaos.before(exchange);
      if (preempted instanceof Promise) return preempted.then((p) => p ?? this.serve(exchange), (err) => this.failed(exchange, err));
      if (preempted) return preempted;
      return this.serve(exchange);
    } catch (err) {
      return this.failed(exchange, err);
    }
  }

  /** Steps 4-7, for an exchange that chaos let through. */
  private serve(exchange: Exchange): Reply | Promise<Reply> {
    try {
      // 4. validate
      const refused = this.refuseInvalid(exchange);
      if (refused !== undefined) return this.alter(exchange, refused, false);

      // 5. handle (a write through the workspace's states, which log it)
      return this.invoke(exchange, exchange.system!.engine.writeInput?.(exchange));
    } catch (err) {
      return this.failed(exchange, err);
    }
  }

  /** Step 5 proper: the handler, on the state (a write through the workspace's states, which log it). */
  private invoke(exchange: Exchange, write: unknown): Reply | Promise<Reply> {
    try {
      const system = exchange.system!;
      const engine = system.engine;
      const events = exchange.workspace.events;
      let invoked: Reply | Promise<Reply>;
      if (write === undefined) invoked = engine.invoke(exchange, exchange.workspace.states.get(system));
      else if (exchange.workspace.store.shared === undefined) invoked = exchange.workspace.states.write(system, exchange, write, (state) => engine.invoke(exchange, state));
      else {
        // replicas: the write runs where the shared log places it, and its events are taken there too, before the
        // next entry changes the state again
        return this.settle(
          exchange,
          exchange.workspace.states.write(system, exchange, write, (state) => {
            const reply = engine.invoke(exchange, state);
            if (events.active) events.collect(system);
            return reply;
          }),
        );
      }
      // the events of what it changed (reads too: they apply what fell due), queued in the write's own commit
      if (events.active) events.collect(system);
      return this.settle(exchange, invoked);
    } catch (err) {
      return this.failed(exchange, err);
    }
  }

  private settle(exchange: Exchange, invoked: Reply | Promise<Reply>): Reply | Promise<Reply> {
    if (invoked instanceof Promise) return invoked.then((reply) => this.alter(exchange, reply, true), (err) => this.failed(exchange, err));
    return this.alter(exchange, invoked, true);
  }

  /** Steps 6-7: chaos alters the reply (refusals too: a rate limit's headers, a drifting vendor, belong on every reply), then the contract check. */
  private alter(exchange: Exchange, reply: Reply, handled: boolean): Reply | Promise<Reply> {
    try {
      // 6. chaos, after
      const altered = exchange.workspace.chaos.after(exchange, reply);
      if (altered instanceof Promise) return altered.then((r) => this.check(exchange, r, handled), (err) => this.failed(exchange, err));
      return this.check(exchange, altered, handled);
    } catch (err) {
      return this.failed(exchange, err);
    }
  }

  private check(exchange: Exchange, reply: Reply, handled: boolean): Reply {
    // 7. check (status 0: chaos sent no HTTP response at all, a reset or a hang, so there is nothing to check)
    if (handled && reply.status !== 0) exchange.system!.engine.checkResponse(exchange, reply);
    // what only the handler and the check needed: a reply held for injected latency should not pin it
    exchange.parsed = undefined;
    exchange.params = undefined;
    reply.source = undefined;
    reply.memo = undefined;
    return reply;
  }

  private failed(exchange: Exchange, err: unknown): Reply {
    const system = exchange.system!;
    const message = err instanceof Error ? err.message : String(err);
    console.error(`understudy: ${exchange.method} ${exchange.path} failed in ${system.name}:`, err);
    return system.engine.errorReply(500, 'Internal Server Error', `understudy failed to handle this request: ${message}`, undefined, exchange);
  }

  /**
   * Step 8: journal the exchange and count it. Called by the transport once the reply is written (or failed).
   * The duration is taken now; the recording itself waits for the end of this turn of the event loop, so that
   * when many held replies fall due together (injected latency) the writes go out first and the journal work
   * follows. Readers call flush() first, so the journal they see is always complete.
   */
  complete(exchange: Exchange, reply: Reply, delivered: Delivered): void {
    this.completed.push({ exchange, reply, delivered, durationMs: this.elapsed(exchange) });
    if (this.completed.length === 1) setImmediate(this.flush);
  }

  /**
   * How long the exchange took: measured with the monotonic timer, unless the server's clock says it took longer
   * by more than a millisecond. That is a clock that is not the wall clock (a manual clock in tests and drills,
   * advanced while a reply was held), whose time the journal's start already is: its end must be on it too.
   */
  private elapsed(exchange: Exchange): number {
    const measured = performance.now() - exchange.startedHr;
    const byClock = this.clock.now() - exchange.startedAt;
    return byClock - measured > 1 ? byClock : measured;
  }

  /** Records every completed exchange not recorded yet. */
  readonly flush = (): void => {
    for (const { exchange, reply, delivered, durationMs } of this.completed) {
      const workspace = exchange.workspace;
      workspace.journal.record(exchange, {
        status: reply.status,
        responseHeaders: reply.headers,
        responseBody: delivered.body,
        responseBytes: delivered.bytes,
        endedAt: exchange.startedAt + durationMs,
        durationMs,
        transportError: delivered.error,
      });
      workspace.counters.count(exchange.system?.name ?? '(none)', reply.status);
    }
    this.completed.length = 0;
  };

  /** Step 4: the protocol's 4xx when the request is too large or breaks the contract. */
  private refuseInvalid(exchange: Exchange): Reply | undefined {
    const engine = exchange.system!.engine;
    if (exchange.bodyProblem === 'too-large') {
      exchange.contractErrors.push({ in: 'body', message: `body exceeds the ${this.limits.bodyBytes}-byte limit` });
      return withClose(engine.errorReply(413, 'Content Too Large', `The request body exceeds the server's limit of ${this.limits.bodyBytes} bytes.`, undefined, exchange));
    }
    return engine.validateRequest(exchange);
  }

  private systemAt(path: string): MountedSystem | undefined {
    for (const system of this.mounts) {
      const m = system.mount;
      if (path.startsWith(m) && (path.length === m.length || path.charCodeAt(m.length) === 47 /* / */)) return system;
    }
    return undefined;
  }
}

function identityOf(identity: string | Reply): string {
  return typeof identity === 'string' ? identity : 'anonymous';
}

function withClose(reply: Reply): Reply {
  // the unread rest of an oversize body is still on the socket: the connection cannot be reused
  reply.headers.connection = 'close';
  return reply;
}
