/**
 * The admin API: health, the journal (filters, paging, redaction, truncation, the ring bound), reset, the admin
 * token, and workspaces (isolation, bad names, the workspace limit).
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig, ConfigError } from '../../src/config/config.js';
import { call, json, rawRequest, start, VENDOR_CONTRACT } from '../helpers.js';

const vendorOnly = {
  systems: { wms: { enabled: false }, payments: { enabled: false }, alerts: { enabled: false }, erp: { enabled: false }, outbound: { enabled: false } },
  contracts: [VENDOR_CONTRACT],
};
const REQ_ID = { 'x-request-id': '9b2f6a3e-8f0d-4c55-9a43-8d5d3e1f2a10' };

describe('admin API', () => {
  it('reports health with the mounted systems', async () => {
    const s = await start(vendorOnly);
    const r = await call(`${s.url}/__admin/health`);
    expect(r.status).toBe(200);
    // the authorization server is always mounted, at /oauth and /.well-known
    expect(r.body).toMatchObject({
      status: 'ok',
      workspace: 'default',
      systems: [
        { name: 'oauth', mount: '/.well-known', protocol: 'oauth' },
        { name: 'vendor', mount: '/vendor/v2', protocol: 'rest' },
        { name: 'oauth', mount: '/oauth', protocol: 'oauth' },
      ],
    });
    expect(typeof r.body.version).toBe('string');
  });

  it('pages the journal newest first with an opaque cursor and filters it', async () => {
    const s = await start(vendorOnly);
    for (let i = 1; i <= 5; i++) await call(`${s.url}/vendor/v2/accounts/ACC-${i}`, { headers: { 'x-understudy-client': i % 2 ? 'odd' : 'even' } });
    await call(`${s.url}/vendor/v2/accounts?limit=0`, { headers: { 'x-understudy-client': 'odd' } });

    const first = await call(`${s.url}/__admin/journal?limit=4`);
    expect(first.body.entries.map((e: { path: string }) => e.path)).toEqual([
      '/vendor/v2/accounts',
      '/vendor/v2/accounts/ACC-5',
      '/vendor/v2/accounts/ACC-4',
      '/vendor/v2/accounts/ACC-3',
    ]);
    expect(typeof first.body.nextCursor).toBe('string');
    const second = await call(`${s.url}/__admin/journal?limit=4&cursor=${first.body.nextCursor}`);
    expect(second.body.entries.map((e: { path: string }) => e.path)).toEqual(['/vendor/v2/accounts/ACC-2', '/vendor/v2/accounts/ACC-1']);
    expect(second.body.nextCursor).toBeNull();

    const odd = await call(`${s.url}/__admin/journal?client=odd&status=2xx`);
    expect(odd.body.entries.map((e: { path: string }) => e.path)).toEqual(['/vendor/v2/accounts/ACC-5', '/vendor/v2/accounts/ACC-3', '/vendor/v2/accounts/ACC-1']);
    const bad = await call(`${s.url}/__admin/journal?status=400&system=vendor&operation=listAccounts`);
    expect(bad.body.entries).toHaveLength(1);
    const future = await call(`${s.url}/__admin/journal?since=${encodeURIComponent('2999-01-01T00:00:00Z')}`);
    expect(future.body.entries).toHaveLength(0);
  });

  it('refuses absurd journal queries with the parameter named', async () => {
    const s = await start(vendorOnly);
    for (const [query, name] of [
      ['limit=0', 'limit'],
      ['limit=100000000000', 'limit'],
      ['limit=abc', 'limit'],
      ['cursor=not-a-cursor!', 'cursor'],
      [`cursor=${Buffer.from('x99').toString('base64url')}`, 'cursor'],
      ['since=yesterday', 'since'],
      // Date.parse alone reads these as 2026-01-01 and 2001-01-01
      ['since=x%202026', 'since'],
      ['until=foo%201', 'until'],
      ['status=9xx', 'status'],
      ['colour=red', 'colour'],
      ['since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z', 'until'],
    ]) {
      const r = await call(`${s.url}/__admin/journal?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.body.errors.map((e: { name: string }) => e.name), query).toContain(name);
    }
    expect((await call(`${s.url}/__admin/journal/abc`)).status).toBe(404);
    expect((await call(`${s.url}/__admin/journal/999999`)).status).toBe(404);
  });

  it('shows one exchange in full with secrets and card numbers redacted', async () => {
    const s = await start(vendorOnly);
    await call(
      `${s.url}/vendor/v2/accounts`,
      json({ name: 'Card 4242 4242 4242 4242', email: 'x@y.example' }, { ...REQ_ID, authorization: 'Bearer s3cr3t-token', cookie: 'sid=abc', 'x-api-key': 'k-123' }),
    );
    const [summary] = (await call(`${s.url}/__admin/journal`)).body.entries;
    expect(summary.request).toBeUndefined();
    const full = await call(`${s.url}/__admin/journal/${summary.id}`);
    expect(full.status).toBe(200);
    const text = full.text;
    expect(text).not.toContain('s3cr3t-token');
    expect(text).not.toContain('sid=abc');
    expect(text).not.toContain('k-123');
    expect(text).not.toContain('4242 4242 4242 4242');
    expect(full.body.request.headers.authorization).toBe('Bearer [redacted]');
    expect(full.body.request.body.text).toContain('****4242');
    expect(full.body.response.body.text).toContain('ACC-1');
    expect(full.body).toMatchObject({ method: 'POST', status: 201, operation: 'createAccount', client: 'anonymous' });
    expect(full.body.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('keeps bodies past the limit truncated with their size, and only the newest entries past the cap', async () => {
    const s = await start({ ...vendorOnly, limits: { journalEntries: 3, journalBodyBytes: 16 } });
    for (let i = 1; i <= 5; i++) await call(`${s.url}/vendor/v2/accounts/ACC-${i}`);
    const page = await call(`${s.url}/__admin/journal`);
    expect(page.body.entries.map((e: { path: string }) => e.path)).toEqual(['/vendor/v2/accounts/ACC-5', '/vendor/v2/accounts/ACC-4', '/vendor/v2/accounts/ACC-3']);
    expect(page.body).toMatchObject({ total: 3, capacity: 3 });
    const full = await call(`${s.url}/__admin/journal/${page.body.entries[0].id}`);
    expect(full.body.response.body.truncated).toBe(true);
    expect(full.body.response.body.size).toBeGreaterThan(16);
    expect(full.body.response.body.text).toHaveLength(16);
  });

  it('resets the journal and refuses unknown scopes without changing anything', async () => {
    const s = await start(vendorOnly);
    await call(`${s.url}/vendor/v2/accounts`);
    const refused = await call(`${s.url}/__admin/reset`, json({ scope: 'everything' }));
    expect(refused.status).toBe(400);
    const malformed = await call(`${s.url}/__admin/reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{scope' });
    expect(malformed.status).toBe(400);
    expect((await call(`${s.url}/__admin/journal`)).body.entries).toHaveLength(1);
    const ok = await call(`${s.url}/__admin/reset`, json({ scope: 'journal' }));
    expect(ok.body).toEqual({ workspace: 'default', reset: 'journal' });
    expect((await call(`${s.url}/__admin/journal`)).body.entries).toHaveLength(0);
    expect((await call(`${s.url}/__admin/nope`)).status).toBe(404);
  });

  it('requires the admin token when one is set', async () => {
    const s = await start({ ...vendorOnly, adminToken: 'correct-horse-battery' });
    const none = await call(`${s.url}/__admin/health`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await call(`${s.url}/__admin/health`, { headers: { authorization: 'Bearer wrong-horse-battery' } })).status).toBe(401);
    expect((await call(`${s.url}/__admin/health`, { headers: { authorization: 'Bearer correct-horse-battery' } })).status).toBe(200);
    // the traffic path is not behind the admin token
    expect((await call(`${s.url}/vendor/v2/accounts`)).status).toBe(200);
  });

  it('refuses to start off loopback without an admin token', () => {
    expect(() => resolveConfig(undefined, { host: '0.0.0.0' })).toThrow(ConfigError);
    expect(() => resolveConfig(undefined, { host: '0.0.0.0', adminToken: 'long-enough-token' })).not.toThrow();
    expect(() => resolveConfig(undefined, { host: '127.0.0.1' })).not.toThrow();
  });
});

describe('workspaces', () => {
  it('keeps journals apart and serves the same tree under /w/{name}', async () => {
    const s = await start(vendorOnly);
    await call(`${s.url}/w/team-a/vendor/v2/accounts/ACC-1`);
    await call(`${s.url}/w/team-a/vendor/v2/accounts/ACC-2`);
    await call(`${s.url}/w/team-b/vendor/v2/accounts/ACC-3`);
    const a = await call(`${s.url}/w/team-a/__admin/journal`);
    const b = await call(`${s.url}/w/team-b/__admin/journal`);
    const dflt = await call(`${s.url}/__admin/journal`);
    expect(a.body.entries.map((e: { path: string; workspace: string }) => `${e.workspace}${e.path}`)).toEqual(['team-a/vendor/v2/accounts/ACC-2', 'team-a/vendor/v2/accounts/ACC-1']);
    expect(b.body.entries).toHaveLength(1);
    expect(dflt.body.entries).toHaveLength(0);
    const health = await call(`${s.url}/w/team-a/__admin/health`);
    expect(health.body.workspace).toBe('team-a');
  });

  it('rejects bad workspace names, traversal included, and keeps serving', async () => {
    const s = await start(vendorOnly);
    for (const name of ['Team_A', '..', '%2e%2e', 'a'.repeat(41), '', 'a%2Fb']) {
      const r = await rawRequest(s.url, `/w/${name}/vendor/v2/accounts`);
      expect(r.status, name).toBe(400);
      expect(r.body.type, name).toBe('urn:understudy:problem:bad-workspace-name');
    }
    const traversal = await rawRequest(s.url, '/w/../__admin/health');
    expect(traversal.status).toBe(400);
    expect((await call(`${s.url}/vendor/v2/accounts`)).status).toBe(200);
  });

  it('caps the number of workspaces and frees one on delete', async () => {
    const s = await start({ ...vendorOnly, limits: { workspaces: 2 } });
    expect((await call(`${s.url}/w/one/vendor/v2/accounts`)).status).toBe(200);
    const full = await call(`${s.url}/w/two/vendor/v2/accounts`);
    expect(full.status).toBe(429);
    expect(full.body.detail).toMatch(/workspaces/);
    expect((await call(`${s.url}/__admin/workspace`, { method: 'DELETE' })).status).toBe(409);
    expect((await call(`${s.url}/w/one/__admin/workspace`, { method: 'DELETE' })).body).toEqual({ deleted: 'one' });
    expect((await call(`${s.url}/w/two/vendor/v2/accounts`)).status).toBe(200);
  });
});
