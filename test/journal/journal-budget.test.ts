/**
 * The journals' shared memory budget (limits.journalTotalBytes, src/journal/budget.ts): a journal grows only while
 * the budget allows, then keeps its newest entries in the chunks it has; every journal keeps at least one chunk;
 * a forgotten workspace gives its chunks back; and through the server, many busy workspaces stay within it.
 */
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../src/engine/exchange.js';
import { JournalBudget } from '../../src/journal/budget.js';
import { Journal } from '../../src/journal/journal.js';
import { call, start } from '../helpers.js';

const KB = 1024;

function record(journal: Journal, n: number): number {
  const exchange = {
    id: 0, workspace: undefined as never, prefix: '', startedAt: 1_700_000_000_000 + n, startedHr: 0, method: 'GET',
    path: `/things/${n}`, rawQuery: '', headers: {}, rawHeaders: ['Host', 'x'], body: undefined, remoteAddress: '127.0.0.1',
    client: 'c', faults: [], contractErrors: [], effects: [], delayMs: 0,
  } as unknown as Exchange;
  const body = 'x'.repeat(3 * KB);
  return journal.record(exchange, { status: 200, responseHeaders: {}, responseBody: body, responseBytes: body.length, endedAt: 0, durationMs: 1 });
}

/** ids of the entries kept, newest first */
function kept(journal: Journal): number[] {
  return journal.query({ limit: 1000 }).entries.map((e) => e.id);
}

describe('journal budget', () => {
  // 240 KB journals: 10 chunks of 24 KB (a chunk holds two full 4 KB bodies and 16 KB more)
  const limits = { maxEntries: 10_000, maxBytes: 256 * KB, bodyBytes: 4 * KB };
  const CHUNK = 24 * KB;

  it('lets one journal grow to its own bound when the budget allows', () => {
    const budget = new JournalBudget(1024 * KB);
    const journal = new Journal('a', limits, budget);
    for (let n = 1; n <= 400; n++) record(journal, n);
    expect(journal.memoryBytes).toBe(10 * CHUNK);
    expect(budget.usedBytes).toBe(10 * CHUNK);
    const ids = kept(journal);
    expect(ids[0]).toBe(400);
    expect(ids).toEqual([...Array(ids.length).keys()].map((i) => 400 - i));
  });

  it('keeps a second journal to what is left, newest entries first and contiguous, and gives memory back on release', () => {
    const budget = new JournalBudget(12 * CHUNK + 4 * KB);
    const first = new Journal('a', limits, budget);
    const second = new Journal('b', limits, budget);
    for (let n = 1; n <= 400; n++) record(first, n);
    for (let n = 1; n <= 400; n++) record(second, n);
    // the first took its 10 chunks; the second its first chunk (always) and the one the budget had left
    expect(first.memoryBytes).toBe(10 * CHUNK);
    expect(second.memoryBytes).toBe(2 * CHUNK);
    const a = kept(first);
    const b = kept(second);
    expect(b.length).toBeLessThan(a.length / 3);
    expect(b[0]).toBe(400);
    expect(b).toEqual([...Array(b.length).keys()].map((i) => 400 - i));

    first.release();
    expect(kept(first)).toEqual([]);
    expect(budget.usedBytes).toBe(2 * CHUNK);
    // with room again, the second grows past where it was stuck, keeping every entry in order
    for (let n = 401; n <= 800; n++) record(second, n);
    expect(second.memoryBytes).toBe(10 * CHUNK);
    const grown = kept(second);
    expect(Math.abs(grown.length - a.length)).toBeLessThanOrEqual(1); // as many as the first held (chunk boundaries fall differently)
    expect(grown).toEqual([...Array(grown.length).keys()].map((i) => 800 - i));
  });
});

describe('journal budget through the server', () => {
  it('bounds the journals of many workspaces together, each still answering its newest entries', async () => {
    const s = await start({ limits: { journalBytes: 256 * KB, journalBodyBytes: 32 * KB, journalTotalBytes: 512 * KB } });
    for (let w = 0; w < 8; w++) {
      for (let i = 0; i < 40; i++) await call(`${s.url}/w/budget-${w}/wms/v1/changes?limit=50`);
    }
    const last = (await call(`${s.url}/w/budget-7/__admin/journal?limit=1`)).body.entries[0];
    expect(last.operation).toBe('listChanges');
    const memory = s.workspaces.list().reduce((sum, w) => sum + w.journal.memoryBytes, 0);
    // 8 journals could take 2 MB on their own bounds; together they stay within the budget plus a chunk each
    expect(memory).toBeLessThanOrEqual(512 * KB + 8 * 80 * KB);
    expect(memory).toBeGreaterThan(0);
  });
});
