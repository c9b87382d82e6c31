/**
 * Webhooks end to end, through real sockets: a local sink subscribes, WMS changes are made through the API, and
 * what arrives is checked the way a receiver would check it — signatures verified by Stripe's own library, every
 * event at least once, duplicates exactly as the profile asks, and the same changes the change feed shows.
 */
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { call, json, start } from '../helpers.js';
import { Sink } from './sink.js';

const stripe = new Stripe('sk_test_understudy');
const SECRET = 'whsec_test_secret';

const sink = (): Promise<Sink> => Sink.start();

/** every change feed entry after `cursor`, all pages */
async function feedSince(url: string, cursor: string): Promise<{ changes: any[]; cursor: string }> {
  const changes: any[] = [];
  for (;;) {
    const page = await call(`${url}/wms/v1/changes?cursor=${cursor}&limit=500`);
    expect(page.status).toBe(200);
    changes.push(...page.body.changes);
    cursor = page.body.nextCursor;
    if (!page.body.hasMore) return { changes, cursor };
  }
}

async function latestCursor(url: string): Promise<string> {
  let cursor = '';
  for (;;) {
    const page = await call(`${url}/wms/v1/changes?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    cursor = page.body.nextCursor;
    if (!page.body.hasMore) return cursor;
  }
}

function recordKey(type: string, data: any): string {
  if (type.startsWith('inventory.')) return `inventory:${data.sku}`;
  if (type.startsWith('reservation.')) return `reservation:${data.id}`;
  return `shipment:${data.id}`;
}

/** some WMS traffic: reservations, a shipment through its lifecycle, a release, a stock adjustment */
async function traffic(url: string, tag: string): Promise<void> {
  const made: string[] = [];
  for (let i = 1; i <= 3; i++) {
    const r = await call(`${url}/wms/v1/reservations`, json({ externalOrderId: `${tag}-${i}`, lines: [{ sku: `SKU-${i}`, quantity: 1 }] }));
    expect(r.status).toBe(201);
    made.push(r.body.id);
  }
  const shipment = await call(`${url}/wms/v1/shipments`, json({ reservationId: made[0], carrier: 'UPS' }));
  expect(shipment.status).toBe(201);
  for (const status of ['picked', 'packed']) {
    const moved = await call(`${url}/wms/v1/shipments/${shipment.body.id}/status`, json({ status }));
    expect(moved.status).toBe(200);
  }
  expect((await call(`${url}/wms/v1/reservations/${made[1]}`, { method: 'DELETE' })).status).toBe(200);
  const adjusted = await call(`${url}/wms/v1/stock-adjustments`, json({ adjustments: [{ sku: 'SKU-9', warehouseId: 'WH-RTM-01', delta: 5, reason: 'cycle count' }] }));
  expect(adjusted.status).toBe(200);
}

describe('webhook deliveries', () => {
  it('sends every change, signed, at least once, and the change feed shows the same changes', async () => {
    const server = await start({ seed: 7 });
    const hooks = await sink();
    const created = await call(`${server.url}/__admin/subscriptions`, json({ url: hooks.url, events: ['*'], secret: SECRET }));
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(/^sub_/);
    expect(JSON.stringify(created.body)).not.toContain(SECRET);
    const cursor = await latestCursor(server.url);

    await traffic(server.url, 'ORD-A');
    const { changes } = await feedSince(server.url, cursor);
    const expected = new Map(changes.map((c) => [`${c.entity}:${c.id}`, c.data]));
    // every record the feed shows has arrived in its latest version
    await hooks.waitFor((got) => [...expected].every(([key, data]) => got.some((r) => recordKey(r.event.type, r.event.data) === key && JSON.stringify(r.event.data) === JSON.stringify(data))), 'every change');

    for (const r of hooks.received) {
      // Stripe's own verifier accepts what understudy signed, with the receiver's secret and the raw body
      const verified = stripe.webhooks.constructEvent(r.body, r.headers['stripe-signature'] as string, SECRET);
      expect(verified.id).toBe(r.event.id);
      expect(r.event).toMatchObject({ system: 'wms' });
      expect(r.event.id).toMatch(/^evt_[A-Za-z0-9_-]{24}$/);
      expect(Date.parse(r.event.created)).not.toBeNaN();
    }
    // push and poll agree: the same records changed, and nothing arrived for a record the feed does not show
    const pushed = new Set(hooks.received.map((r) => recordKey(r.event.type, r.event.data)));
    expect([...pushed].sort()).toEqual([...expected.keys()].sort());
    const types = new Set(hooks.received.map((r) => r.event.type));
    for (const t of ['reservation.created', 'reservation.released', 'reservation.updated', 'shipment.status_changed', 'inventory.changed']) expect(types).toContain(t);

    // the admin API's record: every delivery delivered, with its attempt and time to acknowledgement
    const deliveries = await call(`${server.url}/__admin/deliveries?limit=1000`);
    expect(deliveries.status).toBe(200);
    const ids = new Set(hooks.received.map((r) => r.event.id));
    expect(new Set(deliveries.body.deliveries.map((d: any) => d.eventId))).toEqual(ids);
    for (const d of deliveries.body.deliveries) {
      if (d.status !== 'delivered') continue;
      expect(d.attempts[0]).toMatchObject({ status: 200, error: null });
      expect(d.timeToAckMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('with duplicate {probability: 1, copies: 2}, each event id arrives exactly twice', async () => {
    const server = await start({ seed: 8 });
    const hooks = await sink();
    const profile = 'name: twice\nrules: []\ndeliveries:\n  - match: { system: wms }\n    duplicate: { probability: 1, copies: 2 }\n';
    expect((await call(`${server.url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: profile })).status).toBe(200);
    expect((await call(`${server.url}/__admin/subscriptions`, json({ url: hooks.url, events: ['reservation.*', 'inventory.*'], secret: SECRET }))).status).toBe(201);
    await traffic(server.url, 'ORD-B');

    const deliveries = async () => (await call(`${server.url}/__admin/deliveries?limit=1000`)).body.deliveries as any[];
    const all = await deliveries();
    expect(all.length).toBeGreaterThan(5);
    await hooks.waitFor((got) => got.length === all.length * 2, 'two copies of every event');
    const counts = new Map<string, number>();
    for (const r of hooks.received) counts.set(r.event.id, (counts.get(r.event.id) ?? 0) + 1);
    expect([...counts.values()].every((n) => n === 2)).toBe(true);
    expect(counts.size).toBe(all.length);
    for (const d of await deliveries()) {
      expect(d.duplicates).toBe(1);
      expect(d.attempts.filter((a: any) => a.faults.some((f: any) => f.kind === 'duplicate'))).toHaveLength(1);
    }
  });
});
