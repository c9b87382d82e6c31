#!/usr/bin/env node
// What does the payment gateway keep per charge? (issue #9: charges, refunds and ledger lines are never pruned)
//
// Built like bench/memory.mjs: the built server (dist/, so `npm run build` first) runs in a child process with
// --expose-gc, memory only, from a config file with a modest journal; this process drives it over HTTP. The child
// answers "measure" messages by collecting garbage twice and reporting its memory (RSS, V8 heap, array buffers)
// and what the gateway keeps (charges, ledger lines, stored Idempotency-Keys, change entries).
//
//   0. the journal is filled first with replays (the same key and body every time: nothing is kept but the
//      journal entry, which has the size of a new charge's), so that its ring is full before anything is measured
//      and its growth is not counted as the charges'.
//   A. CHARGES charges, each with a fresh Idempotency-Key (the README's example charge, a new metadata.order_id):
//      each keeps a charge, a ledger line, a change entry and the key with its stored first answer.
//   B. CHARGES more charges without a key: a charge, a ledger line and a change entry, no stored answer.
// Memory is measured after every batch. The growth of heap + array buffers over a phase divided by the charges it
// made is the cost per charge kept; RSS growth per charge is printed beside it (the OS's view: it includes heap
// the collector keeps in reserve).
//
// Keys and change entries are bounded by limits.objects (100,000 by default; this bench sets it above what it
// makes, so nothing is dropped): past that many charges a charge costs what phase B measures plus nothing for its key.
//
// Usage: npm run build && node bench/payments-memory.mjs
// Env:   CHARGES=30000 (per phase)  MEMORY_JOURNAL=8mb (limits.journalBytes)  MEMORY_CONCURRENCY=4
// Keep it light: it is meant to run once on a shared machine, not in a loop.

import { mb, pad, runConcurrent, send } from './lib/memory-probe.mjs';
import { fork } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(REPO, 'dist');
const CHARGES = Number(process.env.CHARGES ?? 30_000);
const JOURNAL = process.env.MEMORY_JOURNAL ?? '8mb';
const CONCURRENCY = Number(process.env.MEMORY_CONCURRENCY ?? 4);
const BATCH = Math.max(1_000, Math.round(CHARGES / 6));
const FILL_ROUND = 4_000;
const MB = 1024 * 1024;
const ROUTE = '/payments/v1/charges';

if (process.argv[2] === '--child') await child(process.argv[3]);
else await main();

// ---------------------------------------------------------------------------------------------------------------
// the server side

async function child(configFile) {
  const { readConfigFile, resolveConfig } = await import(pathToFileURL(path.join(DIST, 'config', 'config.js')).href);
  const { startServer } = await import(pathToFileURL(path.join(DIST, 'server.js')).href);
  // memory only: this measures memory, and must not leave a data directory behind
  const config = resolveConfig(readConfigFile(configFile), { port: 0, dataDir: '' });
  const running = await startServer(config);
  await running.ready;
  const payments = running.engine.systems.find((s) => s.name === 'payments');
  // the load side is gone (killed, or failed): do not linger
  process.on('disconnect', () => process.exit(1));
  process.on('message', (message) => {
    if (message.type === 'stop') return void running.close(1_000).then(() => process.exit(0));
    // twice: the first pass may only finish what a concurrent marking started
    globalThis.gc();
    globalThis.gc();
    const memory = process.memoryUsage();
    const { workspace } = running.workspaces.lookup('default');
    const state = workspace.stateOf(payments);
    process.send({
      type: 'measured',
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      arrayBuffers: memory.arrayBuffers,
      journalEntries: workspace.journal.length,
      charges: state.charges.length,
      ledger: state.ledger.length,
      keys: state.keys.size,
      changes: state.changes.size,
    });
  });
  process.send({ type: 'listening', url: running.url });
}

// ---------------------------------------------------------------------------------------------------------------
// the load side

async function main() {
  if (!fs.existsSync(path.join(DIST, 'server.js'))) {
    console.error('payments-memory: dist/ is missing; run `npm run build` first');
    process.exit(2);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'understudy-payments-memory-'));
  const configFile = path.join(dir, 'understudy.yaml');
  // limits.objects above what is made: no key or change entry is dropped while measuring
  fs.writeFileSync(configFile, ['seed: 42', `limits: { journalBytes: ${JOURNAL}, objects: ${Math.max(100_000, 4 * CHARGES)} }`, ''].join('\n'));

  const server = fork(fileURLToPath(import.meta.url), ['--child', configFile], { execArgv: ['--expose-gc'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const replies = [];
  const waiting = [];
  server.on('message', (m) => (waiting.length > 0 ? waiting.shift()(m) : replies.push(m)));
  const next = () => new Promise((resolve) => (replies.length > 0 ? resolve(replies.shift()) : waiting.push(resolve)));
  server.on('exit', (code) => code !== 0 && code !== null && (console.error(`payments-memory: server exited with ${code}`), process.exit(1)));

  const { url } = await next();
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const measure = async () => {
    server.send({ type: 'measure' });
    return next();
  };

  console.log(`understudy payment gateway memory bench: ${CHARGES} charges with a key, then ${CHARGES} without; journalBytes ${JOURNAL}, ${CONCURRENCY} connections`);
  const started = Date.now();

  // --- 0: fill the journal with replays ----------------------------------------------------------------------------
  console.log('\n0. replays of one charge until the journal is full');
  const replayed = await post(url, agent, body('replayed'), 'memory-replay');
  if (replayed.status !== 201) throw new Error(`the first charge answered ${replayed.status}: ${JSON.stringify(replayed.body)}`);
  let previous = await measure();
  // full once a round adds no entry (the count then wobbles as whole chunks are dropped); two more rounds after that
  for (let round = 1, fullSince = 0; round <= 20 && !(fullSince && round > fullSince + 2); round++) {
    const t0 = Date.now();
    await runConcurrent(FILL_ROUND, CONCURRENCY, () => expect(post(url, agent, body('replayed'), 'memory-replay'), 201));
    const ms = Date.now() - t0;
    const row = await measure();
    console.log(`  round ${pad(round, 2)}: journal ${pad(row.journalEntries, 6)} entries, charges ${row.charges}, heap ${mb(row.heapUsed, 6)} MB, buffers ${mb(row.arrayBuffers, 6)} MB (${Math.round((1000 * FILL_ROUND) / ms)} req/s)`);
    if (!fullSince && row.journalEntries <= previous.journalEntries) fullSince = round;
    previous = row;
  }

  // --- A and B -----------------------------------------------------------------------------------------------------
  const phases = [];
  for (const [label, keyed] of [['A. charges with a fresh Idempotency-Key each', true], ['B. charges without a key', false]]) {
    console.log(`\n${label}`);
    console.log('  charges  ledger    keys  changes  journal  rss MB  heap MB  buffers MB  heap+buffers B / charge  rss B / charge');
    const base = await measure();
    const rows = [];
    for (let made = 0; made < CHARGES; ) {
      const count = Math.min(BATCH, CHARGES - made);
      const first = made;
      await runConcurrent(count, CONCURRENCY, (i) => expect(post(url, agent, body(`${keyed ? 'K' : 'N'}-${first + i}`), keyed ? `memory-${first + i}` : undefined), 201));
      made += count;
      const row = await measure();
      rows.push(row);
      const kept = row.charges - base.charges;
      console.log(`  ${pad(row.charges, 7)}  ${pad(row.ledger, 6)}  ${pad(row.keys, 6)}  ${pad(row.changes, 7)}  ${pad(row.journalEntries, 7)}  ${mb(row.rss, 6)}  ${mb(row.heapUsed, 7)}  ${mb(row.arrayBuffers, 10)}  ` +
        `${pad(Math.round(grown(base, row) / kept), 23)}  ${pad(Math.round((row.rss - base.rss) / kept), 14)}`);
    }
    const last = rows.at(-1);
    const kept = last.charges - base.charges;
    phases.push({
      keyed,
      charges: kept,
      keysAdded: last.keys - base.keys,
      bytesPerCharge: Math.round(grown(base, last) / kept),
      rssBytesPerCharge: Math.round((last.rss - base.rss) / kept),
      journalEntriesGrowth: last.journalEntries - base.journalEntries,
      // the journal's ring lives in array buffers; its entry count wobbles as whole chunks are dropped
      buffersGrowthBytes: last.arrayBuffers - base.arrayBuffers,
    });
  }

  server.send({ type: 'stop' });
  agent.destroy();
  fs.rmSync(dir, { recursive: true, force: true });

  const [a, b] = phases;
  console.log('\nsummary');
  console.log(`  a charge with an Idempotency-Key: ${kb(a.bytesPerCharge)} KB of heap + buffers (${kb(a.rssBytesPerCharge)} KB RSS) per charge kept, over ${a.charges} charges`);
  console.log(`  a charge without a key:           ${kb(b.bytesPerCharge)} KB of heap + buffers (${kb(b.rssBytesPerCharge)} KB RSS) per charge kept, over ${b.charges} charges`);
  console.log(`  so a stored key and its first answer cost about ${kb(a.bytesPerCharge - b.bytesPerCharge)} KB (at most limits.objects keys are kept, each idempotencyKeyTtl after its first use)`);
  if (Math.max(a.buffersGrowthBytes, b.buffersGrowthBytes) > MB) console.log(`  note: array buffers (the journal's ring) still grew during the phases (${mb(a.buffersGrowthBytes, 0)} / ${mb(b.buffersGrowthBytes, 0)} MB): part of the growth is the journal's`);
  console.log(`  took ${Math.round((Date.now() - started) / 1000)} s`);
  console.log(JSON.stringify({ charges: CHARGES, journalBytes: JOURNAL, withKey: a, withoutKey: b }));
}

function body(orderId) {
  return { amount: 4999, currency: 'usd', payment_method: 'pm_card_visa', metadata: { order_id: orderId } };
}

/** heap + array buffers grown from `base` to `row` */
function grown(base, row) {
  return row.heapUsed + row.arrayBuffers - base.heapUsed - base.arrayBuffers;
}

async function expect(promise, status) {
  const r = await promise;
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
}

function post(url, agent, json, key) {
  return send(url, agent, 'POST', ROUTE, json, key === undefined ? {} : { 'idempotency-key': key });
}

function kb(bytes) {
  return (bytes / 1024).toFixed(2);
}
