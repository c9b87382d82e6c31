/**
 * Workspace names are case-insensitive: a Salesforce sandbox called UAT calls /w/UAT/..., a CI script calls
 * /w/uat/..., and both must reach one workspace, shown as `uat` by the admin API and the journal. Names that are
 * not 1-40 letters, digits and dashes still get 400, including percent-encoded spellings of valid ones (never
 * decoded) and non-ASCII letters that lower-case to ASCII ones.
 */
import { describe, expect, it } from 'vitest';
import { Workspaces } from '../../src/engine/workspace.js';
import { memoryStore } from '../../src/store/store.js';
import { ManualClock } from '../../src/util/clock.js';
import { call, json, rawRequest, start } from '../helpers.js';

const ORDER = { externalOrderId: 'SO-1', lines: [{ sku: 'SKU-1', quantity: 2 }] };

describe('workspace names', () => {
  it('treats /w/UAT, /w/uat and /w/Uat as one workspace named uat', async () => {
    const s = await start();
    const made = await call(`${s.url}/w/UAT/wms/v1/reservations`, json(ORDER));
    expect(made.status).toBe(201);

    const seen = await call(`${s.url}/w/uat/wms/v1/reservations/${made.body.id}`);
    expect(seen.status).toBe(200);
    expect((await call(`${s.url}/w/Uat/wms/v1/inventory/SKU-1`)).body.reserved).toBe(2);
    // the default workspace, by contrast, never saw it
    expect((await call(`${s.url}/wms/v1/inventory/SKU-1`)).body.reserved).toBe(0);

    const journal = await call(`${s.url}/w/UAT/__admin/journal`);
    expect(journal.body.entries.map((e: { workspace: string; path: string }) => [e.workspace, e.path])).toEqual([
      ['uat', '/wms/v1/inventory/SKU-1'],
      ['uat', '/wms/v1/reservations/' + made.body.id],
      ['uat', '/wms/v1/reservations'],
    ]);
    expect((await call(`${s.url}/w/UAT/__admin/workspace`)).body.name).toBe('uat');
    expect((await call(`${s.url}/w/uAT/__admin/health`)).body.workspace).toBe('uat');
    const all = await call(`${s.url}/__admin/workspaces`);
    expect(all.body.workspaces.map((w: { name: string }) => w.name).sort()).toEqual(['default', 'uat']);

    expect((await call(`${s.url}/w/UAT/__admin/workspace`, { method: 'DELETE' })).body).toEqual({ deleted: 'uat' });
    expect((await call(`${s.url}/w/uat/wms/v1/reservations/${made.body.id}`)).status).toBe(404);
    // DEFAULT is the default workspace, which cannot be deleted
    expect((await call(`${s.url}/w/DEFAULT/__admin/workspace`, { method: 'DELETE' })).status).toBe(409);
  });

  it('counts the spellings of one name once against the workspace limit', async () => {
    const s = await start({ limits: { workspaces: 2 } });
    expect((await call(`${s.url}/w/UAT/wms/v1/inventory/SKU-1`)).status).toBe(200);
    expect((await call(`${s.url}/w/uat/wms/v1/inventory/SKU-1`)).status).toBe(200);
    expect((await call(`${s.url}/w/Uat/wms/v1/inventory/SKU-1`)).status).toBe(200);
    expect((await call(`${s.url}/w/other/wms/v1/inventory/SKU-1`)).status).toBe(429);
  });

  it('refuses names that are not 1-40 letters, digits and dashes, encoded ones included', async () => {
    const s = await start();
    const refused = ['a_b', 'A_B', 'x'.repeat(41), 'X'.repeat(41), '..', '.', '', '%55AT', '%75at', 'uat%20', 'u%2Fat', 'UAT.', 'ua t'.replace(' ', '%09')];
    for (const name of refused) {
      const r = await rawRequest(s.url, `/w/${name}/wms/v1/inventory/SKU-1`);
      expect(r.status, name).toBe(400);
      expect(r.body.type, name).toBe('urn:understudy:problem:bad-workspace-name');
      expect(r.body.detail, name).toMatch(/is not a workspace name: use 1-40 letters, digits and - \(any case: UAT is uat/);
    }
    expect((await rawRequest(s.url, '/w/../__admin/reset', { method: 'POST' })).status).toBe(400);
    // the longest allowed name, in capitals, is fine
    expect((await call(`${s.url}/w/${'X'.repeat(40)}/wms/v1/inventory/SKU-1`)).status).toBe(200);
    const names = (await call(`${s.url}/__admin/workspaces`)).body.workspaces.map((w: { name: string }) => w.name);
    expect(names.sort()).toEqual(['default', 'x'.repeat(40)]);
  });

  it('does not let Unicode case folding turn other letters into a name', () => {
    const workspaces = new Workspaces({ seed: 1, clock: new ManualClock(0), journalEntries: 10, journalBytes: 10_000, journalBodyBytes: 100, systems: [], store: memoryStore }, 10);
    // the Kelvin sign lower-cases to "k", the dotted capital I to "i" and a combining dot
    for (const name of ['\u212Aey', 'UAT\u0130', '\uFF35AT']) expect(workspaces.lookup(name), name).toEqual({ error: 'invalid-name' });
    const upper = workspaces.lookup('KEY');
    const lower = workspaces.lookup('key');
    expect('workspace' in upper && 'workspace' in lower && upper.workspace === lower.workspace).toBe(true);
    expect(workspaces.list().map((w) => w.name)).toEqual(['default', 'key']);
  });

  it('matches a chaos rule written for UAT in the workspace reached as /w/uat', async () => {
    const s = await start();
    const profile = ['name: uat-only', 'rules:', '  - id: uat-down', '    match: { workspace: UAT }', '    faults: [ { status: { code: 503 } } ]'].join('\n');
    expect((await call(`${s.url}/w/uat/__admin/chaos`, { method: 'PUT', body: profile })).status).toBe(200);
    expect((await call(`${s.url}/w/uat/wms/v1/inventory/SKU-1`)).status).toBe(503);
    expect((await call(`${s.url}/w/UAT/wms/v1/inventory/SKU-1`)).status).toBe(503);
  });
});
