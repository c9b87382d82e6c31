/**
 * understudy through msw (src/msw.ts, src/transports/msw-transport.ts) against understudy over sockets: the same
 * seed and the same requests give the same statuses, bodies and journal, whichever way they travel. The socket
 * side is a real server (start()); the msw side is setupServer from msw/node with plain global fetch, the way a
 * user's test suite would use it. Time is a ManualClock and ManualScheduler on both sides (latency, held
 * connections), so nothing sleeps; one test drives the msw side with vitest's fake timers instead.
 */
import { setupServer } from 'msw/node';
import nodeHttp from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { understudyHandlers, type JournalSummary, type UnderstudyHandlers, type UnderstudyHandlersOptions } from '../../src/msw.js';
import type { ServerOptions } from '../../src/server.js';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { call, start } from '../helpers.js';

const PETSTORE = new URL('../fixtures/third-party/petstore-expanded.openapi.yaml', import.meta.url).pathname;
const BASE = 'http://understudy.local';
const PETS = 'https://petstore.example/api';
const T0 = Date.UTC(2026, 11, 2, 9, 0, 0);

// requests to the socket servers (127.0.0.1) pass through msw untouched
const mock = setupServer();
beforeAll(() => mock.listen({ onUnhandledRequest: 'bypass' }));
afterAll(() => mock.close());
const handles: UnderstudyHandlers[] = [];
afterEach(async () => {
  mock.resetHandlers();
  await Promise.all(handles.splice(0).map((h) => h.close()));
});

async function viaMsw(options: UnderstudyHandlersOptions): Promise<UnderstudyHandlers> {
  const handle = await understudyHandlers(options);
  handles.push(handle);
  mock.use(...handle);
  return handle;
}

function manualTime() {
  const clock = new ManualClock(T0);
  return { clock, scheduler: new ManualScheduler(clock) };
}

interface Step {
  method?: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** ms of scheduler time the server holds this one (latency, a held connection): advanced once it waits */
  hold?: number;
}

type Outcome = { status: number; headers: Record<string, string>; body: string } | { error: string };

/** headers that belong to a connection, not to the answer: node writes them, a Response from msw has none */
const CONNECTION_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

/** Sends the steps in order to `base`, advancing `scheduler` past each hold; what each request got. */
async function run(base: string, steps: Step[], scheduler?: ManualScheduler): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const step of steps) {
    const waiting = scheduler?.pending.length ?? 0;
    const init: RequestInit = { method: step.method ?? 'GET', headers: { ...step.headers } };
    if (step.body !== undefined) {
      init.body = typeof step.body === 'string' ? step.body : JSON.stringify(step.body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const answered = (async (): Promise<Outcome> => {
      const res = await fetch(base + step.path, init);
      const headers = Object.fromEntries([...res.headers].filter(([name]) => !CONNECTION_HEADERS.has(name)));
      return { status: res.status, headers, body: await res.text() };
    })().catch((err: Error): Outcome => ({ error: err.name }));
    if (step.hold !== undefined) {
      await scheduler!.whenPending(waiting + 1);
      scheduler!.advance(step.hold);
    }
    outcomes.push(await answered);
  }
  return outcomes;
}

/** the parts of a journal entry that must not depend on the transport */
function comparable(e: JournalSummary) {
  return {
    workspace: e.workspace,
    system: e.system,
    operation: e.operation,
    method: e.method,
    path: e.path,
    query: e.query,
    client: e.client,
    key: e.key,
    status: e.status,
    faults: e.faults,
    contract: e.contract,
    effects: e.effects,
    transportError: e.transportError,
  };
}

async function httpJournal(url: string, query = 'limit=1000'): Promise<JournalSummary[]> {
  return (await call(`${url}/__admin/journal?${query}`)).body.entries;
}

const WMS_STEPS: Step[] = [
  { path: '/wms/v1/warehouses' },
  { path: '/wms/v1/inventory/SKU-1' },
  { path: '/wms/v1/items?limit=3' },
  { method: 'POST', path: '/wms/v1/reservations', body: { externalOrderId: 'SO-1', lines: [{ sku: 'SKU-1', quantity: 2 }] } },
  // the same order again: idempotent, the same reservation
  { method: 'POST', path: '/wms/v1/reservations', body: { externalOrderId: 'SO-1', lines: [{ sku: 'SKU-1', quantity: 2 }] } },
  { path: '/wms/v1/inventory/SKU-1' },
  { path: '/wms/v1/reservations?externalOrderId=SO-1' },
  // bad requests: a body against the contract, malformed JSON, unknown and out-of-range query parameters
  { method: 'POST', path: '/wms/v1/reservations', body: { externalOrderId: 'SO-2' } },
  { method: 'POST', path: '/wms/v1/reservations', body: '{"externalOrderId": "SO-3", lines: ' },
  { path: '/wms/v1/changes?limit=0&colour=red' },
  { path: '/wms/v1/inventory/NO-SUCH-SKU' },
  { method: 'PATCH', path: '/wms/v1/warehouses' },
  { path: '/nowhere' },
  { method: 'HEAD', path: '/wms/v1/warehouses' },
  // a streamed body
  { path: '/wms/v1/exports/inventory?format=ndjson' },
  { path: '/w/uat/wms/v1/inventory/SKU-1' },
];

describe('understudy through msw', () => {
  it('answers the WMS as a server on a socket does, for the same seed and the same requests', async () => {
    const config: ServerOptions = { systems: { wms: { skus: 40 } } };
    const http = await start({ ...config, seed: 7, ...manualTime() });
    await viaMsw({ seed: 7, config: { ...config, ...manualTime() } });

    const overHttp = await run(http.url, WMS_STEPS);
    const throughMsw = await run(BASE, WMS_STEPS);
    expect(throughMsw).toEqual(overHttp);
    // the sequence did what it says: the write, its idempotent repeat, the refusals, the stream
    expect(overHttp.map((o) => ('status' in o ? o.status : o.error))).toEqual([200, 200, 200, 201, 200, 200, 200, 400, 400, 400, 404, 405, 404, 200, 200, 200]);
    const exported = throughMsw[14] as { body: string };
    expect(exported.body.trim().split('\n')).toHaveLength(40);
  });

  it('serves a third-party contract at its own base URL with chaos, and journals it as a server does', async () => {
    const profile = [
      'name: vendor-trouble',
      'rules:',
      '  - id: flaky-list',
      '    match: { system: api, method: GET, path: /api/pets }',
      '    faults: [ { status: { code: 503, probability: 0.5 } } ]',
      '  - id: slow-pet',
      '    match: { system: api, path: "/api/pets/{id}", method: GET }',
      '    faults: [ { latency: 2s } ]',
      '  - id: drop-deletes',
      '    match: { system: api, method: DELETE }',
      '    faults: [ { reset: {} } ]',
      '  - id: hang',
      '    match: { system: api, header: { x-hang: "yes" } }',
      '    faults: [ { timeout: { after: 5s } } ]',
      '  - id: cut',
      '    match: { system: api, header: { x-cut: "yes" } }',
      '    faults: [ { truncate: {} } ]',
      '',
    ].join('\n');
    const steps: Step[] = [
      ...Array.from({ length: 8 }, (): Step => ({ path: '/pets?limit=2' })),
      { path: '/pets/1', hold: 2000 },
      { path: '/pets/2', headers: { prefer: 'example=tom' }, hold: 2000 },
      { method: 'POST', path: '/pets', body: { name: 'Rex', tag: 'dog' } },
      { method: 'POST', path: '/pets', body: { tag: 'no name' } },
      { method: 'PUT', path: '/pets/1/tags', body: ['a', 'b'] },
      { method: 'DELETE', path: '/pets/1' },
      { path: '/pets/1/card', headers: { accept: 'text/plain' } },
      { path: '/pets/1/card', headers: { 'x-hang': 'yes' }, hold: 5000 },
      { path: '/pets?limit=1000' },
    ];
    const httpTime = manualTime();
    const http = await start({ seed: 11, contracts: [PETSTORE], ...httpTime });
    // the same profile over HTTP, activated as a user would (PUT /__admin/chaos), and through msw at start-up
    expect((await call(`${http.url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: profile })).status).toBe(200);
    const msw = manualTime();
    const handle = await viaMsw({ seed: 11, contracts: [{ file: PETSTORE, baseUrl: PETS }], profile, config: msw });

    const overHttp = await run(`${http.url}/api`, steps, httpTime.scheduler);
    const throughMsw = await run(PETS, steps, msw.scheduler);
    expect(throughMsw).toEqual(overHttp);

    const httpEntries = (await httpJournal(http.url)).filter((e) => e.system === 'api');
    const mswEntries = handle.journal({ limit: 1000 }).entries;
    expect(mswEntries.map(comparable)).toEqual(httpEntries.map(comparable));

    // and the chaos did happen, in both: some 503s and some lists, two held reads, a reset, a held connection
    const statuses = mswEntries.map((e) => e.status).reverse();
    expect(statuses.slice(0, 8)).toContain(503);
    expect(statuses.slice(0, 8)).toContain(200);
    expect(mswEntries.filter((e) => e.faults.some((f) => f.kind === 'latency'))).toHaveLength(2);
    const deleted = mswEntries.find((e) => e.method === 'DELETE')!;
    expect(deleted).toMatchObject({ status: 0, transportError: 'reset (TCP RST) instead of a response' });
    expect(throughMsw[13]).toEqual({ error: 'TypeError' });
    expect(mswEntries.find((e) => e.faults.some((f) => f.rule === 'hang'))).toMatchObject({ status: 0, transportError: 'held 5000 ms, then closed without a response' });
    // a request the contract refuses, with its errors, and a limit past the contract's maximum
    expect(mswEntries.find((e) => e.method === 'POST' && e.status === 400)?.contract.valid).toBe(false);
  });
});

const LATENCY = 'name: slow\nrules:\n  - id: slow-reads\n    match: { system: wms, method: GET }\n    faults: [ { latency: 2s } ]\n';

describe('time through msw', () => {
  it('holds a reply for injected latency on vitest fake timers: nothing arrives until the time has passed', async () => {
    const handle = await viaMsw({ profile: LATENCY });
    vi.useFakeTimers();
    try {
      let settled = false;
      const answered = fetch(`${BASE}/wms/v1/warehouses`).then((res) => {
        settled = true;
        return res.status;
      });
      // wait (without time passing) until the reply is held
      for (let i = 0; i < 1000 && vi.getTimerCount() === 0; i++) await new Promise((resolve) => process.nextTick(resolve));
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(1999);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(await answered).toBe(200);
    } finally {
      vi.useRealTimers();
    }
    expect(handle.journal().entries[0]).toMatchObject({ operation: 'listWarehouses', status: 200, faults: [{ kind: 'latency' }] });
  });

  it('ends a held reply when the request is aborted: fetch rejects with the abort, the journal says the client gave up', async () => {
    const time = manualTime();
    const handle = await viaMsw({ profile: LATENCY, config: time });
    const controller = new AbortController();
    const answered = fetch(`${BASE}/wms/v1/inventory/SKU-1`, { signal: controller.signal }).catch((err: Error) => err);
    await time.scheduler.whenPending();
    time.scheduler.advance(500);
    controller.abort();
    expect(await answered).toMatchObject({ name: 'AbortError' });
    expect(time.scheduler.pending).toEqual([]);
    expect(handle.journal().entries[0]).toMatchObject({ status: 0, transportError: expect.stringMatching(/client closed the connection while the reply was held \(for 2000 ms/) });
  });

  it('holds a timeout until the client gives up, as a socket would stay silent', async () => {
    const time = manualTime();
    const handle = await viaMsw({ profile: 'name: hang\nrules:\n  - id: hang\n    faults: [ { timeout: { after: 30s } } ]\n', config: time });
    const controller = new AbortController();
    const answered = fetch(`${BASE}/wms/v1/warehouses`, { signal: controller.signal }).catch((err: Error) => err);
    await time.scheduler.whenPending();
    // the client's own timeout, 10 s in: the server's 30 s hold ends with it
    time.scheduler.advance(10_000);
    controller.abort(new DOMException('client timeout', 'TimeoutError'));
    expect(await answered).toMatchObject({ name: 'TimeoutError' });
    expect(handle.journal().entries[0]).toMatchObject({ status: 0, transportError: 'held without a response until the client gave up' });
    expect(time.scheduler.pending).toEqual([]);
  });

  it('cuts a truncated body (reading it rejects) and drips a slow one at its rate', async () => {
    const time = manualTime();
    const profile = [
      'name: bodies',
      'rules:',
      '  - id: cut',
      '    match: { header: { x-cut: "yes" } }',
      '    faults: [ { truncate: {} } ]',
      '  - id: drip',
      '    match: { header: { x-drip: "yes" } }',
      '    faults: [ { slowBody: { bytesPerSecond: 100 } } ]',
      '',
    ].join('\n');
    const handle = await viaMsw({ profile, config: time });
    const whole = await (await fetch(`${BASE}/wms/v1/warehouses`)).text();

    const cut = await fetch(`${BASE}/wms/v1/warehouses`, { headers: { 'x-cut': 'yes' } });
    expect(cut.status).toBe(200);
    expect(cut.headers.get('content-length')).toBe(String(Buffer.byteLength(whole)));
    await expect(cut.text()).rejects.toThrow(TypeError);
    expect(handle.journal().entries[0]).toMatchObject({ faults: [{ kind: 'truncate' }], transportError: expect.stringMatching(/^closed after \d+ of \d+ body bytes$/) });

    const slow = await fetch(`${BASE}/wms/v1/warehouses`, { headers: { 'x-drip': 'yes' } });
    expect(slow.status).toBe(200);
    const text = slow.text();
    // 10 bytes each tenth of a second: the body takes length/100 seconds of scheduler time
    const steps = Math.ceil(Buffer.byteLength(whole) / 10);
    for (let i = 1; i < steps; i++) {
      await time.scheduler.whenPending();
      time.scheduler.advance(100);
    }
    expect(await text).toBe(whole);
    expect(handle.journal().entries[0]).toMatchObject({ faults: [{ kind: 'slowBody' }], status: 200 });
    expect(handle.journal().entries[0].transportError).toBeUndefined();
  });
});

describe('bad input through msw', () => {
  it('answers an oversize body 413 as over HTTP, malformed JSON 400, a bad workspace name 400, and keeps serving', async () => {
    const limits = { bodyBytes: 2048 };
    const http = await start({ limits, ...manualTime() });
    const handle = await viaMsw({ config: { limits, ...manualTime() } });
    const big = { externalOrderId: 'SO-BIG', lines: [{ sku: 'SKU-1', quantity: 1 }], note: 'x'.repeat(4000) };
    const steps: Step[] = [
      { method: 'POST', path: '/wms/v1/reservations', body: big },
      { method: 'POST', path: '/wms/v1/reservations', body: '{"externalOrderId": ' },
      { method: 'POST', path: '/wms/v1/reservations', body: '\u0000\u0001 not json at all' },
      { path: '/w/no_underscores/wms/v1/warehouses' },
      { path: `/w/${'a'.repeat(41)}/wms/v1/warehouses` },
      { path: '/wms/v1/warehouses' },
    ];
    const overHttp = await run(http.url, steps);
    const throughMsw = await run(BASE, steps);
    // (the 413's Connection: close is on both sides, and ignored as a connection's header)
    expect(throughMsw).toEqual(overHttp);
    expect(throughMsw.map((o) => ('status' in o ? o.status : o.error))).toEqual([413, 400, 400, 400, 400, 200]);
    expect(JSON.parse((throughMsw[3] as { body: string }).body)).toMatchObject({ detail: expect.stringContaining('is not a workspace name') });
    const [tooLarge] = handle.journal({ status: 413 }).entries;
    expect(tooLarge.contract.errors).toEqual([{ in: 'body', message: 'body exceeds the 2048-byte limit' }]);
  });

  it('refuses a streamed body that grows past the limit without reading the rest', async () => {
    await viaMsw({ config: { limits: { bodyBytes: 1024 } } });
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(512).fill(32));
        if (pulled > 1000) controller.close();
      },
    });
    const res = await fetch(`${BASE}/wms/v1/reservations`, { method: 'POST', body: endless, headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(pulled).toBeLessThan(20);
    expect((await fetch(`${BASE}/wms/v1/warehouses`)).status).toBe(200);
  });

  it('does not serve the admin API: a 404 that points at the handle', async () => {
    await viaMsw({});
    const res = await call(`${BASE}/__admin/journal`);
    expect(res.status).toBe(404);
    expect(res.body.detail).toMatch(/not served through msw.*journal\(\)/);
    expect((await call(`${BASE}/w/uat/__admin/health`)).status).toBe(404);
  });
});

describe('the handle', () => {
  it('reads the journal with the admin API query fields, by workspace, one entry in full, and refuses a bad query', async () => {
    const handle = await viaMsw({ seed: 5 });
    await fetch(`${BASE}/wms/v1/inventory/SKU-1`);
    await fetch(`${BASE}/wms/v1/inventory/NO-SUCH`);
    await fetch(`${BASE}/w/UAT/wms/v1/warehouses`, { headers: { 'x-understudy-client': 'sf-uat' } });
    expect(handle.journal({ status: '4xx' }).entries.map((e) => e.path)).toEqual(['/wms/v1/inventory/NO-SUCH']);
    expect(handle.journal({ limit: 1 })).toMatchObject({ total: 2, entries: [{ path: '/wms/v1/inventory/NO-SUCH' }], nextCursor: expect.any(String) });
    const uat = handle.journal({}, { workspace: 'uat' }).entries;
    expect(uat).toMatchObject([{ workspace: 'uat', client: 'sf-uat', operation: 'listWarehouses' }]);
    const full = handle.entry(uat[0].id, { workspace: 'uat' })!;
    expect(full).toMatchObject({ remoteAddress: '127.0.0.1', request: { headers: { host: 'understudy.local', 'x-understudy-client': 'sf-uat' } } });
    expect(handle.entry(999)).toBeUndefined();
    expect(() => handle.journal({ limit: 0 })).toThrow(/limit: must be an integer/);
    expect(() => handle.journal({ colour: 'red' } as never)).toThrow(/colour: unknown filter/);
    expect(() => handle.journal({}, { workspace: 'no spaces' })).toThrow(/not a workspace name/);
  });

  it('activates a profile by name or text, refuses a bad one and keeps the old, and resets', async () => {
    const handle = await viaMsw({});
    handle.setProfile('name: down\nrules:\n  - id: down\n    match: { system: wms }\n    faults: [ { status: { code: 503 } } ]\n');
    expect((await fetch(`${BASE}/wms/v1/warehouses`)).status).toBe(503);
    expect(() => handle.setProfile('name: bad\nrules:\n  - id: x\n    match: { system: wsm }\n    faults: [ { reset: {} } ]\n')).toThrow(/wsm/);
    expect((await fetch(`${BASE}/wms/v1/warehouses`)).status).toBe(503);
    expect(() => handle.setProfile('no-such-profile')).toThrow(/no such profile/);
    handle.setProfile('calm');
    expect((await fetch(`${BASE}/wms/v1/warehouses`)).status).toBe(200);
    expect(handle.journal().total).toBe(3);
    await handle.reset('journal');
    expect(handle.journal().total).toBe(0);
  });

  it('keeps state per workspace and puts it back on reset', async () => {
    const handle = await viaMsw({});
    const reserve = () => call(`${BASE}/wms/v1/reservations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ externalOrderId: 'SO-9', lines: [{ sku: 'SKU-2', quantity: 3 }] }) });
    const reserved = async (prefix = '') => (await call(`${BASE}${prefix}/wms/v1/inventory/SKU-2`)).body.reserved;
    const before = await reserved();
    expect((await reserve()).status).toBe(201);
    expect(await reserved()).toBe(before + 3);
    expect(await reserved('/w/other')).toBe(before);
    await handle.reset('state');
    expect(await reserved()).toBe(before);
  });

  it('answers node:http clients too (through the module object: msw patches it, not ESM named imports)', async () => {
    await viaMsw({});
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      nodeHttp.request(`${BASE}/wms/v1/inventory/SKU-1`, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
        .on('error', reject)
        .end();
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ sku: 'SKU-1' });
  });

  it('serves contracts given as FILE@/mount under the base URL, and a vendor base URL nested under it', async () => {
    const handle = await viaMsw({ baseUrl: 'http://fake.test/root/', contracts: [`${PETSTORE}@/petstore`, { file: PETSTORE, mount: '/pets2', baseUrl: 'http://fake.test/root/vendor' }] });
    expect(handle.baseUrl).toBe('http://fake.test/root');
    expect((await fetch('http://fake.test/root/petstore/pets/1')).status).toBe(200);
    expect((await fetch('http://fake.test/root/vendor/pets/1')).status).toBe(200);
    expect((await fetch('http://fake.test/root/wms/v1/warehouses')).status).toBe(200);
    expect(handle.journal().entries.map((e) => e.path)).toEqual(['/wms/v1/warehouses', '/pets2/pets/1', '/petstore/pets/1']);
  });

  it('makes a vendor contract stateful or protected from its entry, as systems.custom[] does in a config file', async () => {
    const handle = await viaMsw({ contracts: [{ file: PETSTORE, baseUrl: PETS, stateful: true }, { file: PETSTORE, mount: '/locked', baseUrl: 'https://locked.example', auth: 'apikey' }], auth: { apiKeys: [{ key: 'k-1', client: 'ci' }] } });
    const made = await fetch(`${PETS}/pets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Rex', tag: 'dog' }) });
    expect(made.status).toBe(200);
    const pet = (await made.json()) as { id: number; name: string };
    expect(await (await fetch(`${PETS}/pets/${pet.id}`)).json()).toMatchObject({ id: pet.id, name: 'Rex', tag: 'dog' });
    expect((await fetch(`${PETS}/pets/${pet.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${PETS}/pets/${pet.id}`)).status).toBe(404);
    expect((await fetch('https://locked.example/pets/1')).status).toBe(401);
    expect((await fetch('https://locked.example/pets/1', { headers: { 'x-api-key': 'k-1' } })).status).toBe(200);
    expect(handle.journal({ status: 401 }).entries).toHaveLength(1);
  });

  it('refuses base URLs it cannot route, naming them', async () => {
    await expect(understudyHandlers({ baseUrl: 'understudy.local' })).rejects.toThrow(/baseUrl "understudy.local" is not an absolute URL/);
    await expect(understudyHandlers({ baseUrl: 'ftp://x.test' })).rejects.toThrow(/must be an http: or https: URL/);
    await expect(understudyHandlers({ baseUrl: 'http://x.test/?a=1' })).rejects.toThrow(/no query/);
    await expect(understudyHandlers({ contracts: [{ file: PETSTORE, baseUrl: 'http://understudy.local/' }] })).rejects.toThrow(/two of the base URLs given are http:\/\/understudy.local/);
    await expect(understudyHandlers({ contracts: [{ file: '/no/such.yaml', baseUrl: 'http://v.test' }] })).rejects.toThrow(/no\/such.yaml/);
  });

  it('stops answering once closed: msw passes its requests on as any it has no answer for', async () => {
    const handle = await viaMsw({});
    expect((await fetch(`${BASE}/wms/v1/warehouses`)).status).toBe(200);
    await handle.close();
    // passed on to the network (this file's msw bypasses what it cannot answer), where understudy.local is no host
    await expect(fetch(`${BASE}/wms/v1/warehouses`)).rejects.toThrow(TypeError);
    expect(handle.journal().total).toBe(1);
  });
});
