/**
 * Deliveries are durable: subscriptions, events not yet delivered, attempts and dead letters live in the
 * workspace's store. A server killed with SIGKILL in the middle of a retry delivers the event after it restarts,
 * and a graceful restart (with the book folded into snapshots along the way) shows the same records.
 */
import type { ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startServer } from '../../src/server.js';
import { call, json, serveProcess } from '../helpers.js';
import { Sink } from './sink.js';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

describe('durable deliveries', () => {
  it('a server killed mid-retry delivers the event after it restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'understudy-deliveries-'));
    const hooks = await Sink.start();
    let healthy = false;
    hooks.answer = () => (healthy ? 200 : 503);

    const first = await serveProcess(dir, 11);
    children.push(first.child);
    // the retry waits 2-4 s: long enough that the kill lands before it, short enough for the test
    const sub = await call(`${first.url}/__admin/subscriptions`, json({ url: hooks.url, events: ['reservation.created'], secret: 'k9', retry: { base: '4s' } }));
    expect(sub.status).toBe(201);
    expect((await call(`${first.url}/wms/v1/reservations`, json({ externalOrderId: 'K-1', lines: [{ sku: 'SKU-1', quantity: 2 }] }))).status).toBe(201);
    await hooks.waitFor((got) => got.length === 1, 'the first attempt');
    const eventId = hooks.received[0].event.id;
    // the failed attempt is on record before the kill
    await vi.waitFor(async () => {
      const [d] = (await call(`${first.url}/__admin/deliveries`)).body.deliveries;
      expect(d.status).toBe('retrying');
    });
    first.child.kill('SIGKILL');
    await first.exited;

    healthy = true;
    const second = await serveProcess(dir, 11);
    children.push(second.child);
    expect((await call(`${second.url}/__admin/subscriptions`)).body.subscriptions.map((s: any) => s.id)).toEqual([sub.body.id]);
    await hooks.waitFor((got) => got.length === 2, 'the retry after the restart');
    expect(hooks.received[1].event.id).toBe(eventId);
    const [delivered] = await vi.waitFor(async () => {
      const list = (await call(`${second.url}/__admin/deliveries`)).body.deliveries;
      expect(list[0].status).toBe('delivered');
      return list;
    });
    expect(delivered.attempts.map((a: any) => a.status)).toEqual([503, 200]);
    // on the schedule it had: no earlier than the backoff's lower bound (base/2) after the first answer
    expect(Date.parse(delivered.attempts[1].at) - Date.parse(delivered.attempts[0].at)).toBeGreaterThanOrEqual(2000 - 5);
    second.child.kill('SIGKILL');
    await second.exited;
  });

  it('a graceful restart shows the same subscriptions and deliveries, from snapshots and the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'understudy-deliveries-'));
    const hooks = await Sink.start();
    hooks.answer = (r) => (['G-3', 'G-7'].includes(r.event.data?.externalOrderId) ? 500 : 200);
    const options = { port: 0, dataDir: dir, seed: 12, store: { snapshotEvery: 7, snapshotPause: 0 } };
    const first = await startServer(options);
    await call(`${first.url}/__admin/subscriptions`, json({ url: hooks.url, events: ['reservation.created'], secret: 'g', retry: { base: '1h', maxAttempts: 2 } }));
    for (let i = 1; i <= 12; i++) await call(`${first.url}/wms/v1/reservations`, json({ externalOrderId: `G-${i}`, lines: [{ sku: `SKU-${i}`, quantity: 1 }] }));
    await hooks.waitFor((got) => got.length === 12);
    const before = await vi.waitFor(async () => {
      const list = (await call(`${first.url}/__admin/deliveries`)).body.deliveries;
      expect(list.filter((d: any) => d.status === 'delivered')).toHaveLength(10);
      return list;
    });
    await first.close();

    const second = await startServer(options);
    try {
      const after = (await call(`${second.url}/__admin/deliveries`)).body.deliveries;
      expect(after).toEqual(before);
      expect(after.filter((d: any) => d.status === 'retrying')).toHaveLength(2);
    } finally {
      await second.close();
    }
  });

  it('a rotated secret of a config-file subscription survives a reset of the state, snapshots and a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'understudy-deliveries-'));
    const hooks = await Sink.start();
    const options = {
      port: 0,
      dataDir: dir,
      seed: 13,
      store: { snapshotEvery: 2, snapshotPause: 0 },
      subscriptions: [
        { id: 'cfg', workspace: 'default', target: 'webhook' as const, url: hooks.url, events: ['reservation.created'], secrets: [{ secret: 'from-config', until: null }], retry: null, timeoutMs: null, concurrency: null, salesforce: null },
      ],
    };
    const first = await startServer(options);
    expect((await call(`${first.url}/__admin/subscriptions/cfg/rotate-secret`, json({ secret: 'rotated', grace: '0s' }))).status).toBe(200);
    expect((await call(`${first.url}/__admin/reset`, json({ scope: 'state' }))).status).toBe(200);
    for (let i = 1; i <= 4; i++) await call(`${first.url}/wms/v1/reservations`, json({ externalOrderId: `RS-${i}`, lines: [{ sku: 'SKU-1', quantity: 1 }] }));
    await hooks.waitFor((got) => got.length === 4);
    await first.close();
    const second = await startServer(options);
    try {
      await call(`${second.url}/wms/v1/reservations`, json({ externalOrderId: 'RS-5', lines: [{ sku: 'SKU-1', quantity: 1 }] }));
      await hooks.waitFor((got) => got.length === 5);
      for (const r of hooks.received) {
        const header = String(r.headers['stripe-signature']);
        const t = /t=(\d+)/.exec(header)![1];
        expect(header).toContain(`v1=${createHmac('sha256', 'rotated').update(`${t}.${r.body}`).digest('hex')}`);
        expect(header.match(/v1=/g)).toHaveLength(1);
      }
    } finally {
      await second.close();
    }
  });
});
