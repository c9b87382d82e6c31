/**
 * Stateful user contracts (issue #14 §2): a vendor contract exercised like the WMS. On a Petstore-"expanded"-shaped
 * document and on a vendor-shaped one (uuid ids, nested orders, PUT/PATCH, a wrapper list object, its own error
 * shape): what is posted comes back, lists show it, PATCH and PUT change it, DELETE removes it, errors answer in
 * the contract's declared shape, workspaces are apart, the same seed and requests give the same bodies, a data
 * directory keeps the records across a restart, and bad or hostile input changes nothing. Real sockets; time only
 * moves through a ManualClock.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfigFile, resolveConfig } from '../../../src/config/config.js';
import { startServer, type ServerOptions } from '../../../src/server.js';
import { ManualClock } from '../../../src/util/clock.js';
import { call, json, rawRequest, serveProcess, start } from '../../helpers.js';

const PETSTORE = new URL('../../fixtures/third-party/petstore-expanded.openapi.yaml', import.meta.url).pathname;
const VENDOR = new URL('../../fixtures/third-party/stateful-vendor.openapi.yaml', import.meta.url).pathname;
const OFF = { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false }, erp: { enabled: false }, outbound: { enabled: false } } as const;
const PETS = `${PETSTORE}@/api`;
const START = Date.UTC(2026, 0, 1);

function options(extra: ServerOptions = {}): ServerOptions {
  return { systems: OFF, contracts: [PETS, VENDOR], contractStateful: { [PETS]: true, [VENDOR]: true }, clock: new ManualClock(START), ...extra };
}

const send = (method: string, body: unknown, type = 'application/json'): RequestInit => ({ ...json(body, { 'content-type': type }), method });

/** the journal's response-check findings for an operation: a stateful answer is always one the contract declares */
async function responseErrors(s: { url: string; engine: { flush(): void } }, operation: string): Promise<unknown[]> {
  s.engine.flush();
  const entries = (await call(`${s.url}/__admin/journal?operation=${operation}`)).body.entries as Array<{ contract?: { errors: Array<{ in: string }> } }>;
  expect(entries.length).toBeGreaterThan(0);
  return entries.flatMap((e) => (e.contract?.errors ?? []).filter((x) => x.in === 'response'));
}

describe('a stateful Petstore (POST /pets, GET /pets, GET and DELETE /pets/{id})', () => {
  it('gives back what was posted, lists it, deletes it; then 404 in its {code, message} shape', async () => {
    const s = await start(options());
    const rex = await call(`${s.url}/api/pets`, json({ name: 'Rex', tag: 'dog' }));
    expect(rex.status).toBe(200);
    expect(rex.body).toEqual({ id: 1, name: 'Rex', tag: 'dog' });
    const tom = await call(`${s.url}/api/pets`, json({ name: 'Tom', tag: 'cat' }));
    expect(tom.body).toEqual({ id: 2, name: 'Tom', tag: 'cat' });
    expect((await call(`${s.url}/api/pets/1`)).body).toEqual({ id: 1, name: 'Rex', tag: 'dog' });

    const list = await call(`${s.url}/api/pets`);
    expect(list.body).toEqual([rex.body, tom.body]);
    // its declared, required header is there
    expect(Number(list.headers.get('x-rate-limit-remaining'))).toBeGreaterThanOrEqual(0);
    expect((await call(`${s.url}/api/pets?filter[tag]=cat`)).body).toEqual([tom.body]);
    expect((await call(`${s.url}/api/pets?limit=1`)).body).toEqual([rex.body]);

    const gone = await call(`${s.url}/api/pets/1`, { method: 'DELETE' });
    expect(gone.status).toBe(204);
    expect(gone.text).toBe('');
    const missing = await call(`${s.url}/api/pets/1`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/json');
    expect(missing.body).toEqual({ code: 404, message: 'No pets record has the id 1.' });
    const again = await call(`${s.url}/api/pets/1`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect(again.body).toEqual({ code: 404, message: 'No pets record has the id 1.' });
    expect((await call(`${s.url}/api/pets`)).body).toEqual([tom.body]);

    for (const op of ['addPet', 'findPets', 'findPetById', 'deletePet']) expect(await responseErrors(s, op)).toEqual([]);
  });

  it('takes a posted id (409 when taken); new integer ids count on past every id made, never reusing one', async () => {
    const s = await start(options());
    expect((await call(`${s.url}/api/pets`, json({ name: 'One' }))).body.id).toBe(1);
    expect((await call(`${s.url}/api/pets`, json({ id: 3, name: 'Three' }))).body).toEqual({ id: 3, name: 'Three', tag: expect.any(String) });
    const taken = await call(`${s.url}/api/pets`, json({ id: 3, name: 'Again' }));
    expect(taken.status).toBe(409);
    expect(taken.body).toEqual({ code: 409, message: 'A pets record with the id 3 exists already.' });
    expect((await call(`${s.url}/api/pets`, json({ name: 'Four' }))).body.id).toBe(4);
    await call(`${s.url}/api/pets/4`, { method: 'DELETE' });
    expect((await call(`${s.url}/api/pets`, json({ name: 'Five' }))).body.id).toBe(5);
    expect((await call(`${s.url}/api/pets`)).body.map((p: { name: string }) => p.name)).toEqual(['One', 'Three', 'Five']);
  });

  it('a chaos status on a stateful operation answers in the declared shape and makes nothing', async () => {
    const s = await start(options());
    const profile = 'name: down\nrules:\n  - id: down\n    match: { operation: addPet }\n    faults:\n      - status: { code: 503 }\n';
    expect((await call(`${s.url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: profile })).status).toBe(200);
    const down = await call(`${s.url}/api/pets`, json({ name: 'Rex' }));
    expect(down.status).toBe(503);
    expect(down.body).toEqual({ code: 503, message: expect.any(String) });
    expect((await call(`${s.url}/api/pets`)).body).toEqual([]);
  });

  it('operations that fit no resource stay generated', async () => {
    const s = await start(options());
    // /pets/{id}/card is read-only and /store/inventory a report: nothing stateful about them
    const card = await call(`${s.url}/api/pets/99/card`);
    expect(card.status).toBe(200);
    expect(card.body).toMatchObject({ name: expect.any(String), tags: expect.any(Array) });
    expect((await call(`${s.url}/api/store/inventory`)).status).toBe(200);
  });

  it('without stateful, the same contract still answers generated data', async () => {
    const s = await start({ systems: OFF, contracts: [PETS] });
    expect((await call(`${s.url}/api/pets`, json({ name: 'Rex', tag: 'dog' }))).status).toBe(200);
    // the contract's first example, whatever was posted; a DELETE changes nothing
    expect((await call(`${s.url}/api/pets/7`)).body).toEqual({ id: 1, name: 'Rex', tag: 'dog' });
    expect((await call(`${s.url}/api/pets/7`, { method: 'DELETE' })).status).toBe(204);
    expect((await call(`${s.url}/api/pets/7`)).status).toBe(200);
  });
});

describe('a stateful vendor API (uuid ids, nested orders, PUT and PATCH, a wrapper list, its own error shape)', () => {
  it('creates with server fields, answers Location, hides writeOnly fields, lists in the wrapper with true totals', async () => {
    const s = await start(options());
    const created = await call(`${s.url}/vendor/v2/stores`, json({ name: 'North', city: 'Oslo', phone: '123', apiSecret: 's3cret' }));
    expect(created.status).toBe(201);
    const store = created.body;
    expect(store).toMatchObject({ name: 'North', city: 'Oslo', phone: '123', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' });
    expect(store.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(['open', 'closed']).toContain(store.status);
    expect(store).not.toHaveProperty('apiSecret');
    expect(created.headers.get('location')).toBe(`/vendor/v2/stores/${store.id}`);
    expect((await call(`${s.url}${created.headers.get('location')}`)).body).toEqual(store);

    const south = (await call(`${s.url}/vendor/v2/stores`, json({ name: 'South', city: 'Rome' }))).body;
    const page = await call(`${s.url}/vendor/v2/stores`);
    expect(page.body).toMatchObject({ data: [store, south], total: 2, has_more: false, page: 1, per_page: 10 });
    expect((await call(`${s.url}/vendor/v2/stores?per_page=1`)).body).toMatchObject({ data: [store], total: 2, has_more: true, per_page: 1 });
    expect((await call(`${s.url}/vendor/v2/stores?per_page=1&page=2`)).body).toMatchObject({ data: [south], total: 2, has_more: false, page: 2 });
    expect((await call(`${s.url}/vendor/v2/stores?city=Rome`)).body).toMatchObject({ data: [south], total: 1 });
    for (const op of ['createStore', 'listStores', 'getStore']) expect(await responseErrors(s, op)).toEqual([]);
    // the journal's key of a write is the record's id
    s.engine.flush();
    const [entry] = (await call(`${s.url}/__admin/journal?operation=createStore`)).body.entries.reverse();
    expect(entry.key).toBe(store.id);
  });

  it('PATCH merges (RFC 7386 for merge-patch+json, shallow for JSON), PUT replaces keeping id and server fields or creates (201)', async () => {
    const clock = new ManualClock(START);
    const s = await start(options({ clock }));
    const store = (await call(`${s.url}/vendor/v2/stores`, json({ name: 'North', city: 'Oslo', phone: '123' }))).body;
    const at = `${s.url}/vendor/v2/stores/${store.id}`;
    clock.advance(60_000);

    const merged = await call(at, send('PATCH', { name: 'North 2', phone: null }, 'application/merge-patch+json'));
    expect(merged.status).toBe(200);
    const { phone: _removed, ...rest } = store;
    expect(merged.body).toEqual({ ...rest, name: 'North 2', updatedAt: '2026-01-01T00:01:00.000Z' });
    expect((await call(at, send('PATCH', { phone: '999' }))).body).toMatchObject({ name: 'North 2', phone: '999' });
    // plain JSON: null clears a field its schema does not let be null
    const cleared = await call(at, send('PATCH', { phone: null }));
    expect(cleared.status).toBe(200);
    expect(cleared.body).not.toHaveProperty('phone');

    clock.advance(60_000);
    const replaced = await call(at, send('PUT', { name: 'Nord', city: 'Bergen' }));
    expect(replaced.status).toBe(200);
    expect(replaced.body).toEqual({ id: store.id, name: 'Nord', city: 'Bergen', status: store.status, createdAt: store.createdAt, updatedAt: '2026-01-01T00:02:00.000Z' });
    expect((await call(at)).body).toEqual(replaced.body);

    const chosen = '00000000-0000-4000-8000-000000000001';
    const put = await call(`${s.url}/vendor/v2/stores/${chosen}`, send('PUT', { name: 'New', city: 'Turin' }));
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({ id: chosen, name: 'New', city: 'Turin' });
    expect((await call(`${s.url}/vendor/v2/stores`)).body.total).toBe(2);

    expect((await call(at, { method: 'DELETE' })).status).toBe(204);
    const missing = await call(at);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ status: 404, detail: `No stores record has the id "${store.id}".`, requestId: expect.any(String) });
    expect((await call(at, send('PATCH', { name: 'x' }))).status).toBe(404);
    for (const op of ['patchStore', 'putStore', 'deleteStore', 'getStore']) expect(await responseErrors(s, op)).toEqual([]);
  });

  it('orders are scoped by their store, carry its id, filter and page; DELETE answers the cancelled order', async () => {
    const s = await start(options());
    const a = (await call(`${s.url}/vendor/v2/stores`, json({ name: 'A', city: 'Oslo' }))).body;
    const b = (await call(`${s.url}/vendor/v2/stores`, json({ name: 'B', city: 'Rome' }))).body;
    const orders = (store: string) => `${s.url}/vendor/v2/stores/${store}/orders`;
    const first = (await call(orders(a.id), json({ sku: 'SKU-1', quantity: 2 }))).body;
    expect(first).toMatchObject({ storeId: a.id, sku: 'SKU-1', quantity: 2, created_at: '2026-01-01T00:00:00.000Z' });
    expect(['open', 'shipped']).toContain(first.state);
    expect(first.orderId).toMatch(/^[a-z0-9]{12}$/);
    const second = (await call(orders(a.id), json({ orderId: 'PO-2', sku: 'SKU-2', quantity: 1 }))).body;
    expect(second.orderId).toBe('PO-2');
    expect((await call(orders(b.id))).body).toEqual([]);
    // the orders of a store that does not exist (or no longer does) are a 404 in the declared shape
    const nowhere = orders('00000000-0000-4000-8000-00000000000f');
    for (const r of [await call(nowhere), await call(nowhere, json({ sku: 'X', quantity: 1 })), await call(`${nowhere}/PO-2`)]) {
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ status: 404, detail: 'No stores record has the id "00000000-0000-4000-8000-00000000000f".', requestId: expect.any(String) });
    }
    expect((await call(`${orders(b.id)}/PO-2`)).status).toBe(404);
    // the same order id in another store is another order
    expect((await call(orders(b.id), json({ orderId: 'PO-2', sku: 'SKU-9', quantity: 9 }))).status).toBe(201);

    expect((await call(`${orders(a.id)}/PO-2`, send('PATCH', { state: 'shipped' }))).body).toMatchObject({ orderId: 'PO-2', state: 'shipped' });
    Object.assign(first, (await call(`${orders(a.id)}/${first.orderId}`, send('PATCH', { state: 'open' }))).body);
    expect((await call(`${orders(a.id)}?state=shipped`)).body.map((o: { orderId: string }) => o.orderId)).toEqual(['PO-2']);
    expect((await call(`${orders(a.id)}?limit=1&offset=1`)).body.map((o: { orderId: string }) => o.orderId)).toEqual(['PO-2']);
    const cancelled = await call(`${orders(a.id)}/${first.orderId}`, { method: 'DELETE' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toEqual(first);
    expect((await call(orders(a.id))).body.map((o: { orderId: string }) => o.orderId)).toEqual(['PO-2']);
    expect((await call(`${orders(b.id)}/PO-2`)).body.sku).toBe('SKU-9');
    expect((await call(`${s.url}/vendor/v2/stores/${b.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await call(`${orders(b.id)}/PO-2`)).status).toBe(404);
    // what fits no resource stays generated
    expect((await call(`${s.url}/vendor/v2/reports/daily`)).body).toMatchObject({ day: expect.any(String), orders: expect.any(Number) });
    for (const op of ['createOrder', 'listOrders', 'getOrder', 'updateOrder', 'cancelOrder']) expect(await responseErrors(s, op)).toEqual([]);
  });

  it("makes ids its id pattern accepts, and pages no longer than the list's maxItems (examples/vendor.openapi.yaml)", async () => {
    const example = `${new URL('../../../examples/vendor.openapi.yaml', import.meta.url).pathname}@/vendor`;
    const s = await start({ systems: OFF, contracts: [example], contractStateful: { [example]: true } });
    const made: Array<{ orderId: string }> = [];
    for (let i = 1; i <= 7; i++) made.push((await call(`${s.url}/vendor/orders`, json({ sku: `SKU-${i}`, quantity: i }))).body);
    for (const order of made) {
      expect(order.orderId).toMatch(/^PO-[0-9]+$/);
      expect((await call(`${s.url}/vendor/orders/${order.orderId}`)).body).toEqual(order);
    }
    expect(new Set(made.map((o) => o.orderId)).size).toBe(7);
    // its list declares maxItems: 5
    expect((await call(`${s.url}/vendor/orders`)).body.orders).toEqual(made.slice(0, 5));
    expect((await call(`${s.url}/vendor/orders?limit=2`)).body.orders).toEqual(made.slice(0, 2));
    for (const op of ['createOrder', 'getOrder', 'listOrders']) expect(await responseErrors(s, op)).toEqual([]);
  });

  it('keeps each workspace to itself', async () => {
    const s = await start(options());
    const store = (await call(`${s.url}/w/team-a/vendor/v2/stores`, json({ name: 'A', city: 'Oslo' }))).body;
    expect((await call(`${s.url}/w/team-a/vendor/v2/stores/${store.id}`)).status).toBe(200);
    expect((await call(`${s.url}/w/team-b/vendor/v2/stores/${store.id}`)).status).toBe(404);
    expect((await call(`${s.url}/w/team-b/vendor/v2/stores`)).body).toMatchObject({ data: [], total: 0 });
    expect((await call(`${s.url}/vendor/v2/stores`)).body.total).toBe(0);
    // the same seed and requests: the same first id in every workspace
    expect((await call(`${s.url}/w/team-b/vendor/v2/stores`, json({ name: 'A', city: 'Oslo' }))).body).toEqual(store);
  });
});

describe('determinism and durability', () => {
  const script = async (url: string) => {
    const bodies: unknown[] = [];
    const keep = async (path: string, init?: RequestInit) => bodies.push((await call(`${url}${path}`, init)).body);
    await keep('/vendor/v2/stores', json({ name: 'A', city: 'Oslo' }));
    await keep('/vendor/v2/stores', json({ name: 'B', city: 'Rome', phone: '55' }));
    const [a] = bodies as Array<{ id: string }>;
    await keep(`/vendor/v2/stores/${a.id}/orders`, json({ sku: 'S', quantity: 1 }));
    await keep(`/vendor/v2/stores/${a.id}`, send('PATCH', { city: 'Bergen' }, 'application/merge-patch+json'));
    await keep('/api/pets', json({ name: 'Rex' }));
    await keep('/vendor/v2/stores');
    await keep(`/vendor/v2/stores/${a.id}/orders`);
    return bodies;
  };

  it('the same seed and requests on two servers give the same bodies (ids and generated fields included)', async () => {
    const one = await start(options({ seed: 5 }));
    const two = await start(options({ seed: 5 }));
    const other = await start(options({ seed: 6 }));
    const first = await script(one.url);
    expect(await script(two.url)).toEqual(first);
    expect(await script(other.url)).not.toEqual(first);
  });

  it.each([
    ['from the write log', {}],
    ['from a snapshot taken after each write', { store: { snapshotEvery: 1, snapshotPause: 0 } }],
  ])('a server on a data directory keeps the records across a restart (%s)', async (_how, extra) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'understudy-stateful-'));
    const first = await startServer({ port: 0, dataDir, seed: 9, ...options(extra) });
    let before: unknown[];
    try {
      await script(first.url);
      const [store] = (await call(`${first.url}/vendor/v2/stores`)).body.data;
      await call(`${first.url}/api/pets/1`, { method: 'DELETE' });
      await call(`${first.url}/w/other/vendor/v2/stores`, json({ name: 'Elsewhere', city: 'Nice' }));
      before = [
        (await call(`${first.url}/vendor/v2/stores`)).body,
        (await call(`${first.url}/vendor/v2/stores/${store.id}/orders`)).body,
        (await call(`${first.url}/api/pets`)).body,
        (await call(`${first.url}/w/other/vendor/v2/stores`)).body,
      ];
    } finally {
      await first.close();
    }
    const second = await startServer({ port: 0, dataDir, seed: 9, ...options(extra) });
    try {
      const [store] = (await call(`${second.url}/vendor/v2/stores`)).body.data;
      const after = [
        (await call(`${second.url}/vendor/v2/stores`)).body,
        (await call(`${second.url}/vendor/v2/stores/${store.id}/orders`)).body,
        (await call(`${second.url}/api/pets`)).body,
        (await call(`${second.url}/w/other/vendor/v2/stores`)).body,
      ];
      expect(after).toEqual(before);
      // and carries on where it was: the next pet is 2, not 1 again
      expect((await call(`${second.url}/api/pets`, json({ name: 'Tom' }))).body.id).toBe(2);
    } finally {
      await second.close();
    }
  });

  it('a stored log is not replayed against another contract', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'understudy-stateful-'));
    const first = await startServer({ port: 0, dataDir, ...options({ contracts: [VENDOR], contractStateful: { [VENDOR]: true } }) });
    await call(`${first.url}/vendor/v2/stores`, json({ name: 'A', city: 'Oslo' }));
    await first.close();
    const changed = join(dataDir, 'vendor.openapi.yaml');
    const { readFileSync } = await import('node:fs');
    writeFileSync(changed, readFileSync(VENDOR, 'utf8').replace('version: 2.0.0', 'version: 2.0.1'));
    await expect(startServer({ port: 0, dataDir, ...options({ contracts: [changed], contractStateful: { [changed]: true } }) })).rejects.toThrow(/vendor's contract changed/);
  });
});

describe('bad and hostile input changes nothing', () => {
  it('an invalid body is a 400 in the declared shape; the records stay as they were', async () => {
    const s = await start(options());
    await call(`${s.url}/vendor/v2/stores`, json({ name: 'A', city: 'Oslo' }));
    const before = (await call(`${s.url}/vendor/v2/stores`)).body;
    const bad = await call(`${s.url}/vendor/v2/stores`, json({ name: '', town: 'Oslo' }));
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ status: 400, detail: expect.stringMatching(/^The request does not match the contract/), requestId: expect.any(String) });
    const [store] = before.data;
    expect((await call(`${s.url}/vendor/v2/stores/${store.id}`, send('PUT', { name: 'No city' }))).status).toBe(400);
    expect((await call(`${s.url}/vendor/v2/stores/${store.id}`, send('PATCH', { status: 'closed' }))).status).toBe(400);
    expect((await call(`${s.url}/vendor/v2/stores`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name": "A",' })).status).toBe(400);
    expect((await call(`${s.url}/api/pets`, json({ name: 'Rex' }, { 'content-type': 'text/plain' }))).status).toBe(415);
    expect((await call(`${s.url}/vendor/v2/stores`)).body).toEqual(before);
    expect((await call(`${s.url}/api/pets`)).body).toEqual([]);
  });

  it('hostile ids never reach Object.prototype and get a clear 4xx', async () => {
    const s = await start(options());
    const store = (await call(`${s.url}/vendor/v2/stores`, json({ name: 'A', city: 'Oslo' }))).body;
    const orders = `/vendor/v2/stores/${store.id}/orders`;
    for (const id of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const r = await call(`${s.url}${orders}/${id}`);
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ status: 404, detail: `No orders record has the id "${id}".`, requestId: expect.any(String) });
    }
    const traversal = await rawRequest(s.url, `${orders}/..%2F..%2Fetc`);
    expect(traversal.status).toBe(404);
    expect(traversal.body.detail).toBe('No orders record has the id "../../etc".');
    const long = await rawRequest(s.url, `${orders}/${'x'.repeat(10_240)}`);
    expect(long.status).toBe(404);
    // integer ids: a 400 naming the path
    expect((await call(`${s.url}/api/pets/__proto__`)).body).toEqual({ code: 400, message: 'The request does not match the contract (1 problem in path).' });
    expect((await call(`${s.url}/vendor/v2/stores/constructor`)).status).toBe(400);

    // as ids and as keys of a body they are data like any other
    const proto = await call(`${s.url}${orders}`, json({ orderId: '__proto__', sku: 'P', quantity: 1 }));
    expect(proto.status).toBe(201);
    expect((await call(`${s.url}${orders}/__proto__`)).body).toMatchObject({ orderId: '__proto__', sku: 'P' });
    const polluting = await call(`${s.url}/api/pets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"P","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}' });
    expect(polluting.status).toBe(200);
    expect(JSON.parse(polluting.text)).toMatchObject({ name: 'P' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    const merged = await call(`${s.url}${orders}/__proto__`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"state":"shipped"}' });
    expect(merged.body).toMatchObject({ orderId: '__proto__', state: 'shipped' });
    expect(({} as Record<string, unknown>).state).toBeUndefined();
    // the server keeps serving
    expect((await call(`${s.url}${orders}`)).body.map((o: { orderId: string }) => o.orderId)).toEqual(['__proto__']);
  });

  it('past limits.objects (per workspace and system) a write is a 507 naming it, and nothing is pruned; a delete makes room', async () => {
    const s = await start(options({ limits: { objects: 3 } }));
    for (const name of ['A', 'B', 'C']) expect((await call(`${s.url}/api/pets`, json({ name }))).status).toBe(200);
    for (const name of ['A', 'B', 'C']) expect((await call(`${s.url}/vendor/v2/stores`, json({ name, city: 'Oslo' }))).status).toBe(201);
    const [store] = (await call(`${s.url}/vendor/v2/stores`)).body.data;
    expect((await call(`${s.url}/vendor/v2/stores/${store.id}/orders`, json({ sku: 'S', quantity: 1 }))).status).toBe(507);
    const before = [(await call(`${s.url}/api/pets`)).body, (await call(`${s.url}/vendor/v2/stores`)).body];
    const full = await call(`${s.url}/api/pets`, json({ name: 'D' }));
    expect(full.status).toBe(507);
    expect(full.body).toEqual({ code: 507, message: expect.stringContaining('limits.objects (3)') });
    const fullPut = await call(`${s.url}/vendor/v2/stores/00000000-0000-4000-8000-000000000001`, send('PUT', { name: 'E', city: 'Rome' }));
    expect(fullPut.status).toBe(507);
    expect(fullPut.body).toMatchObject({ status: 507, detail: expect.stringContaining('limits.objects') });
    expect([(await call(`${s.url}/api/pets`)).body, (await call(`${s.url}/vendor/v2/stores`)).body]).toEqual(before);
    // other workspaces have their own room
    expect((await call(`${s.url}/w/other/api/pets`, json({ name: 'D' }))).status).toBe(200);
    await call(`${s.url}/api/pets/1`, { method: 'DELETE' });
    expect((await call(`${s.url}/api/pets`, json({ name: 'D' }))).body).toMatchObject({ id: 4, name: 'D' });
  });
});

describe('switching it on', () => {
  const dir = mkdtempSync(join(tmpdir(), 'understudy-stateful-config-'));

  it('systems.custom[].stateful and --stateful (which makes every contract stateful)', () => {
    const config = join(dir, 'understudy.yaml');
    writeFileSync(config, `systems:\n  custom:\n    - contract: ${VENDOR}\n      stateful: true\n    - contract: ${PETSTORE}\n      mount: /api\n      stateful: false\n`);
    const file = readConfigFile(config);
    expect(resolveConfig(file, {}).contractStateful).toEqual({ [VENDOR]: true, [PETS]: false });
    expect(resolveConfig(file, { stateful: true, contract: ['extra.yaml'] }).contractStateful).toEqual({ [VENDOR]: true, [PETS]: true, 'extra.yaml': true });
    writeFileSync(config, `systems:\n  custom:\n    - contract: ${VENDOR}\n      stateful: yes please\n`);
    expect(() => readConfigFile(config)).toThrow(/stateful/);
  });

  it('x-understudy-stateful, or x-understudy-resource anywhere in the document; false opts a path out', async () => {
    const contract = join(dir, 'declared.openapi.yaml');
    const error = { description: 'error', content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties: { message: { type: 'string' } } } } } };
    const pet = { type: 'object', required: ['petId', 'name'], properties: { petId: { type: 'integer', readOnly: true }, name: { type: 'string' } } };
    const ok = (schema: unknown) => ({ description: 'ok', content: { 'application/json': { schema } } });
    const body = { required: true, content: { 'application/json': { schema: pet } } };
    writeFileSync(
      contract,
      JSON.stringify({
        openapi: '3.0.3',
        info: { title: 'declared', version: '1' },
        servers: [{ url: '/declared' }],
        paths: {
          // Petstore-3 style: a singular collection, named explicitly, with its id property
          '/pet': { 'x-understudy-resource': { name: 'pets', id: 'petId' }, post: { operationId: 'addPet', requestBody: body, responses: { '200': ok(pet), default: error } } },
          '/pet/{petId}': {
            parameters: [{ name: 'petId', in: 'path', required: true, schema: { type: 'integer' } }],
            get: { operationId: 'getPet', responses: { '200': ok(pet), default: error } },
          },
          '/notes': { 'x-understudy-resource': false, post: { operationId: 'addNote', requestBody: body, responses: { '200': ok(pet) } } },
          '/notes/{id}': { parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }], get: { operationId: 'getNote', responses: { '200': ok(pet) } } },
        },
      }),
    );
    const s = await start({ systems: OFF, contracts: [contract] });
    const rex = await call(`${s.url}/declared/pet`, json({ petId: 77, name: 'Rex' }));
    // petId is readOnly: the server's
    expect(rex.body).toEqual({ petId: 1, name: 'Rex' });
    expect((await call(`${s.url}/declared/pet/1`)).body).toEqual(rex.body);
    const missing = await call(`${s.url}/declared/pet/2`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ message: 'No pets record has the id 2.' });
    // /notes opted out: generated, whatever was posted
    await call(`${s.url}/declared/notes`, json({ petId: 1, name: 'Note' }));
    expect((await call(`${s.url}/declared/notes/1`)).body.name).not.toBe('Note');

    const off = await start({ systems: OFF, contracts: [contract], contractStateful: { [contract]: false } });
    expect((await call(`${off.url}/declared/pet/1`)).status).toBe(200);
  });

  it('--stateful on the command line, kept across a kill -9 by the data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'understudy-stateful-cli-'));
    const first = await serveProcess(dataDir, 3, ['--contract', PETS, '--stateful']);
    try {
      expect((await call(`${first.url}/api/pets`, json({ name: 'Rex', tag: 'dog' }))).body).toEqual({ id: 1, name: 'Rex', tag: 'dog' });
    } finally {
      first.child.kill('SIGKILL');
      await first.exited;
    }
    const second = await serveProcess(dataDir, 3, ['--contract', PETS, '--stateful']);
    try {
      expect((await call(`${second.url}/api/pets/1`)).body).toEqual({ id: 1, name: 'Rex', tag: 'dog' });
    } finally {
      second.child.kill('SIGKILL');
      await second.exited;
    }
  });
});
