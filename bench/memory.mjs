#!/usr/bin/env node
// Does a long-running understudy stay bounded? (issue #6: "months of uptime")
//
// Starts the built server (dist/, so `npm run build` first) in a child process with --expose-gc, from a config
// file with a modest journal and limits.objects, and drives it over HTTP from this process. The child answers
// "measure" messages by collecting garbage twice and reporting its memory (RSS, V8 heap, array buffers) and,
// for one workspace, how many reservations/shipments the WMS keeps. Measuring after gc() is what makes heap
// numbers comparable between steps; RSS is reported as the operating system sees it.
//
//   A. read load (GET inventory / items) on the default workspace until the journal ring stops growing, then
//      more of it: RSS and heap must stay flat once the ring is full.
//   B. write load on a fresh workspace whose journal is first filled the same way: orders of two lines,
//      three in four released by the client and one in four left to expire (reservationTtl 2s). Memory is
//      measured after every batch; the growth up to limits.objects divided by the objects kept is the cost per
//      live object, and past the limit (three times as many orders) memory must stop growing.
//
// Usage: npm run build && node bench/memory.mjs
// Env:   MEMORY_OBJECTS=10000 (limits.objects)  MEMORY_JOURNAL=8mb (limits.journalBytes)  MEMORY_CONCURRENCY=4
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
const OBJECTS = Number(process.env.MEMORY_OBJECTS ?? 10_000);
const JOURNAL = process.env.MEMORY_JOURNAL ?? '8mb';
const CONCURRENCY = Number(process.env.MEMORY_CONCURRENCY ?? 4);
const TTL_MS = 2_000;
const READ_ROUND = 4_000;
const FLAT_ROUNDS = 6;
const MB = 1024 * 1024;

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
  const wms = running.engine.systems.find((s) => s.name === 'wms');
  process.on('message', (message) => {
    if (message.type === 'stop') return void running.close(1_000).then(() => process.exit(0));
    // twice: the first pass may only finish what a concurrent marking started
    globalThis.gc();
    globalThis.gc();
    const memory = process.memoryUsage();
    const { workspace } = running.workspaces.lookup(message.workspace);
    const state = workspace.stateOf(wms);
    process.send({
      type: 'measured',
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      arrayBuffers: memory.arrayBuffers,
      journalEntries: workspace.journal.length,
      reservations: state.reservations.size,
      shipments: state.shipments.size,
      finished: state.retiredCount,
      feedAppended: state.changes.appendedLength,
    });
  });
  process.send({ type: 'listening', url: running.url });
}

// ---------------------------------------------------------------------------------------------------------------
// the load side

async function main() {
  if (!fs.existsSync(path.join(DIST, 'server.js'))) {
    console.error('memory: dist/ is missing; run `npm run build` first');
    process.exit(2);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'understudy-memory-'));
  const configFile = path.join(dir, 'understudy.yaml');
  fs.writeFileSync(
    configFile,
    [
      'seed: 42',
      `limits: { journalBytes: ${JOURNAL}, objects: ${OBJECTS} }`,
      `systems: { wms: { skus: 1000, warehouses: 3, reservationTtl: ${TTL_MS}ms } }`,
      '',
    ].join('\n'),
  );

  const server = fork(fileURLToPath(import.meta.url), ['--child', configFile], { execArgv: ['--expose-gc'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const replies = [];
  const waiting = [];
  server.on('message', (m) => (waiting.length > 0 ? waiting.shift()(m) : replies.push(m)));
  const next = () => new Promise((resolve) => (replies.length > 0 ? resolve(replies.shift()) : waiting.push(resolve)));
  server.on('exit', (code) => code !== 0 && code !== null && (console.error(`memory: server exited with ${code}`), process.exit(1)));

  const { url } = await next();
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const measure = async (workspace) => {
    server.send({ type: 'measure', workspace });
    return next();
  };

  console.log(`understudy memory bench: limits.objects ${OBJECTS}, journalBytes ${JOURNAL}, reservationTtl ${TTL_MS} ms, ${CONCURRENCY} connections`);
  const started = Date.now();

  // --- A: reads -------------------------------------------------------------------------------------------------
  console.log('\nA. read load (default workspace)');
  console.log('  round  requests  journal  rss MB  heap MB  buffers MB');
  const readRows = await readUntilFlat(url, agent, '', 'default', measure, (row) =>
    console.log(`  ${pad(row.round, 5)}  ${pad(row.requests, 8)}  ${pad(row.journalEntries, 7)}  ${mb(row.rss, 6)}  ${mb(row.heapUsed, 7)}  ${mb(row.arrayBuffers, 10)}`),
  );
  const afterFull = readRows.slice(readRows.findIndex((r) => r.full));
  const readSummary = {
    journalFullAfterRequests: afterFull[0].requests,
    requestsAfterFull: afterFull.at(-1).requests - afterFull[0].requests,
    rssGrowthAfterFullMb: round((afterFull.at(-1).rss - afterFull[0].rss) / MB),
    rssRangeAfterFullMb: round((Math.max(...afterFull.map((r) => r.rss)) - Math.min(...afterFull.map((r) => r.rss))) / MB),
    heapGrowthAfterFullMb: round((afterFull.at(-1).heapUsed - afterFull[0].heapUsed) / MB),
  };

  // --- B: writes ------------------------------------------------------------------------------------------------
  console.log('\nB. write load (workspace "soak"): its journal filled first, then orders of 2 lines, 3/4 released, 1/4 left to expire');
  await readUntilFlat(url, agent, '/w/soak', 'soak', measure, () => {});
  const base = await measure('soak');
  console.log('  orders  kept objects  finished  feed entries  rss MB  heap MB  heap+buffers / object');
  const writeRows = [];
  const batch = Math.max(500, Math.round(OBJECTS / 4));
  let orders = 0;
  while (orders < 3 * OBJECTS) {
    await writeOrders(url, agent, '/w/soak', orders, batch);
    orders += batch;
    const row = { orders, ...(await measure('soak')) };
    writeRows.push(row);
    printWriteRow(row, base);
  }
  // let the last holds expire (a request makes the WMS catch up), then measure once more
  await new Promise((resolve) => setTimeout(resolve, TTL_MS + 200));
  await get(url, agent, '/w/soak/wms/v1/inventory/SKU-1');
  const settled = { orders, ...(await measure('soak')) };
  writeRows.push(settled);
  printWriteRow(settled, base);

  const atLimit = writeRows.find((r) => r.finished >= OBJECTS) ?? writeRows.at(-1);
  const pastLimit = writeRows.slice(writeRows.indexOf(atLimit));
  const objectsAtLimit = atLimit.reservations + atLimit.shipments;
  const writeSummary = {
    bytesPerLiveObject: Math.round((atLimit.heapUsed + atLimit.arrayBuffers - base.heapUsed - base.arrayBuffers) / objectsAtLimit),
    objectsAtLimit,
    ordersAfterLimit: settled.orders - atLimit.orders,
    heapGrowthPastLimitMb: round((settled.heapUsed - atLimit.heapUsed) / MB),
    heapRangePastLimitMb: round((Math.max(...pastLimit.map((r) => r.heapUsed)) - Math.min(...pastLimit.map((r) => r.heapUsed))) / MB),
    rssGrowthPastLimitMb: round((settled.rss - atLimit.rss) / MB),
    maxKeptObjects: Math.max(...writeRows.map((r) => r.reservations + r.shipments)),
  };

  server.send({ type: 'stop' });
  agent.destroy();
  fs.rmSync(dir, { recursive: true, force: true });

  console.log('\nsummary');
  console.log(`  reads:  journal full after ${readSummary.journalFullAfterRequests} requests; over the next ${readSummary.requestsAfterFull}, ` +
    `RSS ${signed(readSummary.rssGrowthAfterFullMb)} MB (range ${readSummary.rssRangeAfterFullMb} MB), heap ${signed(readSummary.heapGrowthAfterFullMb)} MB`);
  console.log(`  writes: ${writeSummary.bytesPerLiveObject} bytes per live object (${writeSummary.objectsAtLimit} kept at the limit); ` +
    `over ${writeSummary.ordersAfterLimit} more orders heap ${signed(writeSummary.heapGrowthPastLimitMb)} MB (range ${writeSummary.heapRangePastLimitMb} MB), ` +
    `RSS ${signed(writeSummary.rssGrowthPastLimitMb)} MB; at most ${writeSummary.maxKeptObjects} objects kept`);
  console.log(`  took ${round((Date.now() - started) / 1000)} s`);
  console.log(JSON.stringify({ objects: OBJECTS, journalBytes: JOURNAL, reads: readSummary, writes: writeSummary }));
}

/** Read rounds until the journal stops growing, then FLAT_ROUNDS more; a row per round. */
async function readUntilFlat(url, agent, prefix, workspace, measure, print) {
  const rows = [];
  let requests = 0;
  let fullSince = -1;
  for (let round = 1; round <= 40; round++) {
    await runConcurrent(READ_ROUND, CONCURRENCY, (i) => get(url, agent, i % 5 === 0 ? `${prefix}/wms/v1/items?limit=20` : `${prefix}/wms/v1/inventory/SKU-${((requests + i) % 1000) + 1}`));
    requests += READ_ROUND;
    const row = { round, requests, ...(await measure(workspace)) };
    if (fullSince < 0 && rows.length > 0 && row.journalEntries <= rows.at(-1).journalEntries) fullSince = rows.length - 1;
    rows.push(row);
    if (fullSince >= 0) rows[fullSince].full = true;
    print(row);
    if (fullSince >= 0 && rows.length - 1 - fullSince >= FLAT_ROUNDS) break;
  }
  return rows;
}

/** Orders first..first+count-1: reserve two lines; release three in four, leave the fourth to expire. */
async function writeOrders(url, agent, prefix, first, count) {
  await runConcurrent(count, CONCURRENCY, async (i) => {
    const n = first + i;
    const lines = [
      { sku: `SKU-${(n % 1000) + 1}`, quantity: 1 },
      { sku: `SKU-${((n * 7 + 3) % 1000) + 1}`, quantity: 1 },
    ];
    const created = await send(url, agent, 'POST', `${prefix}/wms/v1/reservations`, { externalOrderId: `SOAK-${n}`, lines });
    if (created.status === 201 && n % 4 !== 3) await send(url, agent, 'DELETE', `${prefix}/wms/v1/reservations/${created.body.id}`);
  });
}

function get(url, agent, route) {
  return send(url, agent, 'GET', route);
}

function printWriteRow(row, base) {
  const objects = row.reservations + row.shipments;
  const perObject = objects === 0 ? '-' : String(Math.round((row.heapUsed + row.arrayBuffers - base.heapUsed - base.arrayBuffers) / objects));
  console.log(`  ${pad(row.orders, 6)}  ${pad(objects, 12)}  ${pad(row.finished, 8)}  ${pad(row.feedAppended, 12)}  ${mb(row.rss, 6)}  ${mb(row.heapUsed, 7)}  ${pad(perObject, 21)}`);
}

function round(n) {
  return Math.round(n * 10) / 10;
}

function signed(n) {
  return n >= 0 ? `+${n}` : String(n);
}
