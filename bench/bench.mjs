#!/usr/bin/env node
// `npm run bench`: how fast is understudy next to a bare node:http server, on this machine, in this run?
//
// For each scenario it starts the built server (`node dist/cli.js serve --port P --seed 42 --data-dir ...`),
// measures the time from spawn to the first successful response, takes the response body and content-type, then
// warms up and loads the server. Next it starts bench/baseline-server.mjs serving exactly those bytes, and loads it
// the same way. Only one server runs at a time; servers are pinned to cpu0 and the load generator to cpu1 (taskset)
// when the machine allows it. The load generator is wrk when it is on PATH (exact percentiles through a small lua
// hook), else autocannon, run as its own process. Reported per server: req/s, p50, p99, errors and non-2xx answers,
// peak RSS (VmHWM, read after the load), server CPU; plus the understudy/baseline req/s ratio. Results go to the
// console and to bench/results/<UTC stamp>.json.
//
// Where state lives: every understudy run is given its data directory explicitly, so nothing is ever written to
// the default `.understudy` in the current directory. The scenarios measured before durable state existed keep
// state in memory only (`--data-dir ''`), so their numbers stay comparable with earlier runs; the durable ones get a
// fresh temporary directory (under os.tmpdir(), removed after the run; its size after the load is recorded), with
// `durability: process` (the default) or, from a generated config file, `durability: power` (fsync every commit).
//
// Scenarios (--list prints them):
//   inventory                    GET /wms/v1/inventory/SKU-1, memory-only
//   changes-50                   GET the change feed's 50-record page, memory-only
//   delay-100ms, delay-100ms-c1000   GET under a chaos profile adding 100 ms, at 50 and 1,000 connections, memory-only
//   inventory-durable            `inventory` with a durable data dir (the journal is persisted in 250 ms batches)
//   reservations-memory          POST /wms/v1/reservations, a new externalOrderId per request, one line of one unit
//                                of a random SKU-1..1000; memory-only. Needs wrk (a lua `request` function builds
//                                each body); skipped with autocannon. Before the load the stock of every SKU in
//                                WH-RTM-01 is raised by 100,000 (two stock-adjustment requests): the seeded stock
//                                (about 524,000 units, 46 SKUs under 50) runs out within seconds and answers 409.
//                                After the load the reserved units are compared with the 2xx answers counted.
//   reservations-durable         the same with a durable data dir, durability: process
//   reservations-durable-power   the same with durability: power
//   charge-get                   GET /payments/v1/charges/{id} of the one charge made before the load (by the sample
//                                POST below, with an Idempotency-Key), memory-only
//   charges-memory               POST /payments/v1/charges {"amount":4999,"currency":"usd","payment_method":"pm_card_visa",
//                                "metadata":{"order_id":"<n>"}} with a fresh Idempotency-Key (and order id) per request,
//                                so every request makes a charge, a ledger line and a stored first answer; memory-only;
//                                wrk only. After the load the ledger (GET /payments/v1/ledger, paged by 100) is counted:
//                                its charge lines, less the sample's, against the 2xx answers counted, and no key twice.
//                                Keys beyond limits.objects (100,000 by default) are dropped oldest first; charges and
//                                ledger lines are not.
//   charges-durable              the same with a durable data dir, durability: process
//   charges-replay               POST /payments/v1/charges with the sample's Idempotency-Key and body on every request:
//                                the replay path (201, Idempotent-Replayed: true, the first answer again); memory-only;
//                                wrk only. After the load the ledger must still hold the sample's one line, and one more
//                                replay must carry Idempotent-Replayed: true and the sample's body.
//   erp-get-customer             POST /erp/soap GetCustomer (issue #11), memory-only; wrk only
//   erp-odata-invoice-lines      GET /erp/odata/v4/InvoiceLines?$filter=InvoiceId eq '0090004711'&$top=50 (issue #12):
//                                one invoice's 100 lines of the 1,000,000 seeded (the default config), read through the
//                                InvoiceId index (the filter pins it; the other 999,900 lines are never built), first 50
//   erp-odata-line-filter        GET /erp/odata/v4/InvoiceLines?$filter=InvoiceLineId eq 123456: the key as an indexed
//                                equality filter (a collection of one)
//   erp-odata-line-key           GET /erp/odata/v4/InvoiceLines(123456): the same line read by key (a single entity)
//                                The three are memory-only; each one's first 200 (the start-up) is on its own route, so it
//                                includes seeding the ERP's base. Issue #12's targets: p50 <= 10 ms, start-up < 1 s.
//                                The unindexed contains() scan, the walk of 100,000 rows by next links (v4, v4 with
//                                $count, v2 JSON, v2 Atom), RSS after it and start-up alone are bench/odata.mjs's.
// The baseline for the POST scenarios answers the POST (after reading its body) with the same fixed 201 body.
// A "durability" section after the table compares each durable scenario with its memory-only twin from the same run
// and placement (durable/memory req/s, p99, non-2xx) against the durable-state issue's targets.
//
// Two ways of placing a server (BENCH_PIN, both by default; each scenario runs once per way, the baseline too):
//   all   every thread of the server on cpu0 (taskset at exec: V8's GC and compiler helper threads and libuv's
//         pool share the core with the event loop), the way a one-core container runs it;
//   main  only the main thread pinned to cpu0 after start; the helper threads V8 started with float over both
//         cores, so garbage collection and compilation partly run beside the event loop (and beside wrk).
// The load generator is always on cpu1. The threads' affinity is read back from /proc and recorded.
//
// Usage: npm run bench [-- --scenario NAME ...] [-- --list]
//        e.g. npm run bench -- --scenario inventory --scenario inventory-durable   (durable vs memory GET)
//             npm run bench -- --scenario reservations-memory --scenario reservations-durable --scenario reservations-durable-power
//             npm run bench -- --scenario charge-get --scenario charges-memory --scenario charges-durable --scenario charges-replay
//             npm run bench -- --scenario erp-odata-invoice-lines --scenario erp-odata-line-filter --scenario erp-odata-line-key
// Env:   BENCH_DURATION=10 (s, measured)  BENCH_WARMUP=3 (s)  BENCH_CONNECTIONS=50 (scenarios without their own)
//        BENCH_LOADGEN=wrk|autocannon (default: wrk if installed)
//        BENCH_PIN=all,main (placements to run, in that order)
//        BENCH_QUIET_WAIT=30 (s to wait for an idle machine before each load; 0 = do not wait)
// Restarts with a long write log are measured by bench/restart.mjs (npm run bench:restart); memory per kept
// reservation by bench/memory.mjs, per kept charge by bench/payments-memory.mjs.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { canPin, commandExists, cpuSeconds, directoryBytes, freePort, machineBusySeconds, peakRssMb, threadAffinity } from './lib/proc.mjs';
import { reservationsLua } from './lib/wrk-lua.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(REPO, 'dist', 'cli.js');
const BASELINE = path.join(REPO, 'bench', 'baseline-server.mjs');
const AUTOCANNON = path.join(REPO, 'node_modules', 'autocannon', 'autocannon.js');
const RESULTS_DIR = path.join(REPO, 'bench', 'results');

const DURATION_S = positiveNumber('BENCH_DURATION', 10);
const WARMUP_S = positiveNumber('BENCH_WARMUP', 3, true);
const DEFAULT_CONNECTIONS = positiveNumber('BENCH_CONNECTIONS', 50);
const QUIET_WAIT_S = positiveNumber('BENCH_QUIET_WAIT', 30, true);
const QUIET_MAX_CORES = 0.2;
const SEED = 42;
const STARTUP_POLL_MS = 10;
const PLACEMENTS = (process.env.BENCH_PIN ?? 'all,main').split(',').map((p) => p.trim()).filter(Boolean);
for (const p of PLACEMENTS) if (!['all', 'main'].includes(p)) die(`BENCH_PIN=${process.env.BENCH_PIN}: use all, main or all,main`);
const STARTUP_DEADLINE_MS = 30_000;

/**
 * What to measure. Add scenarios here; each runs understudy and the baseline back to back.
 *  name             --scenario NAME selects it
 *  method           GET (default) or POST; a POST scenario needs `writes` and runs with wrk only
 *  route            path loaded on both servers (the baseline serves understudy's answer on it)
 *  readyRoute       GET path polled for the first 200 at start-up (default: route)
 *  before           GET scenarios: a write load (WRITE_LOADS) whose prepare and sample run before the load; the
 *                   route may then use `{sampleId}`, the id in the sample's answer (e.g. the charge it made)
 *  writes           POST scenarios: which request generator (WRITE_LOADS), what to prepare and check
 *  store            'memory' (default: --data-dir ''), 'process' or 'power' (a fresh temporary data dir with that
 *                   durability)
 *  versus           durable scenarios: { scenario, minRatio, goal }: the memory-only scenario it is compared with
 *                   (same run, same placement) in the durability section, and the issue's target for the ratio
 *  serverArgs       extra `understudy serve` arguments (e.g. a chaos profile)
 *  config           a config file's text, written to a temporary file and given with --config
 *  headers          async (base) => headers every request of the load carries (e.g. a bearer token fetched
 *                   from the server once it answers); the baseline gets the same headers
 *  baselineDelayMs  delay the baseline adds before answering, to mirror a delay the profile injects
 *  connections      concurrent connections (default BENCH_CONNECTIONS)
 *  targets          goals from the issues (minRatio, minRps, maxP50Ms, maxP99Ms, maxP99AboveBaselineMs, maxRssMb, maxStartupMs),
 *                   checked and printed for placement `all` only, the stricter one (not enforced: the bench always
 *                   exits 0 when it ran)
 */
/** the WMS behind OAuth, one client (inventory-oauth) */
const OAUTH_CONFIG = [
  'systems:',
  '  wms: { auth: oauth }',
  'auth:',
  '  tokenTtl: 1d',
  '  clients: [ { id: bench, secret: bench-secret, grants: [client_credentials], scopes: [wms.read, wms.write] } ]',
  '',
].join('\n');

/** a client_credentials token of the bench client */
async function benchToken(base) {
  const r = await request(`${base}/oauth/token`, {
    method: 'POST',
    text: 'grant_type=client_credentials&client_id=bench&client_secret=bench-secret',
    contentType: 'application/x-www-form-urlencoded',
  });
  if (r.status !== 200) throw new BenchError(`the token endpoint answered ${r.status}: ${r.body.toString().slice(0, 300)}`);
  return JSON.parse(r.body.toString()).access_token;
}

const SCENARIOS = [
  {
    name: 'inventory',
    route: '/wms/v1/inventory/SKU-1',
    serverArgs: [],
    baselineDelayMs: 0,
    // issue #2, "Performance"; issue #6: >= 0.60 of bare node:http with every thread on one core (stretch 0.70)
    targets: { minRatio: 0.6, maxP99Ms: 5, maxRssMb: 150, maxStartupMs: 400 },
  },
  // issue #6: the change feed's 50-record page (about 26 KB of JSON), the heaviest read a batch sync makes
  {
    name: 'changes-50',
    route: '/wms/v1/changes?limit=50',
    serverArgs: [],
    baselineDelayMs: 0,
  },
  // issue #3, "Performance": delay accuracy under load, and many held requests at once
  {
    name: 'delay-100ms',
    route: '/wms/v1/inventory/SKU-1',
    serverArgs: ['--profile', 'bench-delay-100ms'],
    baselineDelayMs: 100,
    connections: 50,
    targets: { maxP99AboveBaselineMs: 2 }, // issue #6: at most 2 ms above bare node:http holding its reply 100 ms
  },
  {
    name: 'delay-100ms-c1000',
    route: '/wms/v1/inventory/SKU-1',
    serverArgs: ['--profile', 'bench-delay-100ms'],
    baselineDelayMs: 100,
    connections: 1000,
    targets: { minRps: 9000, maxP99AboveBaselineMs: 5 }, // issue #6: at most 5 ms above bare node:http at 1,000
  },
  // issue #13: the same read behind OAuth (a bearer token verified on every call: cached after its first RS256
  // check, then its workspace, expiry, revocation and scopes), next to `inventory` without auth
  {
    name: 'inventory-oauth',
    route: '/wms/v1/inventory/SKU-1',
    readyRoute: '/.well-known/openid-configuration',
    serverArgs: [],
    baselineDelayMs: 0,
    config: OAUTH_CONFIG,
    headers: async (base) => ({ authorization: `Bearer ${await benchToken(base)}` }),
  },
  // issue #14: a generated answer of a user's contract (examples/vendor.openapi.yaml: a list generated from its
  // schema, no example) — "at least 60% of the WMS inventory GET's throughput in the same run": run it with
  // `--scenario inventory --scenario vendor-generated` and compare the two rps
  {
    name: 'vendor-generated',
    route: '/vendor/orders?status=accepted',
    serverArgs: ['--contract', 'examples/vendor.openapi.yaml@/vendor'],
    baselineDelayMs: 0,
  },
  // durable state: "GET throughput unchanged within noise", "journal persistence costing <= 10% of GET throughput"
  {
    name: 'inventory-durable',
    route: '/wms/v1/inventory/SKU-1',
    serverArgs: [],
    baselineDelayMs: 0,
    store: 'process',
    versus: { scenario: 'inventory', minRatio: 0.9, goal: 'GET throughput unchanged within noise; journal persistence costs <= 10%' },
  },
  // durable state: "reservation POST throughput with durability on >= 50% of memory-only"
  {
    name: 'reservations-memory',
    method: 'POST',
    route: '/wms/v1/reservations',
    readyRoute: '/wms/v1/inventory/SKU-1',
    writes: 'reservations',
    serverArgs: [],
    baselineDelayMs: 0,
  },
  {
    name: 'reservations-durable',
    method: 'POST',
    route: '/wms/v1/reservations',
    readyRoute: '/wms/v1/inventory/SKU-1',
    writes: 'reservations',
    store: 'process',
    serverArgs: [],
    baselineDelayMs: 0,
    versus: { scenario: 'reservations-memory', minRatio: 0.5, goal: 'reservation POST throughput with durability on >= 50% of memory-only' },
  },
  {
    name: 'reservations-durable-power',
    method: 'POST',
    route: '/wms/v1/reservations',
    readyRoute: '/wms/v1/inventory/SKU-1',
    writes: 'reservations',
    store: 'power',
    serverArgs: [],
    baselineDelayMs: 0,
    versus: { scenario: 'reservations-memory', minRatio: 0.5, goal: 'reservation POST throughput with durability on >= 50% of memory-only' },
  },
  // issue #9: the payment gateway. No performance targets were set; the durable pair is held to the reservations' bar
  {
    name: 'charge-get',
    route: '/payments/v1/charges/{sampleId}',
    readyRoute: '/payments/v1/ledger?limit=1',
    before: 'charges',
    serverArgs: [],
    baselineDelayMs: 0,
  },
  {
    name: 'charges-memory',
    method: 'POST',
    route: '/payments/v1/charges',
    readyRoute: '/payments/v1/ledger?limit=1',
    writes: 'charges',
    serverArgs: [],
    baselineDelayMs: 0,
  },
  {
    name: 'charges-durable',
    method: 'POST',
    route: '/payments/v1/charges',
    readyRoute: '/payments/v1/ledger?limit=1',
    writes: 'charges',
    store: 'process',
    serverArgs: [],
    baselineDelayMs: 0,
    versus: { scenario: 'charges-memory', minRatio: 0.5, goal: 'the reservations\' bar, durable POST >= 50% of memory-only; issue #9 set none for charges' },
  },
  {
    name: 'charges-replay',
    method: 'POST',
    route: '/payments/v1/charges',
    readyRoute: '/payments/v1/ledger?limit=1',
    writes: 'charge-replays',
    serverArgs: [],
    baselineDelayMs: 0,
  },
  // issue #11: GetCustomer through the full pipeline (safe XML reading, schema validation, the handler, the
  // response written from the schema) at >= 10,000 req/s on this machine
  {
    name: 'erp-get-customer',
    method: 'POST',
    route: '/erp/soap',
    readyRoute: '/erp/soap?wsdl',
    writes: 'soap-get-customer',
    serverArgs: [],
    baselineDelayMs: 0,
    targets: { minRps: 10_000 },
  },
  // issue #12: the ERP's OData 4.0 service on 1,000,000 InvoiceLines (the default config). A key or an indexed equality
  // filter with $top=50 answers at p50 <= 10 ms. Under 50 connections the p50 is mostly queueing (about 50 / req/s),
  // so here the target asks for ~5,000 req/s; bench/odata.mjs measures the same reads one at a time, unloaded. The
  // route is written as a client's URL encoder sends it (space %20, quote %27: node's URL parser encodes a bare ' in
  // a query, wrk does not), and the baseline answers that exact path. The first 200 on the OData route is the
  // start-up (< 1 s, seeding the ERP's base included).
  {
    name: 'erp-odata-invoice-lines',
    route: '/erp/odata/v4/InvoiceLines?$filter=InvoiceId%20eq%20%270090004711%27&$top=50',
    serverArgs: [],
    baselineDelayMs: 0,
    targets: { maxP50Ms: 10, maxStartupMs: 1000 },
  },
  {
    name: 'erp-odata-line-filter',
    route: '/erp/odata/v4/InvoiceLines?$filter=InvoiceLineId%20eq%20123456',
    serverArgs: [],
    baselineDelayMs: 0,
    targets: { maxP50Ms: 10, maxStartupMs: 1000 },
  },
  {
    name: 'erp-odata-line-key',
    route: '/erp/odata/v4/InvoiceLines(123456)',
    serverArgs: [],
    baselineDelayMs: 0,
    targets: { maxP50Ms: 10, maxStartupMs: 1000 },
  },
];

/** Units added to every SKU's stock in the first warehouse before a reservation load (see the header). */
const RESERVATION_TOP_UP = 100_000;
const SKUS = 1000;

/** The ERP's GetCustomer as Apex sends it (SALESFORCE.md §7): env prefix, an empty Header, a default xmlns. */
const GET_CUSTOMER_ENVELOPE =
  '<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><env:Header /><env:Body><GetCustomer xmlns="urn:understudy:erp:v1"><CustomerId>0001000042</CustomerId></GetCustomer></env:Body></env:Envelope>';

/** charges-replay: the key of the sample, sent again on every request */
const REPLAY_KEY = 'bench-replay';

/**
 * Write loads, by a scenario's `writes`:
 *  lua       wrk's `request` side: a new request each time (wrk's first script argument is a tag unique to the
 *            run, so that the warm-up, the measured run and the baseline never repeat an id)
 *  sample    the one request made before the load; understudy's answer to it is what the baseline serves
 *  sampleHeaders  headers sent with the sample (e.g. its Idempotency-Key)
 *  status    the status that answer must have
 *  prepare   run on understudy before the sample (e.g. stock top-up)
 *  check     run on understudy after the load, given (base, 2xx counted, connections, runs, the sample's answer):
 *            { ..., summary, note } where summary says what was checked and note what looks wrong, if anything
 */
const WRITE_LOADS = {
  reservations: {
    // a new externalOrderId each time, one unit of a random SKU (lib/wrk-lua.mjs)
    lua: reservationsLua(SKUS),
    sample: () => ({ externalOrderId: `bench-sample-${process.pid}`, lines: [{ sku: 'SKU-1', quantity: 1 }] }),
    status: 201,
    async prepare(base) {
      const { body } = await request(`${base}/wms/v1/warehouses`);
      const first = JSON.parse(body.toString()).warehouses[0].warehouseId;
      for (let from = 1; from <= SKUS; from += 500) {
        const adjustments = [];
        for (let i = from; i < from + 500 && i <= SKUS; i++) adjustments.push({ sku: `SKU-${i}`, warehouseId: first, delta: RESERVATION_TOP_UP, reason: 'receipt' });
        const r = await request(`${base}/wms/v1/stock-adjustments`, { method: 'POST', json: { adjustments } });
        const applied = r.status === 200 ? JSON.parse(r.body.toString()).applied : 0;
        if (applied !== adjustments.length) throw new BenchError(`stock top-up: ${r.status}, ${applied} of ${adjustments.length} applied: ${r.body.toString().slice(0, 300)}`);
      }
      return { topUp: `${RESERVATION_TOP_UP} units for each of ${SKUS} SKUs in ${first}` };
    },
    /** every 2xx reserved one unit: the units reserved, less the sample's, against the 2xx wrk counted */
    async check(base, acknowledged, connections, runs) {
      const csv = (await request(`${base}/wms/v1/exports/inventory?format=csv`, { timeoutMs: 30_000 })).body.toString().trim().split(/\r?\n/);
      const column = csv[0].split(',').indexOf('reserved');
      const reserved = csv.slice(1).reduce((sum, line) => sum + Number(line.split(',')[column]), 0) - 1;
      // requests wrk sent but stopped waiting for are still made (at most one per connection per run)
      const unseen = reserved - acknowledged;
      const note = unseen < 0
        ? `${-unseen} acknowledged reservations hold no stock`
        : unseen > connections * runs ? `${unseen} more units reserved than 2xx answers counted (more than the ${connections * runs} in flight when wrk stopped)` : undefined;
      return { reservedUnits: reserved, acknowledged2xx: acknowledged, summary: `units reserved ${reserved.toLocaleString('en-US')} for ${acknowledged.toLocaleString('en-US')} 2xx answers counted (warm-up and measured run)`, note };
    },
  },
  charges: {
    lua: `
-- POST a charge with a new Idempotency-Key and order id each time: <run tag>-<thread>-<counter>
local threads = 0
function setup(thread)
  thread:set('tid', threads)
  threads = threads + 1
end
local prefix = ''
local counter = 0
function init(args)
  prefix = (args[1] or 'bench') .. '-' .. tid .. '-'
end
function request()
  counter = counter + 1
  local n = prefix .. counter
  return wrk.format('POST', nil, { ['content-type'] = 'application/json', ['idempotency-key'] = n },
    '{"amount":4999,"currency":"usd","payment_method":"pm_card_visa","metadata":{"order_id":"' .. n .. '"}}')
end
`,
    sample: () => chargeBody('sample'),
    sampleHeaders: () => ({ 'idempotency-key': `bench-sample-${process.pid}` }),
    status: 201,
    /** every 2xx made one charge and its ledger line: the ledger's charge lines, less the sample's, against the 2xx counted */
    async check(base, acknowledged, connections, runs) {
      const ledger = await readLedger(base);
      const charged = ledger.charges - 1;
      const unseen = charged - acknowledged;
      const notes = [];
      if (unseen < 0) notes.push(`${-unseen} acknowledged charges have no ledger line`);
      else if (unseen > connections * runs) notes.push(`${unseen} more ledger lines than 2xx answers counted (more than the ${connections * runs} in flight when wrk stopped)`);
      if (ledger.repeatedKeys > 0) notes.push(`${ledger.repeatedKeys} Idempotency-Keys charged more than once`);
      if (ledger.other > 0) notes.push(`${ledger.other} ledger lines that are not charges`);
      return {
        ledgerCharges: charged,
        acknowledged2xx: acknowledged,
        ledgerPages: ledger.pages,
        ledgerReadMs: ledger.ms,
        summary: `ledger charge lines ${charged.toLocaleString('en-US')} (sample excluded; ${ledger.pages.toLocaleString('en-US')} pages read in ${(ledger.ms / 1000).toFixed(1)} s) for ${acknowledged.toLocaleString('en-US')} 2xx answers counted (warm-up and measured run)`,
        note: notes.join('; ') || undefined,
      };
    },
  },
  // a SOAP read: the same envelope every time (wrk builds the request once); nothing to check afterwards
  'soap-get-customer': {
    lua: `
wrk.method = 'POST'
wrk.body = '${GET_CUSTOMER_ENVELOPE}'
wrk.headers['content-type'] = 'text/xml; charset=utf-8'
wrk.headers['soapaction'] = '"urn:understudy:erp:v1/GetCustomer"'
`,
    sampleText: () => GET_CUSTOMER_ENVELOPE,
    sampleContentType: 'text/xml; charset=utf-8',
    sampleHeaders: () => ({ soapaction: '"urn:understudy:erp:v1/GetCustomer"' }),
    status: 200,
  },
  'charge-replays': {
    // the same key and body every time: wrk builds the request once
    lua: `
wrk.method = 'POST'
wrk.body = '${JSON.stringify(chargeBody('replayed'))}'
wrk.headers['content-type'] = 'application/json'
wrk.headers['idempotency-key'] = '${REPLAY_KEY}'
`,
    sample: () => chargeBody('replayed'),
    sampleHeaders: () => ({ 'idempotency-key': REPLAY_KEY }),
    status: 201,
    /** replays make nothing: the ledger still holds the sample's line alone, and a replay is marked and identical */
    async check(base, acknowledged, _connections, _runs, sample) {
      const ledger = await readLedger(base);
      const again = await request(`${base}/payments/v1/charges`, { method: 'POST', json: chargeBody('replayed'), headers: { 'idempotency-key': REPLAY_KEY } });
      const notes = [];
      if (ledger.charges !== 1 || ledger.other !== 0) notes.push(`the ledger holds ${ledger.charges} charge lines and ${ledger.other} others, not the sample's one`);
      if (again.status !== 201 || again.headers['idempotent-replayed'] !== 'true') notes.push(`a replay after the load answered ${again.status} with Idempotent-Replayed: ${again.headers['idempotent-replayed']}`);
      if (!again.body.equals(sample.body)) notes.push('a replay after the load differs from the first answer');
      return {
        ledgerCharges: ledger.charges,
        acknowledged2xx: acknowledged,
        summary: `ledger charge lines ${ledger.charges} after ${acknowledged.toLocaleString('en-US')} 2xx replays counted (warm-up and measured run); a replay after the load: ${again.status}, Idempotent-Replayed: ${again.headers['idempotent-replayed']}, ${again.body.equals(sample.body) ? 'the first answer\'s bytes' : 'other bytes'}`,
        note: notes.join('; ') || undefined,
      };
    },
  },
};

/** The sample request's body: JSON (`sample`), or text with its content type (`sampleText`, `sampleContentType`). */
function sampleBody(sampler) {
  return sampler.sampleText ? { text: sampler.sampleText(), contentType: sampler.sampleContentType } : { json: sampler.sample() };
}

/** The bench's charge (the README's example), `orderId` in its metadata. */
function chargeBody(orderId) {
  return { amount: 4999, currency: 'usd', payment_method: 'pm_card_visa', metadata: { order_id: orderId } };
}
/**
 * Reads the whole payment ledger, 100 lines a page over one kept-alive connection: { charges, other, repeatedKeys,
 * pages, ms } (charge lines, lines of other types, keys found on more than one charge line).
 */
async function readLedger(base) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const started = performance.now();
  const keys = new Set();
  let charges = 0;
  let other = 0;
  let repeatedKeys = 0;
  let pages = 0;
  let after;
  try {
    for (;;) {
      const r = await request(`${base}/payments/v1/ledger?limit=100${after ? `&starting_after=${after}` : ''}`, { agent, timeoutMs: 30_000 });
      if (r.status !== 200) throw new BenchError(`reading the ledger: ${r.status} ${r.body.toString().slice(0, 300)}`);
      const page = JSON.parse(r.body.toString());
      pages++;
      for (const line of page.data) {
        if (line.type !== 'charge') {
          other++;
          continue;
        }
        charges++;
        if (line.idempotency_key !== null) {
          if (keys.has(line.idempotency_key)) repeatedKeys++;
          keys.add(line.idempotency_key);
        }
      }
      if (!page.has_more || page.data.length === 0) break;
      after = page.data.at(-1).id;
    }
  } finally {
    agent.destroy();
  }
  return { charges, other, repeatedKeys, pages, ms: performance.now() - started };
}

// ---------------------------------------------------------------------------------------------------------------
// small helpers

function positiveNumber(name, fallback, zeroAllowed = false) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (!zeroAllowed && value === 0)) die(`${name}=${raw} is not a valid number`);
  return value;
}

/** An expected failure: reported by its message alone. */
class BenchError extends Error {}

function die(message) {
  console.error(`bench: ${message}`);
  killAll();
  process.exit(1);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Resolves to the promise's value, or to null when it has not settled within `ms` (the timer does not linger). */
async function within(promise, ms) {
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, ms, null)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
const log = (message) => console.log(`bench: ${message}`);



/**
 * One request with a fresh connection unless `agent` (GET unless `method`; `json` is sent as an application/json body,
 * `headers` added); resolves { status, headers, body } or rejects on a socket error or after `timeoutMs`.
 */
function request(url, { method = 'GET', json, text, contentType = 'application/json', headers: extra = {}, agent = false, timeoutMs = 2000 } = {}) {
  return new Promise((resolve, reject) => {
    const payload = text !== undefined ? Buffer.from(text) : json === undefined ? undefined : Buffer.from(JSON.stringify(json));
    const headers = { ...(payload ? { 'content-type': contentType, 'content-length': payload.length } : {}), ...extra };
    const req = http.request(url, { method, headers, agent }, (res) => {
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



/** CPU seconds (user + system) a live process has used (Linux), or null. */

// ---------------------------------------------------------------------------------------------------------------
// the machine: CPU pinning, file descriptors, load generator

const machine = (() => {
  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  const limits = spawnSync('sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' }).stdout.trim().split('\n');
  const toLimit = (v) => (v === 'unlimited' ? Infinity : Number(v));
  return { cpus, canPin, fdSoft: toLimit(limits[0]), fdHard: toLimit(limits[1]) };
})();

function chooseLoadgen() {
  const wanted = process.env.BENCH_LOADGEN;
  if (wanted && !['wrk', 'autocannon'].includes(wanted)) die(`BENCH_LOADGEN=${wanted}: use wrk or autocannon`);
  const hasWrk = commandExists('wrk');
  const hasAutocannon = fs.existsSync(AUTOCANNON);
  const hint = 'install wrk (Debian/Ubuntu: apt-get install -y wrk; macOS: brew install wrk) or run npm ci for autocannon';
  if (wanted === 'wrk' && !hasWrk) die(`BENCH_LOADGEN=wrk but wrk is not on PATH: ${hint}`);
  if (wanted === 'autocannon' && !hasAutocannon) die(`BENCH_LOADGEN=autocannon but ${AUTOCANNON} is missing: run npm ci`);
  if (wanted) return wanted;
  if (hasWrk) return 'wrk';
  if (hasAutocannon) {
    log(`wrk is not on PATH, using autocannon (latency in whole ms); for exact percentiles ${hint.replace(' or run npm ci for autocannon', '')}`);
    return 'autocannon';
  }
  die(`no load generator: ${hint}`);
}

/**
 * argv prefixed so the process runs on `cpu` and may open `fds` descriptors. Both wrappers exec, so the pid we
 * get back is the pid of the real program (needed for /proc/<pid>/status).
 */
function placed(argv, cpu, fds, placement = 'all') {
  let wrapped = argv;
  if (fds > machine.fdSoft) {
    const limit = Math.min(fds, machine.fdHard);
    if (limit < fds) log(`warning: ${fds} file descriptors wanted, hard limit is ${machine.fdHard}`);
    wrapped = ['sh', '-c', `ulimit -n ${limit} && exec "$@"`, 'sh', ...wrapped];
  }
  if (machine.canPin && placement === 'all') wrapped = ['taskset', '-c', String(cpu), ...wrapped];
  return wrapped;
}

/** For placement `main`: pins the main thread only (taskset -p acts on one thread id, the pid's own). */
function pinMainThread(pid, cpu) {
  if (machine.canPin) spawnSync('taskset', ['-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}


// wrk prints its summary through this hook as one JSON line (latencies in microseconds)
const WRK_REPORT_LUA = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;
/** wrk scripts by write load ('' for GET): the load's `request` side and the report hook, in one file each */
const wrkScripts = new Map();
function wrkScriptFor(writes = '') {
  let file = wrkScripts.get(writes);
  if (file === undefined) {
    file = path.join(os.tmpdir(), `understudy-bench-${process.pid}${writes ? `-${writes}` : ''}.lua`);
    fs.writeFileSync(file, `${writes ? WRITE_LOADS[writes].lua : ''}${WRK_REPORT_LUA}`);
    wrkScripts.set(writes, file);
  }
  return file;
}
/** loads run so far: each wrk run gets its own tag (first script argument), so generated ids never repeat */
let loadRuns = 0;


/**
 * Runs the load generator for `seconds`; resolves to { rps, p50Ms, p99Ms, requests, errors, non2xx,
 * bytesPerResponse, loadgenCpuS }. The load generator's CPU time is sampled while it runs (its /proc entry is gone
 * once it exits), so it may miss the last quarter second.
 */
function load(loadgen, url, connections, seconds, writes, headers = {}) {
  if (writes && loadgen !== 'wrk') throw new Error('write loads need wrk');
  const headerArgs = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const argv = loadgen === 'wrk'
    ? ['wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...headerArgs, '-s', wrkScriptFor(writes), url, '--', `${process.pid}-${++loadRuns}`]
    : [process.execPath, AUTOCANNON, '--json', '-c', String(connections), '-d', String(seconds), ...headerArgs, url];
  return new Promise((resolve, reject) => {
    const final = placed(argv, 1, connections + 64);
    const child = track(spawn(final[0], final.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let loadgenCpuS = null;
    const sampler = setInterval(() => (loadgenCpuS = cpuSeconds(child.pid) ?? loadgenCpuS), 250);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(sampler);
      if (code !== 0) return reject(new BenchError(`${loadgen} exited ${code}: ${stderr.trim() || stdout.trim()}`));
      try {
        resolve({ ...(loadgen === 'wrk' ? parseWrk(stdout) : parseAutocannon(stdout)), loadgenCpuS });
      } catch (error) {
        reject(new BenchError(`cannot read ${loadgen} output (${error.message}):\n${stdout}\n${stderr}`));
      }
    });
  });
}

function parseWrk(stdout) {
  const line = stdout.split('\n').find((l) => l.startsWith('WRKJSON '));
  if (!line) throw new Error('no WRKJSON line');
  const r = JSON.parse(line.slice(8));
  return {
    requests: r.requests,
    rps: r.requests / (r.duration_us / 1e6),
    p50Ms: r.p50_us / 1000,
    p99Ms: r.p99_us / 1000,
    maxMs: r.max_us / 1000,
    errors: r.connect + r.read + r.write + r.timeout,
    non2xx: r.status,
    bytesPerResponse: r.requests ? Math.round(r.bytes / r.requests) : null,
  };
}

function parseAutocannon(stdout) {
  const r = JSON.parse(stdout.trim().split('\n').at(-1));
  const answered = r['1xx'] + r['2xx'] + r['3xx'] + r['4xx'] + r['5xx'];
  return {
    requests: answered,
    rps: answered / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    bytesPerResponse: answered ? Math.round(r.throughput.total / answered) : null,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// servers

const children = new Set();
function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}
function killAll() {
  for (const child of children) child.kill('SIGKILL');
}

/** Starts a server process on cpu0 (see placements); keeps the tail of its output (and drains it, so it never blocks). */
function startServer(label, argv, connections, { env = process.env, stdin = 'ignore', placement = 'all' } = {}) {
  const final = placed(argv, 0, connections + 256, placement);
  const spawnedAt = performance.now();
  const child = track(spawn(final[0], final.slice(1), { cwd: REPO, env, stdio: [stdin, 'pipe', 'pipe'] }));
  if (placement === 'main') pinMainThread(child.pid, 0);
  // warnings: lines that say something went wrong (kept apart from the tail, at most 20); state: where state lives
  const server = { label, child, spawnedAt, tail: [], outputBytes: 0, warnings: [], state: undefined };
  const keep = (chunk) => {
    server.outputBytes += chunk.length;
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
  server.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', (error) => resolve({ code: null, signal: `spawn error: ${error.message}` }));
  });
  return server;
}

/**
 * Polls `url` every STARTUP_POLL_MS until it answers `status` (a GET unless `method`, with `json` as its body);
 * returns the response and ms since spawn.
 */
async function firstSuccess(server, url, { method = 'GET', json, text, contentType, headers, status = 200 } = {}) {
  for (;;) {
    const gone = await within(server.exited, 0);
    if (gone) throw new BenchError(`${server.label} exited (${gone.code ?? gone.signal}) before answering:\n  ${server.tail.join('\n  ')}`);
    try {
      const response = await request(url, { method, json, text, contentType, headers });
      if (response.status === status) return { response, startupMs: performance.now() - server.spawnedAt };
    } catch {
      // not listening yet
    }
    if (performance.now() - server.spawnedAt > STARTUP_DEADLINE_MS) {
      throw new BenchError(`${server.label} gave no ${status} on ${method} ${url} within ${STARTUP_DEADLINE_MS / 1000} s:\n  ${server.tail.join('\n  ')}`);
    }
    await sleep(STARTUP_POLL_MS);
  }
}

async function stopServer(server) {
  const asked = performance.now();
  server.child.kill('SIGTERM');
  const result = await within(server.exited, 10_000);
  if (!result) {
    server.child.kill('SIGKILL');
    await server.exited;
    return { exitCode: null, note: 'killed: no exit within 10 s of SIGTERM' };
  }
  return { exitCode: result.code, signal: result.signal ?? undefined, stopMs: Math.round(performance.now() - asked) };
}

/**
 * Other sessions may share the machine: before loading a server, wait (at most QUIET_WAIT_S) until the machine is
 * nearly idle, measured over one-second windows.
 */
async function waitForQuiet() {
  if (machineBusySeconds() === null || QUIET_WAIT_S === 0) return;
  const deadline = performance.now() + QUIET_WAIT_S * 1000;
  let busyCores = 0;
  do {
    const before = machineBusySeconds();
    await sleep(1000);
    busyCores = machineBusySeconds() - before;
    if (busyCores <= QUIET_MAX_CORES) return;
  } while (performance.now() < deadline);
  log(`  warning: the machine is busy (${(busyCores * 100).toFixed(0)}% of a core used by other processes); measuring anyway`);
}

/** Warm-up, measured load, then peak RSS and CPU use of the server process. */
async function measure(server, loadgen, url, connections, writes, headers) {
  await waitForQuiet();
  let warmup;
  if (WARMUP_S > 0) {
    log(`  ${server.label}: warm-up ${WARMUP_S} s at ${connections} connections`);
    const w = await load(loadgen, url, connections, WARMUP_S, writes, headers);
    warmup = { requests: w.requests, errors: w.errors, non2xx: w.non2xx };
  }
  log(`  ${server.label}: measuring ${DURATION_S} s at ${connections} connections`);
  const cpuBefore = cpuSeconds(server.child.pid);
  const busyBefore = machineBusySeconds();
  const startedAt = performance.now();
  const { loadgenCpuS, ...result } = await load(loadgen, url, connections, DURATION_S, writes, headers);
  const affinity = threadAffinity(server.child.pid);
  const cpuAfter = cpuSeconds(server.child.pid);
  const busyAfter = machineBusySeconds();
  const elapsedS = (performance.now() - startedAt) / 1000;
  // CPU as % of one core over the measured run: the server, the load generator, and everything else on the machine
  // (other processes disturb the numbers: rerun when "other" is high)
  const serverCpuS = cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null;
  const otherCpuS = serverCpuS !== null && loadgenCpuS !== null && busyBefore !== null && busyAfter !== null
    ? Math.max(0, busyAfter - busyBefore - serverCpuS - loadgenCpuS) : null;
  const pct = (seconds) => (seconds === null ? null : (100 * seconds) / elapsedS);
  return {
    ...result,
    peakRssMb: peakRssMb(server.child.pid),
    threadsOnCpus: affinity,
    serverCpuPct: pct(serverCpuS),
    loadgenCpuPct: pct(loadgenCpuS),
    otherCpuPct: pct(otherCpuS),
    warmup,
  };
}

/** Temporary data directories in use (removed after their run, or on the way out). */
const tempDirs = new Set();
function removeTempDirs() {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/**
 * Where a scenario's understudy keeps its state: `--data-dir ''` (memory only), or a fresh temporary directory,
 * with a generated config file for `durability: power`. Returns the extra serve arguments and the directories.
 */
function stateArgs(scenario) {
  const store = scenario.store ?? 'memory';
  if (store === 'memory') return { args: ['--data-dir', ''], store };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'understudy-bench-state-'));
  tempDirs.add(tmp);
  const dataDir = path.join(tmp, 'data');
  const args = ['--data-dir', dataDir];
  if (store === 'power') {
    const config = path.join(tmp, 'understudy.yaml');
    fs.writeFileSync(config, 'durability: power\n');
    args.push('--config', config);
  } else if (store !== 'process') die(`scenario ${scenario.name}: store ${store}? use memory, process or power`);
  return { args, store, tmp, dataDir };
}

async function runScenario(scenario, loadgen, placement) {
  const connections = scenario.connections ?? DEFAULT_CONNECTIONS;
  const method = scenario.method ?? 'GET';
  const writes = scenario.writes ? WRITE_LOADS[scenario.writes] : undefined;
  if (method !== 'GET' && !writes) die(`scenario ${scenario.name}: a ${method} scenario needs a write load`);
  const state = stateArgs(scenario);
  log(`scenario ${scenario.name} (placement ${placement}): ${method} ${scenario.route}, ${connections} connections, state ${state.store === 'memory' ? 'in memory' : `in ${state.dataDir} (durability ${state.store})`}${scenario.serverArgs.length ? `, serve ${scenario.serverArgs.join(' ')}` : ''}`);

  // understudy, with a clean environment so UNDERSTUDY_* variables of the caller do not change what is measured
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('UNDERSTUDY_')));
  const port = await freePort();
  let configArgs = [];
  if (scenario.config) {
    const file = path.join(os.tmpdir(), `understudy-bench-${process.pid}-${scenario.name}.yaml`);
    fs.writeFileSync(file, scenario.config);
    configArgs = ['--config', file];
  }
  const argv = [process.execPath, CLI, 'serve', '--host', '127.0.0.1', '--port', String(port), '--seed', String(SEED), ...state.args, ...configArgs, ...scenario.serverArgs];
  const understudy = startServer('understudy', argv, connections, { env, placement });
  const base = `http://127.0.0.1:${port}`;
  let first = await firstSuccess(understudy, `${base}${scenario.readyRoute ?? scenario.route}`);
  const headers = scenario.headers ? await scenario.headers(base) : undefined;
  if (scenario.readyRoute && headers) first = { ...first, response: await request(`${base}${scenario.route}`, { headers }) };
  const startupMs = first.startupMs;
  let response = first.response;
  let prepared;
  let sample;
  let route = scenario.route;
  const sampler = writes ?? (scenario.before ? WRITE_LOADS[scenario.before] : undefined);
  if (sampler) {
    // the write scenario's own route, or the before-load's (which must be the POST whose answer names the object)
    const sampleRoute = writes ? scenario.route : SCENARIOS.find((s) => s.writes === scenario.before).route;
    prepared = await sampler.prepare?.(base);
    sample = await request(`${base}${sampleRoute}`, { method: 'POST', ...sampleBody(sampler), headers: sampler.sampleHeaders?.() });
    if (sample.status !== sampler.status) throw new BenchError(`understudy answered the sample POST ${sampleRoute} with ${sample.status}, not ${sampler.status}: ${sample.body.toString().slice(0, 300)}`);
    if (writes) response = sample;
    else {
      route = scenario.route.replace('{sampleId}', JSON.parse(sample.body.toString()).id);
      response = await request(`${base}${route}`);
      if (response.status !== 200) throw new BenchError(`understudy answered GET ${route} with ${response.status}: ${response.body.toString().slice(0, 300)}`);
    }
  }
  const contentType = response.headers['content-type'] ?? 'application/octet-stream';
  const url = `${base}${route}`;
  log(`  understudy: first 200 after ${startupMs.toFixed(0)} ms${sampler ? `; sample POST answered ${sample.status}` : ''}; ${method} ${route} answers ${response.status} (${response.body.length} bytes, ${contentType})`);
  if (understudy.state) log(`  understudy: ${understudy.state}`);
  if (headers && response.status !== 200) throw new BenchError(`understudy answered GET ${route} with ${response.status}: ${response.body.toString().slice(0, 300)}`);
  const u = await measure(understudy, loadgen, url, connections, scenario.writes, headers);
  let checked;
  if (writes?.check) {
    const acknowledged = [u.warmup, u].filter(Boolean).reduce((sum, r) => sum + r.requests - r.non2xx, 0);
    checked = await writes.check(base, acknowledged, connections, u.warmup ? 2 : 1, sample);
    if (checked.note) log(`  warning: ${checked.note}`);
  }
  const uStop = await stopServer(understudy);
  if (uStop.exitCode !== 0) log(`  warning: understudy did not exit 0 on SIGTERM (${JSON.stringify(uStop)})`);
  let dataDirBytes;
  if (state.tmp) {
    dataDirBytes = fs.existsSync(state.dataDir) ? directoryBytes(state.dataDir) : null;
    fs.rmSync(state.tmp, { recursive: true, force: true });
    tempDirs.delete(state.tmp);
  }
  for (const line of understudy.warnings) log(`  understudy said: ${line}`);

  // the baseline, serving the same bytes
  const basePort = await freePort();
  const baseArgv = [process.execPath, BASELINE, String(basePort), route, contentType, String(scenario.baselineDelayMs ?? 0), method, String(response.status)];
  const baseline = startServer('node:http', baseArgv, connections, { stdin: 'pipe', placement });
  baseline.child.stdin.end(response.body);
  const baseUrl = `http://127.0.0.1:${basePort}${route}`;
  const baseFirst = await firstSuccess(baseline, baseUrl, { method, ...(writes ? sampleBody(writes) : {}), headers: writes?.sampleHeaders?.(), status: response.status });
  if (!baseFirst.response.body.equals(response.body) || baseFirst.response.headers['content-type'] !== contentType) {
    throw new BenchError('the baseline does not return the same body and content-type as understudy');
  }
  const b = await measure(baseline, loadgen, baseUrl, connections, scenario.writes, headers);
  await stopServer(baseline);

  return {
    name: scenario.name,
    placement,
    method,
    route,
    connections,
    store: state.store,
    serverArgs: [...state.args, ...scenario.serverArgs],
    baselineDelayMs: scenario.baselineDelayMs ?? 0,
    status: response.status,
    bodyBytes: response.body.length,
    contentType,
    understudy: {
      ...u,
      startupMs: Math.round(startupMs),
      shutdown: uStop,
      outputBytes: understudy.outputBytes,
      state: understudy.state,
      warnings: understudy.warnings,
      dataDirBytes,
      prepared,
      checked,
    },
    baseline: { ...b, startupMs: Math.round(baseFirst.startupMs) },
    ratio: u.rps / b.rps,
    targets: scenario.targets && placement === 'all' ? checkTargets(scenario.targets, u, b, startupMs, u.rps / b.rps) : undefined,
  };
}

function checkTargets(targets, u, b, startupMs, ratio) {
  const checks = [];
  if (targets.maxP99AboveBaselineMs !== undefined) {
    const above = u.p99Ms - b.p99Ms;
    checks.push({ what: `p99 at most ${targets.maxP99AboveBaselineMs} ms above node:http's (${b.p99Ms.toFixed(2)} ms)`, value: above, ok: above <= targets.maxP99AboveBaselineMs });
  }
  if (targets.minRatio !== undefined) checks.push({ what: `req/s ratio >= ${targets.minRatio}`, value: ratio, ok: ratio >= targets.minRatio });
  if (targets.minRps !== undefined) checks.push({ what: `req/s >= ${targets.minRps}`, value: u.rps, ok: u.rps >= targets.minRps });
  if (targets.maxP50Ms !== undefined) checks.push({ what: `p50 <= ${targets.maxP50Ms} ms`, value: u.p50Ms, ok: u.p50Ms <= targets.maxP50Ms });
  if (targets.maxP99Ms !== undefined) checks.push({ what: `p99 < ${targets.maxP99Ms} ms`, value: u.p99Ms, ok: u.p99Ms < targets.maxP99Ms });
  if (targets.maxRssMb !== undefined && u.peakRssMb !== null) checks.push({ what: `peak RSS < ${targets.maxRssMb} MB${DURATION_S < 60 ? ` (the issue measures after 60 s: BENCH_DURATION=60)` : ''}`, value: u.peakRssMb, ok: u.peakRssMb < targets.maxRssMb });
  if (targets.maxStartupMs !== undefined) checks.push({ what: `first response < ${targets.maxStartupMs} ms`, value: startupMs, ok: startupMs < targets.maxStartupMs });
  return checks;
}

// ---------------------------------------------------------------------------------------------------------------
// report

function printTable(results) {
  const fmt = (v, digits = 0) => (v === null || v === undefined ? '-' : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
  const rows = [['scenario', 'server', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'peak RSS MB', 'CPU % srv/load/other', 'first 200 ms', 'bytes/resp']];
  for (const r of results) {
    for (const [label, m] of [['understudy', r.understudy], ['node:http', r.baseline]]) {
      rows.push([`${r.name} [${r.placement}]`, label, String(r.connections), fmt(m.rps), fmt(m.p50Ms, 2), fmt(m.p99Ms, 2), fmt(m.errors), fmt(m.non2xx), fmt(m.peakRssMb), [m.serverCpuPct, m.loadgenCpuPct, m.otherCpuPct].map((v) => fmt(v)).join('/'), fmt(m.startupMs), fmt(m.bytesPerResponse)]);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  console.log('');
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  console.log('');
  for (const r of results) {
    console.log(`${r.name} [pinned ${r.placement === 'all' ? 'all threads' : 'main thread'}]: understudy / node:http req/s = ${r.ratio.toFixed(2)}`);
    for (const check of r.targets ?? []) console.log(`  ${check.ok ? 'ok  ' : 'MISS'} ${check.what}: ${fmt(check.value, 2)}`);
    const busiest = Math.max(r.understudy.otherCpuPct ?? 0, r.baseline.otherCpuPct ?? 0);
    if (busiest > 25) console.log(`  note: other processes used up to ${busiest.toFixed(0)}% of a core during the measured runs: the numbers are disturbed, rerun on a quiet machine`);
    if (r.understudy.shutdown.exitCode !== 0) console.log(`  note: understudy's exit on SIGTERM: ${JSON.stringify(r.understudy.shutdown)}`);
    if (r.understudy.dataDirBytes != null) console.log(`  data dir after the run: ${fmt(r.understudy.dataDirBytes / 2 ** 20, 1)} MB`);
    const u = r.understudy;
    const non2xx = (u.warmup?.non2xx ?? 0) + u.non2xx;
    const errors = (u.warmup?.errors ?? 0) + u.errors;
    if (non2xx || errors) console.log(`  note: understudy answered ${fmt(non2xx)} non-2xx and had ${fmt(errors)} socket errors/timeouts (warm-up and measured run)`);
    if (u.checked) console.log(`  ${u.checked.note ? 'MISS' : 'ok  '} ${u.checked.summary}${u.checked.note ? `: ${u.checked.note}` : ''}`);
    for (const line of u.warnings ?? []) console.log(`  note: understudy said: ${line}`);
  }
  printDurability(results, fmt);
}

/** Each durable scenario against its memory-only twin, same run and placement. */
function printDurability(results, fmt) {
  const durable = results.filter((r) => SCENARIOS.find((s) => s.name === r.name)?.versus);
  if (durable.length === 0) return;
  console.log('\ndurability (durable / memory-only understudy, same run, same placement):');
  for (const r of durable) {
    const versus = SCENARIOS.find((s) => s.name === r.name).versus;
    const memory = results.find((m) => m.name === versus.scenario && m.placement === r.placement);
    if (!memory) {
      console.log(`  ${r.name} [${r.placement}]: no ${versus.scenario} in this run to compare with (add --scenario ${versus.scenario})`);
      continue;
    }
    const ratio = r.understudy.rps / memory.understudy.rps;
    r.versus = { scenario: versus.scenario, ratio, goal: versus.goal, minRatio: versus.minRatio, ok: ratio >= versus.minRatio };
    console.log(`  ${r.name} / ${versus.scenario} [${r.placement}]: req/s ${fmt(r.understudy.rps)} / ${fmt(memory.understudy.rps)} = ${ratio.toFixed(2)}; ` +
      `p99 ${fmt(r.understudy.p99Ms, 2)} / ${fmt(memory.understudy.p99Ms, 2)} ms; non-2xx ${fmt(r.understudy.non2xx)} / ${fmt(memory.understudy.non2xx)}`);
    console.log(`    ${r.versus.ok ? 'ok  ' : 'MISS'} ratio >= ${versus.minRatio} (${versus.goal})`);
  }
}

function machineInfo(loadgen) {
  const version = (argv) => {
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0].trim() || null;
  };
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  return {
    host: os.hostname(),
    cpus: machine.cpus,
    cpuModel: os.cpus()[0]?.model ?? null,
    memTotalMb: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    understudy: pkg.version,
    gitCommit: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).stdout?.trim() || null,
    loadgen: loadgen === 'wrk' ? version(['wrk', '--version']) : `autocannon ${JSON.parse(fs.readFileSync(path.join(path.dirname(AUTOCANNON), 'package.json'), 'utf8')).version}`,
    pinning: machine.canPin ? `servers on cpu0 (placements: ${PLACEMENTS.join(', ')}), load generator on cpu1 (taskset)` : 'none (needs Linux, taskset and 2+ CPUs)',
    // durable scenarios keep their data dirs here: a tmpfs would make every fsync free
    tmpdir: `${os.tmpdir()} (${spawnSync('df', ['-T', os.tmpdir()], { encoding: 'utf8' }).stdout?.trim().split('\n')[1]?.split(/\s+/)[1] ?? 'filesystem unknown'})`,
    loadavgBefore: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
}

// ---------------------------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const names = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--scenario') names.push(argv[++i] ?? die('--scenario needs a name'));
    else if (arg.startsWith('--scenario=')) names.push(arg.slice('--scenario='.length));
    else if (arg === '--list') {
      for (const s of SCENARIOS) console.log(`${s.name}\t${s.method ?? 'GET'} ${s.route}\t${s.connections ?? DEFAULT_CONNECTIONS} connections\tstate ${s.store ?? 'memory'}\t${s.serverArgs.join(' ')}`);
      process.exit(0);
    } else if (arg === '--help' || arg === '-h') {
      console.log('usage: npm run bench [-- --scenario NAME ...] [-- --list]\nenv: BENCH_DURATION BENCH_WARMUP BENCH_CONNECTIONS BENCH_LOADGEN=wrk|autocannon BENCH_PIN=all,main BENCH_QUIET_WAIT');
      process.exit(0);
    } else die(`unknown argument ${arg} (try --help)`);
  }
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) die(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  return names.length ? SCENARIOS.filter((s) => names.includes(s.name)) : SCENARIOS;
}

async function main() {
  const scenarios = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(CLI)) die(`${path.relative(REPO, CLI)} is missing: run npm run build (npm run bench does)`);
  const loadgen = chooseLoadgen();
  process.on('exit', () => {
    for (const file of wrkScripts.values()) fs.rmSync(file, { force: true });
    removeTempDirs();
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => die(`interrupted (${signal})`));
  const skipped = loadgen === 'wrk' ? [] : scenarios.filter((s) => s.writes).map((s) => s.name);
  if (skipped.length) log(`skipping ${skipped.join(', ')}: write loads need wrk (a lua request function makes every request unique); install wrk (Debian/Ubuntu: apt-get install -y wrk)`);

  const startedAt = new Date();
  const info = machineInfo(loadgen);
  log(`${info.loadgen}; ${info.pinning}; warm-up ${WARMUP_S} s, measured ${DURATION_S} s; load average ${info.loadavgBefore.join(' ')}; temporary data dirs in ${info.tmpdir}`);
  const results = [];
  for (const placement of PLACEMENTS) {
    for (const scenario of scenarios) if (!skipped.includes(scenario.name)) results.push(await runScenario(scenario, loadgen, placement));
  }
  info.loadavgAfter = os.loadavg().map((l) => Number(l.toFixed(2)));

  printTable(results);
  const stamp = startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${stamp}.json`);
  const report = { startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), settings: { durationS: DURATION_S, warmupS: WARMUP_S, seed: SEED, placements: PLACEMENTS }, machine: info, skipped, scenarios: results };
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nresults written to ${path.relative(process.cwd(), file)}`);
}

main().catch((error) => die(error instanceof BenchError ? error.message : (error.stack ?? String(error))));
