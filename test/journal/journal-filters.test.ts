/**
 * Following one order through its retries in the journal: every attempt carries the order's key, the attempts
 * chaos answered before any handler ran (failFirst, rateLimit, status) as much as the handled ones; `key=`
 * finds them all, `status=0` finds the exchanges that got no response, and `total` counts what the filters
 * matched. Keys come from the Idempotency-Key header, else from where the contract's `x-understudy-key` points
 * (a JSON body pointer, a header, a query or path parameter); a malformed declaration stops the server starting.
 *
 * Real sockets throughout; time only moves through the ManualClock.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { call, start } from '../helpers.js';

const KEYED = new URL('./fixtures/keyed.openapi.yaml', import.meta.url).pathname;
const RESERVATIONS = '/wms/v1/reservations';

interface Server {
  url: string;
  clock: ManualClock;
}

async function server(profile: string, options: { contracts?: string[]; wms?: boolean } = {}): Promise<Server> {
  const clock = new ManualClock();
  const s = await start({
    clock,
    scheduler: new ManualScheduler(clock),
    systems: { wms: { enabled: options.wms ?? true, skus: 20 } },
    contracts: options.contracts ?? [],
  });
  const put = await call(`${s.url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: profile });
  expect(put.status, put.text).toBe(200);
  return { url: s.url, clock };
}

/** One request on a fresh connection; resolves with the status, or 0 and the error when no response came. */
function attempt(base: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string; error?: string }> {
  return new Promise((resolve) => {
    const req = httpRequest(`${base}${path}`, { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, body: '', error: err.code ?? err.message }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, body: '', error: err.code ?? err.message }));
    req.end(init.body);
  });
}

function reserve(base: string, externalOrderId: string, client: string, headers: Record<string, string> = {}) {
  return attempt(base, RESERVATIONS, {
    headers: { 'content-type': 'application/json', 'x-understudy-client': client, ...headers },
    body: JSON.stringify({ externalOrderId, lines: [{ sku: 'SKU-1', quantity: 1 }] }),
  });
}

async function journal(s: Server, query: string): Promise<{ entries: any[]; total: number; nextCursor: string | null }> {
  const r = await call(`${s.url}/__admin/journal?${query}`);
  expect(r.status, r.text).toBe(200);
  return r.body;
}

describe('journal: one order through its retries', () => {
  it('key= returns every attempt of the order, those answered by failFirst and rateLimit too, and total counts them', async () => {
    const s = await server(`
rules:
  - id: reservation-quota
    match: { operation: createReservation }
    rateLimit: { requests: 3, per: 1m }
  - id: cold-start
    match: { operation: createReservation }
    faults:
      - failFirst: { count: 2 }
`);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await reserve(s.url, 'SO-1', 'orders-sync')).status);
    s.clock.advance(60_000); // the quota's next window
    const last = await reserve(s.url, 'SO-1', 'orders-sync');
    statuses.push(last.status);
    // failFirst twice, then the reservation, then the quota, then the idempotent repeat
    expect(statuses).toEqual([503, 503, 201, 429, 200]);
    // other traffic in between: another order, a read without a key, and a read of SO-1's reservation by its id
    expect((await reserve(s.url, 'SO-2', 'other-client')).status).toBe(503);
    expect((await attempt(s.url, '/wms/v1/inventory/SKU-1')).status).toBe(200);
    const reservationId = JSON.parse(last.body).id;
    expect((await attempt(s.url, `${RESERVATIONS}/${reservationId}`)).status).toBe(200);

    const order = await journal(s, 'key=SO-1');
    expect(order.entries.map((e) => [e.operation, e.status])).toEqual([
      ['getReservation', 200],
      ['createReservation', 200],
      ['createReservation', 429],
      ['createReservation', 201],
      ['createReservation', 503],
      ['createReservation', 503],
    ]);
    expect(order.entries.every((e) => e.key === 'SO-1')).toBe(true);
    expect(order.total).toBe(6);
    expect(order.nextCursor).toBeNull();
    expect(order.entries[2].faults).toEqual([{ rule: 'reservation-quota', kind: 'rateLimit', params: { requests: 3, perMs: 60_000 } }]);
    expect(order.entries[4].faults).toMatchObject([{ rule: 'cold-start', kind: 'failFirst', params: { attempt: 2 } }]);
    expect(order.entries[5].faults).toMatchObject([{ rule: 'cold-start', kind: 'failFirst', params: { attempt: 1 } }]);

    // total is what matched the filters, the same on every page; the cursor only pages through them
    const failed = await journal(s, 'key=SO-1&status=5xx');
    expect(failed.entries.map((e) => e.status)).toEqual([503, 503]);
    expect(failed.total).toBe(2);
    const first = await journal(s, 'key=SO-1&limit=4');
    expect(first.entries).toHaveLength(4);
    expect(first.total).toBe(6);
    const second = await journal(s, `key=SO-1&limit=4&cursor=${first.nextCursor}`);
    expect(second.entries.map((e) => e.status)).toEqual([503, 503]);
    expect(second.total).toBe(6);
    expect(second.nextCursor).toBeNull();

    expect((await journal(s, 'key=SO-2')).entries.map((e) => [e.client, e.status, e.key])).toEqual([['other-client', 503, 'SO-2']]);
    expect(await journal(s, 'key=SO-404')).toMatchObject({ entries: [], total: 0 });
    expect((await journal(s, 'operation=createReservation')).total).toBe(6);
    expect((await journal(s, 'operation=createReservation&client=orders-sync&fault=failFirst')).total).toBe(2);
    const everything = await journal(s, 'limit=1000');
    expect(everything.total).toBe(everything.entries.length);
    expect(everything.total).toBe(8);
    expect(everything.entries.find((e) => e.operation === 'getInventory').key).toBeNull();
  });

  it('takes the Idempotency-Key header first; reads the body key of JSON bodies only and never fails on a bad one', async () => {
    const s = await server('rules: []');
    expect((await reserve(s.url, 'SO-7', 'orders-sync', { 'idempotency-key': 'idem-7' })).status).toBe(201);
    // malformed JSON: a 400 from validation, no key
    const broken = await attempt(s.url, RESERVATIONS, { headers: { 'content-type': 'application/json' }, body: '{"externalOrderId": "SO-8", ' });
    expect(broken.status).toBe(400);
    // valid JSON that breaks the contract: still refused, but the attempt belongs to its order
    const invalid = await attempt(s.url, RESERVATIONS, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ externalOrderId: 'SO-9', lines: [] }) });
    expect(invalid.status).toBe(400);
    // not JSON at all: the body is not read for a key
    const text = await attempt(s.url, RESERVATIONS, { headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ externalOrderId: 'SO-10', lines: [] }) });
    expect(text.status).toBe(415);

    expect((await journal(s, 'key=idem-7')).entries.map((e) => e.status)).toEqual([201]);
    expect((await journal(s, 'key=SO-7')).total).toBe(0);
    expect((await journal(s, 'key=SO-9')).entries.map((e) => e.status)).toEqual([400]);
    const all = await journal(s, 'operation=createReservation');
    expect(all.entries.map((e) => [e.status, e.key])).toEqual([
      [415, null],
      [400, 'SO-9'],
      [400, null],
      [201, 'idem-7'],
    ]);
  });
});

describe('journal: status=0 and the filters themselves', () => {
  it('status=0 finds the exchange a reset answered, alone or in a list with 5xx', async () => {
    const s = await server(`
rules:
  - id: cut
    match: { path: /wms/v1/inventory/SKU-3 }
    faults: [ reset ]
  - id: shed
    match: { path: /wms/v1/inventory/SKU-2 }
    faults:
      - status: { code: 503 }
`);
    expect((await attempt(s.url, '/wms/v1/inventory/SKU-1')).status).toBe(200);
    expect((await attempt(s.url, '/wms/v1/inventory/SKU-2')).status).toBe(503);
    const reset = await attempt(s.url, '/wms/v1/inventory/SKU-3');
    expect(reset).toMatchObject({ status: 0, error: 'ECONNRESET' });
    expect((await attempt(s.url, '/wms/v1/inventory/SKU-1')).status).toBe(200);

    const none = await journal(s, 'status=0');
    expect(none.total).toBe(1);
    expect(none.entries).toHaveLength(1);
    expect(none.entries[0]).toMatchObject({ path: '/wms/v1/inventory/SKU-3', status: 0, faults: [{ rule: 'cut', kind: 'reset' }] });
    expect(none.entries[0].transportError).toEqual(expect.any(String));
    const failed = await journal(s, 'status=0,5xx');
    expect(failed.entries.map((e) => [e.path, e.status])).toEqual([
      ['/wms/v1/inventory/SKU-3', 0],
      ['/wms/v1/inventory/SKU-2', 503],
    ]);
    expect(failed.total).toBe(2);
    expect((await journal(s, 'status=2xx')).total).toBe(2);
    expect((await journal(s, 'status=2xx&limit=1')).total).toBe(2);
  });

  it('refuses an empty key and status values that are not codes, classes or 0', async () => {
    const s = await server('rules: []');
    for (const query of ['key=', 'status=00', 'status=0xx', 'status=0,6xx', `key=${'k'.repeat(1001)}`]) {
      const r = await call(`${s.url}/__admin/journal?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.body.errors[0].name, query).toBe(query.split('=')[0]);
    }
    const unknown = await call(`${s.url}/__admin/journal?order=SO-1`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].message).toContain('key');
  });
});

describe('x-understudy-key', () => {
  it('takes the key from a body pointer, a header, a query or a path parameter, before chaos answers', async () => {
    const s = await server(
      `
rules:
  - id: down
    match: { system: orders }
    faults:
      - status: { code: 503 }
`,
      { wms: false, contracts: [KEYED] },
    );
    const base = s.url;
    const json = { 'content-type': 'application/json' };
    expect((await attempt(base, '/orders/v1/orders', { headers: json, body: JSON.stringify({ order: { ref: 'R-1', lines: ['a'] } }) })).status).toBe(503);
    expect((await attempt(base, '/orders/v1/orders', { headers: json, body: JSON.stringify({ order: { ref: 1042 } }) })).status).toBe(503);
    expect((await attempt(base, '/orders/v1/orders', { headers: json, body: JSON.stringify({ order: 'R-1' }) })).status).toBe(503);
    expect((await attempt(base, '/orders/v1/payments', { method: 'POST', headers: { 'x-request-id': 'REQ-1' } })).status).toBe(503);
    expect((await attempt(base, '/orders/v1/orders/R-2/status')).status).toBe(503);
    expect((await attempt(base, '/orders/v1/lookup?ref=R-3&x=1')).status).toBe(503);
    expect((await attempt(base, '/orders/v1/lookup')).status).toBe(503);
    expect((await attempt(base, '/orders/v1/payments', { method: 'POST', headers: { 'x-request-id': 'REQ-2', 'idempotency-key': 'idem-2' } })).status).toBe(503);

    const { entries } = await journal(s, 'system=orders');
    expect(entries.map((e) => [e.operation, e.key]).reverse()).toEqual([
      ['createOrder', 'R-1'],
      ['createOrder', '1042'],
      ['createOrder', null], // the pointer leads through a string: no key
      ['createPayment', 'REQ-1'],
      ['getOrderStatus', 'R-2'],
      ['lookupOrder', 'R-3'],
      ['lookupOrder', null],
      ['createPayment', 'idem-2'],
    ]);
    expect(entries.every((e) => e.status === 503 && e.faults.length === 1)).toBe(true);

    // once the system answers, the handled attempt keeps the same key
    expect((await call(`${base}/__admin/chaos?profile=calm`, { method: 'PUT' })).status).toBe(200);
    expect((await attempt(base, '/orders/v1/orders', { headers: json, body: JSON.stringify({ order: { ref: 'R-1' } }) })).status).toBe(201);
    expect((await journal(s, 'key=R-1')).entries.map((e) => e.status)).toEqual([201, 503]);
  });

  it('refuses to start with a declaration it cannot follow, naming the operation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'understudy-key-'));
    const original = readFileSync(KEYED, 'utf8');
    const cases: Array<[string, string, RegExp]> = [
      ['{ in: body, pointer: /order/ref }', '{ in: cookie, name: sid }', /createOrder: x-understudy-key needs in: body, header, query or path/],
      ['{ in: body, pointer: /order/ref }', '{ in: body }', /createOrder: x-understudy-key in: body needs a JSON pointer/],
      ['{ in: body, pointer: /order/ref }', '{ in: body, pointer: order }', /createOrder: x-understudy-key in: body needs a JSON pointer/],
      ['{ in: body, pointer: /order/ref }', '{ in: body, pointer: /order/ref, name: ref }', /createOrder: x-understudy-key has unknown property name/],
      ['{ in: header, name: X-Request-Id }', '{ in: body, pointer: /id }', /createPayment: x-understudy-key in: body, but the operation takes no JSON or form request body/],
      ['{ in: path, name: orderRef }', '{ in: path, name: orderId }', /getOrderStatus: x-understudy-key names path parameter orderId/],
      ['{ in: query, name: ref }', '/ref', /lookupOrder: x-understudy-key must be a map/],
    ];
    for (const [i, [from, to, message]] of cases.entries()) {
      expect(original).toContain(from);
      const file = join(dir, `bad-${i}.openapi.yaml`);
      writeFileSync(file, original.replace(`x-understudy-key: ${from}`, `x-understudy-key: ${to}`));
      await expect(start({ systems: { wms: { enabled: false } }, contracts: [file] }), to).rejects.toThrow(message);
    }
  });
});
