/**
 * The journal's shared mode (replicas, journal/shared-journal.ts), without Redis: a journal attached to a shared
 * journal hands what it records over as records of their own instead of keeping them, and its ring becomes a copy
 * that takes entries under the ids the stream gave them. And the codec's relinking of entry links (auth.refreshOf,
 * replayOf), which the Redis stream applies as it appends. The Redis side is test/replicas/journal.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { AuthRecord, Exchange } from '../../src/engine/exchange.js';
import { decodeEntry, isRecord, relinkRecord } from '../../src/journal/entry-codec.js';
import { Journal, type JournalLimits } from '../../src/journal/journal.js';
import type { SharedJournal } from '../../src/journal/shared-journal.js';

const LIMITS: JournalLimits = { maxEntries: 100, maxBytes: 1024 * 1024, bodyBytes: 1024 };

function exchange(n: number, auth?: AuthRecord): Exchange {
  return {
    id: 0,
    workspace: undefined as never,
    prefix: '',
    startedAt: 1_700_000_000_000 + n,
    startedHr: 0,
    method: 'POST',
    path: `/things/${n}`,
    rawQuery: '',
    headers: {},
    rawHeaders: ['Host', 'example'],
    body: Buffer.from(`body ${n} é`),
    remoteAddress: '127.0.0.1',
    client: `client-${n}`,
    auth,
    faults: [],
    contractErrors: [],
    effects: [],
    delayMs: 0,
  };
}

function record(journal: Journal, ex: Exchange, status = 200): number {
  return journal.record(ex, { status, responseHeaders: { 'content-type': 'text/plain' }, responseBody: 'ok', responseBytes: 2, endedAt: ex.startedAt + 1, durationMs: 1 });
}

/** a shared journal that only keeps what it is handed and counts rewinds */
class Recorder implements SharedJournal {
  readonly handed: Array<{ localId: number; bytes: Buffer }> = [];
  rewinds = 0;
  recorded(localId: number, bytes: Buffer): void {
    this.handed.push({ localId, bytes: Buffer.from(bytes) });
  }
  attach(journal: Journal): void {
    journal.shareThrough(this);
  }
  catchUp(): Promise<void> {
    return Promise.resolve();
  }
  rewind(): void {
    this.rewinds++;
  }
  clear(): Promise<void> {
    return Promise.resolve();
  }
  status() {
    return { waiting: 0, lost: 0 };
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function shared(): { journal: Journal; recorder: Recorder } {
  const journal = new Journal('ws', LIMITS);
  const recorder = new Recorder();
  recorder.attach(journal);
  return { journal, recorder };
}

describe('journal, shared by replicas', () => {
  it('hands each entry over as a record of its own, under ids of its own, and keeps none in the ring', () => {
    const { journal, recorder } = shared();
    const first = exchange(1);
    expect(record(journal, first, 201)).toBe(1);
    expect(first.id).toBe(1);
    record(journal, exchange(2));
    expect(journal.length).toBe(0);
    expect(recorder.handed.map((h) => h.localId)).toEqual([1, 2]);
    const bytes = recorder.handed[0].bytes;
    // exactly one record, no trailing bytes of whatever the allocation held
    expect(isRecord(bytes)).toBe(true);
    const entry = decodeEntry(bytes, 0, 7, 'ws', true);
    expect([entry.path, entry.client, entry.status, entry.requestBody.toString()]).toEqual(['/things/1', 'client-1', 201, 'body 1 é']);
  });

  it('not shared, a journal needs no catching up (nothing to wait for)', () => {
    expect(new Journal('ws', LIMITS).catchUp()).toBeUndefined();
  });

  it('its ring takes the stream\'s entries in order under the stream\'s ids, and refuses what is older or not a record', () => {
    const { journal, recorder } = shared();
    for (let n = 1; n <= 3; n++) record(journal, exchange(n));
    const [one, two, three] = recorder.handed.map((h) => h.bytes);
    expect(journal.merge(10, one)).toBe(true);
    expect(journal.merge(12, two)).toBe(true);
    expect(journal.merge(11, three)).toBe(false);
    expect(journal.merge(13, Buffer.from('not a record'))).toBe(false);
    expect(journal.merge(13, Buffer.concat([three, Buffer.from([0])]))).toBe(false);
    expect(journal.merge(14, three)).toBe(true);
    expect(journal.query({ limit: 10 }).entries.map((e) => [e.id, e.path])).toEqual([
      [14, '/things/3'],
      [12, '/things/2'],
      [10, '/things/1'],
    ]);
    expect(journal.get(12)?.client).toBe('client-2');
    expect(journal.query({ limit: 1, before: 14 }).entries[0].id).toBe(12);

    // a reset elsewhere cleared the stream up to 12
    journal.dropThrough(12);
    expect(journal.query({ limit: 10 }).entries.map((e) => e.id)).toEqual([14]);
    // cleared here: the copy is emptied, and the shared journal told to read the stream again
    journal.clear();
    expect(journal.length).toBe(0);
    expect(recorder.rewinds).toBe(1);
  });

  it('relinking changes the ids an entry links to, drops a link with no id, and leaves an entry without links alone', () => {
    const { journal, recorder } = shared();
    const auth: AuthRecord = { grant: 'client_credentials', method: 'bearer', scopes: ['a'], required: ['a'], flags: ['insecure-flow'] };
    const refused = exchange(1, auth);
    record(journal, refused, 401);
    record(journal, exchange(2, { ...auth, refreshOf: refused }));
    record(journal, exchange(3, { ...auth, refreshOf: refused, replayOf: refused }));
    const [plain, refresh, both] = recorder.handed.map((h) => h.bytes);

    expect(relinkRecord(plain, () => 99)).toBeUndefined();
    const relinked = relinkRecord(refresh, (id) => (id === 1 ? 501 : undefined))!;
    expect(isRecord(relinked)).toBe(true);
    const entry = decodeEntry(relinked, 0, 2, 'ws', true);
    expect(entry.auth).toEqual({ grant: 'client_credentials', method: 'bearer', scopes: ['a'], required: ['a'], flags: ['insecure-flow'], refreshOf: 501 });
    // everything else as it was
    const original = decodeEntry(refresh, 0, 2, 'ws', true);
    expect({ ...entry, auth: undefined }).toEqual({ ...original, auth: undefined });

    const dropped = decodeEntry(relinkRecord(both, (id) => (id === 1 ? undefined : id))!, 0, 3, 'ws', true);
    expect(dropped.auth?.refreshOf).toBeUndefined();
    expect(dropped.auth?.replayOf).toBeUndefined();
    expect(dropped.auth?.flags).toEqual(['insecure-flow']);
  });
});
