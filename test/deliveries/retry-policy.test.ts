/**
 * The retry policy of deliveries: equal jitter (each wait in [d/2, d], d = min(cap, base·factor^(n-1))) counted
 * from the previous attempt's answer, Retry-After winning when longer, dead after maxAttempts or past maxAge; and
 * the parsing of `retry:` maps (config file, admin API), every bad value refused with the key it is about.
 * Draws are passed in, so the bounds are checked with the extreme draws (0 and just under 1) and a seeded spread.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, formatDuration, formatPolicy, nextAttemptAt, parseRetryPolicy, type RetryPolicy } from '../../src/deliveries/retry-policy.js';
import { seededRandom } from '../../src/util/seeded-random.js';

const HOUR = 3_600_000;
const LOW = () => 0;
const HIGH = () => 1 - Number.EPSILON;

/** no age limit to speak of, so that only the backoff is under test */
const AGELESS: RetryPolicy = { ...DEFAULT_RETRY, maxAgeMs: 1_000 * 24 * HOUR };

/** the wait before retry n (n attempts made), answered at t = 1000 */
function waitFor(policy: RetryPolicy, n: number, random: () => number, retryAfterMs?: number): number | undefined {
  const at = nextAttemptAt(policy, n, 1_000, 0, random, retryAfterMs);
  return at === undefined ? undefined : at - 1_000;
}

describe('DEFAULT_RETRY', () => {
  it('is the documented { base: 1s, factor: 2, cap: 2h, maxAttempts: 25, maxAge: 24h }', () => {
    expect(DEFAULT_RETRY).toEqual({ baseMs: 1_000, factor: 2, capMs: 2 * HOUR, maxAttempts: 25, maxAgeMs: 24 * HOUR });
    expect(formatPolicy(DEFAULT_RETRY)).toEqual({ base: '1s', factor: 2, cap: '2h', maxAttempts: 25, maxAge: '24h' });
    expect(Object.isFrozen(DEFAULT_RETRY)).toBe(true);
  });
});

describe('nextAttemptAt', () => {
  it('waits between d/2 and d before retry n, d = base·factor^(n-1), counted from the last answer', () => {
    for (let n = 1; n <= 12; n++) {
      const d = 1_000 * 2 ** (n - 1);
      expect(waitFor(AGELESS, n, LOW), `n=${n}`).toBe(d / 2);
      expect(waitFor(AGELESS, n, HIGH), `n=${n}`).toBe(d);
      const random = seededRandom(7, 'spread', n);
      for (let i = 0; i < 200; i++) {
        const w = waitFor(AGELESS, n, random)!;
        expect(Number.isInteger(w)).toBe(true);
        expect(w).toBeGreaterThanOrEqual(d / 2);
        expect(w).toBeLessThanOrEqual(d);
      }
    }
    // the answer's time, not the attempt's start or the event's, is where the wait starts
    expect(nextAttemptAt(AGELESS, 1, 50_000, 0, LOW)).toBe(50_500);
  });

  it('a jittered wait is spread over the range, not stuck at one end', () => {
    const random = seededRandom(3, 'jitter');
    const waits = Array.from({ length: 400 }, () => waitFor(AGELESS, 5, random)!);
    // d = 16 s: both halves of [8 s, 16 s] are used
    expect(waits.some((w) => w < 12_000)).toBe(true);
    expect(waits.some((w) => w > 12_000)).toBe(true);
  });

  it('stays within [d/2, d] in whole ms when factor makes d fractional', () => {
    const policy: RetryPolicy = { ...AGELESS, baseMs: 3, factor: 1.5 };
    for (let n = 1; n <= 10; n++) {
      const d = 3 * 1.5 ** (n - 1);
      for (const random of [LOW, HIGH, () => 0.5]) {
        const w = waitFor(policy, n, random)!;
        expect(Number.isInteger(w)).toBe(true);
        expect(w, `n=${n}`).toBeGreaterThanOrEqual(d / 2);
        expect(w, `n=${n}`).toBeLessThanOrEqual(d);
      }
    }
  });

  it('reaches the cap and stays there', () => {
    // 1 s · 2^13 = 8192 s > 2 h: from retry 14 on, d is the cap
    expect(waitFor(AGELESS, 13, HIGH)).toBe(4_096_000);
    for (const n of [14, 15, 20, 24]) {
      expect(waitFor(AGELESS, n, LOW)).toBe(HOUR);
      expect(waitFor(AGELESS, n, HIGH)).toBe(2 * HOUR);
    }
    // factor^(n-1) overflowing to Infinity is absorbed by the cap
    const long: RetryPolicy = { ...AGELESS, factor: 10, maxAttempts: 1000 };
    expect(waitFor(long, 999, HIGH)).toBe(2 * HOUR);
  });

  it('is dead (undefined) once maxAttempts attempts were made', () => {
    const policy: RetryPolicy = { ...AGELESS, maxAttempts: 3 };
    expect(waitFor(policy, 1, LOW)).toBe(500);
    expect(waitFor(policy, 2, LOW)).toBe(1_000);
    expect(waitFor(policy, 3, LOW)).toBeUndefined();
    expect(waitFor(policy, 4, LOW)).toBeUndefined();
    expect(waitFor({ ...AGELESS, maxAttempts: 1 }, 1, LOW)).toBeUndefined();
    expect(waitFor(DEFAULT_RETRY, 24, LOW)).toBeDefined();
    expect(waitFor(DEFAULT_RETRY, 25, LOW)).toBeUndefined();
  });

  it('is dead when the next attempt would start later than eventAt + maxAge', () => {
    const policy: RetryPolicy = { ...DEFAULT_RETRY, maxAgeMs: 60_000 };
    const eventAt = 1_000_000;
    // retry 3: d = 4 s, LOW waits 2 s; an answer at eventAt + 58 s puts the next attempt exactly at maxAge: allowed
    expect(nextAttemptAt(policy, 3, eventAt + 58_000, eventAt, LOW)).toBe(eventAt + 60_000);
    expect(nextAttemptAt(policy, 3, eventAt + 58_001, eventAt, LOW)).toBeUndefined();
    // the jitter decides it near the edge: the short draw fits, the long one does not
    expect(nextAttemptAt(policy, 3, eventAt + 57_000, eventAt, LOW)).toBe(eventAt + 59_000);
    expect(nextAttemptAt(policy, 3, eventAt + 57_000, eventAt, HIGH)).toBeUndefined();
    // with attempts to spare, a delivery that fails every time (answered at once) under the default backoff is
    // dead at 24 h: its last attempt within the final cap's reach of the limit, none after it
    const many: RetryPolicy = { ...DEFAULT_RETRY, maxAttempts: 1000 };
    let at = 0;
    let n = 1;
    const random = seededRandom(1, 'age');
    for (;;) {
      const next = nextAttemptAt(many, n, at, 0, random);
      if (next === undefined) break;
      expect(next).toBeLessThanOrEqual(24 * HOUR);
      at = next;
      n++;
    }
    expect(n).toBeGreaterThan(25);
    expect(n).toBeLessThan(1000);
    expect(at).toBeGreaterThan(24 * HOUR - 2 * HOUR);
  });

  it("a receiver's Retry-After wins when it asks for longer, and only then", () => {
    expect(waitFor(AGELESS, 1, HIGH, 30_000)).toBe(30_000);
    expect(waitFor(AGELESS, 1, HIGH, 200)).toBe(1_000);
    expect(waitFor(AGELESS, 10, LOW, 0)).toBe(256_000);
    // and cannot stretch a delivery past maxAge
    expect(nextAttemptAt({ ...DEFAULT_RETRY, maxAgeMs: 60_000 }, 1, 0, 0, LOW, 61_000)).toBeUndefined();
  });

  it('refuses an attempt count that is not a count of attempts made', () => {
    expect(() => nextAttemptAt(DEFAULT_RETRY, 0, 0, 0, LOW)).toThrow(RangeError);
    expect(() => nextAttemptAt(DEFAULT_RETRY, 1.5, 0, 0, LOW)).toThrow(/attemptsMade/);
  });
});

describe('parseRetryPolicy', () => {
  it('overrides only what is given, over the base it is handed', () => {
    expect(parseRetryPolicy({ cap: '10m', maxAttempts: 5 }, DEFAULT_RETRY)).toEqual({ value: { ...DEFAULT_RETRY, capMs: 600_000, maxAttempts: 5 } });
    const config: RetryPolicy = { ...DEFAULT_RETRY, baseMs: 250 };
    expect(parseRetryPolicy({ factor: 1.5 }, config)).toEqual({ value: { ...config, factor: 1.5 } });
    expect(parseRetryPolicy({}, config)).toEqual({ value: config });
    expect(parseRetryPolicy(undefined, config)).toEqual({ value: config });
    expect(parseRetryPolicy(null, config)).toEqual({ value: config });
    // the base is not changed in place
    expect(config.baseMs).toBe(250);
  });

  it('reads back what formatPolicy writes', () => {
    const policy: RetryPolicy = { baseMs: 1_500, factor: 3, capMs: 90 * 60_000, maxAttempts: 7, maxAgeMs: 3 * 24 * HOUR };
    expect(formatPolicy(policy)).toEqual({ base: '1500ms', factor: 3, cap: '90m', maxAttempts: 7, maxAge: '3d' });
    expect(parseRetryPolicy(formatPolicy(policy), DEFAULT_RETRY)).toEqual({ value: policy });
    expect(formatDuration(86_400_000)).toBe('24h');
    expect(formatDuration(30_000)).toBe('30s');
  });

  it('lists every problem with the key it is about', () => {
    const result = parseRetryPolicy(
      { base: 'fast', cap: 7200, maxAge: '0s', factor: 0.5, maxAttempts: 2.5, jitter: 'full' },
      DEFAULT_RETRY,
    );
    expect(result).toEqual({
      errors: [
        { path: 'jitter', message: 'unknown retry setting; use base, factor, cap, maxAttempts, maxAge' },
        { path: 'base', message: 'must be a duration such as 250ms, 5s, 2m, 1h or 1d' },
        { path: 'cap', message: 'must be a duration such as 250ms, 5s, 2m, 1h or 1d' },
        { path: 'maxAge', message: 'must be above 0' },
        { path: 'factor', message: 'must be a number from 1 to 10' },
        { path: 'maxAttempts', message: 'must be a whole number from 1 to 1000' },
      ],
    });
  });

  it('refuses each bad value on its own', () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [{ base: '0s' }, 'base', /above 0/],
      [{ base: '1 second' }, 'base', /duration/],
      [{ maxAge: 86400 }, 'maxAge', /duration/],
      [{ factor: 11 }, 'factor', /from 1 to 10/],
      [{ factor: '2' }, 'factor', /from 1 to 10/],
      [{ maxAttempts: 0 }, 'maxAttempts', /1 to 1000/],
      [{ maxAttempts: 1001 }, 'maxAttempts', /1 to 1000/],
      [{ maxAttempts: '5' }, 'maxAttempts', /1 to 1000/],
      [{ cap: '500ms' }, 'cap', /cap \(500ms\) is below base \(1s\)/],
      [{ base: '3h' }, 'base', /cap \(2h\) is below base \(3h\)/],
      [{ Base: '1s' }, 'Base', /unknown retry setting/],
    ];
    for (const [raw, path, message] of cases) {
      const result = parseRetryPolicy(raw, DEFAULT_RETRY);
      expect(result, JSON.stringify(raw)).toEqual({ errors: [{ path, message: expect.stringMatching(message) }] });
    }
  });

  it('refuses what is not a map', () => {
    for (const raw of ['1s', 5, [1, 2], true]) {
      expect(parseRetryPolicy(raw, DEFAULT_RETRY)).toEqual({ errors: [{ path: '', message: expect.stringMatching(/retry is a map/) }] });
    }
  });
});
