/**
 * Plumbing for the reference-client tests of the report card (idempotency, timeouts, bulk, polling, field
 * selection): clients that talk to a real understudy over real sockets the way integration code does — fetch,
 * a retry loop, a cursor kept between polls — each naming itself with X-Understudy-Client, and the means to
 * read what the report card then says about each of them (GET /__admin/report, over HTTP like a user).
 */
import { expect } from 'vitest';
import { call } from '../helpers.js';
import type { CheckResult, Report } from '../../src/report/types.js';

/** Activates a profile given as YAML text (PUT /__admin/chaos); the test fails when it is refused. */
export async function activate(base: string, yaml: string): Promise<void> {
  const put = await call(`${base}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: yaml });
  expect(put.status, put.text).toBe(200);
}

/** The report card, as a user fetches it. */
export async function report(base: string, query = ''): Promise<Report> {
  const res = await call(`${base}/__admin/report${query ? `?${query}` : ''}`);
  expect(res.status, res.text).toBe(200);
  return res.body as Report;
}

/** The client's card; the test fails when the report has none for it. */
export function cardOf(r: Report, client: string) {
  const card = r.clients.find((c) => c.client === client);
  expect(card, `the report has a card for ${client} (it has ${r.clients.map((c) => c.client).join(', ')})`).toBeDefined();
  return card!;
}

/** One check of one client (for per-operation checks, the one about `operation`). */
export function checkOf(r: Report, client: string, id: string, operation?: string): CheckResult {
  const found = cardOf(r, client).checks.filter((c) => c.id === id && (operation === undefined || c.operation === operation));
  expect(found, `${client} has exactly one ${id}${operation ? ` on ${operation}` : ''}`).toHaveLength(1);
  return found[0];
}

/** How many attempts and logical requests the server saw of the client's calls to `operation`. */
export function countsOf(r: Report, client: string, operation: string): { attempts: number; logicalRequests: number } {
  const op = cardOf(r, client).operations.find((o) => o.operation === operation);
  return { attempts: op?.attempts ?? 0, logicalRequests: op?.logicalRequests ?? 0 };
}

/** What a client got back: an HTTP answer, or none (a reset, its own timeout). */
export interface Outcome {
  status: number;
  body: any;
  /** no HTTP answer: why (the fetch error) */
  error?: string;
}

/** One request as integration code makes it: the client's name in X-Understudy-Client, the body read. */
export async function send(base: string, client: string, method: string, path: string, options: { json?: unknown; form?: string; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Outcome> {
  const headers: Record<string, string> = { 'x-understudy-client': client, ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = options.form;
  }
  try {
    const res = await fetch(base + path, { method, headers, body, signal: options.signal });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed };
  } catch (err) {
    return { status: 0, body: undefined, error: String((err as Error)?.cause ?? err) };
  }
}

export const succeeded = (o: Outcome) => o.status >= 200 && o.status < 300;
/** worth retrying: no answer, a 5xx, 429 or 408 (a 4xx about the request itself is not) */
export const retryable = (o: Outcome) => o.status === 0 || o.status >= 500 || o.status === 429 || o.status === 408;

export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The retry loop integration code hand-rolls: try, and on a retryable outcome wait `delayMs` and try again, up to
 * `maxAttempts`. `attempt(n)` makes attempt n (1-based), so the caller decides what each attempt sends.
 */
export async function withRetries(attempt: (n: number) => Promise<Outcome>, options: { maxAttempts: number; delayMs: number }): Promise<{ last: Outcome; attempts: Outcome[] }> {
  const attempts: Outcome[] = [];
  for (let n = 1; ; n++) {
    const outcome = await attempt(n);
    attempts.push(outcome);
    if (!retryable(outcome) || n >= options.maxAttempts) return { last: outcome, attempts };
    await pause(options.delayMs);
  }
}
