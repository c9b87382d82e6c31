#!/usr/bin/env node
// `npm run soak`: does understudy hold up under many connections for a while, fairly, with bounded memory?
//
// Starts the built server (`node dist/cli.js serve`) with every thread pinned to cpu0 (a one-core container), then
// drives it from cpu1 with wrk: SOAK_CONNECTIONS keep-alive connections (1,000), all opened at once, for
// SOAK_DURATION seconds (40) over a WMS mix spread over 50 workspaces:
//   70 %  GET  /w/soak-N/wms/v1/inventory/SKU-K
//   20 %  GET  /w/soak-N/wms/v1/changes?limit=50
//   10 %  POST /w/soak-N/wms/v1/reservations   (a new externalOrderId each time; 409 once stock runs out is fine)
// Meanwhile a probe on cpu1 asks GET /__admin/health over one keep-alive connection, 50 ms after each answer.
//
// Reported: req/s; client p50/p99/max; requests still unanswered after 30 s (wrk's timeouts) and connect errors;
// 5xx answers; the health probe's p50/p99/max; the server's RSS before the load, at 15 s and at the end; peak RSS.
// Results go to the console and to bench/results/soak-<UTC stamp>.json.
//
// Usage: npm run soak           Env: SOAK_DURATION=40 (s)  SOAK_CONNECTIONS=1000  SOAK_ARGS="--profile x" (extra serve args)
//        State is in memory (--data-dir ''); SOAK_ARGS="--data-dir /tmp/soak" soaks the durable store instead.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { canPin, freePort, pinned } from './lib/proc.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(REPO, 'dist', 'cli.js');
const RESULTS_DIR = path.join(REPO, 'bench', 'results');
const DURATION_S = Number(process.env.SOAK_DURATION ?? 40);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 1000);
const EXTRA_ARGS = (process.env.SOAK_ARGS ?? '').split(/\s+/).filter(Boolean);
const PROBE_EVERY_MS = 50;
const UNANSWERED_AFTER_S = 30;

const log = (message) => console.log(`soak: ${message}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
function die(message) {
  console.error(`soak: ${message}`);
  process.exit(1);
}

if (!fs.existsSync(CLI)) die('dist/cli.js is missing: run npm run build (npm run soak does)');
if (spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status !== 0) die('wrk is not on PATH (Debian/Ubuntu: apt-get install -y wrk)');
// the probe runs in this process: keep it with the load generator, off the server's core
if (canPin) spawnSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });


function rssMb(pid, field = 'VmRSS') {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// wrk: the mix, and a summary line with status counts per class (one thread, so one Lua state to read back)
const WRK_LUA = `
local counter = 0
local statuses = { 0, 0, 0, 0, 0 }
math.randomseed(42)
request = function()
  counter = counter + 1
  local ws = "/w/soak-" .. (counter % 50)
  local r = math.random()
  if r < 0.7 then
    return wrk.format("GET", ws .. "/wms/v1/inventory/SKU-" .. math.random(1, 1000))
  elseif r < 0.9 then
    return wrk.format("GET", ws .. "/wms/v1/changes?limit=50")
  else
    local body = '{"externalOrderId":"SOAK-' .. counter .. '","lines":[{"sku":"SKU-' .. math.random(1, 1000) .. '","quantity":1}]}'
    return wrk.format("POST", ws .. "/wms/v1/reservations", { ["Content-Type"] = "application/json" }, body)
  end
end
response = function(status, headers, body)
  local class = math.floor(status / 100)
  if class >= 1 and class <= 5 then statuses[class] = statuses[class] + 1 end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,' ..
    '"p50_us":%d,"p99_us":%d,"max_us":%d}\\n', summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
`;

async function main() {
  const port = await freePort();
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('UNDERSTUDY_')));
  const argv = pinned(0, ['sh', '-c', `ulimit -n ${CONNECTIONS + 512} && exec "$@"`, 'sh', process.execPath, CLI, 'serve', '--port', String(port), '--seed', '42', '--data-dir', '', ...EXTRA_ARGS]);
  const server = spawn(argv[0], argv.slice(1), { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = [];
  const keep = (c) => tail.push(...c.toString().split('\n').filter(Boolean).slice(-20));
  server.stdout.on('data', keep);
  server.stderr.on('data', keep);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await new Promise((resolve, reject) => http.get(`${base}/__admin/health`, (res) => res.resume().on('end', resolve)).on('error', reject));
      break;
    } catch {
      if (i > 300) die(`the server did not start:\n${tail.join('\n')}`);
      await sleep(20);
    }
  }
  const rssBefore = rssMb(server.pid);
  log(`understudy on ${base} (pid ${server.pid}, ${canPin ? 'all threads on cpu0, load on cpu1' : 'unpinned'}), RSS ${rssBefore} MB`);
  log(`${CONNECTIONS} connections for ${DURATION_S} s: 70% inventory, 20% changes?limit=50, 10% reservations, 50 workspaces`);

  // the health probe: one keep-alive connection, the next probe 50 ms after each answer
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const probes = [];
  let probeFailures = 0;
  let probing = true;
  const probe = async () => {
    while (probing) {
      const t0 = performance.now();
      try {
        await new Promise((resolve, reject) => {
          const req = http.get(`${base}/__admin/health`, { agent }, (res) => res.resume().on('end', resolve).on('error', reject));
          req.on('error', reject);
          req.setTimeout(UNANSWERED_AFTER_S * 1000, () => req.destroy(new Error('timeout')));
        });
        probes.push(performance.now() - t0);
      } catch {
        probeFailures++;
      }
      await sleep(PROBE_EVERY_MS);
    }
  };

  const script = path.join(os.tmpdir(), `understudy-soak-${process.pid}.lua`);
  fs.writeFileSync(script, WRK_LUA);
  const wrkArgv = pinned(1, ['wrk', '-t1', `-c${CONNECTIONS}`, `-d${DURATION_S}s`, `--timeout`, `${UNANSWERED_AFTER_S}s`, '-s', script, base]);
  const wrk = spawn(wrkArgv[0], wrkArgv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  wrk.stdout.on('data', (c) => (out += c));
  wrk.stderr.on('data', (c) => (out += c));
  const probing$ = probe();
  await sleep(15_000);
  const rssAt15 = rssMb(server.pid);
  log(`RSS at 15 s: ${rssAt15} MB`);
  await new Promise((resolve) => wrk.on('exit', resolve));
  const rssAtEnd = rssMb(server.pid);
  probing = false;
  await probing$;
  agent.destroy();
  fs.rmSync(script, { force: true });

  const line = /WRKJSON (.*)/.exec(out);
  if (!line) die(`wrk gave no summary:\n${out}`);
  const w = JSON.parse(line[1]);
  const status = Object.fromEntries([...out.matchAll(/Non-2xx or 3xx responses: (\d+)/g)].map((m) => ['non2xx3xx', Number(m[1])]));
  const sorted = probes.sort((a, b) => a - b);
  const result = {
    at: new Date().toISOString(),
    connections: CONNECTIONS,
    durationS: DURATION_S,
    serveArgs: EXTRA_ARGS,
    requests: w.requests,
    rps: Math.round(w.requests / (w.duration_us / 1e6)),
    clientP50Ms: w.p50_us / 1000,
    clientP99Ms: w.p99_us / 1000,
    clientMaxMs: w.max_us / 1000,
    unansweredAfter30s: w.timeout,
    connectErrors: w.connect,
    readErrors: w.read,
    ...status,
    healthProbes: probes.length,
    healthFailures: probeFailures,
    healthP50Ms: percentile(sorted, 50),
    healthP99Ms: percentile(sorted, 99),
    healthMaxMs: sorted.at(-1) ?? null,
    rssBeforeMb: rssBefore,
    rssAt15sMb: rssAt15,
    rssAtEndMb: rssAtEnd,
    peakRssMb: rssMb(server.pid, 'VmHWM'),
  };
  // 5xx answers, from the server's own journals (the admin API sums what each workspace counted)
  const workspaces = await new Promise((resolve) =>
    http.get(`${base}/__admin/workspaces`, (res) => {
      let body = '';
      res.on('data', (c) => (body += c)).on('end', () => resolve(JSON.parse(body)));
    }),
  );
  let fiveXx = 0;
  for (const ws of workspaces.workspaces) {
    const info = await new Promise((resolve) =>
      http.get(`${base}/w/${ws.name}/__admin/workspace`, (res) => {
        let body = '';
        res.on('data', (c) => (body += c)).on('end', () => resolve(JSON.parse(body)));
      }),
    );
    fiveXx += info.counters.byStatus?.['5xx'] ?? 0;
  }
  result.fiveXx = fiveXx;
  server.kill('SIGTERM');

  const f = (v, d = 1) => (v === null || v === undefined ? '-' : Number(v).toFixed(d));
  console.log('');
  console.log(`requests ${result.requests} (${result.rps} req/s); 5xx ${result.fiveXx}; unanswered after ${UNANSWERED_AFTER_S} s ${result.unansweredAfter30s}; connect errors ${result.connectErrors}`);
  console.log(`client p50 ${f(result.clientP50Ms)} ms, p99 ${f(result.clientP99Ms)} ms, max ${f(result.clientMaxMs)} ms`);
  console.log(`health probe (${result.healthProbes} probes, ${result.healthFailures} failed): p50 ${f(result.healthP50Ms)} ms, p99 ${f(result.healthP99Ms)} ms, max ${f(result.healthMaxMs)} ms`);
  console.log(`RSS before ${result.rssBeforeMb} MB, at 15 s ${result.rssAt15sMb} MB, at ${DURATION_S} s ${result.rssAtEndMb} MB, peak ${result.peakRssMb} MB`);
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `soak-${result.at.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nresults written to ${path.relative(process.cwd(), file)}`);
}

main().catch((err) => die(err.stack ?? String(err)));
