/**
 * The chaos stage of one workspace: the active profile, the moment it was activated (windows and timeline
 * phases count from there), and what it has done (per-rule counters, per-client ordinals, rate-limit counts).
 *
 * before(): find the rules open now that match the exchange; count the client's ordinal for each; admission
 * policies first (rateLimit, quota), then the rules' before-faults in order; the first fault that answers
 * (status, outage, reset ...) ends the stage. after(): the after-faults on the handler's reply (drift, lostAck
 * ...), and the policies' headers. Both are synchronous (see faults/fault.ts): this runs on every request.
 *
 * Replicas (`--redis`, options.shared): the ordinals and the limits' counts of an exchange some rule matches are
 * counted in Redis, in one round trip, so that every replica counts as one would (before() then answers with a
 * promise); the exchange's faults are drawn and applied here as ever, from the shared ordinals. When Redis cannot
 * answer, this replica's own counts stand in, and the exchange's fault records say so. A calm
 * exchange, matched by no rule, never reaches Redis.
 *
 * Determinism: every draw comes from (seed, rule, fault, client, that client's ordinal for the rule), never from
 * a shared stream, so the same seed and the same requests per client give the same faults whatever the
 * interleaving of clients, on any machine. Probability is applied here, once, for every kind.
 *
 * The timeline's clock: windows and phases count from the activation, at clock speed, unless the timeline was
 * moved (POST /__admin/chaos/timeline: a drill skips its calm minute). Every activation, restart and jump starts
 * a TimelineSegment; the report card reads the list to measure windows on the timeline's own clock. The traffic
 * path reads one number, `origin`: the clock time at which the timeline, as it now reads, would have read 0 had it
 * run at clock speed all along (the activation until the first jump).
 */
import { createHash } from 'node:crypto';
import type { Exchange, FaultRecord, Reply } from '../engine/exchange.js';
import type { ChaosStage } from '../engine/seams.js';
import type { Clock } from '../util/clock.js';
import type { Scheduler } from '../util/scheduler.js';
import { seededRandom } from '../util/seeded-random.js';
import { PASS, type FaultContext } from './faults/fault.js';
import type { CompiledFault, CompiledProfile, CompiledRule } from './profile.js';
import { Limiter } from './policies/limiter.js';
import { COUNTED_LOCALLY, type RuleTotals, type SharedChaosCounters, type SharedCountRequest, type SharedCounts, type SharedLimitRequest } from './shared-counters.js';

export interface ChaosOptions {
  clock: Clock;
  scheduler: Scheduler;
  /** the workspace's seed; a profile's own seed wins */
  seed: number;
  /** add x-understudy-fault to replies that carry a fault (off by default: clients must not special-case it) */
  faultHeader: boolean;
  /**
   * Where replicas serving this workspace count together (`--redis`: replicas/redis-chaos-counters.ts): ordinals
   * and rate limits are then counted there, one round trip for an exchange some rule matches. Absent: every count
   * is this process's own, synchronously, as it always was.
   */
  shared?: SharedChaosCounters;
}

class RuleRuntime {
  matched = 0;
  skipped = 0;
  readonly injected = new Map<string, number>();
  readonly ordinals = new Map<string, number>();
  readonly limiters: Limiter[];

  constructor(
    readonly rule: CompiledRule,
    /** where the rule's window counts from: 0, or its phase's start */
    readonly offsetMs: number,
    /** the rule's window ends here anyway (its phase's end) */
    readonly endMs: number,
    readonly phase: string | null,
  ) {
    this.limiters = rule.limits.map((l) => new Limiter(rule.id, l.kind, l.params));
  }

  isOpen(elapsed: number): boolean {
    const since = elapsed - this.offsetMs;
    return elapsed < this.endMs && since >= this.rule.afterMs && since < this.rule.afterMs + this.rule.forMs;
  }

  count(kind: string): void {
    this.injected.set(kind, (this.injected.get(kind) ?? 0) + 1);
  }
}

/** From clock time `at` on, the timeline read `elapsedMs` at `at` and ran at clock speed (until the next segment). */
export interface TimelineSegment {
  at: number;
  elapsedMs: number;
  cause: 'activated' | 'restarted' | 'jump';
}

/**
 * Jumps kept per activation. A drill jumps once or twice; a script jumping in a loop is refused past this
 * (TooManyJumpsError) rather than have old segments forgotten, which would misplace the report's windows.
 */
export const MAX_TIMELINE_SEGMENTS = 1000;

export class TooManyJumpsError extends Error {}

/** the kind a fallback note names: the rule's first limit, else its first fault (a rule has one or the other) */
function countedKind(rule: CompiledRule): string {
  return rule.limits[0]?.kind ?? rule.faults[0]?.kind.kind ?? 'rule';
}

function finiteOrNull(n: number | undefined): number | null {
  return n !== undefined && Number.isFinite(n) ? n : null;
}

/** Clock time at which the timeline read 0, going by its latest segment. */
function originOf(segments: readonly TimelineSegment[]): number {
  const last = segments[segments.length - 1];
  return last.at - last.elapsedMs;
}

/**
 * Where the profile's timeline ends: the last moment anything in it changes (the end of its last phase, the close
 * of its last `when` window). Infinity when it is open-ended (a last phase without `for`, a window without one);
 * undefined when nothing in it depends on time (no timeline, no `when`): there is nothing to move then.
 */
export function timelineEnd(profile: CompiledProfile): number | undefined {
  let end: number | undefined;
  const last = profile.phases[profile.phases.length - 1];
  if (last) end = last.endMs;
  for (const rule of profile.rules) {
    // a rule open throughout (no `when`) does not change with time
    if (rule.afterMs === 0 && rule.forMs === Infinity) continue;
    end = Math.max(end ?? 0, rule.afterMs + rule.forMs);
  }
  return end;
}

interface Matched {
  runtime: RuleRuntime;
  /** this replica's count, replaced by the shared one when replicas count together */
  ordinal: number;
}

/** the shared counts of an exchange's limits, in the order they were asked for */
interface SharedAdmission {
  activation: string;
  limits: SharedLimitRequest[];
  counts: SharedCounts;
}

/** what before() leaves on the exchange for after() */
interface ExchangeChaos {
  matched: Matched[];
  headers: Record<string, string>;
}

const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** ordinals kept per rule before the map is reset: bounded memory against clients minting names */
const MAX_CLIENTS = 100_000;

export class ChaosEngine implements ChaosStage {
  /** clock time at which the timeline reads 0 (last segment's at - elapsedMs): elapsed = now - origin */
  private origin: number;
  private segments: readonly TimelineSegment[];
  private readonly runtimes: RuleRuntime[];
  private readonly seed: number;
  /** names the activation in the shared counts (shared-counters.ts): the profile's digest, then segments[0].at */
  private readonly profileDigest: string;
  private activation = '';

  constructor(
    readonly profile: CompiledProfile,
    private readonly options: ChaosOptions,
    /**
     * where its timeline counts from (a profile resumed after a restart: the stored origin, which after a jump is
     * not the moment it was activated); default now
     */
    activatedAt: number = options.clock.now(),
    /** the segments stored with the activation (a resumed profile that had jumped); absent: one, activated at activatedAt */
    timeline?: readonly TimelineSegment[],
  ) {
    this.seed = profile.seed ?? options.seed;
    this.profileDigest = createHash('sha256').update(`${this.seed}\n${profile.text}`).digest('base64url').slice(0, 12);
    this.runtimes = [
      ...profile.rules.map((r) => new RuleRuntime(r, 0, Infinity, null)),
      ...profile.phases.flatMap((p) => p.rules.map((r) => new RuleRuntime(r, p.startMs, p.endMs, p.name))),
    ];
    this.origin = activatedAt;
    this.segments = [];
    this.restart(activatedAt);
    // a stored history is taken only when it agrees with the stored origin (both are written together)
    if (timeline && timeline.length > 0 && timeline.length <= MAX_TIMELINE_SEGMENTS && originOf(timeline) === activatedAt) {
      this.segments = timeline.map((s) => Object.freeze({ at: s.at, elapsedMs: s.elapsedMs, cause: s.cause }));
      for (const rt of this.runtimes) for (const l of rt.limiters) l.restart(this.segments[0].at);
      this.activation = `${this.profileDigest}:${this.segments[0].at}`;
    }
  }

  /** The timeline's history, oldest first: the activation (or the latest restart), then every jump. */
  get timeline(): readonly TimelineSegment[] {
    return this.segments;
  }

  /** Where the timeline stands now (ms since its start, on its own clock). */
  elapsed(now: number = this.options.clock.now()): number {
    // never before its start: replicas share the origin (a log entry's time, on Redis's clock), and a replica whose
    // own reading of that clock lags by a millisecond must read 0, not a moment before the first phase
    return Math.max(0, now - this.origin);
  }

  restart(at: number = this.options.clock.now()): void {
    this.origin = at;
    // a new list, not a cleared one: whoever holds the old one (a report being built) keeps it intact
    this.segments = [Object.freeze({ at, elapsedMs: 0, cause: this.segments.length === 0 ? 'activated' : 'restarted' } as const)];
    this.activation = `${this.profileDigest}:${at}`;
    for (const rt of this.runtimes) {
      rt.matched = 0;
      rt.skipped = 0;
      rt.injected.clear();
      rt.ordinals.clear();
      for (const l of rt.limiters) l.restart(at);
    }
  }

  /**
   * Moves the timeline so that it reads `toElapsedMs` now, and runs on at clock speed from there. Only which
   * windows and phases are open changes: counters, per-client ordinals (so the faults' draws) and rate-limit
   * windows carry on untouched. Rate limits stay on the clock on purpose: they measure how fast a client really
   * calls, which a jump does not change (a window counted from the jumped origin would let a client burst).
   * Throws TooManyJumpsError past MAX_TIMELINE_SEGMENTS (nothing changed).
   */
  jump(toElapsedMs: number, now: number = this.options.clock.now()): void {
    this.segments = this.jumped(toElapsedMs, now);
    this.origin = now - toElapsedMs;
  }

  /**
   * The timeline as it would read after jump(toElapsedMs, now), without moving it: so that the caller can store
   * it first (a store that cannot be written leaves the timeline where it was). Throws as jump() does.
   */
  jumped(toElapsedMs: number, now: number = this.options.clock.now()): readonly TimelineSegment[] {
    if (!(Number.isFinite(toElapsedMs) && toElapsedMs >= 0)) throw new RangeError(`a timeline point is a finite duration of 0 or more, not ${toElapsedMs}`);
    if (this.segments.length >= MAX_TIMELINE_SEGMENTS) {
      throw new TooManyJumpsError(
        `the timeline has been moved ${MAX_TIMELINE_SEGMENTS - 1} times since it was activated; restart it (POST /__admin/reset {"scope":"chaos"}) or activate the profile again`,
      );
    }
    return [...this.segments, Object.freeze({ at: now, elapsedMs: toElapsedMs, cause: 'jump' } as const)];
  }

  before(exchange: Exchange): Reply | undefined | Promise<Reply | undefined> {
    if (this.runtimes.length === 0) return undefined;
    const now = this.options.clock.now();
    const elapsed = this.elapsed(now);
    let matched: Matched[] | undefined;
    for (const rt of this.runtimes) {
      if (!rt.isOpen(elapsed) || !rt.rule.match(exchange)) continue;
      if (rt.ordinals.size >= MAX_CLIENTS && !rt.ordinals.has(exchange.client)) rt.ordinals.clear();
      const ordinal = rt.ordinals.get(exchange.client) ?? 0;
      rt.ordinals.set(exchange.client, ordinal + 1);
      rt.matched++;
      (matched ??= []).push({ runtime: rt, ordinal });
    }
    if (!matched) return undefined;
    const state: ExchangeChaos = { matched, headers: NO_HEADERS };
    exchange.chaos = state;
    if (this.options.shared) return this.beforeShared(this.options.shared, exchange, state, now);
    return this.admitAndRun(exchange, state, now, undefined);
  }

  /**
   * before() where replicas count together: the shared ordinals and limit counts, asked in one call, take the
   * place of this replica's own. When the call fails, the exchange is counted here instead (each matched rule's
   * record says so): the ordinals this replica counted all along, and its own limiters, which count from the
   * first exchange Redis could not count (a limit admits up to its allowance again on each replica meanwhile).
   */
  private async beforeShared(shared: SharedChaosCounters, exchange: Exchange, state: ExchangeChaos, now: number): Promise<Reply | undefined> {
    const limits: SharedLimitRequest[] = [];
    for (const { runtime } of state.matched) {
      runtime.limiters.forEach((limiter, index) => {
        limits.push({ rule: runtime.rule.id, index, params: limiter.params, key: limiter.keyOf(exchange), window: limiter.windowAt(now), now });
      });
    }
    const request: SharedCountRequest = {
      activation: this.activation,
      ordinals: state.matched.map((m) => ({ rule: m.runtime.rule.id, client: exchange.client })),
      limits,
    };
    let counted: SharedCounts | undefined;
    try {
      counted = await shared.count(request);
    } catch {
      counted = undefined;
    }
    if (counted) {
      state.matched.forEach((m, i) => (m.ordinal = counted.ordinals[i]));
    } else {
      for (const { runtime } of state.matched) {
        exchange.faults.push({ rule: runtime.rule.id, kind: countedKind(runtime.rule), skipped: COUNTED_LOCALLY });
      }
    }
    return this.admitAndRun(exchange, state, now, counted && { activation: request.activation, limits, counts: counted });
  }

  /** The admission policies, then the before-faults; `shared`: the limits' shared counts (else counted here). */
  private admitAndRun(exchange: Exchange, state: ExchangeChaos, now: number, shared: SharedAdmission | undefined): Reply | undefined | Promise<Reply> {
    // admission policies, in order: counted on arrival, so limits are exact; the first refusal ends the stage
    let next = 0;
    for (const { runtime } of state.matched) {
      for (const limiter of runtime.limiters) {
        const admission = shared ? limiter.admitCounted(exchange, now, shared.limits[next].window, shared.counts.limits[next]) : limiter.admit(exchange, now);
        next++;
        state.headers = state.headers === NO_HEADERS ? { ...admission.headers } : Object.assign(state.headers, admission.headers);
        if (admission.refusal) {
          this.note(exchange, runtime, { rule: runtime.rule.id, kind: limiter.kind, params: { requests: limiter.params.requests, perMs: limiter.params.perMs } });
          const refused = this.decorate(exchange, admission.refusal);
          // a single replica counts no limit after a refusal; the shared count counted them all at once
          if (shared && next < shared.limits.length) return this.refund(shared.activation, shared.limits.slice(next)).then(() => refused);
          return refused;
        }
      }
    }
    if (!state.matched.some((m) => m.runtime.rule.faults.some((f) => f.kind.stage === 'before'))) return undefined;
    return this.runBefore(exchange, state);
  }

  /**
   * Gives back what the shared count took for limits after the refusing one. The refusal waits for it (a refusal
   * is in no hurry), so that the client's next request, to any replica, finds the limits as one replica would have
   * left them; other requests counted against those limits meanwhile see them one higher.
   */
  private refund(activation: string, limits: SharedLimitRequest[]): Promise<void> {
    return this.options.shared!.refund(activation, limits).catch(() => {
      // Redis went away meanwhile: those limits stay one request higher until the window ends or the bucket refills
    });
  }

  after(exchange: Exchange, reply: Reply): Reply {
    const state = exchange.chaos as ExchangeChaos | undefined;
    if (!state) return reply; // no rule matched: this is every request under calm
    let current = reply;
    for (const { runtime, ordinal } of state.matched) {
      const faults = runtime.rule.faults;
      for (let i = 0; i < faults.length; i++) {
        const fault = faults[i];
        if (fault.kind.stage !== 'after') continue;
        const ctx = this.draw(exchange, runtime, fault, i, ordinal);
        if (!ctx) continue;
        try {
          current = fault.kind.after!(ctx, fault.params, current);
          this.note(exchange, runtime, { rule: runtime.rule.id, kind: fault.kind.kind, params: ctx.record });
        } catch (err) {
          this.skip(exchange, runtime, fault, err);
        }
      }
    }
    const decorated = this.decorate(exchange, current);
    exchange.chaos = undefined; // done with it; a reply held for latency should not pin it
    return decorated;
  }

  /** for GET /__admin/chaos */
  describe(): Record<string, unknown> {
    const elapsed = this.elapsed();
    const phaseIndex = this.profile.phases.findIndex((p) => elapsed >= p.startMs && elapsed < p.endMs);
    const phase = this.profile.phases[phaseIndex];
    return {
      profile: { name: this.profile.name, description: this.profile.description, source: this.profile.source, notes: this.profile.notes },
      seed: this.seed,
      activatedAt: new Date(this.segments[0].at).toISOString(),
      elapsedMs: elapsed,
      // how the timeline got where it is: the activation (or restart), then every jump
      timeline: this.segments.map((s) => ({ at: new Date(s.at).toISOString(), elapsedMs: s.elapsedMs, cause: s.cause })),
      // when the timeline has run (a drill following it stops there); null when it never ends or nothing moves
      timelineEndMs: finiteOrNull(timelineEnd(this.profile)),
      phase: phase
        ? { index: phaseIndex, name: phase.name, startedMs: phase.startMs, endsInMs: Number.isFinite(phase.endMs) ? phase.endMs - elapsed : null }
        : null,
      rules: this.runtimes.map((rt) => ({
        id: rt.rule.id,
        phase: rt.phase,
        open: rt.isOpen(elapsed),
        matched: rt.matched,
        injected: Object.fromEntries(rt.injected),
        skipped: rt.skipped,
      })),
      // delivery chaos acts when an event is queued; what it injected is on each delivery (GET /__admin/deliveries)
      deliveries: this.profile.deliveries.map((r) => ({ id: r.id, faults: r.faults.map((f) => f.kind.kind) })),
      // what the drill must show (the report card judges them), as written
      expectations: this.profile.expectations.map((e) => e.written),
      text: this.profile.text,
    };
  }

  /**
   * GET /__admin/chaos where replicas share the workspace: describe(), with the rules' counters summed over every
   * replica (`counters: "all replicas"`). When Redis cannot answer, this replica's own (`counters: "this replica"`):
   * they are in the answer either way, and say whose they are. Without `shared`, describe() as it is.
   */
  async describeShared(): Promise<Record<string, unknown>> {
    const described = this.describe();
    const shared = this.options.shared;
    if (!shared) return described;
    let totals: Map<string, RuleTotals>;
    try {
      totals = await shared.totals(this.activation);
    } catch {
      return { ...described, counters: 'this replica' };
    }
    const rules = (described.rules as Array<Record<string, unknown>>).map((r) => {
      const t = totals.get(r.id as string);
      return { ...r, matched: t?.matched ?? 0, injected: t?.injected ?? {}, skipped: t?.skipped ?? 0 };
    });
    return { ...described, rules, counters: 'all replicas' };
  }

  private runBefore(exchange: Exchange, state: ExchangeChaos): Reply | undefined {
    for (const { runtime, ordinal } of state.matched) {
      const faults = runtime.rule.faults;
      for (let i = 0; i < faults.length; i++) {
        const fault = faults[i];
        if (fault.kind.stage !== 'before') continue;
        const ctx = this.draw(exchange, runtime, fault, i, ordinal);
        if (!ctx) continue;
        let answer: Reply | undefined | typeof PASS;
        try {
          answer = fault.kind.before!(ctx, fault.params);
        } catch (err) {
          this.skip(exchange, runtime, fault, err);
          continue;
        }
        if (answer === PASS) continue;
        this.note(exchange, runtime, { rule: runtime.rule.id, kind: fault.kind.kind, params: ctx.record });
        if (answer) return this.decorate(exchange, answer);
      }
    }
    return undefined;
  }

  /** The fault's random stream for this exchange, or undefined when its probability says no. */
  private draw(exchange: Exchange, runtime: RuleRuntime, fault: CompiledFault, index: number, ordinal: number): FaultContext | undefined {
    const random = seededRandom(this.seed, runtime.rule.id, index, exchange.client, ordinal);
    if (fault.probability < 1 && random() >= fault.probability) return undefined;
    return {
      exchange,
      random,
      ordinal,
      clock: this.options.clock,
      scheduler: this.options.scheduler,
      activatedAt: this.segments[0].at,
      record: { ...fault.written, ...(fault.probability < 1 ? { probability: fault.probability } : {}) },
    };
  }

  private note(exchange: Exchange, runtime: RuleRuntime, record: FaultRecord): void {
    exchange.faults.push(record);
    runtime.count(record.kind);
    this.options.shared?.tally(this.activation, runtime.rule.id, 'injected', record.kind);
  }

  private skip(exchange: Exchange, runtime: RuleRuntime, fault: CompiledFault, err: unknown): void {
    runtime.skipped++;
    exchange.faults.push({ rule: runtime.rule.id, kind: fault.kind.kind, skipped: err instanceof Error ? err.message : String(err) });
    this.options.shared?.tally(this.activation, runtime.rule.id, 'skipped');
  }

  /** policy headers, and the opt-in x-understudy-fault header */
  private decorate(exchange: Exchange, reply: Reply): Reply {
    const policyHeaders = (exchange.chaos as ExchangeChaos | undefined)?.headers;
    const applied = this.options.faultHeader ? exchange.faults.filter((f) => !f.skipped) : [];
    let hasPolicyHeaders = false;
    for (const _ in policyHeaders) {
      hasPolicyHeaders = true;
      break;
    }
    if (!hasPolicyHeaders && applied.length === 0) return reply;
    const headers = { ...reply.headers, ...policyHeaders };
    if (applied.length) headers['x-understudy-fault'] = applied.map((f) => `${f.rule}/${f.kind}`).join(', ');
    return { ...reply, headers };
  }
}
