/**
 * Received Outbound Messages are durable: a notification delivered before a restart on the same data directory
 * and again after it is counted as a duplicate (the receiver's writes are logged and replayed, or restored from
 * a snapshot), and a `state` reset stays done.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../../src/server.js';
import { ManualClock } from '../../../src/util/clock.js';
import { call, json } from '../../helpers.js';
import { account, envelope, notificationId } from './fixtures.js';
import { ackOf, post, received } from './http-support.js';

/** A server on the directory; every test closes what it starts (the directory allows one at a time). */
function serve(dir: string, clock: ManualClock): Promise<RunningServer> {
  // only the receiver: the other systems' stores have nothing to do with it
  return startServer({ port: 0, dataDir: dir, clock, seed: 7, systems: { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false }, erp: { enabled: false } } });
}

describe('the receiver across a restart', () => {
  it('still detects a duplicate of a notification received before it, with its listener, Ack and times', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'understudy-outbound-'));
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 9, 0, 0));
    const first = await serve(dir, clock);
    expect(ackOf(await post(first.url, '/sfdc/outbound', envelope([account(1), account(2)])))).toBe(true);
    clock.advance(1000);
    expect(ackOf(await post(first.url, '/sfdc/outbound/orders', envelope([account(3)])))).toBe(true);
    expect(ackOf(await post(first.url, '/w/ci-1/sfdc/outbound', envelope([account(4)])))).toBe(true);
    const before = await received(first.url);
    await first.close(100);

    clock.advance(60_000);
    const second = await serve(dir, clock);
    try {
      expect(await received(second.url)).toEqual(before);
      expect(ackOf(await post(second.url, '/sfdc/outbound', envelope([account(2)])))).toBe(true);
      expect(ackOf(await post(second.url, '/w/ci-1/sfdc/outbound', envelope([account(4)])))).toBe(true);
      const after = await received(second.url);
      expect(after.map((n) => [n.id, n.listener, n.deliveries, n.duplicate])).toEqual([
        [notificationId(2), 'default', 2, true],
        [notificationId(3), 'orders', 1, false],
        [notificationId(1), 'default', 1, false],
      ]);
      expect(after[0]).toMatchObject({ firstReceived: '2026-01-01T09:00:00.000Z', lastReceived: '2026-01-01T09:01:01.000Z' });
      expect((await received(`${second.url}/w/ci-1`)).map((n) => [n.id, n.deliveries, n.duplicate])).toEqual([[notificationId(4), 2, true]]);
      expect((await call(`${second.url}/__admin/reset`, json({ scope: 'state' }))).status).toBe(200);
    } finally {
      await second.close(100);
    }

    const third = await serve(dir, clock);
    try {
      expect(await received(third.url)).toEqual([]);
    } finally {
      await third.close(100);
    }
  });
});
