/**
 * Refusals in the contract's own error shape (issue #14 §1, "Errors in the contract's shape"), on a document shaped
 * like the Swagger Petstore "expanded" example: its `default` Error `{code, message}` answers a body that breaks
 * the contract, filled with the status and what was wrong; an XML 400 answers as XML; a 400 declared without a
 * body answers with none; an operation that declares nothing for the status keeps understudy's problem+json. The
 * journal keeps every problem either way.
 */
import { describe, expect, it } from 'vitest';
import { call, json, start } from '../../helpers.js';

const PETSTORE = new URL('../../fixtures/third-party/petstore-expanded.openapi.yaml', import.meta.url).pathname;
const OFF = { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false }, erp: { enabled: false }, outbound: { enabled: false } } as const;

describe("a refusal in the contract's error shape", () => {
  it('the default Error {code, message} for a body that breaks the contract, and for a media type it does not take', async () => {
    const s = await start({ contracts: [`${PETSTORE}@/api`], systems: OFF });
    const bad = await call(`${s.url}/api/pets`, { method: 'POST', ...json({ tag: 'dog' }) });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('application/json');
    expect(bad.body).toEqual({ code: 400, message: 'The request does not match the contract (1 problem in body).' });
    const form = await call(`${s.url}/api/pets`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'Rex' });
    expect(form.status).toBe(415);
    expect(form.body).toEqual({ code: 415, message: 'This operation takes application/json, not text/plain.' });
    expect((await call(`${s.url}/api/pets`, { method: 'POST', ...json({ name: 'Rex' }) })).status).toBe(200);
    s.engine.flush();
    const entries = (await call(`${s.url}/__admin/journal?operation=addPet`)).body.entries.reverse();
    expect(entries[0].contract.errors).toEqual([expect.objectContaining({ in: 'body', message: expect.stringContaining('name') })]);
    // the refusal matches the contract's declared shape: the journal's response check has nothing to say about it
    expect(entries[0].contract.errors.filter((e: { in: string }) => e.in === 'response')).toEqual([]);
  });

  it('an XML 400 as XML under its xml.name, every problem listed; a 400 without a body as none', async () => {
    const s = await start({ contracts: [`${PETSTORE}@/api`], systems: OFF });
    const xml = await call(`${s.url}/api/pets?limit=500`);
    expect(xml.status).toBe(400);
    expect(xml.headers.get('content-type')).toBe('application/xml');
    expect(xml.text).toMatch(/^<Fault><faultCode>400<\/faultCode><faultString>The request does not match the contract \(1 problem in query\)\.<\/faultString><errors>must be &lt;= 100<\/errors><\/Fault>$/);
    const empty = await call(`${s.url}/api/pets/1/tags`, { ...json(['a', 'b', 'c', 'd']), method: 'PUT' });
    expect(empty.status).toBe(400);
    expect(empty.text).toBe('');
  });

  it("a status the operation declares nothing for keeps understudy's problem+json; default covers every status", async () => {
    const s = await start({ contracts: [`${PETSTORE}@/api`], systems: OFF });
    // tagPet declares 204 and 400 only: its 415 is understudy's own
    const r = await call(`${s.url}/api/pets/1/tags`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'a' });
    expect(r.status).toBe(415);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(r.body).toMatchObject({ type: 'urn:understudy:problem:unsupported-media-type', status: 415 });
    // deletePet declares a default Error: a bad path parameter answers in it
    const d = await call(`${s.url}/api/pets/abc`, { method: 'DELETE' });
    expect(d.status).toBe(400);
    expect(d.body).toEqual({ code: 400, message: 'The request does not match the contract (1 problem in path).' });
  });
});

describe('a contract that refuses invalid input with 422', () => {
  const GITHUB_SHAPED = new URL('../../fixtures/third-party/validation-failed.openapi.yaml', import.meta.url).pathname;

  it('gets its declared 422, filled with what was wrong, when it declares no 400 (as Prism answers)', async () => {
    const s = await start({ contracts: [`${GITHUB_SHAPED}@/gh`], systems: OFF });
    const bad = await call(`${s.url}/gh/repos/acme/app/issues`, { method: 'POST', ...json({ title: '', labels: 'bug' }) });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toBe('The request does not match the contract (2 problems in body).');
    expect(typeof bad.body.documentation_url).toBe('string');
    expect(bad.body.errors).toEqual([
      expect.objectContaining({ field: '/title', message: 'must NOT have fewer than 1 characters' }),
      expect.objectContaining({ field: '/labels', message: 'must be array' }),
    ]);
    expect((await call(`${s.url}/gh/repos/acme/app/issues`, { method: 'POST', ...json({ title: 'Crash on save' }) })).status).toBe(201);
    s.engine.flush();
    const [refused] = (await call(`${s.url}/__admin/journal?status=422`)).body.entries;
    expect(refused.contract.errors.filter((e: { in: string }) => e.in === 'response')).toEqual([]);
    expect(refused.contract.errors).toHaveLength(2);
  });
});
