/**
 * The understudy command as a user runs it: bad options, variables and files exit 2 naming the flag, the
 * variable or the file; serve starts, takes its options from UNDERSTUDY_* variables (booleans as yes/on/1),
 * answers, and on SIGTERM lets an in-flight request finish before exiting 0. Spawns are few: each costs ~0.5 s
 * alone and several times that on a busy machine. What only a process shows goes through one: exit codes, the
 * "understudy: " line per problem, stdout, signals. A refusal that is an error thrown while serve reads its options
 * becomes exit 2 the same way for every error (yargs' fail handler), which the variables, --seed and the taken
 * mount show through real processes; the other refusals are checked on the readers serve calls, in this process.
 * Independent processes run side by side.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliProcess, processOutcome } from './helpers.js';
import { readServeOptions } from './serve-options.js';

const cli = cliProcess;
const finished = processOutcome;

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

    // thrown while serve reads its options: exit 2 with the message, as the next test shows through processes
    const dir = mkdtempSync(join(tmpdir(), 'understudy-cli-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'port: 8080\nprot: 1\n');
    expect(() => readServeOptions({ config: bad })).toThrow(`${bad}:2:1: prot: unknown key`);

    expect(() => readServeOptions({ host: '0.0.0.0', port: '0' })).toThrow(/refusing to listen on 0\.0\.0\.0 without an admin token/);

    // a page size Salesforce Connect would refuse, naming the key
    const pages = join(dir, 'pages.yaml');
    writeFileSync(pages, 'systems:\n  erp: { odataPageSize: 5000 }\n');
    expect(() => readServeOptions({ config: pages, port: '0' })).toThrow('systems.erp.odataPageSize 5000 must be an integer from 1 to 2000');
  });

  it('names the variable or flag behind a bad value, and refuses unknown UNDERSTUDY_* variables', async () => {
    const [env, flag] = await Promise.all([
      finished(cli(['serve'], { UNDERSTUDY_PORT: 'abc', UNDERSTUDY_PROFIL: 'brownout', UNDERSTUDY_FAULT_HEADER: 'maybe', UNDERSTUDY_BACKLOG: '', UNDERSTUDY_WMS_CHANGE_RATE: '5/x' })),
      finished(cli(['serve', '--seed', 'x'])),
    ]);
    expect(env.code).toBe(2);
    expect(env.stderr.split('\n').filter(Boolean).sort()).toEqual([
      'understudy: UNDERSTUDY_FAULT_HEADER=maybe is not a boolean: use true, false, 1, 0, yes, no, on or off',
      'understudy: UNDERSTUDY_PORT=abc is not a port (0-65535)',
      'understudy: UNDERSTUDY_WMS_CHANGE_RATE=5/x is not a rate: write N/s, N/m or N/h, such as 0/s, 5/s or 120/m',
      'understudy: unknown environment variable UNDERSTUDY_PROFIL (did you mean UNDERSTUDY_PROFILE?)',
    ]);

    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe('understudy: --seed x is not a seed (an integer from 0 to 4294967295)\n');

    // the same reader, the same way out (exit 2, this message after "understudy: ")
    expect(() => readServeOptions({ port: '0', 'wms-change-rate': '1e9/s' })).toThrow(
      new Error('--wms-change-rate 1e9/s is not a rate: write N/s, N/m or N/h, such as 0/s, 5/s or 120/m'),
    );
  });

  it('says what is wrong with a --contract mount', async () => {
    expect(() => readServeOptions({ port: '0', contract: 'examples/vendor.openapi.yaml@vendor' })).toThrow(
      new Error('--contract examples/vendor.openapi.yaml@vendor: the mount after @ must start with / (examples/vendor.openapi.yaml@/vendor)'),
    );

    const taken = await finished(cli(['serve', '--port', '0', '--contract', 'examples/vendor.openapi.yaml@/wms/v1']));
    expect(taken.code).toBe(2);
    expect(taken.stderr).toMatch(/^understudy: examples\/vendor\.openapi\.yaml wants the mount \/wms\/v1, where the WMS already serves: disable the WMS \(systems\.wms\.enabled: false/);
    // the data directory was left at its default: nothing to say about it
    expect(taken.stderr).not.toMatch(/note:/);
  });

  it('checks the contracts in contracts/', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'understudy-cli-'));
    const broken = join(dir, 'broken.openapi.yaml');
    writeFileSync(broken, 'openapi: 3.0.3\ninfo: { title: x }\npaths: {}\n');
    const [run, failed] = await Promise.all([finished(cli(['contracts', 'check'])), finished(cli(['contracts', 'check', broken]))]);
    expect(run.stdout).toMatch(/ok\s+.*wms\.openapi\.yaml/);
    expect(run.code).toBe(0);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/FAIL .*broken\.openapi\.yaml[\s\S]*version/);
  });

  it('takes options from UNDERSTUDY_* variables, serves, and drains in-flight requests on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'understudy-cli-'));
    const profile = join(dir, 'sku-2-down.yaml');
    writeFileSync(profile, 'rules:\n  - id: down\n    match: { path: /wms/v1/inventory/SKU-2 }\n    faults: [ { status: { code: 503 } } ]\n');
    const dataDir = join(dir, 'state');
    // the change rate from the variable and from the flag, which wins
    const env = { UNDERSTUDY_PORT: '0', UNDERSTUDY_SEED: '9', UNDERSTUDY_PROFILE: profile, UNDERSTUDY_DATA_DIR: dataDir, UNDERSTUDY_WMS_CHANGE_RATE: '5/s' };
    const child = cli(['serve', '--wms-change-rate', '0/s'], { ...env, UNDERSTUDY_FAULT_HEADER: 'On' });
    const exit = finished(child);
    const url = await listening(child);
    const { port } = new URL(url);
    expect(await (await fetch(`${url}/__admin/wms/simulation`)).json()).toEqual({ running: false, rate: '0/s' });

    // UNDERSTUDY_FAULT_HEADER=On is on
    const faulted = await fetch(`${url}/wms/v1/inventory/SKU-2`);
    expect(faulted.status).toBe(503);
    expect(faulted.headers.get('x-understudy-fault')).toBe('down/status');

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
    const { code, stdout } = await exit;
    expect(code).toBe(0);
    expect(stdout).toContain(`state is stored in ${dataDir} (nothing to restore)`);

    // UNDERSTUDY_DATA_DIR holds what was acknowledged, the reservation made while draining included
    // the same configuration as before (the rate now from the variable: 5/s would be another WMS, refused)
    const again = cli(['serve'], { ...env, UNDERSTUDY_WMS_CHANGE_RATE: '0/m' });
    const restarted = finished(again);
    const second = await listening(again);
    const reservation = await fetch(`${second}/wms/v1/reservations/RES-000001`);
    expect(reservation.status).toBe(200);
    expect(((await reservation.json()) as { externalOrderId: string }).externalOrderId).toBe('SO-DRAIN-1');
    again.kill('SIGTERM');
    expect((await restarted).stdout).toMatch(/restored default: wms 1 writes/);
  });
});
