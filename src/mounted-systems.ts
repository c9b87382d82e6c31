/**
 * The systems a configuration mounts — the WMS, the payment gateway, the alert sinks, the ERP's three faces, the
 * Outbound Message receiver, every --contract, and the authorization server — each with the checks its callers
 * pass (systems.<name>.auth, a contract's declared security), and the options a server is started with. Both
 * transports' start-up (understudy.ts) begins here.
 */
import { DEFAULTS, type ServerConfig } from './config/config.js';
import { contractScopes, protectSystems, scopeTable, type Protection, type ScopesFor } from './auth/enforcement/protect.js';
import { RefreshLinks } from './auth/refresh-links.js';
import { mountAuthorizationServer } from './auth/server/mount.js';
import type { MountedSystem } from './engine/system.js';
import type { DataDirOptions } from './store/data-dir.js';
import { mountCustomContract, mountRestSystem, parseContractOption } from './protocols/rest/mount.js';
import type { RestSystemDefinition } from './protocols/rest/handler.js';
import { mountSoapSystem } from './protocols/soap/mount.js';
import { createAlertsSystem } from './systems/alerts/index.js';
import { createErpSystem, ERP_ODATA_MOUNTS, erpMetadata, erpODataDefinition, erpStateLifecycle, loadErpModel } from './systems/erp/index.js';
import { mountODataSystem, type SharedState } from './protocols/odata/mount.js';
import { createOutboundSystem } from './systems/outbound/index.js';
import { createPaymentsSystem } from './systems/payments/index.js';
import { createWmsSystem } from './systems/wms/index.js';
import type { Clock } from './util/clock.js';
import type { Scheduler } from './util/scheduler.js';

export interface ServerOptions extends Partial<Omit<ServerConfig, 'limits' | 'systems' | 'deliveries' | 'auth'>> {
  auth?: Partial<ServerConfig['auth']>;
  deliveries?: Partial<ServerConfig['deliveries']>;
  limits?: Partial<ServerConfig['limits']>;
  systems?: {
    wms?: Partial<ServerConfig['systems']['wms']>;
    payments?: Partial<ServerConfig['systems']['payments']>;
    alerts?: Partial<ServerConfig['systems']['alerts']>;
    erp?: Partial<ServerConfig['systems']['erp']>;
    outbound?: Partial<ServerConfig['systems']['outbound']>;
  };
  /** a ManualClock in tests */
  clock?: Clock;
  /** a ManualScheduler in tests: injected latency and held connections then wait for advance() */
  scheduler?: Scheduler;
  /** the authorization server's signing key as PEM (replicas share one: replicas/shared-signing-key.ts) */
  signingKeyPem?: string;
  /** delete the stored state and start over (--reset-state) */
  resetState?: boolean;
  /** the store's internals, for tests: snapshot interval, retry pause after a failed write, a database size cap */
  store?: Pick<DataDirOptions, 'snapshotEvery' | 'snapshotPause' | 'retryAfterMs' | 'maxPages'>;
}

/** What start-up found in the data directory. */
export interface Restored {
  dataDir: string | null;
  /** replicas (--redis): this replica's id, and where the Redis it shares is */
  replica?: { id: string; redis: string };
  workspaces: Array<{ workspace: string; systems: Array<{ system: string; snapshot: boolean; writes: number; diverged: number }> }>;
}

/**
 * The systems a configuration mounts. `validateContracts: false` skips checking --contract files against the
 * OpenAPI specification (half a second each), for tools that only need to know what would be mounted.
 */
export async function buildSystems(options: ServerOptions, { validateContracts = true } = {}): Promise<MountedSystem[]> {
  const wms = { ...DEFAULTS.systems.wms, ...options.systems?.wms };
  const payments = { ...DEFAULTS.systems.payments, ...options.systems?.payments };
  const alerts = { ...DEFAULTS.systems.alerts, ...options.systems?.alerts };
  const erp = { ...DEFAULTS.systems.erp, ...options.systems?.erp };
  const outbound = { ...DEFAULTS.systems.outbound, ...options.systems?.outbound };
  const auth = { ...DEFAULTS.auth, ...options.auth };
  const maxObjects = options.limits?.objects ?? DEFAULTS.limits.objects;
  const maxBodyBytes = options.limits?.bodyBytes ?? DEFAULTS.limits.bodyBytes;
  const systems: MountedSystem[] = [];
  /** how each system checks its callers (systems.<name>.auth), and the scopes its operations need */
  const protection = new Map<MountedSystem, { auth: Protection; scopesFor: ScopesFor }>();
  /** where each system comes from, for messages: "the WMS" or the contract file */
  const origin = new Map<MountedSystem, string>();
  /** what turns a built-in system off, for messages */
  const disable = new Map<MountedSystem, string>();
  const builtIn = async <S>(definition: RestSystemDefinition<S>, name: string, key: string) => {
    const system = await mountRestSystem(definition, undefined, { maxBodyBytes });
    systems.push(system);
    origin.set(system, name);
    disable.set(system, `disable ${name} (systems.${key}.enabled: false in a config file)`);
  };
  if (wms.enabled) {
    const { skus, warehouses, changeRatePerSecond, reservationTtlMs } = wms;
    await builtIn(createWmsSystem({ skus, warehouses, changeRatePerSecond, reservationTtlMs, maxObjects }), 'the WMS', 'wms');
    protection.set(systems[systems.length - 1], { auth: wms.auth, scopesFor: contractScopes });
  }
  if (payments.enabled) {
    const { captureDelayMs, captureFailureRate, idempotencyKeyTtlMs, maxAmount } = payments;
    await builtIn(createPaymentsSystem({ captureDelayMs, captureFailureRate, idempotencyKeyTtlMs, maxAmount, maxObjects }), 'the payment gateway', 'payments');
    protection.set(systems[systems.length - 1], { auth: payments.auth, scopesFor: contractScopes });
  }
  if (alerts.enabled) await builtIn(createAlertsSystem(), 'the alert sinks', 'alerts');
  const mounted = (system: MountedSystem, name: string, key: string) => {
    systems.push(system);
    origin.set(system, name);
    disable.set(system, `disable ${name} (systems.${key}.enabled: false in a config file)`);
  };
  if (erp.enabled) {
    const { customers, invoices, invoiceLines } = erp;
    const sizes = { customers, invoices, invoiceLines, maxObjects };
    const erpAuth = options.noAuth ? 'none' : erp.auth;
    const erpScopes = scopeTable(erp.scopes);
    const soap = mountSoapSystem(createErpSystem(sizes), { auth: erpAuth === 'wsse' ? 'wsse' : 'none', users: auth.users });
    mounted(soap, 'the ERP', 'erp');
    protection.set(soap, { auth: erpAuth, scopesFor: erpScopes });
    // its OData faces over the same state (the workspace keeps one state per system name)
    const lifecycle = erpStateLifecycle(sizes) as SharedState;
    const model = loadErpModel();
    for (const dialect of ['v4', 'v2'] as const) {
      const odata = mountODataSystem(erpODataDefinition, lifecycle, {
        dialect,
        mount: ERP_ODATA_MOUNTS[dialect],
        model,
        metadata: erpMetadata(dialect),
        pageSize: erp.odataPageSize,
        csrf: erp.csrf === 'both' || erp.csrf === dialect,
        seed: options.seed ?? DEFAULTS.seed,
        maxBodyBytes,
      });
      mounted(odata, `the ERP's OData ${dialect === 'v4' ? '4.0' : '2.0'} service`, 'erp');
      // WS-Security is a SOAP header: with auth wsse the OData services check nothing
      protection.set(odata, { auth: erpAuth, scopesFor: erpScopes });
    }
  }
  if (outbound.enabled) mounted(mountSoapSystem(createOutboundSystem({ maxObjects })), 'the Outbound Message receiver', 'outbound');
  for (const contract of options.contracts ?? []) {
    const system = await mountCustomContract(contract, { validate: validateContracts, maxBodyBytes, stateful: options.contractStateful?.[contract], maxObjects, lenient: options.lenient });
    origin.set(system, parseContractOption(contract).file);
    systems.push(system);
    // the config's auth for it, else what the contract itself declares (issue #14: enforced as Prism does)
    const contractAuth = options.contractAuth?.[contract];
    const declares = system.engine.operations.some((op) => op.security.some((alternative) => alternative.length > 0));
    if (contractAuth || declares) protection.set(system, { auth: contractAuth ?? 'declared', scopesFor: contractScopes });
  }
  // the authorization server (/oauth, /.well-known): always there, its signing key made on first need
  const links = new RefreshLinks();
  const authorizationServer = mountAuthorizationServer({
    clients: auth.clients,
    users: auth.users,
    tokenTtlMs: auth.tokenTtlMs,
    autoApprove: auth.autoApprove,
    dataDir: dataDirOf(options),
    signingKeyPem: options.signingKeyPem,
    maxObjects,
    links,
  });
  for (const system of authorizationServer.systems) {
    systems.push(system);
    origin.set(system, "the authorization server");
  }
  if (!options.noAuth) protectSystems(protection, { invalidTokenStatus: auth.invalidTokenStatus, users: auth.users, apiKeys: auth.apiKeys, links }, authorizationServer);
  const seen = new Map<string, MountedSystem>();
  for (const s of systems) {
    const first = seen.get(s.mount);
    if (first) {
      const file = origin.get(s);
      const fix = `pick another mount: --contract ${file}@/other (or mount: in systems.custom)`;
      const off = disable.get(first);
      throw new Error(`${file} wants the mount ${s.mount}, where ${origin.get(first)} already serves: ${off ? `${off} or ${fix}` : fix}`);
    }
    seen.set(s.mount, s);
  }
  return systems;
}

/** `--data-dir ''` and `dataDir: none` keep everything in memory; so does a server started without one (tests) */
export function dataDirOf(options: ServerOptions): string | null {
  const dir = options.dataDir;
  return dir === undefined || dir === '' || dir === 'none' ? null : dir;
}
