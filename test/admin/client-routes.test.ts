/**
 * POST /__admin/clients, GET /__admin/clients[/{id}], POST /__admin/clients/{id}/rotate: registering a client a
 * token request can then use, refusing bad ones with every field named (and registering nothing), 409 for a taken
 * id, per-workspace clients beside the config file's, and a rotation whose old secret works until its grace ends.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseClient, type OAuthClient } from '../../src/auth/clients.js';
import { ManualClock } from '../../src/util/clock.js';
import { call, json, start } from '../helpers.js';

const CERTIFICATE = readFileSync('test/fixtures/auth/client.crt', 'utf8');
const FORM = 'application/x-www-form-urlencoded';

function configClient(raw: Record<string, unknown>): OAuthClient {
  const parsed = parseClient(raw, 'config');
  if ('errors' in parsed) throw new Error(JSON.stringify(parsed.errors));
  return parsed.client;
}

const tokenWith = (base: string, id: string, secret: string) =>
  call(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': FORM }, body: `grant_type=client_credentials&client_id=${id}&client_secret=${encodeURIComponent(secret)}` });

describe('OAuth clients through the admin API', () => {
  it('registers a client (201, no secret shown) that can get a token; GET lists it beside the config file\'s', async () => {
    const server = await start({ auth: { clients: [configClient({ id: 'from-config', secret: 'cfg-secret', scopes: ['wms.read'] })] } });
    const created = await call(`${server.url}/__admin/clients`, {
      method: 'POST',
      ...json({ id: 'ci-bot', secret: 'bot-secret', grants: ['client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer'], scopes: ['wms.read'], certificate: CERTIFICATE, ipAllowlist: ['127.0.0.0/8', '::1'] }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/__admin/clients/ci-bot');
    expect(created.body).toMatchObject({ id: 'ci-bot', source: 'admin', secret: 'set', scopes: ['wms.read'], certificate: { validTo: expect.any(String) }, requirePkce: false });
    expect(created.text).not.toContain('bot-secret');
    const issued = await tokenWith(server.url, 'ci-bot', 'bot-secret');
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ token_type: 'Bearer', scope: 'wms.read' });
    const list = await call(`${server.url}/__admin/clients`);
    expect(list.body.clients.map((c: { id: string; source: string }) => `${c.id}:${c.source}`)).toEqual(['from-config:config', 'ci-bot:admin']);
    expect((await call(`${server.url}/__admin/clients/ci-bot`)).body.id).toBe('ci-bot');
    expect((await call(`${server.url}/__admin/clients/nobody`)).status).toBe(404);
  });

  it('refuses a bad client with 400 and every field named, a taken id with 409, a non-JSON body with 415; nothing is registered', async () => {
    const server = await start({ auth: { clients: [configClient({ id: 'from-config', secret: 'x' })] } });
    const bad = await call(`${server.url}/__admin/clients`, {
      method: 'POST',
      ...json({
        id: '../../etc/passwd',
        grants: ['implicit', 'authorization_code'],
        scopes: ['has space'],
        certificate: '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----',
        jwks: { keys: [{ kty: 'RSA', n: 'x', e: 'AQAB', d: 'private' }] },
        redirectUris: ['javascript:alert(1)'],
        ipAllowlist: ['10.0.0.0/33'],
        requirePkce: 'yes',
        owner: 'me',
      }),
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const fields = bad.body.errors.map((e: { field: string }) => e.field);
    for (const field of ['id', 'grants.0', 'scopes.0', 'certificate', 'jwks.keys.0', 'redirectUris.0', 'ipAllowlist.0', 'requirePkce', 'owner']) expect(fields).toContain(field);
    for (const body of [[], 'text', null, 42]) expect((await call(`${server.url}/__admin/clients`, { method: 'POST', ...json(body) })).status).toBe(400);
    const form = await call(`${server.url}/__admin/clients`, { method: 'POST', headers: { 'content-type': FORM }, body: 'id=x&secret=y' });
    expect(form.status).toBe(415);
    expect((await call(`${server.url}/__admin/clients`, { method: 'POST', ...json({ id: 'from-config', secret: 'other' }) })).status).toBe(409);
    const first = await call(`${server.url}/__admin/clients`, { method: 'POST', ...json({ id: 'twice', secret: 'a' }) });
    expect(first.status).toBe(201);
    expect((await call(`${server.url}/__admin/clients`, { method: 'POST', ...json({ id: 'twice', secret: 'b' }) })).status).toBe(409);
    expect((await call(`${server.url}/__admin/clients`)).body.clients.map((c: { id: string }) => c.id)).toEqual(['from-config', 'twice']);
    // the 409 kept the first secret
    expect((await tokenWith(server.url, 'twice', 'a')).status).toBe(200);
  });

  it('keeps a workspace\'s clients in that workspace; config clients are known everywhere', async () => {
    const server = await start({ auth: { clients: [configClient({ id: 'shared', secret: 'shared-secret' })] } });
    expect((await call(`${server.url}/w/team-a/__admin/clients`, { method: 'POST', ...json({ id: 'team-bot', secret: 's' }) })).status).toBe(201);
    expect((await tokenWith(`${server.url}/w/team-a`, 'team-bot', 's')).status).toBe(200);
    const elsewhere = await tokenWith(`${server.url}/w/team-b`, 'team-bot', 's');
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.body.error).toBe('invalid_client');
    expect((await tokenWith(server.url, 'team-bot', 's')).status).toBe(401);
    for (const base of [server.url, `${server.url}/w/team-a`, `${server.url}/w/team-b`]) expect((await tokenWith(base, 'shared', 'shared-secret')).status).toBe(200);
  });

  it('rotates a secret: the new one works at once, the old one until the grace ends, then invalid_client', async () => {
    const clock = new ManualClock();
    const server = await start({ clock, auth: { clients: [configClient({ id: 'sf', secret: 'old-secret' })] } });
    const rotated = await call(`${server.url}/__admin/clients/sf/rotate`, { method: 'POST', ...json({ grace: '10m' }) });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toEqual({ id: 'sf', secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), previousSecretValidUntil: new Date(clock.now() + 600_000).toISOString() });
    expect((await tokenWith(server.url, 'sf', rotated.body.secret)).status).toBe(200);
    expect((await tokenWith(server.url, 'sf', 'old-secret')).status).toBe(200);
    clock.advance(600_000);
    const late = await tokenWith(server.url, 'sf', 'old-secret');
    expect(late.status).toBe(401);
    expect(late.body).toMatchObject({ error: 'invalid_client', error_description: expect.stringContaining('grace period') });
    expect((await tokenWith(server.url, 'sf', rotated.body.secret)).status).toBe(200);
    // the default grace is an hour; "0s" ends the old secret at once
    const again = await call(`${server.url}/__admin/clients/sf/rotate`, { method: 'POST', ...json({ grace: '0s' }) });
    expect(again.body.previousSecretValidUntil).toBeUndefined();
    expect((await tokenWith(server.url, 'sf', rotated.body.secret)).status).toBe(401);
    const byDefault = await call(`${server.url}/__admin/clients/sf/rotate`, { method: 'POST' });
    expect(byDefault.body.previousSecretValidUntil).toBe(new Date(clock.now() + 3_600_000).toISOString());
  });

  it('refuses rotations of unknown clients and bad graces, changing nothing', async () => {
    const server = await start({ auth: { clients: [configClient({ id: 'sf', secret: 'old-secret' })] } });
    expect((await call(`${server.url}/__admin/clients/nobody/rotate`, { method: 'POST', ...json({}) })).status).toBe(404);
    for (const body of [{ grace: 'soon' }, { grace: 5 }, { grace: '400d' }, { grace: '1h', extra: true }, ['1h']]) {
      const r = await call(`${server.url}/__admin/clients/sf/rotate`, { method: 'POST', ...json(body) });
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
    expect((await tokenWith(server.url, 'sf', 'old-secret')).status).toBe(200);
  });
});
