#!/usr/bin/env node
// How long does the report card take over a full journal, and how much memory? (issue #10: 1,000,000 journal
// entries in under 5 s and under 300 MB.)
//
// The built server (dist/, so `npm run build` first) runs in this process with a journal sized for ENTRIES, on a
// ManualClock, under a chaos profile with an outage window and 503s carrying Retry-After. Traffic goes through the
// real pipeline (Engine.handle and complete: routing, chaos, validation, handlers, the journal's encoder) without
// sockets, so a million entries are made in a minute instead of the quarter hour HTTP would take; each request
// moves the clock 5 ms. CLIENTS clients each work through orders the way the reference clients do: reads, a
// reservation or a charge retried up to 4 times after a failure with the same key, change-feed polls, single-
// record stock adjustments. Then GET /__admin/report is asked over HTTP, as a user would, and timed; memory is
// sampled every 50 ms while it runs (RSS, and V8 heap + array buffers above what the full journal already took).
//
// Usage: npm run build && node --expose-gc bench/report.mjs
// Env:   ENTRIES=1000000  CLIENTS=200
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (file) => pathToFileURL(path.join(REPO, 'dist', file)).href;
const { startServer } = await import(dist('server.js'));
const { ManualClock } = await import(dist('util/clock.js'));

const ENTRIES = Number(process.env.ENTRIES ?? 1_000_000);
const CLIENTS = Number(process.env.CLIENTS ?? 200);
const MB = 1024 * 1024;

const PROFILE = `
name: report-bench
rules:
  - id: shedding
    match: { system: [wms, payments], method: POST }
    faults:
      - status: { code: 503, probability: 0.15, retryAfter: 2s }
  - id: down
    match: { system: payments }
    when: { after: 30m, for: 10m }
    faults:
      - outage: { mode: 503, retryAfter: 30s }
`;

const clock = new ManualClock(Date.UTC(2026, 11, 2, 9, 0, 0));
const server = await startServer({
  port: 0,
  clock,
  seed: 10,
  limits: { journalEntries: ENTRIES, journalBytes: 4096 * MB, journalTotalBytes: 4096 * MB, journalBodyBytes: 4096 },
});
const engine = server.engine;
const workspace = server.workspaces.default;

async function admin(method, route, body) {
  const res = await fetch(`${server.url}${route}`, { method, body, headers: body ? { 'content-type': 'application/yaml' } : {} });
  return { status: res.status, text: await res.text() };
}

const activated = await admin('PUT', '/__admin/chaos', PROFILE);
if (activated.status !== 200) throw new Error(`profile refused: ${activated.text}`);

/** one request through the pipeline, as the transport would make it; resolves with the status */
async function send(client, method, p, body, headers = {}) {
  const [pathOnly, rawQuery = ''] = p.split('?');
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const all = { 'x-understudy-client': client, ...(payload ? { 'content-type': 'application/json' } : {}), ...headers };
  const exchange = engine.start({
    workspace,
    prefix: '',
    method,
    path: pathOnly,
    rawQuery,
    headers: all,
    rawHeaders: Object.entries(all).flat(),
    body: payload,
    remoteAddress: '127.0.0.1',
  });
  const reply = await engine.handle(exchange);
  let text = reply.body;
  if (text && typeof text !== 'string' && !Buffer.isBuffer(text)) {
    const parts = [];
    for await (const chunk of text) parts.push(String(chunk));
    text = parts.join('');
  }
  const bytes = text === undefined ? 0 : Buffer.byteLength(text);
  engine.complete(exchange, reply, { bytes, body: text });
  clock.advance(5);
  return reply.status;
}

const failed = (s) => s === 0 || s >= 500 || s === 429;

let made = 0;
const started = performance.now();
let order = 0;
const cursors = new Map();
while (made < ENTRIES) {
  for (let c = 0; c < CLIENTS && made < ENTRIES; c++) {
    const client = `client-${c}`;
    const n = ++order;
    const kind = n % 5;
    if (kind === 0) {
      await send(client, 'GET', `/wms/v1/inventory/SKU-${(n % 50) + 1}`);
      made++;
    } else if (kind === 1) {
      const body = { externalOrderId: `ORD-${n}`, lines: [{ sku: `SKU-${(n % 50) + 1}`, quantity: 1 }] };
      for (let attempt = 0; attempt < 4 && made < ENTRIES; attempt++) {
        made++;
        if (!failed(await send(client, 'POST', '/wms/v1/reservations', body))) break;
      }
    } else if (kind === 2) {
      const body = { amount: 1999, currency: 'usd', payment_method: 'pm_card_visa', description: `Order ${n}`, metadata: { order_id: String(n) } };
      for (let attempt = 0; attempt < 4 && made < ENTRIES; attempt++) {
        made++;
        if (!failed(await send(client, 'POST', '/payments/v1/charges', body, { 'idempotency-key': `key-${n}` }))) break;
      }
    } else if (kind === 3) {
      const cursor = cursors.get(client);
      await send(client, 'GET', `/wms/v1/changes?limit=5${cursor ? `&cursor=${cursor}` : ''}`);
      made++;
    } else {
      await send(client, 'POST', '/wms/v1/stock-adjustments', { adjustments: [{ sku: `SKU-${(n % 50) + 1}`, warehouseId: 'WH-RTM-01', delta: 1, reason: 'receipt' }] });
      made++;
    }
  }
  if (made % 100_000 < CLIENTS) process.stderr.write(`\r${made} entries made`);
}
engine.flush();
const fillS = (performance.now() - started) / 1000;
process.stderr.write(`\r${workspace.journal.length} entries in the journal (made in ${fillS.toFixed(0)} s)\n`);

globalThis.gc?.();
const base = process.memoryUsage();
let peakRss = base.rss;
let peakHeap = base.heapUsed + base.arrayBuffers;
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed + m.arrayBuffers);
}, 50);
const t0 = performance.now();
const res = await admin('GET', '/__admin/report');
const reportMs = performance.now() - t0;
clearInterval(sampler);
if (res.status !== 200) throw new Error(`report answered ${res.status}: ${res.text.slice(0, 500)}`);
const report = JSON.parse(res.text);
const checks = report.clients.reduce((n, c) => n + c.checks.length, 0);

console.log(`report over ${workspace.journal.length.toLocaleString()} journal entries, ${report.clients.length} clients, ${checks} checks, ${report.outages.length} outage window(s):`);
console.log(`  time           ${(reportMs / 1000).toFixed(2)} s (target < 5 s)`);
console.log(`  memory         +${((peakHeap - base.heapUsed - base.arrayBuffers) / MB).toFixed(0)} MB heap and buffers at peak, +${((peakRss - base.rss) / MB).toFixed(0)} MB RSS (target < 300 MB)`);
console.log(`  journal        ${(workspace.journal.memoryBytes / MB).toFixed(0)} MB of ring before the report (not counted above)`);
console.log(`  report.json    ${(Buffer.byteLength(res.text) / 1024).toFixed(0)} KB`);
await server.close(100);
