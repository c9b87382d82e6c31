/**
 * The journal shared by replicas (journal/shared-journal.ts, replicas/journal-stream.ts), against a real Redis: two
 * Journals, each with its own RedisLink and JournalStream on one key prefix, stand for two replicas. What either
 * records, both answer for: the same entries under the same ids in the same order, cursors and entries by id that
 * work on either side, links between entries that keep pointing at the right one, a reset that clears it for both,
 * a stream capped like the in-memory journal, and a traffic path that neither throws nor waits when Redis is gone.
 *
 * The end-to-end case (two `understudy serve --redis` processes) waits for the lead's wiring (see the skip).
 */
import { afterAll, afterEach, expect, it } from 'vitest';
import type { Exchange } from '../../src/engine/exchange.js';
import { Journal, type JournalLimits } from '../../src/journal/journal.js';
import { JournalUnavailableError, type SharedJournal } from '../../src/journal/shared-journal.js';
import { createJournalStream } from '../../src/replicas/journal-stream.js';
import { RedisLink } from '../../src/replicas/redis-link.js';
import { describeWithRedis, dropPrefix, REDIS_URL, redisClient, startPrivateRedis, startReplicaProcess, uniquePrefix } from './redis-harness.js';

const WS = 'default';
const T0 = Date.UTC(2026, 0, 1);
const LIMITS: JournalLimits = { maxEntries: 1000, maxBytes: 4 * 1024 * 1024, bodyBytes: 4096 };

interface Replica {
  link: RedisLink;
  journal: Journal;
  shared: SharedJournal;
}

const opened: Replica[] = [];
const prefixes: string[] = [];

async function replica(prefix: string, name: string, limits = LIMITS, url = REDIS_URL): Promise<Replica> {
  const link = await RedisLink.open({ url, prefix, replicaId: name });
  const journal = new Journal(WS, limits);
  const shared = createJournalStream(link, WS, limits);
  shared.attach(journal);
  const r = { link, journal, shared };
  opened.push(r);
  return r;
}

/** two replicas on a prefix of their own */
async function pair(name: string, limits = LIMITS): Promise<[Replica, Replica]> {
  const prefix = uniquePrefix(`journal-${name}`);
  prefixes.push(prefix);
  return [await replica(prefix, 'a', limits), await replica(prefix, 'b', limits)];
}

afterEach(async () => {
  for (const r of opened.splice(0)) {
    await r.shared.close();
    await r.link.close();
  }
});

afterAll(async () => {
  for (const prefix of prefixes) await dropPrefix(prefix);
});

let counter = 0;

function exchange(fields: Partial<Exchange> = {}): Exchange {
  const n = ++counter;
  return {
    id: 0,
    workspace: undefined as never,
    prefix: '',
    startedAt: T0 + n,
    startedHr: 0,
    method: 'GET',
    path: `/things/${n}`,
    rawQuery: '',
    headers: {},
    rawHeaders: ['Host', 'example'],
    body: undefined,
    remoteAddress: '127.0.0.1',
    client: 'anonymous',
    faults: [],
    contractErrors: [],
    effects: [],
    delayMs: 0,
    ...fields,
  };
}

/** Records an exchange as the engine would; returns the exchange (its id is the replica's own until shared). */
function record(r: Replica, fields: Partial<Exchange> = {}, status = 200, bodySize = 0): Exchange {
  const ex = exchange(fields);
  const body = 'x'.repeat(bodySize);
  r.journal.record(ex, { status, responseHeaders: { 'content-type': 'text/plain' }, responseBody: body, responseBytes: body.length, endedAt: ex.startedAt + 1, durationMs: 1 });
  return ex;
}

function listing(r: Replica, limit = 1000): Array<{ id: number; path: string; client: string }> {
  return r.journal.query({ limit }).entries.map((e) => ({ id: e.id, path: e.path, client: e.client }));
}

describeWithRedis('journal shared by replicas', () => {
  it('either replica answers with every replica\'s entries: the same ids, in the order they were recorded', async () => {
    const [a, b] = await pair('order');
    const paths: string[] = [];
    // alternating, each replica's entries appended (catchUp) before the other records: a known order in the stream
    for (let i = 0; i < 6; i++) {
      const r = i % 2 === 0 ? a : b;
      paths.push(record(r, { client: i % 2 === 0 ? 'via-a' : 'via-b' }).path);
      await r.shared.catchUp();
    }
    await Promise.all([a.shared.catchUp(), b.shared.catchUp()]);
    const fromA = listing(a);
    expect(fromA).toEqual(listing(b));
    // newest first, as the journal always lists: ids only grow, unique across replicas
    expect(fromA.map((e) => e.path)).toEqual([...paths].reverse());
    const ids = fromA.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((x, y) => y - x));
    expect(new Set(ids).size).toBe(6);
    expect(new Set(fromA.map((e) => e.client))).toEqual(new Set(['via-a', 'via-b']));
  });

  it('entries recorded on both at once, many per turn, agree on both sides and none is lost', async () => {
    const [a, b] = await pair('burst');
    for (let i = 0; i < 120; i++) {
      record(a, { client: 'burst-a' });
      record(b, { client: 'burst-b' });
    }
    await Promise.all([a.shared.catchUp(), b.shared.catchUp()]);
    // each caught up after its own entries were appended, but perhaps before the other's: once more, both
    await Promise.all([a.shared.catchUp(), b.shared.catchUp()]);
    expect(listing(a)).toEqual(listing(b));
    expect(a.journal.query({ limit: 1, client: 'burst-a' }).total).toBe(120);
    expect(b.journal.query({ limit: 1, client: 'burst-b' }).total).toBe(120);
    expect(a.journal.length).toBe(240);
  });

  it('a cursor from one replica pages on the other; an entry is found by its id on either', async () => {
    const [a, b] = await pair('cursor');
    for (let i = 0; i < 7; i++) record(i < 4 ? a : b, { client: 'pager' }, i === 3 ? 503 : 200);
    await a.shared.catchUp();
    await b.shared.catchUp();
    await a.shared.catchUp();
    const all = listing(a).map((e) => e.id);
    expect(all).toHaveLength(7);

    const seen: number[] = [];
    let page = a.journal.query({ limit: 3 });
    seen.push(...page.entries.map((e) => e.id));
    // the cursor handed out by a, used on b (and the next one on a again)
    let side = b;
    while (page.nextCursor !== null) {
      page = side.journal.query({ limit: 3, before: page.nextCursor });
      seen.push(...page.entries.map((e) => e.id));
      side = side === a ? b : a;
    }
    expect(seen).toEqual(all);

    const failed = b.journal.query({ limit: 10, status: (s) => s === 503 });
    expect(failed.total).toBe(1);
    const id = failed.entries[0].id;
    expect(a.journal.get(id)?.status).toBe(503);
    expect(b.journal.get(id)).toEqual(a.journal.get(id));
  });

  it('links between entries (auth.refreshOf, replayOf) point at the shared ids, in one batch or across batches', async () => {
    const [a, b] = await pair('links');
    // something from b first, so that a's own ids and the shared ones differ
    record(b);
    record(b);
    await b.shared.catchUp();
    const auth = { grant: 'client_credentials', method: 'client_secret_basic', scopes: ['wms'], flags: [] };
    // the refused call and the token request that refreshed after it, recorded in the same turn (one batch)
    const refused = record(a, { client: 'sf', auth: { ...auth, method: 'bearer' } }, 401);
    const refresh = record(a, { client: 'sf', auth: { ...auth, refreshOf: refused } });
    await a.shared.catchUp();
    // the replay after it, in a later batch
    const replay = record(a, { client: 'sf', auth: { ...auth, method: 'bearer', replayOf: refused } });
    await a.shared.catchUp();
    await b.shared.catchUp();

    const byPath = (r: Replica, path: string) => r.journal.query({ limit: 100 }).entries.find((e) => e.path === path)!;
    const refusedId = byPath(b, refused.path).id;
    for (const side of [a, b]) {
      expect(byPath(side, refresh.path).auth?.refreshOf).toBe(refusedId);
      expect(byPath(side, replay.path).auth?.replayOf).toBe(refusedId);
      expect(side.journal.get(refusedId)?.status).toBe(401);
    }
    // a's own ids were not the shared ones: the links were really changed
    expect(refused.id).not.toBe(refusedId);
  });

  it('a reset clears the journal for every replica, and ids go on counting past the old cursors', async () => {
    const [a, b] = await pair('clear');
    for (let i = 0; i < 5; i++) record(i % 2 ? a : b);
    await a.shared.catchUp();
    await b.shared.catchUp();
    await a.shared.catchUp();
    const before = listing(a);
    expect(before).toHaveLength(5);
    expect(listing(b)).toHaveLength(5);

    // the replica the reset was asked of clears the stream and its copy; b has not applied the reset yet
    await a.shared.clear();
    a.journal.clear();
    const after = record(b, { client: 'after-reset' });
    await b.shared.catchUp();
    // b's copy dropped what the reset cleared as soon as it read the stream again, before its own reset
    expect(listing(b).map((e) => e.client)).toEqual(['after-reset']);
    // then the reset reaches b (the lead's replicated log): its copy is read again, and keeps what came after
    b.journal.clear();
    await b.shared.catchUp();
    await a.shared.catchUp();
    for (const side of [a, b]) expect(listing(side).map((e) => e.path)).toEqual([after.path]);
    const newId = listing(a)[0].id;
    expect(newId).toBeGreaterThan(Math.max(...before.map((e) => e.id)));
    // a cursor handed out before the reset points at nothing after it
    expect(a.journal.query({ limit: 10, before: before[before.length - 1].id }).entries).toEqual([]);
  });

  it('the stream is capped like the journal: at most journalEntries entries and journalBytes bytes', async () => {
    const redis = redisClient();
    try {
      const few: JournalLimits = { maxEntries: 50, maxBytes: 4 * 1024 * 1024, bodyBytes: 4096 };
      const [a, b] = await pair('cap-entries', few);
      for (let i = 0; i < 300; i++) record(i % 3 ? a : b);
      await Promise.all([a.shared.catchUp(), b.shared.catchUp()]);
      await a.shared.catchUp();
      const stream = a.link.key(WS, 'journal');
      expect(await redis.xlen(stream)).toBe(50);
      expect(await redis.llen(a.link.key(WS, 'journal', 'sizes'))).toBe(50);
      const ids = listing(a).map((e) => e.id);
      expect(ids).toHaveLength(50);
      // the newest 50 of 300
      expect(ids[0]).toBe(300);
      expect(ids[49]).toBe(251);

      const small: JournalLimits = { maxEntries: 1000, maxBytes: 64 * 1024, bodyBytes: 4096 };
      const [c, d] = await pair('cap-bytes', small);
      for (let i = 0; i < 60; i++) record(i % 2 ? c : d, {}, 200, 3000);
      await Promise.all([c.shared.catchUp(), d.shared.catchUp()]);
      const entries = await redis.xrangeBuffer(c.link.key(WS, 'journal'), '-', '+');
      const held = entries.reduce((sum, [, fields]) => sum + fields[1].length, 0);
      expect(held).toBeLessThanOrEqual(small.maxBytes);
      // nearly full: trimmed by the oldest entry, not emptied
      expect(held).toBeGreaterThan(small.maxBytes - 4000);
      expect(Number(await redis.hget(c.link.key(WS, 'journal', 'meta'), 'bytes'))).toBe(held);
    } finally {
      await redis.quit();
    }
  });

  it('an entry that is not a record (written into the stream by something else) is skipped, not kept', async () => {
    const [a, b] = await pair('damaged');
    record(a, { client: 'good' });
    await a.shared.catchUp();
    const redis = redisClient();
    try {
      // the next id, taken as the append script would, with bytes that are no record
      const id = await redis.hincrby(a.link.key(WS, 'journal', 'meta'), 'last', 1);
      await redis.xadd(a.link.key(WS, 'journal'), `${id}-0`, 'e', Buffer.from('not a journal record at all, no, not at all, this is not'));
    } finally {
      await redis.quit();
    }
    record(a, { client: 'good' });
    await a.shared.catchUp();
    await b.shared.catchUp();
    expect(listing(b).map((e) => e.client)).toEqual(['good', 'good']);
  });

  it('a Redis that lost the journal (restarted without its data) is followed: the copies start over with it', async () => {
    const [a, b] = await pair('lost');
    for (let i = 0; i < 5; i++) record(a, { client: 'old' });
    await a.shared.catchUp();
    await b.shared.catchUp();
    expect(listing(b)).toHaveLength(5);
    const redis = redisClient();
    try {
      await redis.del(a.link.key(WS, 'journal'), a.link.key(WS, 'journal', 'meta'), a.link.key(WS, 'journal', 'sizes'));
    } finally {
      await redis.quit();
    }
    const fresh = record(a, { client: 'new' });
    await a.shared.catchUp();
    await b.shared.catchUp();
    // ids start again at 1 in the new stream; without noticing, the copies would skip everything up to id 5
    for (const side of [a, b]) expect(listing(side)).toEqual([{ id: 1, path: fresh.path, client: 'new' }]);
  });

  it('with Redis gone, recording neither throws nor waits; entries wait and are appended once it is back', async () => {
    const redis = await startPrivateRedis();
    const prefix = uniquePrefix('journal-outage');
    const a = await replica(prefix, 'a', LIMITS, redis.url);
    const b = await replica(prefix, 'b', LIMITS, redis.url);
    record(a, { client: 'before' });
    await a.shared.catchUp();

    await redis.kill();
    const during: string[] = [];
    for (let i = 0; i < 20; i++) during.push(record(a, { client: 'during' }).path);
    expect(a.shared.status().waiting).toBeGreaterThan(0);
    await expect(a.shared.catchUp()).rejects.toBeInstanceOf(JournalUnavailableError);

    await redis.start();
    // Redis is back: the entries that waited are appended by the retries (bounded wait, polled)
    const deadline = Date.now() + 15_000;
    for (;;) {
      const ok = await b.shared.catchUp().then(
        () => b.journal.query({ limit: 1, client: 'during' }).total === 20,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`the waiting entries never reached the stream: ${JSON.stringify(a.shared.status())}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(listing(b).map((e) => e.path).reverse().slice(1)).toEqual(during);
    expect(a.shared.status()).toEqual({ waiting: 0, lost: 0 });
  });

  it('with Redis gone for long, the waiting entries are bounded by the journal\'s bytes: the oldest are dropped and counted', async () => {
    const redis = await startPrivateRedis();
    const small: JournalLimits = { maxEntries: 1000, maxBytes: 64 * 1024, bodyBytes: 4096 };
    const a = await replica(uniquePrefix('journal-overflow'), 'a', small, redis.url);
    await redis.kill();
    for (let i = 0; i < 100; i++) record(a, {}, 200, 3000);
    const { waiting, lost } = a.shared.status();
    expect(waiting + lost).toBe(100);
    expect(lost).toBeGreaterThan(0);
    // about 3 KB each: no more than 64 KB of them wait
    expect(waiting).toBeLessThanOrEqual(Math.ceil((64 * 1024) / 3000));
    await redis.start();
  });
});

describeWithRedis('journal shared by replicas, end to end', () => {
  it('GET /__admin/journal on either replica lists the exchanges both served', async () => {
    const prefix = uniquePrefix('journal-e2e');
    prefixes.push(prefix);
    const [one, two] = await Promise.all([startReplicaProcess(prefix), startReplicaProcess(prefix)]);
    for (let i = 0; i < 4; i++) {
      const [base, client] = i % 2 === 0 ? [one.url, 'via-one'] : [two.url, 'via-two'];
      const res = await fetch(`${base}/wms/v1/warehouses`, { headers: { 'x-understudy-client': client } });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    // an exchange reaches the stream a moment after its reply (the next turn and a round trip): poll, bounded
    const deadline = Date.now() + 10_000;
    const read = async (base: string) => (await (await fetch(`${base}/__admin/journal?limit=100`)).json()) as { entries: Array<{ id: number; client: string }>; total: number };
    let pages = await Promise.all([read(one.url), read(two.url)]);
    while (pages.some((p) => p.total < 4)) {
      if (Date.now() > deadline) throw new Error(`the journals never showed all four: ${JSON.stringify(pages.map((p) => p.total))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      pages = await Promise.all([read(one.url), read(two.url)]);
    }
    expect(pages[0].entries).toEqual(pages[1].entries);
    expect(pages[0].entries.map((e) => e.client).sort()).toEqual(['via-one', 'via-one', 'via-two', 'via-two']);
    const id = pages[0].entries[0].id;
    const entry = await fetch(`${two.url}/__admin/journal/${id}`);
    expect(entry.status).toBe(200);
    expect(((await entry.json()) as { client: string }).client).toBe(pages[0].entries[0].client);

    // the report card of either replica judges both replicas' clients
    const report = (await (await fetch(`${two.url}/__admin/report?since=0`)).json()) as { clients: Array<{ client: string }> };
    expect(report.clients.map((c) => c.client).sort()).toEqual(['via-one', 'via-two']);

    // a reset asked of one replica clears the journal of both
    const reset = await fetch(`${one.url}/__admin/reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ scope: 'journal' }) });
    expect(reset.status).toBe(200);
    pages = await Promise.all([read(one.url), read(two.url)]);
    expect(pages.map((p) => p.total)).toEqual([0, 0]);
  });
});
