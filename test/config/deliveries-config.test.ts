/**
 * `deliveries:` and `subscriptions:` in the config file: read into the server's settings, and refused with the
 * file, line and field when wrong, exactly as the admin API refuses the same subscription.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfigFile, resolveConfig, SourceError } from '../../src/config/config.js';

const dir = mkdtempSync(join(tmpdir(), 'understudy-config-deliveries-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof SourceError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected a SourceError');
}

describe('deliveries and subscriptions in the config file', () => {
  it('reads the delivery defaults and subscriptions (each in its workspace, ids defaulted)', () => {
    const path = file(
      'ok.yaml',
      [
        'deliveries:',
        '  timeout: 5s',
        '  concurrency: 4',
        '  retry: { base: 500ms, factor: 3, cap: 1h, maxAttempts: 10, maxAge: 12h }',
        'subscriptions:',
        '  - { url: "https://example.my.salesforce-sites.com/services/apexrest/wms", events: ["inventory.*"], secret: "${WH_SECRET}" }',
        '  - { id: uat-hooks, workspace: UAT, url: "http://127.0.0.1:9/h", events: ["reservation.created"], secret: s, retry: { maxAttempts: 2 } }',
        '',
      ].join('\n'),
    );
    const config = resolveConfig(readConfigFile(path, { WH_SECRET: 'whsec_from_env' }), {});
    expect(config.deliveries).toEqual({ timeoutMs: 5000, concurrency: 4, retry: { baseMs: 500, factor: 3, capMs: 3_600_000, maxAttempts: 10, maxAgeMs: 43_200_000 } });
    expect(config.subscriptions).toHaveLength(2);
    expect(config.subscriptions[0]).toMatchObject({ id: 'config-1', workspace: 'default', events: ['inventory.*'], secrets: [{ secret: 'whsec_from_env', until: null }], retry: null });
    // a subscription's retry fills in from the file's policy
    expect(config.subscriptions[1]).toMatchObject({ id: 'uat-hooks', workspace: 'uat', retry: { baseMs: 500, factor: 3, maxAttempts: 2 } });
    expect(config.warnings).toEqual([]);
  });

  it('refuses bad subscriptions and delivery settings with the line and the field', () => {
    const path = file(
      'bad.yaml',
      [
        'deliveries:',
        '  timeout: soon',
        '  retry: { base: never }',
        'subscriptions:',
        '  - { url: "ftp://x", events: ["inventory.*"], secret: s }',
        '  - { url: "http://x", events: ["charge.*"], secret: s }',
        '  - { url: "http://x", events: ["inventory.*"] }',
        '  - { url: "http://x", events: ["inventory.*"], secret: s, workspace: "no/slashes" }',
        '  - { url: "http://x", events: ["inventory.*"], secret: s, colour: red }',
        '  - { id: sub_1, url: "http://x", events: ["inventory.*"], secret: s }',
        '',
      ].join('\n'),
    );
    const problems = problemsOf(() => readConfigFile(path, {}));
    const at = (line: number) => problems.filter((p) => p.includes(`bad.yaml:${line}:`));
    expect(at(2).join()).toMatch(/timeout/);
    // the schema's timeout error stops the deeper checks; fix it and the rest are reported
    const fixed = file('bad2.yaml', readFileSync(path, 'utf8').replace('timeout: soon', 'timeout: 5s'));
    const more = problemsOf(() => readConfigFile(fixed, {}));
    const line = (n: number) => more.filter((p) => p.includes(`bad2.yaml:${n}:`)).join(' | ');
    expect(line(3)).toMatch(/retry/);
    expect(line(5)).toMatch(/http or https/);
    expect(line(6)).toMatch(/charge\.\*.*matches no event/);
    expect(line(7)).toMatch(/secret/);
    expect(line(8)).toMatch(/workspace name/);
    expect(line(9)).toMatch(/unknown field/);
    expect(line(10)).toMatch(/sub_/);
  });
});
