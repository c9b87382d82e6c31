/**
 * Hostile YAML: alias bombs ("billion laughs", through plain aliases and through merge keys), expansions that slip
 * under the alias limit, deep nesting, oversized texts, dangling aliases, and the `{sku}` that YAML reads as a flow
 * mapping. Every one must be refused quickly with a SourceError naming the limit or the fix, wherever YAML is
 * read: profiles (library, PUT /__admin/chaos, the CLI), config files, and OpenAPI contracts (their own file and
 * files reached through external $refs). Valid documents using anchors and merge keys must still load, so the
 * refusals are not blanket ones.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { profileFromText } from '../../src/chaos/profile.js';
import { readConfigFile } from '../../src/config/config.js';
import { DOCUMENT_LIMITS, SourceError, type SourceProblem } from '../../src/config/yaml-source.js';
import { checkContract, ContractLoadError, loadContract } from '../../src/protocols/rest/contract.js';
import { call, start } from '../helpers.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'understudy-yaml-bounds-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** 9 levels of 9 aliases: 9^9 (387 million) strings once expanded */
function laughs(indent = ''): string {
  const lines = [`${indent}l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]`];
  for (let i = 1; i < 9; i++) lines.push(`${indent}l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(', ')}]`);
  return lines.join('\n') + '\n';
}

/** the same growth through merge keys: every level merges the one below twice over, under new keys */
function mergeLaughs(): string {
  const lines = ['%YAML 1.1', '---', 'm0: &m0 { a: lol, b: lol }'];
  for (let i = 1; i < 30; i++) lines.push(`m${i}: &m${i} { <<: [*m${i - 1}], x: { <<: *m${i - 1} }, y: { <<: *m${i - 1} } }`);
  return lines.join('\n') + '\n';
}

function refusal(fn: () => unknown): SourceProblem[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof SourceError) return err.problems;
    throw err;
  }
  throw new Error('expected a SourceError');
}

const ALIAS_LIMIT = /aliases expand too much: more than 100 alias resolutions \(the limit\)/;
const NODE_LIMIT = /expands to more than 100,000 nodes \(the limit\)/;
const DEPTH_LIMIT = /nests deeper than 64 levels \(the limit\)/;

const BRACES = `name: braces
rules:
  - id: one-sku
    match: { system: wms, path: /wms/v1/inventory/{sku} }
    faults: [reset]
`;

describe('YAML within bounds', () => {
  it('refuses a billion-laughs profile by the alias limit', () => {
    const problems = refusal(() => profileFromText(`name: laughs\nrules: []\n${laughs()}`));
    expect(problems).toHaveLength(1);
    expect(problems[0].message).toMatch(ALIAS_LIMIT);
  });

  it('refuses a bomb built from merge keys by the alias limit', () => {
    const problems = refusal(() => profileFromText(mergeLaughs()));
    expect(problems.map((p) => p.message)).toEqual([expect.stringMatching(ALIAS_LIMIT)]);
  });

  it('refuses an expansion that stays under the alias limit by the node count, pointing at where it grows', () => {
    // 60 uses of one anchor pass the library's alias check (60 × 1 ≤ 100) but make 120,000 nodes
    const text = `rules: []\ndescription: &wide [${Array(2000).fill('x').join(', ')}]\nname: [${Array(60).fill('*wide').join(', ')}]\n`;
    const [problem, ...more] = refusal(() => profileFromText(text));
    expect(more).toEqual([]);
    expect(problem.message).toMatch(NODE_LIMIT);
    expect(problem.line).toBe(3);
    expect(problem.path).toMatch(/^name\b/);
  });

  it('refuses deep nesting by the depth limit, in flow and block style, even after a syntax error', () => {
    const deepFlow = `name: deep\nrules: []\ndescription: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
    const deepBlock = `name: deep\nrules: []\ndescription:\n  ${'- '.repeat(100_000)}x\n`;
    const brokenThenDeep = `name: : deep\n${'{'.repeat(100_000)}\n`;
    const anchoredDeep = `name: &n deep\nrules: []\ndescription: ${'['.repeat(65)}${']'.repeat(65)}\n`;
    for (const text of [deepFlow, deepBlock, brokenThenDeep, anchoredDeep]) {
      const problems = refusal(() => profileFromText(text));
      expect(problems.map((p) => p.message), text.slice(0, 40)).toEqual([expect.stringMatching(DEPTH_LIMIT)]);
    }
    // 64 levels are allowed: the limit is where it says it is
    const atLimit = `name: deep\nrules: []\ndescription: ${'['.repeat(63)}${']'.repeat(63)}\n`;
    expect(refusal(() => profileFromText(atLimit)).map((p) => p.message)).toEqual(['description is a string']);
  });

  it('refuses a text over the size limit before parsing it', () => {
    const big = `name: big\ndescription: "${'x'.repeat(DOCUMENT_LIMITS.maxBytes)}"\nrules: []\n`;
    expect(refusal(() => profileFromText(big))[0].message).toMatch(/is 1,048,6\d\d bytes, more than the limit of 1,048,576/);
  });

  it('points at an alias whose anchor does not exist', () => {
    expect(refusal(() => profileFromText('name: dangling\nrules: *nowhere\n'))).toEqual([
      { file: '(request body)', line: 2, column: 8, path: '', message: '*nowhere refers to no anchor: write &nowhere on a node before it' },
    ]);
  });

  it('still loads anchors, aliases and merge keys used the ordinary way', () => {
    const profile = profileFromText(`name: shared
rules:
  - id: reads
    match: &wms { system: wms, method: GET }
    faults: [reset]
  - id: slow-reads
    match: { <<: *wms, path: '/wms/v1/inventory/{sku}' }
    faults: [ { latency: 100ms } ]
`);
    expect(profile.rules.map((r) => r.id)).toEqual(['reads', 'slow-reads']);
    // the merge took effect: the second rule matches only WMS GETs of inventory
    expect(profileFromText(`name: inline-merge\nrules:\n  - id: r\n    match: { <<: { system: wms }, method: GET }\n    faults: [reset]\n`).rules).toHaveLength(1);
  });

  it('names the fix for an unquoted {sku} inside a flow mapping, once, on its line', () => {
    expect(refusal(() => profileFromText(BRACES))).toEqual([
      {
        file: '(request body)',
        line: 4,
        column: 33,
        path: '',
        message: "quote the path: path: '/wms/v1/inventory/{sku}' — braces start a flow mapping in YAML",
      },
    ]);
    const inList = BRACES.replace('path: /wms/v1/inventory/{sku}', 'path: [/wms/v1/items, /wms/v1/inventory/{sku}]');
    expect(refusal(() => profileFromText(inList)).map((p) => [p.line, p.message])).toEqual([[4, "quote it: '/wms/v1/inventory/{sku}' — braces start a flow mapping in YAML"]]);
    // quoted, or in block style (where YAML has no flow mapping to start), the same path is fine
    expect(profileFromText(BRACES.replace('/wms/v1/inventory/{sku}', "'/wms/v1/inventory/{sku}'")).rules).toHaveLength(1);
    const block = BRACES.replace('match: { system: wms, path: /wms/v1/inventory/{sku} }', 'match:\n      system: wms\n      path: /wms/v1/inventory/{sku}');
    expect(profileFromText(block).rules).toHaveLength(1);
  });

  it('refuses a config file bomb with the file and the limit', () => {
    const path = file('bomb-config.yaml', `port: 8080\n${laughs()}`);
    const [problem] = refusal(() => readConfigFile(path, {}));
    expect(problem.file).toBe(path);
    expect(problem.message).toMatch(ALIAS_LIMIT);
  });
});

describe('OpenAPI contracts within bounds', () => {
  const header = 'openapi: 3.0.3\ninfo: { title: bomb, version: "1" }\npaths: {}\n';

  it('refuses a billion-laughs contract with a load error instead of hanging the validator', async () => {
    const path = file('laughs.openapi.yaml', `${header}x-laughs:\n${laughs('  ')}`);
    await expect(loadContract(path, { validate: true })).rejects.toThrow(ContractLoadError);
    await expect(loadContract(path, { validate: false })).rejects.toThrow(/expands to more than 2,000,000 nodes \(the limit\)/);
    const problems = await checkContract(path);
    expect(problems).toEqual([expect.stringMatching(/expands to more than 2,000,000 nodes \(the limit\)/)]);
  });

  it('refuses a bomb in a file reached through an external $ref, naming that file', async () => {
    const bomb = file('shared-bomb.yaml', laughs());
    const path = file(
      'refs.openapi.yaml',
      `${header.replace('paths: {}\n', '')}paths:\n  /x:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: { $ref: './shared-bomb.yaml#/l8' }\n`,
    );
    const error = await loadContract(path, { validate: true }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ContractLoadError);
    expect((error as ContractLoadError).message).toContain(`${bomb} (referenced by a $ref)`);
    expect((error as ContractLoadError).message).toMatch(/more than 2,000,000 nodes/);
  });

  it('exits 2 from `serve --contract` with the load error', async () => {
    const path = file('cli-laughs.openapi.yaml', `${header}x-laughs:\n${laughs('  ')}`);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--port', '0', '--contract', path], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c) => (stderr += c));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(stderr).toContain(`understudy: ${path}: `);
    expect(stderr).toMatch(/more than 2,000,000 nodes \(the limit\)/);
  });
});

describe('PUT /__admin/chaos with hostile YAML', () => {
  const put = (url: string, body: string) => call(`${url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body });

  it('answers 400 naming the limit for bombs, keeps the old profile, and keeps serving traffic meanwhile', async () => {
    const s = await start();
    const inventory = `${s.url}/wms/v1/inventory/SKU-1`;
    // the bomb and an ordinary request in flight together: both are answered
    const [bomb, during] = await Promise.all([put(s.url, `name: laughs\nrules: []\n${laughs()}`), call(inventory)]);
    expect(bomb.status).toBe(400);
    expect(bomb.body.errors.map((e: { message: string }) => e.message)).toEqual([expect.stringMatching(ALIAS_LIMIT)]);
    expect(during.status).toBe(200);

    const merge = await put(s.url, mergeLaughs());
    expect(merge.status).toBe(400);
    expect(merge.body.errors[0].message).toMatch(ALIAS_LIMIT);
    const deep = await put(s.url, `name: deep\nrules: []\ndescription: ${'['.repeat(200_000)}\n`);
    expect(deep.status).toBe(400);
    expect(deep.body.errors[0].message).toMatch(DEPTH_LIMIT);

    expect((await call(inventory)).status).toBe(200);
    expect((await call(`${s.url}/__admin/chaos`)).body.profile.name).toBe('calm');
  });

  it('answers 400 with one problem for an unquoted {sku}', async () => {
    const s = await start();
    const r = await put(s.url, BRACES);
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([{ line: 4, column: 33, path: '', message: "quote the path: path: '/wms/v1/inventory/{sku}' — braces start a flow mapping in YAML" }]);
  });
});
