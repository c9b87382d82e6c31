/**
 * The Redis test harness itself (test/replicas/redis-harness.ts): the shared Redis answers, a prefix is dropped
 * without touching another prefix's keys, a private redis-server keeps its data across SIGTERM and SIGKILL
 * restarts, and a replica process starts against a prefix and answers.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers.js';
import {
  describeWithRedis,
  dropPrefix,
  privateRedisAvailable,
  redisClient,
  startPrivateRedis,
  startReplicaProcess,
  uniquePrefix,
} from './redis-harness.js';

describe('uniquePrefix', () => {
  it('gives a different prefix each time, naming the test, with nothing a SCAN pattern would read as a wildcard', () => {
    const a = uniquePrefix('harness test*[x]');
    const b = uniquePrefix('harness test*[x]');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^t-harness-test-x--\d+-[0-9a-f]{8}$/);
  });
});

describeWithRedis('the shared Redis', () => {
  // made in beforeAll, not here: a skipped describe's body still runs (to list its tests), and a client made here
  // would keep reconnecting to a Redis that is not there
  let client: Redis;
  beforeAll(() => {
    client = redisClient();
  });
  const mine = uniquePrefix('harness');
  const neighbour = uniquePrefix('harness-neighbour');

  afterAll(async () => {
    await dropPrefix(mine);
    await dropPrefix(neighbour);
    await client.quit();
  });

  it('answers PING', async () => {
    expect(await client.ping()).toBe('PONG');
  });

  it('dropPrefix removes every key under the prefix (more than one SCAN page) and no other key', async () => {
    const pipeline = client.pipeline();
    for (let i = 0; i < 2500; i++) pipeline.set(`${mine}:{ws:w${i % 7}}:k${i}`, String(i));
    pipeline.set(`${neighbour}:kept`, 'yes');
    // a key that starts like the prefix but is not under it (no colon after) must survive too
    pipeline.set(`${mine}x:kept`, 'yes');
    await pipeline.exec();

    await dropPrefix(mine);

    const [, left] = await client.scan('0', 'MATCH', `${mine}:*`, 'COUNT', 10_000);
    expect(left).toEqual([]);
    expect(await client.get(`${neighbour}:kept`)).toBe('yes');
    expect(await client.get(`${mine}x:kept`)).toBe('yes');
    await client.del(`${mine}x:kept`);
  });

  it('startReplicaProcess starts `understudy serve --redis` with the prefix and id, and it answers', async () => {
    const replica = await startReplicaProcess(mine, { replicaId: 'harness-r1', seed: 7 });
    try {
      expect(replica.replicaId).toBe('harness-r1');
      const res = await call(`${replica.url}/__admin/health`);
      expect(res.status).toBe(200);
    } finally {
      replica.child.kill('SIGKILL');
      await replica.exited;
    }
  });
});

describe.skipIf(!privateRedisAvailable)('a private redis-server', () => {
  it('keeps what was written across a SIGTERM stop and a SIGKILL crash, on the same port', async () => {
    const redis = await startPrivateRedis();
    const client = redisClient(redis.url);
    try {
      await client.set('before-stop', '1');
      await redis.stop();
      await expect(client.ping()).rejects.toThrow();

      await redis.start();
      expect(await client.get('before-stop')).toBe('1');
      // appendfsync always: an acknowledged write is on disk even if the server dies right after
      await client.set('before-kill', '2');
      await redis.kill();

      await redis.start();
      expect(await client.get('before-stop')).toBe('1');
      expect(await client.get('before-kill')).toBe('2');
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    } finally {
      client.disconnect();
      await redis.stop();
    }
  });

  it('refuses to start twice', async () => {
    const redis = await startPrivateRedis();
    try {
      await expect(redis.start()).rejects.toThrow(/while it is running/);
    } finally {
      await redis.stop();
    }
  });
});
