/**
 * `understudy serve`'s options as the user writes them: flags (parsed by yargs, coerced here) and their
 * UNDERSTUDY_* environment twins (read here), through one table of readers so that both are read the same way and
 * every message names what the user actually wrote (`UNDERSTUDY_PORT=abc is not a port (0-65535)`).
 */
import { readFileSync } from 'node:fs';
import { ChangeRateError, parseChangeRate } from '../systems/wms/change-rate.js';
import { closest } from '../util/did-you-mean.js';

/** A mistake in how understudy was invoked (flag or environment variable): exit 2, no usage dump. */
export class UsageError extends Error {}

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

/** A stock simulation rate (`5/s`, `120/m`), read as changes per second. */
const changeRate: Reader = (raw, label) => {
  try {
    return parseChangeRate(raw.trim()).perSecond;
  } catch (err) {
    if (!(err instanceof ChangeRateError)) throw err;
    throw new UsageError(`${label} ${err.message}`);
  }
};

const redisUrl: Reader = (raw, label) => {
  if (!/^rediss?:\/\/[^/]/.test(raw.trim())) throw new UsageError(`${label} is not a Redis URL: use redis://host:6379 (or rediss:// for TLS)`);
  return raw.trim();
};

function keyName(what: string): Reader {
  return (raw, label) => {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(raw)) throw new UsageError(`${label} is not ${what}: 1-64 letters, digits, '_', '.' or '-'`);
    return raw;
  };
}

/**
 * serve's options, each with its environment twin (UNDERSTUDY_ + the name in upper snake case). One table, so a
 * flag and its variable are read the same way and every message can name what the user actually wrote. yargs
 * parses the command line; the environment is read here rather than by yargs' .env(), which reports a stray
 * variable as an unknown *flag*, cannot name the variable a bad value came from, and applies serve's variables
 * to every command.
 */
export const SERVE_OPTIONS: Record<string, { read: Reader; list?: boolean; flag?: 'boolean'; describe: string }> = {
  port: { read: integer(0, 65535, 'a port (0-65535)'), describe: 'TCP port (default 8080; 0 picks a free one)' },
  host: { read: text, describe: 'address to listen on (default 127.0.0.1)' },
  profile: { read: text, describe: 'chaos profile name or file (default calm)' },
  seed: { read: integer(0, 4294967295, 'a seed (an integer from 0 to 4294967295)'), describe: 'seed for data and chaos (default 42)' },
  config: { read: text, describe: 'configuration file (YAML or JSON)' },
  'data-dir': { read: text, describe: "directory for durable state (default .understudy; '' keeps state in memory only)" },
  'reset-state': { read: boolean, flag: 'boolean', describe: 'delete the state stored in the data directory and start over' },
  'fault-header': { read: boolean, flag: 'boolean', describe: 'add x-understudy-fault to replies that carry an injected fault (true|false|1|0|yes|no|on|off; bare: true)' },
  'admin-token': { read: text, describe: 'bearer token required by /__admin (at least 8 characters); mandatory off loopback' },
  backlog: { read: integer(1, 65535, 'a backlog (an integer from 1 to 65535)'), describe: 'listen backlog: connections queued before accept (default 4096)' },
  contract: { read: text, list: true, describe: 'also serve an OpenAPI contract: FILE or FILE@/mount (repeatable)' },
  stateful: { read: boolean, flag: 'boolean', describe: 'serve every contract with state: POST /pets then GET /pets/{id} gives back what was posted (systems.custom[].stateful)' },
  'wms-change-rate': { read: changeRate, describe: 'background WMS stock changes each workspace starts with: N/s, N/m or N/h (default 0/s; at most 1000/s)' },
  'tls-cert': { read: text, describe: "serve HTTPS with this PEM certificate (the server's own first, then its intermediates); needs --tls-key" },
  'tls-key': { read: text, describe: "the PEM private key of --tls-cert's certificate (unencrypted)" },
  'tls-ca': { read: text, describe: 'PEM CA certificate(s) that client certificates must chain to: asks every caller for a certificate (mutual TLS; systems.<name>.auth: mtls)' },
  'require-client-cert': { read: boolean, flag: 'boolean', describe: 'refuse, in the TLS handshake, connections without a client certificate signed by --tls-ca' },
  // yargs reads a bare --no-auth as the negation of an option "auth": cli.ts maps that back (see NEGATED_FLAGS)
  'no-auth': { read: boolean, flag: 'boolean', describe: 'systems check no credentials, whatever systems.<name>.auth says' },
  redis: { read: redisUrl, describe: 'share workspaces with other replicas through this Redis: redis://host:6379 (rediss:// for TLS)' },
  'redis-prefix': { read: keyName('a key prefix'), describe: 'start of every Redis key (default understudy): deployments sharing one Redis keep apart' },
  'replica-id': { read: keyName('a replica id'), describe: "this replica's name in /__admin/health and delivery claims (default hostname-pid)" },
  lenient: { read: boolean, flag: 'boolean', describe: '--contract documents: serve what cannot be validated (a schema ajv cannot compile...) unvalidated, with a warning, instead of refusing to start' },
};

/**
 * Options whose name starts with "no-": yargs parses a bare `--no-auth` as `auth: false` (boolean negation, which
 * `--no-fault-header` relies on), so the command also declares the positive name, hidden, and reads it back.
 */
export const NEGATED_FLAGS: Record<string, string> = { 'no-auth': 'auth' };

const ENV_PREFIX = 'UNDERSTUDY_';
export const envName = (option: string) => ENV_PREFIX + option.toUpperCase().replace(/-/g, '_');

/**
 * serve's options from UNDERSTUDY_* variables: their values, the variables that are no option's twin (refused
 * by the caller unless the config file uses them as ${...}), and bad values, each naming its variable. An empty
 * variable counts as unset, as `-e UNDERSTUDY_X=` in a compose file means.
 */
export function readEnvironment(env: NodeJS.ProcessEnv): { values: Record<string, unknown>; unknown: string[]; problems: string[] } {
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
export function unknownVariable(name: string): string {
  const known = Object.keys(SERVE_OPTIONS).map(envName);
  const near = closest(name.slice(ENV_PREFIX.length), known.map((k) => k.slice(ENV_PREFIX.length)));
  return `unknown environment variable ${name} ${near ? `(did you mean ${ENV_PREFIX}${near}?)` : `(understudy reads ${known.join(', ')})`}`;
}

/** UNDERSTUDY_* variables a config file substitutes (${UNDERSTUDY_WMS_KEY}): the user's own, not typos */
export function variablesUsedBy(configFile: string | undefined): Set<string> {
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
export function coerceFlag(option: string): (value: unknown) => unknown {
  const { read, list, flag } = SERVE_OPTIONS[option];
  return (value) => {
    // a flag given twice: the last one counts (a list flag keeps all)
    if (Array.isArray(value) && !list) value = value[value.length - 1];
    if (flag === 'boolean' && (value === '' || value === true || value === false)) return value !== false; // bare, or --no-…
    if (Array.isArray(value)) return value.map((v) => read(String(v), `--${option} ${v}`));
    return read(String(value), `--${option} ${value}`);
  };
}
