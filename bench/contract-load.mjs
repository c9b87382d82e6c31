#!/usr/bin/env node
// `npm run bench:load`: how long does understudy take to load a large third-party contract and answer it?
//
// The document is STAPI, the Star Trek API (test/fixtures/third-party/stapi.openapi.yaml: 169 operations, 600 KB of
// YAML), which issue #14 calls "the 120-operation document"; its target: loading it and answering its first request
// under 1 s. Each run spawns the built server, `node dist/cli.js serve --contract <stapi>@/stapi --port 0
// --data-dir ''` (memory only: no data directory is touched), reads the port from its "listening on" line, and sends
// GET /stapi/v1/rest/animal?uid=ANMA0000001 (a generated answer; asked again only while the port refuses, and any
// status but 200 fails the run); the time is from spawn to that answer. The server is then stopped (SIGTERM).
//
// Two ways, 5 runs each, the median reported:
//  - warm: the document remembered from an earlier start, read and found valid (contract.ts; a temporary
//    directory of the bench's own, primed by one run not counted) — every start after the first on unchanged files;
//  - cold: a fresh temporary directory for each run, so the YAML is read and checked against the OpenAPI
//    specification each time — the first start on a new or changed document.
// Baselines, in the same run and interleaved with it: `node -e ''` spawned and waited for (Node's own start-up on
// this machine), and the same server without the contract answering GET /wms/v1/inventory/SKU-1 (what STAPI adds
// is the difference).
// This script builds nothing (`npm run bench:load` builds first). Results go to the console and to
// bench/results/contract-load-<UTC stamp>.json.
//
// Env: BENCH_RUNS=5

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(REPO, 'dist', 'cli.js');
const STAPI = path.join(REPO, 'test', 'fixtures', 'third-party', 'stapi.openapi.yaml');
const RESULTS_DIR = path.join(REPO, 'bench', 'results');
const PROBE = '/stapi/v1/rest/animal?uid=ANMA0000001';
const TARGET_MS = 1000;
const DEADLINE_MS = 60_000;
const RUNS = (() => {
  const raw = process.env.BENCH_RUNS;
  const n = raw === undefined || raw === '' ? 5 : Number(raw);
  if (!Number.isInteger(n) || n <= 0) die(`BENCH_RUNS=${raw} is not a positive integer`);
  return n;
})();

const log = (message) => console.log(`bench:load: ${message}`);
function die(message) {
  console.error(`bench:load: ${message}`);
  process.exit(1);
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function get(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
  });
}

/** ms from spawning `node -e ''` to its exit */
function bareNode() {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(performance.now() - started));
  });
}

/** ms from spawning the server to the probe's first 200; `tmp` is the TMPDIR it is given; `contract: false` serves none */
function serverRun(tmp, { contract = true } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const probe = contract ? PROBE : '/wms/v1/inventory/SKU-1';
    const child = spawn(process.execPath, [CLI, 'serve', ...(contract ? ['--contract', `${STAPI}@/stapi`] : []), '--port', '0', '--data-dir', ''], {
      cwd: REPO,
      env: { ...process.env, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let done = false;
    const finish = (error, ms) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      child.kill('SIGTERM');
      child.once('exit', () => (error ? reject(error) : resolve(ms)));
    };
    const deadline = setTimeout(() => finish(new Error(`no answer within ${DEADLINE_MS / 1000} s:\n${out}${err}`)), DEADLINE_MS);
    child.stderr.on('data', (chunk) => (err += chunk));
    child.stdout.on('data', async (chunk) => {
      const before = out;
      out += chunk;
      const listening = /listening on (http:\/\/\S+)/.exec(out);
      if (!listening || /listening on (http:\/\/\S+)/.test(before)) return;
      for (;;) {
        try {
          const status = await get(listening[1] + probe);
          if (status === 200) return finish(undefined, performance.now() - started);
          return finish(new Error(`GET ${probe} answered ${status}`));
        } catch {
          if (done) return;
          // not accepting yet: ask again
        }
      }
    });
    child.on('exit', (code) => {
      if (!done) {
        done = true;
        clearTimeout(deadline);
        reject(new Error(`the server exited (${code}) before answering:\n${out}${err}`));
      }
    });
  });
}

async function main() {
  if (!fs.existsSync(CLI)) die(`${CLI} does not exist: run npm run bench:load (it builds first)`);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'understudy-bench-load-'));
  try {
    const baseline = [];
    const withoutContract = [];
    const warm = [];
    const cold = [];
    const warmTmp = path.join(scratch, 'warm');
    fs.mkdirSync(warmTmp);
    await serverRun(warmTmp); // primes the remembered verdict; not counted
    for (let i = 0; i < RUNS; i++) {
      // interleaved, so a neighbour's burst of load touches all three alike
      baseline.push(await bareNode());
      withoutContract.push(await serverRun(warmTmp, { contract: false }));
      warm.push(await serverRun(warmTmp));
      const coldTmp = path.join(scratch, `cold-${i}`);
      fs.mkdirSync(coldTmp);
      cold.push(await serverRun(coldTmp));
    }
    const result = {
      document: path.relative(REPO, STAPI),
      probe: PROBE,
      runs: RUNS,
      medianMs: { nodeBaseline: Math.round(median(baseline)), withoutContract: Math.round(median(withoutContract)), warm: Math.round(median(warm)), cold: Math.round(median(cold)) },
      samplesMs: { nodeBaseline: baseline.map(Math.round), withoutContract: withoutContract.map(Math.round), warm: warm.map(Math.round), cold: cold.map(Math.round) },
      targetMs: TARGET_MS,
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg().map((l) => Number(l.toFixed(2))), node: process.version },
      at: new Date().toISOString(),
    };
    const { nodeBaseline, withoutContract: bare, warm: w, cold: c } = result.medianMs;
    log(`node -e '' (baseline): ${nodeBaseline} ms; understudy without the contract, to its first answer: ${bare} ms`);
    log(`STAPI loaded and answered, warm (document remembered): ${w} ms ${w < TARGET_MS ? '< ' : '>= '}${TARGET_MS} ms target ${w < TARGET_MS ? '(met)' : '(MISSED)'}; STAPI's share ${w - bare} ms`);
    log(`STAPI loaded and answered, cold (YAML read and checked against the specification): ${c} ms; STAPI's share ${c - bare} ms`);
    const samples = Object.entries(result.samplesMs).map(([k, v]) => `${k} ${v.join(', ')}`).join('; ');
    log(`samples (ms): ${samples}; load average ${result.machine.loadavg.join(' ')}`);
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, `contract-load-${result.at.replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    log(`written to ${path.relative(REPO, file)}`);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err) => die(err.stack ?? String(err)));
