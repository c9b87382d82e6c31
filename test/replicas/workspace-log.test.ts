/**
 * The shared log's snapshot guard (replicas/workspace-log.ts): replicas count entries since their own start, so one
 * that lags can reach its snapshot turn at an older position than the snapshot Redis keeps. It must never put that
 * older snapshot over the newer one, whose previous position the stream is already trimmed to.
 */
import { afterAll, expect, it } from 'vitest';
import { RedisLink } from '../../src/replicas/redis-link.js';
import { WorkspaceLog } from '../../src/replicas/workspace-log.js';
import { describeWithRedis, dropPrefix, REDIS_URL, uniquePrefix } from './redis-harness.js';

const prefix = uniquePrefix('workspace-log');
afterAll(() => dropPrefix(prefix));

type Snapshot = { understudySnapshot(snapshot: string, stream: string, position: string, ...parts: string[]): Promise<number> };

describeWithRedis('the shared log keeps its newest snapshot', () => {
  it('writes a newer snapshot and trims behind the one it replaces; refuses an older or equal one', async () => {
    const link = await RedisLink.open({ url: REDIS_URL, prefix, replicaId: 'guard' });
    try {
      new WorkspaceLog(link, 'ws'); // defines the scripts on the link's connection
      const commands = link.commands as unknown as Snapshot;
      const stream = link.key('ws', 'log');
      const snapshot = link.key('ws', 'snapshot');
      for (let ms = 100; ms <= 500; ms += 100) await link.commands.xadd(stream, `${ms}-0`, 'p', 'wms', 'o', 'x', 'i', '{}', 'n', `n${ms}`);

      expect(await commands.understudySnapshot(snapshot, stream, '200-0', 'part:wms', 'c3RhdGUtMjAw')).toBe(1);
      expect(await link.commands.xlen(stream)).toBe(5); // nothing to trim behind: there was no snapshot before
      expect(await commands.understudySnapshot(snapshot, stream, '400-0', 'part:wms', 'c3RhdGUtNDAw')).toBe(1);
      // trimmed behind the snapshot it replaced (200-0 stays: a replica reading that one goes on from it)
      expect((await link.commands.xrange(stream, '-', '+')).map(([id]) => id)).toEqual(['200-0', '300-0', '400-0', '500-0']);

      // a lagging replica's turn at 300-0, and a second one at 400-0: both refused, nothing changes
      expect(await commands.understudySnapshot(snapshot, stream, '300-0', 'part:wms', 'c3RhbGU=')).toBe(0);
      expect(await commands.understudySnapshot(snapshot, stream, '400-0', 'part:wms', 'c3RhbGU=')).toBe(0);
      // `trimmed` says where the stream was cut: a replica that applied less than that must take the snapshot
      expect(await link.commands.hgetall(snapshot)).toEqual({ position: '400-0', 'part:wms': 'c3RhdGUtNDAw', trimmed: '200-0' });
      expect(await link.commands.xlen(stream)).toBe(4);
    } finally {
      await link.close();
    }
  });
});
