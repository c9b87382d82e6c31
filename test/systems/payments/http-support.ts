/**
 * Calling the payment gateway over real sockets, with every answer checked against its contract: the same check
 * the REST engine makes on handled replies (RestEngine.checkResponse), applied here to every response a test sees,
 * the engine's own refusals (validation, 404, 415, 413) and chaos answers (429) included, which the engine itself
 * does not check. A test that gets an answer off the contract fails at the call that got it.
 */
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { Exchange } from '../../../src/engine/exchange.js';
import { loadContract } from '../../../src/protocols/rest/contract.js';
import { RestEngine } from '../../../src/protocols/rest/rest-engine.js';
import { call, type JsonResponse } from '../../helpers.js';

const CONTRACT_FILE = fileURLToPath(new URL('../../../contracts/payments.openapi.yaml', import.meta.url));
const MOUNT = '/payments/v1';
const checker = await RestEngine.create(await loadContract(CONTRACT_FILE, { validate: false }), MOUNT, {});

export interface PayOptions {
  body?: unknown;
  /** the Idempotency-Key header */
  key?: string;
  /** the X-Understudy-Client header */
  client?: string;
  headers?: Record<string, string>;
  /** a body sent as is (not JSON-encoded), for malformed input */
  raw?: string;
}

/**
 * `base` is the server's URL, with a /w/{workspace} prefix when the test uses one; `path` starts at the mount
 * (`/charges`). The answer must be one the contract declares for the operation, with a body that matches it.
 */
export async function pay(base: string, method: string, path: string, options: PayOptions = {}): Promise<JsonResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers['idempotency-key'] = options.key;
  if (options.client !== undefined) headers['x-understudy-client'] = options.client;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await call(`${base}${MOUNT}${path}`, { method, headers, body });
  expectConforms(method, path, res);
  return res;
}

export const post = (base: string, path: string, body: unknown, options: Omit<PayOptions, 'body'> = {}) => pay(base, 'POST', path, { ...options, body });
export const get = (base: string, path: string, options: PayOptions = {}) => pay(base, 'GET', path, options);

/** The answer is declared for the operation at that status, and its body matches the declared schema. */
export function expectConforms(method: string, path: string, res: JsonResponse): void {
  const exchange = { method, path: MOUNT + path.split('?')[0], contractErrors: [] } as unknown as Exchange;
  const resolved = checker.resolve(exchange);
  expect(res.headers.get('content-type'), `${method} ${path} answers JSON`).toMatch(/^application\/json/);
  if ('reply' in resolved) {
    // no such operation: the gateway still answers in Stripe's error shape
    expect(res.body, `${method} ${path}`).toMatchObject({ error: { type: 'invalid_request_error', message: expect.any(String) } });
    return;
  }
  exchange.operation = resolved.operation;
  checker.checkResponse(exchange, { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? '' }, body: res.text });
  expect(exchange.contractErrors, `${method} ${path} → ${res.status} ${res.text.slice(0, 300)}`).toEqual([]);
}

/** The journal of the workspace at `base` holds no response the engine found off the contract. */
export async function expectJournalConforms(base: string): Promise<void> {
  const page = await call(`${base}/__admin/journal?system=payments&limit=1000`);
  expect(page.status).toBe(200);
  const off = page.body.entries.filter((e: any) => e.contract.errors.some((c: any) => c.in === 'response'));
  expect(off, 'journal entries whose response broke the contract').toEqual([]);
}

/** Every object of a list operation, all pages (newest first). */
async function everything(base: string, path: string, query: string): Promise<any[]> {
  const all: any[] = [];
  let after = '';
  for (;;) {
    const page = await get(base, `${path}?limit=100${query}${after ? `&starting_after=${after}` : ''}`);
    expect(page.status).toBe(200);
    all.push(...page.body.data);
    if (!page.body.has_more) return all;
    after = page.body.data.at(-1).id;
  }
}

/** The ledger, all of it (newest first); `query` adds filters (`&customer=cus_…`). */
export const ledger = (base: string, query = '') => everything(base, '/ledger', query);

/** Every charge (newest first). */
export const charges = (base: string, query = '') => everything(base, '/charges', query);

/** A charge body the tests send, with what varies between them. */
export const order = (n: number | string, extra: Record<string, unknown> = {}) => ({
  amount: 4999,
  currency: 'usd',
  payment_method: 'pm_card_visa',
  description: `Order ${n}`,
  metadata: { order_id: String(n) },
  ...extra,
});
