/**
 * Load-time honesty for user contracts (issue #14 §1: "never silently drop validation"): what understudy cannot
 * validate as written stops the server at start, naming the operation, the schema's place and why, unless
 * `lenient` (--lenient, `lenient: true`, UNDERSTUDY_LENIENT=1) says to serve it unvalidated with a warning; formats
 * understudy does not know are warnings either way. And the issue's large document, STAPI (169 operations): it
 * loads, and every operation answers with a generated response whose status it declares.
 */
import { describe, expect, it } from 'vitest';
import { readConfigFile, resolveConfig } from '../../../src/config/config.js';
import { readEnvironment } from '../../../src/config/serve-options.js';
import { ContractLoadError, loadContract } from '../../../src/protocols/rest/contract.js';
import type { CompiledOperation } from '../../../src/protocols/rest/operations.js';
import type { RestEngine } from '../../../src/protocols/rest/rest-engine.js';
import { call, cliProcess, processOutcome, start } from '../../helpers.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const fixture = (name: string) => new URL(`../../fixtures/third-party/${name}`, import.meta.url).pathname;
const STAPI = fixture('stapi.openapi.yaml');
const BROKEN = fixture('stapi-unvalidatable.openapi.yaml');
const BROKEN_31 = fixture('stapi-unvalidatable-31.openapi.yaml');
const OFF = { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false }, erp: { enabled: false }, outbound: { enabled: false } } as const;

const engineOf = (s: Awaited<ReturnType<typeof start>>, name: string) => s.engine.systems.find((x) => x.name === name)!.engine as RestEngine;

describe('load-time checks of a contract', () => {
  it('what cannot be validated stops the start, naming the operation, the place and why', async () => {
    const refused = start({ contracts: [`${BROKEN}@/stapi`], systems: OFF });
    await expect(refused).rejects.toThrow(/stapi-unvalidatable\.openapi\.yaml: 2 constructs cannot be validated as written \(--lenient, lenient: true in a config file or UNDERSTUDY_LENIENT=1/);
    const message = await refused.catch((err: Error) => err.message);
    expect(message).toContain(
      'v1GetAnimal query parameters: #/paths/~1v1~1rest~1animal/get/parameters/0/schema: pattern "^[\\w-.]+$" is not a regular expression: Invalid regular expression: /^[\\w-.]+$/u: Invalid character class',
    );
    expect(message).toContain('v1PageAnimals query parameter filter: #/paths/~1v1~1rest~1animal~1search/get/parameters/1/content: a parameter described by `content` (a media type) is not validated by understudy');
  });

  it('OpenAPI 3.1 documents with Swagger 2.0 and 3.0 habits: each construct named', async () => {
    const message = await start({ contracts: [`${BROKEN_31}@/stapi`], systems: OFF }).catch((err: Error) => err.message);
    expect(message).toMatch(/3 constructs cannot be validated as written/);
    expect(message).toContain('v1PageAnimals query parameters: #/paths/~1v1~1rest~1animal~1search/get/parameters/0/schema: exclusiveMinimum is true, not a number');
    expect(message).toContain('v1SearchAnimals form body: #/paths/~1v1~1rest~1animal~1search/post/requestBody/content/application~1x-www-form-urlencoded/schema/properties/name: required is true, not a list of property names');
    expect(message).toContain('v1AddAnimalPhoto multipart body: #/paths/~1v1~1rest~1animal~1photo/post/requestBody/content/multipart~1form-data/schema/properties/photo: type "file" is not a JSON Schema type');
  });

  it('lenient: the server starts, says what is served unvalidated, and serves it', async () => {
    const s = await start({ contracts: [`${BROKEN}@/stapi`], systems: OFF, lenient: true });
    const warnings = engineOf(s, 'stapi').loadWarnings;
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^v1GetAnimal query parameters: #\/paths\/~1v1~1rest~1animal\/get\/parameters\/0\/schema: pattern .* — served unvalidated \(lenient\)$/),
        expect.stringMatching(/^v1PageAnimals query parameter filter: .* — served unvalidated \(lenient\)$/),
      ]),
    );
    // the query parameters of v1GetAnimal are not checked (one validator for them all); other validators are
    expect((await call(`${s.url}/stapi/v1/rest/animal?uid=any%20thing`)).status).toBe(200);
    const page = await call(`${s.url}/stapi/v1/rest/animal/search?pageNumber=abc&filter=%7B%7D`);
    expect(page.status).toBe(400);
    expect(page.body.errors).toEqual([{ in: 'query', name: 'pageNumber', message: 'must be integer' }]);
    // said once, at start: compiling the rest after listening adds nothing about it
    expect(await s.ready).toEqual([]);
  });

  it('a format understudy does not know is a warning, not an error (an annotation, as JSON Schema has it)', async () => {
    const s = await start({ contracts: [`${BROKEN}@/stapi`], systems: OFF, lenient: true });
    expect(engineOf(s, 'stapi').loadWarnings).toContain(
      'format "stardate" is not one understudy knows, so it is not checked (an annotation, as JSON Schema has it): at /paths/~1v1~1rest~1animal~1sighting/get/responses/200/content/application~1json/schema/properties/seenAt',
    );
  });

  it('--lenient, UNDERSTUDY_LENIENT and lenient: in a config file are read', async () => {
    expect(readEnvironment({ UNDERSTUDY_LENIENT: '1' }).values.lenient).toBe(true);
    expect(readEnvironment({ UNDERSTUDY_LENIENT: 'maybe' }).problems).toEqual(['UNDERSTUDY_LENIENT=maybe is not a boolean: use true, false, 1, 0, yes, no, on or off']);
    const dir = mkdtempSync(join(tmpdir(), 'understudy-lenient-'));
    const file = join(dir, 'understudy.yaml');
    writeFileSync(file, 'lenient: true\n');
    expect(resolveConfig(readConfigFile(file), {}).lenient).toBe(true);
    expect(resolveConfig(undefined, {}).lenient).toBe(false);
    expect(resolveConfig(readConfigFile(file), { lenient: false }).lenient).toBe(false);
    writeFileSync(file, 'lenient: sometimes\n');
    expect(() => readConfigFile(file)).toThrow(/lenient/);

    // the command line: refused without the flag (exit code and message), served with it
    const strict = await processOutcome(cliProcess(['serve', '--port', '0', '--data-dir', '', '--contract', `${BROKEN}@/stapi`]));
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toMatch(/2 constructs cannot be validated as written/);
    const lenient = cliProcess(['serve', '--port', '0', '--data-dir', '', '--lenient', '--contract', `${BROKEN}@/stapi`]);
    const output = await new Promise<string>((resolve, reject) => {
      let err = '';
      lenient.stderr!.on('data', (c) => {
        err += c;
        if (err.includes('format "stardate"')) resolve(err);
      });
      lenient.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
    lenient.kill();
    expect(output).toMatch(/understudy: warning: stapi: v1GetAnimal query parameters: .* — served unvalidated \(lenient\)/);
  }, 60_000);

  it('the built-in contracts load under the check', async () => {
    const s = await start({});
    for (const system of s.engine.systems) if ('loadWarnings' in system.engine) expect((system.engine as RestEngine).loadWarnings, system.name).toEqual([]);
  });
});

describe('a valid document remembered between starts', () => {
  it('is read from memory while its file is unchanged, and read and checked again once it changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'understudy-remembered-'));
    const file = join(dir, 'vendor.openapi.yaml');
    const source = readFileSync(fixture('upload-petstore.openapi.yaml'), 'utf8');
    writeFileSync(file, source.replace('version: 1.0.7', 'version: 1.0.7\n  x-released: 2024-05-01'));
    const first = await loadContract(file, { validate: true });
    const again = await loadContract(file, { validate: true });
    expect(again.document).toEqual(first.document);
    // a YAML date stays a date
    expect((again.document.info as unknown as Record<string, unknown>)['x-released']).toBeInstanceOf(Date);
    // the same path, other bytes: a document the specification refuses is refused, not served from memory
    writeFileSync(file, source.replace(/ {6}responses:\n {8}'200':\n {10}description: successful operation\n {10}content:/, '      content:'));
    await expect(loadContract(file, { validate: true })).rejects.toThrow(ContractLoadError);
    writeFileSync(file, source.replace('title: Swagger Petstore', 'title: Renamed Petstore'));
    expect((await loadContract(file, { validate: true })).document.info.title).toBe('Renamed Petstore');
  });
});

describe('the specification check the command starts early, on another thread', () => {
  it('refuses a document the specification refuses, with the checker\'s words, and serves a valid one, on a cold start', async () => {
    // a temporary directory of its own: nothing remembered, so the check runs (in the worker) on each start
    const cold = { TMPDIR: mkdtempSync(join(tmpdir(), 'understudy-cold-')) };
    const dir = mkdtempSync(join(tmpdir(), 'understudy-spec-'));
    const file = join(dir, 'vendor.openapi.yaml');
    const source = readFileSync(fixture('upload-petstore.openapi.yaml'), 'utf8');
    writeFileSync(file, source.replace(/ {6}responses:\n {8}'200':\n {10}description: successful operation\n {10}content:/, '      content:'));
    const refused = await processOutcome(cliProcess(['serve', '--port', '0', '--data-dir', '', '--contract', `${file}@/vendor`], cold));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(file);
    expect(refused.stderr).toMatch(/responses/);

    writeFileSync(file, source);
    const served = cliProcess(['serve', '--port', '0', '--data-dir', '', '--contract', `${file}@/vendor`], cold);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      served.stdout!.on('data', (c) => {
        out += c;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      served.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    try {
      expect((await call(`${url}/vendor/pet/7`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=Rex' })).status).toBe(200);
    } finally {
      served.kill();
    }
  }, 60_000);
});

describe('STAPI, the issue\'s large document (169 operations)', () => {
  it('loads, and every operation answers with a generated response of a status it declares', async () => {
    const s = await start({ contracts: [`${STAPI}@/stapi`], systems: OFF });
    const engine = engineOf(s, 'stapi');
    expect(engine.loadWarnings).toEqual([]);
    expect(engine.operations.length).toBe(169);
    const failures: string[] = [];
    for (const op of engine.operations as CompiledOperation[]) {
      const query = (op.operation.parameters ?? [])
        .map((p) => p as { name: string; in: string; required?: boolean; schema?: { type?: string } })
        .filter((p) => p.in === 'query' && p.required)
        .map((p) => `${p.name}=${p.schema?.type === 'integer' ? 1 : 'X'}`)
        .join('&');
      const url = `${s.url}${op.template}${query ? `?${query}` : ''}`;
      const init: RequestInit = op.method === 'POST' ? { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=Worf' } : { method: op.method };
      const r = await call(url, init);
      const declared = [...op.responses.keys()];
      if (!declared.includes(String(r.status)) || r.status >= 400) failures.push(`${op.method} ${op.template}: ${r.status} (declares ${declared.join(', ')}) ${r.text.slice(0, 200)}`);
    }
    expect(failures).toEqual([]);
    // and the answers met the contract: no response problem in the journal
    const journal = await call(`${s.url}/__admin/journal?limit=1000`);
    const problems = (journal.body.entries ?? []).filter((e: { contract?: { valid: boolean } }) => e.contract && !e.contract.valid);
    expect(problems).toEqual([]);
  }, 60_000);
});
