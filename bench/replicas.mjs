#!/usr/bin/env node
// `npm run bench:replicas`: what does sharing workspaces through Redis (issue #15) cost, next to one durable
// understudy process and a bare node:http server, on this machine, in this run?
//
// For each placement it starts, one set at a time:
//   1. a private redis-server on a free port (appendonly yes, appendfsync BENCH_REDIS_FSYNC, its files in a
//      temporary directory) and two replicas on it (`node dist/cli.js serve --redis URL --redis-prefix bench-PID-N
//      --replica-id bench-rN --port P --data-dir '' --seed 42`);
//   2. a single durable understudy (`--data-dir <tmp>`, durability: process, the default);
//   3. bench/baseline-server.mjs serving the same bytes understudy answered (the GET's body; a reservation's 201).
// and loads each with wrk (a lua hook reports exact percentiles):
//   GET     GET /wms/v1/inventory/SKU-1 (bench.mjs's `inventory`) on replica 1, on the single process, on node:http
//   POST    POST /wms/v1/reservations, a new externalOrderId per request and one unit of a random SKU-1..1000 (bench.mjs's
//           `reservations-*`), on replica 1, on both replicas at once (two wrk processes, half the connections
//           each: writes interleave in the shared log as they would behind a load balancer), on the single process,
//           on node:http (which reads the body and answers a fixed 201)
// Before the writes each understudy's stock is raised by 100,000 units per SKU in the first warehouse (the seeded
// stock runs out within seconds and answers 409). After them the bench reads the reserved units back (the CSV
// export): on the single process they must match the 2xx answers counted; on the replicas they must match the 2xx
// answers sent to either, and both replicas must show the same count at once (every write was acknowledged before
// the read: a replica showing fewer missed one), and agree within 15 s if they do not.
//
// Placements (BENCH_PIN, both by default):
//   pinned   every thread of every server (the replicas, redis-server, the single process, the baseline) on cpu0,
//            wrk on cpu1 (taskset): the replicas and Redis share one core, as the single process has one core
//   relaxed  nothing pinned: the scheduler spreads the servers and wrk over the machine's cores
// Reported per run: req/s, p50, p99, socket errors, non-2xx; then ratios (replica / single process, replica /
// node:http, single / node:http). With two wrk processes the p50 and p99 shown are the higher of the two.
// Results go to the console and to bench/results/replicas-<UTC stamp>.json.
//
// Usage: npm run bench:replicas      (builds first)
// Env:   BENCH_DURATION=10 (s, measured)  BENCH_WARMUP=3 (s)  BENCH_CONNECTIONS=50  BENCH_PIN=pinned,relaxed
//        BENCH_QUIET_WAIT=30 (s to wait for an idle machine before each load; 0 = do not wait)
//        BENCH_REDIS_FSYNC=everysec (or always: Redis fsyncs every write; everysec survives a crash of the Redis
//        process, as durability: process survives a crash of understudy's)

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { canPin, commandExists, freePort, machineBusySeconds } from './lib/proc.mjs';
import { reservationsLua } from './lib/wrk-lua.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(REPO, 'dist', 'cli.js');
const BASELINE = path.join(REPO, 'bench', 'baseline-server.mjs');
const RESULTS_DIR = path.join(REPO, 'bench', 'results');

const DURATION_S = positiveNumber('BENCH_DURATION', 10);
const WARMUP_S = positiveNumber('BENCH_WARMUP', 3, true);
const CONNECTIONS = positiveNumber('BENCH_CONNECTIONS', 50);
const QUIET_WAIT_S = positiveNumber('BENCH_QUIET_WAIT', 30, true);
const PLACEMENTS = (process.env.BENCH_PIN ?? 'pinned,relaxed').split(',').map((p) => p.trim()).filter(Boolean);
for (const p of PLACEMENTS) if (!['pinned', 'relaxed'].includes(p)) die(`BENCH_PIN=${process.env.BENCH_PIN}: use pinned, relaxed or pinned,relaxed`);
const REDIS_FSYNC = process.env.BENCH_REDIS_FSYNC ?? 'everysec';
if (!['everysec', 'always'].includes(REDIS_FSYNC)) die(`BENCH_REDIS_FSYNC=${REDIS_FSYNC}: use everysec or always`);
const SEED = 42;
const SKUS = 1000;
const TOP_UP = 100_000;
const GET_ROUTE = '/wms/v1/inventory/SKU-1';
const POST_ROUTE = '/wms/v1/reservations';
const STARTUP_DEADLINE_MS = 30_000;
const CATCH_UP_DEADLINE_MS = 15_000;
const POLL_MS = 50;

function positiveNumber(name, fallback, zeroAllowed = false) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (!zeroAllowed && value === 0)) die(`${name}=${raw} is not a valid number`);
  return value;
}

/** An expected failure: reported by its message alone. */
class BenchError extends Error {}

const log = (message) => console.log(`bench:replicas: ${message}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (v, digits = 0) => (v === null || v === undefined || Number.isNaN(v) ? '-' : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));

function die(message) {
  console.error(`bench:replicas: ${message}`);
  killAll();
  removeTempDirs();
  process.exit(1);
}

/** Resolves to the promise's value, or to null when it has not settled within `ms`. */
async function within(promise, ms) {
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, ms, null)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One request on a connection of its own; resolves { status, headers, body } or rejects (socket error, timeout). */
function request(url, { method = 'GET', json, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const payload = json === undefined ? undefined : Buffer.from(JSON.stringify(json));
    const headers = payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {};
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.end(payload);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// processes

const children = new Set();
const tempDirs = new Set();

function killAll() {
  for (const child of children) child.kill('SIGKILL');
}
function removeTempDirs() {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}
function tempDir(label) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `understudy-bench-replicas-${label}-`));
  tempDirs.add(dir);
  return dir;
}

/** `argv` on cpu `cpu` when the placement pins (every thread: taskset at exec), as it is otherwise. */
function placed(argv, cpu, placement) {
  return placement === 'pinned' && canPin ? ['taskset', '-c', String(cpu), ...argv] : argv;
}

/**
 * Starts a server process; keeps the tail of its output (and drains it, so it never blocks on a full pipe).
 * The environment has no UNDERSTUDY_* variables of the caller, so they cannot change what is measured.
 */
function startProcess(label, argv, placement, { stdin = 'ignore' } = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('UNDERSTUDY_')));
  const final = placed(argv, 0, placement);
  const child = spawn(final[0], final.slice(1), { cwd: REPO, env, stdio: [stdin, 'pipe', 'pipe'] });
  children.add(child);
  const server = { label, child, spawnedAt: performance.now(), tail: [] };
  const keep = (chunk) => {
    server.tail.push(...chunk.toString().split('\n').filter(Boolean));
    if (server.tail.length > 30) server.tail.splice(0, server.tail.length - 30);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  server.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
    child.on('error', (error) => resolve({ code: null, signal: `spawn error: ${error.message}` }));
  });
  return server;
}

/** Polls until `probe()` is true (every POLL_MS, at most STARTUP_DEADLINE_MS); fails early if the server exits. */
async function whenReady(server, what, probe) {
  for (;;) {
    const gone = await within(server.exited, 0);
    if (gone) throw new BenchError(`${server.label} exited (${gone.code ?? gone.signal}) before ${what}:\n  ${server.tail.join('\n  ')}`);
    if (await probe().catch(() => false)) return performance.now() - server.spawnedAt;
    if (performance.now() - server.spawnedAt > STARTUP_DEADLINE_MS) throw new BenchError(`${server.label}: no ${what} within ${STARTUP_DEADLINE_MS / 1000} s:\n  ${server.tail.join('\n  ')}`);
    await sleep(POLL_MS);
  }
}

async function stop(server) {
  server.child.kill('SIGTERM');
  if (!(await within(server.exited, 10_000))) {
    log(`  warning: ${server.label} did not exit within 10 s of SIGTERM; killed`);
    server.child.kill('SIGKILL');
    await server.exited;
  }
}

/** Whether Redis answers PING on `port` (one connection, RESP by hand: this is a probe, not a client). */
function redisAnswers(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      reply += d;
      if (reply.includes('\r\n')) socket.end();
    });
    socket.on('close', () => resolve(reply.startsWith('+PONG')));
    socket.on('error', () => {});
  });
}

async function startRedis(placement) {
  const port = await freePort();
  const dir = tempDir('redis');
  const argv = ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', REDIS_FSYNC];
  const server = startProcess('redis-server', argv, placement);
  await whenReady(server, 'PONG', () => redisAnswers(port));
  return { server, url: `redis://127.0.0.1:${port}`, dir };
}

/** understudy from dist/, ready once GET_ROUTE answers 200; `args` say where its state is. */
async function startUnderstudy(label, args, placement) {
  const port = await freePort();
  const argv = [process.execPath, CLI, 'serve', '--host', '127.0.0.1', '--port', String(port), '--seed', String(SEED), ...args];
  const server = startProcess(label, argv, placement);
  server.base = `http://127.0.0.1:${port}`;
  server.startupMs = await whenReady(server, `200 on GET ${GET_ROUTE}`, async () => (await request(`${server.base}${GET_ROUTE}`)).status === 200);
  return server;
}

// ---------------------------------------------------------------------------------------------------------------
// load (wrk)

// wrk's request side for the writes: a new externalOrderId each time (lib/wrk-lua.mjs)
const RESERVATIONS_LUA = reservationsLua(SKUS);
// wrk prints its summary through this hook as one JSON line (latencies in microseconds)
const REPORT_LUA = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;
const scripts = {};
function wrkScript(kind) {
  scripts[kind] ??= (() => {
    const file = path.join(tempDir('wrk'), `${kind}.lua`);
    fs.writeFileSync(file, `${kind === 'post' ? RESERVATIONS_LUA : ''}${REPORT_LUA}`);
    return file;
  })();
  return scripts[kind];
}
let runs = 0;

/** One wrk run on `url`; resolves { requests, rps, p50Ms, p99Ms, errors, non2xx }. */
function wrk(url, kind, connections, seconds, placement) {
  const argv = placed(['wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '-s', wrkScript(kind), url, '--', `${process.pid}-${++runs}`], 1, placement);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      children.delete(child);
      const line = out.split('\n').find((l) => l.startsWith('WRKJSON '));
      if (code !== 0 || !line) return reject(new BenchError(`wrk exited ${code}: ${out.trim()}`));
      const r = JSON.parse(line.slice(8));
      resolve({ requests: r.requests, rps: r.requests / (r.duration_us / 1e6), p50Ms: r.p50_us / 1000, p99Ms: r.p99_us / 1000, errors: r.connect + r.read + r.write + r.timeout, non2xx: r.status });
    });
  });
}

/**
 * Other sessions may share the machine: before a load, wait (at most QUIET_WAIT_S) until it is nearly idle over a
 * one-second window, and say so when it never is (the numbers of that run are disturbed).
 */
async function waitForQuiet() {
  if (QUIET_WAIT_S === 0 || machineBusySeconds() === null) return;
  const deadline = performance.now() + QUIET_WAIT_S * 1000;
  let busyCores;
  do {
    const before = machineBusySeconds();
    await sleep(1000);
    busyCores = machineBusySeconds() - before;
    // our own idle servers (two replicas, Redis) use a little: a fifth of a core is "quiet"
    if (busyCores <= 0.2) return;
  } while (performance.now() < deadline);
  log(`  warning: the machine is busy (${(busyCores * 100).toFixed(0)}% of a core used outside the load); measuring anyway`);
}

/**
 * Loads `urls` at once (the connections split between them) for a warm-up, then for the measured run. Returns the
 * measured run (req/s summed; p50/p99 the higher of the runs) and the 2xx answers of both (what was acknowledged).
 */
async function measure(urls, kind, placement) {
  const share = Math.max(1, Math.floor(CONNECTIONS / urls.length));
  const runAll = (seconds) => Promise.all(urls.map((url) => wrk(url, kind, share, seconds, placement)));
  await waitForQuiet();
  const warm = WARMUP_S > 0 ? await runAll(WARMUP_S) : [];
  const measured = await runAll(DURATION_S);
  const sum = (list, key) => list.reduce((total, r) => total + r[key], 0);
  return {
    rps: sum(measured, 'rps'),
    p50Ms: Math.max(...measured.map((r) => r.p50Ms)),
    p99Ms: Math.max(...measured.map((r) => r.p99Ms)),
    errors: sum(measured, 'errors'),
    non2xx: sum(measured, 'non2xx'),
    acknowledged: sum([...warm, ...measured], 'requests') - sum([...warm, ...measured], 'non2xx'),
    // requests wrk stopped waiting for may still be made: at most one per connection per run
    inFlight: share * urls.length * (warm.length ? 2 : 1),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// the WMS: stock for the writes, and the units reserved

/** Raises every SKU's stock in the first warehouse by TOP_UP (two stock-adjustment requests of 500). */
async function topUp(base) {
  const { body } = await request(`${base}/wms/v1/warehouses`);
  const first = JSON.parse(body.toString()).warehouses[0].warehouseId;
  for (let from = 1; from <= SKUS; from += 500) {
    const adjustments = [];
    for (let i = from; i < from + 500 && i <= SKUS; i++) adjustments.push({ sku: `SKU-${i}`, warehouseId: first, delta: TOP_UP, reason: 'receipt' });
    const r = await request(`${base}/wms/v1/stock-adjustments`, { method: 'POST', json: { adjustments } });
    const applied = r.status === 200 ? JSON.parse(r.body.toString()).applied : 0;
    if (applied !== adjustments.length) throw new BenchError(`stock top-up on ${base}: ${r.status}, ${applied} of ${adjustments.length} applied: ${r.body.toString().slice(0, 300)}`);
  }
}

/** The units reserved over every SKU and warehouse, from the CSV export. */
async function reservedUnits(base) {
  const lines = (await request(`${base}/wms/v1/exports/inventory?format=csv`, { timeoutMs: 30_000 })).body.toString().trim().split(/\r?\n/);
  const column = lines[0].split(',').indexOf('reserved');
  if (column < 0) throw new BenchError(`the inventory export of ${base} has no reserved column: ${lines[0]}`);
  return lines.slice(1).reduce((sum, line) => sum + Number(line.split(',')[column]), 0);
}

/** Whether `reserved` units account for `acknowledged` 2xx answers: none missing, no more than were in flight. */
function accounted(reserved, acknowledged, inFlight) {
  if (reserved < acknowledged) return `${acknowledged - reserved} acknowledged reservations hold no stock`;
  if (reserved - acknowledged > inFlight) return `${reserved - acknowledged} more units reserved than 2xx answers counted (more than the ${inFlight} in flight when wrk stopped)`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// one placement

async function runPlacement(placement, n) {
  log(`placement ${placement}: ${placement === 'pinned' ? 'every server thread on cpu0, wrk on cpu1' : 'nothing pinned'}`);
  const rows = [];
  const checks = [];
  const row = (test, server, m) => rows.push({ placement, test, server, ...m });

  // 1. two replicas on a private Redis
  const redis = await startRedis(placement);
  const prefix = `bench-${process.pid}-${n}`;
  const replicaArgs = (id) => ['--data-dir', '', '--redis', redis.url, '--redis-prefix', prefix, '--replica-id', id];
  const r1 = await startUnderstudy('replica 1', replicaArgs('bench-r1'), placement);
  const r2 = await startUnderstudy('replica 2', replicaArgs('bench-r2'), placement);
  log(`  redis-server at ${redis.url} (appendfsync ${REDIS_FSYNC}); replicas up after ${fmt(r1.startupMs)} and ${fmt(r2.startupMs)} ms`);
  const getAnswer = await request(`${r1.base}${GET_ROUTE}`);
  log('  GET on replica 1');
  row('GET', 'replica 1', await measure([`${r1.base}${GET_ROUTE}`], 'get', placement));
  await topUp(r1.base);
  log('  POST on replica 1');
  const one = await measure([`${r1.base}${POST_ROUTE}`], 'post', placement);
  row('POST', 'replica 1', one);
  log('  POST on both replicas at once');
  const both = await measure([`${r1.base}${POST_ROUTE}`, `${r2.base}${POST_ROUTE}`], 'post', placement);
  row('POST', 'replicas 1+2', both);
  {
    const acknowledged = one.acknowledged + both.acknowledged;
    // each replica applies the shared log on its own: give them a bounded time to agree, then compare
    const waitedFrom = performance.now();
    let [on1, on2] = await Promise.all([reservedUnits(r1.base), reservedUnits(r2.base)]);
    const firstRead = { on1, on2 };
    while (on2 !== on1 && performance.now() - waitedFrom < CATCH_UP_DEADLINE_MS) {
      await sleep(POLL_MS * 4);
      [on1, on2] = await Promise.all([reservedUnits(r1.base), reservedUnits(r2.base)]);
    }
    const agreedMs = on1 === on2 ? performance.now() - waitedFrom : null;
    const problems = [accounted(Math.max(on1, on2), acknowledged, one.inFlight + both.inFlight)];
    if (on2 !== on1) problems.push(`the replicas still disagree after ${CATCH_UP_DEADLINE_MS / 1000} s`);
    // read-your-writes across replicas: right after the load, each replica shows at least every acknowledged write.
    // They may differ by writes still in flight when wrk stopped (sent, never answered to wrk), which land between
    // the two reads; those are not acknowledged, so a difference alone is no miss
    if (Math.min(firstRead.on1, firstRead.on2) < acknowledged) problems.push(`right after the load, replica 1 showed ${firstRead.on1} units and replica 2 ${firstRead.on2}, fewer than the ${acknowledged} acknowledged`);
    checks.push({ placement, what: `replicas: ${fmt(on1)} units reserved on replica 1, ${fmt(on2)} on replica 2, for ${fmt(acknowledged)} 2xx answers counted`, problem: problems.filter(Boolean).join('; ') || undefined, firstRead, agreedMs });
  }
  await Promise.all([stop(r1), stop(r2)]);
  await stop(redis.server);

  // 2. one durable process
  const dataDir = path.join(tempDir('state'), 'data');
  const single = await startUnderstudy('single process', ['--data-dir', dataDir], placement);
  log(`  single durable process (${dataDir}) up after ${fmt(single.startupMs)} ms; GET`);
  row('GET', 'single durable', await measure([`${single.base}${GET_ROUTE}`], 'get', placement));
  await topUp(single.base);
  // one reservation made by hand: the 201 the baseline answers with (and one more unit to account for)
  const sample = await request(`${single.base}${POST_ROUTE}`, { method: 'POST', json: { externalOrderId: `bench-sample-${process.pid}-${n}`, lines: [{ sku: 'SKU-1', quantity: 1 }] } });
  if (sample.status !== 201) throw new BenchError(`the sample reservation answered ${sample.status}: ${sample.body.toString().slice(0, 300)}`);
  log('  POST on the single process');
  const writes = await measure([`${single.base}${POST_ROUTE}`], 'post', placement);
  row('POST', 'single durable', writes);
  {
    const reserved = (await reservedUnits(single.base)) - 1;
    checks.push({ placement, what: `single process: ${fmt(reserved)} units reserved for ${fmt(writes.acknowledged)} 2xx answers counted`, problem: accounted(reserved, writes.acknowledged, writes.inFlight) });
  }
  await stop(single);

  // 3. node:http answering the same bytes
  for (const [test, route, answer, method] of [['GET', GET_ROUTE, getAnswer, 'GET'], ['POST', POST_ROUTE, sample, 'POST']]) {
    const port = await freePort();
    const contentType = answer.headers['content-type'] ?? 'application/octet-stream';
    const baseline = startProcess('node:http', [process.execPath, BASELINE, String(port), route, contentType, '0', method, String(answer.status)], placement, { stdin: 'pipe' });
    baseline.child.stdin.end(answer.body);
    const url = `http://127.0.0.1:${port}${route}`;
    await whenReady(baseline, 'its first answer', async () => (await request(url, { method, json: method === 'POST' ? {} : undefined })).status === answer.status);
    log(`  ${test} on node:http`);
    row(test, 'node:http', await measure([url], test === 'POST' ? 'post' : 'get', placement));
    await stop(baseline);
  }
  return { rows, checks };
}

// ---------------------------------------------------------------------------------------------------------------
// report

function printReport(rows, checks) {
  const table = [['placement', 'test', 'server', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx']];
  for (const r of rows) table.push([r.placement, r.test, r.server, fmt(r.rps), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), fmt(r.errors), fmt(r.non2xx)]);
  const widths = table[0].map((_, i) => Math.max(...table.map((line) => line[i].length)));
  console.log('');
  for (const [i, line] of table.entries()) {
    console.log(line.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  console.log('\n(replicas 1+2: two wrk processes with half the connections each; req/s summed, p50/p99 the higher of the two)');

  const ratios = [];
  for (const placement of PLACEMENTS) {
    const find = (test, server) => rows.find((r) => r.placement === placement && r.test === test && r.server === server);
    console.log(`\nratios, ${placement}:`);
    for (const [test, a, b] of [
      ['GET', 'replica 1', 'single durable'],
      ['GET', 'replica 1', 'node:http'],
      ['GET', 'single durable', 'node:http'],
      ['POST', 'replica 1', 'single durable'],
      ['POST', 'replicas 1+2', 'single durable'],
      ['POST', 'replica 1', 'node:http'],
      ['POST', 'single durable', 'node:http'],
    ]) {
      const x = find(test, a);
      const y = find(test, b);
      if (!x || !y) continue;
      const ratio = { placement, test, of: a, to: b, rps: x.rps / y.rps, p50: x.p50Ms / y.p50Ms, p99: x.p99Ms / y.p99Ms };
      ratios.push(ratio);
      console.log(`  ${test.padEnd(4)} ${`${a} / ${b}`.padEnd(32)} req/s ${ratio.rps.toFixed(2)}   p50 x${ratio.p50.toFixed(2)}   p99 x${ratio.p99.toFixed(2)}`);
    }
  }
  console.log('\nchecks (acknowledged writes against the stock reserved):');
  for (const c of checks) console.log(`  ${c.problem ? 'MISS' : 'ok  '} [${c.placement}] ${c.what}${c.problem ? `: ${c.problem}` : ''}`);
  const disturbed = rows.filter((r) => r.errors > 0 || r.non2xx > 0);
  for (const r of disturbed) console.log(`  note: [${r.placement}] ${r.test} on ${r.server}: ${fmt(r.errors)} socket errors/timeouts, ${fmt(r.non2xx)} non-2xx in the measured run`);
  return ratios;
}

// ---------------------------------------------------------------------------------------------------------------

async function main() {
  if (process.argv.length > 2) die(`no arguments are taken (settings are environment variables; see the header of ${path.relative(process.cwd(), fileURLToPath(import.meta.url))})`);
  if (!fs.existsSync(CLI)) die(`${path.relative(REPO, CLI)} is missing: run npm run build (npm run bench:replicas does)`);
  if (!commandExists('wrk')) die('wrk is not on PATH (the writes need its lua request hook): apt-get install -y wrk, or brew install wrk');
  if (!commandExists('redis-server')) die('redis-server is not on PATH: apt-get install -y redis-server, or brew install redis');
  if (PLACEMENTS.includes('pinned') && !canPin) log('warning: cannot pin (needs Linux, taskset and two CPUs): "pinned" runs unpinned');
  process.on('exit', () => {
    killAll();
    removeTempDirs();
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => die(`interrupted (${signal})`));

  const startedAt = new Date();
  const version = (argv) => spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' }).stdout?.split('\n')[0].trim() || null;
  const machine = {
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    node: process.version,
    redis: version(['redis-server', '--version']),
    wrk: spawnSync('wrk', ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0].trim() || null,
    gitCommit: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).stdout?.trim() || null,
    loadavgBefore: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
  log(`${machine.wrk}; ${machine.redis}; warm-up ${WARMUP_S} s, measured ${DURATION_S} s, ${CONNECTIONS} connections; load average ${machine.loadavgBefore.join(' ')}`);
  const rows = [];
  const checks = [];
  for (const [n, placement] of PLACEMENTS.entries()) {
    const result = await runPlacement(placement, n);
    rows.push(...result.rows);
    checks.push(...result.checks);
  }
  const ratios = printReport(rows, checks);

  const stamp = startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `replicas-${stamp}.json`);
  const settings = { durationS: DURATION_S, warmupS: WARMUP_S, connections: CONNECTIONS, placements: PLACEMENTS, redisFsync: REDIS_FSYNC, seed: SEED };
  fs.writeFileSync(file, `${JSON.stringify({ startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), settings, machine, rows, ratios, checks }, null, 2)}\n`);
  console.log(`\nresults written to ${path.relative(process.cwd(), file)}`);
}

main().catch((error) => die(error instanceof BenchError ? error.message : (error.stack ?? String(error))));
