/**
 * The README's examples, taken from the README itself, so that it cannot rot without a failing test: the
 * configuration sample serves as it is (saved in the checkout, as the README says), the "Your own contract"
 * command and its curl lines answer as their comments promise, and the sample chaos profile loads against the
 * systems a default server mounts.
 */
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogueOf } from '../src/chaos/match.js';
import { profileFromText } from '../src/chaos/profile.js';
import { readConfigFile, resolveConfig } from '../src/config/config.js';
import { buildSystems } from '../src/server.js';
import { call, start } from './helpers.js';

const ROOT = new URL('..', import.meta.url).pathname;
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** the text under a heading, up to the next heading of the same or a higher level */
function section(heading: string): string {
  const lines = README.split('\n');
  // a line starting with # inside a fenced block is a shell comment, not a heading
  let fenced = false;
  const headings = lines.map((l) => {
    if (l.startsWith('```')) fenced = !fenced;
    return !fenced && /^#+ /.test(l) ? /^#+/.exec(l)![0].length : 0;
  });
  const start = lines.findIndex((l, i) => headings[i] > 0 && l.includes(heading));
  expect(start, `README heading "${heading}"`).toBeGreaterThanOrEqual(0);
  const level = headings[start];
  const end = headings.findIndex((h, i) => i > start && h > 0 && h <= level);
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** the fenced code blocks of one language in a piece of the README */
function blocks(text: string, language: string): string[] {
  return [...text.matchAll(new RegExp('^```' + language + '\\n([\\s\\S]*?)^```', 'gm'))].map((m) => m[1]);
}

describe('README', () => {
  it('the configuration file sample serves as it is, saved in the checkout', async () => {
    const part = section('Configuration file');
    const [command] = blocks(part, 'bash');
    const [sample] = blocks(part, 'yaml');
    expect(command).toMatch(/UNDERSTUDY_ADMIN_TOKEN=.+ node dist\/cli\.js serve --config understudy\.yaml/);
    // "in the checkout": a folder where the checkout's examples/ is where the README's relative paths expect it
    const checkout = mkdtempSync(join(tmpdir(), 'understudy-readme-'));
    symlinkSync(join(ROOT, 'examples'), join(checkout, 'examples'));
    const file = join(checkout, 'understudy.yaml');
    writeFileSync(file, sample);

    const token = 'a'.repeat(48);
    const config = resolveConfig(readConfigFile(file, { UNDERSTUDY_ADMIN_TOKEN: token }), { port: 0 });
    expect(config.warnings).toEqual([]);
    const s = await start(config);
    const health = await call(`${s.url}/__admin/health`, { headers: { authorization: `Bearer ${token}` } });
    expect(health.body.systems.map((x: { name: string; mount: string }) => `${x.name} ${x.mount}`)).toEqual([
      'outbound /sfdc/outbound',
      'erp /erp/odata/v4',
      'erp /erp/odata/v2',
      'payments /payments/v1',
      'oauth /.well-known',
      'erp /erp/soap',
      'wms /wms/v1',
      'alerts /alerts',
      'vendor /vendor',
      'oauth /oauth',
    ]);
    expect((await call(`${s.url}/vendor/orders/PO-1001`)).status).toBe(200);
    // the sample's OAuth client gets a token with its scopes
    const issued = await call(`${s.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('sf-sandbox:change-me').toString('base64')}` },
      body: 'grant_type=client_credentials',
    });
    expect(issued.body).toMatchObject({ token_type: 'Bearer', scope: 'wms.read wms.write', expires_in: 3600 });
  });

  it('"Your own contract": the command serves the example contract and its curl lines answer', async () => {
    const [commands] = blocks(section('Your own contract'), 'bash');
    const serve = /node dist\/cli\.js serve --contract (\S+)/.exec(commands);
    expect(serve, commands).not.toBeNull();
    const s = await start({ contracts: [join(ROOT, serve![1])] });
    const curls = commands.split('\n').filter((l) => l.startsWith('curl '));
    expect(curls.length).toBeGreaterThanOrEqual(3);
    for (const line of curls) {
      const path = /localhost:8080(\/[^\s']*)/.exec(line)![1];
      const header = /-H '([^:]+): ([^']+)'/.exec(line);
      const r = await call(`${s.url}${path}`, { headers: header ? { [header[1]]: header[2] } : {} });
      // Prefer: code=N asks for that status; everything else should succeed
      const asked = /code=(\d+)/.exec(header?.[2] ?? '');
      expect(r.status, line).toBe(asked ? Number(asked[1]) : 200);
      expect(r.body, line).toEqual(expect.any(Object));
    }
  });

  it('"Alert sinks": each curl line answers as the comment under it says, and the journal lists them as alerts', async () => {
    const [commands] = blocks(section('Alert sinks'), 'bash');
    const lines = commands.split('\n');
    const s = await start();
    let sent = 0;
    for (const [i, line] of lines.entries()) {
      if (!line.startsWith('curl ')) continue;
      const path = /localhost:8080(\/\S+)/.exec(line)![1];
      const [, name, value] = /-H '([^:]+): ([^']+)'/.exec(line)!;
      const body = /-d '([^']+)'/.exec(line)![1];
      const r = await call(`${s.url}${path}`, { method: 'POST', headers: { [name]: value }, body });
      // the comment is the answer, where … stands for what the README leaves out
      const promised = lines[i + 1].replace(/^# /, '');
      const pattern = new RegExp(`^${promised.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
      expect(r.text, line).toMatch(pattern);
      sent++;
    }
    expect(sent).toBe(3);
    const journal = await call(`${s.url}/__admin/journal?system=alerts&status=2xx`);
    expect(journal.body.entries.map((e: { operation: string }) => e.operation)).toEqual(['pagerDutyEnqueue', 'slackMessage']);
  });

  it('the sample chaos profile loads, its match values checked against the default systems', async () => {
    const sample = blocks(section('Chaos profiles'), 'yaml').find((b) => b.startsWith('name: my-drill'));
    expect(sample).toBeDefined();
    const profile = profileFromText(sample!, catalogueOf(await buildSystems({})));
    expect(profile.rules.map((r) => r.id)).toEqual(['slow-reservations', 'wms-quota']);
    expect(profile.phases.map((p) => p.name)).toEqual(['warm-up', 'outage', 'after']);
  });
});
