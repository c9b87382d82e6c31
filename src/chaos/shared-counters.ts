/**
 * What the chaos stage counts, when several replicas serve one workspace (`--redis`, issue #15): the seam between
 * the ChaosEngine (chaos-stage.ts), which decides, and a store every replica shares (replicas/redis-chaos-counters.ts),
 * which only counts.
 *
 * Two kinds of count leave the replica:
 *  - the ordinal of (rule, client): how many earlier requests of that client the rule matched. It drives
 *    failFirst/succeedFirst and seeds every fault's draw, so counted in one place the same client meets the same
 *    fault sequence whichever replica it reaches;
 *  - the rule's admission limits (rateLimit, quota), so that `100 per 1m` admits 100 across all replicas.
 *
 * Everything one exchange needs is asked in one call (one round trip), and only for an exchange some rule matched:
 * a calm profile never calls it. The rules' counters of GET /__admin/chaos (matched, injected, skipped) are summed
 * there too, so that any replica's answer covers all of them. The engine keeps counting on its own as well, and falls back to that count for an
 * exchange whose call fails (the store unreachable): a request is never refused or held for want of Redis.
 */
import type { LimiterParams } from './policies/limiter.js';

export interface SharedCountRequest {
  /**
   * Which activation of which profile the counts belong to (the activation's clock time and a digest of the
   * profile): a restarted timeline or another profile counts from zero, as a single replica does.
   */
  activation: string;
  /** (rule, client) pairs whose next ordinal this exchange takes, in the order of `SharedCounts.ordinals` */
  ordinals: ReadonlyArray<{ rule: string; client: string }>;
  /** the admission limits this exchange is counted against, in the order of `SharedCounts.limits` */
  limits: readonly SharedLimitRequest[];
}

export interface SharedLimitRequest {
  /** the rule's id and the limit's place among the rule's limits: together they name the limit */
  rule: string;
  index: number;
  params: LimiterParams;
  /** what the limit is counted by for this exchange: the client, the IP, a header's value, '' for everyone */
  key: string;
  /** fixed window: the window's number since the activation (Limiter.windowAt) */
  window: number;
  /** token bucket: the time of the request, on the clock the replicas share */
  now: number;
}

/** A limit's count after this exchange was counted. */
export type SharedLimitCount =
  /** fixed window: requests counted in the window, this one included (refused ones too, so it may pass the limit) */
  | { algorithm: 'window'; count: number }
  /** token bucket: whether a token was taken, and the tokens left after */
  | { algorithm: 'bucket'; admitted: boolean; tokens: number };

export interface SharedCounts {
  /** the ordinal each requested (rule, client) took: 0 for the client's first request the rule matched */
  ordinals: number[];
  limits: SharedLimitCount[];
}

export interface SharedChaosCounters {
  /** Counts one exchange. Rejects when the shared store cannot answer (the engine then counts on its own). */
  count(request: SharedCountRequest): Promise<SharedCounts>;
  /**
   * Takes back the count of limits that a refusal by an earlier limit came before. A single replica checks an
   * exchange's limits in order and counts none after the first refusal; count() counts them all in one round trip,
   * so the engine gives these back before it sends the refusal (until then, another replica sees them one higher).
   */
  refund(activation: string, limits: readonly SharedLimitRequest[]): Promise<void>;
  /**
   * Adds one to a rule's counter of GET /__admin/chaos, summed over replicas: `injected` (with the kind) or
   * `skipped`. In the background, never failing; count() adds to `matched` itself, in its round trip.
   */
  tally(activation: string, rule: string, counter: 'injected' | 'skipped', kind?: string): void;
  /** Every rule's counters, summed over replicas (rules that no replica counted yet are absent). */
  totals(activation: string): Promise<Map<string, RuleTotals>>;
}

export interface RuleTotals {
  matched: number;
  injected: Record<string, number>;
  skipped: number;
}

/** the note a fault record carries when the shared store could not count an exchange */
export const COUNTED_LOCALLY = 'Redis unreachable: counted on this replica only';
