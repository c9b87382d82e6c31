/**
 * Certificates for local HTTPS and mutual TLS (`understudy certs dev`, and the TLS tests): a private certificate
 * authority, a server certificate it signs for localhost, and client certificates for mutual TLS.
 *
 * Why a CA and not one self-signed server certificate: that is how TLS is deployed for real (a client trusts a
 * root, the server presents a leaf the root signed), the same CA file verifies client certificates for mutual
 * TLS, and a client that has been told to trust `ca.crt` keeps trusting re-issued server certificates. Salesforce
 * itself trusts none of this: it only calls endpoints whose certificate chains to a public CA (SALESFORCE.md §1).
 *
 * Why @peculiar/x509: node:crypto verifies and parses certificates but cannot build one, and shelling out to
 * openssl would make `certs dev` depend on a binary that Windows machines and slim images lack. @peculiar/x509 is
 * pure JavaScript on top of WebCrypto (node's own), so generating needs nothing but node. It loads in ~100 ms, so
 * it is imported only by the commands and tests that generate certificates, never by `serve`. It requires a
 * Reflect metadata polyfill (its README says so), hence `reflect-metadata` below.
 *
 * Keys are RSA 2048 with SHA-256 signatures, the combination every TLS stack (Salesforce's JVM included) accepts;
 * private keys are written as unencrypted PKCS#8 PEM, which is what node's TLS and most servers read.
 */
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
// @peculiar/x509 builds on tsyringe, which needs the Reflect metadata API: it must be loaded first (ES modules
// evaluate their imports in order)
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// node's WebCrypto, passed explicitly: the library's global default provider would be shared state
const crypto = webcrypto;

const KEY_ALGORITHM = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;
const SIGNING = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3_600_000;
/** backdated a little so that a client whose clock runs slightly behind does not see a not-yet-valid certificate */
const BACKDATE_MS = 5 * 60_000;

/** A certificate and its private key, both PEM (the key PKCS#8). */
export interface CertificateAndKey {
  cert: string;
  key: string;
}

export interface CaOptions {
  /** default "understudy development CA" */
  commonName?: string;
  /** validity from now (default 825 days) */
  days?: number;
}

export interface IssueOptions {
  commonName: string;
  /** DNS names and IP addresses for subjectAltName: a server certificate (serverAuth) */
  hosts?: string[];
  /** a client certificate for mutual TLS (clientAuth) */
  clientAuth?: boolean;
  /** default: now (backdated five minutes) */
  notBefore?: Date;
  /** default: notBefore + `days`; may lie in the past (an expired certificate, for tests) */
  notAfter?: Date;
  /** validity when notAfter is not given (default 397 days, the most a public CA may issue today) */
  days?: number;
}

/** Refused because a file `certs dev` would write is already there. */
export class CertificatesExistError extends Error {
  constructor(readonly files: string[]) {
    super(`${files.join(', ')} already exist${files.length === 1 ? 's' : ''}; pass --force to overwrite (a new CA means clients must trust the new ca.crt)`);
  }
}

/** A self-signed certificate authority that can issue server and client certificates. */
export async function createCertificateAuthority(options: CaOptions = {}): Promise<CertificateAndKey> {
  const keys = await generateKeys();
  const notBefore = new Date(Date.now() - BACKDATE_MS);
  const name = distinguishedName(options.commonName ?? 'understudy development CA');
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      name,
      notBefore,
      notAfter: new Date(notBefore.getTime() + (options.days ?? 825) * DAY_MS),
      keys,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { cert: pemFile(cert.toString('pem')), key: await privateKeyPem(keys.privateKey) };
}

/** A leaf certificate signed by `ca`: a server certificate when `hosts` are given, a client one with `clientAuth`. */
export async function issueCertificate(ca: CertificateAndKey, options: IssueOptions): Promise<CertificateAndKey> {
  const issuer = new x509.X509Certificate(ca.cert);
  const caKey = await importSigningKey(ca.key);
  const keys = await generateKeys();
  const hosts = options.hosts ?? [];
  const notBefore = options.notBefore ?? new Date(Date.now() - BACKDATE_MS);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + (options.days ?? 397) * DAY_MS);
  const usages: string[] = [];
  if (hosts.length > 0 || !options.clientAuth) usages.push(x509.ExtendedKeyUsage.serverAuth);
  if (options.clientAuth) usages.push(x509.ExtendedKeyUsage.clientAuth);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(usages, false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey, false, crypto),
  ];
  // browsers and node match the host against subjectAltName only, never the CN
  if (hosts.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(hosts.map(generalName), false));
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: distinguishedName(options.commonName),
      issuer: issuer.subjectName,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: caKey,
      signingAlgorithm: SIGNING,
      extensions,
    },
    crypto,
  );
  return { cert: pemFile(cert.toString('pem')), key: await privateKeyPem(keys.privateKey) };
}

/** the hosts `certs dev`'s server certificate is for */
export const DEV_SERVER_HOSTS = ['localhost', '127.0.0.1', '::1'];

export interface WrittenCertificates {
  ca: string;
  caKey: string;
  server: string;
  serverKey: string;
}

/**
 * `understudy certs dev`: a new CA and a server certificate for localhost in `outDir` (created if missing), as
 * ca.crt, ca.key, server.crt and server.key, the keys readable by their owner only. Refuses to replace any of them
 * unless `force`: a replaced CA silently breaks every client that was told to trust the old one.
 */
export async function writeDevCertificates(outDir = 'certs', { force = false }: { force?: boolean } = {}): Promise<WrittenCertificates> {
  const dir = resolve(outDir);
  const paths: WrittenCertificates = {
    ca: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    server: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
  };
  const existing = Object.values(paths).filter((p) => existsSync(p));
  if (existing.length > 0 && !force) throw new CertificatesExistError(existing);
  const ca = await createCertificateAuthority();
  const server = await issueCertificate(ca, { commonName: 'localhost', hosts: DEV_SERVER_HOSTS });
  mkdirSync(dir, { recursive: true });
  writeFileSync(paths.ca, ca.cert);
  writeKey(paths.caKey, ca.key);
  writeFileSync(paths.server, server.cert);
  writeKey(paths.serverKey, server.key);
  return paths;
}

function writeKey(path: string, pem: string): void {
  writeFileSync(path, pem, { mode: 0o600 });
  // the mode above applies to a new file only; an overwritten one keeps its old mode
  chmodSync(path, 0o600);
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return pemFile(x509.PemConverter.encode(der, 'PRIVATE KEY'));
}

/** PEM text ending in a newline, as files do: `cat server.crt ca.crt > chain.crt` then gives valid PEM */
function pemFile(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

/** The CA's key as WebCrypto wants it; node reads any PEM form (PKCS#8 or PKCS#1) and hands over PKCS#8. */
async function importSigningKey(pem: string): Promise<CryptoKey> {
  const der = createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
  return crypto.subtle.importKey('pkcs8', der, SIGNING, false, ['sign']);
}

/** CN=…, as a structured name: a comma or plus in it stays part of the one attribute */
function distinguishedName(commonName: string): x509.JsonName {
  return [{ CN: [commonName] }];
}

function generalName(host: string): x509.JsonGeneralName {
  return { type: isIpAddress(host) ? 'ip' : 'dns', value: host };
}

function isIpAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

/** 16 random bytes, the top bit clear: a positive serial (RFC 5280 §4.1.2.2), unique per certificate */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x01;
  return bytes.toString('hex');
}
