/**
 * The built-in drills do what their header comments say, reached the way a CI drill reaches them: the timeline
 * moved straight to the interesting phase (POST /__admin/chaos/timeline, what `understudy drill --start-at` sends)
 * instead of sitting through the calm. payment-outage: in `errors` a share of gateway requests gets 503 with a
 * Retry-After date rounded up to the second, in `outage` every request a 503 with Retry-After 30; wms-rate-limits:
 * in `limited` the sixth reservation of a client within 10 s and its 31st request within the minute get 429 with
 * Retry-After, per client. Time is a ManualClock.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { call, json, start } from '../helpers.js';

async function drill(profile: string) {
  // a clock part-way through a second, so that a Retry-After date has something to round
  const clock = new ManualClock(Date.UTC(2026, 2, 3, 10, 0, 0) + 250);
  const s = await start({ clock, scheduler: new ManualScheduler(clock), seed: 9, profile });
  return { url: s.url, clock };
}

const jumpTo = async (url: string, phase: string) => {
  const r = await call(`${url}/__admin/chaos/timeline`, json({ phase }));
  expect(r.status, r.text).toBe(200);
  expect(r.body.phase.name).toBe(phase);
};

describe('payment-outage', () => {
  it('errors: some gateway requests get 503 with a Retry-After date, never earlier than 3 s ahead; outage: every one 503, Retry-After 30', async () => {
    const { url, clock } = await drill('payment-outage');
    // calm first: the gateway answers
    expect((await call(`${url}/payments/v1/ledger`)).status).toBe(200);
    await jumpTo(url, 'errors');
    const answers = [];
    for (let i = 0; i < 40; i++) answers.push(await call(`${url}/payments/v1/ledger`, { headers: { 'x-understudy-client': `c${i % 4}` } }));
    const shed = answers.filter((r) => r.status === 503);
    expect(shed.length).toBeGreaterThan(3);
    expect(shed.length).toBeLessThan(25);
    expect(answers.every((r) => r.status === 200 || r.status === 503)).toBe(true);
    for (const r of shed) {
      const date = r.headers.get('retry-after')!;
      expect(date).toMatch(/ GMT$/);
      expect(Date.parse(date)).toBe(Math.ceil((clock.now() + 3_000) / 1000) * 1000);
      expect(r.body.error.type).toBe('api_error');
    }

    await jumpTo(url, 'outage');
    for (const path of ['/payments/v1/ledger', '/payments/v1/charges']) {
      const down = await call(`${url}${path}`);
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('30');
    }
  });
});

describe('wms-rate-limits', () => {
  const reserve = (url: string, client: string, n: number) =>
    call(`${url}/wms/v1/reservations`, json({ externalOrderId: `${client}-${n}`, lines: [{ sku: 'SKU-1', quantity: 1 }] }, { 'x-understudy-client': client }));

  it('limited: five reservations per 10 s and 30 requests a minute per client, then 429 with Retry-After', async () => {
    const { url, clock } = await drill('wms-rate-limits');
    // calm: no limit yet
    for (let n = 1; n <= 8; n++) expect((await reserve(url, 'early', n)).status).toBe(201);
    await jumpTo(url, 'limited');
    for (let n = 1; n <= 5; n++) expect((await reserve(url, 'burst', n)).status).toBe(201);
    const refused = await reserve(url, 'burst', 6);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('ratelimit')).toMatch(/^"reservations-limited";r=0;t=\d+$/);
    // another client has its own allowance
    expect((await reserve(url, 'other', 1)).status).toBe(201);
    // the bucket refills: two seconds give one more reservation
    clock.advance(2_000);
    expect((await reserve(url, 'burst', 6)).status).toBe(201);

    // every WMS request counts against 30 a minute per client
    const statuses = [];
    for (let i = 0; i < 30; i++) statuses.push((await call(`${url}/wms/v1/inventory/SKU-2`, { headers: { 'x-understudy-client': 'reader' } })).status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const over = await call(`${url}/wms/v1/inventory/SKU-2`, { headers: { 'x-understudy-client': 'reader' } });
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBeTruthy();
  });
});
