/**
 * A rule whose match names something the server does not mount would load and never fire: a chaos drill that
 * silently does nothing. These tests drive the check the way a user meets it: PUT /__admin/chaos on a server
 * mounting the WMS and a --contract (400 naming the line, the field and a suggestion or the valid values; the
 * old profile still active), `--profile` at start-up, and `understudy profiles check` (exit 1 with
 * file:line:column lines; `--contract` makes a contract's operations known). Accepted globs are shown to fire,
 * so the check does not refuse rules that work.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { call, start, VENDOR_CONTRACT } from '../helpers.js';

const ROOT = new URL('../../', import.meta.url).pathname;

/** a one-rule profile matching `match` (YAML flow map) and answering 503 */
const profile = (match: string) => `name: typo\nrules:\n  - id: r\n    match: ${match}\n    faults: [ { status: { code: 503 } } ]\n`;

const put = (url: string, body: string) => call(`${url}/__admin/chaos`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body });

async function server() {
  // the WMS at /wms/v1 and the vendor fixture at /vendor (operations listAccounts, getAccount, createUser ...)
  const s = await start({ contracts: [`${VENDOR_CONTRACT}@/vendor`], systems: { wms: { skus: 5 } } });
  expect((await put(s.url, profile('{ system: wms }'))).status).toBe(200);
  return { url: s.url };
}

describe('PUT /__admin/chaos refuses match values that name nothing mounted', () => {
  it('each typo gets 400 with its line, its path and "did you mean" or the valid values; the old profile stays', async () => {
    const { url } = await server();
    const cases: Array<[string, string, RegExp]> = [
      ['{ system: wsm }', 'rules.0.match.system', /^no system named wsm is mounted \(did you mean wms\?\)$/],
      ['{ system: crm }', 'rules.0.match.system', /^no system named crm is mounted; mounted: wms, payments, alerts, erp, outbound, vendor, oauth$/],
      ['{ system: [wms, wsm] }', 'rules.0.match.system.1', /did you mean wms\?/],
      ['{ system: "/wm.*/" }', 'rules.0.match.system', /takes names, not \/regular expressions\//],
      ['{ operation: getInventroy }', 'rules.0.match.operation', /^no mounted system has an operation getInventroy \(did you mean getInventory\?\)$/],
      ['{ operation: shipEverything }', 'rules.0.match.operation', /; operations: listItems, getItem, .*\(\d+ in all\)$/],
      ['{ system: wms, operation: getAcount }', 'rules.0.match.operation', /^wms has no operation getAcount; its operations: listItems/],
      ['{ system: vendor, operation: getInventory }', 'rules.0.match.operation', /^getInventory is an operation of wms, not of vendor$/],
      ['{ method: PSOT }', 'rules.0.match.method', /^no mounted route takes PSOT; methods: GET, HEAD, POST, DELETE/],
      ['{ operation: getInventory, method: POST }', 'rules.0.match.method', /^getInventory takes GET, HEAD, not POST$/],
      ['{ path: "/wms/v1/inventroy/{sku}" }', 'rules.0.match.path', /^no mounted route matches \/wms\/v1\/inventroy\/\{sku\} \(did you mean \/wms\/v1\/inventory\/\{sku\}\?\)$/],
      ['{ system: wms, path: /wms/v1/reservation }', 'rules.0.match.path', /^no route of wms matches \/wms\/v1\/reservation \(did you mean \/wms\/v1\/reservations\?\)$/],
      ['{ path: "/crm/**" }', 'rules.0.match.path', /^no mounted route matches \/crm\/\*\*; mounts: \/wms\/v1 \(wms\), \/payments\/v1 \(payments\), \/alerts \(alerts\), \/erp\/soap \(erp\), \/erp\/odata\/v4 \(erp\), \/erp\/odata\/v2 \(erp\), \/sfdc\/outbound \(outbound\), \/vendor \(vendor\), \/oauth \(oauth\), \/\.well-known \(oauth\)$/],
      ['{ system: vendor, path: /wms/v1/items }', 'rules.0.match.path', /^\/wms\/v1\/items is a route of wms, not of vendor$/],
      ['{ method: DELETE, path: /wms/v1/inventory/SKU-1 }', 'rules.0.match.path', /is served only by GET getInventory, which the rule's method excludes/],
    ];
    for (const [match, path, message] of cases) {
      const r = await put(url, profile(match));
      expect(r.status, match).toBe(400);
      expect(r.body.detail).toMatch(/the active profile is unchanged/);
      expect(r.body.errors, match).toEqual([{ line: 4, column: expect.any(Number), path, message: expect.stringMatching(message) }]);
    }
    const active = await call(`${url}/__admin/chaos`);
    expect(active.body.profile.name).toBe('typo');
    expect(active.body.text).toContain('match: { system: wms }');
  });

  it('lists every wrong value of a rule at once, and does not check client, header or workspace', async () => {
    const { url } = await server();
    const r = await put(url, profile('{ system: wsm, operation: getInventroy, path: /wms/v1/inventroy/SKU-1 }'));
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['rules.0.match.operation', 'rules.0.match.path', 'rules.0.match.system']);
    const unchecked = await put(url, profile('{ client: nobody-yet, header: { X-Tenant: acme }, workspace: not-created-yet }'));
    expect(unchecked.status).toBe(200);
  });

  it('accepts templates, concrete paths and globs that reach a route, and those rules fire', async () => {
    const { url } = await server();
    for (const match of [
      '{ system: [wms, vendor], operation: [getInventory, getAccount] }',
      '{ path: "/wms/v1/inventory/{sku}", method: [get, HEAD] }',
      '{ path: "/wms/**" }',
      '{ path: "/**/stock" }',
      '{ path: "/vendor/accounts/ACC-1" }',
    ]) {
      expect((await put(url, profile(match))).status, match).toBe(200);
    }
    // a glob with a wildcard where the route has a literal, and a literal where it has a parameter
    expect((await put(url, profile('{ system: wms, path: "/wms/*/inventory/SKU-1" }'))).status).toBe(200);
    expect((await call(`${url}/wms/v1/inventory/SKU-1`)).status).toBe(503);
    expect((await call(`${url}/wms/v1/inventory/SKU-2`)).status).toBe(200);
  });

  it('a server without the WMS refuses the built-in profiles that target it, at PUT and at start-up', async () => {
    const s = await start({ contracts: [`${VENDOR_CONTRACT}@/vendor`], systems: { wms: { enabled: false } } });
    const r = await call(`${s.url}/__admin/chaos?profile=rate-limited`, { method: 'PUT' });
    expect(r.status).toBe(400);
    expect(r.body.errors[0]).toMatchObject({ path: 'rules.0.match.system', message: 'no system named wms is mounted; mounted: payments, alerts, erp, outbound, vendor, oauth' });
    expect((await call(`${s.url}/__admin/chaos`)).body.profile.name).toBe('calm');
    await expect(start({ contracts: [`${VENDOR_CONTRACT}@/vendor`], systems: { wms: { enabled: false } }, profile: 'outage-drill' })).rejects.toThrow(
      /outage-drill\.yaml:\d+:\d+: timeline\.1\.rules\.0\.match\.system: no system named wms is mounted/,
    );
  });
});

describe('understudy profiles check', () => {
  function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    // UNDERSTUDY_* set as the Docker image sets them: serve's variables must not trouble other commands
    const env = { ...process.env, UNDERSTUDY_HOST: '0.0.0.0', UNDERSTUDY_PORT: '8080' };
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    return once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  }

  it('checks match values against the WMS, and against a contract given with --contract', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'understudy-typos-'));
    const typo = join(dir, 'typo.yaml');
    writeFileSync(typo, profile('{ system: wms, operation: getInventroy }'));
    const vendor = join(dir, 'vendor.yaml');
    writeFileSync(vendor, profile('{ system: vendor, operation: getAccount, path: "/vendor/accounts/{accountId}" }'));

    const without = await cli(['profiles', 'check', typo, vendor]);
    expect(without.code, without.stderr).toBe(1);
    const lines = without.stdout.split('\n').map((l) => l.trim());
    expect(lines).toContain(`FAIL  ${typo}`);
    expect(lines).toContain(`${typo}:4:38: rules.0.match.operation: wms has no operation getInventroy (did you mean getInventory?)`);
    expect(lines).toContain(`${vendor}:4:22: rules.0.match.system: no system named vendor is mounted; mounted: wms, payments, alerts, erp, outbound, oauth`);

    const withContract = await cli(['profiles', 'check', '--contract', `${VENDOR_CONTRACT}@/vendor`, vendor]);
    expect(withContract.code, withContract.stdout + withContract.stderr).toBe(0);
    expect(withContract.stdout).toContain(`ok    ${vendor} (typo: 1 rules, 0 expectations)`);
  }, 30_000);
});
