/**
 * The journal's ring buffer: whatever the mix of entry sizes, the entries kept are exactly the newest ones that
 * fit both bounds, and each reads back as written.
 */
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../src/engine/exchange.js';
import { Journal } from '../../src/journal/journal.js';
import { seededRandom } from '../../src/util/seeded-random.js';

function exchange(n: number, bodySize: number): Exchange {
  return {
    id: 0,
    workspace: undefined as never,
    prefix: '',
    startedAt: 1_700_000_000_000 + n,
    startedHr: 0,
    method: 'POST',
    path: `/things/${n}`,
    rawQuery: n % 2 ? `page=${n}` : '',
    headers: {},
    rawHeaders: ['Host', 'example', 'X-N', String(n)],
    body: Buffer.alloc(bodySize, 0x61 + (n % 26)),
    remoteAddress: '127.0.0.1',
    client: `client-${n % 3}`,
    faults: n % 5 === 0 ? [{ rule: 'r1', kind: 'latency' }] : [],
    contractErrors: [],
    effects: [],
    delayMs: 0,
  };
}

function record(journal: Journal, n: number, bodySize: number): number {
  return journal.record(exchange(n, bodySize), {
    status: 200 + (n % 3),
    responseHeaders: { 'content-type': 'text/plain', 'x-n': n },
    responseBody: `reply ${n}`,
    responseBytes: `reply ${n}`.length,
    endedAt: 1_700_000_000_000 + n + 1,
    durationMs: 1,
  });
}

describe('journal ring', () => {
  // 200 entries: the index is full from the start; 3,000: it grows (from 1,024) while chunk evictions have already
  // wrapped it, so growing must keep the entries in order
  it.each([
    [200, 64 * 1024, 5000, 1],
    [3000, 4 * 1024 * 1024, 12000, 1025],
  ])('keeps exactly the newest entries that fit, each intact, across many wraps (maxEntries %i)', (maxEntries, maxBytes, count, atLeastOnce) => {
    let most = 0;
    const journal = new Journal('ws', { maxEntries, maxBytes, bodyBytes: 4096 });
    const next = seededRandom(1, 'ring');
    const sizes: number[] = [];
    for (let n = 1; n <= count; n++) {
      const size = Math.floor(next() * next() * 6000);
      sizes.push(size);
      expect(record(journal, n, size)).toBe(n);

      if (n % 97 === 0 || n === count) {
        const { entries, total } = journal.query({ limit: maxEntries });
        expect(total).toBe(journal.length);
        const ids = entries.map((e) => e.id);
        // a contiguous run of the newest ids, never more than maxEntries
        expect(ids[0]).toBe(n);
        expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => n - i));
        expect(ids.length).toBeLessThanOrEqual(maxEntries);
        most = Math.max(most, ids.length);
        // the kept entries' bytes stay within the bound
        for (const id of [ids[0], ids[ids.length - 1], ids[Math.floor(ids.length / 2)]]) {
          const e = journal.get(id)!;
          expect(e.path).toBe(`/things/${id}`);
          expect(e.requestBytes).toBe(sizes[id - 1]);
          expect(e.requestBody.length).toBe(Math.min(sizes[id - 1], 4096));
          expect(e.requestBody.every((b) => b === 0x61 + (id % 26))).toBe(true);
          expect(e.requestHeaders).toEqual(['Host', 'example', 'X-N', String(id)]);
          expect(e.responseHeaders).toEqual(['content-type', 'text/plain', 'x-n', String(id)]);
          expect(e.responseBody.toString()).toBe(`reply ${id}`);
          expect(e.faults).toEqual(id % 5 === 0 ? [{ rule: 'r1', kind: 'latency' }] : []);
        }
        // an entry older than the run has been evicted
        if (ids.length < n) expect(journal.get(ids[ids.length - 1] - 1)).toBeUndefined();
      }
    }
    // as many entries as fit were kept at some point: the index grew past its initial 1,024 slots when it had to
    expect(most).toBeGreaterThanOrEqual(atLeastOnce);
  });

  it('holds up to maxEntries small entries and pages through them', () => {
    const journal = new Journal('ws', { maxEntries: 50, maxBytes: 1024 * 1024, bodyBytes: 1024 });
    for (let n = 1; n <= 120; n++) record(journal, n, 10);
    expect(journal.length).toBe(50);
    const first = journal.query({ limit: 30 });
    expect(first.entries[0].id).toBe(120);
    expect(first.nextCursor).toBe(91);
    const rest = journal.query({ limit: 30, before: first.nextCursor! });
    expect(rest.entries.map((e) => e.id)).toEqual(Array.from({ length: 20 }, (_, i) => 90 - i));
    expect(rest.nextCursor).toBeNull();
    expect(journal.query({ limit: 100, client: 'client-0', status: (s) => s === 200 }).entries.every((e) => e.id % 3 === 0)).toBe(true);
  });

  it('cuts bodies at the body limit without splitting a character, keeping the full size', () => {
    const journal = new Journal('ws', { maxEntries: 10, maxBytes: 1024 * 1024, bodyBytes: 5 });
    const ex = exchange(1, 0);
    ex.body = Buffer.from('ééééé'); // 10 bytes
    journal.record(ex, { status: 200, responseHeaders: {}, responseBody: 'ééé', responseBytes: 6, endedAt: 0, durationMs: 0 });
    const e = journal.get(1)!;
    expect(e.requestBytes).toBe(10);
    expect(e.requestBody.length).toBe(5);
    expect(e.responseBytes).toBe(6);
    expect(e.responseBody.toString()).toBe('éé');
  });
});
