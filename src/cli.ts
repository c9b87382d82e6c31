#!/usr/bin/env node
/**
 * The `understudy` command (yargs). Commands parse options (flags and their UNDERSTUDY_* twins, with messages
 * that name what the user wrote) and call into the library.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { catalogueOf } from './chaos/match.js';
import { builtInProfiles, loadProfile } from './chaos/profile.js';
import { readConfigFile, resolveConfig, SourceError } from './config/config.js';
import { formatProblem } from './config/yaml-source.js';
import { checkContract } from './protocols/rest/contract.js';
import { buildSystems, startServer } from './server.js';
import { closest } from './util/did-you-mean.js';
import { VERSION } from './version.js';

const CONTRACTS_DIR = fileURLToPath(new URL('../contracts/', import.meta.url));

/** A mistake in how understudy was invoked (flag or environment variable): exit 2, no usage dump. */
class UsageError extends Error {}

/** Reads one option's value as written; `label` is how the user wrote it (`--port abc`, `UNDERSTUDY_PORT=abc`). */
type Reader = (raw: string, label: string) => unknown;

const text: Reader = (raw) => raw;

const BOOLEANS = new Map(Object.entries({ true: true, false: false, 1: true, 0: false, yes: true, no: false, on: true, off: false }));
const boolean: Reader = (raw, label) => {
  const value = BOOLEANS.get(raw.trim().toLowerCase());
  if (value === undefined) throw new UsageError(`${label} is not a boolean: use true, false, 1, 0, yes, no, on or off`);
  return value;
};

function integer(min: number, max: number, what: string): Reader {
  return (raw, label) => {
    const n = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= min && n <= max)) throw new UsageError(`${label} is not ${what}`);
    return n;
  };
}

/**
 * serve's options, each with its environment twin (UNDERSTUDY_ + the name in upper snake case). One table, so a
 * flag and its variable are read the same way and every message can name what the user actually wrote. yargs
 * parses the command line; the environment is read here rather than by yargs' .env(), which reports a stray
 * variable as an unknown *flag*, cannot name the variable a bad value came from, and applies serve's variables
 * to every command.
 */
const SERVE_OPTIONS: Record<string, { read: Reader; list?: boolean; flag?: 'boolean'; describe: string }> = {
  port: { read: integer(0, 65535, 'a port (0-65535)'), describe: 'TCP port (default 8080; 0 picks a free one)' },
  host: { read: text, describe: 'address to listen on (default 127.0.0.1)' },
  profile: { read: text, describe: 'chaos profile name or file (default calm)' },
  seed: { read: integer(0, 4294967295, 'a seed (an integer from 0 to 4294967295)'), describe: 'seed for data and chaos (default 42)' },
  config: { read: text, describe: 'configuration file (YAML or JSON)' },
  'data-dir': { read: text, describe: 'directory for persistent state (not used yet: state is in memory in this version)' },
  'fault-header': { read: boolean, flag: 'boolean', describe: 'add x-understudy-fault to replies that carry an injected fault (true|false|1|0|yes|no|on|off; bare: true)' },
  'admin-token': { read: text, describe: 'bearer token required by /__admin (at least 8 characters); mandatory off loopback' },
  backlog: { read: integer(1, 65535, 'a backlog (an integer from 1 to 65535)'), describe: 'listen backlog: connections queued before accept (default 4096)' },
  contract: { read: text, list: true, describe: 'also serve an OpenAPI contract: FILE or FILE@/mount (repeatable)' },
};

const ENV_PREFIX = 'UNDERSTUDY_';
const envName = (option: string) => ENV_PREFIX + option.toUpperCase().replace(/-/g, '_');

/**
 * serve's options from UNDERSTUDY_* variables: their values, the variables that are no option's twin (refused
 * by the caller unless the config file uses them as ${...}), and bad values, each naming its variable. An empty
 * variable counts as unset, as `-e UNDERSTUDY_X=` in a compose file means.
 */
function readEnvironment(env: NodeJS.ProcessEnv): { values: Record<string, unknown>; unknown: string[]; problems: string[] } {
  const values: Record<string, unknown> = {};
  const unknown: string[] = [];
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const option = Object.keys(SERVE_OPTIONS).find((o) => envName(o) === name);
    if (!option) unknown.push(name);
    else if (raw !== '') {
      try {
        const value = SERVE_OPTIONS[option].read(raw, `${name}=${raw}`);
        values[option] = SERVE_OPTIONS[option].list ? [value] : value;
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        problems.push(err.message);
      }
    }
  }
  return { values, unknown, problems };
}

/** "unknown environment variable UNDERSTUDY_PROFIL (did you mean UNDERSTUDY_PROFILE?)" */
function unknownVariable(name: string): string {
  const known = Object.keys(SERVE_OPTIONS).map(envName);
  const near = closest(name.slice(ENV_PREFIX.length), known.map((k) => k.slice(ENV_PREFIX.length)));
  return `unknown environment variable ${name} ${near ? `(did you mean ${ENV_PREFIX}${near}?)` : `(understudy reads ${known.join(', ')})`}`;
}

/** UNDERSTUDY_* variables a config file substitutes (${UNDERSTUDY_WMS_KEY}): the user's own, not typos */
function variablesUsedBy(configFile: string | undefined): Set<string> {
  if (!configFile) return new Set();
  let text = '';
  try {
    text = readFileSync(configFile, 'utf8');
  } catch {
    // unreadable: readConfigFile says so
  }
  return new Set([...text.matchAll(/\$\{(UNDERSTUDY_[A-Za-z0-9_]*)\}/g)].map((m) => m[1]));
}

/** yargs coerce for a flag: the same readers as the environment, with the flag as the user wrote it */
function coerceFlag(option: string): (value: unknown) => unknown {
  const { read, list, flag } = SERVE_OPTIONS[option];
  return (value) => {
    // a flag given twice: the last one counts (a list flag keeps all)
    if (Array.isArray(value) && !list) value = value[value.length - 1];
    if (flag === 'boolean' && (value === '' || value === true || value === false)) return value !== false; // bare, or --no-…
    if (Array.isArray(value)) return value.map((v) => read(String(v), `--${option} ${v}`));
    return read(String(value), `--${option} ${value}`);
  };
}

async function serve(argv: Record<string, unknown>): Promise<void> {
  const { values: env, unknown, problems } = readEnvironment(process.env);
  // a flag beats its environment variable (which beats the config file: resolveConfig)
  const given = <T>(option: string): T | undefined => (argv[option] ?? env[option]) as T | undefined;
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
  });
  for (const w of config.warnings) console.warn(`understudy: warning: ${w}`);
  // durable state is the next version's; until then, say so to whoever chose a directory (the default says nothing)
  const chosen =
    argv['data-dir'] !== undefined
      ? `--data-dir ${config.dataDir}`
      : env['data-dir'] !== undefined
        ? `${envName('data-dir')}=${config.dataDir}`
        : file?.dataDir !== undefined
          ? `dataDir ${config.dataDir} (${configFile})`
          : undefined;
  if (chosen) console.warn(`understudy: note: ${chosen} is not used yet: state is in memory in this version`);
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

/**
 * Checks profiles as a server would load them, match values included: against the built-in systems and any
 * --contract files (read, not validated against the OpenAPI specification: that is `contracts check`'s job).
 */
async function checkProfiles(files: string[], contracts: string[]): Promise<void> {
  const catalogue = catalogueOf(await buildSystems({ contracts }, { validateContracts: false }));
  let failed = 0;
  for (const file of files) {
    try {
      const profile = loadProfile(file, catalogue);
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
  .demandCommand(1, 'name a command: serve, contracts check, profiles list or profiles check')
  .strict()
  .fail((message, err) => {
    // every line its own prefix: several problems are reported at once, one a line
    if (err) console.error(err.message.replace(/^/gm, 'understudy: '));
    else console.error(`understudy: ${message}\nRun understudy --help for usage.`);
    process.exit(2);
  })
  .help()
  .parseAsync();
