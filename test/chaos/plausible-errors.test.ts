/**
 * Injected failures must not announce themselves: every fault kind and policy that answers with a status
 * (status, failFirst, succeedFirst, outage, lostAck, rateLimit, quota) replies in the system's own error shape and
 * wording, with nothing in the body or the headers that says it was simulated, while the journal still records
 * the fault and the opt-in x-understudy-fault header still names it.
 *
 * Real sockets; time never passes (no rule here waits).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { call, start, type JsonResponse } from '../helpers.js';

/** what a client could use to tell a simulated failure from a real one */
const TELL = /inject|chaos|fault|simulat/i;

interface Case {
  rule: string;
  /** a fault (in the rule's faults list) or a policy (at rule level), as YAML */
  fault?: string;
  policy?: string;
  kind: string;
  status: number;
  title: string;
  /** requests sent; the last one is the failure */
  requests?: number;
}

const CASES: Case[] = [
  { rule: 'shed-400', fault: 'status: { code: 400 }', kind: 'status', status: 400, title: 'Bad Request' },
  { rule: 'shed-429', fault: 'status: { code: 429, retryAfter: 3s }', kind: 'status', status: 429, title: 'Too Many Requests' },
  { rule: 'shed-500', fault: 'status: { code: 500 }', kind: 'status', status: 500, title: 'Internal Server Error' },
  { rule: 'shed-502', fault: 'status: { code: 502 }', kind: 'status', status: 502, title: 'Bad Gateway' },
  { rule: 'shed-503', fault: 'status: { code: 503, retryAfter: 5s }', kind: 'status', status: 503, title: 'Service Unavailable' },
  { rule: 'shed-504', fault: 'status: { code: 504 }', kind: 'status', status: 504, title: 'Gateway Timeout' },
  { rule: 'warm-up', fault: 'failFirst: { count: 2 }', kind: 'failFirst', status: 503, title: 'Service Unavailable' },
  { rule: 'warm-up-500', fault: 'failFirst: { count: 1, status: 500 }', kind: 'failFirst', status: 500, title: 'Internal Server Error' },
  { rule: 'then-down', fault: 'succeedFirst: { count: 1 }', kind: 'succeedFirst', status: 503, title: 'Service Unavailable', requests: 2 },
  { rule: 'down', fault: 'outage: { mode: 503, retryAfter: 30s }', kind: 'outage', status: 503, title: 'Service Unavailable' },
  { rule: 'ack-500', fault: 'lostAck: { as: 500 }', kind: 'lostAck', status: 500, title: 'Internal Server Error' },
  { rule: 'ack-502', fault: 'lostAck: { as: 502 }', kind: 'lostAck', status: 502, title: 'Bad Gateway' },
  { rule: 'ack-503', fault: 'lostAck: { as: 503 }', kind: 'lostAck', status: 503, title: 'Service Unavailable' },
  { rule: 'ack-504', fault: 'lostAck: { as: 504 }', kind: 'lostAck', status: 504, title: 'Gateway Timeout' },
  { rule: 'per-minute', policy: 'rateLimit: { requests: 1, per: 1m }', kind: 'rateLimit', status: 429, title: 'Too Many Requests', requests: 2 },
  { rule: 'per-day', policy: 'quota: { requests: 1, per: 1d }', kind: 'quota', status: 429, title: 'Too Many Requests', requests: 2 },
];

/** each case on its own SKU, so the rules never meet */
const pathOf = (i: number) => `/wms/v1/inventory/SKU-${i + 1}`;

function profile(cases: Case[]): string {
  return (
    'rules:\n' +
    cases
      .map((c, i) => {
        const head = `  - id: ${c.rule}\n    match: { path: ${pathOf(i)} }\n`;
        return c.policy ? `${head}    ${c.policy}\n` : `${head}    faults:\n      - ${c.fault}\n`;
      })
      .join('')
  );
}

async function server(yaml: string, faultHeader = false): Promise<string> {
  const clock = new ManualClock();
  const s = await start({ clock, scheduler: new ManualScheduler(clock), faultHeader, seed: 3, systems: { wms: { skus: 40 } } });
  const put = await call(`${s.url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: yaml });
  expect(put.status, put.text).toBe(200);
  return s.url;
}

/** every header but the opt-in fault header, as "name: value" lines */
function headerLines(r: JsonResponse): string[] {
  return [...r.headers.entries()].filter(([name]) => name !== 'x-understudy-fault').map(([name, value]) => `${name}: ${value}`);
}

describe('failures read like the system’s own errors', () => {
  it('every status-producing fault and policy answers in the shape of a genuine error, with nothing that gives it away', async () => {
    const url = await server(profile(CASES));
    // a genuine error of the same system, for the shape
    const genuine = await call(`${url}/wms/v1/inventory/SKU-999`);
    expect(genuine.status).toBe(404);
    const genuineKeys = Object.keys(genuine.body).sort();

    for (const [i, c] of CASES.entries()) {
      let r!: JsonResponse;
      for (let n = 0; n < (c.requests ?? 1); n++) r = await call(`${url}${pathOf(i)}`);
      expect(r.status, c.rule).toBe(c.status);
      expect(r.text, c.rule).not.toMatch(TELL);
      for (const line of headerLines(r)) expect(line, c.rule).not.toMatch(TELL);
      expect(r.headers.get('content-type'), c.rule).toBe(genuine.headers.get('content-type'));
      expect(Object.keys(r.body).sort(), c.rule).toEqual(genuineKeys);
      expect(r.body, c.rule).toMatchObject({ type: expect.stringMatching(/^urn:understudy:problem:[a-z-]+$/), title: c.title, status: c.status });
      expect(r.body.detail, c.rule).toMatch(/^[A-Z].{10,}\.$/);

      // the journal is where the failure shows
      const entries = (await call(`${url}/__admin/journal?fault=${c.rule}`)).body.entries;
      expect(entries, c.rule).toHaveLength(1);
      expect(entries[0], c.rule).toMatchObject({ status: c.status, faults: [{ rule: c.rule, kind: c.kind }] });
    }
  });

  it('the same status reads the same whichever fault produced it, so no kind can be told from another', async () => {
    const url = await server(profile(CASES));
    const bodies = new Map<number, Set<string>>();
    for (const [i, c] of CASES.entries()) {
      if (c.policy) continue; // a limit's refusal says which limit, as real ones do
      let r!: JsonResponse;
      for (let n = 0; n < (c.requests ?? 1); n++) r = await call(`${url}${pathOf(i)}`);
      if (!bodies.has(r.status)) bodies.set(r.status, new Set());
      bodies.get(r.status)!.add(r.text);
    }
    for (const [status, texts] of bodies) expect([...texts], String(status)).toHaveLength(1);
  });

  it('a Salesforce-style quota answers as Salesforce does, with nothing that gives it away', async () => {
    const url = await server(`
rules:
  - id: org-allocation
    match: { system: wms }
    quota: { requests: 1, per: 1d, style: salesforce }
`);
    expect((await call(`${url}/wms/v1/inventory/SKU-1`)).status).toBe(200);
    const r = await call(`${url}/wms/v1/inventory/SKU-1`);
    expect(r.status).toBe(403);
    expect(r.body).toEqual([{ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: expect.any(String) }]);
    expect(r.text).not.toMatch(TELL);
    for (const line of headerLines(r)) expect(line).not.toMatch(TELL);
  });

  it('with --fault-header the header names the fault; the body stays the same words', async () => {
    const plain = await server(profile(CASES.slice(0, 7)));
    const flagged = await server(profile(CASES.slice(0, 7)), true);
    const a = await call(`${plain}${pathOf(6)}`);
    const b = await call(`${flagged}${pathOf(6)}`);
    expect(a.headers.get('x-understudy-fault')).toBeNull();
    expect(b.headers.get('x-understudy-fault')).toBe('warm-up/failFirst');
    expect(b.text).toBe(a.text);
  });
});
