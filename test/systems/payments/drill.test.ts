/**
 * The built-in payment-outage drill, walked through on a ManualClock: in the degraded phase acknowledgements are
 * lost (504 after the charge was made), and a client that retries with its Idempotency-Key ends with exactly one
 * charge per order, while the same client retrying without keys leaves double charges behind; in the outage
 * every gateway request is a 503 in Stripe's shape with Retry-After and executes nothing; in the recovery a
 * client gets 5 requests a second; then all is calm.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../../src/util/clock.js';
import { ManualScheduler } from '../../../src/util/scheduler.js';
import { call, start, type JsonResponse } from '../../helpers.js';
import { charges, expectJournalConforms, ledger, order, post } from './http-support.js';

const bases: string[] = [];
afterEach(async () => {
  for (const base of bases.splice(0)) await expectJournalConforms(base);
});

const MINUTE = 60_000;

async function drill() {
  const clock = new ManualClock(Date.UTC(2026, 11, 2, 9, 0, 0));
  const scheduler = new ManualScheduler(clock);
  const server = await start({ seed: 31, clock, scheduler, profile: 'payment-outage' });
  bases.push(server.url);
  /** a request whose reply the injected latency holds: time moves on exactly as far as the hold */
  const held = async (request: Promise<JsonResponse>): Promise<JsonResponse | 'lost'> => {
    const settled = request.then(
      (r) => r,
      () => 'lost' as const,
    );
    for (;;) {
      const done = await Promise.race([settled, scheduler.whenPending().then(() => undefined)]);
      if (done !== undefined) return done;
      scheduler.advance(scheduler.pending[0]);
    }
  };
  return { url: server.url, clock, scheduler, held };
}

describe('the payment-outage drill', () => {
  it('degraded: lost acknowledgements are safe to retry with the key, and double charges without it', async () => {
    const { url, clock, held } = await drill();
    clock.advance(MINUTE);
    const outcomes: Record<string, number> = {};
    const note = (r: JsonResponse | 'lost') => {
      const k = r === 'lost' ? 'lost' : String(r.status);
      outcomes[k] = (outcomes[k] ?? 0) + 1;
    };
    // with keys: every order retried until it has its charge
    for (let n = 1; n <= 12; n++) {
      for (let attempt = 1; ; attempt++) {
        const r = await held(post(url, '/charges', order(`K-${n}`), { key: `K-${n}`, client: 'careful' }));
        note(r);
        if (r !== 'lost' && r.status === 201) break;
        expect(attempt).toBeLessThan(20);
      }
    }
    expect(outcomes['504'], JSON.stringify(outcomes)).toBeGreaterThan(0);
    const careful = (await charges(url)).filter((c) => c.metadata.order_id.startsWith('K-'));
    expect(careful).toHaveLength(12);
    expect((await call(`${url}/__admin/payments/duplicates`)).body.duplicates.filter((d: any) => d.client === 'careful')).toEqual([]);

    // without keys: a 504 is retried blindly, and the lost charge is charged again
    let lost = 0;
    for (let n = 1; n <= 12; n++) {
      for (let attempt = 1; ; attempt++) {
        const r = await held(post(url, '/charges', order(`N-${n}`), { client: 'careless' }));
        if (r !== 'lost' && r.status === 504) lost++;
        if (r !== 'lost' && r.status === 201) break;
        expect(attempt).toBeLessThan(20);
      }
    }
    expect(clock.now() - Date.UTC(2026, 11, 2, 9, 0, 0)).toBeLessThan(2 * MINUTE); // still in the degraded phase
    expect(lost).toBeGreaterThan(0);
    const careless = (await charges(url)).filter((c) => c.metadata.order_id.startsWith('N-'));
    expect(careless.length).toBe(12 + lost);
    const duplicates = (await call(`${url}/__admin/payments/duplicates`)).body.duplicates.filter((d: any) => d.client === 'careless');
    expect(duplicates.reduce((sum: number, d: any) => sum + d.charges.length - 1, 0)).toBe(lost);
    expect((await ledger(url)).length).toBe(12 + 12 + lost);
  });

  it('outage: 503 with Retry-After in Stripe\'s shape, nothing executed; recovery: 5 a second; then calm', async () => {
    const { url, clock, scheduler } = await drill();
    clock.advance(2 * MINUTE);
    const down = await post(url, '/charges', order(1), { key: 'during-outage' });
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('30');
    expect(down.body.error.type).toBe('api_error');
    expect((await call(`${url}/payments/v1/ledger`)).status).toBe(503);

    clock.advance(3 * MINUTE);
    // sent together: the refused are answered at once, the admitted held by the recovery's latency; the clock
    // stands still until all eight have arrived, so the bucket does not refill in between
    let answered = 0;
    const sent = Array.from({ length: 8 }, (_, i) => post(url, '/customers', { name: `c${i}` }, { client: 'recovering' }).then((r) => (answered++, r)));
    await scheduler.whenPending(5);
    await vi.waitFor(() => expect(answered).toBe(3));
    scheduler.advance(1500);
    const burst = await Promise.all(sent);
    expect(burst.map((r) => r.status).sort()).toEqual([201, 201, 201, 201, 201, 429, 429, 429]);

    clock.advance(2 * MINUTE);
    // calm again: the key refused during the outage was never stored, so the charge executes now
    const after = await post(url, '/charges', order(1), { key: 'during-outage' });
    expect(after.status).toBe(201);
    expect(after.headers.get('idempotent-replayed')).toBeNull();
    expect(await charges(url)).toHaveLength(1);
  });
});
