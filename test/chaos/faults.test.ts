/**
 * The chaos fault kinds, each observed from a real client socket (node:http or a raw net socket): latency (every
 * distribution and the `max` cap), status (Retry-After as seconds and as an HTTP-date, the system's problem+json
 * or a custom body and headers), timeout, reset, empty, malformed, truncate, slowBody, drift (remove / rename /
 * add / retype, `*` paths, the contract violation in the journal, skipped when the fields are absent), lostAck
 * (the effect is committed although the caller sees a failure), failFirst / succeedFirst (per client and rule),
 * outage (503, reset, hang, refuse-after-accept), the rule-level quota (Salesforce style) and rateLimit headers,
 * the opt-in x-understudy-fault header, and the journal's `faults` records. Probabilities (status, reset,
 * latency) are checked over seeded runs against binomial 5-sigma bounds.
 *
 * No test waits for real time: servers run on a ManualClock + ManualScheduler, and time passes only through
 * scheduler.advance().
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { call, start } from '../helpers.js';

const keepAlive = new Agent({ keepAlive: true, maxSockets: 16 });
afterAll(() => keepAlive.destroy());

const INVENTORY = '/wms/v1/inventory/SKU-1';
const RESERVATIONS = '/wms/v1/reservations';

// ---------------------------------------------------------------------------------------------------------------
// plumbing

interface Chaos {
  url: string;
  port: number;
  clock: ManualClock;
  scheduler: ManualScheduler;
}

/** A server on manual time with `profile` (YAML) activated through PUT /__admin/chaos. */
async function chaosServer(profile: string, options: { faultHeader?: boolean; seed?: number } = {}): Promise<Chaos> {
  const clock = new ManualClock();
  const scheduler = new ManualScheduler(clock);
  const server = await start({ clock, scheduler, seed: options.seed ?? 7, faultHeader: options.faultHeader ?? false, systems: { wms: { skus: 20 } } });
  const put = await call(`${server.url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: profile });
  expect(put.status, put.text).toBe(200);
  return { url: server.url, port: server.port, clock, scheduler };
}

interface Outcome {
  /** 0 when no response head arrived */
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** the whole body arrived (Content-Length honoured) */
  complete: boolean;
  /** what the client saw go wrong, if anything */
  error?: { code?: string; message: string };
}

interface InFlight {
  /** set when the response head arrives */
  readonly answered: () => boolean;
  readonly outcome: Promise<Outcome>;
}

interface SendInit {
  method?: string;
  headers?: Record<string, string>;
  /** an object is sent as JSON */
  body?: unknown;
  /** default: a fresh connection per request */
  agent?: Agent | false;
}

/** One request through node:http; never rejects: a failure below HTTP is in outcome.error. */
function send(base: string, path: string, init: SendInit = {}): InFlight {
  let answered = false;
  const outcome = new Promise<Outcome>((resolve) => {
    let settled = false;
    let status = 0;
    let responseHeaders: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    const finish = (complete: boolean, error?: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks), complete, ...(error ? { error: { code: error.code, message: error.message } } : {}) });
    };
    const body = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    const headers = { ...(body !== undefined && typeof init.body !== 'string' ? { 'content-type': 'application/json' } : {}), ...init.headers };
    const req = httpRequest(`${base}${path}`, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, agent: init.agent ?? false }, (res) => {
      answered = true;
      status = res.statusCode ?? 0;
      responseHeaders = res.headers;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish(res.complete));
      res.on('error', (err) => finish(false, err));
      res.on('close', () => finish(res.complete, res.complete ? undefined : Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
    });
    req.on('error', (err) => finish(false, err));
    req.end(body);
  });
  return { answered: () => answered, outcome };
}

/** The parsed JSON body of an outcome. */
function bodyOf(o: Outcome): any {
  return JSON.parse(o.body.toString('utf8'));
}

/**
 * Sends one request and lets time pass whenever the server waits, until the client has its outcome. Returns the
 * delays the server asked the scheduler for.
 */
async function drive(chaos: Chaos, path: string, init: SendInit = {}): Promise<{ outcome: Outcome; waited: number[] }> {
  const flight = send(chaos.url, path, { agent: keepAlive, ...init });
  const waited: number[] = [];
  for (;;) {
    const next = await Promise.race([flight.outcome.then(() => 'answered' as const), chaos.scheduler.whenPending().then(() => 'timer' as const)]);
    if (next === 'answered') break;
    const ms = chaos.scheduler.pending[0];
    waited.push(ms);
    chaos.scheduler.advance(ms);
  }
  return { outcome: await flight.outcome, waited };
}

/** A round trip through the admin API: whatever the server had written to other sockets before has been sent. */
async function flush(chaos: Chaos): Promise<void> {
  expect((await call(`${chaos.url}/__admin/health`)).status).toBe(200);
}

async function journal(chaos: Chaos, query = ''): Promise<any[]> {
  const r = await call(`${chaos.url}/__admin/journal${query ? `?${query}` : ''}`);
  expect(r.status).toBe(200);
  return r.body.entries;
}

/** A raw TCP connection that records every byte the server sends, for what node:http would hide. */
class RawConnection {
  received = Buffer.alloc(0);
  closed = false;
  error: string | undefined;
  readonly ended: Promise<void>;
  private readonly socket: Socket;
  private waiters: Array<() => void> = [];

  constructor(port: number, request: string) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    this.socket.on('error', (err: NodeJS.ErrnoException) => (this.error = err.code));
    this.ended = new Promise((resolve) =>
      this.socket.on('close', () => {
        this.closed = true;
        this.wake();
        resolve();
      }),
    );
    this.socket.write(request);
  }

  static get(port: number, path: string): RawConnection {
    return new RawConnection(port, `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  }

  /** resolves once `test` holds for what has arrived; rejects if the connection closes first */
  until(test: (c: RawConnection) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (test(this)) return resolve();
        if (this.closed) return reject(new Error(`closed after ${this.received.length} bytes: ${this.received.toString('latin1').slice(0, 200)}`));
        this.waiters.push(check);
      };
      check();
    });
  }

  /** the response head, once it has arrived */
  get head(): { status: number; headers: Record<string, string>; bodyStart: number } | undefined {
    const end = this.received.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const [statusLine, ...lines] = this.received.subarray(0, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { status: Number(statusLine.split(' ')[1]), headers, bodyStart: end + 4 };
  }

  get body(): Buffer {
    const head = this.head;
    return head ? this.received.subarray(head.bodyStart) : Buffer.alloc(0);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w();
  }
}

/** lower and upper 5-sigma bounds of a Binomial(n, p) count */
function binomialBounds(n: number, p: number): [number, number] {
  const sigma = Math.sqrt(n * p * (1 - p));
  return [n * p - 5 * sigma, n * p + 5 * sigma];
}

function expectWithin(value: number, [low, high]: [number, number], what: string): void {
  expect(value, `${what}: ${value} not in [${low.toFixed(1)}, ${high.toFixed(1)}]`).toBeGreaterThanOrEqual(low);
  expect(value, `${what}: ${value} not in [${low.toFixed(1)}, ${high.toFixed(1)}]`).toBeLessThanOrEqual(high);
}

/** The delays drawn for `n` sequential requests (0 when the server did not wait). */
async function latencies(chaos: Chaos, n: number, path = INVENTORY): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const { outcome, waited } = await drive(chaos, path);
    expect(outcome.status).toBe(200);
    expect(waited.length).toBeLessThanOrEqual(1);
    out.push(waited[0] ?? 0);
  }
  return out;
}

const countWhere = (xs: number[], test: (x: number) => boolean) => xs.filter(test).length;

const RESERVATION = (externalOrderId: string) => ({ externalOrderId, lines: [{ sku: 'SKU-1', quantity: 1 }] });

async function reservationsFor(chaos: Chaos, externalOrderId: string): Promise<any[]> {
  const r = await call(`${chaos.url}${RESERVATIONS}?externalOrderId=${externalOrderId}`);
  expect(r.status).toBe(200);
  return r.body.reservations;
}

// ---------------------------------------------------------------------------------------------------------------

describe('latency', () => {
  it('fixed (shorthand): the answer is held exactly that long, then arrives intact; the journal has the delay', async () => {
    const chaos = await chaosServer(`
rules:
  - id: slow-wms
    match: { system: wms }
    faults:
      - latency: 250ms
`);
    const flight = send(chaos.url, INVENTORY);
    await chaos.scheduler.whenPending();
    expect(chaos.scheduler.pending).toEqual([250]);
    await flush(chaos);
    expect(flight.answered()).toBe(false);
    chaos.scheduler.advance(249);
    await flush(chaos);
    expect(flight.answered()).toBe(false);
    chaos.scheduler.advance(1);
    const outcome = await flight.outcome;
    expect(outcome.status).toBe(200);
    expect(bodyOf(outcome).sku).toBe('SKU-1');
    expect(outcome.headers['x-understudy-fault']).toBeUndefined();
    const [entry] = await journal(chaos);
    expect(entry.status).toBe(200);
    expect(entry.faults).toEqual([{ rule: 'slow-wms', kind: 'latency', params: { value: '250ms', ms: 250 } }]);
  });

  it('only matching requests wait: a rule on one path leaves the others alone', async () => {
    const chaos = await chaosServer(`
rules:
  - id: slow-inventory
    match: { system: wms, path: "/wms/v1/inventory/{sku}" }
    faults:
      - latency: { distribution: fixed, value: 2s }
`);
    const other = await drive(chaos, `${RESERVATIONS}?externalOrderId=nope`);
    expect(other.waited).toEqual([]);
    expect(other.outcome.status).toBe(200);
    const held = await drive(chaos, INVENTORY);
    expect(held.waited).toEqual([2000]);
  });

  it('max caps a draw: fixed 5s with max 1s waits 1s', async () => {
    const chaos = await chaosServer(`
rules:
  - id: capped
    faults:
      - latency: { distribution: fixed, value: 5s, max: 1s }
`);
    const flight = send(chaos.url, INVENTORY);
    await chaos.scheduler.whenPending();
    expect(chaos.scheduler.pending).toEqual([1000]);
    chaos.scheduler.advance(1000);
    expect((await flight.outcome).status).toBe(200);
    const [entry] = await journal(chaos);
    expect(entry.faults[0]).toMatchObject({ rule: 'capped', kind: 'latency', params: { distribution: 'fixed', value: '5s', max: '1s', ms: 1000 } });
  });

  it('uniform 100ms..200ms: every delay in range, spread evenly over it', async () => {
    const chaos = await chaosServer(`
rules:
  - id: jitter
    faults:
      - latency: { distribution: uniform, min: 100ms, max: 200ms }
`);
    const n = 1000;
    const ms = await latencies(chaos, n);
    expect(Math.min(...ms)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...ms)).toBeLessThanOrEqual(200);
    // four quarters of the range, each ~n/4 (rounding to whole ms moves at most half a ms per edge)
    for (let q = 0; q < 4; q++) {
      const low = 100 + q * 25;
      const inQuarter = countWhere(ms, (x) => x >= low && (q === 3 ? x <= 200 : x < low + 25));
      expectWithin(inQuarter, binomialBounds(n, 0.25), `quarter ${q}`);
    }
    // the journal records the very delays the scheduler was asked for (newest first)
    const entries = await journal(chaos, 'limit=5');
    expect(entries.map((e) => e.faults[0].params.ms)).toEqual(ms.slice(-5).reverse());
  });

  it('normal mean 500ms stddev 100ms: sample mean, spread and the ±1σ share fit', async () => {
    const chaos = await chaosServer(`
rules:
  - id: gauss
    faults:
      - latency: { distribution: normal, mean: 500ms, stddev: 100ms }
`);
    const n = 1000;
    const ms = await latencies(chaos, n);
    const mean = ms.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(ms.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    expectWithin(mean, [500 - (5 * 100) / Math.sqrt(n), 500 + (5 * 100) / Math.sqrt(n)], 'mean');
    expectWithin(sd, [100 - (5 * 100) / Math.sqrt(2 * n), 100 + (5 * 100) / Math.sqrt(2 * n)], 'stddev');
    expectWithin(
      countWhere(ms, (x) => x >= 400 && x <= 600),
      binomialBounds(n, 0.6827),
      'within one sigma',
    );
  });

  it('lognormal median 300ms p99 4s: half below 300 ms, ~10% above the 90th percentile, ~1% above 4 s', async () => {
    const chaos = await chaosServer(`
rules:
  - id: tail
    faults:
      - latency: { distribution: lognormal, median: 300ms, p99: 4s }
`);
    const n = 2000;
    const ms = await latencies(chaos, n);
    expect(Math.min(...ms)).toBeGreaterThan(0);
    expectWithin(countWhere(ms, (x) => x < 300), binomialBounds(n, 0.5), 'below the median');
    // the 90th percentile of that distribution: median * (p99/median)^(z90/z99)
    const p90 = 300 * (4000 / 300) ** (1.2815516 / 2.3263479);
    expectWithin(countWhere(ms, (x) => x > p90), binomialBounds(n, 0.1), `above p90 (${p90.toFixed(0)} ms)`);
    // ~1%: expect 20 of 2000. 0 happens with probability 2e-9, more than 42 is past 5 sigma
    const aboveP99 = countWhere(ms, (x) => x > 4000);
    expect(aboveP99).toBeGreaterThanOrEqual(1);
    expect(aboveP99).toBeLessThanOrEqual(42);
  });

  it('lognormal with max: no delay above the cap, and the draws past it are held at exactly the cap', async () => {
    const chaos = await chaosServer(`
rules:
  - id: tail-capped
    faults:
      - latency: { distribution: lognormal, median: 300ms, p99: 4s, max: 1s }
`);
    const n = 400;
    const ms = await latencies(chaos, n);
    expect(Math.max(...ms)).toBe(1000);
    // P(X > 1 s) for that lognormal: 1 - Phi(ln(1000/300) / sigma), sigma = ln(4000/300) / z99  ≈ 0.140
    expectWithin(countWhere(ms, (x) => x === 1000), binomialBounds(n, 0.14), 'capped draws');
  });

  it('pareto min 100ms alpha 2: nothing below min, P(X > x) = (min/x)^alpha', async () => {
    const chaos = await chaosServer(`
rules:
  - id: heavy
    faults:
      - latency: { distribution: pareto, min: 100ms, alpha: 2 }
`);
    const n = 1000;
    const ms = await latencies(chaos, n);
    expect(Math.min(...ms)).toBeGreaterThanOrEqual(100);
    expectWithin(countWhere(ms, (x) => x > 200), binomialBounds(n, 0.25), 'above 200 ms');
    expectWithin(countWhere(ms, (x) => x > 400), binomialBounds(n, 0.0625), 'above 400 ms');
    expect(countWhere(ms, (x) => x > 1000)).toBeLessThanOrEqual(26); // 1% of 1000 + 5 sigma
  });

  it('probability 0.25 over 2,000 requests: within 5 sigma of 500 delayed, the rest not delayed at all', async () => {
    const chaos = await chaosServer(`
rules:
  - id: sometimes-slow
    faults:
      - latency: { distribution: fixed, value: 40ms, probability: 0.25 }
`);
    const n = 2000;
    const ms = await latencies(chaos, n);
    expect(new Set(ms)).toEqual(new Set([0, 40]));
    const delayed = countWhere(ms, (x) => x === 40);
    expectWithin(delayed, binomialBounds(n, 0.25), 'delayed');
    const state = await call(`${chaos.url}/__admin/chaos`);
    expect(state.body.rules[0]).toMatchObject({ id: 'sometimes-slow', matched: n, injected: { latency: delayed } });
    const [entry] = await journal(chaos, 'limit=1');
    if (ms[n - 1] === 40) expect(entry.faults).toEqual([{ rule: 'sometimes-slow', kind: 'latency', params: { distribution: 'fixed', value: '40ms', probability: 0.25, ms: 40 } }]);
    else expect(entry.faults).toEqual([]);
  });
});

describe('status', () => {
  it('answers instead of the system with its problem+json and Retry-After in seconds; the handler never runs', async () => {
    const chaos = await chaosServer(`
rules:
  - id: shed
    match: { system: wms, method: POST }
    faults:
      - status: { code: 503, retryAfter: 5s }
`);
    const r = await send(chaos.url, RESERVATIONS, { body: RESERVATION('SO-STATUS') }).outcome;
    expect(r.status).toBe(503);
    expect(r.headers['content-type']).toBe('application/problem+json');
    expect(r.headers['retry-after']).toBe('5');
    expect(Number(r.headers['content-length'])).toBe(r.body.length);
    expect(bodyOf(r)).toMatchObject({ type: expect.stringMatching(/^urn:understudy:problem:/), title: 'Service Unavailable', status: 503, detail: expect.any(String) });
    const [entry] = await journal(chaos);
    expect(entry.status).toBe(503);
    expect(entry.faults).toEqual([{ rule: 'shed', kind: 'status', params: { code: 503, retryAfter: '5s' } }]);
    expect(entry.effects).toEqual([]);
    expect(await reservationsFor(chaos, 'SO-STATUS')).toEqual([]);
  });

  it('Retry-After rounds a part second up (1200ms → 2), and retryAfterFormat: http-date gives the date from the clock, rounded up to the second', async () => {
    const chaos = await chaosServer(`
rules:
  - id: seconds
    match: { path: /wms/v1/inventory/SKU-1 }
    faults:
      - status: { code: 429, retryAfter: 1200ms }
  - id: date
    match: { path: /wms/v1/inventory/SKU-2 }
    faults:
      - status: { code: 503, retryAfter: 90s, retryAfterFormat: http-date }
`);
    const seconds = await send(chaos.url, INVENTORY).outcome;
    expect(seconds.status).toBe(429);
    expect(seconds.headers['retry-after']).toBe('2');
    chaos.clock.advance(12_345);
    const dated = await send(chaos.url, '/wms/v1/inventory/SKU-2').outcome;
    expect(dated.status).toBe(503);
    const header = String(dated.headers['retry-after']);
    // the clock stands at 12.345 s past a whole minute: the instant asked for (+90 s) is 1:42.345, announced as 1:43
    expect(chaos.clock.now() % 1000).toBe(345);
    expect(header).toBe(new Date(Math.ceil((chaos.clock.now() + 90_000) / 1000) * 1000).toUTCString());
    expect(header).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:43 GMT$/);
    // a client that waits until the date announced never comes back before the 90 s the profile asked for
    expect(Date.parse(header) - chaos.clock.now()).toBeGreaterThanOrEqual(90_000);
    expect(Date.parse(header) - chaos.clock.now()).toBeLessThan(91_000);
  });

  it('a custom body (map → JSON, string → text) and custom headers replace the default', async () => {
    const chaos = await chaosServer(`
rules:
  - id: json-body
    match: { path: /wms/v1/inventory/SKU-1 }
    faults:
      - status: { code: 502, body: { error: bad_gateway, upstream: wms-7 }, headers: { X-Gateway: edge-3, Cache-Control: no-store } }
  - id: text-body
    match: { path: /wms/v1/inventory/SKU-2 }
    faults:
      - status: { code: 500, body: "upstream exploded" }
`);
    const j = await send(chaos.url, INVENTORY).outcome;
    expect(j.status).toBe(502);
    expect(j.headers['content-type']).toBe('application/json');
    expect(bodyOf(j)).toEqual({ error: 'bad_gateway', upstream: 'wms-7' });
    expect(j.headers['x-gateway']).toBe('edge-3');
    expect(j.headers['cache-control']).toBe('no-store');
    const t = await send(chaos.url, '/wms/v1/inventory/SKU-2').outcome;
    expect(t.status).toBe(500);
    expect(t.headers['content-type']).toBe('text/plain');
    expect(t.body.toString()).toBe('upstream exploded');
    expect(Number(t.headers['content-length'])).toBe(t.body.length);
  });

  it('a custom Content-Type replaces the default one (a load balancer\'s HTML error page)', async () => {
    const chaos = await chaosServer(`
rules:
  - id: lb-page
    faults:
      - status: { code: 503, body: "<html><body>503 Service Temporarily Unavailable</body></html>", headers: { Content-Type: text/html } }
`);
    const r = await send(chaos.url, INVENTORY).outcome;
    expect(r.status).toBe(503);
    expect(r.body.toString()).toMatch(/^<html>/);
    expect(r.headers['content-type']).toBe('text/html');
  });

  it('probability 0.3 over 2,000 requests from 20 clients: within 5 sigma of 600, drawn per client', async () => {
    const chaos = await chaosServer(`
rules:
  - id: flaky
    match: { system: wms }
    faults:
      - status: { code: 503, probability: 0.3 }
`);
    const clients = 20;
    const perClient = 100;
    const patterns: string[] = [];
    let failed = 0;
    for (let c = 0; c < clients; c++) {
      let pattern = '';
      for (let i = 0; i < perClient; i++) {
        const r = await send(chaos.url, INVENTORY, { agent: keepAlive, headers: { 'x-understudy-client': `client-${c}` } }).outcome;
        expect([200, 503]).toContain(r.status);
        if (r.status === 503) failed++;
        pattern += r.status === 503 ? 'x' : '.';
      }
      patterns.push(pattern);
    }
    expectWithin(failed, binomialBounds(clients * perClient, 0.3), '503s');
    // each client has its own draws: twenty identical 100-request patterns would mean the client is ignored
    expect(new Set(patterns).size).toBeGreaterThan(clients / 2);
    const state = await call(`${chaos.url}/__admin/chaos`);
    expect(state.body.rules[0]).toMatchObject({ id: 'flaky', matched: clients * perClient, injected: { status: failed } });
  });
});

describe('timeout', () => {
  it('holds the connection for `after` without a byte, then closes it without a response', async () => {
    const chaos = await chaosServer(`
rules:
  - id: stuck
    faults:
      - timeout: { after: 5s }
`);
    const raw = RawConnection.get(chaos.port, INVENTORY);
    const flight = send(chaos.url, '/wms/v1/inventory/SKU-2');
    await chaos.scheduler.whenPending(2);
    expect(chaos.scheduler.pending).toEqual([5000, 5000]);
    await flush(chaos);
    expect(raw.received.length).toBe(0);
    expect(raw.closed).toBe(false);
    expect(flight.answered()).toBe(false);
    chaos.scheduler.advance(4999);
    await flush(chaos);
    expect(raw.closed).toBe(false);
    expect(flight.answered()).toBe(false);
    chaos.scheduler.advance(1);
    await raw.ended;
    expect(raw.received.length).toBe(0);
    const outcome = await flight.outcome;
    expect(outcome.status).toBe(0);
    expect(outcome.error?.code).toBe('ECONNRESET');
    expect(outcome.error?.message).toMatch(/socket hang up/);
    const entries = await journal(chaos);
    expect(entries).toHaveLength(2);
    for (const e of entries) {
      expect(e.status).toBe(0);
      expect(e.faults).toEqual([{ rule: 'stuck', kind: 'timeout', params: { after: '5s' } }]);
      expect(e.transportError).toMatch(/held 5000 ms/);
    }
  });
});

describe('reset', () => {
  it('the client sees ECONNRESET and no response at all', async () => {
    const chaos = await chaosServer(`
rules:
  - id: rst
    faults:
      - reset
`);
    const outcome = await send(chaos.url, INVENTORY).outcome;
    expect(outcome.status).toBe(0);
    expect(outcome.error?.code).toBe('ECONNRESET');
    const raw = RawConnection.get(chaos.port, INVENTORY);
    await raw.ended;
    expect(raw.received.length).toBe(0);
    expect(raw.error).toBe('ECONNRESET');
    const [entry] = await journal(chaos);
    expect(entry).toMatchObject({ status: 0, faults: [{ rule: 'rst', kind: 'reset', params: {} }] });
  });

  it('probability 0.1 over 2,000 requests: within 5 sigma of 200 resets, every other request answered', async () => {
    const chaos = await chaosServer(`
rules:
  - id: drops
    faults:
      - reset: { probability: 0.1 }
`);
    const n = 2000;
    let resets = 0;
    for (let i = 0; i < n; i++) {
      const o = await send(chaos.url, INVENTORY, { agent: keepAlive }).outcome;
      if (o.error) {
        expect(o.error.code).toBe('ECONNRESET');
        expect(o.status).toBe(0);
        resets++;
      } else expect(o.status).toBe(200);
    }
    expectWithin(resets, binomialBounds(n, 0.1), 'resets');
    const state = await call(`${chaos.url}/__admin/chaos`);
    expect(state.body.rules[0]).toMatchObject({ matched: n, injected: { reset: resets } });
  });
});

describe('empty', () => {
  it('closes the connection without a byte: "socket hang up" for node:http, a clean close with 0 bytes on the wire', async () => {
    const chaos = await chaosServer(`
rules:
  - id: nothing
    faults:
      - empty: {}
`);
    const outcome = await send(chaos.url, INVENTORY).outcome;
    expect(outcome.status).toBe(0);
    expect(outcome.error?.code).toBe('ECONNRESET');
    expect(outcome.error?.message).toMatch(/socket hang up/);
    const raw = RawConnection.get(chaos.port, INVENTORY);
    await raw.ended;
    expect(raw.received.length).toBe(0);
    expect(raw.error).toBeUndefined(); // a FIN, not a reset
    const [entry] = await journal(chaos);
    expect(entry).toMatchObject({ status: 0, faults: [{ rule: 'nothing', kind: 'empty', params: {} }] });
  });
});

describe('malformed', () => {
  it('keeps the status and headers (Content-Length matches) but the JSON body does not parse', async () => {
    const chaos = await chaosServer(`
rules:
  - id: garbled
    faults:
      - malformed
`);
    const outcome = await send(chaos.url, INVENTORY).outcome;
    expect(outcome.error).toBeUndefined();
    expect(outcome.complete).toBe(true);
    expect(outcome.status).toBe(200);
    expect(outcome.headers['content-type']).toBe('application/json');
    expect(Number(outcome.headers['content-length'])).toBe(outcome.body.length);
    expect(() => JSON.parse(outcome.body.toString())).toThrow(SyntaxError);
    expect(outcome.body.toString()).toMatch(/^\{"sku":"SKU-1"/); // a broken version of the real answer
    const [entry] = await journal(chaos);
    expect(entry.faults).toEqual([{ rule: 'garbled', kind: 'malformed', params: { keptChars: expect.any(Number) } }]);
    expect(entry.contract.valid).toBe(false);
    expect(entry.contract.errors).toContainEqual(expect.objectContaining({ in: 'response' }));
  });
});

describe('truncate', () => {
  it('Content-Length promises the whole body, the connection closes before it is sent', async () => {
    const chaos = await chaosServer(`
rules:
  - id: cut
    faults:
      - truncate
`);
    // on the wire: a keep-alive request, so only the fault can close the connection
    const raw = RawConnection.get(chaos.port, INVENTORY);
    await raw.ended;
    const head = raw.head!;
    expect(head.status).toBe(200);
    const promised = Number(head.headers['content-length']);
    expect(promised).toBeGreaterThan(100);
    expect(raw.body.length).toBeGreaterThan(0);
    expect(raw.body.length).toBeLessThan(promised);
    // node:http: the response starts, then fails
    const outcome = await send(chaos.url, INVENTORY).outcome;
    expect(outcome.status).toBe(200);
    expect(outcome.complete).toBe(false);
    expect(outcome.error).toBeDefined();
    expect(outcome.body.length).toBeLessThan(Number(outcome.headers['content-length']));
    expect(() => JSON.parse(outcome.body.toString())).toThrow();
    const [entry] = await journal(chaos);
    expect(entry.faults).toEqual([{ rule: 'cut', kind: 'truncate', params: {} }]);
    expect(entry.transportError).toMatch(/closed after \d+ of \d+ body bytes/);
  });
});

describe('slowBody', () => {
  it('100 bytes/s: the head and one 10-byte chunk at once, then 10 bytes per 100 ms of scheduler time, no sooner', async () => {
    const chaos = await chaosServer(`
rules:
  - id: drip
    faults:
      - slowBody: { bytesPerSecond: 100 }
`);
    const raw = RawConnection.get(chaos.port, INVENTORY);
    await raw.until((c) => c.body.length >= 10);
    const head = raw.head!;
    expect(head.status).toBe(200);
    const total = Number(head.headers['content-length']);
    expect(total).toBeGreaterThan(400);
    expect(chaos.scheduler.pending).toEqual([100]);
    await flush(chaos);
    expect(raw.body.length).toBe(10);
    chaos.scheduler.advance(99);
    await flush(chaos);
    expect(raw.body.length).toBe(10);
    chaos.scheduler.advance(1);
    await raw.until((c) => c.body.length >= 20);
    await flush(chaos);
    expect(raw.body.length).toBe(20);
    // the rest: ceil(total / 10) chunks, the first at once, so the last is due (chunks - 1) * 100 ms after the first
    const chunks = Math.ceil(total / 10);
    chaos.scheduler.advance((chunks - 1) * 100 - 100 - 1);
    await flush(chaos);
    expect(raw.body.length).toBe((chunks - 1) * 10);
    chaos.scheduler.advance(1);
    await raw.until((c) => c.body.length >= total);
    expect(raw.body.length).toBe(total);
    expect(JSON.parse(raw.body.toString()).sku).toBe('SKU-1');
    expect(chaos.scheduler.pending).toEqual([]);
    raw.destroy();
    const [entry] = await journal(chaos);
    expect(entry).toMatchObject({ status: 200, faults: [{ rule: 'drip', kind: 'slowBody', params: { bytesPerSecond: 100 } }] });
  });
});

describe('drift', () => {
  it('removes, renames, adds and retypes fields (with * paths) and the journal records a response contract violation', async () => {
    const chaos = await chaosServer(`
rules:
  - id: vendor-release
    match: { path: /wms/v1/inventory/* }
    faults:
      - drift:
          remove: [name]
          rename: { sku: skuCode, warehouses.*.available: free }
          add: { warehouses.*.zone: B, channel: web }
          retype: [warehouses.*.onHand, version]
`);
    // the same seeded data, undisturbed, from a workspace that still runs the calm profile
    const original = bodyOf(await send(chaos.url, `/w/reference${INVENTORY}`).outcome);
    expect(original.warehouses.length).toBeGreaterThan(1);
    const outcome = await send(chaos.url, INVENTORY).outcome;
    expect(outcome.status).toBe(200);
    expect(Number(outcome.headers['content-length'])).toBe(outcome.body.length);
    const drifted = bodyOf(outcome);
    expect(drifted).not.toHaveProperty('name');
    expect(drifted).not.toHaveProperty('sku');
    expect(drifted.skuCode).toBe(original.sku);
    expect(drifted.channel).toBe('web');
    expect(drifted.version).toBe(String(original.version));
    expect(drifted.onHand).toBe(original.onHand); // untouched at the top
    expect(drifted.warehouses).toEqual(
      original.warehouses.map((w: any) => {
        const { available, ...rest } = w;
        return { ...rest, free: available, onHand: String(w.onHand), zone: 'B' };
      }),
    );
    const [entry] = await journal(chaos);
    expect(entry.faults).toHaveLength(1);
    expect(entry.faults[0]).toMatchObject({ rule: 'vendor-release', kind: 'drift', params: { remove: ['name'], changed: expect.arrayContaining(['-name', 'sku→skuCode', '+channel']) } });
    expect(entry.contract.valid).toBe(false);
    expect(entry.contract.errors.length).toBeGreaterThan(0);
    for (const e of entry.contract.errors) expect(e.in).toBe('response');
    const messages = JSON.stringify(entry.contract.errors);
    expect(messages).toMatch(/name/);
    expect(messages).toMatch(/onHand/);
  });

  it('on a body without those fields it is skipped and noted, and the reply is left exactly as it was', async () => {
    const chaos = await chaosServer(
      `
rules:
  - id: vendor-release
    match: { path: /wms/v1/inventory/* }
    faults:
      - drift: { remove: [warehouses.*.onHand] }
`,
      { faultHeader: true },
    );
    const reference = await send(chaos.url, '/w/reference/wms/v1/inventory/SKU-404').outcome;
    const outcome = await send(chaos.url, '/wms/v1/inventory/SKU-404').outcome;
    expect(outcome.status).toBe(404);
    expect(outcome.body.toString()).toBe(reference.body.toString());
    expect(outcome.headers['x-understudy-fault']).toBeUndefined(); // nothing was injected
    const [entry] = await journal(chaos);
    expect(entry.status).toBe(404);
    expect(entry.faults).toEqual([{ rule: 'vendor-release', kind: 'drift', skipped: expect.stringMatching(/none of the drift paths/) }]);
    expect(entry.contract.valid).toBe(true);
    const state = await call(`${chaos.url}/__admin/chaos`);
    expect(state.body.rules[0]).toMatchObject({ matched: 1, skipped: 1, injected: {} });
  });
});

describe('lostAck', () => {
  const profile = (as: string) => `
rules:
  - id: lost
    match: { method: POST, path: /wms/v1/reservations }
    faults:
      - lostAck: { as: ${as} }
`;

  it('as reset: the caller sees ECONNRESET, yet the reservation was created and the journal keeps the effect', async () => {
    const chaos = await chaosServer(profile('reset'));
    const outcome = await send(chaos.url, RESERVATIONS, { body: RESERVATION('SO-LOST-1') }).outcome;
    expect(outcome.status).toBe(0);
    expect(outcome.error?.code).toBe('ECONNRESET');
    const listed = await reservationsFor(chaos, 'SO-LOST-1');
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ externalOrderId: 'SO-LOST-1', status: 'active' });
    const entries = await journal(chaos);
    const post = entries.find((e) => e.method === 'POST');
    expect(post.status).toBe(0);
    expect(post.effects).toContainEqual({ entity: 'reservation', id: listed[0].id, action: 'created' });
    expect(post.faults).toEqual([{ rule: 'lost', kind: 'lostAck', params: { as: 'reset', effects: post.effects.length } }]);
  });

  it('as 503: a 503 in the system error shape, yet the reservation exists; a retry does not make a second one', async () => {
    const chaos = await chaosServer(profile('503'));
    const outcome = await send(chaos.url, RESERVATIONS, { body: RESERVATION('SO-LOST-2') }).outcome;
    expect(outcome.status).toBe(503);
    expect(outcome.headers['content-type']).toBe('application/problem+json');
    expect(bodyOf(outcome).status).toBe(503);
    const listed = await reservationsFor(chaos, 'SO-LOST-2');
    expect(listed).toHaveLength(1);
    const [post] = await journal(chaos, 'limit=2').then((es) => es.filter((e) => e.method === 'POST'));
    expect(post.status).toBe(503);
    expect(post.effects[0]).toEqual({ entity: 'reservation', id: listed[0].id, action: 'created' });
    expect(post.faults[0]).toMatchObject({ rule: 'lost', kind: 'lostAck', params: { as: 503 } });
    // an idempotent retry would also lose its ack here; but the state holds one reservation, not two
    await send(chaos.url, RESERVATIONS, { body: RESERVATION('SO-LOST-2') }).outcome;
    expect(await reservationsFor(chaos, 'SO-LOST-2')).toHaveLength(1);
  });

  it('as timeout: the reservation exists while the caller is still waiting; the connection closes after `after`', async () => {
    const chaos = await chaosServer(profile('timeout'));
    const flight = send(chaos.url, RESERVATIONS, { body: RESERVATION('SO-LOST-3') });
    await chaos.scheduler.whenPending();
    expect(chaos.scheduler.pending).toEqual([130_000]); // default: longer than Apex's 120 s maximum callout timeout
    expect(await reservationsFor(chaos, 'SO-LOST-3')).toHaveLength(1);
    expect(flight.answered()).toBe(false);
    chaos.scheduler.advance(130_000);
    const outcome = await flight.outcome;
    expect(outcome.status).toBe(0);
    expect(outcome.error?.message).toMatch(/socket hang up/);
    const post = (await journal(chaos)).find((e) => e.method === 'POST');
    expect(post).toMatchObject({ status: 0, faults: [{ rule: 'lost', kind: 'lostAck', params: { as: 'timeout' } }] });
    expect(post.effects.length).toBeGreaterThan(0);
  });

  it('as timeout with after: 30s holds exactly 30 s', async () => {
    const chaos = await chaosServer(profile('timeout, after: 30s'));
    const flight = send(chaos.url, RESERVATIONS, { body: RESERVATION('SO-LOST-4') });
    await chaos.scheduler.whenPending();
    expect(chaos.scheduler.pending).toEqual([30_000]);
    chaos.scheduler.advance(30_000);
    expect((await flight.outcome).error).toBeDefined();
    expect(await reservationsFor(chaos, 'SO-LOST-4')).toHaveLength(1);
  });
});

describe('failFirst / succeedFirst', () => {
  it('failFirst fails the first N requests of each client, then lets them through; a second client starts its own count', async () => {
    const chaos = await chaosServer(`
rules:
  - id: warm-up
    match: { system: wms }
    faults:
      - failFirst: { count: 2, status: 502 }
`);
    const as = (client: string) => ({ headers: { 'x-understudy-client': client }, agent: keepAlive });
    const a: number[] = [];
    for (let i = 0; i < 3; i++) a.push((await send(chaos.url, INVENTORY, as('alpha')).outcome).status);
    const b: number[] = [];
    for (let i = 0; i < 3; i++) b.push((await send(chaos.url, INVENTORY, as('beta')).outcome).status);
    a.push((await send(chaos.url, INVENTORY, as('alpha')).outcome).status);
    expect(a).toEqual([502, 502, 200, 200]);
    expect(b).toEqual([502, 502, 200]);
    const entries = (await journal(chaos)).reverse();
    expect(entries.map((e) => e.faults)).toEqual([
      [{ rule: 'warm-up', kind: 'failFirst', params: { count: 2, status: 502, attempt: 1 } }],
      [{ rule: 'warm-up', kind: 'failFirst', params: { count: 2, status: 502, attempt: 2 } }],
      [],
      [{ rule: 'warm-up', kind: 'failFirst', params: { count: 2, status: 502, attempt: 1 } }],
      [{ rule: 'warm-up', kind: 'failFirst', params: { count: 2, status: 502, attempt: 2 } }],
      [],
      [],
    ]);
  });

  it('counts per rule as well: each rule keeps its own count for the same client', async () => {
    const chaos = await chaosServer(`
rules:
  - id: first-inventory
    match: { path: "/wms/v1/inventory/{sku}" }
    faults:
      - failFirst: { count: 1 }
  - id: first-listing
    match: { method: GET, path: /wms/v1/reservations }
    faults:
      - failFirst: { count: 1 }
`);
    const statuses: number[] = [];
    for (const path of [INVENTORY, `${RESERVATIONS}?externalOrderId=x`, INVENTORY, `${RESERVATIONS}?externalOrderId=x`]) {
      statuses.push((await send(chaos.url, path).outcome).status);
    }
    expect(statuses).toEqual([503, 503, 200, 200]);
  });

  it('succeedFirst lets the first N of each client through, then fails every one', async () => {
    const chaos = await chaosServer(`
rules:
  - id: then-broken
    faults:
      - succeedFirst: { count: 2 }
`);
    const as = (client: string) => ({ headers: { 'x-understudy-client': client }, agent: keepAlive });
    const a: number[] = [];
    for (let i = 0; i < 4; i++) a.push((await send(chaos.url, INVENTORY, as('alpha')).outcome).status);
    const b: number[] = [];
    for (let i = 0; i < 3; i++) b.push((await send(chaos.url, INVENTORY, as('beta')).outcome).status);
    expect(a).toEqual([200, 200, 503, 503]);
    expect(b).toEqual([200, 200, 503]);
    const [last] = await journal(chaos);
    expect(last.faults).toEqual([{ rule: 'then-broken', kind: 'succeedFirst', params: { count: 2, attempt: 3 } }]);
  });
});

describe('outage', () => {
  it('mode 503: every request gets 503 + Retry-After in the system error shape, and nothing reaches the handler', async () => {
    // the outage is seen by the client "org" only, so that the test can look at the state through another client
    const chaos = await chaosServer(`
rules:
  - id: down
    match: { system: wms, client: org }
    faults:
      - outage: { mode: 503, retryAfter: 30s }
`);
    const org = { 'x-understudy-client': 'org' };
    for (const path of [INVENTORY, '/wms/v1/inventory/SKU-3', `${RESERVATIONS}?externalOrderId=x`]) {
      const r = await send(chaos.url, path, { headers: org }).outcome;
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toBe('30');
      expect(r.headers['content-type']).toBe('application/problem+json');
      expect(bodyOf(r)).toMatchObject({ status: 503, title: 'Service Unavailable' });
    }
    const post = await send(chaos.url, RESERVATIONS, { headers: org, body: RESERVATION('SO-DOWN') }).outcome;
    expect(post.status).toBe(503);
    expect(await reservationsFor(chaos, 'SO-DOWN')).toEqual([]); // anonymous: not matched, so the real state
    const entries = await journal(chaos);
    expect(entries[0].client).toBe('anonymous');
    expect(entries[0].faults).toEqual([]);
    expect(entries[1]).toMatchObject({ client: 'org', status: 503, effects: [], faults: [{ rule: 'down', kind: 'outage', params: { mode: 503, retryAfter: '30s' } }] });
  });

  it('mode reset: ECONNRESET', async () => {
    const chaos = await chaosServer(`
rules:
  - id: down
    faults:
      - outage: { mode: reset }
`);
    const outcome = await send(chaos.url, INVENTORY).outcome;
    expect(outcome.status).toBe(0);
    expect(outcome.error?.code).toBe('ECONNRESET');
  });

  it('mode refuse-after-accept: the connection is accepted, then reset without a byte', async () => {
    const chaos = await chaosServer(`
rules:
  - id: down
    faults:
      - outage: { mode: refuse-after-accept }
`);
    const raw = RawConnection.get(chaos.port, INVENTORY);
    await raw.ended;
    expect(raw.received.length).toBe(0);
    expect(raw.error).toBe('ECONNRESET');
    const outcome = await send(chaos.url, INVENTORY).outcome;
    expect(outcome.error?.code).toBe('ECONNRESET');
    const [entry] = await journal(chaos);
    expect(entry).toMatchObject({ status: 0, faults: [{ rule: 'down', kind: 'outage', params: { mode: 'refuse-after-accept' } }] });
  });

  it('mode hang: accepted, never answered, closed after `after` (default 130 s)', async () => {
    const chaos = await chaosServer(`
rules:
  - id: hung-short
    match: { path: /wms/v1/inventory/SKU-1 }
    faults:
      - outage: { mode: hang, after: 10s }
  - id: hung-default
    match: { path: /wms/v1/inventory/SKU-2 }
    faults:
      - outage: { mode: hang }
`);
    const short = send(chaos.url, INVENTORY);
    await chaos.scheduler.whenPending(1);
    const long = send(chaos.url, '/wms/v1/inventory/SKU-2');
    await chaos.scheduler.whenPending(2);
    expect(chaos.scheduler.pending).toEqual([10_000, 130_000]);
    await flush(chaos);
    expect(short.answered() || long.answered()).toBe(false);
    chaos.scheduler.advance(10_000);
    const s = await short.outcome;
    expect(s.status).toBe(0);
    expect(s.error?.message).toMatch(/socket hang up/);
    await flush(chaos);
    expect(long.answered()).toBe(false);
    chaos.scheduler.advance(120_000);
    expect((await long.outcome).error?.message).toMatch(/socket hang up/);
    expect(chaos.scheduler.pending).toEqual([]);
  });
});

describe('policies', () => {
  it('quota, Salesforce style: Sforce-Limit-Info on admitted replies, then 403 REQUEST_LIMIT_EXCEEDED for everyone; a new day starts over', async () => {
    const chaos = await chaosServer(`
rules:
  - id: daily-api
    match: { system: wms }
    quota: { requests: 3, per: 1d, style: salesforce }
`);
    const usage: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await send(chaos.url, INVENTORY, { agent: keepAlive, headers: { 'x-understudy-client': i === 1 ? 'other' : 'org' } }).outcome;
      expect(r.status).toBe(200);
      usage.push(String(r.headers['sforce-limit-info']));
    }
    expect(usage).toEqual(['api-usage=1/3', 'api-usage=2/3', 'api-usage=3/3']);
    for (const client of ['org', 'other']) {
      const refused = await send(chaos.url, INVENTORY, { headers: { 'x-understudy-client': client } }).outcome;
      expect(refused.status).toBe(403);
      expect(refused.headers['content-type']).toBe('application/json');
      expect(refused.headers['sforce-limit-info']).toBe('api-usage=3/3');
      expect(bodyOf(refused)).toEqual([{ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: expect.stringMatching(/Limit exceeded/) }]);
    }
    const [entry] = await journal(chaos);
    expect(entry).toMatchObject({ status: 403, faults: [{ rule: 'daily-api', kind: 'quota', params: { requests: 3, perMs: 86_400_000 } }] });
    chaos.clock.advance(86_400_000);
    const nextDay = await send(chaos.url, INVENTORY).outcome;
    expect(nextDay.status).toBe(200);
    expect(nextDay.headers['sforce-limit-info']).toBe('api-usage=1/3');
  });

  it('rateLimit (IETF style): RateLimit and RateLimit-Policy on every reply, 429 + Retry-After past the limit, per client', async () => {
    const chaos = await chaosServer(`
rules:
  - id: per-minute
    match: { system: wms }
    rateLimit: { requests: 2, per: 1m }
`);
    const as = (client: string) => ({ headers: { 'x-understudy-client': client }, agent: keepAlive });
    const first = await send(chaos.url, INVENTORY, as('alpha')).outcome;
    const second = await send(chaos.url, INVENTORY, as('alpha')).outcome;
    const third = await send(chaos.url, INVENTORY, as('alpha')).outcome;
    expect([first.status, second.status, third.status]).toEqual([200, 200, 429]);
    for (const r of [first, second, third]) expect(r.headers['ratelimit-policy']).toBe('"per-minute";q=2;w=60');
    expect(first.headers.ratelimit).toBe('"per-minute";r=1;t=60');
    expect(second.headers.ratelimit).toBe('"per-minute";r=0;t=60');
    expect(third.headers.ratelimit).toBe('"per-minute";r=0;t=60');
    expect(third.headers['retry-after']).toBe('60');
    expect(third.headers['content-type']).toBe('application/problem+json');
    expect(bodyOf(third)).toMatchObject({ status: 429, title: 'Too Many Requests' });
    // another client has its own allowance
    const beta = await send(chaos.url, INVENTORY, as('beta')).outcome;
    expect(beta.status).toBe(200);
    expect(beta.headers.ratelimit).toBe('"per-minute";r=1;t=60');
    // 15 s later: still refused, and told to wait the 45 s that remain
    chaos.clock.advance(15_000);
    const later = await send(chaos.url, INVENTORY, as('alpha')).outcome;
    expect(later.status).toBe(429);
    expect(later.headers['retry-after']).toBe('45');
    chaos.clock.advance(45_000);
    const nextWindow = await send(chaos.url, INVENTORY, as('alpha')).outcome;
    expect(nextWindow.status).toBe(200);
    expect(nextWindow.headers.ratelimit).toBe('"per-minute";r=1;t=60');
    const entries = await journal(chaos, 'status=429');
    expect(entries).toHaveLength(2);
    expect(entries[0].faults).toEqual([{ rule: 'per-minute', kind: 'rateLimit', params: { requests: 2, perMs: 60_000 } }]);
  });

  it('quota, Salesforce style: a 400 for an invalid request carries Sforce-Limit-Info too', async () => {
    const chaos = await chaosServer(`
rules:
  - id: daily-api
    match: { system: wms }
    quota: { requests: 100, per: 1d, style: salesforce }
`);
    const invalid = await send(chaos.url, RESERVATIONS, { body: { externalOrderId: 'SO-BAD', lines: [] } }).outcome;
    expect(invalid.status).toBe(400);
    expect(invalid.headers['sforce-limit-info']).toBe('api-usage=1/100');
  });
});

describe('x-understudy-fault and the journal', () => {
  const profile = `
rules:
  - id: slow
    match: { path: /wms/v1/inventory/SKU-1 }
    faults:
      - latency: 10ms
  - id: teapot
    match: { path: /wms/v1/inventory/SKU-2 }
    faults:
      - status: { code: 418 }
`;

  it('is absent by default, even when a fault was injected', async () => {
    const chaos = await chaosServer(profile);
    const slow = await drive(chaos, INVENTORY);
    expect(slow.waited).toEqual([10]);
    expect(slow.outcome.headers['x-understudy-fault']).toBeUndefined();
    const teapot = await send(chaos.url, '/wms/v1/inventory/SKU-2').outcome;
    expect(teapot.status).toBe(418);
    expect(teapot.headers['x-understudy-fault']).toBeUndefined();
  });

  it('with faultHeader: true names rule/kind on replies that carry a fault, and only those', async () => {
    const chaos = await chaosServer(profile, { faultHeader: true });
    const slow = await drive(chaos, INVENTORY);
    expect(slow.outcome.status).toBe(200);
    expect(slow.outcome.headers['x-understudy-fault']).toBe('slow/latency');
    const teapot = await send(chaos.url, '/wms/v1/inventory/SKU-2').outcome;
    expect(teapot.headers['x-understudy-fault']).toBe('teapot/status');
    const clean = await send(chaos.url, '/wms/v1/inventory/SKU-3').outcome;
    expect(clean.status).toBe(200);
    expect(clean.headers['x-understudy-fault']).toBeUndefined();
    const entries = await journal(chaos);
    expect(entries.map((e) => e.faults)).toEqual([
      [],
      [{ rule: 'teapot', kind: 'status', params: { code: 418 } }],
      [{ rule: 'slow', kind: 'latency', params: { value: '10ms', ms: 10 } }],
    ]);
  });
});
