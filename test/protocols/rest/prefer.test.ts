/**
 * Which response a contract without handlers answers with (issue #14 §1, "No declared success" and "Prefer"), on a
 * document shaped like the Swagger Petstore "expanded" example: the lowest declared 2xx, else `default`, else a
 * 501 naming the operation; `Prefer: code=N` answered with N's response or `default`, `Prefer: example=NAME` found
 * in any media type, each honoured preference named in `Preference-Applied`, and one that cannot be honoured
 * refused with a 400 saying what is declared — never ignored in silence.
 */
import { describe, expect, it } from 'vitest';
import { call, start } from '../../helpers.js';

const PETSTORE = new URL('../../fixtures/third-party/petstore-expanded.openapi.yaml', import.meta.url).pathname;

async function petstore() {
  const server = await start({ contracts: [`${PETSTORE}@/api`], systems: { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false }, erp: { enabled: false }, outbound: { enabled: false } } });
  return server;
}

describe('the response a generated operation answers with', () => {
  it('the lowest declared 2xx, else default; an operation that declares neither gets a 501 naming it', async () => {
    const s = await petstore();
    const pet = await call(`${s.url}/api/pets/1`);
    expect(pet.status).toBe(200);
    expect(pet.body).toEqual({ id: 1, name: 'Rex', tag: 'dog' });
    expect(pet.headers.get('preference-applied')).toBeNull();
    expect((await call(`${s.url}/api/pets/1`, { method: 'DELETE' })).status).toBe(204);
    const inventory = await call(`${s.url}/api/store/inventory`);
    expect(inventory.status).toBe(200);
    expect(typeof inventory.body).toBe('object');

    const photo = await call(`${s.url}/api/pets/1/photo`, { method: 'PUT' });
    expect(photo.status).toBe(501);
    expect(photo.headers.get('content-type')).toBe('application/problem+json');
    expect(photo.body).toMatchObject({ type: 'urn:understudy:problem:no-response-declared', status: 501, operation: 'uploadPhoto' });
    expect(photo.body.detail).toBe('The contract declares no response to send for uploadPhoto: no 2xx and no default (it declares 400, 404). Ask for one of them with Prefer: code=N.');
    // a declared error is there for the asking
    const missing = await call(`${s.url}/api/pets/1/photo`, { method: 'PUT', headers: { prefer: 'code=404' } });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ code: expect.any(Number), message: expect.any(String) });
  });

  it('Prefer: code=N answers N from its response, else from default, and says so in Preference-Applied', async () => {
    const s = await petstore();
    const teapot = await call(`${s.url}/api/pets/1`, { headers: { prefer: 'code=418' } });
    expect(teapot.status).toBe(418);
    expect(teapot.headers.get('preference-applied')).toBe('code=418');
    expect(Object.keys(teapot.body).sort()).toEqual(['code', 'message']);
    const both = await call(`${s.url}/api/pets/1`, { headers: { prefer: 'code=200, example=tom' } });
    expect(both.body).toEqual({ id: 2, name: 'Tom', tag: 'cat' });
    expect(both.headers.get('preference-applied')).toBe('code=200, example=tom');
    // the same answer made for an earlier request is reused, but its Preference-Applied stays that request's own
    const asked = await call(`${s.url}/api/pets/3`, { headers: { prefer: 'code=200' } });
    const plain = await call(`${s.url}/api/pets/3`);
    expect(asked.headers.get('preference-applied')).toBe('code=200');
    expect(plain.headers.get('preference-applied')).toBeNull();
    expect(plain.text).toBe(asked.text);
    // preferences that are not understudy's are left alone, as RFC 7240 allows
    const minimal = await call(`${s.url}/api/pets/1`, { headers: { prefer: 'return=minimal' } });
    expect(minimal.status).toBe(200);
    expect(minimal.headers.get('preference-applied')).toBeNull();
  });

  it('a remembered answer carries none of the headers later steps added to an earlier one', async () => {
    const s = await start({ contracts: [`${PETSTORE}@/api`], systems: { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false }, erp: { enabled: false }, outbound: { enabled: false } }, faultHeader: true });
    const put = (profile: string) => call(`${s.url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: profile });
    expect((await put('name: slow\nrules:\n  - id: slow\n    match: { operation: findPetById }\n    faults:\n      - latency: 1ms\n')).status).toBe(200);
    const faulted = await call(`${s.url}/api/pets/5`);
    expect(faulted.headers.get('x-understudy-fault')).toBe('slow/latency');
    expect((await put('name: calm\nrules: []\n')).status).toBe(200);
    const calm = await call(`${s.url}/api/pets/5`);
    expect(calm.text).toBe(faulted.text);
    expect(calm.headers.get('x-understudy-fault')).toBeNull();
  });

  it('Prefer: example=NAME is found in whichever media type declares it', async () => {
    const s = await petstore();
    const xml = await call(`${s.url}/api/pets/1`, { headers: { prefer: 'example="rexXml"' } });
    expect(xml.status).toBe(200);
    expect(xml.headers.get('content-type')).toBe('application/xml');
    expect(xml.text).toBe('<pet><id>1</id><name>Rex</name></pet>');
    expect(xml.headers.get('preference-applied')).toBe('example=rexXml');
  });

  it('a preference that cannot be honoured is a 400 saying what is declared, recorded in the journal', async () => {
    const s = await petstore();
    const cases: Array<[string, string, string]> = [
      ['/api/pets/1', 'code=abc', 'Prefer: code=abc is not an HTTP status code.'],
      ['/api/pets/1', 'code=200, example=nope', 'Prefer: example=nope: the 200 response of findPetById has the examples rex, tom, rexXml.'],
      ['/api/pets/1/photo', 'code=500', 'Prefer: code=500: uploadPhoto declares no 500 response and no default (it declares 400, 404).'],
      ['/api/pets/1', 'example=', 'Prefer: example= names no example.'],
    ];
    for (const [path, prefer, detail] of cases) {
      const r = await call(`${s.url}${path}`, { method: path.endsWith('photo') ? 'PUT' : 'GET', headers: { prefer } });
      expect(r.status, prefer).toBe(400);
      expect(r.body).toMatchObject({ type: 'urn:understudy:problem:bad-preference', detail });
    }
    s.engine.flush();
    const [last] = (await call(`${s.url}/__admin/journal?limit=1`)).body.entries;
    expect(last.contract).toEqual({ valid: false, errors: [{ in: 'header', name: 'prefer', message: 'Prefer: example= names no example.' }] });
  });
});

describe('the response check of a remembered generated answer', () => {
  it('runs once per answer and is reported on every request that gets it: a stale example is flagged each time', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'understudy-stale-')), 'stale.openapi.yaml');
    writeFileSync(
      file,
      [
        'openapi: 3.0.3',
        'info: { title: Stale example, version: "1" }',
        'paths:',
        '  /rates/{code}:',
        '    get:',
        '      operationId: getRate',
        '      parameters: [{ name: code, in: path, required: true, schema: { type: string } }]',
        '      responses:',
        "        '200':",
        '          description: a rate',
        '          content:',
        '            application/json:',
        '              schema: { type: object, required: [rate], properties: { rate: { type: number } } }',
        '              example: { rate: "1.08" }',
        '',
      ].join('\n'),
    );
    const s = await start({ contracts: [`${file}@/fx`], systems: { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false }, erp: { enabled: false }, outbound: { enabled: false } } });
    for (let i = 0; i < 3; i++) expect((await call(`${s.url}/fx/rates/EUR`)).body).toEqual({ rate: '1.08' });
    s.engine.flush();
    const entries = (await call(`${s.url}/__admin/journal?operation=getRate`)).body.entries;
    expect(entries).toHaveLength(3);
    for (const e of entries) expect(e.contract.errors).toEqual([{ in: 'response', pointer: '/rate', message: 'must be number' }]);
  });
});
