/**
 * Chaos counts shared through Redis (issue #15, "Rate limits and quotas"): servers in this process stand for
 * replicas, each running a ChaosEngine whose counts go through a RedisChaosCounters on a RedisLink of its own, all
 * on one key prefix, all on one ManualClock. Requests go through real sockets; the engines are put into each
 * server's default workspace by hand, since the server does not wire `--redis` to chaos yet (the last test does
 * it end to end, and waits for that wiring).
 *
 * What must hold: a limit admits exactly its allowance across replicas under concurrent calls (every algorithm,
 * every `by`), with the status and headers one replica alone would give for the same requests; failFirst counts
 * and the seeded fault streams follow the client, not the replica; a restart or another profile counts afresh;
 * with Redis gone the replicas count on their own and say so, never failing a request; and an exchange no rule
 * matches sends Redis nothing.
 */
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ChaosEngine } from '../../src/chaos/chaos-stage.js';
import { profileFromText } from '../../src/chaos/profile.js';
import { COUNTED_LOCALLY } from '../../src/chaos/shared-counters.js';
import { RedisChaosCounters } from '../../src/replicas/redis-chaos-counters.js';
import { RedisLink } from '../../src/replicas/redis-link.js';
import type { RunningServer } from '../../src/server.js';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { seededRandom } from '../../src/util/seeded-random.js';
import { call, json, start } from '../helpers.js';
import { describeWithRedis, dropPrefix, REDIS_URL, redisClient, startPrivateRedis, startReplicaProcess, uniquePrefix } from './redis-harness.js';

const clock = new ManualClock(Date.UTC(2026, 0, 1));
const SEED = 7;

/** one replica: a server, and the link its chaos counts go through (none: it counts alone, as without --redis) */
interface Replica {
  server: RunningServer;
  link?: RedisLink;
  /** the key prefix it shares */
  prefix?: string;
}

let servers: RunningServer[] = [];
const links: RedisLink[] = [];
const prefixes: string[] = [];

beforeAll(async () => {
  servers = await Promise.all([0, 1, 2, 3].map(() => start({ clock, scheduler: new ManualScheduler(clock), seed: SEED })));
  await Promise.all(servers.map((s) => s.ready));
});

afterEach(async () => {
  await Promise.all(links.splice(0).map((l) => l.close()));
  await Promise.all(prefixes.splice(0).map((p) => dropPrefix(p)));
});

/** `count` replicas sharing one fresh prefix on `url` (the shared Redis unless given) */
async function replicas(count: number, name: string, url = REDIS_URL): Promise<Replica[]> {
  const prefix = uniquePrefix(name);
  prefixes.push(prefix);
  return Promise.all(
    servers.slice(0, count).map(async (server, i) => {
      const link = await RedisLink.open({ url, prefix, replicaId: `${name}-${i}` });
      links.push(link);
      return { server, link, prefix };
    }),
  );
}

/** the server no other replica shares counts with */
function alone(): Replica {
  return { server: servers[3] };
}

/** Activates the profile on every replica, from this moment (as a profile activated on one replica is on all). */
function activate(text: string, group: Replica[], at = clock.now()): ChaosEngine[] {
  return group.map(({ server, link }) => {
    const engine = new ChaosEngine(
      profileFromText(text),
      { clock, scheduler: new ManualScheduler(clock), seed: SEED, faultHeader: false, shared: link && new RedisChaosCounters(link, 'default') },
      at,
    );
    server.workspaces.default.chaos = engine;
    return engine;
  });
}

const rule = (id: string, body: string) => `  - id: ${id}\n    match: { operation: getInventory }\n    ${body}\n`;
const profile = (...rules: string[]) => `name: shared-counts\nrules:\n${rules.join('')}`;

interface Answer {
  status: number;
  headers: Record<string, string | null>;
}

const LIMIT_HEADERS = ['ratelimit', 'ratelimit-policy', 'retry-after', 'sforce-limit-info'];

async function get(replica: Replica, client: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${replica.server.url}/wms/v1/inventory/SKU-1`, { headers: { 'x-understudy-client': client, ...headers } });
  await res.arrayBuffer();
  return { status: res.status, headers: Object.fromEntries(LIMIT_HEADERS.map((h) => [h, res.headers.get(h)])) };
}

/** The journal's entries for the client (newest first), once there are `count` (it records after answering). */
function journalOf(replica: Replica, client: string, count: number): Promise<Array<{ faults: unknown[] }>> {
  return vi.waitFor(
    async () => {
      const entries = (await call(`${replica.server.url}/__admin/journal?client=${client}`)).body.entries as Array<{ faults: unknown[] }>;
      expect(entries).toHaveLength(count);
      return entries;
    },
    { timeout: 5_000, interval: 10 },
  );
}

/**
 * A TCP relay to Redis that can stop passing anything on, either way, while its connections stay open: a Redis
 * that hangs, which a closed connection would not show (ioredis fails commands at once on one).
 */
async function freezableRelay(to: string): Promise<{ url: string; freeze(): void; thaw(): void; close(): Promise<void> }> {
  const target = new URL(to);
  let frozen = false;
  const held: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const pass = (from: Socket, into: Socket) =>
    from.on('data', (chunk) => (frozen ? held.push(() => into.write(chunk)) : into.write(chunk)));
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => (client.destroy(), upstream.destroy()));
    }
    pass(client, upstream);
    pass(upstream, client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    freeze: () => (frozen = true),
    thaw: () => {
      frozen = false;
      for (const send of held.splice(0)) send();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** how many of the answers had each status */
function tally(answers: Answer[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const a of answers) counts[a.status] = (counts[a.status] ?? 0) + 1;
  return counts;
}

describeWithRedis('chaos counts shared through Redis', () => {
  it('100 per minute by client admits exactly 100 of 150 concurrent calls spread over three replicas, each client its own 100', async () => {
    const group = await replicas(3, 'window');
    activate(profile(rule('per-client', 'rateLimit: { requests: 100, per: 1m, by: client }')), group);
    const calls: Array<Promise<Answer>> = [];
    for (let i = 0; i < 150; i++) calls.push(get(group[i % 3], 'c1'), get(group[(i + 1) % 3], 'c2'));
    const answers = await Promise.all(calls);
    expect(tally(answers.filter((_, i) => i % 2 === 0))).toEqual({ 200: 100, 429: 50 });
    expect(tally(answers.filter((_, i) => i % 2 === 1))).toEqual({ 200: 100, 429: 50 });
    // nothing moved the clock: the window has its whole minute to run
    const refused = answers.find((a) => a.status === 429)!;
    expect(refused.headers).toMatchObject({ 'retry-after': '60', ratelimit: '"per-client";r=0;t=60', 'ratelimit-policy': '"per-client";q=100;w=60' });

    // the next window, counted from the activation, admits again, on any replica
    clock.advance(60_000);
    expect((await get(group[2], 'c1')).headers).toMatchObject({ ratelimit: '"per-client";r=99;t=60' });
  });

  for (const by of ['global', 'ip', 'header:x-api-key'] as const) {
    it(`a quota by ${by} admits exactly its allowance across replicas`, async () => {
      const group = await replicas(3, `quota-${by.replace(':', '-')}`);
      activate(profile(rule('daily', `quota: { requests: 10, per: 1d, by: "${by}" }`)), group);
      // different clients: only `by` decides what is counted together
      const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => get(group[i % 3], `client-${i}`, { 'x-api-key': 'k1' })));
      expect(tally(answers)).toEqual({ 200: 10, 429: 6 });
      if (by === 'header:x-api-key') {
        // another key value is another allowance
        expect((await get(group[0], 'client-x', { 'x-api-key': 'k2' })).status).toBe(200);
      }
    });
  }

  it('a token bucket admits its capacity across replicas, then one request per refilled token', async () => {
    const group = await replicas(2, 'bucket');
    activate(profile(rule('burst', 'rateLimit: { requests: 5, per: 10s, by: client, algorithm: bucket }')), group);
    const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => get(group[i % 2], 'c1')));
    expect(tally(burst)).toEqual({ 200: 5, 429: 3 });
    // a token every 2 s
    clock.advance(2_000);
    expect((await get(group[1], 'c1')).status).toBe(200);
    expect((await get(group[0], 'c1')).status).toBe(429);
  });

  it('statuses and rate-limit headers are those of one replica alone, for the same requests, with stacked limits', async () => {
    const text = profile(
      rule('burst', 'rateLimit: { requests: 3, per: 10s, by: client, algorithm: bucket }'),
      rule('per-minute', 'rateLimit: { requests: 5, per: 1m, by: client }'),
      rule('daily', 'quota: { requests: 8, per: 1d, style: salesforce }'),
    );
    // time passing between requests (ms), and who calls: bursts that the bucket refuses, a window that runs out,
    // a quota that runs out, across a window boundary
    const random = seededRandom(11, 'script');
    const script = Array.from({ length: 40 }, (_, i) => ({ waitMs: i % 7 === 6 ? 4_000 + Math.floor(random() * 9_000) : Math.floor(random() * 400), client: random() < 0.7 ? 'c1' : 'c2' }));
    const run = async (group: Replica[]): Promise<Answer[]> => {
      activate(text, group);
      const answers: Answer[] = [];
      for (const [i, step] of script.entries()) {
        clock.advance(step.waitMs);
        answers.push(await get(group[i % group.length], step.client));
      }
      return answers;
    };
    const single = await run([alone()]);
    const group = await replicas(3, 'stacked');
    const shared = await run(group);
    expect(shared).toEqual(single);
    // the script exercised every refusal: the bucket's, the window's and the quota's
    expect(new Set(single.map((a) => a.status))).toEqual(new Set([200, 429, 403]));
    expect(single.some((a) => a.status === 429 && a.headers.ratelimit?.startsWith('"per-minute";r=0'))).toBe(true);

    // and nothing it wrote stays for ever: ordinals, windows, buckets and counters all expire
    const redis = redisClient();
    try {
      const keys = await redis.keys(`${group[0].prefix}:*`);
      const kinds = new Set(keys.map((k) => /:chaos:[^:]+:[^:]+:([a-z]+)/.exec(k)?.[1]));
      expect(kinds).toEqual(new Set(['ordinal', 'window', 'bucket', 'counters']));
      for (const key of keys) expect(await redis.pttl(key), key).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });

  it('GET /__admin/chaos counters are summed over the replicas, on any of them', async () => {
    const group = await replicas(2, 'totals');
    const engines = activate(profile(rule('coin', 'faults: [ { status: { code: 503, probability: 0.5 } } ]')), group);
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await get(group[i % 2], `c${i % 3}`)).status);
    const failed = statuses.filter((s) => s === 503).length;
    expect(failed).toBeGreaterThan(0);
    // the injections are added in the background, once each exchange is answered
    for (const engine of engines) {
      await vi.waitFor(async () => {
        const described = await engine.describeShared();
        expect(described).toMatchObject({ counters: 'all replicas', rules: [{ id: 'coin', matched: 20, injected: { status: failed }, skipped: 0 }] });
      }, { timeout: 5_000, interval: 10 });
    }
    // each replica's own counters have its half
    expect((engines[0].describe().rules as Array<{ matched: number }>)[0].matched).toBe(10);
  });

  it('failFirst counts a client across replicas: its first three fail wherever they land, then it passes everywhere', async () => {
    const group = await replicas(2, 'fail-first');
    activate(profile(rule('flaky', 'faults: [ { failFirst: { count: 3, status: 503 } } ]')), group);
    const c1: number[] = [];
    const c2: number[] = [];
    for (let i = 0; i < 6; i++) {
      c1.push((await get(group[i % 2], 'c1')).status);
      c2.push((await get(group[(i + 1) % 2], 'c2')).status);
    }
    expect(c1).toEqual([503, 503, 503, 200, 200, 200]);
    expect(c2).toEqual([503, 503, 503, 200, 200, 200]);
  });

  it('a client meets the same seeded fault sequence whichever replica it reaches, as on one replica alone', async () => {
    const text = profile(rule('coin', 'faults: [ { status: { code: 503, probability: 0.5 } } ]'));
    const order = seededRandom(3, 'order');
    // two clients, interleaved, each request to a replica picked at random
    const steps = Array.from({ length: 40 }, (_, i) => ({ client: i % 3 === 0 ? 'c2' : 'c1', replica: Math.floor(order() * 3) }));
    const sequences = async (group: Replica[]) => {
      activate(text, group);
      const seen: Record<string, number[]> = { c1: [], c2: [] };
      for (const step of steps) seen[step.client].push((await get(group[step.replica % group.length], step.client)).status);
      return seen;
    };
    const single = await sequences([alone()]);
    const shared = await sequences(await replicas(3, 'same-sequence'));
    expect(shared).toEqual(single);
    // a coin, not a constant
    expect(new Set(single.c1)).toEqual(new Set([200, 503]));
  });

  it('counts belong to the activation: a restart or another profile counts afresh, the same activation carries on', async () => {
    const group = await replicas(2, 'activation');
    const text = profile(rule('flaky', 'faults: [ { failFirst: { count: 2 } } ]'));
    const at = clock.now();
    activate(text, group, at);
    const statuses = async (n: number) => {
      const seen: number[] = [];
      for (let i = 0; i < n; i++) seen.push((await get(group[i % 2], 'c1')).status);
      return seen;
    };
    expect(await statuses(3)).toEqual([503, 503, 200]);

    // the same activation on new engines (a replica restarted, resuming the stored activation): counting goes on
    activate(text, group, at);
    expect(await statuses(1)).toEqual([200]);

    // POST /__admin/reset {"scope":"chaos"}: every replica restarts the timeline at the same instant
    clock.advance(1_000);
    const restartAt = clock.now();
    for (const { server } of group) (server.workspaces.default.chaos as ChaosEngine).restart(restartAt);
    expect(await statuses(3)).toEqual([503, 503, 200]);

    // another profile activated at that same instant does not inherit the counts either
    activate(profile(rule('flaky', 'faults: [ { failFirst: { count: 1 } } ]')), group, restartAt);
    expect(await statuses(2)).toEqual([503, 200]);
  });

  it('with Redis gone, each replica counts on its own and says so in the journal; no request fails for it; counting resumes with Redis', async () => {
    const redis = await startPrivateRedis();
    const group = await replicas(2, 'outage', redis.url);
    const [engine] = activate(profile(rule('flaky', 'faults: [ { failFirst: { count: 2 } } ]'), rule('limit', 'rateLimit: { requests: 3, per: 1m, by: client }')), group);
    const client = 'outage-client';
    expect((await get(group[0], client)).status).toBe(503);
    expect((await get(group[1], client)).status).toBe(503);

    await redis.stop();
    await vi.waitFor(() => expect(group.every((r) => !r.link!.up)).toBe(true), { timeout: 5_000, interval: 10 });
    // replica 0 has seen one of the client's requests: by its own count the second fails, the third passes;
    // replica 1 likewise; and each admits the client three times a minute by its own limiter
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(group[0], client)).status);
    expect(statuses).toEqual([503, 200, 200, 429, 429]);
    expect((await get(group[1], client)).status).toBe(503);

    // newest first: the five counted on replica 0 alone, then the one Redis counted
    const journal = (replica: Replica, count: number) => journalOf(replica, client, count);
    const entries = await journal(group[0], 6);
    for (const entry of entries.slice(0, 5)) {
      expect(entry.faults).toEqual(
        expect.arrayContaining([
          { rule: 'flaky', kind: 'failFirst', skipped: COUNTED_LOCALLY },
          { rule: 'limit', kind: 'rateLimit', skipped: COUNTED_LOCALLY },
        ]),
      );
    }
    expect(entries[5].faults).not.toContainEqual(expect.objectContaining({ skipped: COUNTED_LOCALLY }));
    // the admin API's counters are this replica's, and say so
    expect(await engine.describeShared()).toMatchObject({ counters: 'this replica', rules: [{ id: 'flaky', matched: 6 }, { id: 'limit', matched: 6 }] });

    // Redis back (with what it had counted): the shared count carries on from the client's two, on every replica
    await redis.start();
    await vi.waitFor(() => expect(group.every((r) => r.link!.up)).toBe(true), { timeout: 10_000, interval: 20 });
    expect((await get(group[1], client)).status).toBe(200);
    expect((await journal(group[1], 3))[0].faults).toEqual([]);
  });

  it('a Redis that stops answering holds no request past the bound: the exchange is counted on this replica, and says so', async () => {
    const relay = await freezableRelay(REDIS_URL);
    const prefix = uniquePrefix('hung');
    prefixes.push(prefix);
    const link = await RedisLink.open({ url: relay.url, prefix, replicaId: 'hung' });
    const replica: Replica = { server: servers[0], link, prefix };
    try {
      const engine = new ChaosEngine(profileFromText(profile(rule('flaky', 'faults: [ { failFirst: { count: 1 } } ]'))), {
        clock,
        scheduler: new ManualScheduler(clock),
        seed: SEED,
        faultHeader: false,
        shared: new RedisChaosCounters(link, 'default', { timeoutMs: 100 }),
      });
      replica.server.workspaces.default.chaos = engine;
      const client = 'hung-client';
      expect((await get(replica, client)).status).toBe(503);
      relay.freeze();
      // the connection is open and says nothing: past the bound, this replica's own count (its second) decides
      expect((await get(replica, client)).status).toBe(200);
      expect(link.up).toBe(true);
      const [latest] = await journalOf(replica, client, 2);
      expect(latest.faults).toEqual([{ rule: 'flaky', kind: 'failFirst', skipped: COUNTED_LOCALLY }]);
      relay.thaw();
    } finally {
      await link.close();
      await relay.close();
    }
  });

  it('an exchange no rule matches sends Redis nothing; one a rule matches sends it one round of commands', async () => {
    const [replica] = await replicas(1, 'calm');
    activate(`name: quiet\nrules:\n  - id: reservations\n    match: { method: POST, path: /wms/v1/reservations }\n    rateLimit: { requests: 5, per: 1m }\n`, [replica]);
    const sent = vi.spyOn(replica.link!.commands, 'sendCommand');
    for (let i = 0; i < 20; i++) expect((await get(replica, 'c1')).status).toBe(200);
    expect(sent).not.toHaveBeenCalled();

    // a reservation matches: its ordinal (INCR, PEXPIRE), the rule's matched counter (HINCRBY, PEXPIRE) and its
    // window (the limiter's script), sent together
    const reserved = await call(`${replica.server.url}/wms/v1/reservations`, json({ externalOrderId: 'CALM-1', lines: [{ sku: 'SKU-1', quantity: 1 }] }));
    expect(reserved.status).toBe(201);
    // (ioredis sends a script as EVAL the first time on a connection, as EVALSHA after)
    const names = sent.mock.calls.map(([command]) => command.name.toLowerCase().replace(/^eval$/, 'evalsha'));
    expect(names.sort()).toEqual(['evalsha', 'hincrby', 'incr', 'pexpire', 'pexpire']);
    sent.mockRestore();
  });
});

describeWithRedis('chaos counts shared through Redis, end to end', () => {
  it('two `understudy serve --redis` replicas admit exactly 100 of 150 requests under a 100-per-minute limit', async () => {
    const prefix = uniquePrefix('chaos-e2e');
    prefixes.push(prefix);
    const [a, b] = await Promise.all([startReplicaProcess(prefix, { replicaId: 'a' }), startReplicaProcess(prefix, { replicaId: 'b' })]);
    try {
      const text = profile(rule('per-client', 'rateLimit: { requests: 100, per: 1m, by: client }'));
      expect((await call(`${a.url}/__admin/chaos`, { method: 'PUT', body: text })).status).toBe(200);
      // the activation is workspace state: replica b runs it too, once it has applied the log
      await vi.waitFor(async () => expect((await call(`${b.url}/__admin/chaos`)).body.profile.name).toBe('shared-counts'), { timeout: 5_000, interval: 20 });
      const answers = await Promise.all(
        Array.from({ length: 150 }, (_, i) => fetch(`${i % 2 ? b.url : a.url}/wms/v1/inventory/SKU-1`, { headers: { 'x-understudy-client': 'c1' } }).then(async (r) => (await r.arrayBuffer(), r.status))),
      );
      expect(answers.filter((s) => s === 200)).toHaveLength(100);
      expect(answers.filter((s) => s === 429)).toHaveLength(50);
    } finally {
      a.child.kill('SIGKILL');
      b.child.kill('SIGKILL');
    }
  });
});
