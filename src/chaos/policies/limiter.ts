/**
 * Rule-level admission policies (rateLimit, quota): count a rule's matching requests per key (client, IP,
 * a header, or everyone) and refuse past the limit. Counting happens synchronously when the request arrives, so
 * a limit is exact under any concurrency: `100 per 1m` admits exactly 100. Where replicas share the workspace
 * (`--redis`), the count is kept in Redis (shared-counters.ts) and admitCounted() answers from it, with the same
 * refusal and headers.
 *
 * Two algorithms: a fixed window (counts reset at each window boundary, windows counted from activation) and a
 * token bucket (`requests` tokens, refilled continuously at requests/per). Two styles of refusal:
 *  ietf        429 + Retry-After + RateLimit / RateLimit-Policy (draft-ietf-httpapi-ratelimit-headers)
 *  salesforce  403 [{"errorCode":"REQUEST_LIMIT_EXCEEDED"}] and Sforce-Limit-Info: api-usage=used/limit on every
 *              response, as Salesforce's REST API answers when the daily allocation is spent (SALESFORCE.md §5)
 */
import type { Exchange, Reply } from '../../engine/exchange.js';
import { parseDuration } from '../../util/units.js';
import { systemError } from '../faults/fault.js';
import type { SharedLimitCount } from '../shared-counters.js';

export interface LimiterParams {
  requests: number;
  perMs: number;
  by: { kind: 'client' | 'ip' | 'global' } | { kind: 'header'; name: string };
  algorithm: 'window' | 'bucket';
  style: 'ietf' | 'salesforce';
}

export const LIMITER_SCHEMA = {
  type: 'object',
  required: ['requests', 'per'],
  properties: {
    requests: { type: 'integer', minimum: 1, maximum: 1e9 },
    per: { type: 'string', pattern: '^\\d+(\\.\\d+)?(ms|s|m|h|d)$' },
    by: { type: 'string', pattern: '^(client|ip|global|header:[A-Za-z0-9!#$%&\'*+.^_`|~-]+)$' },
    algorithm: { enum: ['window', 'bucket'] },
    style: { enum: ['ietf', 'salesforce'] },
  },
  additionalProperties: false,
} as const;

export function compileLimiter(raw: any, defaults: { by: string; algorithm: 'window' | 'bucket' }): LimiterParams {
  const by: string = raw.by ?? defaults.by;
  const perMs = parseDuration(raw.per);
  if (perMs < 1) throw new Error('per must be at least 1ms');
  return {
    requests: raw.requests,
    perMs,
    by: by.startsWith('header:') ? { kind: 'header', name: by.slice(7).toLowerCase() } : { kind: by as 'client' | 'ip' | 'global' },
    algorithm: raw.algorithm ?? defaults.algorithm,
    style: raw.style ?? 'ietf',
  };
}

/** keys kept per rule before old ones are dropped: a client minting identities cannot grow memory without bound */
const MAX_KEYS = 50_000;

export interface Admission {
  refusal?: Reply;
  /** headers every reply to this request carries (remaining allowance) */
  headers: Record<string, string>;
}

export class Limiter {
  private windows = new Map<string, { window: number; count: number }>();
  private buckets = new Map<string, { tokens: number; at: number }>();
  private epoch = 0;

  constructor(
    readonly ruleId: string,
    readonly kind: 'rateLimit' | 'quota',
    readonly params: LimiterParams,
  ) {}

  /** windows count from here (the profile's activation) */
  restart(now: number): void {
    this.windows.clear();
    this.buckets.clear();
    this.epoch = now;
  }

  /** Counts the exchange here, on this replica, and answers (the only counting without `--redis`). */
  admit(exchange: Exchange, now: number): Admission {
    const p = this.params;
    const key = this.keyOf(exchange);
    if (p.algorithm === 'window') {
      const window = this.windowAt(now);
      let slot = this.windows.get(key);
      if (!slot || slot.window !== window) {
        if (!slot && this.windows.size >= MAX_KEYS) this.windows.clear();
        slot = { window, count: 0 };
        this.windows.set(key, slot);
      }
      const admitted = slot.count < p.requests;
      if (admitted) slot.count++;
      return this.windowAnswer(exchange, now, window, admitted, slot.count);
    }
    const rate = p.requests / p.perMs; // tokens per ms
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= MAX_KEYS) this.buckets.clear();
      bucket = { tokens: p.requests, at: now };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(p.requests, bucket.tokens + (now - bucket.at) * rate);
    bucket.at = now;
    const admitted = bucket.tokens >= 1;
    if (admitted) bucket.tokens -= 1;
    return this.bucketAnswer(exchange, admitted, bucket.tokens);
  }

  /**
   * Answers from a count kept elsewhere (the replicas' shared count, shared-counters.ts): the same refusal and the
   * same headers as admit() gives for the same count.
   */
  admitCounted(exchange: Exchange, now: number, window: number, counted: SharedLimitCount): Admission {
    if (counted.algorithm === 'bucket') return this.bucketAnswer(exchange, counted.admitted, counted.tokens);
    // a window count includes refused requests (the shared counter counts every arrival): past the limit is refused
    const admitted = counted.count <= this.params.requests;
    return this.windowAnswer(exchange, now, window, admitted, Math.min(counted.count, this.params.requests));
  }

  /** the number of the fixed window `now` falls in, counted from the activation */
  windowAt(now: number): number {
    return Math.floor((now - this.epoch) / this.params.perMs);
  }

  /** what the limit is counted by for this exchange: the client, the IP, a header's value, or '' for everyone */
  keyOf(exchange: Exchange): string {
    const by = this.params.by;
    switch (by.kind) {
      case 'client':
        return exchange.client;
      case 'ip':
        return exchange.remoteAddress;
      case 'global':
        return '';
      case 'header': {
        const v = exchange.headers[by.name];
        return v === undefined ? '' : String(v);
      }
    }
  }

  private windowAnswer(exchange: Exchange, now: number, window: number, admitted: boolean, used: number): Admission {
    return this.answer(exchange, admitted, used, this.epoch + (window + 1) * this.params.perMs - now);
  }

  /** `tokens`: what the bucket holds after this request took its token (or found none) */
  private bucketAnswer(exchange: Exchange, admitted: boolean, tokens: number): Admission {
    const p = this.params;
    const rate = p.requests / p.perMs;
    const used = p.requests - Math.floor(tokens);
    return this.answer(exchange, admitted, used, admitted ? (p.requests - tokens) / rate : (1 - tokens) / rate);
  }

  private answer(exchange: Exchange, admitted: boolean, used: number, resetMs: number): Admission {
    const p = this.params;
    const remaining = Math.max(0, p.requests - used);
    const resetS = Math.max(1, Math.ceil(resetMs / 1000));
    const headers: Record<string, string> =
      p.style === 'salesforce'
        ? { 'sforce-limit-info': `api-usage=${used}/${p.requests}` }
        : { 'ratelimit-policy': `"${this.ruleId}";q=${p.requests};w=${Math.max(1, Math.round(p.perMs / 1000))}`, ratelimit: `"${this.ruleId}";r=${remaining};t=${resetS}` };
    if (admitted) return { headers };
    return { headers, refusal: this.refusal(exchange, resetS, headers) };
  }

  private refusal(exchange: Exchange, retryAfterS: number, headers: Record<string, string>): Reply {
    if (this.params.style === 'salesforce') {
      const body = JSON.stringify([{ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' }]);
      return { status: 403, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers }, body };
    }
    const what = this.kind === 'quota' ? 'quota' : 'rate limit';
    const reply = systemError(exchange, 429, `The ${what} of ${this.params.requests} requests per ${this.params.perMs / 1000} s is used up; retry after ${retryAfterS} s.`);
    Object.assign(reply.headers, headers, { 'retry-after': String(retryAfterS) });
    return reply;
  }
}
