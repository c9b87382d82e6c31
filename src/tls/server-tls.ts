/**
 * The traffic server: plain HTTP, or HTTPS when given a certificate (`tls:` / --tls-cert, --tls-key), asking
 * callers for a client certificate when given a CA (--tls-ca: mutual TLS).
 *
 * The files are read and checked here, once, at start-up, because node's own errors for a bad certificate or key
 * ("error:1E08010C:DECODER routines::unsupported") name neither the file nor the fix. Every mistake a user is
 * likely to make gets a TlsConfigError naming the file and the option it came from: a missing or unreadable file,
 * a file that is not PEM (a DER certificate, a certificate and key swapped), an encrypted key, a key that belongs
 * to another certificate.
 *
 * With a CA, the server requests a client certificate on every connection. Whether a connection without one (or
 * with one the CA did not sign) is refused in the handshake depends on --require-client-cert: without it, such
 * clients connect and each system's `auth: mtls` decides (auth/enforcement/mtls.ts) — so one port can serve
 * systems with and without mutual TLS, and a refusal is a 401 the journal records instead of a failed handshake
 * nobody sees. The traffic listener is the same function either way, so keep-alive and everything above TLS
 * behave as on plain HTTP. TLS 1.2 is the floor: it is what Salesforce speaks (SALESFORCE.md §1).
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';

/** `tls:` in the config file and its flags (--tls-cert, --tls-key, --tls-ca, --require-client-cert): file paths */
export interface TlsSettings {
  cert: string;
  key: string;
  ca?: string;
  requireClientCert: boolean;
}

/** A TLS file that cannot be used; the message names the file and the option it came from. */
export class TlsConfigError extends Error {}

/**
 * Plain HTTP without `tls`, else HTTPS (https.Server is an http.Server to its callers: listen, close,
 * closeAllConnections and the 'connection' event work the same).
 */
export function createTrafficServer(listener: RequestListener, tls?: TlsSettings): Server {
  if (!tls) return createHttpServer(listener);
  const { cert, key, ca } = readTlsFiles(tls);
  try {
    return createHttpsServer(
      {
        cert,
        key,
        minVersion: 'TLSv1.2',
        ...(ca !== undefined
          ? { ca, requestCert: true, rejectUnauthorized: tls.requireClientCert }
          : { requestCert: false, rejectUnauthorized: false }),
      },
      listener,
    );
  } catch (err) {
    // what readTlsFiles' checks did not foresee (a key too weak for OpenSSL's security level, say)
    throw new TlsConfigError(`TLS cannot use the certificate ${tls.cert} with the key ${tls.key}: ${messageOf(err)}`);
  }
}

/** the option (and config key) each file comes from, for messages */
const ROLES = {
  cert: 'TLS certificate',
  key: 'TLS private key',
  ca: 'TLS client CA',
} as const;
const SOURCES = {
  cert: '--tls-cert, tls.cert',
  key: '--tls-key, tls.key',
  ca: '--tls-ca, tls.ca',
} as const;

type Role = keyof typeof ROLES;

/** The three files' PEM text, checked: certificates parse, the key is a usable private key and matches. */
export function readTlsFiles(tls: TlsSettings): { cert: string; key: string; ca?: string } {
  const cert = certificates('cert', tls.cert, readPem('cert', tls.cert));
  // the first certificate in the file: the server's own
  const leaf = new X509Certificate(cert);
  const key = readPem('key', tls.key);
  const privateKey = parsePrivateKey(tls.key, key);
  if (!matches(leaf, privateKey)) {
    throw new TlsConfigError(
      `${ROLES.key} ${tls.key} does not match the certificate ${tls.cert} (${SOURCES.key}): it is another certificate's key, or the server's own certificate is not the first in the file (it must come first, followed by its intermediates)`,
    );
  }
  if (tls.ca === undefined) return { cert, key };
  const ca = certificates('ca', tls.ca, readPem('ca', tls.ca));
  return { cert, key, ca };
}

function readPem(role: Role, path: string): string {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'not readable (permission denied)' : code === 'EISDIR' ? 'is a directory, not a file' : messageOf(err);
    throw new TlsConfigError(`${ROLES[role]} ${path} (${SOURCES[role]}): ${why}`);
  }
  const text = data.toString('utf8');
  if (!text.includes('-----BEGIN ')) {
    const binary = data.length > 0 && data[0] === 0x30; // an ASN.1 SEQUENCE: DER
    const expected = role === 'key' ? 'a PEM private key (-----BEGIN PRIVATE KEY-----)' : 'a PEM certificate (-----BEGIN CERTIFICATE-----)';
    const hint = binary
      ? `; it looks like binary DER: convert it with openssl ${role === 'key' ? 'pkey' : 'x509'} -inform der -in ${path} -out ${path}.pem`
      : data.length === 0
        ? '; the file is empty'
        : '';
    throw new TlsConfigError(`${ROLES[role]} ${path} (${SOURCES[role]}): not ${expected}${hint}`);
  }
  return text;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * The file's certificates, each checked, as clean PEM for node: one block a line apart, without what else such
 * files carry (openssl's "Bag Attributes" and "subject=" lines) or lack (a newline between two pasted blocks,
 * which OpenSSL refuses). A server certificate may come with its chain, a CA file may hold several.
 */
function certificates(role: Role, path: string, text: string): string {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  const certs = blocks.filter((b) => b[1] === 'CERTIFICATE');
  if (certs.length === 0) {
    const keyInside = blocks.some((b) => b[1].endsWith('PRIVATE KEY'));
    const hint = keyInside ? (role === 'cert' ? ': it holds a private key (are --tls-cert and --tls-key swapped?)' : ': it holds a private key') : '';
    throw new TlsConfigError(`${ROLES[role]} ${path} (${SOURCES[role]}): not a PEM certificate (no -----BEGIN CERTIFICATE----- block)${hint}`);
  }
  certs.forEach((block, i) => {
    try {
      new X509Certificate(block[0]);
    } catch (err) {
      const which = certs.length === 1 ? 'its certificate' : `certificate ${i + 1} of ${certs.length}`;
      throw new TlsConfigError(`${ROLES[role]} ${path} (${SOURCES[role]}): not a PEM certificate: ${which} does not parse (${messageOf(err)})`);
    }
  });
  return certs.map((block) => `${block[0]}\n`).join('');
}

function parsePrivateKey(path: string, text: string): KeyObject {
  try {
    return createPrivateKey(text);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    let why = 'not a PEM private key (expected -----BEGIN PRIVATE KEY-----, -----BEGIN RSA PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----)';
    if (code === 'ERR_MISSING_PASSPHRASE' || /ENCRYPTED/.test(text)) {
      why = `the key is encrypted; understudy needs it unencrypted (openssl pkey -in ${path} -out ${path}.plain)`;
    } else if (/-----BEGIN CERTIFICATE-----/.test(text) && !/PRIVATE KEY-----/.test(text)) {
      why += ': it holds a certificate (are --tls-cert and --tls-key swapped?)';
    }
    throw new TlsConfigError(`${ROLES.key} ${path} (${SOURCES.key}): ${why}`);
  }
}

function matches(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false; // a key of another type (EC against RSA) does not match either
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
