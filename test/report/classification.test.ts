/**
 * The report card's judgement on attempts built by hand: grouping into logical requests and the retry-strategy
 * classifier, on shapes whose answer is known (the reference-client tests drive the same code through real
 * clients and sockets; these pin the edges those cannot reach deterministically).
 */
import { describe, expect, it } from 'vitest';
import type { Attempt } from '../../src/report/attempts.js';
import { attemptOf } from './attempt-fixture.js';
import { classify } from '../../src/report/checks/retry-strategy.js';
import { groupLogicalRequests, type LogicalRequest } from '../../src/report/logical-requests.js';

/** a failed reservation POST (a 503) starting at `start`, unless `fields` say otherwise */
function attempt(start: number, fields: Partial<Attempt> = {}): Attempt {
  return attemptOf({ start, end: start + 5, status: 503, operation: 'createReservation', method: 'POST', safe: false, fingerprint: 'body', failed: true, ...fields });
}

/** logical requests whose retries come at these offsets (ms after the first attempt's end), the last one succeeding */
function requests(offsetsPerRequest: number[][]): LogicalRequest[] {
  const attempts: Attempt[] = [];
  let t = 0;
  offsetsPerRequest.forEach((offsets, i) => {
    const first = attempt(t, { fingerprint: `order-${i}` });
    attempts.push(first);
    offsets.forEach((o, k) => attempts.push(attempt(first.end + o, { fingerprint: `order-${i}`, failed: k < offsets.length - 1, status: k < offsets.length - 1 ? 503 : 201 })));
    t = first.end + (offsets.at(-1) ?? 0) + 1000;
  });
  return groupLogicalRequests(attempts);
}

describe('logical requests', () => {
  it('continues a request by key, by body with the key left out, and closes it on success', () => {
    const a1 = attempt(0, { key: 'K1', fingerprint: 'f' });
    const a2 = attempt(100, { key: 'K1', fingerprint: 'other' }); // same key, body differs: still the same request
    const a3 = attempt(300, { key: 'K2', fingerprint: 'other' }); // new key, same body as a2: re-minted key
    const a4 = attempt(600, { key: 'K3', fingerprint: 'other', failed: false, status: 201 });
    const a5 = attempt(900, { key: 'K3', fingerprint: 'other' }); // after a success: a new request (a replay)
    const grouped = groupLogicalRequests([a1, a2, a3, a4, a5]);
    expect(grouped.map((r) => r.attempts.map((a) => a.id))).toEqual([[a1.id, a2.id, a3.id, a4.id], [a5.id]]);
  });

  it('does not join different orders, other clients, other operations, or attempts beyond the retry window', () => {
    const a = attempt(0, { fingerprint: 'order-1' });
    const b = attempt(10, { fingerprint: 'order-2' });
    const c = attempt(20, { fingerprint: 'order-1', client: 'other' });
    const d = attempt(30, { fingerprint: 'order-1', operation: 'createShipment' });
    const e = attempt(200_000, { fingerprint: 'order-1' });
    expect(groupLogicalRequests([a, b, c, d, e])).toHaveLength(5);
    expect(groupLogicalRequests([a, e], 300_000)).toHaveLength(1);
  });
});

describe('retry.strategy classification', () => {
  it('immediate: the first retry within 100 ms of the failure', () => {
    expect(classify(requests([[10, 20, 30], [15, 25, 40], [5, 15, 30]]))?.strategy).toBe('immediate');
  });

  it('none: failures never retried', () => {
    const grouped = groupLogicalRequests([attempt(0, { fingerprint: 'a' }), attempt(1000, { fingerprint: 'b' })]);
    expect(classify(grouped)).toEqual({ strategy: 'none', jitter: null, medians: [] });
  });

  it('constant, linear and exponential, without jitter', () => {
    const same = (offsets: number[]) => [offsets, offsets, offsets];
    expect(classify(requests(same([300, 600, 900, 1200, 1500])))).toMatchObject({ strategy: 'constant', jitter: false });
    expect(classify(requests(same([200, 600, 1200, 2000, 3000])))).toMatchObject({ strategy: 'linear', jitter: false });
    expect(classify(requests(same([200, 600, 1400, 3000, 6200])))).toMatchObject({ strategy: 'exponential', jitter: false });
  });

  it('exponential with decorrelated jitter: nearly equal first waits, any one near zero, the medians still double', () => {
    // waits drawn like cockatiel's default generator: ~0.9, 1.1, 2, 4, 8 x the initial delay, each spread widely
    const jittered = [
      [20, 380, 700, 1500, 3300],
      [260, 450, 900, 1700, 3100],
      [180, 300, 760, 1300, 2900],
      [240, 520, 1000, 1900, 3600],
    ];
    expect(classify(requests(jittered))).toMatchObject({ strategy: 'exponential', jitter: true });
  });

  it('n/a without a failure', () => {
    expect(classify(groupLogicalRequests([attempt(0, { failed: false, status: 200 })]))).toBeUndefined();
  });
});
