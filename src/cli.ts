#!/usr/bin/env node
/**
 * The `understudy` command (yargs). Commands parse options (read through config/serve-options.ts, which names
 * what the user wrote in every message) and call into the library.
 */
import { readdirSync } from 'node:fs';
import { extname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { catalogueOf } from './chaos/match.js';
import { builtInProfiles, loadProfile } from './chaos/profile.js';
import { readConfigFile, resolveConfig, SourceError } from './config/config.js';
import { coerceFlag, NEGATED_FLAGS, readEnvironment, SERVE_OPTIONS, unknownVariable, UsageError, variablesUsedBy } from './config/serve-options.js';
import { formatProblem } from './config/yaml-source.js';
import { checkContract, parseContractOption, prepareContract } from './protocols/rest/contract.js';
import type { Restored } from './mounted-systems.js';
import { VERSION } from './version.js';

const CONTRACTS_DIR = fileURLToPath(new URL('../contracts/', import.meta.url));

async function serve(argv: Record<string, unknown>): Promise<void> {
  const { values: env, unknown, problems } = readEnvironment(process.env);
  // a flag beats its environment variable (which beats the config file: resolveConfig)
  const given = <T>(option: string): T | undefined => (flag(argv, option) ?? env[option]) as T | undefined;
  const configFile = given<string>('config');
  const used = variablesUsedBy(configFile);
  problems.unshift(...unknown.filter((name) => !used.has(name)).map(unknownVariable));
  if (problems.length) throw new UsageError(problems.join('\n'));
  const file = configFile ? readConfigFile(configFile) : undefined;
  const config = resolveConfig(file, {
    port: given('port'),
    host: given('host'),
    seed: given('seed'),
    profile: given('profile'),
    faultHeader: given('fault-header'),
    dataDir: given('data-dir'),
    adminToken: given('admin-token'),
    backlog: given('backlog'),
    contract: given('contract'),
    wmsChangeRatePerSecond: given('wms-change-rate'),
    tlsCert: given('tls-cert'),
    tlsKey: given('tls-key'),
    tlsCa: given('tls-ca'),
    requireClientCert: given('require-client-cert'),
    noAuth: given('no-auth'),
    lenient: given('lenient'),
    stateful: given('stateful'),
    redis: given('redis'),
    redisPrefix: given('redis-prefix'),
    replicaId: given('replica-id'),
  });
  for (const w of config.warnings) console.warn(`understudy: warning: ${w}`);
  // the contracts' checks start first, on another thread, while the server's modules load (prepareContract)
  for (const contract of config.contracts) prepareContract(parseContractOption(contract).file);
  const { startServer } = await import('./server.js');
  const running = await startServer({ ...config, resetState: given<boolean>('reset-state') ?? false });
  const systems = running.engine.systems.map((s) => `${s.name} at ${s.mount}`).join(', ');
  console.log(`understudy ${VERSION} listening on ${running.url} (${systems}; seed ${config.seed}; profile ${config.profile})`);
  console.log(`understudy: ${describeRestored(running.restored)}`);
  // what the contracts' load-time check found (formats not checked; with --lenient, what is served unvalidated)
  for (const s of running.engine.systems) for (const w of (s.engine as { loadWarnings?: string[] }).loadWarnings ?? []) console.warn(`understudy: warning: ${s.name}: ${w}`);
  running.ready.then((warnings) => warnings.forEach((w) => console.warn(`understudy: warning: ${w}`)));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`understudy: ${signal}: finishing in-flight requests`);
    running.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** A serve flag's value from the command line; `--no-auth` arrives as `auth: false` (NEGATED_FLAGS). */
function flag(argv: Record<string, unknown>, option: string): unknown {
  if (argv[option] !== undefined) return argv[option];
  const positive = NEGATED_FLAGS[option];
  return positive !== undefined && argv[positive] === false ? true : undefined;
}

/** The positive twin of a `no-` flag, hidden: only its negation (`--no-auth`) is an option. */
function negationOnly(positive: string): (value: unknown) => unknown {
  const negated = Object.keys(NEGATED_FLAGS).find((k) => NEGATED_FLAGS[k] === positive);
  return (value) => {
    if (Array.isArray(value)) value = value[value.length - 1];
    if (value === false) return false;
    throw new UsageError(`--${positive} is not an option (did you mean --${negated}?)`);
  };
}

/** `understudy certs dev`: a local CA and a server certificate for localhost, and how to use them. */
async function certsDev(out: string, force: boolean): Promise<void> {
  // loaded for this command only: @peculiar/x509 must not slow down `serve`'s start
  const { CertificatesExistError, DEV_SERVER_HOSTS, writeDevCertificates } = await import('./tls/dev-certs.js');
  let paths;
  try {
    paths = await writeDevCertificates(out, { force });
  } catch (err) {
    if (!(err instanceof CertificatesExistError)) throw err;
    console.error(`understudy: ${err.message}`);
    process.exitCode = 1;
    return;
  }
  // relative to where the user is, unless that means climbing out of it
  const shown = (path: string) => {
    const rel = relative(process.cwd(), path);
    return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
  };
  const [ca, caKey, server, serverKey] = [paths.ca, paths.caKey, paths.server, paths.serverKey].map(shown);
  const width = Math.max(ca.length, caKey.length, server.length, serverKey.length);
  console.log(`wrote ${ca.padEnd(width)}  the local CA: tell clients to trust it (curl --cacert ${ca}, NODE_EXTRA_CA_CERTS=${ca})`);
  console.log(`wrote ${caKey.padEnd(width)}  the CA's private key (owner-only): it signs client certificates for mutual TLS; share it with nobody`);
  console.log(`wrote ${server.padEnd(width)}  the server certificate for ${DEV_SERVER_HOSTS.join(', ')}, signed by the CA`);
  console.log(`wrote ${serverKey.padEnd(width)}  its private key (owner-only)`);
  console.log(`start HTTPS: understudy serve --tls-cert ${server} --tls-key ${serverKey} [--tls-ca ${ca}  (mutual TLS: clients present certificates the CA signed)]`);
  console.log(
    'these are for local use: Salesforce only calls HTTPS endpoints whose certificate chains to a public CA (no self-signed or private CA), so a sandbox needs a deployment with a public certificate',
  );
}

/** "state in .understudy: 2 workspaces restored (default: wms from a snapshot + 120 writes)" */
function describeRestored(restored: Restored): string {
  if (restored.replica) return `replica ${restored.replica.id}: workspaces are shared through Redis at ${restored.replica.redis}`;
  if (restored.dataDir === null) return 'state is kept in memory only (--data-dir is empty or none)';
  const replayed = restored.workspaces.filter((w) => w.systems.some((s) => s.snapshot || s.writes > 0));
  for (const w of restored.workspaces) {
    for (const s of w.systems) {
      if (s.diverged > 0) console.warn(`understudy: warning: workspace ${w.workspace}: ${s.diverged} of ${s.writes} replayed ${s.system} writes answered differently than when they were made`);
    }
  }
  if (replayed.length === 0) return `state is stored in ${restored.dataDir} (nothing to restore)`;
  const details = replayed.map((w) => `${w.workspace}: ${w.systems.map((s) => `${s.system} ${s.snapshot ? 'from a snapshot + ' : ''}${s.writes} writes`).join(', ')}`);
  return `state is stored in ${restored.dataDir}; restored ${details.join('; ')}`;
}

async function checkContracts(files: string[]): Promise<void> {
  const targets = files.length
    ? files
    : readdirSync(CONTRACTS_DIR)
        .filter((f) => !f.startsWith('.'))
        .map((f) => join(CONTRACTS_DIR, f));
  let failed = 0;
  for (const file of targets) {
    const ext = extname(file).toLowerCase();
    if (!['.yaml', '.yml', '.json'].includes(ext)) {
      console.log(`skip  ${file} (${ext} contracts are checked once their protocol engine exists)`);
      continue;
    }
    const problems = await checkContract(file);
    if (problems.length) {
      failed++;
      console.log(`FAIL  ${file}\n${problems.map((p) => '      ' + p.replace(/\n/g, '\n      ')).join('\n')}`);
    } else console.log(`ok    ${file}`);
  }
  if (failed) process.exitCode = 1;
}

function listProfiles(): void {
  for (const name of builtInProfiles()) {
    const profile = loadProfile(name);
    console.log(`${name.padEnd(22)} ${profile.description}`);
  }
}

/**
 * Checks profiles as a server would load them, match values included: against the built-in systems and any
 * --contract files (read, not validated against the OpenAPI specification: that is `contracts check`'s job).
 */
async function checkProfiles(files: string[], contracts: string[]): Promise<void> {
  // lenient: matching a profile needs the contracts' operations, not their validators
  const { buildSystems } = await import('./server.js');
  const catalogue = catalogueOf(await buildSystems({ contracts, lenient: true }, { validateContracts: false }));
  let failed = 0;
  for (const file of files) {
    try {
      const profile = loadProfile(file, catalogue);
      const rules = profile.rules.length + profile.phases.reduce((n, p) => n + p.rules.length, 0);
      const deliveries = profile.deliveries.length ? `, ${profile.deliveries.length} delivery rule${profile.deliveries.length === 1 ? '' : 's'}` : '';
      console.log(`ok    ${file} (${profile.name}: ${rules} rules${deliveries}, ${profile.expectations.length} expectation${profile.expectations.length === 1 ? '' : 's'})`);
      for (const note of profile.notes) console.log(`      note: ${note}`);
    } catch (err) {
      if (!(err instanceof SourceError)) throw err;
      failed++;
      console.log(`FAIL  ${file}\n${err.problems.map((p) => '      ' + formatProblem(p)).join('\n')}`);
    }
  }
  if (failed) process.exitCode = 1;
}

await yargs(hideBin(process.argv))
  .scriptName('understudy')
  .version(VERSION)
  // "0123" stays "0123" (an admin token), "abc" reaches the readers instead of becoming NaN
  .parserConfiguration({ 'parse-numbers': false })
  .command(
    'serve',
    'run the server (every option also reads UNDERSTUDY_<OPTION>, e.g. UNDERSTUDY_DATA_DIR)',
    (y) => {
      for (const [name, option] of Object.entries(SERVE_OPTIONS)) {
        // no yargs type: values stay as written (parse-numbers is off below) and the readers above check numbers
        // and booleans with messages naming the flag; a boolean flag may stand bare
        y.option(name, { array: option.list, requiresArg: option.flag !== 'boolean', coerce: coerceFlag(name), describe: option.describe });
      }
      for (const positive of Object.values(NEGATED_FLAGS)) y.option(positive, { hidden: true, coerce: negationOnly(positive) });
      return y;
    },
    serve,
  )
  .command('contracts', 'work with contracts', (y) =>
    y
      .command(
        'check [files..]',
        'validate contracts (default: every file in contracts/)',
        (c) => c.positional('files', { type: 'string', array: true }),
        (argv) => checkContracts((argv.files as string[] | undefined) ?? []),
      )
      .demandCommand(1, 'name a subcommand: check'),
  )
  .command('profiles', 'work with chaos profiles', (y) =>
    y
      .command('list', 'list the built-in profiles', () => undefined, () => listProfiles())
      .command(
        'check <files..>',
        'validate profile files (or built-in names); exits 1 listing every problem with its line',
        (c) =>
          c.positional('files', { type: 'string', array: true, demandOption: true }).option('contract', {
            type: 'string',
            array: true,
            // one file per --contract: the profile files after it are not contracts
            nargs: 1,
            describe: 'a contract the server will also serve (FILE or FILE@/mount): match values may name its operations and routes',
          }),
        (argv) => checkProfiles(argv.files as string[], (argv.contract as string[] | undefined) ?? []),
      )
      .demandCommand(1, 'name a subcommand: list or check'),
  )
  .command('certs', 'certificates for local HTTPS', (y) =>
    y
      .command(
        'dev',
        'write a local CA (ca.crt, ca.key) and a server certificate for localhost and 127.0.0.1 (server.crt, server.key); exits 1 rather than overwrite',
        (c) =>
          c
            .option('out', { type: 'string', default: 'certs', requiresArg: true, describe: 'directory to write into (created if missing)' })
            .option('force', { type: 'boolean', default: false, describe: 'overwrite existing files (clients must then trust the new ca.crt)' }),
        (argv) => certsDev(argv.out, argv.force),
      )
      .demandCommand(1, 'name a subcommand: dev'),
  )
  .command(
    'drill <file>',
    "run a chaos drill: activate FILE's profile on a running server (--url) or on an embedded one that COMMAND (after --) sends traffic to, then print the report card; exits 0 when every expectation holds, 1 when one does not, 2 for usage or profile errors",
    (y) =>
      y
        // `--` ends the drill's options: COMMAND's own words (flags included) arrive untouched in argv['--']
        .parserConfiguration({ 'parse-numbers': false, 'populate--': true })
        .usage(
          '$0 drill FILE --url URL [--workspace W] [--admin-token T] [--start-at PHASE|DURATION] [--report DIR]\n' +
            '$0 drill FILE [--seed N] [--data-dir DIR] [--workspace W] [--start-at PHASE|DURATION] [--report DIR] -- COMMAND...',
        )
        .positional('file', { type: 'string', demandOption: true, describe: 'the chaos profile: a file, or a built-in name' })
        .option('url', { type: 'string', requiresArg: true, describe: 'drive a running understudy at this root URL (follows the timeline, then reports)' })
        .option('workspace', { type: 'string', requiresArg: true, describe: 'the workspace to drill (default: the default one); COMMAND gets UNDERSTUDY_URL with /w/W' })
        .option('admin-token', { type: 'string', requiresArg: true, describe: "the server's admin token (--url)" })
        .option('report', { type: 'string', requiresArg: true, describe: 'write report.json, junit.xml and report.html into DIR (created if missing)' })
        .option('start-at', { type: 'string', requiresArg: true, describe: "start the profile's timeline at a phase or a point (90s) instead of its beginning" })
        .option('seed', { requiresArg: true, coerce: coerceFlag('seed'), describe: 'seed of the embedded server (default 42)' })
        .option('data-dir', { type: 'string', requiresArg: true, describe: 'keep the embedded server\'s state in DIR (default: in memory)' })
        .example('$0 drill chaos-profiles/payment-outage.yaml -- npm run integration-tests', 'the CI one-liner')
        .example('$0 drill payment-outage --url https://understudy.example.test --workspace uat --report drill-report', 'a drill on a deployed server'),
    async (argv) => {
      // loaded for this command only: `serve` starts ~70 ms sooner without the drill's report and display code
      const { runDrill } = await import('./drill/drill-command.js');
      const code = await runDrill(
        {
          file: argv.file as string,
          url: argv.url as string | undefined,
          workspace: argv.workspace as string | undefined,
          adminToken: argv['admin-token'] as string | undefined,
          report: argv.report as string | undefined,
          startAt: argv['start-at'] as string | undefined,
          seed: argv.seed as number | undefined,
          dataDir: argv['data-dir'] as string | undefined,
          command: ((argv['--'] as unknown[] | undefined) ?? []).map(String),
        },
        { stdout: process.stdout, stderr: process.stderr, signals: process },
      );
      process.exitCode = code;
    },
  )
  .demandCommand(1, 'name a command: serve, drill, contracts check, profiles list, profiles check or certs dev')
  .strict()
  .fail((message, err) => {
    // every line its own prefix: several problems are reported at once, one a line
    if (err) console.error(err.message.replace(/^/gm, 'understudy: '));
    else console.error(`understudy: ${message}\nRun understudy --help for usage.`);
    process.exit(2);
  })
  .help()
  .parseAsync();
