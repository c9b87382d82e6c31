/**
 * `x-understudy-greedy: true` on a path parameter that ends its template: the parameter takes the rest of the
 * path, slashes included, and is validated as one string; the rest must not be empty; a contract that puts it
 * anywhere else is refused at start-up, naming the operation. Served through --contract, through real sockets.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { call, start } from '../../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'understudy-greedy-'));

function contract(name: string, path: string, parameters: string): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `openapi: 3.0.3
info: { title: files, version: '1' }
servers: [ { url: /files } ]
paths:
  ${path}:
    get:
      operationId: getFile
      parameters:
${parameters}
      responses:
        '200':
          description: the file
          content: { application/json: { schema: { type: object, properties: { ok: { type: boolean } } }, example: { ok: true } } }
`,
  );
  return file;
}

const ONLY_CONTRACTS = { systems: { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false } } };

describe('a greedy path parameter', () => {
  it('takes the rest of the path, slashes included, validated as one string', async () => {
    // the pattern wants a slash: only a value that spans segments passes
    const file = contract(
      'greedy.yaml',
      '/blobs/{key}',
      '        - { name: key, in: path, required: true, x-understudy-greedy: true, schema: { type: string, pattern: "^[a-z]+(/[a-z]+)+$" } }',
    );
    const s = await start({ ...ONLY_CONTRACTS, contracts: [file] });
    const deep = await call(`${s.url}/files/blobs/a/b/c`);
    expect([deep.status, deep.body]).toEqual([200, { ok: true }]);
    expect((await call(`${s.url}/files/blobs/a%2Fb`)).status).toBe(200);
    const one = await call(`${s.url}/files/blobs/abc`);
    expect(one.status).toBe(400);
    expect(one.body.errors).toEqual([expect.objectContaining({ in: 'path', name: 'key' })]);
    // like {param}, the rest is never empty; the route itself stays exact
    for (const path of ['/files/blobs/', '/files/blobs', '/files/blob/a/b']) expect((await call(`${s.url}${path}`)).status, path).toBe(404);
    const journal = await call(`${s.url}/__admin/journal?operation=getFile&status=200`);
    expect(journal.body.entries.map((e: { path: string }) => e.path).sort()).toEqual(['/files/blobs/a%2Fb', '/files/blobs/a/b/c']);
  });

  it('is refused anywhere but at the end of the template', async () => {
    const file = contract(
      'misplaced.yaml',
      '/blobs/{key}/meta',
      '        - { name: key, in: path, required: true, x-understudy-greedy: true, schema: { type: string } }',
    );
    await expect(start({ ...ONLY_CONTRACTS, contracts: [file] })).rejects.toThrow(/getFile: x-understudy-greedy fits one path parameter, the one that ends the template/);
  });
});
