/**
 * multipart/form-data request bodies of a user contract (issue #14 §1), on a document shaped like the Swagger
 * Petstore's uploadFile and a bulk import: text parts coerced to the schema's types, a JSON part by its encoding,
 * an `explode: false` list split, file parts checked for presence without being kept; and hostile bodies (no
 * boundary, a garbled one, no closing boundary, 10,000 parts, a 10 MB part, a malformed part header) refused with
 * a 400 naming the problem while the server keeps serving.
 */
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../../src/engine/exchange.js';
import { loadContract } from '../../../src/protocols/rest/contract.js';
import { RestEngine } from '../../../src/protocols/rest/rest-engine.js';
import { call, start } from '../../helpers.js';

const UPLOAD = new URL('../../fixtures/third-party/upload-petstore.openapi.yaml', import.meta.url).pathname;
const OFF = { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false }, erp: { enabled: false }, outbound: { enabled: false } } as const;

function importForm(fields: Record<string, string | string[]>, files: Record<string, Array<[string, string, string]>> = {}): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) form.append(name, v);
  for (const [name, list] of Object.entries(files)) for (const [filename, type, content] of list) form.append(name, new Blob([content], { type }), filename);
  return form;
}

const SHEET = { sheet: [['pets.csv', 'text/csv', 'name,status\nRex,available\n']] as Array<[string, string, string]> };

/** a body written by hand: what a broken or hostile client sends */
function raw(url: string, body: string | Buffer, contentType: string) {
  return call(url, { method: 'POST', headers: { 'content-type': contentType }, body });
}

describe('multipart/form-data request bodies', () => {
  it("the Petstore's uploadFile: a file and a text part accepted, the generated answer declared; the file is required", async () => {
    const s = await start({ contracts: [`${UPLOAD}@/petstore`], systems: OFF });
    const form = new FormData();
    form.append('additionalMetadata', 'front view');
    form.append('file', new Blob([Buffer.alloc(2048, 7)], { type: 'image/png' }), 'rex.png');
    const ok = await call(`${s.url}/petstore/pet/12/uploadImage`, { method: 'POST', body: form });
    expect(ok.status).toBe(200);
    expect(typeof ok.body.code).toBe('number');

    const noFile = new FormData();
    noFile.append('additionalMetadata', 'no picture');
    const refused = await call(`${s.url}/petstore/pet/12/uploadImage`, { method: 'POST', body: noFile });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ in: 'body', pointer: '/file', message: "must have required property 'file'" }]);
  });

  it('text parts are coerced to the schema: petId=abc and dryRun=notabool refused naming the part; rows=10 is an integer', async () => {
    const s = await start({ contracts: [`${UPLOAD}@/petstore`], systems: OFF });
    const url = `${s.url}/petstore/pet/import`;
    expect((await call(url, { method: 'POST', body: importForm({ petId: '12', rows: '10', dryRun: 'true' }, SHEET) })).status).toBe(200);

    const bad = await call(url, { method: 'POST', body: importForm({ petId: 'abc', rows: '10', dryRun: 'notabool' }, SHEET) });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual(
      expect.arrayContaining([
        { in: 'body', pointer: '/petId', message: 'must be integer' },
        { in: 'body', pointer: '/dryRun', message: 'must be boolean' },
      ]),
    );
    const tooMany = await call(url, { method: 'POST', body: importForm({ petId: '12', rows: '5000' }, SHEET) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors).toEqual([{ in: 'body', pointer: '/rows', message: 'must be <= 1000' }]);

    // a part the schema does not have (additionalProperties: false), and more photos than maxItems
    const photos = Array.from({ length: 4 }, (_, i) => [`p${i}.jpg`, 'image/jpeg', 'JPEG'] as [string, string, string]);
    const extra = await call(url, { method: 'POST', body: importForm({ petId: '12', owner: 'ann' }, { ...SHEET, photos }) });
    expect(extra.status).toBe(400);
    expect(extra.body.errors).toEqual(
      expect.arrayContaining([
        { in: 'body', pointer: '/owner', message: 'is not allowed here by the contract' },
        { in: 'body', pointer: '/photos', message: 'must NOT have more than 3 items' },
      ]),
    );
  });

  it('what a handler gets: numbers, booleans, the JSON part parsed, the explode: false list split, files as placeholders', async () => {
    const contract = await loadContract(UPLOAD, { validate: true });
    const engine = await RestEngine.create(contract, '/petstore', {});
    const form = importForm(
      { petId: '12', rows: '10', dryRun: 'false', options: '{"overwrite":true,"sheetName":"Pets"}', columns: 'name,status' },
      { ...SHEET, photos: [['a.jpg', 'image/jpeg', 'AAAA'], ['b.jpg', 'image/jpeg', 'BBBBBB']] },
    );
    const request = new Request('http://x/', { method: 'POST', body: form });
    const exchange = {
      method: 'POST',
      path: '/petstore/pet/import',
      rawQuery: '',
      prefix: '',
      headers: { 'content-type': request.headers.get('content-type')! },
      body: Buffer.from(await request.arrayBuffer()),
      contractErrors: [],
    } as unknown as Exchange;
    const resolution = engine.resolve(exchange);
    if (!('operation' in resolution) || resolution.operation === undefined) throw new Error('not routed');
    exchange.operation = resolution.operation;
    exchange.params = resolution.params;
    expect(engine.validateRequest(exchange)).toBeUndefined();
    // what validation hands on: the request body a handler of the operation is given
    const seen = (exchange.parsed as { body: object }).body;
    expect({ ...seen }).toEqual({
      petId: 12,
      rows: 10,
      dryRun: false,
      options: { overwrite: true, sheetName: 'Pets' },
      columns: ['name', 'status'],
      sheet: '[file pets.csv, text/csv, 26 bytes]',
      photos: ['[file a.jpg, image/jpeg, 4 bytes]', '[file b.jpg, image/jpeg, 6 bytes]'],
    });
  });

  it('a JSON part that is not JSON, and a list item outside its enum, are named', async () => {
    const s = await start({ contracts: [`${UPLOAD}@/petstore`], systems: OFF });
    const r = await call(`${s.url}/petstore/pet/import`, { method: 'POST', body: importForm({ petId: '1', options: '{overwrite', columns: 'name,colour' }, SHEET) });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ in: 'body', pointer: '/options', message: expect.stringMatching(/^is not valid JSON, as its content type says it is/) }),
        expect.objectContaining({ in: 'body', pointer: '/columns/1', message: expect.stringMatching(/^must be equal to one of the allowed values/) }),
      ]),
    );
  });

  it('hostile and broken bodies: a 400 naming the problem, and the server answers the next request', async () => {
    const s = await start({ contracts: [`${UPLOAD}@/petstore`], systems: OFF, limits: { bodyBytes: 24 * 1024 * 1024 } });
    const url = `${s.url}/petstore/pet/import`;
    const part = (name: string, value: string, b = 'B0und') => `--${b}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const fine = () => call(url, { method: 'POST', body: importForm({ petId: '1' }, SHEET) });
    const cases: Array<[string, string | Buffer, string, RegExp]> = [
      ['no boundary', part('petId', '1') + '--B0und--\r\n', 'multipart/form-data', /has no boundary parameter/],
      ['a garbled boundary', part('petId', '1') + '--B0und--\r\n', 'multipart/form-data; boundary=Other', /does not contain the boundary "Other"/],
      ['no closing boundary', part('petId', '1'), 'multipart/form-data; boundary=B0und', /ends before the closing boundary \(--B0und--\)/],
      ['10,000 parts', Array.from({ length: 10_000 }, (_, i) => part(`p${i}`, 'x')).join('') + '--B0und--\r\n', 'multipart/form-data; boundary=B0und', /more than 1000 parts/],
      ['a 10 MB text part', part('petId', '1'.repeat(10 * 1024 * 1024)) + '--B0und--\r\n', 'multipart/form-data; boundary=B0und', /the part "petId" is longer than 1048576 bytes/],
      ['a part header of 20 KB', `--B0und\r\nContent-Disposition: form-data; name="petId"\r\nX-Filler: ${'f'.repeat(20_000)}\r\n\r\n1\r\n--B0und--\r\n`, 'multipart/form-data; boundary=B0und', /Malformed part header/],
    ];
    for (const [what, body, type, message] of cases) {
      const r = await raw(url, body, type);
      expect(r.status, what).toBe(400);
      expect(r.body.errors[0].message, what).toMatch(message);
      expect(r.body.errors[0].message, what).toMatch(/^the multipart body cannot be read: /);
      expect((await fine()).status, `after ${what}`).toBe(200);
    }
    // a 10 MB file is a file: its size within limits.bodyBytes, its bytes not kept
    const big = importForm({ petId: '1' }, { sheet: [['big.csv', 'text/csv', 'x'.repeat(10 * 1024 * 1024)]] });
    expect((await call(url, { method: 'POST', body: big })).status).toBe(200);
  });

  it('past limits.bodyBytes the body is refused whole (413), and the server keeps serving', async () => {
    const s = await start({ contracts: [`${UPLOAD}@/petstore`], systems: OFF, limits: { bodyBytes: 1024 * 1024 } });
    const url = `${s.url}/petstore/pet/import`;
    const big = importForm({ petId: '1' }, { sheet: [['big.csv', 'text/csv', 'x'.repeat(2 * 1024 * 1024)]] });
    expect((await call(url, { method: 'POST', body: big })).status).toBe(413);
    expect((await call(url, { method: 'POST', body: importForm({ petId: '1' }, SHEET) })).status).toBe(200);
  });

  it("updatePetWithForm: the urlencoded form's enum checked, and its petId path parameter coerced", async () => {
    const s = await start({ contracts: [`${UPLOAD}@/petstore`], systems: OFF });
    const form = (body: string, id = '12') => call(`${s.url}/petstore/pet/${id}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect((await form('name=Rex&status=sold')).status).toBe(200);
    const bad = await form('name=Rex&status=lost', 'abc');
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual(
      expect.arrayContaining([
        { in: 'path', name: 'petId', message: 'must be integer' },
        expect.objectContaining({ in: 'body', pointer: '/status' }),
      ]),
    );
  });
});
