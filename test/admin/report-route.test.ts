/**
 * GET /__admin/report with hostile or absurd query strings: unknown parameters, a window that ends before it
 * starts, durations and counts that do not parse or make no sense, parameters given twice, an empty client. Each
 * is a 400 problem that names the parameter (in `detail` and in `errors`), every problem at once, and the server
 * goes on serving: the report, the traffic, other workspaces.
 */
import { describe, expect, it } from 'vitest';
import { call, rawRequest, start } from '../helpers.js';

const ORDER = { externalOrderId: 'SO-1', lines: [{ sku: 'SKU-1', quantity: 1 }] };

/** the 400 problem for `query`, naming exactly `names` */
async function refused(base: string, query: string, names: string[]): Promise<void> {
  // raw: the query goes out byte for byte as written (fetch would re-encode some of it)
  const res = await rawRequest(base, `${new URL(base).pathname.replace(/\/$/, '')}/__admin/report?${query}`);
  expect(res.status, `${query}: ${res.text}`).toBe(400);
  expect(res.headers.get('content-type'), query).toMatch(/^application\/problem\+json/);
  expect(res.body, query).toMatchObject({ type: expect.stringMatching(/bad-query$/), status: 400 });
  expect(res.body.errors.map((e: { name: string }) => e.name).sort(), query).toEqual([...names].sort());
  for (const name of names) expect(res.body.detail, query).toContain(`${name}:`);
}

const CASES: Array<[string, string, string[]]> = [
  ['an unknown parameter', 'colour=blue', ['colour']],
  ['a misspelt one', 'maxAttempt=3', ['maxAttempt']],
  ['bracket syntax', 'since[gt]=0', ['since[gt]']],
  ['a prototype-polluting name', '__proto__=x', ['__proto__']],
  ['since after until', 'since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z', ['until']],
  ['since after until, in ms', 'since=2000&until=1000', ['until']],
  ['a time that is not one', 'since=yesterday', ['since']],
  ['a time past the end of time', 'until=99999999999999999999', ['until']],
  ['a bad duration', 'maxSpan=abc', ['maxSpan']],
  ['a duration without a unit', 'retryWindow=30', ['retryWindow']],
  ['a zero duration', 'retryWindow=0s', ['retryWindow']],
  ['a negative duration', 'maxSpan=-5s', ['maxSpan']],
  ['an absurd duration', 'maxSpan=1000d', ['maxSpan']],
  ['a repeated parameter', 'since=0&since=1000', ['since']],
  ['a repeated count', 'maxAttempts=3&maxAttempts=5', ['maxAttempts']],
  ['an empty client', 'client=', ['client']],
  ['an overlong client', `client=${'x'.repeat(201)}`, ['client']],
  ['zero attempts', 'maxAttempts=0', ['maxAttempts']],
  ['negative attempts', 'maxAttempts=-1', ['maxAttempts']],
  ['fractional attempts', 'maxAttempts=1.5', ['maxAttempts']],
  ['attempts in exponent notation', 'maxAttempts=1e3', ['maxAttempts']],
  ['too many attempts', 'maxAttempts=10000000', ['maxAttempts']],
  ['breaker failures that are not a number', 'breakerFailures=five', ['breakerFailures']],
  ['an empty count', 'breakerFailures=', ['breakerFailures']],
  ['every problem at once', 'colour=blue&maxAttempts=0&client=&maxSpan=abc&since=9&until=1', ['colour', 'maxAttempts', 'client', 'maxSpan', 'until']],
];

describe('GET /__admin/report refuses what it cannot judge by', () => {
  it.each(CASES)('%s → 400 naming it', async (_label, query, names) => {
    const { url } = await server();
    await refused(url, query, names);
  });

  it('refuses the same in a workspace, and every refusal leaves the server serving', async () => {
    const { url } = await server();
    const ws = `${url}/w/ci-7`;
    expect((await call(`${ws}/wms/v1/reservations`, reserve('ws-client'))).status).toBe(201);
    for (const [, query, names] of CASES) await refused(ws, query, names);

    // the traffic and the report still work, in the workspace and outside it
    expect((await call(`${url}/wms/v1/reservations`, reserve('after-the-abuse'))).status).toBe(201);
    const main = await call(`${url}/__admin/report?since=0`);
    expect(main.status).toBe(200);
    expect(main.body.clients.map((c: { client: string }) => c.client)).toContain('after-the-abuse');
    const inWs = await call(`${ws}/__admin/report?since=0&client=ws-client&maxAttempts=3&maxSpan=1m&retryWindow=30s&breakerFailures=2`);
    expect(inWs.status, inWs.text).toBe(200);
    expect(inWs.body.clients.map((c: { client: string }) => c.client)).toEqual(['ws-client']);
  });

  it('takes the limits themselves', async () => {
    const { url } = await server();
    for (const query of ['maxAttempts=1', 'maxAttempts=999999', 'maxSpan=7d', 'retryWindow=1ms', 'since=0&until=0', 'client=' + 'x'.repeat(200)]) {
      const res = await call(`${url}/__admin/report?${query}`);
      expect(res.status, `${query}: ${res.text}`).toBe(200);
    }
  });
});

let shared: Promise<{ url: string }> | undefined;
/** one server for the file: a refusal must not need a fresh one */
function server(): Promise<{ url: string }> {
  shared ??= start({ systems: { wms: { skus: 5 } } });
  return shared;
}

function reserve(client: string): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json', 'x-understudy-client': client }, body: JSON.stringify({ ...ORDER, externalOrderId: `SO-${client}` }) };
}
