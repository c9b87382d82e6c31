/**
 * The TLS flags as a user runs them: --tls-cert without --tls-key and a bad key file exit 2 naming the problem;
 * --tls-cert and --tls-key serve HTTPS; --no-auth (and UNDERSTUDY_NO_AUTH) reach the configuration, seen through
 * a config whose `auth: mtls` would otherwise be refused for want of a CA. Spawns cost ~1 s each: few of them,
 * side by side where independent. Refusals thrown while serve reads its options (a certificate without its key,
 * mtls without a CA) are checked on serve's readers in this process (serve-options.ts); a key that is not one is
 * refused as the server starts, and shows exit 2 through a process.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliProcess, processOutcome } from '../helpers.js';
import { readServeOptions } from '../serve-options.js';
import { createPki, httpsGet, type Pki } from './pki.js';

const cli = cliProcess;
const finished = processOutcome;

/** the URL once the server prints its listening line; the server is stopped with SIGTERM by the caller */
function listening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (c) => (err += c));
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /listening on (https?:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before listening: ${out}${err}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

let pki: Pki;
let mtlsConfig: string;
beforeAll(async () => {
  pki = await createPki();
  mtlsConfig = pki.write('mtls.yaml', 'systems:\n  wms: { auth: mtls }\n');
});
afterAll(() => pki?.remove());

const serve = ['serve', '--port', '0', '--data-dir', ''];

describe('serve over HTTPS from the command line', () => {
  it('exits 2 for a certificate without its key, and for a key that is not one, naming the file', async () => {
    expect(() => readServeOptions({ port: '0', 'data-dir': '', 'tls-cert': pki.files.serverCert })).toThrow(
      /^HTTPS needs both a certificate and its key: --tls-cert and --tls-key/,
    );

    const wrongKey = await finished(cli([...serve, '--tls-cert', pki.files.serverCert, '--tls-key', pki.files.ca]));
    expect(wrongKey.code).toBe(2);
    expect(wrongKey.stderr).toBe(`understudy: TLS private key ${pki.files.ca} (--tls-key, tls.key): not a PEM private key (expected -----BEGIN PRIVATE KEY-----, -----BEGIN RSA PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----): it holds a certificate (are --tls-cert and --tls-key swapped?)\n`);
  });

  it('refuses auth: mtls without a CA, unless --no-auth; serves HTTPS with --tls-cert and --tls-key', async () => {
    expect(() => readServeOptions({ port: '0', 'data-dir': '', config: mtlsConfig })).toThrow('systems.wms.auth is mtls, but no CA is configured (--tls-ca, tls.ca)');

    // the flags from their variables, --no-auth from the command line
    const child = cli([...serve, '--config', mtlsConfig, '--no-auth'], { UNDERSTUDY_TLS_CERT: pki.files.serverCert, UNDERSTUDY_TLS_KEY: pki.files.serverKey });
    try {
      const url = await listening(child);
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const res = await httpsGet(`${url}/wms/v1/warehouses`, { ca: pki.ca.cert });
      expect(res.status).toBe(200);
    } finally {
      await stop(child);
    }
  });

  it('UNDERSTUDY_NO_AUTH=yes is --no-auth; --auth alone is no option', async () => {
    const positive = finished(cli([...serve, '--auth']));
    const child = cli([...serve, '--config', mtlsConfig], { UNDERSTUDY_NO_AUTH: 'yes' });
    try {
      expect(await listening(child)).toMatch(/^http:\/\//);
    } finally {
      await stop(child);
    }
    expect((await positive).code).toBe(2);
    expect((await positive).stderr).toBe('understudy: --auth is not an option (did you mean --no-auth?)\n');
  });
});
