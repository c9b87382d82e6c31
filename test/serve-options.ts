/**
 * What `understudy serve FLAGS` makes of its flags before it starts a server, in the test's own process: the
 * readers src/cli.ts calls, in its order (each flag's coercion as yargs runs it, the config file, resolveConfig,
 * each --contract's mount). It throws what serve would throw, whose message the CLI prints after "understudy: "
 * before exiting 2 — the tests that need that exit and those lines run a real process for it.
 */
import { readConfigFile, resolveConfig, type ConfigOverrides } from '../src/config/config.js';
import { coerceFlag, SERVE_OPTIONS } from '../src/config/serve-options.js';
import { parseContractOption } from '../src/protocols/rest/contract.js';

/** flag name → the resolveConfig override it feeds, as serve() in src/cli.ts passes them */
const OVERRIDES: Record<string, keyof ConfigOverrides> = {
  port: 'port',
  host: 'host',
  seed: 'seed',
  profile: 'profile',
  'fault-header': 'faultHeader',
  'data-dir': 'dataDir',
  'admin-token': 'adminToken',
  backlog: 'backlog',
  contract: 'contract',
  'wms-change-rate': 'wmsChangeRatePerSecond',
  'tls-cert': 'tlsCert',
  'tls-key': 'tlsKey',
  'tls-ca': 'tlsCa',
  'require-client-cert': 'requireClientCert',
  'no-auth': 'noAuth',
  lenient: 'lenient',
  stateful: 'stateful',
};

export function readServeOptions(flags: Record<string, string>): void {
  const given: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(flags)) given[name] = coerceFlag(name)(SERVE_OPTIONS[name].list ? [value] : value);
  const file = given.config ? readConfigFile(given.config as string) : undefined;
  const overrides: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given)) if (OVERRIDES[name]) overrides[OVERRIDES[name]] = value;
  const config = resolveConfig(file, overrides as ConfigOverrides);
  for (const contract of config.contracts) parseContractOption(contract);
}
