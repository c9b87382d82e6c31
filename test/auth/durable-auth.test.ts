/**
 * The authorization server across a restart on one data directory: a restart neither resurrects a revoked token
 * nor invalidates a live one. Clients registered through the admin API, rotated secrets and their grace, refresh
 * tokens (and their rotation), revocations and used assertion jtis come back from the write log; access tokens
 * issued before still verify, because the signing key is kept in the data directory (owner-only) — until
 * --reset-state, which removes it with the rest of the state.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importPKCS8, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { SIGNING_KEY_FILE } from '../../src/store/data-dir.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { ManualClock } from '../../src/util/clock.js';
import { call, json } from '../helpers.js';

const CERTIFICATE = readFileSync('test/fixtures/auth/client.crt', 'utf8');
const PRIVATE_KEY = readFileSync('test/fixtures/auth/client.key', 'utf8');
const FORM = 'application/x-www-form-urlencoded';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

const post = (url: string, body: string, headers: Record<string, string> = {}) => call(url, { method: 'POST', headers: { 'content-type': FORM, ...headers }, body });

describe('the authorization server across a restart', () => {
  it('keeps clients, rotations, refresh tokens, revocations and used jtis; tokens issued before still verify', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'understudy-auth-'));
    const clock = new ManualClock();
    const options = { port: 0, dataDir, clock, systems: { wms: { auth: 'oauth' as const } }, auth: { autoApprove: true } };
    let server: RunningServer = await startServer(options);
    const base = () => server.url;
    try {
      // a client with every grant the test needs, registered through the admin API
      const registered = await call(`${base()}/__admin/clients`, {
        method: 'POST',
        ...json({
          id: 'durable',
          secret: 'first-secret',
          grants: ['client_credentials', 'authorization_code', 'refresh_token', JWT_BEARER],
          scopes: ['wms.read', 'wms.write'],
          certificate: CERTIFICATE,
          redirectUris: ['https://example.test/callback'],
        }),
      });
      expect(registered.status).toBe(201);
      const rotated = await call(`${base()}/__admin/clients/durable/rotate`, { method: 'POST', ...json({ grace: '1h' }) });
      const secret = rotated.body.secret as string;
      const basic = (s: string) => ({ authorization: `Basic ${Buffer.from(`durable:${s}`).toString('base64')}` });

      const live = (await post(`${base()}/oauth/token`, 'grant_type=client_credentials', basic(secret))).body.access_token as string;
      const doomed = (await post(`${base()}/oauth/token`, 'grant_type=client_credentials', basic(secret))).body.access_token as string;
      expect((await post(`${base()}/oauth/revoke`, `token=${doomed}`, basic(secret))).status).toBe(200);
      expect((await call(`${base()}/wms/v1/warehouses`, { headers: { authorization: `Bearer ${doomed}` } })).status).toBe(401);

      // a refresh token from the authorization code flow, rotated once
      const location = (await call(`${base()}/oauth/authorize?response_type=code&client_id=durable&redirect_uri=${encodeURIComponent('https://example.test/callback')}&state=s`, { redirect: 'manual' })).headers.get('location')!;
      const code = new URL(location).searchParams.get('code')!;
      const first = (await post(`${base()}/oauth/token`, `grant_type=authorization_code&code=${code}&redirect_uri=${encodeURIComponent('https://example.test/callback')}`, basic(secret))).body;
      const second = (await post(`${base()}/oauth/token`, `grant_type=refresh_token&refresh_token=${first.refresh_token}`, basic(secret))).body;
      expect(second.refresh_token).toEqual(expect.any(String));

      // a JWT bearer assertion with a jti, used once
      const key = await importPKCS8(PRIVATE_KEY, 'RS256');
      const now = Math.floor(clock.now() / 1000);
      const assertion = await new SignJWT({ jti: 'once-only' })
        .setProtectedHeader({ alg: 'RS256', kid: 'sf-signing' })
        .setIssuer('durable')
        .setSubject('integration.user@example.com')
        .setAudience(`${base()}/oauth/token`)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + 120)
        .sign(key);
      expect((await post(`${base()}/oauth/token`, `grant_type=${encodeURIComponent(JWT_BEARER)}&assertion=${assertion}`)).status).toBe(200);

      const keyFile = join(dataDir, SIGNING_KEY_FILE);
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);

      const port = server.port;
      await server.close(100);
      clock.advance(1000);
      // the same port: the assertion's audience is the token endpoint's URL
      server = await startServer({ ...options, port });
      // what was logged: the registration, the rotation, the revocation, the code, its redemption, the refresh and
      // the assertion's jti — the two plain client-credentials tokens changed nothing, so they wrote nothing
      const oauth = server.restored.workspaces[0].systems.find((x) => x.system === 'oauth');
      expect(oauth).toMatchObject({ writes: 7, diverged: 0 });

      // live token still good, revoked one still revoked
      expect((await call(`${base()}/wms/v1/warehouses`, { headers: { authorization: `Bearer ${live}` } })).status).toBe(200);
      expect((await call(`${base()}/wms/v1/warehouses`, { headers: { authorization: `Bearer ${doomed}` } })).status).toBe(401);
      // the assertion is still within its two minutes, but its jti was used
      const replayed = await post(`${base()}/oauth/token`, `grant_type=${encodeURIComponent(JWT_BEARER)}&assertion=${assertion}`);
      expect(replayed.status).toBe(400);
      expect(replayed.body).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/jti/) });
      // the registered client and its rotated secret, the old secret within its grace
      expect((await post(`${base()}/oauth/token`, 'grant_type=client_credentials', basic(secret))).status).toBe(200);
      expect((await post(`${base()}/oauth/token`, 'grant_type=client_credentials', basic('first-secret'))).status).toBe(200);
      clock.advance(3_600_000);
      expect((await post(`${base()}/oauth/token`, 'grant_type=client_credentials', basic('first-secret'))).status).toBe(401);
      // the rotated-away refresh token is refused (and that revokes its grant), so first the live one
      const third = await post(`${base()}/oauth/token`, `grant_type=refresh_token&refresh_token=${second.refresh_token}`, basic(secret));
      expect(third.status).toBe(200);
      const reused = await post(`${base()}/oauth/token`, `grant_type=refresh_token&refresh_token=${first.refresh_token}`, basic(secret));
      expect(reused.status).toBe(400);
      expect(reused.body.error).toBe('invalid_grant');

      // --reset-state starts over: the stored key goes with the state, so no token from before verifies
      await server.close(100);
      server = await startServer({ ...options, port, resetState: true });
      const after = await call(`${base()}/wms/v1/warehouses`, { headers: { authorization: `Bearer ${live}` } });
      expect(after.status).toBe(401);
      expect(after.body.detail).toContain('not one this server issued');
    } finally {
      await server.close(100);
    }
  });
});
