/**
 * Request bodies labelled Content-Encoding (issue #14 §1, "Schema edge cases"): gzip is inflated within the body
 * limit — which applies to the inflated size, so a gzip bomb is a 413 — and validated like a plain body; a body
 * that is not gzip is a 400, an encoding understudy does not read a 415; never read as plain JSON. The journal keeps
 * the inflated body, with card numbers masked as in a plain one (the payment gateway).
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { call, start, VENDOR_CONTRACT } from '../../helpers.js';

const OFF = { wms: { enabled: false }, alerts: { enabled: false }, erp: { enabled: false }, outbound: { enabled: false } } as const;
const JSON_GZIP = { 'content-type': 'application/json', 'content-encoding': 'gzip', 'x-request-id': '9b2f6a3e-8f0d-4c55-9a43-8d5d3e1f2a10' };

describe('Content-Encoding on a REST request body', () => {
  it('inflates gzip and validates what it holds; the journal keeps the inflated body', async () => {
    const s = await start({ systems: { ...OFF, payments: { enabled: false } }, contracts: [VENDOR_CONTRACT] });
    const account = JSON.stringify({ name: 'Acme', email: 'a@b.example' });
    const created = await call(`${s.url}/vendor/v2/accounts`, { method: 'POST', headers: JSON_GZIP, body: gzipSync(account) });
    expect(created.status, created.text).toBe(201);
    const invalid = await call(`${s.url}/vendor/v2/accounts`, { method: 'POST', headers: JSON_GZIP, body: gzipSync(JSON.stringify({ email: 'a@b.example' })) });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors).toEqual([expect.objectContaining({ in: 'body', message: expect.stringContaining('name') })]);
    s.engine.flush();
    const [, first] = (await call(`${s.url}/__admin/journal`)).body.entries;
    const full = (await call(`${s.url}/__admin/journal/${first.id}`)).body;
    expect(full.request.body.text).toBe(account);
  });

  it('refuses a body that is not gzip (400), a gzip bomb past the body limit (413) and other encodings (415); the server keeps serving', async () => {
    const s = await start({ systems: { ...OFF, payments: { enabled: false } }, contracts: [VENDOR_CONTRACT], limits: { bodyBytes: 64 * 1024 } });
    const url = `${s.url}/vendor/v2/accounts`;
    const notGzip = await call(url, { method: 'POST', headers: JSON_GZIP, body: '{"name":"Acme","email":"a@b.example"}' });
    expect(notGzip.status).toBe(400);
    expect(notGzip.body.errors).toEqual([{ in: 'body', pointer: '', message: 'Content-Encoding: gzip: the body is not valid gzip.' }]);
    const bomb = gzipSync(Buffer.concat([Buffer.from('{"name":"'), Buffer.alloc(10 * 1024 * 1024, 'a'), Buffer.from('"}')]));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const tooLarge = await call(url, { method: 'POST', headers: JSON_GZIP, body: bomb });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.detail).toBe('Content-Encoding: gzip: the gzip body expands beyond 65536 bytes.');
    const brotli = await call(url, { method: 'POST', headers: { ...JSON_GZIP, 'content-encoding': 'br' }, body: 'x' });
    expect(brotli.status).toBe(415);
    expect(brotli.body.detail).toBe('Content-Encoding: br is not supported; send the body as is or gzip-compressed.');
    const plain = await call(url, { method: 'POST', headers: { ...JSON_GZIP, 'content-encoding': 'identity' }, body: '{"name":"Acme","email":"a@b.example"}' });
    expect(plain.status).toBe(201);
  });

  it('masks card numbers in the inflated body the journal keeps', async () => {
    const s = await start({ systems: OFF });
    const body = JSON.stringify({ type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2099, cvc: '123' } });
    const made = await call(`${s.url}/payments/v1/payment_methods`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(body) });
    expect(made.status, made.text).toBe(201);
    s.engine.flush();
    const [entry] = (await call(`${s.url}/__admin/journal?system=payments`)).body.entries;
    const text = (await call(`${s.url}/__admin/journal/${entry.id}`)).body.request.body.text as string;
    expect(text).toContain('****4242');
    expect(text).not.toContain('4242424242424242');
    // masked before the journal keeps it, not only when it is shown: the bytes in its memory hold no card number
    const kept = s.workspaces.default.journal.get(entry.id)!.requestBody.toString();
    expect(kept).toContain('"number":"************4242"');
    expect(kept).not.toContain('4242424242424242');
  });
});
