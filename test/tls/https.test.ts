/**
 * HTTPS and mutual TLS with certificates generated here (pki.ts): the server speaks HTTPS with --tls-cert and
 * --tls-key and keeps connections alive as on plain HTTP; a client that does not trust the CA cannot connect;
 * each kind of bad file is refused at start-up naming the file; with --require-client-cert a client without a
 * certificate the CA signed fails the handshake. The transport hands the engine the client certificate, read
 * once per connection; the mtls identifier turns its CN into the client and refuses everything else with a 401.
 *
 * The last block drives `systems.wms.auth: mtls` end to end: it needs src/server.ts to attach
 * clientCertificateIdentity to systems configured with `auth: mtls`.
 */
import { createPrivateKey } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Agent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientCertificateIdentity } from '../../src/auth/enforcement/mtls.js';
import type { ClientCertificate, Exchange, Reply } from '../../src/engine/exchange.js';
import type { Engine, NewExchange } from '../../src/engine/pipeline.js';
import type { Workspaces } from '../../src/engine/workspace.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createTrafficServer, TlsConfigError, type TlsSettings } from '../../src/tls/server-tls.js';
import { createTrafficListener } from '../../src/transports/node-http.js';
import { realScheduler } from '../../src/util/scheduler.js';
import { createPki, httpsGet, presenting, type Pki } from './pki.js';

let pki: Pki;
let tls: TlsSettings;
const servers: RunningServer[] = [];

beforeAll(async () => {
  pki = await createPki();
  tls = { cert: pki.files.serverCert, key: pki.files.serverKey, requireClientCert: false };
});

afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
  pki?.remove();
});

async function start(options: Parameters<typeof startServer>[0]): Promise<RunningServer> {
  const server = await startServer({ port: 0, ...options });
  servers.push(server);
  return server;
}

describe('HTTPS', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start({ tls });
  });

  it('serves the systems over HTTPS to a client that trusts the CA, on keep-alive connections, from TLS 1.2 up', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await httpsGet(`${server.url}/wms/v1/warehouses`, { ca: pki.ca.cert });
    expect(res.status).toBe(200);
    expect(res.body.warehouses.length).toBeGreaterThan(0);

    // the host name works too (the certificate names localhost)
    const byName = await httpsGet(`https://localhost:${server.port}/wms/v1/warehouses`, { ca: pki.ca.cert, family: 4 });
    expect(byName.status).toBe(200);

    // keep-alive as on plain HTTP: the second request rides the first one's connection
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: pki.ca.cert });
    try {
      const first = await httpsGet(`${server.url}/wms/v1/inventory/SKU-1`, { agent });
      const second = await httpsGet(`${server.url}/wms/v1/inventory/SKU-2`, { agent });
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(first.reusedSocket).toBe(false);
      expect(second.reusedSocket).toBe(true);
    } finally {
      agent.destroy();
    }

    // a TLS 1.2-only client (Salesforce's floor) gets in; the admin API is on the same port
    const tls12 = await httpsGet(`${server.url}/__admin/journal?limit=1`, { ca: pki.ca.cert, maxVersion: 'TLSv1.2' });
    expect(tls12.status).toBe(200);
  });

  it('writes https into the absolute URLs it gives out: the OAuth issuer and endpoints, the WSDL address, OData links', async () => {
    const discovery = await httpsGet(`${server.url}/w/team-a/.well-known/openid-configuration`, { ca: pki.ca.cert });
    expect(discovery.body.issuer).toBe(`${server.url}/w/team-a`);
    expect(discovery.body.token_endpoint).toBe(`${server.url}/w/team-a/oauth/token`);
    const wsdl = await httpsGet(`${server.url}/erp/soap?wsdl`, { ca: pki.ca.cert });
    expect(wsdl.text).toContain(`location="${server.url}/erp/soap"`);
    const odata = await httpsGet(`${server.url}/erp/odata/v4/`, { ca: pki.ca.cert });
    expect(odata.body['@odata.context']).toBe(`${server.url}/erp/odata/v4/$metadata`);
  });

  it('refuses a client that does not trust the CA, and does not speak plain HTTP', async () => {
    const untrusted = await httpsGet(`${server.url}/wms/v1/warehouses`).catch((err: NodeJS.ErrnoException) => err);
    expect(untrusted).toBeInstanceOf(Error);
    expect((untrusted as NodeJS.ErrnoException).code).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN/);

    // plain HTTP to the HTTPS port: no HTTP answer (node's TLS server drops the connection)
    const plain = await new Promise<string>((resolve) => {
      const req = httpRequest(`http://127.0.0.1:${server.port}/wms/v1/warehouses`, { agent: false }, (res) => resolve(`status ${res.statusCode}`));
      req.on('error', (err) => resolve(`error ${err.message}`));
      req.end();
    });
    expect(plain).toMatch(/^error /);
  });

  it('asks for no client certificate without a CA: one presented anyway is not requested', async () => {
    const res = await httpsGet(`${server.url}/wms/v1/warehouses`, { ca: pki.ca.cert, ...presenting(pki.clients.valid) });
    expect(res.status).toBe(200);
  });
});

describe('bad TLS files are refused at start-up, naming the file', () => {
  const settings = (over: Partial<TlsSettings>): TlsSettings => ({ ...tls, ...over });
  const refusal = (s: TlsSettings): string => {
    try {
      createTrafficServer(() => undefined, s).close();
    } catch (err) {
      expect(err).toBeInstanceOf(TlsConfigError);
      return (err as Error).message;
    }
    throw new Error('not refused');
  };

  it('a missing file, a directory, an empty file, text that is no PEM, a DER certificate', () => {
    const missing = `${pki.dir}/nope.crt`;
    expect(refusal(settings({ cert: missing }))).toBe(`TLS certificate ${missing} (--tls-cert, tls.cert): no such file`);
    expect(refusal(settings({ key: pki.dir }))).toBe(`TLS private key ${pki.dir} (--tls-key, tls.key): is a directory, not a file`);
    const empty = pki.write('empty.crt', '');
    expect(refusal(settings({ cert: empty }))).toBe(`TLS certificate ${empty} (--tls-cert, tls.cert): not a PEM certificate (-----BEGIN CERTIFICATE-----); the file is empty`);
    const text = pki.write('text.key', 'hello\n');
    expect(refusal(settings({ key: text }))).toBe(`TLS private key ${text} (--tls-key, tls.key): not a PEM private key (-----BEGIN PRIVATE KEY-----)`);
    const der = pki.write('der.crt', Buffer.from(pki.server.cert.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
    expect(refusal(settings({ cert: der }))).toMatch(new RegExp(`^TLS certificate ${der} .*not a PEM certificate.*binary DER: convert it with openssl x509 -inform der`));
  });

  it('a certificate and key swapped, a garbled certificate, an encrypted key, a key of another certificate', () => {
    const swapped = refusal(settings({ cert: tls.key, key: tls.cert }));
    expect(swapped).toBe(`TLS certificate ${tls.key} (--tls-cert, tls.cert): not a PEM certificate (no -----BEGIN CERTIFICATE----- block): it holds a private key (are --tls-cert and --tls-key swapped?)`);
    const keyAsCert = refusal(settings({ key: tls.cert }));
    expect(keyAsCert).toMatch(new RegExp(`^TLS private key ${tls.cert} \\(--tls-key, tls.key\\): not a PEM private key .*it holds a certificate \\(are --tls-cert and --tls-key swapped\\?\\)$`));

    const garbled = pki.write('garbled.crt', '-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n');
    expect(refusal(settings({ cert: garbled }))).toMatch(new RegExp(`^TLS certificate ${garbled} \\(--tls-cert, tls.cert\\): not a PEM certificate: its certificate does not parse`));

    const encrypted = pki.write('encrypted.key', createPrivateKey(pki.server.key).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }));
    expect(refusal(settings({ key: encrypted }))).toBe(
      `TLS private key ${encrypted} (--tls-key, tls.key): the key is encrypted; understudy needs it unencrypted (openssl pkey -in ${encrypted} -out ${encrypted}.plain)`,
    );

    const otherKey = pki.write('other.key', pki.clients.valid.key);
    expect(refusal(settings({ key: otherKey }))).toMatch(new RegExp(`^TLS private key ${otherKey} does not match the certificate ${tls.cert} \\(--tls-key, tls.key\\): it is another certificate's key`));

    // a chain in the wrong order: the CA first, then the server's own certificate
    const reversed = pki.write('reversed.crt', pki.ca.cert + pki.server.cert);
    expect(refusal(settings({ cert: reversed }))).toMatch(/the server's own certificate is not the first in the file/);
  });

  it('a CA file that holds no certificate; a full chain (leaf, then CA) and a CA bundle are fine', () => {
    const notCa = pki.write('not-ca.crt', pki.ca.key);
    expect(refusal(settings({ ca: notCa }))).toBe(`TLS client CA ${notCa} (--tls-ca, tls.ca): not a PEM certificate (no -----BEGIN CERTIFICATE----- block): it holds a private key`);
    expect(refusal(settings({ ca: `${pki.dir}/none.crt` }))).toBe(`TLS client CA ${pki.dir}/none.crt (--tls-ca, tls.ca): no such file`);

    // pasted together without a newline between them, and with openssl's export notes around: still fine
    const chain = pki.write('chain.crt', pki.server.cert.trimEnd() + pki.ca.cert);
    const bundle = pki.write('bundle.crt', `Bag Attributes\n    friendlyName: test\nsubject=CN=understudy test CA\n${pki.ca.cert}${pki.clients.foreign.cert}`);
    createTrafficServer(() => undefined, settings({ cert: chain, ca: bundle })).close();
  });

  it('startServer rejects with the TlsConfigError', async () => {
    await expect(startServer({ port: 0, tls: settings({ key: `${pki.dir}/missing.key` }) })).rejects.toThrow(TlsConfigError);
  });
});

describe('--require-client-cert', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start({ tls: { ...tls, ca: pki.files.ca, requireClientCert: true } });
  });

  it('fails the handshake of a client without a certificate, or with one the CA did not sign', async () => {
    const without = await httpsGet(`${server.url}/wms/v1/warehouses`, { ca: pki.ca.cert }).catch((err: Error) => err);
    expect(without).toBeInstanceOf(Error);
    expect(String((without as Error).message)).toMatch(/certificate required|socket hang up|ECONNRESET/i);

    const foreign = await httpsGet(`${server.url}/wms/v1/warehouses`, { ca: pki.ca.cert, ...presenting(pki.clients.foreign) }).catch((err: Error) => err);
    expect(foreign).toBeInstanceOf(Error);

    const expired = await httpsGet(`${server.url}/wms/v1/warehouses`, { ca: pki.ca.cert, ...presenting(pki.clients.expired) }).catch((err: Error) => err);
    expect(expired).toBeInstanceOf(Error);
  });

  it('serves a client whose certificate the CA signed', async () => {
    const res = await httpsGet(`${server.url}/wms/v1/warehouses`, { ca: pki.ca.cert, ...presenting(pki.clients.valid) });
    expect(res.status).toBe(200);
  });

  it('a TLS 1.2 client with a certificate completes the handshake, authorized', async () => {
    const socket = tlsConnect({ host: '127.0.0.1', port: server.port, servername: 'localhost', ca: pki.ca.cert, maxVersion: 'TLSv1.2', ...presenting(pki.clients.valid) });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    expect(socket.getProtocol()).toBe('TLSv1.2');
    expect(socket.authorized).toBe(true);
    socket.destroy();
  });
});

describe('the transport reads the client certificate once per connection', () => {
  /** a traffic listener on a stand-in engine that records what it was handed */
  async function recordingServer(settings: TlsSettings | undefined) {
    const seen: Array<ClientCertificate | undefined> = [];
    const engine = {
      limits: { bodyBytes: 1024, journalBodyBytes: 1024 },
      start: (fields: NewExchange) => {
        seen.push(fields.clientCertificate);
        return { ...fields, delayMs: 0, faults: [], contractErrors: [], effects: [] } as unknown as Exchange;
      },
      handle: (): Reply => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' }),
      complete: () => undefined,
    } as unknown as Engine;
    const workspaces = { default: {}, lookup: () => ({ error: 'invalid-name' }) } as unknown as Workspaces;
    const listener = createTrafficListener({ engine, workspaces, admin: () => undefined, scheduler: realScheduler });
    const server = createTrafficServer(listener, settings);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    return { seen, port, close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
  }

  it('subject, CN, expiry, fingerprint and whether it chains to the CA; the same object for every request on the connection', async () => {
    const s = await recordingServer({ ...tls, ca: pki.files.ca, requireClientCert: false });
    try {
      const url = `https://127.0.0.1:${s.port}/x`;
      const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: pki.ca.cert, ...presenting(pki.clients.valid) });
      const first = await httpsGet(url, { agent });
      const second = await httpsGet(url, { agent });
      agent.destroy();
      expect(second.reusedSocket).toBe(true);
      expect([first.status, second.status]).toEqual([200, 200]);
      const [a, b] = s.seen;
      expect(a).toMatchObject({ subjectCN: 'sf-sandbox', subject: 'CN=sf-sandbox', authorized: true });
      expect(a!.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      expect(a!.validTo).toBeGreaterThan(Date.now() + 300 * 86_400_000);
      expect(b).toBe(a);

      await httpsGet(url, { ca: pki.ca.cert, ...presenting(pki.clients.expired) });
      expect(s.seen[2]).toMatchObject({ subjectCN: 'sf-sandbox', authorized: false });
      expect(s.seen[2]!.validTo).toBeLessThan(Date.now());
      await httpsGet(url, { ca: pki.ca.cert, ...presenting(pki.clients.foreign) });
      expect(s.seen[3]).toMatchObject({ subjectCN: 'sf-sandbox', authorized: false });
      await httpsGet(url, { ca: pki.ca.cert });
      expect(s.seen[4]).toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it('none on plain HTTP', async () => {
    const s = await recordingServer(undefined);
    try {
      await new Promise<void>((resolve, reject) => httpRequest(`http://127.0.0.1:${s.port}/x`, { agent: false }, (res) => res.resume().on('end', resolve)).on('error', reject).end());
      expect(s.seen).toEqual([undefined]);
    } finally {
      await s.close();
    }
  });
});

describe('clientCertificateIdentity (auth: mtls)', () => {
  const NOW = Date.parse('2026-06-01T00:00:00Z');
  const DAY = 86_400_000;
  const exchangeWith = (clientCertificate?: Partial<ClientCertificate>) =>
    ({
      startedAt: NOW,
      headers: {},
      clientCertificate: clientCertificate && { subjectCN: 'sf-sandbox', subject: 'CN=sf-sandbox, O=Acme', validTo: NOW + 365 * DAY, fingerprint256: 'AB:CD', authorized: true, ...clientCertificate },
      system: {
        engine: {
          errorReply: (status: number, title: string, detail: string): Reply => ({ status, headers: { 'content-type': 'application/problem+json' }, body: JSON.stringify({ status, title, detail }) }),
        },
      },
    }) as unknown as Exchange;
  const identify = (exchange: Exchange, options = {}) => clientCertificateIdentity(options).identify(exchange);
  const refusal = (result: string | Reply) => {
    expect(typeof result).toBe('object');
    const reply = result as Reply;
    return { status: reply.status, challenge: reply.headers['www-authenticate'], detail: JSON.parse(String(reply.body)).detail as string };
  };

  it("a certificate the CA signed: the client is its CN, the exchange's auth says tls_client_auth", () => {
    const exchange = exchangeWith({});
    expect(identify(exchange)).toBe('sf-sandbox');
    expect(exchange.auth).toEqual({ grant: null, method: 'tls_client_auth', scopes: [], flags: [] });

    const expiring = exchangeWith({ validTo: NOW + 10 * DAY });
    expect(identify(expiring)).toBe('sf-sandbox');
    expect(expiring.auth!.flags).toEqual(['certificate-expiring']);
  });

  it('no certificate: 401 with a Mutual challenge; the status is configurable', () => {
    expect(refusal(identify(exchangeWith()))).toEqual({
      status: 401,
      challenge: 'Mutual realm="understudy"',
      detail: 'this service requires a TLS client certificate signed by the configured CA',
    });
    expect(refusal(identify(exchangeWith(), { invalidStatus: 403 })).status).toBe(403);
  });

  it('a certificate that does not chain to the CA, an expired one, one without a CN or with a CN that is no client name: 401 saying which', () => {
    expect(refusal(identify(exchangeWith({ authorized: false }))).detail).toBe(
      'the client certificate (CN=sf-sandbox, O=Acme) does not chain to the configured CA (tls.ca, --tls-ca), or is not valid yet',
    );
    const expired = exchangeWith({ authorized: false, validTo: NOW - DAY });
    expect(refusal(identify(expired))).toMatchObject({ status: 401, detail: 'the client certificate (CN=sf-sandbox, O=Acme) expired at 2026-05-31T00:00:00.000Z' });
    // recorded: an expired certificate is what the report card looks for
    expect(expired.auth).toEqual({ grant: null, method: 'tls_client_auth', scopes: [], flags: ['certificate-expired'] });

    expect(refusal(identify(exchangeWith({ subjectCN: '', subject: 'O=Acme' }))).detail).toBe('the client certificate (O=Acme) has no CN in its subject: the CN names the client');
    expect(refusal(identify(exchangeWith({ subjectCN: 'Salesforce Sandbox #1', subject: 'CN=Salesforce Sandbox #1' }))).detail).toMatch(/has a CN that is not a client name/);
  });
});

// needs src/server.ts to attach clientCertificateIdentity to systems with `auth: mtls`
describe('systems.wms.auth: mtls, end to end', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start({ tls: { ...tls, ca: pki.files.ca, requireClientCert: false }, systems: { wms: { auth: 'mtls' } } });
  });
  const get = (path: string, client?: { cert: string; key: string }) => httpsGet(`${server.url}${path}`, { ca: pki.ca.cert, ...client });
  const journalEntry = async (path: string) => {
    const { body } = await get('/__admin/journal?limit=100');
    return body.entries.find((e: { path: string }) => e.path === path);
  };

  it('a certificate the CA signed: 200, its CN is the journal client, auth tls_client_auth', async () => {
    const res = await get('/wms/v1/inventory/SKU-1', presenting(pki.clients.valid));
    expect(res.status).toBe(200);
    expect(await journalEntry('/wms/v1/inventory/SKU-1')).toMatchObject({ status: 200, client: 'sf-sandbox', auth: { grant: null, method: 'tls_client_auth', scopes: [], flags: [] } });
  });

  it('an authenticated identity beats X-Understudy-Client', async () => {
    const res = await httpsGet(`${server.url}/wms/v1/inventory/SKU-5`, { ca: pki.ca.cert, headers: { 'x-understudy-client': 'someone-else' }, ...presenting(pki.clients.valid) });
    expect(res.status).toBe(200);
    expect((await journalEntry('/wms/v1/inventory/SKU-5')).client).toBe('sf-sandbox');
  });

  it('no certificate, an expired one, one from another CA: 401 with WWW-Authenticate in the WMS error shape', async () => {
    const none = await get('/wms/v1/inventory/SKU-2');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Mutual realm="understudy"');
    expect(none.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(none.body.detail).toMatch(/requires a TLS client certificate/);

    const expired = await get('/wms/v1/inventory/SKU-3', presenting(pki.clients.expired));
    expect(expired.status).toBe(401);
    expect(expired.body.detail).toMatch(/expired at/);
    expect(await journalEntry('/wms/v1/inventory/SKU-3')).toMatchObject({ status: 401, auth: { method: 'tls_client_auth', flags: ['certificate-expired'] } });

    const foreign = await get('/wms/v1/inventory/SKU-4', presenting(pki.clients.foreign));
    expect(foreign.status).toBe(401);
    expect(foreign.body.detail).toMatch(/does not chain to the configured CA/);
  });

  it('a certificate expiring in 10 days: 200, flagged certificate-expiring in the journal', async () => {
    const res = await get('/wms/v1/inventory/SKU-6', presenting(pki.clients.expiring));
    expect(res.status).toBe(200);
    expect(await journalEntry('/wms/v1/inventory/SKU-6')).toMatchObject({ client: 'sf-expiring', auth: { method: 'tls_client_auth', flags: ['certificate-expiring'] } });
  });

  it('other systems on the same port need no certificate', async () => {
    const res = await get('/payments/v1/charges?limit=1');
    expect(res.status).not.toBe(401);
  });
});
