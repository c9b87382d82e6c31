/**
 * Builds a running understudy from a configuration: mounts the systems (built-in and --contract ones), creates
 * the engine and the workspaces, and serves the traffic path (node:http) and the admin API (express) on one port.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULTS, type ServerConfig } from './config/config.js';
import { contractScopes, protectSystems, scopeTable, type Protection, type ScopesFor } from './auth/enforcement/protect.js';
import { RefreshLinks } from './auth/refresh-links.js';
import { mountAuthorizationServer } from './auth/server/mount.js';
import { ChaosEngine } from './chaos/chaos-stage.js';
import { catalogueOf, type MountCatalogue } from './chaos/match.js';
import { loadProfile, profileFromText, type CompiledProfile } from './chaos/profile.js';
import type { Subscription } from './deliveries/delivery-book.js';
import { createTarget } from './deliveries/targets/index.js';
import type { DeliveriesConfig } from './deliveries/workspace-deliveries.js';
import { Engine } from './engine/pipeline.js';
import type { MountedSystem } from './engine/system.js';
import { Workspaces, type ChaosChoice, type Workspace } from './engine/workspace.js';
import { JournalBudget } from './journal/budget.js';
import { openDataDir, type DataDirOptions } from './store/data-dir.js';
import { memoryStore, type ChaosActivation, type StateStore } from './store/store.js';
import { mountCustomContract, mountRestSystem, parseContractOption } from './protocols/rest/mount.js';
import type { RestSystemDefinition } from './protocols/rest/handler.js';
import { mountSoapSystem } from './protocols/soap/mount.js';
import { createAlertsSystem } from './systems/alerts/index.js';
import { createErpSystem, ERP_ODATA_MOUNTS, erpMetadata, erpODataDefinition, erpStateLifecycle, loadErpModel } from './systems/erp/index.js';
import { mountODataSystem, type SharedState } from './protocols/odata/mount.js';
import { createOutboundSystem } from './systems/outbound/index.js';
import { createPaymentsSystem } from './systems/payments/index.js';
import { createWmsSystem } from './systems/wms/index.js';
import { createTrafficServer, readTlsFiles } from './tls/server-tls.js';
import { createTrafficListener, type AdminListener } from './transports/node-http.js';
import { systemClock, type Clock } from './util/clock.js';
import { realScheduler, type Scheduler } from './util/scheduler.js';
import { VERSION } from './version.js';

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
  /** delete the stored state and start over (--reset-state) */
  resetState?: boolean;
  /** the store's internals, for tests: snapshot interval, retry pause after a failed write, a database size cap */
  store?: Pick<DataDirOptions, 'snapshotEvery' | 'snapshotPause' | 'retryAfterMs' | 'maxPages'>;
}

/** What start-up found in the data directory. */
export interface Restored {
  dataDir: string | null;
  workspaces: Array<{ workspace: string; systems: Array<{ system: string; snapshot: boolean; writes: number; diverged: number }> }>;
}

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  engine: Engine;
  workspaces: Workspaces;
  /** what was restored from the data directory at start-up */
  restored: Restored;
  /** where state is stored (settled(): everything handed to it so far is stored) */
  store: StateStore;
  /**
   * Resolves once the start-up work that runs after listening (compiling the validators no request has needed
   * yet) is done, with warnings about schemas that could not be compiled.
   */
  ready: Promise<string[]>;
  /** stop accepting, let in-flight requests finish (at most graceMs), then resolve */
  close(graceMs?: number): Promise<void>;
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
    const system = await mountCustomContract(contract, { validate: validateContracts, maxBodyBytes });
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
function dataDirOf(options: ServerOptions): string | null {
  const dir = options.dataDir;
  return dir === undefined || dir === '' || dir === 'none' ? null : dir;
}

function openStore(options: ServerOptions, systems: MountedSystem[], seed: number): StateStore {
  const dir = dataDirOf(options);
  if (dir === null) return memoryStore;
  return openDataDir({
    dataDir: dir,
    resetState: options.resetState,
    durability: options.durability,
    journalSync: options.journal?.sync,
    seed,
    systems,
    version: VERSION,
    ...options.store,
  });
}

/** Delivery settings every workspace shares: defaults, the config file's subscriptions, where attempts go. */
function deliveriesConfig(options: ServerOptions, scheduler: Scheduler, maxFinished: number, now: number): DeliveriesConfig {
  const defaults = { ...DEFAULTS.deliveries, ...options.deliveries };
  const declared = options.subscriptions ?? [];
  return {
    defaults,
    scheduler,
    // copies: a rotation changes a subscription's secrets, and each workspace owns its own
    configSubscriptions: (workspace) =>
      declared
        .filter((s) => s.workspace === workspace)
        .map(({ workspace: _ws, ...s }): Subscription => ({ ...s, secrets: s.secrets.map((x) => ({ ...x })), source: 'config', createdAt: now })),
    targetFor: (subscription) => createTarget(subscription, defaults.concurrency),
    maxFinished,
    warn: (message) => console.warn(`understudy: warning: ${message}`),
  };
}

/** after listening, let the first requests in before compiling the validators nobody has asked for yet */
const WARM_UP_AFTER_MS = 150;

async function warmUp(systems: MountedSystem[]): Promise<string[]> {
  await new Promise((resolve) => setTimeout(resolve, WARM_UP_AFTER_MS).unref());
  const warnings = await Promise.all(systems.map(async (s) => ((await s.engine.warmUp?.()) ?? []).map((w) => `${s.name}: ${w}`)));
  return warnings.flat();
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const limits = { ...DEFAULTS.limits, ...options.limits };
  const systems = await buildSystems(options);
  const engine = new Engine(systems, clock, limits);
  const scheduler = options.scheduler ?? realScheduler;
  const seed = options.seed ?? DEFAULTS.seed;
  const chaosOptions = { clock, scheduler, seed, faultHeader: options.faultHeader ?? false };
  // profiles are checked against what is mounted: a rule for a system, operation or route that is not there would never fire
  const catalogue: MountCatalogue = catalogueOf(systems);
  const profile = loadProfile(options.profile ?? DEFAULTS.profile, catalogue);
  const activation = (p: CompiledProfile, at: number, byAdmin: boolean): ChaosActivation => ({ text: p.text, source: p.source, activatedAt: at, byAdmin });
  /**
   * a workspace's chaos: what it ran before a restart, where its timeline stood (activatedAt is its origin, moved by
   * any jump; the timeline's history comes along), unless the server's profile changed
   */
  const chooseChaos = (stored: ChaosActivation | undefined, now: number): ChaosChoice => {
    if (stored?.byAdmin) {
      try {
        return { stage: new ChaosEngine(profileFromText(stored.text, catalogue, stored.source), chaosOptions, stored.activatedAt, stored.timeline), activation: stored };
      } catch (err) {
        console.warn(`understudy: warning: a stored chaos profile (${stored.source}) no longer loads, the server's runs instead: ${err instanceof Error ? err.message : err}`);
      }
    } else if (stored?.text === profile.text) return { stage: new ChaosEngine(profile, chaosOptions, stored.activatedAt, stored.timeline), activation: stored };
    return { stage: new ChaosEngine(profile, chaosOptions, now), activation: activation(profile, now, false) };
  };
  // the TLS files are checked before the store is opened (and locked): a bad file must leave nothing open
  if (options.tls) readTlsFiles(options.tls);
  const store = openStore(options, systems, seed);
  const deliveries = deliveriesConfig(options, scheduler, limits.objects, clock.now());
  let workspaces: Workspaces;
  let restored: Restored;
  try {
    workspaces = new Workspaces(
      {
        seed,
        clock,
        journalEntries: limits.journalEntries,
        journalBytes: limits.journalBytes,
        journalBodyBytes: limits.journalBodyBytes,
        journalBudget: new JournalBudget(limits.journalTotalBytes),
        systems,
        store,
        chaos: chooseChaos,
        deliveries,
      },
      limits.workspaces,
    );
    restored = { dataDir: store.dataDir, workspaces: store.dataDir === null ? [] : workspaces.recover() };
    // a workspace named by a config-file subscription exists from the start, so its events flow from the start
    for (const name of new Set((options.subscriptions ?? []).map((s) => s.workspace))) workspaces.lookup(name);
  } catch (err) {
    await store.close();
    throw err;
  }
  const chaos = {
    catalogue,
    activate: (workspace: Workspace, next: CompiledProfile) => {
      const now = clock.now();
      workspace.activateChaos(new ChaosEngine(next, chaosOptions, now), activation(next, now, true));
    },
  };
  // the admin app (express, ~70 ms to load) is loaded by the first admin request: start-up is for the traffic path
  const startedAt = clock.now();
  let adminApp: Promise<AdminListener> | undefined;
  const loadAdmin = () =>
    (adminApp ??= import('./admin/admin-app.js').then((m) =>
      m.createAdminApp({
        engine,
        workspaces,
        adminToken: options.adminToken,
        version: VERSION,
        startedAt,
        chaos,
        deliveries: { knownEvents: systems.flatMap((s) => s.events?.types ?? []), retry: deliveries.defaults.retry, now: () => clock.now() },
        dataDir: store.dataDir,
      }),
    ));
  const admin: AdminListener = (req, res, workspace) => {
    loadAdmin().then((listener) => listener(req, res, workspace));
  };
  let draining = false;
  const traffic = createTrafficListener({ engine, workspaces, admin, draining: () => draining, scheduler });
  // HTTPS when given a certificate (tls: / --tls-cert), asking for client certificates with a CA (mutual TLS)
  const server = createTrafficServer(traffic, options.tls);
  server.on('connection', traffic.connection);
  // once the last exchange is recorded, the store writes its last journal batch and closes
  let stored: Promise<void> | undefined;
  const closeStore = () => {
    workspaces.stopAll();
    engine.flush();
    return (stored ??= store.close());
  };
  server.on('close', closeStore);

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error) => {
      store.close().finally(() => reject(err));
    };
    server.once('error', failed);
    // the default backlog (511) overflows when a thousand clients connect at once, and the kernel's SYN retries
    // then starve some of them for seconds; the kernel caps it at net.core.somaxconn
    server.listen({ port: options.port ?? 0, host, backlog: options.backlog ?? DEFAULTS.backlog }, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `${options.tls ? 'https' : 'http'}://${urlHost}:${port}`,
    port,
    server,
    engine,
    workspaces,
    restored,
    store,
    ready: warmUp(systems),
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
        draining = true;
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          closeStore().then(resolve, resolve);
        });
        server.closeIdleConnections();
      }),
  };
}
