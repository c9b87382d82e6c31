#!/usr/bin/env node
// `npm run bench:deliveries`: how fast does understudy deliver webhooks, next to what this machine's loopback HTTP
// can do at the same concurrency in the same run, and does its memory stay flat while a slow receiver holds a
// long queue? (issue #8: ">= 2,000 deliveries/s to a local sink that answers immediately, with 30% duplicates and
// reordering on; memory flat while 100,000 events are in flight to a sink that answers slowly").
//
// Processes: this script (the conductor); a sink, this file run with --sink, a bare node:http server pinned to cpu1
// for the whole run; the server measured (understudy, or the baseline client, this file run with --client), on cpu0
// or unpinned. Pinning is `taskset -c N` at exec, so every thread (V8's GC and compiler helpers, libuv's pool,
// understudy's journal writer) shares the core; without taskset or a second core nothing is pinned (recorded).
//
// The sink answers every POST with 200 `{}` (at once, or after a delay), after reading the whole body. It parses
// the body as JSON and counts requests and distinct event ids (the body's `id`), checks the Stripe-Signature header
// (HMAC-SHA256 of "<t>.<body>" with whsec_bench; a wrong or missing v1, or a t more than 300 s off, is counted),
// the most requests it held at once, the connections opened, and arrivals per second since the run's start. The
// conductor reads those counts over IPC; the sink's clock starts when the conductor says "start", just before the
// first request of the run is sent, and every time it reports is on that clock.
//
// 1. Baseline, once per placement: a bare node:http client (keep-alive agent, maxSockets = understudy's default
//    delivery concurrency per subscription, 10, and that many requests in flight) POSTs an inventory.changed-shaped
//    event of about 550 bytes (like understudy's, with a new id each time) with a Stripe-Signature header whose
//    HMAC is computed per request, to the sink, for BENCH_WARMUP s of warm-up, then BENCH_BASELINE_S s measured:
//    requests/s, p50/p99. What the machine's loopback HTTP does at that concurrency, sink included.
// 2. Throughput, per placement (pinned: every thread on cpu0; relaxed: unpinned) and per store (memory:
//    `--data-dir ''`; durable: a fresh temporary data dir, durability process): `node dist/cli.js serve --seed 42`;
//    PUT /__admin/chaos (application/yaml) with the profile below (30% of events get one more copy after the ack,
//    events released in shuffled windows of 10); POST /__admin/subscriptions for the sink (inventory.changed,
//    secret whsec_bench, the default concurrency, timeout and retries). Then BENCH_EVENTS events: POST
//    /wms/v1/stock-adjustments with 500 adjustments each (+1 of SKU-1..500 or SKU-501..1000 of the seeded 1,000,
//    alternately, WH-RTM-01: 500 inventory.changed events per request), BENCH_PARALLEL requests in flight.
//    Measured on the sink's clock from just before the first of those requests to the arrival of the last
//    distinct event id (deliveries/s = events / that time) and to the arrival of the last request (sink
//    requests/s = every request it received, copies included, / that time; ratio = that / the baseline's req/s
//    of the same placement in the same run). The run ends when every id has arrived and no request arrived for 1 s
//    (or at BENCH_DEADLINE s). Then the admin API: GET /__admin/deliveries?status=pending|retrying|dead&limit=1
//    must be empty, ?status=delivered&limit=1 not; every delivery is read (pages of 1,000) to count statuses,
//    attempts, failed attempts by error, copies planned (the duplicate fault) and sent, time to ack; the sink must
//    have received exactly one request per delivery plus one per planned copy. Also: the requests' answers and
//    latency, server CPU, sink CPU and other processes' CPU (% of one core over the measured time), peak RSS.
// 3. Memory, pinned only, per store: the sink answers after BENCH_SLOW_MS; the same profile and subscription;
//    RSS (VmRSS from /proc/<pid>/status) is read before the events, BENCH_MEMORY_EVENTS events are queued the same
//    way (RSS right after), then RSS is sampled every second for BENCH_MEMORY_S s while deliveries trickle (at most
//    10 in flight x 1/BENCH_SLOW_MS): min, max, last, and the least-squares slope in MB per minute. A major GC
//    may or may not fall inside 30 s (it moves RSS by tens of MB either way): to judge growth, sample longer
//    (BENCH_PARTS=memory BENCH_MEMORY_S=180).
//
// The chaos profile (PUT before subscribing):
//   name: bench-deliveries
//   rules: []
//   deliveries:
//     - match: { system: wms }
//       duplicate: { probability: 0.3, copies: 2 }
//       reorder: { window: 10 }
//
// Results go to the console (a table) and to bench/results/deliveries-<UTC stamp>.json. Targets are printed, not
// enforced: the script exits 0 when it ran. Speeds vary between runs on a shared VM: quote the ratios of one run.
//
// Usage: npm run bench:deliveries         (builds first)
// Env:   BENCH_EVENTS=50000 (rounded up to whole requests of 500)   BENCH_PARALLEL=2 (event requests in flight)
//        BENCH_BASELINE_S=10   BENCH_WARMUP=2 (s, baseline warm-up)   BENCH_DEADLINE=120 (s, longest throughput run)
//        BENCH_SLOW_MS=200   BENCH_MEMORY_EVENTS=100000   BENCH_MEMORY_S=30
//        BENCH_PLACEMENTS=pinned,relaxed   BENCH_STORES=memory,durable   BENCH_PARTS=throughput,memory
//        BENCH_QUIET_WAIT=30 (s to wait for an idle machine before each measurement; 0 = do not wait)
//        BENCH_KEEP_DATA=1 (keep the durable runs' data dirs and print where they are)
//        BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' (node options for understudy only; recorded)

import { spawn, spawnSync } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { canPin, cpuSeconds, directoryBytes, freePort, machineBusySeconds, peakRssMb, rssMb, threadAffinity } from './lib/proc.mjs';

const SELF = fileURLToPath(import.meta.url);
const REPO = path.resolve(path.dirname(SELF), '..');
const CLI = path.join(REPO, 'dist', 'cli.js');
const RESULTS_DIR = path.join(REPO, 'bench', 'results');

const SECRET = 'whsec_bench';
const SIGNATURE_TOLERANCE_S = 300;
const SEED = 42;
const SKUS = 1000;
const PER_REQUEST = 500;
const WAREHOUSE = 'WH-RTM-01';
const PROFILE_YAML = `name: bench-deliveries
rules: []
deliveries:
  - match: { system: wms }
    duplicate: { probability: 0.3, copies: 2 }
    reorder: { window: 10 }
`;
const DUPLICATE_SHARE = 0.3;
const TARGET_DELIVERIES_PER_S = 2000;
const QUIET_AFTER_MS = 1000;
const QUIET_MAX_CORES = 0.2;
const STARTUP_DEADLINE_MS = 60_000;

// ---------------------------------------------------------------------------------------------------------------
// roles: this file is also the sink (--sink) and the baseline client (--client)

/** An expected failure: reported by its message alone. */
class BenchError extends Error {}
/** processes and temporary directories of the conductor, cleaned up however it ends */
const children = new Set();
const tempDirs = new Set();
const KEEP_DATA = process.env.BENCH_KEEP_DATA === '1';
function cleanUp() {
  for (const child of children) child.kill('SIGKILL');
  if (!KEEP_DATA) for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
}
function die(message) {
  console.error(`deliveries: ${message}`);
  cleanUp();
  process.exit(1);
}

if (process.argv[2] === '--sink') runSink();
else if (process.argv[2] === '--client') runClient(JSON.parse(process.argv[3]));
else conductor().catch((error) => die(error instanceof BenchError ? error.message : (error?.stack ?? String(error))));

// ---------------------------------------------------------------------------------------------------------------
// the sink

function runSink() {
  let delayMs = 0;
  let expected = Infinity;
  let inFlight = 0;
  let run = fresh();
  function fresh() {
    return {
      t0: performance.now(),
      requests: 0,
      ids: new Map(),
      badSignature: 0,
      noSignature: 0,
      staleSignature: 0,
      badBody: 0,
      bodyBytes: 0,
      firstMs: null,
      lastMs: null,
      completeMs: null,
      maxInFlight: 0,
      connections: 0,
      perSecond: [],
    };
  }
  const signed = (t, body) => createHmac('sha256', SECRET).update(`${t}.${body}`).digest();

  const server = http.createServer((req, res) => {
    inFlight++;
    if (inFlight > run.maxInFlight) run.maxInFlight = inFlight;
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const now = performance.now() - run.t0;
      run.requests++;
      run.bodyBytes += body.length;
      run.firstMs ??= now;
      run.lastMs = now;
      const second = Math.max(0, Math.floor(now / 1000));
      run.perSecond[second] = (run.perSecond[second] ?? 0) + 1;
      // Stripe-Signature: t=<unix s>,v1=<hex>[,v1=<hex>...]
      const header = req.headers['stripe-signature'];
      if (typeof header !== 'string') run.noSignature++;
      else {
        let t;
        const v1 = [];
        for (const part of header.split(',')) {
          const eq = part.indexOf('=');
          if (part.slice(0, eq) === 't') t = part.slice(eq + 1);
          else if (part.slice(0, eq) === 'v1') v1.push(part.slice(eq + 1));
        }
        const good = t !== undefined && v1.length > 0 && (() => {
          const want = signed(t, body);
          return v1.some((hex) => hex.length === 64 && timingSafeEqual(Buffer.from(hex, 'hex'), want));
        })();
        if (!good) run.badSignature++;
        else if (Math.abs(Date.now() / 1000 - Number(t)) > SIGNATURE_TOLERANCE_S) run.staleSignature++;
      }
      let id;
      try {
        id = JSON.parse(body).id;
      } catch {
        // counted below
      }
      if (typeof id !== 'string') run.badBody++;
      else {
        const seen = run.ids.get(id) ?? 0;
        run.ids.set(id, seen + 1);
        if (seen === 0 && run.ids.size === expected) {
          run.completeMs = now;
          process.send?.({ event: 'complete', ms: now });
        }
      }
      const answer = () => {
        inFlight--;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
        res.end('{}');
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });
  server.on('connection', () => run.connections++);
  server.keepAliveTimeout = 5000;

  function stats(detail) {
    const s = {
      requests: run.requests,
      distinct: run.ids.size,
      badSignature: run.badSignature,
      noSignature: run.noSignature,
      staleSignature: run.staleSignature,
      badBody: run.badBody,
      meanBodyBytes: run.requests ? Math.round(run.bodyBytes / run.requests) : null,
      firstMs: run.firstMs,
      lastMs: run.lastMs,
      completeMs: run.completeMs,
      maxInFlight: run.maxInFlight,
      connections: run.connections,
      inFlight,
    };
    if (detail) {
      // how many times each id arrived: { "1": n, "2": n, ... }
      const copies = {};
      for (const n of run.ids.values()) copies[n] = (copies[n] ?? 0) + 1;
      s.arrivalsPerId = copies;
      s.perSecond = Array.from(run.perSecond, (n) => n ?? 0);
    }
    return s;
  }

  process.on('message', (message) => {
    let reply;
    switch (message.cmd) {
      case 'reset':
        run = fresh();
        expected = message.expected ?? Infinity;
        delayMs = message.delayMs ?? 0;
        reply = {};
        break;
      case 'start':
        // the run's clock starts now; anything before (the subscription's set-up) is forgotten
        run = fresh();
        reply = {};
        break;
      case 'stats':
        reply = stats(message.detail);
        break;
      default:
        reply = { error: `unknown command ${message.cmd}` };
    }
    process.send({ reply: message.id, ...reply });
  });
  process.on('disconnect', () => process.exit(0));
  server.listen(0, '127.0.0.1', () => process.send({ event: 'ready', port: server.address().port }));
}

// ---------------------------------------------------------------------------------------------------------------
// the baseline client

/** An event body shaped like understudy's inventory.changed (about 550 bytes), with `id` in it. */
function sampleEventBody(id, at) {
  const iso = new Date(at).toISOString();
  return JSON.stringify({
    id,
    type: 'inventory.changed',
    created: iso,
    system: 'wms',
    data: {
      sku: 'SKU-2',
      name: 'Alpine Document Tray (Sky Blue)',
      onHand: 137,
      reserved: 0,
      available: 137,
      warehouses: [
        { warehouseId: 'WH-RTM-01', name: 'Rotterdam DC', onHand: 89, reserved: 0, available: 89 },
        { warehouseId: 'WH-ATL-01', name: 'Atlanta DC', onHand: 47, reserved: 0, available: 47 },
        { warehouseId: 'WH-SIN-01', name: 'Singapore DC', onHand: 1, reserved: 0, available: 1 },
      ],
      updatedAt: iso,
      version: 2,
    },
  });
}

async function runClient({ port, concurrency, warmupS, seconds }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency, scheduling: 'lifo' });
  let counter = 0;
  const prefix = `evt_bench${process.pid.toString(36)}`;
  const one = () =>
    new Promise((resolve) => {
      const started = performance.now();
      const now = Date.now();
      const body = sampleEventBody(`${prefix}${(counter++).toString(36).padStart(12, '0')}`, now);
      const t = Math.floor(now / 1000);
      const signature = `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex')}`;
      const payload = Buffer.from(body, 'utf8');
      const req = http.request({
        host: '127.0.0.1',
        port,
        path: '/hook/baseline',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'bench-baseline', 'stripe-signature': signature, 'content-length': payload.length },
      }, (res) => {
        res.resume();
        res.on('end', () => resolve({ ok: res.statusCode >= 200 && res.statusCode < 300, ms: performance.now() - started }));
        res.on('error', () => resolve({ ok: false, ms: performance.now() - started }));
      });
      req.on('error', () => resolve({ ok: false, ms: performance.now() - started }));
      req.end(payload);
    });

  async function phase(durationS, keep) {
    const end = performance.now() + durationS * 1000;
    const latencies = [];
    let ok = 0;
    let failed = 0;
    const startedAt = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const r = await one();
        if (r.ok) ok++;
        else failed++;
        if (keep) latencies.push(r.ms);
      }
    }));
    return { ok, failed, elapsedS: (performance.now() - startedAt) / 1000, latencies };
  }

  if (warmupS > 0) await phase(warmupS, false);
  process.send({ event: 'measuring' });
  const r = await phase(seconds, true);
  r.latencies.sort((a, b) => a - b);
  const pct = (p) => (r.latencies.length ? r.latencies[Math.min(r.latencies.length - 1, Math.floor((p / 100) * r.latencies.length))] : null);
  process.send({
    event: 'done',
    requests: r.ok,
    failed: r.failed,
    elapsedS: r.elapsedS,
    rps: r.ok / r.elapsedS,
    p50Ms: pct(50),
    p99Ms: pct(99),
    maxMs: r.latencies.at(-1) ?? null,
    bodyBytes: Buffer.byteLength(sampleEventBody(`${prefix}${'0'.repeat(12)}`, Date.now())),
  });
  agent.destroy();
  process.disconnect();
}

// ---------------------------------------------------------------------------------------------------------------
// the conductor

async function conductor() {
  const EVENTS = Math.ceil(positiveInteger('BENCH_EVENTS', 50_000) / PER_REQUEST) * PER_REQUEST;
  const PARALLEL = positiveInteger('BENCH_PARALLEL', 2);
  const BASELINE_S = positiveInteger('BENCH_BASELINE_S', 10);
  const WARMUP_S = positiveInteger('BENCH_WARMUP', 2, true);
  const DEADLINE_S = positiveInteger('BENCH_DEADLINE', 120);
  const SLOW_MS = positiveInteger('BENCH_SLOW_MS', 200);
  const MEMORY_EVENTS = Math.ceil(positiveInteger('BENCH_MEMORY_EVENTS', 100_000) / PER_REQUEST) * PER_REQUEST;
  const MEMORY_S = positiveInteger('BENCH_MEMORY_S', 30);
  const QUIET_WAIT_S = positiveInteger('BENCH_QUIET_WAIT', 30, true);
  // node options for understudy only, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof' (NODE_OPTIONS refuses --cpu-prof)
  const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const PLACEMENTS = list('BENCH_PLACEMENTS', 'pinned,relaxed', ['pinned', 'relaxed']);
  const STORES = list('BENCH_STORES', 'memory,durable', ['memory', 'durable']);
  const PARTS = list('BENCH_PARTS', 'throughput,memory', ['throughput', 'memory']);

  const log = (message) => console.log(`deliveries: ${message}`);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const fmt = (v, digits = 0) => (v === null || v === undefined || Number.isNaN(v) ? '-' : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
  function positiveInteger(name, fallback, zeroAllowed = false) {
    const raw = process.env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || (!zeroAllowed && value === 0)) die(`${name}=${raw} is not a ${zeroAllowed ? 'non-negative' : 'positive'} integer`);
    return value;
  }
  function list(name, fallback, allowed) {
    const values = (process.env[name] || fallback).split(',').map((v) => v.trim()).filter(Boolean);
    for (const v of values) if (!allowed.includes(v)) die(`${name}: ${v}? use ${allowed.join(', ')}`);
    return values;
  }

  if (!fs.existsSync(CLI)) die(`${path.relative(REPO, CLI)} is missing: run npm run build (npm run bench:deliveries does)`);
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => die(`interrupted (${signal})`));
  // understudy's own default, so that the baseline keeps as many requests in flight as a subscription may
  const { DEFAULT_CONCURRENCY: CONCURRENCY } = await import(path.join(REPO, 'dist', 'deliveries', 'workspace-deliveries.js'));

  // --- the machine ---------------------------------------------------------------------------------------------

  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  /** argv run on `cpu` (taskset at exec: every thread) when pinning is possible and wanted */
  const placed = (argv, cpu, pin = true) => (canPin && pin ? ['taskset', '-c', String(cpu), ...argv] : argv);

  /** CPU use of the processes given and of everything else, as % of one core, between two readings */
  function cpuMeter(pids) {
    const read = () => ({ at: performance.now(), machine: machineBusySeconds(), own: pids.map(cpuSeconds) });
    const before = read();
    return () => {
      const after = read();
      const s = (after.at - before.at) / 1000;
      const own = pids.map((_, i) => (after.own[i] !== null && before.own[i] !== null ? after.own[i] - before.own[i] : null));
      const machine = after.machine !== null && before.machine !== null ? after.machine - before.machine : null;
      const other = machine !== null && own.every((v) => v !== null) ? Math.max(0, machine - own.reduce((a, b) => a + b, 0)) : null;
      const pct = (v) => (v === null ? null : (100 * v) / s);
      return { own: own.map(pct), other: pct(other) };
    };
  }
  /** Before measuring: wait (at most QUIET_WAIT_S) for a second in which other processes use under 0.2 of a core. */
  async function waitForQuiet(what) {
    if (QUIET_WAIT_S === 0 || machineBusySeconds() === null) return null;
    const deadline = performance.now() + QUIET_WAIT_S * 1000;
    let busy;
    do {
      const before = machineBusySeconds();
      await sleep(1000);
      busy = machineBusySeconds() - before;
      if (busy <= QUIET_MAX_CORES) return busy;
    } while (performance.now() < deadline);
    log(`  warning: the machine is busy before ${what} (${(busy * 100).toFixed(0)}% of a core in use); measuring anyway`);
    return busy;
  }


  /** One request on a fresh connection; resolves { status, body (text) }. */
  function request(url, { method = 'GET', body, contentType, timeoutMs = 60_000 } = {}) {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      const headers = payload ? { 'content-type': contentType ?? 'application/json', 'content-length': payload.length } : {};
      const req = http.request(url, { method, headers, agent: false }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${method} ${url}`)));
      req.end(payload);
    });
  }
  async function json(url, options, want = 200) {
    const r = await request(url, options);
    if (r.status !== want) throw new BenchError(`${options?.method ?? 'GET'} ${url}: ${r.status}, not ${want}: ${r.body.slice(0, 400)}`);
    return JSON.parse(r.body);
  }

  // --- the sink --------------------------------------------------------------------------------------------------

  async function startSink() {
    const argv = placed([process.execPath, SELF, '--sink'], 1);
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.add(child);
    child.on('exit', (code, signal) => {
      children.delete(child);
      if (!sink.closing) die(`the sink exited (${code ?? signal})`);
    });
    const pending = new Map();
    let nextId = 1;
    const sink = { child, pid: child.pid, closing: false, onComplete: undefined };
    const port = await new Promise((resolve, reject) => {
      child.once('error', reject);
      child.on('message', (m) => {
        if (m.event === 'ready') resolve(m.port);
        else if (m.event === 'complete') sink.onComplete?.(m.ms);
        else if (m.reply !== undefined) {
          pending.get(m.reply)?.(m);
          pending.delete(m.reply);
        }
      });
    });
    sink.port = port;
    sink.call = (cmd, args = {}) => new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ id, cmd, ...args });
    });
    sink.close = () => {
      sink.closing = true;
      child.disconnect();
    };
    return sink;
  }

  // --- understudy ------------------------------------------------------------------------------------------------

  /** Starts understudy (memory: --data-dir ''; durable: a fresh temporary dir); resolves once it answers. */
  async function startUnderstudy(store, pin) {
    let tmp;
    let dataDir = '';
    if (store === 'durable') {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'understudy-deliveries-'));
      tempDirs.add(tmp);
      dataDir = path.join(tmp, 'data');
    }
    const cwd = tmp ?? os.tmpdir();
    const port = await freePort();
    // a clean environment: UNDERSTUDY_* variables of the caller do not change what is measured
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('UNDERSTUDY_')));
    const argv = placed([process.execPath, ...SERVER_NODE_ARGS, CLI, 'serve', '--host', '127.0.0.1', '--port', String(port), '--seed', String(SEED), '--data-dir', dataDir], 0, pin);
    const spawnedAt = performance.now();
    const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const server = { child, pid: child.pid, base: `http://127.0.0.1:${port}`, store, tmp, dataDir, tail: [], warnings: [], state: undefined };
    const keep = (chunk) => {
      const lines = chunk.toString().split('\n').filter(Boolean);
      server.tail.push(...lines);
      if (server.tail.length > 40) server.tail.splice(0, server.tail.length - 40);
      for (const line of lines) {
        if (/warning|error|fail/i.test(line) && server.warnings.length < 20) server.warnings.push(line);
        if (/^understudy: state is /.test(line)) server.state = line.slice('understudy: '.length);
      }
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    server.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }));
    let gone;
    server.exited.then((r) => (gone = r));
    for (;;) {
      if (gone) throw new BenchError(`understudy exited (${gone.code ?? gone.signal}) before answering:\n  ${server.tail.join('\n  ')}`);
      try {
        if ((await request(`${server.base}/wms/v1/inventory/SKU-1`, { timeoutMs: 2000 })).status === 200) break;
      } catch {
        // not listening yet
      }
      if (performance.now() - spawnedAt > STARTUP_DEADLINE_MS) throw new BenchError(`understudy did not answer within ${STARTUP_DEADLINE_MS / 1000} s:\n  ${server.tail.join('\n  ')}`);
      await sleep(20);
    }
    server.startupMs = performance.now() - spawnedAt;
    return server;
  }

  async function stopUnderstudy(server) {
    const asked = performance.now();
    server.child.kill('SIGTERM');
    const result = await Promise.race([server.exited, sleep(30_000).then(() => null)]);
    let stop;
    if (!result) {
      server.child.kill('SIGKILL');
      await server.exited;
      stop = { note: 'no exit within 30 s of SIGTERM: killed' };
    } else stop = { exitCode: result.code, signal: result.signal ?? undefined, stopMs: Math.round(performance.now() - asked) };
    if (server.tmp) {
      server.dataDirBytes = directoryBytes(server.dataDir);
      if (KEEP_DATA) log(`  data dir kept: ${server.dataDir}`);
      else {
        fs.rmSync(server.tmp, { recursive: true, force: true });
        tempDirs.delete(server.tmp);
      }
    }
    return stop;
  }

  /** The chaos profile, then the sink's subscription. */
  async function prepare(server, sink, label) {
    const chaos = await json(`${server.base}/__admin/chaos`, { method: 'PUT', body: PROFILE_YAML, contentType: 'application/yaml' });
    if (chaos.profile?.name !== 'bench-deliveries') throw new BenchError(`PUT /__admin/chaos: the active profile is ${JSON.stringify(chaos.profile)}`);
    const url = `http://127.0.0.1:${sink.port}/hook/${label}`;
    const subscription = await json(`${server.base}/__admin/subscriptions`, { method: 'POST', body: { url, events: ['inventory.changed'], secret: SECRET } }, 201);
    return { profileNotes: chaos.profile.notes ?? [], subscription: subscription.id, url };
  }

  /**
   * `events` inventory.changed events: requests of 500 adjustments (+1 each), SKU-1..500 and SKU-501..1000 in
   * turn, `PARALLEL` in flight. Every request must answer 200 with 500 applied.
   */
  async function generate(server, events) {
    const requests = events / PER_REQUEST;
    // the seeded catalogue's SKU-1..SKU-1000, in two halves: no SKU twice in a request, every SKU every other one
    const bodies = Array.from({ length: SKUS / PER_REQUEST }, (_, half) => JSON.stringify({
      adjustments: Array.from({ length: PER_REQUEST }, (_, i) => ({ sku: `SKU-${half * PER_REQUEST + i + 1}`, warehouseId: WAREHOUSE, delta: 1, reason: 'bench' })),
    }));
    const latencies = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: Math.min(PARALLEL, requests) }, async () => {
      while (next < requests) {
        const i = next++;
        const sent = performance.now();
        const r = await request(`${server.base}/wms/v1/stock-adjustments`, { method: 'POST', body: bodies[i % bodies.length] });
        latencies.push(performance.now() - sent);
        const applied = r.status === 200 ? JSON.parse(r.body).applied : undefined;
        if (applied !== PER_REQUEST) throw new BenchError(`event request ${i + 1}: ${r.status}, applied ${applied}: ${r.body.slice(0, 300)}`);
      }
    }));
    latencies.sort((a, b) => a - b);
    return {
      requests,
      ms: performance.now() - started,
      p50Ms: latencies[Math.floor(latencies.length / 2)],
      maxMs: latencies.at(-1),
    };
  }

  /** The admin API's view of the deliveries: quick status probes, and every delivery read in pages of 1,000. */
  async function auditDeliveries(server) {
    const probes = {};
    for (const status of ['pending', 'retrying', 'dead', 'delivered']) {
      probes[status] = (await json(`${server.base}/__admin/deliveries?status=${status}&limit=1`)).deliveries.length;
    }
    const newest = (await json(`${server.base}/__admin/deliveries?limit=1`)).deliveries[0];
    const audit = {
      probes,
      newestDelivery: newest?.id ?? null,
      read: 0,
      byStatus: {},
      attempts: 0,
      failedAttempts: 0,
      failures: {},
      copiesPlanned: 0,
      copiesSent: 0,
      reordered: 0,
      held: 0,
      expectedSends: 0,
      timeToAck: null,
      pages: 0,
      readMs: 0,
    };
    const acks = [];
    const started = performance.now();
    let cursor = null;
    do {
      const page = await json(`${server.base}/__admin/deliveries?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
      audit.pages++;
      for (const d of page.deliveries) {
        audit.read++;
        audit.byStatus[d.status] = (audit.byStatus[d.status] ?? 0) + 1;
        if (d.held) audit.held++;
        const duplicate = d.faults.find((f) => f.kind === 'duplicate');
        const planned = duplicate ? duplicate.copies - 1 : 0;
        audit.copiesPlanned += planned;
        audit.copiesSent += d.duplicates;
        if (d.faults.some((f) => f.kind === 'reorder')) audit.reordered++;
        audit.expectedSends += 1 + planned;
        for (const a of d.attempts) {
          audit.attempts++;
          if (!(a.status >= 200 && a.status < 300)) {
            audit.failedAttempts++;
            const why = a.error ?? `HTTP ${a.status}`;
            audit.failures[why] = (audit.failures[why] ?? 0) + 1;
          }
        }
        if (d.timeToAckMs !== null) acks.push(d.timeToAckMs);
      }
      cursor = page.nextCursor;
    } while (cursor);
    audit.readMs = Math.round(performance.now() - started);
    acks.sort((a, b) => a - b);
    if (acks.length) audit.timeToAck = { p50Ms: acks[Math.floor(acks.length / 2)], p99Ms: acks[Math.floor(acks.length * 0.99)], maxMs: acks.at(-1) };
    return audit;
  }

  // --- 1. the baseline -------------------------------------------------------------------------------------------

  async function baseline(sink, placement) {
    log(`baseline [${placement}]: node:http client, keep-alive, ${CONCURRENCY} in flight, HMAC per request, ${WARMUP_S} s warm-up + ${BASELINE_S} s`);
    await sink.call('reset', { delayMs: 0 });
    const quiet = await waitForQuiet('the baseline');
    const argv = placed([process.execPath, SELF, '--client', JSON.stringify({ port: sink.port, concurrency: CONCURRENCY, warmupS: WARMUP_S, seconds: BASELINE_S })], 0, placement === 'pinned');
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.add(child);
    let meter;
    let sinkBefore;
    const result = await new Promise((resolve, reject) => {
      child.on('message', async (m) => {
        if (m.event === 'measuring') {
          meter = cpuMeter([child.pid, sink.pid]);
          sinkBefore = await sink.call('stats');
        } else if (m.event === 'done') resolve(m);
      });
      child.on('exit', (code) => {
        children.delete(child);
        reject(new BenchError(`the baseline client exited (${code}) before reporting`));
      });
    });
    const cpu = meter();
    const affinity = threadAffinity(child.pid);
    const sinkAfter = await sink.call('stats');
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
    const { event: _event, ...measured } = result;
    const out = {
      placement,
      concurrency: CONCURRENCY,
      ...measured,
      sinkRequests: sinkAfter.requests - sinkBefore.requests,
      sinkBadSignatures: sinkAfter.badSignature,
      sinkMaxInFlight: sinkAfter.maxInFlight,
      clientCpuPct: cpu.own[0],
      sinkCpuPct: cpu.own[1],
      otherCpuPct: cpu.other,
      threadsOnCpus: affinity,
      busyBeforeCores: quiet,
    };
    log(`  ${fmt(out.rps)} req/s (p50 ${fmt(out.p50Ms, 2)} ms, p99 ${fmt(out.p99Ms, 2)} ms, failed ${out.failed}); body ${out.bodyBytes} bytes; ` +
      `CPU % client/sink/other ${[out.clientCpuPct, out.sinkCpuPct, out.otherCpuPct].map((v) => fmt(v)).join('/')}`);
    return out;
  }

  // --- 2. throughput ---------------------------------------------------------------------------------------------

  async function throughput(sink, placement, store, base) {
    const label = `${placement}-${store}`;
    log(`throughput [${label}]: ${fmt(EVENTS)} events in ${EVENTS / PER_REQUEST} requests of ${PER_REQUEST}, ${PARALLEL} in flight`);
    await sink.call('reset', { expected: EVENTS, delayMs: 0 });
    const server = await startUnderstudy(store, placement === 'pinned');
    log(`  understudy: first 200 after ${fmt(server.startupMs)} ms; ${server.state ?? 'no state line'}`);
    const prepared = await prepare(server, sink, label);
    const quiet = await waitForQuiet(`throughput [${label}]`);
    const rssBefore = rssMb(server.pid);
    const complete = new Promise((resolve) => (sink.onComplete = resolve));
    await sink.call('start');
    const meter = cpuMeter([server.pid, sink.pid]);
    const generated = await generate(server, EVENTS);
    // what reached the sink while the events were being made (the dispatcher shares the event loop with them)
    generated.sinkRequestsMeanwhile = (await sink.call('stats')).requests;
    log(`  ${generated.requests} event requests answered in ${fmt(generated.ms)} ms (p50 ${fmt(generated.p50Ms, 1)} ms, max ${fmt(generated.maxMs, 1)} ms); ` +
      `${fmt(generated.sinkRequestsMeanwhile)} sink requests meanwhile`);

    // until every id arrived and the sink has been idle for a second, or the deadline
    const deadline = performance.now() + DEADLINE_S * 1000;
    let stats;
    let timedOut = false;
    let lastCount = -1;
    let lastChange = performance.now();
    let cpu;
    let peakRss = null;
    let rssTicks = 0;
    for (;;) {
      await Promise.race([complete, sleep(100)]);
      stats = await sink.call('stats');
      if (++rssTicks % 10 === 0) peakRss = Math.max(peakRss ?? 0, rssMb(server.pid) ?? 0);
      if (stats.requests !== lastCount) {
        lastCount = stats.requests;
        lastChange = performance.now();
        // CPU shares over the time to the latest arrival, not the idle second after it
        cpu = meter();
      }
      if (stats.distinct >= EVENTS && stats.inFlight === 0 && performance.now() - lastChange >= QUIET_AFTER_MS) break;
      if (performance.now() > deadline) {
        timedOut = true;
        break;
      }
    }
    cpu ??= meter();
    sink.onComplete = undefined;
    const affinity = threadAffinity(server.pid);
    const peakRssHwm = peakRssMb(server.pid);
    let audit = await auditDeliveries(server);
    // copies still to come (none expected: they follow their ack at once): wait for them, within the deadline
    while (!timedOut && stats.requests < audit.expectedSends && performance.now() < deadline) {
      await sleep(500);
      stats = await sink.call('stats');
      if (stats.requests >= audit.expectedSends) audit = await auditDeliveries(server);
    }
    const detail = await sink.call('stats', { detail: true });
    const stop = await stopUnderstudy(server);

    const distinctS = stats.completeMs !== null ? stats.completeMs / 1000 : null;
    const allS = stats.lastMs / 1000;
    const deliveriesPerS = distinctS ? EVENTS / distinctS : null;
    const sinkRps = stats.requests / allS;
    const perSecond = detail.perSecond;
    const full = perSecond.slice(0, Math.max(0, perSecond.length - 1)); // the last second is partial
    // whole seconds between the first and the last arrival in which nothing arrived: the event loop stalled
    const firstSecond = Math.floor((stats.firstMs ?? 0) / 1000);
    const emptySeconds = full.slice(firstSecond).filter((n) => n === 0).length;
    const checks = [];
    const check = (ok, what) => checks.push({ ok, what });
    check(!timedOut, `finished within ${DEADLINE_S} s`);
    check(stats.distinct === EVENTS, `every event id arrived (${fmt(stats.distinct)} of ${fmt(EVENTS)})`);
    check(audit.read === EVENTS, `one delivery per event (${fmt(audit.read)} read through the admin API, newest ${audit.newestDelivery})`);
    check(audit.probes.pending === 0 && audit.probes.retrying === 0 && audit.probes.dead === 0 && audit.probes.delivered === 1,
      `status probes: pending ${audit.probes.pending}, retrying ${audit.probes.retrying}, dead ${audit.probes.dead}, delivered ${audit.probes.delivered} (limit=1)`);
    check(stats.requests === audit.expectedSends, `the sink received one request per delivery and per planned copy (${fmt(stats.requests)} received, ${fmt(audit.expectedSends)} expected)`);
    check(audit.copiesSent === audit.copiesPlanned, `copies sent as planned (${fmt(audit.copiesSent)} of ${fmt(audit.copiesPlanned)})`);
    check(stats.badSignature === 0 && stats.noSignature === 0 && stats.staleSignature === 0, `signatures verify (bad ${stats.badSignature}, missing ${stats.noSignature}, stale ${stats.staleSignature})`);
    // (a sink that answers at once rarely holds more than one: the memory part, with a slow sink, shows the limit)
    check(stats.maxInFlight <= CONCURRENCY, `at most ${CONCURRENCY} requests in flight at the sink (max ${stats.maxInFlight})`);
    const share = audit.read ? audit.copiesPlanned / audit.read : null;
    check(share !== null && Math.abs(share - DUPLICATE_SHARE) < 0.02, `about ${DUPLICATE_SHARE * 100}% of events duplicated (${fmt(share * 100, 1)}%)`);
    const out = {
      placement,
      store,
      events: EVENTS,
      parallel: PARALLEL,
      startupMs: Math.round(server.startupMs),
      state: server.state,
      subscription: prepared.subscription,
      profileNotes: prepared.profileNotes,
      generation: generated,
      timeToAllIdsS: distinctS,
      timeToAllRequestsS: allS,
      firstArrivalMs: stats.firstMs,
      deliveriesPerS,
      sinkRequests: stats.requests,
      sinkRequestsPerS: sinkRps,
      ratioToBaseline: base ? sinkRps / base.rps : null,
      deliveriesRatioToBaseline: base && deliveriesPerS ? deliveriesPerS / base.rps : null,
      bestSecondRequests: full.length ? Math.max(...full) : null,
      medianSecondRequests: full.length ? [...full].sort((a, b) => a - b)[Math.floor(full.length / 2)] : null,
      emptySeconds,
      perSecond,
      arrivalsPerId: detail.arrivalsPerId,
      sinkMaxInFlight: stats.maxInFlight,
      sinkConnections: stats.connections,
      meanBodyBytes: stats.meanBodyBytes,
      serverCpuPct: cpu.own[0],
      sinkCpuPct: cpu.own[1],
      otherCpuPct: cpu.other,
      rssBeforeMb: rssBefore,
      peakRssMb: Math.max(peakRss ?? 0, peakRssHwm ?? 0) || null,
      threadsOnCpus: affinity,
      busyBeforeCores: quiet,
      audit,
      stop,
      dataDirBytes: server.dataDirBytes ?? null,
      warnings: server.warnings,
      checks,
      target: { minDeliveriesPerS: TARGET_DELIVERIES_PER_S, ok: deliveriesPerS !== null && deliveriesPerS >= TARGET_DELIVERIES_PER_S },
    };
    log(`  all ${fmt(EVENTS)} ids after ${fmt(distinctS, 2)} s: ${fmt(deliveriesPerS)} deliveries/s; all ${fmt(stats.requests)} requests after ${fmt(allS, 2)} s: ` +
      `${fmt(sinkRps)} req/s = ${fmt(out.ratioToBaseline, 2)} x baseline; CPU % server/sink/other ${[out.serverCpuPct, out.sinkCpuPct, out.otherCpuPct].map((v) => fmt(v)).join('/')}; peak RSS ${fmt(out.peakRssMb)} MB`);
    for (const c of checks) if (!c.ok) log(`  MISS ${c.what}`);
    if (audit.failedAttempts) log(`  failed attempts: ${JSON.stringify(audit.failures)}`);
    for (const line of server.warnings) log(`  understudy said: ${line}`);
    return out;
  }

  // --- 3. memory -------------------------------------------------------------------------------------------------

  async function memory(sink, store) {
    const label = `memory-${store}`;
    log(`memory [pinned ${store}]: ${fmt(MEMORY_EVENTS)} events to a sink answering after ${SLOW_MS} ms, RSS sampled for ${MEMORY_S} s`);
    await sink.call('reset', { expected: MEMORY_EVENTS, delayMs: SLOW_MS });
    const server = await startUnderstudy(store, true);
    const prepared = await prepare(server, sink, label);
    await waitForQuiet(`memory [${store}]`);
    const rssBefore = rssMb(server.pid);
    await sink.call('start');
    const generated = await generate(server, MEMORY_EVENTS);
    const rssQueued = rssMb(server.pid);
    const queuedAtSink = (await sink.call('stats')).requests;
    log(`  queued in ${fmt(generated.ms)} ms (${generated.requests} requests, p50 ${fmt(generated.p50Ms, 1)} ms, max ${fmt(generated.maxMs, 1)} ms); RSS ${fmt(rssBefore, 1)} MB before, ${fmt(rssQueued, 1)} MB after`);
    const samples = [];
    const meter = cpuMeter([server.pid, sink.pid]);
    const started = performance.now();
    for (let i = 1; i <= MEMORY_S; i++) {
      await sleep(Math.max(0, started + i * 1000 - performance.now()));
      const s = await sink.call('stats');
      samples.push({ s: (performance.now() - started) / 1000, rssMb: rssMb(server.pid), sinkRequests: s.requests, distinct: s.distinct });
    }
    const cpu = meter();
    const sinkEnd = await sink.call('stats');
    const peakHwm = peakRssMb(server.pid);
    const pendingProbe = (await json(`${server.base}/__admin/deliveries?status=pending&limit=1`)).deliveries.length;
    const stop = await stopUnderstudy(server);
    const rss = samples.map((s) => s.rssMb).filter((v) => v !== null);
    const slope = leastSquaresSlope(samples.filter((s) => s.rssMb !== null).map((s) => [s.s / 60, s.rssMb]));
    const sampledRequests = samples.at(-1).sinkRequests - queuedAtSink;
    const out = {
      store,
      events: MEMORY_EVENTS,
      slowMs: SLOW_MS,
      seconds: MEMORY_S,
      subscription: prepared.subscription,
      generation: generated,
      rssBeforeMb: rssBefore,
      rssQueuedMb: rssQueued,
      rssMinMb: Math.min(...rss),
      rssMaxMb: Math.max(...rss),
      rssLastMb: rss.at(-1),
      slopeMbPerMin: slope,
      peakRssMb: peakHwm,
      sinkRequestsDuringSampling: sampledRequests,
      sinkRequestsPerS: sampledRequests / MEMORY_S,
      distinctAtEnd: samples.at(-1).distinct,
      // with a slow answer the sink sees how many attempts understudy keeps in flight (at most its concurrency)
      sinkMaxInFlight: sinkEnd.maxInFlight,
      sinkConnections: sinkEnd.connections,
      sinkBadSignatures: sinkEnd.badSignature + sinkEnd.noSignature + sinkEnd.staleSignature,
      stillPending: pendingProbe === 1,
      serverCpuPct: cpu.own[0],
      sinkCpuPct: cpu.own[1],
      otherCpuPct: cpu.other,
      samples,
      stop,
      dataDirBytes: server.dataDirBytes ?? null,
      warnings: server.warnings,
    };
    log(`  RSS during sampling min ${fmt(out.rssMinMb, 1)}, max ${fmt(out.rssMaxMb, 1)}, last ${fmt(out.rssLastMb, 1)} MB; slope ${fmt(slope, 2)} MB/min; ` +
      `${fmt(sampledRequests)} sink requests meanwhile (${fmt(out.sinkRequestsPerS, 1)}/s, at most ${out.sinkMaxInFlight} in flight on ${out.sinkConnections} connections); server CPU ${fmt(out.serverCpuPct)}%`);
    if (out.sinkMaxInFlight > CONCURRENCY) log(`  MISS more than ${CONCURRENCY} requests in flight at the sink: ${out.sinkMaxInFlight}`);
    if (out.sinkBadSignatures) log(`  MISS ${out.sinkBadSignatures} requests without a valid, fresh signature`);
    for (const line of server.warnings) log(`  understudy said: ${line}`);
    return out;
  }

  function leastSquaresSlope(points) {
    const n = points.length;
    if (n < 2) return null;
    const mx = points.reduce((s, [x]) => s + x, 0) / n;
    const my = points.reduce((s, [, y]) => s + y, 0) / n;
    let num = 0;
    let den = 0;
    for (const [x, y] of points) {
      num += (x - mx) * (y - my);
      den += (x - mx) ** 2;
    }
    return den === 0 ? null : num / den;
  }

  // --- the run ---------------------------------------------------------------------------------------------------

  const startedAt = new Date();
  const loadavgAtStart = os.loadavg().map((l) => Number(l.toFixed(2)));
  log(`${canPin ? 'understudy and the baseline client on cpu0 (pinned) or unpinned (relaxed); the sink on cpu1' : 'not pinned (no taskset or one core): pinned and relaxed runs are alike'}; ` +
    `${cpus} cpus; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const sink = await startSink();
  log(`sink on http://127.0.0.1:${sink.port} (pid ${sink.pid}, threads on ${JSON.stringify(threadAffinity(sink.pid))})`);
  const results = { baselines: [], throughput: [], memory: [] };
  try {
    if (PARTS.includes('throughput')) {
      for (const placement of PLACEMENTS) {
        const base = await baseline(sink, placement);
        results.baselines.push(base);
        for (const store of STORES) results.throughput.push(await throughput(sink, placement, store, base));
      }
    }
    if (PARTS.includes('memory')) for (const store of STORES) results.memory.push(await memory(sink, store));
  } finally {
    sink.close();
  }

  // --- report ----------------------------------------------------------------------------------------------------

  const table = (rows, left = 1) => {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
    console.log('');
    for (const [i, row] of rows.entries()) {
      console.log(row.map((cell, c) => (c < left ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]))).join('  '));
      if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    }
  };
  const cpuCell = (...v) => v.map((x) => fmt(x)).join('/');
  if (results.baselines.length) {
    console.log(`\nbaseline: bare node:http client -> sink, keep-alive, ${CONCURRENCY} in flight, HMAC per request, ${BASELINE_S} s`);
    table([['placement', 'req/s', 'p50 ms', 'p99 ms', 'failed', 'CPU % client/sink/other'],
      ...results.baselines.map((b) => [b.placement, fmt(b.rps), fmt(b.p50Ms, 2), fmt(b.p99Ms, 2), fmt(b.failed), cpuCell(b.clientCpuPct, b.sinkCpuPct, b.otherCpuPct)])]);
  }
  if (results.throughput.length) {
    console.log(`\nthroughput: ${fmt(EVENTS)} inventory.changed events, 30% duplicated (copies 2), reorder window 10; sink answers at once`);
    table([['run', 'deliveries/s', 'all ids s', 'sink req', 'all req s', 'sink req/s', 'x baseline', '1 s median/best', 'idle s', 'events gen s (sink req)', 'CPU % srv/sink/other', 'peak RSS MB', 'failed att.', 'checks'],
      ...results.throughput.map((r) => [`${r.placement} ${r.store}`, fmt(r.deliveriesPerS), fmt(r.timeToAllIdsS, 2), fmt(r.sinkRequests), fmt(r.timeToAllRequestsS, 2), fmt(r.sinkRequestsPerS),
        fmt(r.ratioToBaseline, 2), `${fmt(r.medianSecondRequests)}/${fmt(r.bestSecondRequests)}`, fmt(r.emptySeconds), `${fmt(r.generation.ms / 1000, 2)} (${fmt(r.generation.sinkRequestsMeanwhile)})`,
        cpuCell(r.serverCpuPct, r.sinkCpuPct, r.otherCpuPct), fmt(r.peakRssMb), fmt(r.audit.failedAttempts), r.checks.every((c) => c.ok) ? 'ok' : `${r.checks.filter((c) => !c.ok).length} MISS`])]);
    console.log('(1 s median/best: sink requests per whole second; idle s: whole seconds with no arrival between the first and the last;\n' +
      ' events gen s: time to answer every event request, and the sink requests that arrived meanwhile)');
    console.log('');
    for (const r of results.throughput) {
      console.log(`${r.target.ok ? 'ok  ' : 'MISS'} [${r.placement} ${r.store}] >= ${fmt(TARGET_DELIVERIES_PER_S)} deliveries/s: ${fmt(r.deliveriesPerS)}; sink req/s / baseline req/s (${r.placement}) = ${fmt(r.ratioToBaseline, 2)}`);
      for (const c of r.checks) if (!c.ok) console.log(`       MISS ${c.what}`);
      if (r.audit.failedAttempts) console.log(`       failed attempts: ${JSON.stringify(r.audit.failures)}`);
      if (r.stop.exitCode !== 0) console.log(`       understudy's exit on SIGTERM: ${JSON.stringify(r.stop)}`);
      if (r.busyBeforeCores !== null && r.otherCpuPct > 25) console.log(`       other processes used ${fmt(r.otherCpuPct)}% of a core meanwhile: disturbed, rerun on a quiet machine`);
    }
  }
  if (results.memory.length) {
    console.log(`\nmemory (pinned): ${fmt(MEMORY_EVENTS)} events queued to a sink answering after ${SLOW_MS} ms, RSS sampled every second for ${MEMORY_S} s`);
    table([['store', 'RSS MB before', 'queued', 'min', 'max', 'last', 'slope MB/min', 'peak (HWM)', 'queueing s', 'sink req/s', 'in flight', 'server CPU %'],
      ...results.memory.map((m) => [m.store, fmt(m.rssBeforeMb, 1), fmt(m.rssQueuedMb, 1), fmt(m.rssMinMb, 1), fmt(m.rssMaxMb, 1), fmt(m.rssLastMb, 1), fmt(m.slopeMbPerMin, 2),
        fmt(m.peakRssMb, 1), fmt(m.generation.ms / 1000, 2), fmt(m.sinkRequestsPerS, 1), fmt(m.sinkMaxInFlight), fmt(m.serverCpuPct)])]);
    console.log('(min, max, last and slope over the sampling, after the events were queued; peak: the process\'s VmHWM)');
  }

  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    settings: {
      events: EVENTS, parallel: PARALLEL, baselineS: BASELINE_S, warmupS: WARMUP_S, deadlineS: DEADLINE_S, slowMs: SLOW_MS, memoryEvents: MEMORY_EVENTS, memoryS: MEMORY_S,
      placements: PLACEMENTS, stores: STORES, parts: PARTS, serverNodeArgs: SERVER_NODE_ARGS, concurrency: CONCURRENCY, seed: SEED, profile: PROFILE_YAML, pinned: canPin,
    },
    machine: {
      host: os.hostname(),
      cpus,
      cpuModel: os.cpus()[0]?.model ?? null,
      node: process.version,
      gitCommit: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).stdout?.trim() || null,
      loadavgAtStart,
      loadavgAfter: os.loadavg().map((l) => Number(l.toFixed(2))),
    },
    ...results,
  };
  const stamp = startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `deliveries-${stamp}.json`);
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nresults written to ${path.relative(process.cwd(), file)}`);
  cleanUp();
}
