/**
 * Any OpenAPI contract served with --contract: routing, validation errors with locations, generated responses,
 * and the bad-input rules (malformed, oversize, wrong type, invalid UTF-8) observed through real sockets.
 */
import { describe, expect, it } from 'vitest';
import { call, json, start, VENDOR_CONTRACT } from '../../helpers.js';

const withVendor = (extra: object = {}) =>
  start({
    systems: { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false }, erp: { enabled: false }, outbound: { enabled: false } },
    contracts: [VENDOR_CONTRACT],
    ...extra,
  });
const REQ_ID = { 'x-request-id': '9b2f6a3e-8f0d-4c55-9a43-8d5d3e1f2a10' };

describe('a user contract served with --contract', () => {
  it('mounts at the path of its first servers URL and answers from the schema', async () => {
    const s = await withVendor();
    const r = await call(`${s.url}/vendor/v2/accounts`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(Array.isArray(r.body.accounts)).toBe(true);
    expect(r.body.accounts[0]).toHaveProperty('email');
    expect(r.body.accounts[0].email).toMatch(/@/);
  });

  it('generates the same response for the same seed and request, a different one for another seed', async () => {
    const a = await withVendor({ seed: 7 });
    const b = await withVendor({ seed: 7 });
    const c = await withVendor({ seed: 8 });
    const path = '/vendor/v2/accounts/ACC-12';
    const [ra, rb, rc] = await Promise.all([call(a.url + path), call(b.url + path), call(c.url + path)]);
    expect(ra.status).toBe(200);
    expect(ra.text).toBe(rb.text);
    expect(ra.text).not.toBe(rc.text);
    expect((await call(a.url + path)).text).toBe(ra.text);
  });

  it('uses the contract example when there is one, and honours Prefer: code / example', async () => {
    const s = await withVendor();
    const created = await call(`${s.url}/vendor/v2/accounts`, json({ name: 'Acme', email: 'a@b.example' }, REQ_ID));
    expect(created.status).toBe(201);
    expect(created.body.id).toBe('ACC-1');
    const preferred = await call(`${s.url}/vendor/v2/accounts/ACC-1`, { headers: { prefer: 'code=404, example=notFound' } });
    expect(preferred.status).toBe(404);
    expect(preferred.body).toEqual({ title: 'Not Found', status: 404 });
  });

  it('requires readOnly properties only in responses and writeOnly ones only in requests', async () => {
    const s = await withVendor();
    const created = await call(`${s.url}/vendor/v2/users`, json({ name: 'Ada', password: 'correct-horse' }));
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: 'U-1', name: 'Ada' });
    const noPassword = await call(`${s.url}/vendor/v2/users`, json({ name: 'Ada' }));
    expect(noPassword.status).toBe(400);
    expect(noPassword.body.errors).toEqual([expect.objectContaining({ in: 'body', pointer: '/password' })]);
    const [, first] = (await call(`${s.url}/__admin/journal`)).body.entries;
    expect(first).toMatchObject({ operation: 'createUser', status: 201, contract: { valid: true, errors: [] } });
  });

  it('serves recursive schemas and bodiless responses', async () => {
    const s = await withVendor();
    const tree = await call(`${s.url}/vendor/v2/tree`);
    expect(tree.status).toBe(200);
    expect(typeof tree.body.name).toBe('string');
    const del = await call(`${s.url}/vendor/v2/accounts/ACC-3`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
  });

  it('answers unknown paths with 404 and wrong methods with 405 + Allow', async () => {
    const s = await withVendor();
    const missing = await call(`${s.url}/vendor/v2/nothing-here`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    const nowhere = await call(`${s.url}/not-mounted/x`);
    expect(nowhere.status).toBe(404);
    // the authorization server is always mounted beside it
    expect(nowhere.body.mounted).toEqual(['/.well-known', '/vendor/v2', '/oauth']);
    const wrong = await call(`${s.url}/vendor/v2/accounts`, { method: 'PUT' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, POST, HEAD');
  });

  it('lists every query, path and header error with its location', async () => {
    const s = await withVendor();
    const r = await call(`${s.url}/vendor/v2/accounts?limit=0&ids=1,x&bogus=1`);
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    const where = r.body.errors.map((e: { in: string; name: string }) => `${e.in}:${e.name}`).sort();
    expect(where).toEqual(['query:bogus', 'query:ids', 'query:limit']);
    expect(r.body.errors.find((e: { name: string }) => e.name === 'bogus').message).toMatch(/not a parameter/);

    const badPath = await call(`${s.url}/vendor/v2/accounts/not-an-id`);
    expect(badPath.status).toBe(400);
    expect(badPath.body.errors).toEqual([expect.objectContaining({ in: 'path', name: 'accountId' })]);

    const noHeader = await call(`${s.url}/vendor/v2/accounts`, json({ name: 'x', email: 'x@y.example' }));
    expect(noHeader.status).toBe(400);
    expect(noHeader.body.errors).toEqual([expect.objectContaining({ in: 'header', name: 'x-request-id' })]);
  });

  it('coerces and accepts well-formed parameters', async () => {
    const s = await withVendor();
    const r = await call(`${s.url}/vendor/v2/accounts?limit=5&tag=a&tag=b&ids=1,2,3`);
    expect(r.status).toBe(200);
  });

  it('refuses absurd numbers and repeated scalars', async () => {
    const s = await withVendor();
    const huge = await call(`${s.url}/vendor/v2/accounts?limit=99999999999999999999999`);
    expect(huge.status).toBe(400);
    const twice = await call(`${s.url}/vendor/v2/accounts?limit=1&limit=2`);
    expect(twice.status).toBe(400);
    expect(twice.body.errors[0].name).toBe('limit');
  });

  it('reports body errors as JSON pointers', async () => {
    const s = await withVendor();
    const r = await call(`${s.url}/vendor/v2/accounts`, json({ name: '', tier: 'platinum', extra: true }, REQ_ID));
    expect(r.status).toBe(400);
    const pointers = r.body.errors.map((e: { pointer: string }) => e.pointer).sort();
    expect(pointers).toEqual(['/email', '/extra', '/name', '/tier']);
    expect(r.body.errors.every((e: { in: string }) => e.in === 'body')).toBe(true);
  });

  it('rejects malformed JSON, a missing body, invalid UTF-8 and the wrong content type', async () => {
    const s = await withVendor();
    const url = `${s.url}/vendor/v2/accounts`;
    const malformed = await call(url, { method: 'POST', headers: { 'content-type': 'application/json', ...REQ_ID }, body: '{"name": "x",' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0].message).toMatch(/not valid JSON/);

    const empty = await call(url, { method: 'POST', headers: { 'content-type': 'application/json', ...REQ_ID } });
    expect(empty.status).toBe(400);
    expect(empty.body.errors[0].message).toMatch(/body is required/);

    const latin1 = Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]); // {"n":"é"} in Latin-1
    const notUtf8 = await call(url, { method: 'POST', headers: { 'content-type': 'application/json', ...REQ_ID }, body: latin1 });
    expect(notUtf8.status).toBe(400);
    expect(notUtf8.body.errors[0].message).toMatch(/UTF-8/);

    const xml = await call(url, { method: 'POST', headers: { 'content-type': 'application/xml', ...REQ_ID }, body: '<a/>' });
    expect(xml.status).toBe(415);
    expect(xml.body.accepted).toEqual(['application/json']);
  });

  it('answers an oversize body with 413 and keeps serving', async () => {
    const s = await withVendor({ limits: { bodyBytes: 1024 } });
    const big = JSON.stringify({ name: 'x'.repeat(5000), email: 'a@b.example' });
    const r = await call(`${s.url}/vendor/v2/accounts`, { method: 'POST', headers: { 'content-type': 'application/json', ...REQ_ID }, body: big });
    expect(r.status).toBe(413);
    expect(r.body.detail).toMatch(/1024 bytes/);
    expect((await call(`${s.url}/vendor/v2/accounts`)).status).toBe(200);
  });

  it('records each exchange with its validation result', async () => {
    const s = await withVendor();
    await call(`${s.url}/vendor/v2/accounts?limit=0`);
    await call(`${s.url}/vendor/v2/accounts?limit=3`);
    const journal = await call(`${s.url}/__admin/journal`);
    const [valid, invalid] = journal.body.entries;
    expect(valid).toMatchObject({ status: 200, operation: 'listAccounts', protocol: 'rest', system: 'vendor', contract: { valid: true, errors: [] } });
    expect(invalid).toMatchObject({ status: 400, contract: { valid: false } });
    expect(invalid.contract.errors[0]).toMatchObject({ in: 'query', name: 'limit' });
  });
});
