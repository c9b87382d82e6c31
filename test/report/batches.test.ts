/**
 * The report reads clients in batches (report.ts) so that a million entries are never all attempts at once; the
 * batching must not change a verdict: the same journal judged in batches of a few entries and in one batch gives
 * the same report.
 */
import { expect, it } from 'vitest';
import { buildReport } from '../../src/report/report.js';
import { call, json, start } from '../helpers.js';

it('judges the same in small batches as in one', async () => {
  const server = await start({ seed: 5 });
  await call(`${server.url}/__admin/chaos`, {
    method: 'PUT',
    body: 'name: t\nrules:\n  - id: flaky\n    match: { system: wms, operation: createReservation }\n    faults: [ { status: { code: 503, probability: 0.5, retryAfter: 1s } } ]\n',
  });
  for (let c = 0; c < 6; c++) {
    for (let n = 0; n < 4; n++) {
      for (let attempt = 0; attempt < 3; attempt++) {
        const res = await call(`${server.url}/wms/v1/reservations`, json({ externalOrderId: `c${c}-${n}`, lines: [{ sku: `SKU-${n + 1}`, quantity: 1 }] }, { 'x-understudy-client': `client-${c}` }));
        if (res.status < 500) break;
      }
    }
  }
  server.engine.flush();
  const now = Date.now();
  const workspace = server.workspaces.default;
  const whole = buildReport(workspace, server.engine.systems, { now, until: now });
  const batched = buildReport(workspace, server.engine.systems, { now, until: now, batchAttempts: 5 });
  expect(whole.clients.map((c) => c.client)).toEqual(['client-0', 'client-1', 'client-2', 'client-3', 'client-4', 'client-5']);
  expect(whole.clients.some((c) => c.checks.some((x) => x.id === 'retry.respectsRetryAfter' && x.status !== 'n/a'))).toBe(true);
  expect(batched).toEqual(whole);
});
