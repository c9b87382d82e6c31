#!/usr/bin/env node
/**
 * The `understudy` command (yargs). Commands only parse options and call into the library; no logic lives here.
 */
import { readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { builtInProfiles, loadProfile } from './chaos/profile.js';
import { ConfigError, readConfigFile, resolveConfig, SourceError } from './config/config.js';
import { formatProblem } from './config/yaml-source.js';
import { checkContract } from './protocols/rest/contract.js';
import { startServer } from './server.js';
import { VERSION } from './version.js';

const CONTRACTS_DIR = fileURLToPath(new URL('../contracts/', import.meta.url));

async function serve(argv: Record<string, unknown>): Promise<void> {
  const file = argv.config ? readConfigFile(String(argv.config)) : undefined;
  const config = resolveConfig(file, {
    port: argv.port as number | undefined,
    host: argv.host as string | undefined,
    seed: argv.seed as number | undefined,
    profile: argv.profile as string | undefined,
    faultHeader: argv.faultHeader as boolean | undefined,
    dataDir: argv.dataDir as string | undefined,
    adminToken: argv.adminToken as string | undefined,
    backlog: argv.backlog as number | undefined,
    contract: argv.contract as string[] | undefined,
  });
  for (const w of config.warnings) console.warn(`understudy: warning: ${w}`);
  const running = await startServer(config);
  const systems = running.engine.systems.map((s) => `${s.name} at ${s.mount}`).join(', ');
  console.log(`understudy ${VERSION} listening on ${running.url} (${systems}; seed ${config.seed}; profile ${config.profile})`);
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

function checkProfiles(files: string[]): void {
  let failed = 0;
  for (const file of files) {
    try {
      const profile = loadProfile(file);
      console.log(`ok    ${file} (${profile.name}: ${profile.rules.length + profile.phases.reduce((n, p) => n + p.rules.length, 0)} rules)`);
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
  .env('UNDERSTUDY')
  .command(
    'serve',
    'run the server',
    (y) =>
      y
        .option('port', { type: 'number', describe: 'TCP port (default 8080)' })
        .option('host', { type: 'string', describe: 'address to listen on (default 127.0.0.1)' })
        .option('profile', { type: 'string', describe: 'chaos profile name or file (default calm)' })
        .option('seed', { type: 'number', describe: 'seed for data and chaos (default 42)' })
        .option('config', { type: 'string', describe: 'configuration file (YAML or JSON)' })
        .option('data-dir', { type: 'string', describe: 'directory for persistent state (default .understudy)' })
        .option('fault-header', { type: 'boolean', describe: 'add x-understudy-fault to replies that carry an injected fault' })
        .option('admin-token', { type: 'string', describe: 'bearer token required by /__admin; mandatory off loopback' })
        .option('backlog', { type: 'number', describe: 'listen backlog: connections queued before accept (default 4096)' })
        .option('contract', { type: 'string', array: true, describe: 'also serve an OpenAPI contract: FILE or FILE@/mount' }),
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
        (c) => c.positional('files', { type: 'string', array: true, demandOption: true }),
        (argv) => checkProfiles(argv.files as string[]),
      )
      .demandCommand(1, 'name a subcommand: list or check'),
  )
  .demandCommand(1, 'name a command: serve, contracts check, profiles list or profiles check')
  .strict()
  .fail((message, err) => {
    if (err instanceof SourceError || err instanceof ConfigError) console.error(`understudy: ${err.message}`);
    else if (err) console.error(`understudy: ${err.message}`);
    else console.error(`understudy: ${message}\nRun understudy --help for usage.`);
    process.exit(2);
  })
  .help()
  .parseAsync();
