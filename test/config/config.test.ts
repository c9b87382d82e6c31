/**
 * The configuration file: precedence, ${VAR} substitution, errors that name the file, line and column, and
 * relative paths that resolve against the file's folder (shown by serving from it); `deliveries:` and
 * `subscriptions:`, refused with file, line and field as the admin API refuses the same subscription.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfigFile, resolveConfig, SourceError } from '../../src/config/config.js';
import { coerceFlag, readEnvironment, UsageError } from '../../src/config/serve-options.js';
import { call, start, VENDOR_CONTRACT } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'understudy-config-'));
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

describe('config file', () => {
  it('reads the documented keys, substitutes ${VAR} and lets flags win', () => {
    const path = file(
      'ok.yaml',
      ['port: 9000', 'seed: 7', 'adminToken: ${TEST_TOKEN}', 'limits: { bodyBytes: 2mb, journalEntries: 500 }', 'systems:', '  wms: { skus: 50, warehouses: 2, changeRate: 6/m }', ''].join('\n'),
    );
    const config = resolveConfig(readConfigFile(path, { TEST_TOKEN: 'token-from-env' }), { port: 9100 });
    expect(config.port).toBe(9100);
    expect(config.seed).toBe(7);
    expect(config.adminToken).toBe('token-from-env');
    expect(config.limits.bodyBytes).toBe(2 * 1024 * 1024);
    expect(config.limits.journalEntries).toBe(500);
    expect(config.systems.wms).toEqual({ enabled: true, auth: 'none', skus: 50, warehouses: 2, changeRatePerSecond: 0.1, reservationTtlMs: 24 * 3_600_000 });
  });

  it('names file, line and column for unknown keys and wrong values, all at once', () => {
    const path = file('bad.yaml', ['port: 8080', 'colour: blue', 'limits:', '  bodyBytes: lots', 'systems:', '  wms:', '    skus: -5', ''].join('\n'));
    const problems = problemsOf(() => readConfigFile(path));
    expect(problems).toContainEqual(expect.stringMatching(new RegExp(`^${path}:2:1: colour: unknown key`)));
    expect(problems).toContainEqual(expect.stringMatching(new RegExp(`^${path}:4:14: limits.bodyBytes: must be a size`)));
    expect(problems).toContainEqual(expect.stringMatching(new RegExp(`^${path}:7:11: systems.wms.skus: must be >= 1`)));
  });

  it('reads the listen backlog, the journal budget and the WMS expiry, and refuses impossible ones', () => {
    const ok = file('limits.yaml', ['backlog: 2048', 'limits: { journalTotalBytes: 64mb, objects: 500 }', 'systems:', '  wms: { reservationTtl: 0 }', ''].join('\n'));
    const config = resolveConfig(readConfigFile(ok), {});
    expect(config.backlog).toBe(2048);
    expect(config.limits.journalTotalBytes).toBe(64 * 1024 * 1024);
    expect(config.limits.objects).toBe(500);
    expect(config.systems.wms.reservationTtlMs).toBe(0);
    expect(resolveConfig(undefined, {}).backlog).toBe(4096);

    const bad = file('bad-limits.yaml', ['backlog: 0', 'limits: { objects: 5 }', 'systems:', '  wms: { reservationTtl: soon }', ''].join('\n'));
    const problems = problemsOf(() => readConfigFile(bad));
    expect(problems).toContainEqual(expect.stringMatching(/:1:10: backlog: must be >= 1/));
    expect(problems).toContainEqual(expect.stringMatching(/limits.objects: must be >= 100/));
    expect(problems).toContainEqual(expect.stringMatching(/systems.wms.reservationTtl: must be a duration such as 250ms.*or 0 for never/));
    const budgetBelowOne = file('budget.yaml', 'limits: { journalBytes: 32mb, journalTotalBytes: 16mb }\n');
    expect(() => resolveConfig(readConfigFile(budgetBelowOne), {})).toThrow(/journalTotalBytes must be at least limits.journalBytes/);
  });

  it('reads the WMS change rate from the file, UNDERSTUDY_WMS_CHANGE_RATE and --wms-change-rate, in that order of weight', () => {
    const path = file('rate.yaml', 'systems:\n  wms: { changeRate: 6/m }\n');
    expect(resolveConfig(readConfigFile(path), {}).systems.wms.changeRatePerSecond).toBe(0.1);

    const env = readEnvironment({ UNDERSTUDY_WMS_CHANGE_RATE: '120/m' });
    expect(env).toEqual({ values: { 'wms-change-rate': 2 }, unknown: [], problems: [] });
    expect(resolveConfig(readConfigFile(path), { wmsChangeRatePerSecond: env.values['wms-change-rate'] as number }).systems.wms.changeRatePerSecond).toBe(2);
    // the flag as yargs hands it over (given twice: the last counts), then preferred over the variable by the CLI
    expect(coerceFlag('wms-change-rate')(['1/s', '0.5/s'])).toBe(0.5);
    expect(coerceFlag('wms-change-rate')('0/s')).toBe(0);
    expect(resolveConfig(undefined, {}).systems.wms.changeRatePerSecond).toBe(0);
  });

  it('refuses a bad change rate, naming the flag, the variable or the file and line', () => {
    expect(readEnvironment({ UNDERSTUDY_WMS_CHANGE_RATE: 'fast' }).problems).toEqual([
      'UNDERSTUDY_WMS_CHANGE_RATE=fast is not a rate: write N/s, N/m or N/h, such as 0/s, 5/s or 120/m',
    ]);
    expect(() => coerceFlag('wms-change-rate')('5/x')).toThrow(UsageError);
    expect(() => coerceFlag('wms-change-rate')('5/x')).toThrow('--wms-change-rate 5/x is not a rate: write N/s, N/m or N/h, such as 0/s, 5/s or 120/m');
    expect(() => coerceFlag('wms-change-rate')('2000/s')).toThrow('--wms-change-rate 2000/s is more than 1000 changes per second (the most is 1000/s, 60000/m)');

    const tooFast = file('too-fast.yaml', 'seed: 1\nsystems:\n  wms: { changeRate: 61000/m }\n');
    expect(problemsOf(() => readConfigFile(tooFast))).toEqual([
      `${tooFast}:3:22: systems.wms.changeRate: is more than 1000 changes per second (the most is 1000/s, 60000/m)`,
    ]);
    const notRate = file('not-rate.yaml', 'systems:\n  wms: { changeRate: fast }\n');
    expect(problemsOf(() => readConfigFile(notRate))).toEqual([`${notRate}:2:22: systems.wms.changeRate: must be a rate such as 0/s, 5/s or 120/m`]);
    // a configuration built in code, not read from a file, is checked too
    expect(() => resolveConfig({ systems: { wms: { changeRate: '1e3/s' } } }, {})).toThrow(ConfigError);
  });

  it('reports YAML syntax errors and unset environment variables with their line', () => {
    const syntax = file('syntax.yaml', 'port: 8080\nlimits: { bodyBytes: 1mb\n');
    expect(problemsOf(() => readConfigFile(syntax))[0]).toMatch(new RegExp(`^${syntax}:\\d+:\\d+: `));
    const unset = file('unset.yaml', 'host: 127.0.0.1\nadminToken: ${UNDERSTUDY_TEST_UNSET_VAR}\n');
    expect(problemsOf(() => readConfigFile(unset, {}))).toEqual([`${unset}:2:13: adminToken: environment variable UNDERSTUDY_TEST_UNSET_VAR is not set`]);
    expect(problemsOf(() => readConfigFile(join(dir, 'missing.yaml')))[0]).toMatch(/cannot read: ENOENT/);
  });

  it('reads auth: clients (certificate files relative to the file, inline JWKS), users, API keys, token settings; and tls', () => {
    const folder = mkdtempSync(join(dir, 'auth-'));
    mkdirSync(join(folder, 'certs'));
    copyFileSync('test/fixtures/auth/client.crt', join(folder, 'certs', 'sf.crt'));
    const path = join(folder, 'auth.yaml');
    writeFileSync(
      path,
      [
        'systems:',
        '  wms: { auth: oauth }',
        '  payments: { auth: apikey }',
        '  erp: { auth: basic, scopes: { GetCustomer: [erp.customers] } }',
        'auth:',
        '  tokenTtl: 15m',
        '  invalidTokenStatus: 403',
        '  autoApprove: true',
        '  clients:',
        '    - id: sf-sandbox',
        '      secret: ${SF_SECRET}',
        '      grants: [client_credentials, "urn:ietf:params:oauth:grant-type:jwt-bearer"]',
        '      scopes: [wms.read, wms.write]',
        '      certificate: certs/sf.crt',
        '      ipAllowlist: [203.0.113.0/24]',
        '    - id: browser',
        '      grants: [authorization_code, refresh_token]',
        '      redirectUris: [https://example.my.salesforce.com/services/authcallback/understudy]',
        '      requirePkce: true',
        '  users: [ { username: legacy, password: pw } ]',
        '  apiKeys: [ { key: k-0123456789, client: wms-poller } ]',
        'tls: { cert: certs/server.crt, key: certs/server.key }',
        '',
      ].join('\n'),
    );
    const config = resolveConfig(readConfigFile(path, { SF_SECRET: 'from-env' }), {});
    expect(config.warnings).toEqual([]);
    expect(config.systems.wms.auth).toBe('oauth');
    expect(config.systems.payments.auth).toBe('apikey');
    expect(config.systems.erp.scopes).toEqual({ read: ['erp.read'], write: ['erp.write'], GetCustomer: ['erp.customers'] });
    expect(config.auth).toMatchObject({ tokenTtlMs: 900_000, invalidTokenStatus: 403, autoApprove: true, apiKeys: [{ key: 'k-0123456789', client: 'wms-poller' }] });
    const [sf, browser] = config.auth.clients;
    expect(sf).toMatchObject({ id: 'sf-sandbox', secret: 'from-env', scopes: ['wms.read', 'wms.write'], ipAllowlist: ['203.0.113.0/24'], source: 'config' });
    expect(sf.certificate).toBe(readFileSync('test/fixtures/auth/client.crt', 'utf8'));
    expect(browser).toMatchObject({ id: 'browser', requirePkce: true, grants: ['authorization_code', 'refresh_token'] });
    expect(config.tls).toEqual({ cert: join(folder, 'certs', 'server.crt'), key: join(folder, 'certs', 'server.key'), requireClientCert: false });
    // flags win over the file
    expect(resolveConfig(readConfigFile(path, { SF_SECRET: 'x' }), { tlsCert: '/other.crt', noAuth: true })).toMatchObject({ noAuth: true, tls: { cert: '/other.crt' } });
  });

  it('refuses bad clients with file, line and field, as the admin API refuses them', () => {
    const path = file(
      'bad-clients.yaml',
      [
        'auth:',
        '  clients:',
        '    - { id: "has space", grants: [implicit] }',
        '    - { id: jwt, grants: ["urn:ietf:params:oauth:grant-type:jwt-bearer"] }',
        '    - { id: code, secret: s, grants: [authorization_code], redirectUris: ["https://x.example/cb#frag"] }',
        '    - { id: cert, certificate: missing.crt }',
        '    - { id: dup, secret: a }',
        '    - { id: dup, secret: b }',
        '',
      ].join('\n'),
    );
    const problems = problemsOf(() => readConfigFile(path));
    const at = (line: number, text: RegExp) => expect(problems.some((p) => p.startsWith(`${path}:${line}:`) && text.test(p)), `${line} ${text}: ${problems.join('\n')}`).toBe(true);
    at(3, /an id is 1-80/);
    at(3, /unknown grant "implicit"/);
    at(4, /certificate or JWKS/);
    at(5, /no fragment/);
    at(6, /missing.crt cannot be read \(ENOENT\)/);
    at(8, /used twice/);
    const status = file('bad-status.yaml', 'auth:\n  invalidTokenStatus: 200\n');
    expect(problemsOf(() => readConfigFile(status))[0]).toMatch(/:2:23: auth.invalidTokenStatus: must be >= 400/);
  });

  it('refuses auth settings that cannot work: keys, users and CAs the chosen checks need', () => {
    expect(() => resolveConfig({ systems: { wms: { auth: 'apikey' } } }, {})).toThrow(/systems.wms.auth is apikey, but auth.apiKeys names no key/);
    expect(() => resolveConfig({ systems: { payments: { auth: 'basic' } } }, {})).toThrow(/systems.payments.auth is basic, but auth.users names no user/);
    expect(() => resolveConfig({ systems: { erp: { auth: 'mtls' } } }, {})).toThrow(/no CA is configured/);
    expect(() => resolveConfig({}, { tlsCert: 'a.crt' })).toThrow(/both a certificate and its key/);
    expect(() => resolveConfig({}, { tlsCert: 'a.crt', tlsKey: 'a.key', requireClientCert: true })).toThrow(/needs --tls-ca/);
    // --no-auth: nothing is checked, so nothing is needed
    expect(resolveConfig({ systems: { wms: { auth: 'apikey' } } }, { noAuth: true }).noAuth).toBe(true);
    const wsse = file('wsse-rest.yaml', 'systems:\n  wms: { auth: wsse }\n');
    expect(problemsOf(() => readConfigFile(wsse))[0]).toMatch(/systems.wms.auth: must be one of none, oauth, apikey, basic, mtls/);
  });

  it('reads the ERP settings and WS-Security users, and refuses bad ones with the line', () => {
    const path = file('erp.yaml', 'systems:\n  erp: { customers: 20, invoices: 50, invoiceLines: 500, auth: wsse, csrf: both, odataPageSize: 500 }\n  outbound: { enabled: false }\nauth:\n  users: [ { username: legacy, password: s3cret } ]\n');
    const config = resolveConfig(readConfigFile(path), {});
    expect(config.systems.erp).toEqual({ enabled: true, customers: 20, invoices: 50, invoiceLines: 500, auth: 'wsse', scopes: { read: ['erp.read'], write: ['erp.write'] }, csrf: 'both', odataPageSize: 500 });
    expect(config.systems.outbound).toEqual({ enabled: false });
    expect(config.auth.users).toEqual([{ username: 'legacy', password: 's3cret' }]);
    expect(resolveConfig(undefined, {}).systems.erp).toEqual({ enabled: true, customers: 500, invoices: 10_000, invoiceLines: 1_000_000, auth: 'none', scopes: { read: ['erp.read'], write: ['erp.write'] }, csrf: 'v2', odataPageSize: 1000 });
    for (const [setting, field] of [
      ['customers: 0', 'customers'],
      ['invoiceLines: many', 'invoiceLines'],
      ['auth: oauth2', 'auth'],
      ['csrf: always', 'csrf'],
      ['products: 10', 'products'],
    ]) {
      const bad = file('bad-erp.yaml', `systems:\n  erp:\n    ${setting}\n`);
      expect(problemsOf(() => readConfigFile(bad, {})).join(), setting).toMatch(new RegExp(`bad-erp\\.yaml:3:\\d+: systems\\.erp(\\.${field})?`));
    }
    // wsse needs someone to accept; fewer lines than invoices cannot give every invoice a line
    expect(() => resolveConfig(readConfigFile(file('nobody.yaml', 'systems:\n  erp: { auth: wsse }\n')), {})).toThrow(/auth\.users names no user/);
    // Salesforce Connect refuses server-driven pages above 2,000 rows: the server does not start with one
    expect(() => resolveConfig(readConfigFile(file('page.yaml', 'systems:\n  erp: { odataPageSize: 2001 }\n')), {})).toThrow(/systems\.erp\.odataPageSize 2001 must be an integer from 1 to 2000/);
    expect(resolveConfig(readConfigFile(file('page2.yaml', 'systems:\n  erp: { odataPageSize: 2000 }\n')), {}).systems.erp.odataPageSize).toBe(2000);
    expect(() => resolveConfig(readConfigFile(file('lines.yaml', 'systems:\n  erp: { invoices: 100, invoiceLines: 99 }\n')), {})).toThrow(/invoiceLines \(99\) must be at least systems\.erp\.invoices/);
    expect(() => resolveConfig(readConfigFile(file('twice.yaml', 'auth:\n  users: [ { username: a, password: x }, { username: a, password: y } ]\n')), {})).toThrow(/names a more than once/);
  });

  it('reads the payment gateway settings, and refuses bad ones with the line', () => {
    const path = file('payments.yaml', 'systems:\n  payments: { captureDelay: 500ms, captureFailureRate: 0.25, idempotencyKeyTtl: 1h, maxAmount: 1000 }\n');
    expect(resolveConfig(readConfigFile(path), {}).systems.payments).toEqual({
      enabled: true,
      auth: 'none',
      captureDelayMs: 500,
      captureFailureRate: 0.25,
      idempotencyKeyTtlMs: 3_600_000,
      maxAmount: 1000,
    });
    expect(resolveConfig(undefined, {}).systems.payments).toEqual({ enabled: true, auth: 'none', captureDelayMs: 2000, captureFailureRate: 0, idempotencyKeyTtlMs: 86_400_000, maxAmount: 99_999_999 });
    expect(resolveConfig(readConfigFile(file('now.yaml', 'systems:\n  payments: { captureDelay: 0, enabled: false }\n')), {}).systems.payments).toMatchObject({ enabled: false, captureDelayMs: 0 });
    for (const [setting, field] of [
      ['captureFailureRate: 2', 'captureFailureRate'],
      ['maxAmount: 100000000', 'maxAmount'],
      ['maxAmount: 0', 'maxAmount'],
      ['idempotencyKeyTtl: forever', 'idempotencyKeyTtl'],
      ['captureDelay: -1s', 'captureDelay'],
      ['currency: usd', 'currency'],
    ]) {
      const bad = file('bad-payments.yaml', `systems:\n  payments:\n    ${setting}\n`);
      const problems = problemsOf(() => readConfigFile(bad, {}));
      expect(problems.join(), setting).toMatch(new RegExp(`bad-payments\\.yaml:3:\\d+: systems\\.payments(\\.${field})?`));
    }
  });

  it('mounts the alert sinks unless systems.alerts.enabled is false, and refuses other alerts keys with the line', async () => {
    expect(resolveConfig(undefined, {}).systems.alerts).toEqual({ enabled: true });
    const off = resolveConfig(readConfigFile(file('alerts-off.yaml', 'systems:\n  alerts: { enabled: false }\n')), {});
    expect(off.systems.alerts).toEqual({ enabled: false });
    const server = await start({ ...off, port: 0, dataDir: '' });
    const health = await call(`${server.url}/__admin/health`);
    expect(health.body.systems.map((s: { name: string }) => s.name)).not.toContain('alerts');
    expect((await call(`${server.url}/alerts/slack/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"hi"}' })).status).toBe(404);
    for (const [setting, field] of [
      ['enabled: maybe', 'enabled'],
      ['slack: true', 'slack'],
    ]) {
      const bad = file('bad-alerts.yaml', `systems:\n  alerts:\n    ${setting}\n`);
      expect(problemsOf(() => readConfigFile(bad, {})).join(), setting).toMatch(new RegExp(`bad-alerts\\.yaml:3:\\d+: systems\\.alerts\\.${field}`));
    }
  });

  it('resolves its relative paths against its own folder, whatever the working directory; a built-in profile stays a name', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'understudy-config-folder-'));
    copyFileSync(VENDOR_CONTRACT, join(folder, 'vendor.yaml'));
    mkdirSync(join(folder, 'profiles'));
    writeFileSync(join(folder, 'profiles', 'mine.yaml'), 'name: mine\nrules:\n  - id: r\n    match: { operation: listAccounts }\n    faults: [ { status: { code: 503 } } ]\n');
    const path = join(folder, 'understudy.yaml');
    writeFileSync(path, 'profile: profiles/mine.yaml\ndataDir: state\nsystems:\n  custom: [ { contract: vendor.yaml, mount: /vendor } ]\n');
    expect(process.cwd()).not.toBe(folder);

    const config = resolveConfig(readConfigFile(path), { port: 0 });
    expect(config.dataDir).toBe(join(folder, 'state'));
    const s = await start(config);
    expect((await call(`${s.url}/vendor/accounts`)).status).toBe(503);
    expect((await call(`${s.url}/__admin/chaos`)).body.profile).toMatchObject({ name: 'mine', source: join(folder, 'profiles', 'mine.yaml') });

    const named = join(folder, 'named.yaml');
    writeFileSync(named, 'profile: brownout\n');
    expect(resolveConfig(readConfigFile(named), {}).profile).toBe('brownout');
  });
});

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
        '  - { url: "http://x", events: ["invoice.*"], secret: s }',
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
    expect(line(6)).toMatch(/invoice\.\*.*matches no event/);
    expect(line(7)).toMatch(/secret/);
    expect(line(8)).toMatch(/workspace name/);
    expect(line(9)).toMatch(/unknown field/);
    expect(line(10)).toMatch(/sub_/);
  });
});
