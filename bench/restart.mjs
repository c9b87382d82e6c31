#!/usr/bin/env node
// `npm run bench:restart`: how long does understudy take to come back with a long log of accepted writes?
//
// 1. Starts the built server (`node dist/cli.js serve --seed 42 --data-dir TMP`) on a fresh temporary data dir
//    (under os.tmpdir(), removed at the end), every thread pinned to cpu0 and wrk to cpu1 when the machine allows it.
// 2. Pushes BENCH_WRITES accepted writes through HTTP: POST /wms/v1/stock-adjustments with one adjustment
//    { sku: SKU-<random 1..1000>, warehouseId: WH-RTM-01, delta: 1, reason: receipt } per request (one logged
//    write each), from a wrk lua script, in repeated runs until wrk has counted BENCH_WRITES 2xx answers. Reports
//    the write rate (2xx per second of load), p99 per run, non-2xx and socket errors.
// 3. Reads the stock (onHand of SKU-1..SKU-5, and the sum over every SKU from the CSV export), the data dir's size,
//    then `kill -9`s the server and starts it again on the same directory: time from spawn to the first 200 on
//    GET /wms/v1/inventory/SKU-1, and the "restored" line it printed. The stock read back must be at least what was
//    read before the kill (only acknowledged writes are promised; with no load running it should be equal).
// 4. Stops that server cleanly (SIGTERM) and starts it once more: the same measurements.
// 5. Opens the database read-only: writes ever logged (the log's AUTOINCREMENT counter), rows still in the log,
//    snapshots; the stock must be the seeded stock plus one unit per logged write.
// Target (durable-state issue): a restart with 1,000,000 logged writes within 5 s.
// Results go to the console and to bench/results/restart-<UTC stamp>.json.
//
// Usage: npm run bench:restart       (builds first)
// Env:   BENCH_WRITES=1000000   BENCH_CONNECTIONS=50   BENCH_RUN_MAX=60 (s, longest single wrk run)
//        BENCH_KEEP_DATA=1 (keep the data dir and print where it is)

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { canPin, commandExists, freePort, peakRssMb, pinned } from './lib/proc.mjs';
import Database from 'better-sqlite3';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(REPO, 'dist', 'cli.js');
const RESULTS_DIR = path.join(REPO, 'bench', 'results');

const WRITES = positiveInteger('BENCH_WRITES', 1_000_000);
const CONNECTIONS = positiveInteger('BENCH_CONNECTIONS', 50);
const RUN_MAX_S = positiveInteger('BENCH_RUN_MAX', 60);
const KEEP_DATA = process.env.BENCH_KEEP_DATA === '1';
const SEED = 42;
const SKUS = 1000;
const WAREHOUSE = 'WH-RTM-01';
const PROBE = '/wms/v1/inventory/SKU-1';
const SAMPLE_SKUS = ['SKU-1', 'SKU-2', 'SKU-3', 'SKU-4', 'SKU-5'];
const TARGET_RESTART_MS = 5000;
const STARTUP_DEADLINE_MS = 120_000;

function positiveInteger(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) die(`${name}=${raw} is not a positive integer`);
  return value;
}

const log = (message) => console.log(`restart: ${message}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (v, digits = 0) => (v === null || v === undefined ? '-' : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));

const children = new Set();
let tmp;
function cleanUp() {
  for (const child of children) child.kill('SIGKILL');
  if (tmp && !KEEP_DATA) fs.rmSync(tmp, { recursive: true, force: true });
}
function die(message) {
  console.error(`restart: ${message}`);
  cleanUp();
  process.exit(1);
}
class BenchError extends Error {}




function get(url, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
  });
}


/** Sizes of the files in the data dir, and their total. */
function dirSize(dir) {
  const files = {};
  let total = 0;
  for (const name of fs.readdirSync(dir)) {
    const size = fs.statSync(path.join(dir, name)).size;
    files[name] = size;
    total += size;
  }
  return { totalBytes: total, files };
}
const mb = (bytes) => `${fmt(bytes / 2 ** 20, 1)} MB`;

// ---------------------------------------------------------------------------------------------------------------
// the server

/** Starts understudy on the data dir; resolves once GET PROBE answers 200, with the timings and what it printed. */
async function startServer(dataDir, port) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('UNDERSTUDY_')));
  const argv = pinned(0, [process.execPath, CLI, 'serve', '--host', '127.0.0.1', '--port', String(port), '--seed', String(SEED), '--data-dir', dataDir]);
  const spawnedAt = performance.now();
  const child = spawn(argv[0], argv.slice(1), { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const server = { child, spawnedAt, output: [], warnings: [], state: undefined, stateMs: undefined, listeningMs: undefined };
  const keep = (chunk) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      if (server.output.length < 200) server.output.push(line);
      if (/warning|error|fail/i.test(line)) server.warnings.push(line);
      if (/ listening on /.test(line)) server.listeningMs = performance.now() - spawnedAt;
      if (/^understudy: state is /.test(line)) {
        server.state = line.slice('understudy: '.length);
        server.stateMs = performance.now() - spawnedAt;
      }
    }
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  server.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    children.delete(child);
    resolve({ code, signal });
  }));
  let gone;
  server.exited.then((result) => (gone = result));
  for (;;) {
    if (gone) throw new BenchError(`understudy exited (${gone.code ?? gone.signal}) before answering:\n  ${server.output.join('\n  ')}`);
    try {
      const response = await get(`http://127.0.0.1:${port}${PROBE}`);
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (performance.now() - spawnedAt > STARTUP_DEADLINE_MS) throw new BenchError(`no 200 on ${PROBE} within ${STARTUP_DEADLINE_MS / 1000} s:\n  ${server.output.join('\n  ')}`);
    await sleep(10);
  }
  server.firstOkMs = performance.now() - spawnedAt;
  server.peakRssMb = peakRssMb(child.pid);
  // the state line is printed right after the listening line; give it a moment to arrive through the pipe
  for (let i = 0; i < 100 && server.state === undefined; i++) await sleep(10);
  return server;
}

async function stop(server, signal) {
  const asked = performance.now();
  server.child.kill(signal);
  const result = await Promise.race([server.exited, sleep(30_000).then(() => null)]);
  if (!result) {
    server.child.kill('SIGKILL');
    await server.exited;
    return { signal, note: 'no exit within 30 s: killed' };
  }
  return { signal, exitCode: result.code, exitSignal: result.signal ?? undefined, stopMs: Math.round(performance.now() - asked) };
}

/** The stock as the server reports it now: onHand of the sample SKUs, and summed over every SKU (CSV export). */
async function readStock(base) {
  const samples = {};
  for (const sku of SAMPLE_SKUS) {
    const r = await get(`${base}/wms/v1/inventory/${sku}`);
    if (r.status !== 200) throw new BenchError(`GET /inventory/${sku}: ${r.status} ${r.body.slice(0, 200)}`);
    samples[sku] = JSON.parse(r.body).onHand;
  }
  const csv = await get(`${base}/wms/v1/exports/inventory?format=csv`, 30_000);
  if (csv.status !== 200) throw new BenchError(`GET /exports/inventory: ${csv.status}`);
  const lines = csv.body.trim().split(/\r?\n/);
  const column = lines[0].split(',').indexOf('onHand');
  const totalOnHand = lines.slice(1).reduce((sum, line) => sum + Number(line.split(',')[column]), 0);
  return { samples, sampleSum: Object.values(samples).reduce((a, b) => a + b, 0), totalOnHand, skus: lines.length - 1 };
}

// ---------------------------------------------------------------------------------------------------------------
// the load

const WRK_LUA = `
-- one stock adjustment per request: +1 of a random SKU in ${WAREHOUSE}
local headers = { ['content-type'] = 'application/json' }
function init(args)
  math.randomseed(os.time() * 100 + tonumber(args[1] or '0'))
end
function request()
  return wrk.format('POST', nil, headers,
    '{"adjustments":[{"sku":"SKU-' .. math.random(1, ${SKUS}) .. '","warehouseId":"${WAREHOUSE}","delta":1,"reason":"receipt"}]}')
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
`;

let wrkRuns = 0;
function wrk(script, url, seconds) {
  const argv = pinned(1, ['sh', '-c', `ulimit -n ${CONNECTIONS + 64} 2>/dev/null; exec "$@"`, 'sh',
    'wrk', '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', script, url, '--', String(++wrkRuns)]);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      children.delete(child);
      const line = stdout.split('\n').find((l) => l.startsWith('WRKJSON '));
      if (code !== 0 || !line) return reject(new BenchError(`wrk exited ${code}: ${stderr.trim() || stdout.trim()}`));
      const r = JSON.parse(line.slice(8));
      resolve({
        requests: r.requests,
        durationS: r.duration_us / 1e6,
        non2xx: r.status,
        errors: r.connect + r.read + r.write + r.timeout,
        acknowledged: r.requests - r.status,
        p50Ms: r.p50_us / 1000,
        p99Ms: r.p99_us / 1000,
        maxMs: r.max_us / 1000,
      });
    });
  });
}

async function pushWrites(base, script, server) {
  const runs = [];
  let acknowledged = 0;
  let seconds = Math.min(10, Math.max(2, Math.ceil(WRITES / 8000)));
  while (acknowledged < WRITES) {
    if (runs.length > 0) {
      // at the latest run's rate (the first one includes the JIT's warm-up); a short fall is made up by one more run
      const last = runs.at(-1);
      seconds = Math.min(RUN_MAX_S, Math.max(2, Math.ceil((WRITES - acknowledged) / (last.acknowledged / last.durationS))));
    }
    const run = await wrk(script, `${base}/wms/v1/stock-adjustments`, seconds);
    runs.push(run);
    acknowledged += run.acknowledged;
    const rss = (() => {
      try {
        return Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))[1]) / 1024;
      } catch {
        return null;
      }
    })();
    log(`  run ${runs.length}: ${fmt(run.acknowledged)} 2xx in ${run.durationS.toFixed(1)} s (${fmt(run.acknowledged / run.durationS)}/s, p99 ${run.p99Ms.toFixed(1)} ms, ` +
      `non-2xx ${run.non2xx}, errors ${run.errors}); ${fmt(acknowledged)} of ${fmt(WRITES)}; server RSS ${fmt(rss)} MB`);
    if (run.acknowledged === 0) throw new BenchError('a run made no accepted write');
  }
  return runs;
}

// ---------------------------------------------------------------------------------------------------------------

function readDatabase(dataDir) {
  const db = new Database(path.join(dataDir, 'state.db'), { readonly: true, fileMustExist: true });
  try {
    const seq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'writes'").get();
    return {
      writesEverLogged: seq?.seq ?? 0,
      writesInLog: db.prepare('SELECT COUNT(*) AS n FROM writes').get().n,
      snapshots: db.prepare('SELECT workspace, system, position, length(data) AS bytes FROM snapshots').all(),
      journalRows: readJournal(dataDir),
    };
  } finally {
    db.close();
  }
}

/** The journal lives in its own file, journal.db. */
function readJournal(dataDir) {
  const db = new Database(path.join(dataDir, 'journal.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(length(data)), 0) AS bytes, MIN(first_id) AS firstId, MAX(last_id) AS lastId FROM journal').get();
  } finally {
    db.close();
  }
}

async function restart(label, dataDir, port, before) {
  const server = await startServer(dataDir, port);
  const base = `http://127.0.0.1:${port}`;
  const stock = await readStock(base);
  const kept = stock.sampleSum >= before.sampleSum && stock.totalOnHand >= before.totalOnHand;
  log(`${label}: first 200 after ${fmt(server.firstOkMs)} ms (listening line at ${fmt(server.listeningMs)} ms, peak RSS by then ${fmt(server.peakRssMb)} MB); ${server.state ?? 'no state line'}`);
  log(`  ${TARGET_RESTART_MS >= server.firstOkMs ? 'ok  ' : 'MISS'} restart within ${TARGET_RESTART_MS / 1000} s: ${fmt(server.firstOkMs)} ms`);
  log(`  ${kept ? 'ok  ' : 'MISS'} stock: ${SAMPLE_SKUS.join('+')} onHand ${fmt(stock.sampleSum)} (before: ${fmt(before.sampleSum)}), every SKU ${fmt(stock.totalOnHand)} (before: ${fmt(before.totalOnHand)})` +
    `${kept && stock.totalOnHand !== before.totalOnHand ? ' (more than before: writes in flight when it was read)' : ''}`);
  for (const line of server.warnings) log(`  understudy said: ${line}`);
  return { server, stock, kept };
}

async function main() {
  if (!fs.existsSync(CLI)) die(`${path.relative(REPO, CLI)} is missing: run npm run build (npm run bench:restart does)`);
  if (!commandExists('wrk')) die('wrk is not on PATH: install it (Debian/Ubuntu: apt-get install -y wrk; macOS: brew install wrk)');
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => die(`interrupted (${signal})`));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'understudy-restart-'));
  const dataDir = path.join(tmp, 'data');
  const script = path.join(tmp, 'adjust.lua');
  fs.writeFileSync(script, WRK_LUA);
  const startedAt = new Date();
  const filesystem = spawnSync('df', ['-T', tmp], { encoding: 'utf8' }).stdout?.trim().split('\n')[1]?.split(/\s+/)[1] ?? 'unknown';
  log(`${fmt(WRITES)} writes into ${dataDir} (${filesystem}); ${canPin ? 'server on cpu0, wrk on cpu1' : 'not pinned'}; ${CONNECTIONS} connections; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  // 1. a fresh start, and the seeded stock
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const first = await startServer(dataDir, port);
  log(`fresh start: first 200 after ${fmt(first.firstOkMs)} ms (peak RSS ${fmt(first.peakRssMb)} MB); ${first.state}`);
  const seeded = await readStock(base);

  // 2. the writes
  const loadStarted = performance.now();
  const runs = await pushWrites(base, script, first);
  const loadWallS = (performance.now() - loadStarted) / 1000;
  const acknowledged = runs.reduce((s, r) => s + r.acknowledged, 0);
  const loadS = runs.reduce((s, r) => s + r.durationS, 0);
  const writeRate = acknowledged / loadS;
  const non2xx = runs.reduce((s, r) => s + r.non2xx, 0);
  const errors = runs.reduce((s, r) => s + r.errors, 0);
  log(`writes: ${fmt(acknowledged)} 2xx in ${fmt(loadS, 1)} s of load (${fmt(loadWallS, 1)} s wall): ${fmt(writeRate)} writes/s; non-2xx ${fmt(non2xx)}, socket errors ${fmt(errors)}`);

  // 3. read, kill -9, restart
  await sleep(500); // the last journal batch (250 ms) and anything wrk left in flight
  const beforeKill = await readStock(base);
  const sizeBeforeKill = dirSize(dataDir);
  log(`before kill -9: ${SAMPLE_SKUS.join('+')} onHand ${fmt(beforeKill.sampleSum)}, every SKU ${fmt(beforeKill.totalOnHand)} (seeded ${fmt(seeded.totalOnHand)}: +${fmt(beforeKill.totalOnHand - seeded.totalOnHand)}); data dir ${mb(sizeBeforeKill.totalBytes)} ${JSON.stringify(sizeBeforeKill.files)}`);
  for (const line of first.warnings) log(`  understudy said: ${line}`);
  const killed = await stop(first, 'SIGKILL');
  const afterKill = await restart('restart after kill -9', dataDir, port, beforeKill);

  // 4. a clean stop, restart
  const stopped = await stop(afterKill.server, 'SIGTERM');
  const sizeAfterStop = dirSize(dataDir);
  log(`SIGTERM: exit ${stopped.exitCode ?? stopped.note} after ${fmt(stopped.stopMs)} ms; data dir ${mb(sizeAfterStop.totalBytes)} ${JSON.stringify(sizeAfterStop.files)}`);
  const afterStop = await restart('restart after SIGTERM', dataDir, port, afterKill.stock);
  const lastStop = await stop(afterStop.server, 'SIGTERM');

  // 5. what the database holds
  const stored = readDatabase(dataDir);
  const sizeAtEnd = dirSize(dataDir);
  const applied = afterStop.stock.totalOnHand - seeded.totalOnHand;
  const consistent = applied === stored.writesEverLogged;
  log(`database: ${fmt(stored.writesEverLogged)} writes ever logged (${fmt(stored.writesEverLogged - acknowledged)} more than the 2xx wrk counted: answered after wrk stopped waiting), ` +
    `${fmt(stored.writesInLog)} still in the log after the latest snapshot; snapshots ${JSON.stringify(stored.snapshots)}; journal ${fmt(stored.journalRows.n)} rows, ${mb(stored.journalRows.bytes)}`);
  log(`  ${consistent ? 'ok  ' : 'MISS'} stock = seeded + one unit per logged write: ${fmt(seeded.totalOnHand)} + ${fmt(stored.writesEverLogged)} ${consistent ? '=' : '!='} ${fmt(afterStop.stock.totalOnHand)}`);
  log(`data dir at the end: ${mb(sizeAtEnd.totalBytes)} ${JSON.stringify(sizeAtEnd.files)}${KEEP_DATA ? ` (kept: ${dataDir})` : ''}`);

  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    settings: { writes: WRITES, connections: CONNECTIONS, runMaxS: RUN_MAX_S, seed: SEED, pinned: canPin, tmpdir: `${os.tmpdir()} (${filesystem})` },
    machine: {
      host: os.hostname(),
      cpus: os.availableParallelism?.() ?? os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? null,
      node: process.version,
      gitCommit: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).stdout?.trim() || null,
      wrk: spawnSync('wrk', ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0].trim() || null,
      loadavgAfter: os.loadavg().map((l) => Number(l.toFixed(2))),
    },
    freshStart: { firstOkMs: Math.round(first.firstOkMs), peakRssMb: first.peakRssMb, state: first.state },
    writes: { acknowledged2xx: acknowledged, loadS, loadWallS, perSecond: writeRate, non2xx, errors, runs },
    beforeKill: { stock: beforeKill, dataDir: sizeBeforeKill, warnings: first.warnings, kill: killed },
    restartAfterKill: { firstOkMs: Math.round(afterKill.server.firstOkMs), listeningMs: Math.round(afterKill.server.listeningMs), peakRssMbAtFirstOk: afterKill.server.peakRssMb, state: afterKill.server.state, stock: afterKill.stock, stockKept: afterKill.kept, warnings: afterKill.server.warnings, stop: stopped, dataDirAfterStop: sizeAfterStop },
    restartAfterSigterm: { firstOkMs: Math.round(afterStop.server.firstOkMs), listeningMs: Math.round(afterStop.server.listeningMs), peakRssMbAtFirstOk: afterStop.server.peakRssMb, state: afterStop.server.state, stock: afterStop.stock, stockKept: afterStop.kept, warnings: afterStop.server.warnings, stop: lastStop },
    database: { ...stored, stockMatchesLog: consistent, dataDirAtEnd: sizeAtEnd },
    target: { restartMs: TARGET_RESTART_MS, ok: afterKill.server.firstOkMs <= TARGET_RESTART_MS && afterStop.server.firstOkMs <= TARGET_RESTART_MS },
  };
  console.log('');
  console.log(`writes: ${fmt(acknowledged)} acknowledged at ${fmt(writeRate)}/s (non-2xx ${fmt(non2xx)}, errors ${fmt(errors)}); data dir ${mb(sizeBeforeKill.totalBytes)} before the kill, ${mb(sizeAtEnd.totalBytes)} at the end`);
  console.log(`fresh start (empty data dir): first 200 after ${fmt(first.firstOkMs)} ms`);
  console.log(`restart after kill -9: first 200 after ${fmt(afterKill.server.firstOkMs)} ms: ${afterKill.server.state}`);
  console.log(`restart after SIGTERM: first 200 after ${fmt(afterStop.server.firstOkMs)} ms: ${afterStop.server.state}`);
  console.log(`${report.target.ok ? 'ok  ' : 'MISS'} restart with ${fmt(stored.writesEverLogged)} logged writes within ${TARGET_RESTART_MS / 1000} s`);
  const stamp = startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `restart-${stamp}.json`);
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nresults written to ${path.relative(process.cwd(), file)}`);
  cleanUp();
}

main().catch((error) => die(error instanceof BenchError ? error.message : (error.stack ?? String(error))));
