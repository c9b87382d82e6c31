/**
 * The understudy command as a user runs it: bad options and files exit non-zero naming the problem; serve starts,
 * answers, and on SIGTERM lets an in-flight request finish before exiting 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;

function cli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function finished(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** resolves with the URL once the server prints its listening line */
function listening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
  });
}

describe('understudy CLI', () => {
  it('refuses unknown options and bad config files with a message and a non-zero exit', async () => {
    const unknown = await finished(cli(['serve', '--colour', 'blue']));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown argument: colour/);

    const dir = mkdtempSync(join(tmpdir(), 'understudy-cli-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'port: 8080\nprot: 1\n');
    const badFile = await finished(cli(['serve', '--config', bad]));
    expect(badFile.code).toBe(2);
    expect(badFile.stderr).toContain(`${bad}:2:1: prot: unknown key`);

    const publicHost = await finished(cli(['serve', '--host', '0.0.0.0', '--port', '0']));
    expect(publicHost.code).toBe(2);
    expect(publicHost.stderr).toMatch(/refusing to listen on 0\.0\.0\.0 without an admin token/);
  });

  it('checks the contracts in contracts/', async () => {
    const run = await finished(cli(['contracts', 'check']));
    expect(run.stdout).toMatch(/ok\s+.*wms\.openapi\.yaml/);
    expect(run.code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'understudy-cli-'));
    const broken = join(dir, 'broken.openapi.yaml');
    writeFileSync(broken, 'openapi: 3.0.3\ninfo: { title: x }\npaths: {}\n');
    const failed = await finished(cli(['contracts', 'check', broken]));
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/FAIL .*broken\.openapi\.yaml[\s\S]*version/);
  });

  it('takes options from UNDERSTUDY_* variables, serves, and drains in-flight requests on SIGTERM', async () => {
    const child = cli(['serve'], { UNDERSTUDY_PORT: '0', UNDERSTUDY_SEED: '9' });
    const exit = finished(child);
    const url = await listening(child);
    const { port } = new URL(url);

    // a request whose body is still arriving when the signal comes
    const body = JSON.stringify({ externalOrderId: 'SO-DRAIN-1', lines: [{ sku: 'SKU-1', quantity: 1 }] });
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write(`POST /wms/v1/reservations HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`);
    let response = '';
    socket.on('data', (c) => (response += c));
    // the server has the request once its headers are parsed; a second connection's answer proves it is processing
    expect((await fetch(`${url}/__admin/health`)).status).toBe(200);
    child.kill('SIGTERM');
    await new Promise((r) => child.stdout!.once('data', r)); // "finishing in-flight requests"
    socket.end(body.slice(10));
    await once(socket, 'close');
    expect(response).toMatch(/^HTTP\/1\.1 201/);
    const { code } = await exit;
    expect(code).toBe(0);
  });
});
