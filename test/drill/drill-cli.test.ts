/**
 * `understudy drill` as CI runs it, through the CLI in a child process: on an embedded server with a COMMAND as
 * the traffic (exit 0 when the expectations hold, 1 when one does not, whatever COMMAND's own exit code; two
 * drills side by side), against a running server with --url (following a short timeline from --start-at), and
 * exit 2 for a broken profile or bad usage before anything runs. Each spawn costs about a second and a half, so
 * independent runs go in parallel, and refusals go through a process only where the process is what is shown:
 * the CLI turns whatever runDrill throws into exit 2, its message on stderr one "understudy: " a line, which a
 * broken profile shows through a real process; the other refusals are runDrill's, called here with the options
 * the CLI would give it, and judged by the error it throws.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { runDrill, type DrillOptions } from '../../src/drill/drill-command.js';
import type { Report } from '../../src/report/types.js';
import { start } from '../helpers.js';
import { selfContainedProblems } from './report-fixtures.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
const TRAFFIC = join(FIXTURES, 'traffic.mjs');
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('UNDERSTUDY_')));

interface Run {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** resolves once stderr has matched */
  saw(pattern: RegExp): Promise<void>;
}

function drill(args: string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'drill', ...args], { cwd: ROOT, env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiting: Array<{ pattern: RegExp; resolve: () => void }> = [];
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => {
    stderr += c;
    for (const w of waiting.splice(0)) (w.pattern.test(stderr) ? w.resolve() : waiting.push(w));
  });
  const done = once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  const saw = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      if (pattern.test(stderr)) return resolve();
      waiting.push({ pattern, resolve });
      done.then(() => reject(new Error(`exited before printing ${pattern}: ${stderr}`)));
    });
  return { child, done, saw };
}

/**
 * What `understudy drill FILE [options] [-- COMMAND]` comes to in this process, through runDrill with the options
 * the CLI builds from those words: the exit code it returned, or the error it threw (the CLI's exit 2).
 */
async function drillHere(options: Omit<DrillOptions, 'command'> & { command?: string[] }): Promise<{ code?: number; error?: Error; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } };
  try {
    return { code: await runDrill({ command: [], ...options }, io), stdout, stderr };
  } catch (err) {
    return { error: err as Error, stdout, stderr };
  }
}

const reportDir = () => mkdtempSync(join(tmpdir(), 'understudy-drill-'));
const junitParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase'].includes(name) });

function readFiles(dir: string) {
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
  const xml = readFileSync(join(dir, 'junit.xml'), 'utf8');
  expect(XMLValidator.validate(xml)).toBe(true);
  const junit = junitParser.parse(xml);
  const cases = (junit.testsuites.testsuite as Array<{ testcase?: Array<{ classname: string; name: string; failure?: unknown }> }>).flatMap((s) => s.testcase ?? []);
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  return { report, junit, cases, html };
}

describe('understudy drill -- COMMAND (embedded server)', () => {
  it('exits 0 when the expectations hold and 1 when one does not, whatever COMMAND exits with; two at once', async () => {
    const [holdsDir, failsDir] = [reportDir(), reportDir()];
    // side by side: each has its own embedded server on its own free port
    const [holds, fails] = await Promise.all([
      drill(['test/drill/fixtures/holds.yaml', '--report', holdsDir, '--workspace', 'ci-1', '--', 'node', TRAFFIC, 'sf-holds', '3']).done,
      drill(['test/drill/fixtures/fails.yaml', '--report', join(failsDir, 'nested', 'dir'), '--seed', '7', '--', 'node', TRAFFIC, 'sf-fails', '0']).done,
    ]);

    expect(holds.stderr).toContain('ended with exit code 3');
    expect(holds.code).toBe(0);
    const url = /traffic: UNDERSTUDY_URL=(\S+)/.exec(holds.stdout)![1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/w\/ci-1$/);
    expect(holds.stdout).toMatch(/expectations\n {2}pass {2}maxDuplicateEffects: 0\n/);
    expect(holds.stdout).toContain('understudy drill drill-holds: PASSED (1 of 1 expectations hold)');
    const h = readFiles(holdsDir);
    expect(h.report.passed).toBe(true);
    expect(h.report.clients.map((c) => c.client)).toEqual(['sf-holds']);
    expect(h.report.clients[0].operations).toEqual([{ system: 'wms', operation: 'getInventory', attempts: 5, logicalRequests: 5 }]);
    expect(h.junit.testsuites.failures).toBe('0');
    expect(h.cases.filter((c) => c.classname === 'sf-holds').length).toBe(h.report.clients[0].checks.length);
    expect(h.cases.filter((c) => c.classname === 'expectations').map((c) => c.name)).toEqual(['maxDuplicateEffects: 0']);
    expect(h.html).toContain('<div class="verdict passed">PASSED</div>');
    expect(h.html).toContain('5 calls, peak');
    expect(selfContainedProblems(h.html)).toEqual([]);

    expect(fails.code).toBe(1);
    const otherUrl = /traffic: UNDERSTUDY_URL=(\S+)/.exec(fails.stdout)![1];
    expect(new URL(otherUrl).port).not.toBe(new URL(url).port);
    expect(fails.stdout).toContain('understudy drill drill-fails: FAILED (1 of 2 expectations hold)');
    const f = readFiles(join(failsDir, 'nested', 'dir'));
    expect(f.report.passed).toBe(false);
    expect(f.junit.testsuites.failures).toBe('1');
    expect(f.cases.filter((c) => c.failure !== undefined).map((c) => `${c.classname}: ${c.name}`)).toEqual(['expectations: check: breaker.stopsDuringOutage']);
    expect(f.html).toContain('<div class="verdict failed">FAILED</div>');
  });

  it('exits 2 for a broken profile or bad usage, before anything runs', async () => {
    const dir = reportDir();
    const marker = join(dir, 'ran');
    const words = ['node', '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`];
    const command = ['--', ...words];
    const [broken, unmounted, neither, both, startAt, missing] = await Promise.all([
      drill(['test/drill/fixtures/broken.yaml', '--report', dir, ...command]).done,
      // well-formed, but its match names a system the embedded server does not mount: refused as it starts
      drillHere({ file: 'test/drill/fixtures/unknown-system.yaml', report: dir, command: words }),
      drillHere({ file: 'test/drill/fixtures/holds.yaml' }),
      drillHere({ file: 'test/drill/fixtures/holds.yaml', url: 'http://127.0.0.1:9', command: words }),
      drillHere({ file: 'test/drill/fixtures/short-timeline.yaml', startAt: 'outage', command: words }),
      drillHere({ file: 'test/drill/fixtures/holds.yaml', command: ['no-such-command-understudy'] }),
    ]);
    expect(broken.code).toBe(2);
    expect(broken.stderr.split('\n').filter(Boolean)).toEqual([
      'understudy: test/drill/fixtures/broken.yaml:6:53: rules.0.faults.0.latency.median: must be a duration such as 250ms, 5s, 2m, 1h or 1d',
      'understudy: test/drill/fixtures/broken.yaml:8:12: expect.0.check: unknown check "retry.strategi" (did you mean retry.strategy?)',
    ]);
    // refused: thrown, so the CLI exits 2 with the message, as the broken profile did
    expect(unmounted.code).toBeUndefined();
    expect(unmounted.error?.message).toBe('test/drill/fixtures/unknown-system.yaml:5:22: rules.0.match.system: no system named wmss is mounted (did you mean wms?)');
    expect(neither.code).toBeUndefined();
    expect(neither.error?.message).toMatch(/drill needs a server: --url URL .* or -- COMMAND/);
    expect(both.code).toBeUndefined();
    expect(both.error?.message).toMatch(/drill takes --url or -- COMMAND, not both/);
    expect(startAt.code).toBeUndefined();
    expect(startAt.error?.message).toContain('--start-at outage: not a phase of drill-short (its phases are calm, down, recovery)');
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(dir, 'report.json'))).toBe(false);
    expect(missing.code).toBeUndefined();
    expect(missing.error?.message).toMatch(/cannot run no-such-command-understudy: not found/);
  });
});

describe('understudy drill --url (a running server)', () => {
  it('follows the timeline from --start-at with progress, sends the traffic, and writes the report', async () => {
    const server = await start({ adminToken: 'drill-admin-token', dataDir: '' });
    const dir = reportDir();
    const run = drill(['test/drill/fixtures/short-timeline.yaml', '--url', server.url, '--workspace', 'uat', '--admin-token', 'drill-admin-token', '--start-at', 'down', '--report', dir]);
    await run.saw(/active on/);
    // traffic while the drill follows the timeline: one call after another, no pause, until it reports
    let exited = false;
    void run.done.then(() => (exited = true));
    let sent = 0;
    let refused = 0;
    while (!exited && sent < 5000) {
      const res = await fetch(`${server.url}/w/uat/wms/v1/inventory/SKU-1`, { headers: { 'x-understudy-client': 'drill-url' } });
      await res.arrayBuffer();
      sent++;
      if (res.status === 503) refused++;
    }
    const { code, stdout, stderr } = await run.done;
    expect(code).toBe(0);
    expect(stderr).toContain('understudy drill: drill-short active on ' + server.url + '/w/uat from down on its timeline');
    expect(stderr).toMatch(/phase down \(2\/3\) began at [\d.]+m?s; [\d,]+ requests, [\d,]+ faults, [\d,]+ client errors/);
    expect(stderr).toMatch(/phase recovery \(3\/3\) began at [\d.]+m?s/);
    expect(stderr).toMatch(/the timeline has run at [\d.]+m?s; [\d,]+ requests, [\d,]+ faults, [1-9][\d,]* client errors \(4xx 0, 5xx [1-9][\d,]*, no response 0\) so far/);
    // the calm phase was skipped over
    expect(stderr).not.toMatch(/phase calm/);
    expect(stdout).toContain('understudy drill drill-short: PASSED (1 of 1 expectations hold)');
    expect(refused).toBeGreaterThan(0);

    const { report, html, junit } = readFiles(dir);
    expect(report.outages.map((o) => [o.rule, o.phase])).toEqual([['wms-down', 'down']]);
    expect(report.clients.map((c) => c.client)).toEqual(['drill-url']);
    expect(junit.testsuites.failures).toBe('0');
    expect(html).toMatch(/class="outage"><title>outage wms-down \(phase down\)/);
    expect(html).toContain('class="phase">recovery</text>');
    expect(selfContainedProblems(html)).toEqual([]);
    // the jump the drill made is journaled, but it is no client's call
    expect(html).not.toContain('understudy-drill');
  });

  it('follows an open-ended timeline until interrupted, then reports', async () => {
    const server = await start({ dataDir: '' });
    const run = drill(['test/drill/fixtures/open-ended.yaml', '--url', server.url]);
    await run.saw(/timeline has no end: following until interrupted/);
    await run.saw(/phase steady \(2\/2\) began/);
    run.child.kill('SIGINT');
    const { code, stdout, stderr } = await run.done;
    expect(stderr).toContain('understudy drill: SIGINT: stopping the drill and fetching the report');
    expect(stdout).toContain('understudy drill drill-open-ended: PASSED (1 of 1 expectations hold)');
    expect(code).toBe(0);
  });

  it('names the lines of a profile the server refuses, and exits 2 when it cannot reach the server', async () => {
    const server = await start({ dataDir: '' });
    // the refusal through the process (exit 2, the lines on stderr); the unreachable server through runDrill
    const [refused, unreachable] = await Promise.all([
      drill(['test/drill/fixtures/unknown-system.yaml', '--url', server.url]).done,
      drillHere({ file: 'test/drill/fixtures/holds.yaml', url: 'http://127.0.0.1:9' }),
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^understudy: test\/drill\/fixtures\/unknown-system\.yaml:5:22: rules\.0\.match\.system: .*wmss/m);
    expect(unreachable.code).toBeUndefined();
    expect(unreachable.error?.message).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:9 /);
  });
});
