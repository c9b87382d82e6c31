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
 *   5. handle           the system's handler on the workspace's state, or a response generated from the contract
 *   6. chaos, after     faults that alter the reply (drift, malformed, lostAck ...)
 *   7. check            the reply against the contract (recorded, never enforced: drift is a feature)
 *   8. journal          once the transport has written the reply (complete()), always, whatever happened above
 *
 * Steps 1-7 live in handle(); step 8 in complete(), called by the transport because only it knows when the last
 * byte left and how many there were.
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
      startedAt: this.clock.now(),
      startedHr: performance.now(),
      client: 'anonymous',
      // in the literal, so that setting it later does not change the object's shape on the traffic path
      key: undefined,
      faults: [],
      contractErrors: [],
      effects: [],
      delayMs: 0,
    };
  }

  /** Steps 1-7. Never rejects: a failing handler becomes a 500 in the system's error shape. */
  async handle(exchange: Exchange): Promise<Reply> {
    // 1. route
    const system = this.systemAt(exchange.path);
    if (!system) {
      exchange.client = identityOf(headerIdentity.identify(exchange));
      return problemReply(404, 'no-such-system', `No system is mounted at ${exchange.path}.`, {
        mounted: this.mounts.map((s) => s.mount),
      });
    }
    exchange.system = system;
    const engine = system.engine;
    try {
      const resolved = engine.resolve(exchange);
      if ('reply' in resolved) {
        exchange.client = identityOf(headerIdentity.identify(exchange));
        return resolved.reply;
      }
      exchange.operation = resolved.operation;
      exchange.params = resolved.params;

      // 2. identify
      const identity = (system.auth ?? headerIdentity).identify(exchange);
      if (typeof identity !== 'string') return identity;
      exchange.client = identity;
      // the key, before chaos: a retried order is then one key in the journal, whoever answered each attempt
      if (engine.keyOf !== undefined) exchange.key = engine.keyOf(exchange);

      // 3. chaos, before
      const chaos = exchange.workspace.chaos;
      // (the seams may answer with a value or a promise; only promises are awaited: awaiting a plain value still
      // costs a promise and a microtask turn, per request, on the traffic path)
      let preempted = chaos.before(exchange);
      if (preempted instanceof Promise) preempted = await preempted;
      if (preempted) return preempted;

      // 4. validate
      let reply = this.refuseInvalid(exchange);

      // 5. handle
      const handled = reply === undefined;
      if (reply === undefined) {
        const invoked = engine.invoke(exchange, exchange.workspace.stateOf(system));
        reply = invoked instanceof Promise ? await invoked : invoked;
      }

      // 6. chaos, after (refusals too: a rate limit's headers, a drifting vendor, belong on every reply)
      const altered = chaos.after(exchange, reply);
      reply = altered instanceof Promise ? await altered : altered;

      // 7. check
      if (handled) engine.checkResponse(exchange, reply);
      // what only the handler and the check needed: a reply held for injected latency should not pin it
      exchange.parsed = undefined;
      exchange.params = undefined;
      reply.source = undefined;
      return reply;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      console.error(`understudy: ${exchange.method} ${exchange.path} failed in ${system.name}:`, err);
      return engine.errorReply(500, 'Internal Server Error', `understudy failed to handle this request: ${message}`);
    }
  }

  /**
   * Step 8: journal the exchange and count it. Called by the transport once the reply is written (or failed).
   * The duration is taken now; the recording itself waits for the end of this turn of the event loop, so that
   * when many held replies fall due together (injected latency) the writes go out first and the journal work
   * follows. Readers call flush() first, so the journal they see is always complete.
   */
  complete(exchange: Exchange, reply: Reply, delivered: Delivered): void {
    this.completed.push({ exchange, reply, delivered, durationMs: performance.now() - exchange.startedHr });
    if (this.completed.length === 1) setImmediate(this.flush);
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
      return withClose(engine.errorReply(413, 'Content Too Large', `The request body exceeds the server's limit of ${this.limits.bodyBytes} bytes.`));
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
