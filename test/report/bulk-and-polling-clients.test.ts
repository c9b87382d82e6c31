/**
 * The report card's checks of how a client uses an API, judged on real clients over real sockets:
 * - bulk.singleRecordBursts: adjustStock takes up to 500 adjustments a call; a client that sends them one per
 *   call (a trigger calling out per record) warns from 10 in 10 s and fails from 100, one call carrying them all
 *   passes;
 * - polling.waste: listChanges polled fast while nothing changes (with the cursor, or without it, receiving the
 *   same records again) fails; polled as often as things change passes; twice as often as they change warns;
 * - fetch.overFetching: a third-party read that offers `fields=` (a contract fixture), read whole or selected.
 */
import { describe, expect, it } from 'vitest';
import { start } from '../helpers.js';
import { checkOf, report, send, succeeded, type Outcome } from './wms-clients.js';

const CATALOGUE = new URL('../fixtures/catalogue-fields.openapi.yaml', import.meta.url).pathname;

async function warehouseOf(base: string): Promise<string> {
  const list = await send(base, 'setup', 'GET', '/wms/v1/warehouses');
  expect(list.status).toBe(200);
  return list.body.warehouses[0].warehouseId;
}

const adjustment = (sku: number, warehouseId: string) => ({ sku: `SKU-${sku}`, warehouseId, delta: 1, reason: 'receipt' });

/** `calls` adjustStock calls of one adjustment each, `concurrency` at a time (as per-record callouts go out) */
async function singleRecordCalls(base: string, client: string, warehouseId: string, calls: number, concurrency = 1): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) {
        const n = next++;
        outcomes.push(await send(base, client, 'POST', '/wms/v1/stock-adjustments', { json: { adjustments: [adjustment((n % 20) + 1, warehouseId)] } }));
      }
    }),
  );
  return outcomes;
}

describe('bulk.singleRecordBursts', () => {
  it('warns on 15 single-record calls, fails on 120, passes one call of 50, and has nothing to judge without calls', async () => {
    const { url } = await start({ seed: 3, systems: { wms: { skus: 20 } } });
    const wh = await warehouseOf(url);

    expect((await singleRecordCalls(url, 'per-record-15', wh, 15)).every(succeeded)).toBe(true);
    expect((await singleRecordCalls(url, 'per-record-120', wh, 120, 8)).every(succeeded)).toBe(true);
    const batch = await send(url, 'batches-50', 'POST', '/wms/v1/stock-adjustments', { json: { adjustments: Array.from({ length: 50 }, (_, i) => adjustment((i % 20) + 1, wh)) } });
    expect(batch.status).toBe(200);
    expect(batch.body.applied).toBe(50);
    // reads stock but never adjusts it
    expect((await send(url, 'reads-only', 'GET', '/wms/v1/inventory/SKU-1')).status).toBe(200);

    const r = await report(url);
    const fifteen = checkOf(r, 'per-record-15', 'bulk.singleRecordBursts');
    expect(fifteen.status, fifteen.explanation).toBe('warn');
    expect(fifteen.value).toEqual({ singleRecordCalls: 15, largestBurst: 15 });
    expect(fifteen.evidence.entries).toHaveLength(15);

    const hundredTwenty = checkOf(r, 'per-record-120', 'bulk.singleRecordBursts');
    expect(hundredTwenty.status, hundredTwenty.explanation).toBe('fail');
    expect(hundredTwenty.value).toEqual({ singleRecordCalls: 120, largestBurst: 120 });
    expect(hundredTwenty.explanation).toMatch(/100/);

    const batched = checkOf(r, 'batches-50', 'bulk.singleRecordBursts');
    expect(batched.status, batched.explanation).toBe('pass');
    expect(batched.value).toEqual({ singleRecordCalls: 0, largestBurst: 0 });
    expect(batched.evidence.entries).toHaveLength(1);

    const none = checkOf(r, 'reads-only', 'bulk.singleRecordBursts');
    expect(none.status, none.explanation).toBe('n/a');
  });
});

/** A poller of the change feed: a first sync (every page), then `polls` more polls, `between(i)` before poll i. */
async function poll(base: string, client: string, options: { polls: number; keepCursor: boolean; between?: (i: number) => Promise<void> }): Promise<number[]> {
  const received: number[] = [];
  let cursor: string | null = null;
  const page = async () => {
    const query = options.keepCursor && cursor !== null ? `?cursor=${encodeURIComponent(cursor)}` : '';
    const got = await send(base, client, 'GET', `/wms/v1/changes${query}`);
    expect(got.status, JSON.stringify(got.body)).toBe(200);
    cursor = got.body.nextCursor;
    for (const c of got.body.changes) received.push(c.seq);
    return got.body.hasMore as boolean;
  };
  while (await page()); // the first sync, to the last page
  for (let i = 1; i <= options.polls; i++) {
    await options.between?.(i);
    await page();
  }
  return received;
}

describe('polling.waste', () => {
  it('fails fast idle polling, with or without the cursor; passes polling as often as things change; warns polling twice as often', async () => {
    const { url } = await start({ seed: 3, systems: { wms: { skus: 20 } } });
    const wh = await warehouseOf(url);
    let sku = 0;
    const changeSomething = async () => {
      const made = await send(url, 'warehouse-floor', 'POST', '/wms/v1/stock-adjustments', { json: { adjustments: [adjustment((sku++ % 20) + 1, wh)] } });
      expect(made.status).toBe(200);
    };

    // nothing changes while these poll
    const idle = await poll(url, 'idle-cursor-poller', { polls: 20, keepCursor: true });
    expect(idle).toHaveLength(20); // the first sync's 20 inventory records, then nothing
    const blind = await poll(url, 'no-cursor-poller', { polls: 20, keepCursor: false });
    expect(blind).toHaveLength(21 * 20); // the same 20 records every time
    const twice = await poll(url, 'two-polls-only', { polls: 1, keepCursor: true });
    expect(twice).toHaveLength(20);

    // something changes before every poll: each brings the change
    const busy = await poll(url, 'busy-cursor-poller', { polls: 10, keepCursor: true, between: changeSomething });
    expect(busy).toHaveLength(20 + 10);
    // something changes before every third poll
    const eager = await poll(url, 'eager-cursor-poller', { polls: 9, keepCursor: true, between: (i) => (i % 3 === 0 ? changeSomething() : Promise.resolve()) });
    expect(eager).toHaveLength(20 + 3);

    const r = await report(url);
    const idleCheck = checkOf(r, 'idle-cursor-poller', 'polling.waste');
    expect(idleCheck.status, idleCheck.explanation).toBe('fail');
    expect(idleCheck.value).toEqual({ polls: 21, empty: 20, share: 0.952 });
    expect(idleCheck.evidence.entries).toHaveLength(20);

    const blindCheck = checkOf(r, 'no-cursor-poller', 'polling.waste');
    expect(blindCheck.status, blindCheck.explanation).toBe('fail');
    expect(blindCheck.value).toEqual({ polls: 21, empty: 20, share: 0.952 });

    const busyCheck = checkOf(r, 'busy-cursor-poller', 'polling.waste');
    expect(busyCheck.status, busyCheck.explanation).toBe('pass');
    expect(busyCheck.value).toEqual({ polls: 11, empty: 0, share: 0 });

    const eagerCheck = checkOf(r, 'eager-cursor-poller', 'polling.waste');
    expect(eagerCheck.status, eagerCheck.explanation).toBe('warn');
    expect(eagerCheck.value).toEqual({ polls: 10, empty: 6, share: 0.6 });

    const fewCheck = checkOf(r, 'two-polls-only', 'polling.waste');
    expect(fewCheck.status, fewCheck.explanation).toBe('n/a');
    // the client that made the changes never polled
    expect(checkOf(r, 'warehouse-floor', 'polling.waste').status).toBe('n/a');
  });
});

describe('fetch.overFetching', () => {
  it('warns on reads of whole records where the API offers fields= (or that ask for fields=*), passes reads that select', async () => {
    const { url } = await start({ seed: 3, systems: { wms: { skus: 5 } }, contracts: [`${CATALOGUE}@/catalogue/v1`] });
    const reads = ['/catalogue/v1/products', '/catalogue/v1/products/P-1', '/catalogue/v1/products/P-2'];
    for (const path of reads) {
      expect((await send(url, 'whole-records', 'GET', path)).status).toBe(200);
      expect((await send(url, 'selects-fields', 'GET', `${path}?fields=id,name,price`)).status).toBe(200);
      // names the parameter, but asks for every field
      expect((await send(url, 'selects-everything', 'GET', `${path}?fields=*`)).status).toBe(200);
    }
    // reads of the WMS, which offers no field selection
    expect((await send(url, 'wms-reader', 'GET', '/wms/v1/inventory/SKU-1')).status).toBe(200);

    const r = await report(url);
    const whole = checkOf(r, 'whole-records', 'fetch.overFetching');
    expect(whole.status, whole.explanation).toBe('warn');
    expect(whole.value).toMatchObject({ reads: 3, withoutSelection: 3 });
    expect(whole.evidence.entries).toHaveLength(3);
    expect(whole.explanation).toMatch(/listProducts/);

    const selected = checkOf(r, 'selects-fields', 'fetch.overFetching');
    expect(selected.status, selected.explanation).toBe('pass');
    expect(selected.value).toMatchObject({ reads: 3, withoutSelection: 0 });

    const star = checkOf(r, 'selects-everything', 'fetch.overFetching');
    expect(star.status, star.explanation).toBe('warn');
    expect(star.value).toMatchObject({ reads: 3, withoutSelection: 3 });

    expect(checkOf(r, 'wms-reader', 'fetch.overFetching').status).toBe('n/a');
  });
});
