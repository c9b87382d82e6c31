/**
 * Replicas sharing workspaces through one Redis (issue #15): several understudy servers, as processes or in this
 * process, on different ports, one Redis; what a client sees whichever replica a load balancer sends it to.
 * Every test has its own key prefix, so these run beside other Redis tests.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createUnderstudy } from '../../src/understudy.js';
import { RedisUnreachableError } from '../../src/replicas/redis-link.js';
import { call, cliProcess, json, processOutcome, start } from '../helpers.js';
import { describeWithRedis, dropPrefix, REDIS_URL, redisClient, startPrivateRedis, startReplicaProcess, uniquePrefix } from './redis-harness.js';

const WAREHOUSE = 'WH-RTM-01';
const prefixes: string[] = [];

function prefix(name: string): string {
  const p = uniquePrefix(name);
  prefixes.push(p);
  return p;
}

afterAll(async () => {
  await Promise.all(prefixes.map((p) => dropPrefix(p)));
});

/** one stock adjustment: `delta` of `sku` in the Rotterdam warehouse */
function adjust(sku: string, delta: number, headers: Record<string, string> = {}): RequestInit {
  return json({ adjustments: [{ sku, warehouseId: WAREHOUSE, delta, reason: 'receipt' }] }, headers);
}

async function onHand(base: string, sku: string): Promise<number> {
  const res = await call(`${base}/wms/v1/inventory/${sku}`);
  expect(res.status).toBe(200);
  return res.body.warehouses.find((w: { warehouseId: string }) => w.warehouseId === WAREHOUSE).onHand;
}

/** polls until `check` holds (bounded): for what happens on its own (Redis coming back), never a fixed sleep */
async function eventually(check: () => Promise<boolean>, what: string, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never happened: ${what}`);
}

function replicaOptions(p: string, replicaId: string, extra: Record<string, unknown> = {}) {
  return { dataDir: '', seed: 7, redis: { url: REDIS_URL, prefix: p, replicaId }, ...extra };
}

describeWithRedis('replicas: three processes, one Redis', () => {
  let replicas: Array<{ url: string; child: import('node:child_process').ChildProcess }> = [];
  const p = prefix('three');

  beforeAll(async () => {
    replicas = await Promise.all(['r1', 'r2', 'r3'].map((id) => startReplicaProcess(p, { replicaId: id, seed: 7 })));
  }, 60_000);

  afterAll(() => {
    for (const r of replicas) r.child.kill('SIGKILL');
  });

  it('writes alternate between replicas and every read, on any replica, sees every acknowledged write', async () => {
    const urls = replicas.map((r) => r.url);
    const start = await onHand(urls[0], 'SKU-3');
    for (let i = 0; i < 30; i++) {
      const res = await call(`${urls[i % 3]}/wms/v1/stock-adjustments`, adjust('SKU-3', i + 1));
      expect(res.status).toBe(200);
      expect(res.body.applied).toBe(1);
      // read-your-writes across replicas: the next replica already shows it
      const seen = await onHand(urls[(i + 1) % 3], 'SKU-3');
      expect(seen).toBe(start + ((i + 1) * (i + 2)) / 2);
    }
    const totals = await Promise.all(urls.map((u) => onHand(u, 'SKU-3')));
    expect(totals).toEqual([start + 465, start + 465, start + 465]);
  });

  it('concurrent writes on all three converge on one state, whatever order Redis put them in', async () => {
    const urls = replicas.map((r) => r.url);
    // reservations compete for the same stock: which ones win depends on the order, which every replica shares
    const sku = 'SKU-5';
    const available = await onHand(urls[0], sku);
    const take = Math.max(1, Math.floor(available / 4));
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        call(`${urls[i % 3]}/wms/v1/reservations`, json({ externalOrderId: `order-${p}-${i}`, lines: [{ sku, warehouseId: WAREHOUSE, quantity: take }] })),
      ),
    );
    const accepted = answers.filter((a) => a.status === 201 || a.status === 200).length;
    expect(accepted).toBeGreaterThan(0);
    expect(answers.every((a) => a.status < 500)).toBe(true);
    const views = await Promise.all(urls.map((u) => call(`${u}/wms/v1/inventory/${sku}`)));
    const reserved = views.map((v) => v.body.warehouses.find((w: { warehouseId: string }) => w.warehouseId === WAREHOUSE).reserved);
    expect(new Set(reserved).size).toBe(1);
    expect(reserved[0]).toBe(accepted * take);
  });

  it('health names the replica, says Redis is up, and lists the replicas alive', async () => {
    const res = await call(`${replicas[1].url}/__admin/health`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.replica.id).toBe('r2');
    expect(res.body.replica.redis).toBe('up');
    expect(res.body.replica.lag.ms).toBeGreaterThanOrEqual(0);
    expect(res.body.replica.replicas).toEqual(expect.arrayContaining(['r1', 'r2', 'r3']));
  });
});

describeWithRedis('replicas: a replica killed mid-load', () => {
  it('loses nothing acknowledged: every write a killed replica answered 200 is on the survivor', async () => {
    const p = prefix('kill');
    const [a, b] = await Promise.all([startReplicaProcess(p, { replicaId: 'a', seed: 7 }), startReplicaProcess(p, { replicaId: 'b', seed: 7 })]);
    try {
      const skus = Array.from({ length: 120 }, (_, i) => `SKU-${i + 1}`);
      const before = new Map<string, number>();
      for (const sku of skus) before.set(sku, await onHand(b.url, sku));
      const acknowledged = new Set<string>();
      let sent = 0;
      // 8 writers on replica a; after 40 acknowledgements it is killed with SIGKILL, writes in flight
      const writer = async () => {
        while (sent < skus.length) {
          const sku = skus[sent++];
          try {
            const res = await fetch(`${a.url}/wms/v1/stock-adjustments`, adjust(sku, 1));
            if (res.status === 200) acknowledged.add(sku);
            if (acknowledged.size === 40) a.child.kill('SIGKILL');
          } catch {
            // the connection died with the replica: not acknowledged
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, writer));
      await a.exited;
      expect(acknowledged.size).toBeGreaterThanOrEqual(40);
      for (const sku of acknowledged) expect(await onHand(b.url, sku), sku).toBe(before.get(sku)! + 1);
    } finally {
      a.child.kill('SIGKILL');
      b.child.kill('SIGKILL');
    }
  }, 60_000);
});

describeWithRedis('replicas in this process', () => {
  it('a replica started late catches up, through the snapshot when the stream was trimmed', async () => {
    const p = prefix('late');
    const first = await start(replicaOptions(p, 'early', { store: { snapshotEvery: 5 } }));
    const base = await onHand(first.url, 'SKU-9');
    for (let i = 0; i < 23; i++) expect((await call(`${first.url}/wms/v1/stock-adjustments`, adjust('SKU-9', 2))).status).toBe(200);
    // snapshots were taken and the stream trimmed behind them: a late replica cannot replay it from the start
    const redis = redisClient();
    try {
      await eventually(async () => (await redis.xlen(`${p}:{ws:default}:log`)) < 23, 'the log trimmed behind a snapshot');
      expect(await redis.hget(`${p}:{ws:default}:snapshot`, 'position')).toMatch(/^\d+-\d+$/);
    } finally {
      redis.disconnect();
    }
    const late = await start(replicaOptions(p, 'late'));
    expect(await onHand(late.url, 'SKU-9')).toBe(base + 46);
    // and it keeps up from there
    expect((await call(`${late.url}/wms/v1/stock-adjustments`, adjust('SKU-9', 1))).status).toBe(200);
    expect(await onHand(first.url, 'SKU-9')).toBe(base + 47);
  });

  it('a workspace made on one replica is known to another, created at the same instant, with the same seeded data', async () => {
    const p = prefix('workspaces');
    const a = await start(replicaOptions(p, 'a'));
    const b = await start(replicaOptions(p, 'b'));
    expect((await call(`${a.url}/w/ci-42/wms/v1/stock-adjustments`, adjust('SKU-2', 10))).status).toBe(200);
    const [onA, onB] = await Promise.all([call(`${a.url}/w/ci-42/wms/v1/inventory/SKU-2`), call(`${b.url}/w/ci-42/wms/v1/inventory/SKU-2`)]);
    expect(onB.body).toEqual(onA.body);
    // the default workspace never saw that write
    expect(await onHand(b.url, 'SKU-2')).toBe((await onHand(a.url, 'SKU-2')));
    expect(await onHand(b.url, 'SKU-2')).toBe(onA.body.warehouses.find((w: { warehouseId: string }) => w.warehouseId === WAREHOUSE).onHand - 10);
    // b learns of the workspace on its own (the announcement), not only when asked for it
    await eventually(async () => b.workspaces.list().some((w) => w.name === 'ci-42'), 'b follows the new workspace');
  });

  it('a chaos profile activated on one replica runs on all, from the same instant; a jump and a reset too', async () => {
    const p = prefix('chaos');
    const a = await start(replicaOptions(p, 'a'));
    const b = await start(replicaOptions(p, 'b'));
    const put = await call(`${a.url}/__admin/chaos?profile=outage-drill`, { method: 'PUT' });
    expect(put.status).toBe(200);
    const onB = await call(`${b.url}/__admin/chaos`);
    expect(onB.body.profile.name).toBe('outage-drill');
    expect(onB.body.activatedAt).toBe(put.body.activatedAt);
    // jumped on b into the outage: a answers 503 for the WMS at once
    const jump = await call(`${b.url}/__admin/chaos/timeline`, json({ phase: 'outage' }));
    expect(jump.status).toBe(200);
    expect((await call(`${a.url}/wms/v1/inventory/SKU-1`)).status).toBe(503);
    expect((await call(`${a.url}/__admin/chaos`)).body.phase.name).toBe('outage');
    // restarted on a: b is back in the calm first phase
    expect((await call(`${a.url}/__admin/reset`, json({ scope: 'chaos' }))).status).toBe(200);
    const restarted = await call(`${b.url}/__admin/chaos`);
    expect(restarted.body.phase.name).toBe('calm');
    expect(restarted.body.timeline.map((s: { cause: string }) => s.cause)).toEqual(['restarted']);
    expect((await call(`${b.url}/wms/v1/inventory/SKU-1`)).status).toBe(200);
  });

  it('a rate limit of 100 a minute admits exactly 100 across replicas, and failFirst counts a client once whichever replica it hits', async () => {
    const p = prefix('limits');
    const a = await start(replicaOptions(p, 'a'));
    const b = await start(replicaOptions(p, 'b'));
    const profile = [
      'name: shared-limits',
      'rules:',
      '  - id: wms-quota',
      '    match: { system: wms, method: GET }',
      '    rateLimit: { requests: 100, per: 1m, by: client }',
      '  - id: payments-flaky',
      '    match: { system: payments }',
      '    faults:',
      '      - failFirst: { count: 3, status: 503 }',
    ].join('\n');
    expect((await call(`${a.url}/__admin/chaos`, { method: 'PUT', body: profile })).status).toBe(200);
    const who = { 'x-understudy-client': 'integration-user' };
    const statuses = await Promise.all(Array.from({ length: 150 }, (_, i) => call(`${[a, b][i % 2].url}/wms/v1/inventory/SKU-1`, { headers: who }).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(100);
    expect(statuses.filter((s) => s === 429)).toHaveLength(50);
    // another client has its own allowance
    expect((await call(`${b.url}/wms/v1/inventory/SKU-1`, { headers: { 'x-understudy-client': 'someone-else' } })).status).toBe(200);
    // failFirst: the client's first three payments calls fail, across replicas, then it gets through
    const flaky: number[] = [];
    for (let i = 0; i < 5; i++) flaky.push((await call(`${[b, a][i % 2].url}/payments/v1/charges?limit=1`, { headers: who })).status);
    expect(flaky).toEqual([503, 503, 503, 200, 200]);
    // GET /__admin/chaos on either replica counts both replicas' matches
    const described = (await call(`${b.url}/__admin/chaos`)).body;
    expect(described.rules.find((r: { id: string }) => r.id === 'wms-quota').matched).toBe(151);
  });

  it('OAuth: a client registered on one replica gets a token there that every replica accepts; a revocation on another holds everywhere', async () => {
    const p = prefix('oauth');
    const options = (id: string) => replicaOptions(p, id, { systems: { wms: { auth: 'oauth' } } });
    const a = await start(options('a'));
    const b = await start(options('b'));
    const form = (body: string, secret: string) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`shared:${secret}`).toString('base64')}` },
      body,
    });
    expect((await call(`${a.url}/__admin/clients`, json({ id: 'shared', secret: 'a-long-enough-secret', grants: ['client_credentials'], scopes: ['wms.read'] }))).status).toBe(201);
    const issued = await call(`${b.url}/oauth/token`, form('grant_type=client_credentials', 'a-long-enough-secret'));
    expect(issued.status).toBe(200);
    const bearer = { authorization: `Bearer ${issued.body.access_token}` };
    expect((await call(`${a.url}/wms/v1/warehouses`, { headers: bearer })).status).toBe(200);
    expect((await call(`${b.url}/wms/v1/warehouses`, { headers: bearer })).status).toBe(200);
    // both publish the one key
    const [jwksA, jwksB] = await Promise.all([call(`${a.url}/oauth/jwks`), call(`${b.url}/oauth/jwks`)]);
    expect(jwksA.body).toEqual(jwksB.body);
    expect((await call(`${b.url}/oauth/revoke`, form(`token=${issued.body.access_token}`, 'a-long-enough-secret'))).status).toBe(200);
    expect((await call(`${a.url}/wms/v1/warehouses`, { headers: bearer })).status).toBe(401);
  });

  it('a state reset on one replica takes every replica back to the seeded start', async () => {
    const p = prefix('reset');
    const a = await start(replicaOptions(p, 'a'));
    const b = await start(replicaOptions(p, 'b'));
    const seeded = await onHand(b.url, 'SKU-4');
    expect((await call(`${a.url}/wms/v1/stock-adjustments`, adjust('SKU-4', 7))).status).toBe(200);
    expect(await onHand(b.url, 'SKU-4')).toBe(seeded + 7);
    expect((await call(`${b.url}/__admin/reset`, json({ scope: 'state' }))).status).toBe(200);
    expect(await onHand(a.url, 'SKU-4')).toBe(seeded);
    expect(await onHand(b.url, 'SKU-4')).toBe(seeded);
  });

  it('Redis restarted mid-load: writes are refused with 503 (nothing half-made), reads go on, then writes resume', async () => {
    const redis = await startPrivateRedis();
    const p = prefix('outage');
    const options = (id: string) => ({ dataDir: '', seed: 7, redis: { url: redis.url, prefix: p, replicaId: id } });
    const a = await start(options('a'));
    const b = await start(options('b'));
    const seeded = await onHand(a.url, 'SKU-6');
    expect((await call(`${a.url}/wms/v1/stock-adjustments`, adjust('SKU-6', 3))).status).toBe(200);
    expect(await onHand(b.url, 'SKU-6')).toBe(seeded + 3);

    await redis.kill();
    await eventually(async () => (await call(`${a.url}/__admin/health`)).body.replica.redis === 'down', 'a sees Redis down');
    const refused = await call(`${a.url}/wms/v1/stock-adjustments`, adjust('SKU-6', 100));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.text).toMatch(/Redis/);
    expect((await call(`${b.url}/wms/v1/stock-adjustments`, adjust('SKU-6', 100))).status).toBe(503);
    // reads are served from what each replica applied
    expect(await onHand(b.url, 'SKU-6')).toBe(seeded + 3);
    const health = await call(`${a.url}/__admin/health`);
    expect(health.body.status).toBe('degraded');

    await redis.start();
    await eventually(async () => (await call(`${a.url}/wms/v1/stock-adjustments`, adjust('SKU-6', 1))).status === 200, 'writes resume on a');
    await eventually(async () => (await call(`${b.url}/wms/v1/stock-adjustments`, adjust('SKU-6', 1))).status === 200, 'writes resume on b');
    const after = [await onHand(a.url, 'SKU-6'), await onHand(b.url, 'SKU-6')];
    // the refused writes never happened; each replica's first write after the restart did
    expect(after[0]).toBe(after[1]);
    expect(after[0]).toBeLessThan(seeded + 100);
    expect(after[0]).toBeGreaterThanOrEqual(seeded + 5);
  }, 30_000);

  it('a workspace deleted on one replica is gone from all, and one made again under its name starts seeded', async () => {
    const p = prefix('delete');
    const a = await start(replicaOptions(p, 'a'));
    const b = await start(replicaOptions(p, 'b'));
    const seeded = await onHand(`${a.url}/w/scratch`, 'SKU-8');
    expect((await call(`${a.url}/w/scratch/wms/v1/stock-adjustments`, adjust('SKU-8', 4))).status).toBe(200);
    expect(await onHand(`${b.url}/w/scratch`, 'SKU-8')).toBe(seeded + 4);
    expect((await call(`${b.url}/w/scratch/__admin/workspace`, { method: 'DELETE' })).status).toBe(200);
    await eventually(async () => !a.workspaces.list().some((w) => w.name === 'scratch'), 'a lets go of the deleted workspace');
    expect(await onHand(`${a.url}/w/scratch`, 'SKU-8')).toBe(seeded);
    expect(await onHand(`${b.url}/w/scratch`, 'SKU-8')).toBe(seeded);
  });

  it('a replica configured otherwise than those sharing its prefix is refused, saying how; --reset-state starts the prefix over', async () => {
    const p = prefix('config');
    const a = await start(replicaOptions(p, 'a'));
    expect((await call(`${a.url}/wms/v1/stock-adjustments`, adjust('SKU-1', 1))).status).toBe(200);
    await expect(start({ ...replicaOptions(p, 'b'), seed: 8 })).rejects.toThrow(/configured otherwise: their seed is 7, this one's 8/);
    await expect(start({ ...replicaOptions(p, 'b'), profile: 'flaky-network' })).rejects.toThrow(/chaos profile/);
    await a.close(100);
    const fresh = await start({ ...replicaOptions(p, 'c'), seed: 8, resetState: true });
    const redis = redisClient();
    try {
      expect(await redis.exists(`${p}:{ws:default}:log`)).toBe(0);
    } finally {
      redis.disconnect();
    }
    expect((await call(`${fresh.url}/__admin/health`)).body.replica.id).toBe('c');
  });

  it('entries in the log that no replica wrote (garbage, unknown parts, missing fields) are skipped with a warning; state and service go on', async () => {
    const p = prefix('garbage');
    const a = await start(replicaOptions(p, 'a'));
    const b = await start(replicaOptions(p, 'b'));
    const seeded = await onHand(a.url, 'SKU-7');
    const redis = redisClient();
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => void warnings.push(args.join(' '));
    try {
      const log = `${p}:{ws:default}:log`;
      await redis.xadd(log, '*', 'p', 'wms', 'o', 'adjustStock', 'i', '{"not json', 'n', 'someone-else/1');
      await redis.xadd(log, '*', 'p', 'no-such-system', 'o', 'x', 'i', '{}');
      await redis.xadd(log, '*', 'garbage', 'only');
      await redis.xadd(log, '*', 'p', 'workspace', 'o', 'chaos', 'i', '[]');
      await redis.set(`${p}:{ws:default}:head`, (await redis.xrevrange(log, '+', '-', 'COUNT', 1))[0][0]);
      expect((await call(`${b.url}/wms/v1/stock-adjustments`, adjust('SKU-7', 2))).status).toBe(200);
      expect(await onHand(a.url, 'SKU-7')).toBe(seeded + 2);
      expect(await onHand(b.url, 'SKU-7')).toBe(seeded + 2);
      const chaos = (await call(`${a.url}/__admin/chaos`)).body;
      expect(chaos.profile.name).toBe('calm');
      expect(chaos.timeline).toHaveLength(1);
      expect(chaos.activatedAt).toBe((await call(`${b.url}/__admin/chaos`)).body.activatedAt);
      expect(warnings.filter((w) => /could not be applied/.test(w)).length).toBeGreaterThanOrEqual(2);
      expect(warnings.some((w) => /could not be applied/.test(w))).toBe(true);
    } finally {
      console.warn = warn;
      redis.disconnect();
    }
  });

  it('a Redis that does not answer stops start-up with a message naming it', async () => {
    await expect(createUnderstudy({ dataDir: '', redis: { url: 'redis://127.0.0.1:1', connectTimeoutMs: 300 } })).rejects.toThrow(RedisUnreachableError);
    await expect(createUnderstudy({ dataDir: '', redis: { url: 'redis://127.0.0.1:1', connectTimeoutMs: 300 } })).rejects.toThrow(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });
});

describeWithRedis('replicas: the command line', () => {
  it('refuses a --redis that is not a Redis URL, naming it', async () => {
    const out = await processOutcome(cliProcess(['serve', '--port', '0', '--data-dir', '', '--redis', 'http://example.com']));
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/--redis http:\/\/example\.com is not a Redis URL/);
  });

  it('refuses a redis: in the config file that is neither a Redis URL nor its object, naming the line and both forms', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'understudy-redis-config-'));
    try {
      for (const [text, line] of [
        ['redis: http://example.com\n', 1],
        ['port: 0\nredis: { url: redis://127.0.0.1:6379, claimTimeout: soon }\n', 2],
        ['redis: { url: redis://127.0.0.1:6379, prefix: "a*b" }\n', 1],
      ] as const) {
        const file = join(dir, 'understudy.yaml');
        writeFileSync(file, text);
        const out = await processOutcome(cliProcess(['serve', '--port', '0', '--data-dir', '', '--config', file]));
        expect(out.code).toBe(2);
        expect(out.stderr).toContain(`${file}:${line}:`);
        expect(out.stderr).toMatch(/redis: must be a Redis URL \(redis:\/\/host:6379, rediss:\/\/ for TLS\) or \{ url, prefix, replicaId, claimTimeout \}/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a key prefix with characters a key pattern would trip on', async () => {
    const out = await processOutcome(cliProcess(['serve', '--port', '0', '--data-dir', '', '--redis', REDIS_URL, '--redis-prefix', 'a*b']));
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/--redis-prefix a\*b is not a key prefix/);
  });
});
