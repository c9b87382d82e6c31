/**
 * One fault kind = one file behind this interface (the Toxiproxy shape): the kind's name, when it acts (before
 * the handler, instead of it; or after, on its reply), the JSON Schema of its parameters, how to turn validated
 * parameters into ready ones, and the act itself. The chaos stage applies `probability` once, for every kind,
 * and records what was injected; a kind never draws its own probability.
 *
 * Faults act synchronously: one that delays says so (exchange.delayMs for latency, a Reply.disruption for a held
 * or dripped connection) and the transport does the waiting, so nothing is held inside the pipeline.
 *
 * Adding a fault kind: write a file here exporting a FaultKind, and list it in faults/index.ts.
 */
import type { Exchange, Reply } from '../../engine/exchange.js';
import type { Clock } from '../../util/clock.js';
import type { Scheduler } from '../../util/scheduler.js';
import { statusTitle } from '../../engine/problem.js';
import { plausibleDetail } from './plausible-errors.js';

export interface FaultContext {
  exchange: Exchange;
  /** seeded from (seed, rule, fault, client, the client's ordinal for this rule): deterministic per client */
  random: () => number;
  /** how many earlier requests of this client this rule matched (0 for the first) */
  ordinal: number;
  clock: Clock;
  scheduler: Scheduler;
  /** clock time the profile became active (or was last restarted) */
  activatedAt: number;
  /** what the journal records for this application; add drawn values (a latency's ms, say) here */
  record: Record<string, unknown>;
}

/** Returned by before() when this request is not one the fault affects (failFirst past its count, say). */
export const PASS = Symbol('pass');

/** Thrown by a fault that matched but cannot apply to this exchange; the journal notes it as skipped. */
export class NotApplicable extends Error {}

/** Thrown by compile() for parameters that pass the schema but make no sense together. */
export class FaultParamError extends Error {
  constructor(
    message: string,
    /** the parameter it is about, for the line number */
    readonly param?: string,
  ) {
    super(message);
  }
}

export interface FaultKind<P = any> {
  readonly kind: string;
  readonly stage: 'before' | 'after';
  /** parameters besides `probability`; a string schema means the bare shorthand (`latency: 300ms`) */
  readonly schema: object;
  /** validated raw parameters → ready parameters (durations in ms ...); throws FaultParamError */
  compile(raw: any): P;
  /** before the handler: a Reply answers instead of the system; undefined carries on (after waiting, maybe) */
  before?(ctx: FaultContext, params: P): Reply | undefined | typeof PASS;
  /** after the handler: the reply the client gets instead of `reply` */
  after?(ctx: FaultContext, params: P, reply: Reply): Reply;
}

export const DURATION_SCHEMA = { type: 'string', pattern: '^\\d+(\\.\\d+)?(ms|s|m|h|d)$' } as const;

/**
 * An error reply in the shape of the exchange's system (problem+json for REST), worded as that system's own
 * errors are unless a detail is given: nothing in it may say the failure was simulated (plausible-errors.ts).
 */
export function systemError(exchange: Exchange, status: number, detail: string = plausibleDetail(status)): Reply {
  const engine = exchange.system?.engine;
  if (!engine) throw new NotApplicable('no system to answer for');
  return engine.errorReply(status, statusTitle(status), detail, undefined, exchange);
}
