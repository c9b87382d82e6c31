/**
 * The TLS tests' certificates, generated per test file into its own temp directory (nothing is checked in, so
 * nothing expires in the repository): a CA, a server certificate for 127.0.0.1 and localhost, client
 * certificates (valid, expired, expiring in 10 days, a CN that is no client name, one from another CA), and an
 * HTTPS client that says what went wrong when a handshake fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate, type CertificateAndKey } from '../../src/tls/dev-certs.js';

const DAY_MS = 24 * 3_600_000;

export interface Pki {
  dir: string;
  /** file paths */
  files: { ca: string; serverCert: string; serverKey: string };
  ca: CertificateAndKey;
  server: CertificateAndKey;
  clients: {
    valid: CertificateAndKey;
    expired: CertificateAndKey;
    expiring: CertificateAndKey;
    badName: CertificateAndKey;
    foreign: CertificateAndKey;
  };
  /** write a file into the temp directory, return its path */
  write(name: string, content: string | Buffer): string;
  remove(): void;
}

export async function createPki(): Promise<Pki> {
  const dir = mkdtempSync(join(tmpdir(), 'understudy-tls-'));
  const write = (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const now = Date.now();
  const ca = await createCertificateAuthority({ commonName: 'understudy test CA' });
  const other = await createCertificateAuthority({ commonName: 'somebody else' });
  const [server, valid, expired, expiring, badName, foreign] = await Promise.all([
    issueCertificate(ca, { commonName: 'localhost', hosts: ['localhost', '127.0.0.1'] }),
    issueCertificate(ca, { commonName: 'sf-sandbox', clientAuth: true }),
    issueCertificate(ca, { commonName: 'sf-sandbox', clientAuth: true, notBefore: new Date(now - 400 * DAY_MS), notAfter: new Date(now - DAY_MS) }),
    issueCertificate(ca, { commonName: 'sf-expiring', clientAuth: true, notBefore: new Date(now - DAY_MS), notAfter: new Date(now + 10 * DAY_MS) }),
    issueCertificate(ca, { commonName: 'Salesforce Sandbox #1', clientAuth: true }),
    issueCertificate(other, { commonName: 'sf-sandbox', clientAuth: true }),
  ]);
  return {
    dir,
    files: { ca: write('ca.crt', ca.cert), serverCert: write('server.crt', server.cert), serverKey: write('server.key', server.key) },
    ca,
    server,
    clients: { valid, expired, expiring, badName, foreign },
    write,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface HttpsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any;
  /** whether the request went over a connection an earlier request had opened (keep-alive) */
  reusedSocket: boolean;
}

/** GET (or another method) over HTTPS; rejects with node's error when the handshake or the connection fails. */
export function httpsGet(url: string, options: RequestOptions & { ca?: string; cert?: string; key?: string } = {}): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body, reusedSocket: req.reusedSocket });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** the client certificate and key as https.request takes them */
export const presenting = (c: CertificateAndKey) => ({ cert: c.cert, key: c.key });
