/**
 * What the journal records for the report card's credential checks: a signing certificate that has expired or
 * expires within 30 days is flagged on every token request it verifies (JWT bearer and private_key_jwt alike,
 * the assertion still accepted: a real authorization server does not read the certificate's dates either, which
 * is why the expiry goes unnoticed until it breaks); a certificate months away is not; the password grant is
 * flagged insecure-flow, even when refused; and each token request records its grant and client authentication method.
 */
import { importPKCS8, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseClient, type OAuthClient } from '../../src/auth/clients.js';
import { createCertificateAuthority, issueCertificate, type CertificateAndKey } from '../../src/tls/dev-certs.js';
import { ManualClock } from '../../src/util/clock.js';
import { call, start } from '../helpers.js';

const DAY = 24 * 3_600_000;
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const CLIENT_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

const clock = new ManualClock();
const signing: Record<'expiring' | 'expired' | 'healthy', CertificateAndKey> = {} as never;

function client(raw: Record<string, unknown>): OAuthClient {
  const parsed = parseClient(raw, 'config');
  if ('errors' in parsed) throw new Error(JSON.stringify(parsed.errors));
  return parsed.client;
}

async function assertion(certificate: CertificateAndKey, iss: string, sub: string, aud: string): Promise<string> {
  const now = Math.floor(clock.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: 'sf_signing' })
    .setIssuer(iss)
    .setSubject(sub)
    .setAudience(aud)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 120)
    .sign(await importPKCS8(certificate.key, 'RS256'));
}

beforeAll(async () => {
  const ca = await createCertificateAuthority();
  const at = (days: number) => new Date(clock.now() + days * DAY);
  signing.expiring = await issueCertificate(ca, { commonName: 'expiring', clientAuth: true, notBefore: at(-300), notAfter: at(10) });
  signing.expired = await issueCertificate(ca, { commonName: 'expired', clientAuth: true, notBefore: at(-400), notAfter: at(-1) });
  signing.healthy = await issueCertificate(ca, { commonName: 'healthy', clientAuth: true, notBefore: at(-1), notAfter: at(365) });
}, 60_000);

describe('credential hygiene in the journal', () => {
  it('flags signing certificates that expired or expire within 30 days, on JWT bearer and private_key_jwt requests', async () => {
    const clients = (['expiring', 'expired', 'healthy'] as const).map((name) =>
      client({ id: name, certificate: signing[name].cert, grants: ['client_credentials', JWT_BEARER], scopes: ['wms.read'] }),
    );
    const server = await start({ clock, auth: { clients } });
    const tokenUrl = `${server.url}/oauth/token`;
    for (const name of ['expiring', 'expired', 'healthy'] as const) {
      const bearer = await call(tokenUrl, { method: 'POST', headers: FORM, body: `grant_type=${encodeURIComponent(JWT_BEARER)}&assertion=${await assertion(signing[name], name, 'integration@example.com', tokenUrl)}` });
      expect(bearer.status, bearer.text).toBe(200);
      const clientAuth = await call(tokenUrl, {
        method: 'POST',
        headers: FORM,
        body: `grant_type=client_credentials&client_assertion_type=${encodeURIComponent(CLIENT_ASSERTION)}&client_assertion=${await assertion(signing[name], name, name, tokenUrl)}`,
      });
      expect(clientAuth.status, clientAuth.text).toBe(200);
    }
    server.engine.flush();
    const entries = (await call(`${server.url}/__admin/journal?system=oauth&operation=token`)).body.entries.reverse();
    const seen = entries.map((e: any) => `${e.client} ${e.auth.grant} ${e.auth.method} ${e.auth.flags.join(',') || '-'}`);
    expect(seen).toEqual([
      `expiring ${JWT_BEARER} private_key_jwt certificate-expiring`,
      'expiring client_credentials private_key_jwt certificate-expiring',
      `expired ${JWT_BEARER} private_key_jwt certificate-expired`,
      'expired client_credentials private_key_jwt certificate-expired',
      `healthy ${JWT_BEARER} private_key_jwt -`,
      'healthy client_credentials private_key_jwt -',
    ]);
  });

  it('flags every use of the password grant as an insecure flow; other grants carry no flag', async () => {
    const legacy = client({ id: 'legacy-app', secret: 'legacy-secret', grants: ['password', 'client_credentials'], scopes: ['wms.read'] });
    const server = await start({ auth: { clients: [legacy], users: [{ username: 'alice', password: 'pw' }] } });
    const basic = { ...FORM, authorization: `Basic ${Buffer.from('legacy-app:legacy-secret').toString('base64')}` };
    expect((await call(`${server.url}/oauth/token`, { method: 'POST', headers: basic, body: 'grant_type=password&username=alice&password=pw' })).status).toBe(200);
    expect((await call(`${server.url}/oauth/token`, { method: 'POST', headers: basic, body: 'grant_type=password&username=alice&password=wrong' })).status).toBe(400);
    expect((await call(`${server.url}/oauth/token`, { method: 'POST', headers: basic, body: 'grant_type=client_credentials' })).status).toBe(200);
    server.engine.flush();
    const entries = (await call(`${server.url}/__admin/journal?system=oauth`)).body.entries.reverse();
    expect(entries.map((e: any) => [e.status, e.auth?.grant ?? null, e.auth?.flags ?? null])).toEqual([
      [200, 'password', ['insecure-flow']],
      // refused, but tried: the report card judges the flow the client uses, whether or not it got a token
      [400, 'password', ['insecure-flow']],
      [200, 'client_credentials', []],
    ]);
  });
});
