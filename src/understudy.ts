/**
 * An understudy without a socket: the systems a configuration mounts, the engine, the chaos stage, the store and
 * the workspaces, ready to be handed exchanges by a transport. startServer (server.ts) puts node:http in front of
 * it; the msw entry (msw.ts) puts msw's request handlers in front of it instead, in the test's own process.
 *
 * Everything that is not about a socket lives here, so that both transports start the same way and a request
 * meets the same validation, state, chaos and journal whichever way it arrived. The systems themselves are
 * assembled by mounted-systems.ts.
 */
import { DEFAULTS } from './config/config.js';
import type { ChaosControl } from './admin/chaos-routes.js';
import { ChaosEngine, type ChaosOptions } from './chaos/chaos-stage.js';
import { catalogueOf, type MountCatalogue } from './chaos/match.js';
import { loadProfile, profileFromText, type CompiledProfile } from './chaos/profile.js';
import type { Subscription } from './deliveries/delivery-book.js';
import { createTarget } from './deliveries/targets/index.js';
import type { DeliveriesConfig } from './deliveries/workspace-deliveries.js';
import { Engine } from './engine/pipeline.js';
import type { MountedSystem } from './engine/system.js';
import { Workspaces, type ChaosChoice, type Workspace } from './engine/workspace.js';
import { JournalBudget } from './journal/budget.js';
import { buildSystems, dataDirOf, type Restored, type ServerOptions } from './mounted-systems.js';
import { fingerprints, openDataDir } from './store/data-dir.js';
import { memoryStore, type ChaosActivation, type StateStore } from './store/store.js';
import type { ReplicatedStore } from './replicas/replicated-store.js';
import { readTlsFiles } from './tls/server-tls.js';
import type { AdminListener } from './transports/node-http.js';
import { systemClock, type Clock } from './util/clock.js';
import { realScheduler, type Scheduler } from './util/scheduler.js';
import { VERSION } from './version.js';

export interface UnderstudyOptions extends ServerOptions {
  /**
   * A chaos profile given as its YAML (or JSON) text rather than a built-in name or a file (`profile`); named
   * `source` in messages. The msw entry takes profiles this way; the CLI never does.
   */
  profileText?: { text: string; source: string };
}

/** A configured understudy with no transport in front of it yet. */
export interface Understudy {
  readonly options: UnderstudyOptions;
  readonly systems: MountedSystem[];
  readonly engine: Engine;
  readonly workspaces: Workspaces;
  /** what was restored from the data directory */
  readonly restored: Restored;
  /** where state is stored (settled(): everything handed to it so far is stored) */
  readonly store: StateStore;
  readonly clock: Clock;
  /** what holds replies for latency and drips slow bodies: a transport waits through it too */
  readonly scheduler: Scheduler;
  /** what is mounted (to check profiles against) and how a workspace's profile is replaced */
  readonly chaos: ChaosControl;
  /** the admin API (express, loaded by its first request) */
  readonly admin: AdminListener;
  /**
   * Compiles the validators no request has needed yet, once, a moment after it is first called (so the first
   * requests go first); resolves with warnings about schemas that could not be compiled.
   */
  warmUp(): Promise<string[]>;
  /** stops deliveries, journals what is finished, and closes the store; once, however often it is called */
  close(): Promise<void>;
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

/** after start-up, let the first requests in before compiling the validators nobody has asked for yet */
const WARM_UP_AFTER_MS = 150;

async function warmUp(systems: MountedSystem[]): Promise<string[]> {
  await new Promise((resolve) => setTimeout(resolve, WARM_UP_AFTER_MS).unref());
  const warnings = await Promise.all(systems.map(async (s) => ((await s.engine.warmUp?.()) ?? []).map((w) => `${s.name}: ${w}`)));
  return warnings.flat();
}

export async function createUnderstudy(options: UnderstudyOptions = {}): Promise<Understudy> {
  // replicas (--redis): the link first, so that every replica reads the clock Redis keeps
  // (loaded only then: ioredis and the limiter are ~80 ms of start-up nobody else should pay)
  const kit = options.redis ? await import('./replicas/kit.js') : undefined;
  const link = kit && options.redis ? await kit.RedisLink.open(options.redis) : undefined;
  // --reset-state: the replicas' shared state starts over, before anything of it is read
  if (kit && link && options.resetState) await kit.forgetEverything(link);
  const clock = options.clock ?? link?.clock ?? systemClock;
  const limits = { ...DEFAULTS.limits, ...options.limits };
  let systems: MountedSystem[];
  try {
    // replicas: one signing key for all, so a token issued by one verifies on every other
    systems = await buildSystems(kit && link ? { ...options, signingKeyPem: options.signingKeyPem ?? (await kit.sharedSigningKey(link)) } : options);
  } catch (err) {
    await link?.close();
    throw err;
  }
  const engine = new Engine(systems, clock, limits);
  const scheduler = options.scheduler ?? realScheduler;
  const seed = options.seed ?? DEFAULTS.seed;
  const chaosOptions = { clock, scheduler, seed, faultHeader: options.faultHeader ?? false };
  // replicas: each workspace's chaos counts (ordinals, rate limits) in Redis, so they hold across replicas
  const chaosOptionsFor = (workspace: string): ChaosOptions => (kit && link ? { ...chaosOptions, shared: new kit.RedisChaosCounters(link, workspace) } : chaosOptions);
  // profiles are checked against what is mounted: a rule for a system, operation or route that is not there would never fire
  const catalogue: MountCatalogue = catalogueOf(systems);
  const profile = options.profileText
    ? profileFromText(options.profileText.text, catalogue, options.profileText.source)
    : loadProfile(options.profile ?? DEFAULTS.profile, catalogue);
  const activation = (p: CompiledProfile, at: number, byAdmin: boolean): ChaosActivation => ({ text: p.text, source: p.source, activatedAt: at, byAdmin });
  /**
   * a workspace's chaos: what it ran before a restart, where its timeline stood (activatedAt is its origin, moved by
   * any jump; the timeline's history comes along), unless the server's profile changed
   */
  const chooseChaos = (stored: ChaosActivation | undefined, now: number, workspace: string): ChaosChoice => {
    const chaosOptions = chaosOptionsFor(workspace);
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
  let store: StateStore;
  // replicas: the store is the shared log (health and the workspaces' announcements need it as such)
  let replicated: ReplicatedStore | undefined;
  try {
    if (kit && link) {
      replicated = await kit.ReplicatedStore.open(
        link,
        { seed, systems: fingerprints(systems), profile: profile.text, version: VERSION },
        { warn: (m) => console.warn(`understudy: warning: ${m}`), snapshotEvery: options.store?.snapshotEvery },
      );
      store = replicated;
    } else store = openStore(options, systems, seed);
  } catch (err) {
    await link?.close();
    throw err;
  }
  const deliveries = deliveriesConfig(options, scheduler, limits.objects, clock.now());
  // replicas: one replica makes each delivery's attempts (a consumer group's claim), and one ticks per workspace
  if (link) deliveries.replicas = { link, claimTimeoutMs: options.redis?.claimTimeoutMs };
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
        sharedJournal: kit && link ? (ws) => kit.createJournalStream(link, ws, { maxEntries: limits.journalEntries, maxBytes: limits.journalBytes }) : undefined,
      },
      limits.workspaces,
    );
    restored = { dataDir: store.dataDir, workspaces: store.dataDir === null ? [] : workspaces.recover() };
    if (replicated) {
      // every workspace the replicas serve is served here too (its deliveries, journal and report card), including
      // those created elsewhere from now on
      for (const name of replicated.knownWorkspaces) workspaces.lookup(name);
      replicated.onAnnounced = (name) => {
        workspaces.lookup(name);
      };
      replicated.onDeleted = (name) => {
        workspaces.delete(name, { elsewhere: true });
      };
      restored.replica = { id: replicated.link.replicaId, redis: replicated.link.where };
    }
    // a workspace named by a config-file subscription exists from the start, so its events flow from the start
    for (const name of new Set((options.subscriptions ?? []).map((s) => s.workspace))) workspaces.lookup(name);
  } catch (err) {
    await store.close();
    throw err;
  }
  const chaos: ChaosControl = {
    catalogue,
    activate: (workspace: Workspace, next: CompiledProfile) => {
      const now = clock.now();
      return workspace.activateChaos(new ChaosEngine(next, chaosOptionsFor(workspace.name), now), activation(next, now, true));
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
        replica: replicated ? () => replicated.health() : undefined,
      }),
    ));
  const admin: AdminListener = (req, res, workspace) => {
    loadAdmin().then((listener) => listener(req, res, workspace));
  };
  let warmed: Promise<string[]> | undefined;
  // once the last exchange is recorded, the store writes its last journal batch and closes
  let stored: Promise<void> | undefined;
  return {
    options,
    systems,
    engine,
    workspaces,
    restored,
    store,
    clock,
    scheduler,
    chaos,
    admin,
    warmUp: () => (warmed ??= warmUp(systems)),
    close: () => {
      if (stored) return stored;
      engine.flush();
      // replicas: claims handed back and the journal's last entries appended before the link closes
      return (stored = workspaces.stopAll().then(() => store.close()));
    },
  };
}
