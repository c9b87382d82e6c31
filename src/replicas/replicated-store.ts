/**
 * The store of a replica (`--redis`): every workspace's writes go through its shared log (workspace-log.ts)
 * instead of a local database, and the follower keeps this replica applying what the others append while it has
 * no requests of its own.
 *
 * - Workspaces are announced on a stream of their own (`{prefix}:workspaces`): a replica learns of a workspace
 *   another one created, and follows it (so its subscriptions are served by every replica, and its journal and
 *   report card answer here too), whether it started before or after the creation.
 * - A workspace's creation time is agreed once (`SET NX` of `…:created`): its systems' seeded state starts there,
 *   and its chaos timeline counts from there, on every replica.
 * - The follower: one blocking connection, XREAD BLOCK over every followed workspace's log and the announcements,
 *   which wakes when any of them grows and catches the workspace up.
 * - The replica's id is announced with a heartbeat (`{prefix}:replicas`, a sorted set by last beat), for health.
 */
import type { Redis } from 'ioredis';
import type { StateStore, StoredJournalEntry, StoredWorkspace, SystemRecovery, WorkspaceStore, ChaosActivation } from '../store/store.js';
import type { RedisLink } from './redis-link.js';
import { WorkspaceLog, type WorkspaceLogOptions } from './workspace-log.js';

/** how long the follower blocks before looking again (it also wakes on any append) */
const FOLLOW_BLOCK_MS = 1_000;
const HEARTBEAT_MS = 2_000;

export interface ReplicatedStoreOptions extends WorkspaceLogOptions {
  /** the workspaces announced before this replica started, read at open */
  known?: string[];
}

/**
 * What every replica sharing a prefix must agree on, because each applies the log itself: the seed, what each
 * stateful system's state depends on (data sizes, contracts), the server's chaos profile (new workspaces start
 * with it) and the version (a write replayed by another version could come out otherwise).
 */
export interface ReplicaConfiguration {
  seed: number;
  systems: Record<string, Record<string, unknown>>;
  profile: string;
  version: string;
}

/** A replica configured otherwise than those already sharing its Redis prefix: it must not join them. */
export class ReplicaConfigurationError extends Error {}

async function agreeConfiguration(link: RedisLink, configuration: ReplicaConfiguration): Promise<void> {
  const key = link.globalKey('configuration');
  const mine = JSON.stringify(configuration);
  const [[, set], [, stored]] = ((await link.commands.pipeline().set(key, mine, 'NX').get(key).exec()) ?? []) as Array<[unknown, string | null]>;
  if (set === 'OK' || stored === mine || stored === null) return;
  const theirs = JSON.parse(stored) as ReplicaConfiguration;
  const differences: string[] = [];
  if (theirs.version !== configuration.version) differences.push(`they run understudy ${theirs.version}, this is ${configuration.version}`);
  if (theirs.seed !== configuration.seed) differences.push(`their seed is ${theirs.seed}, this one's ${configuration.seed}`);
  if (theirs.profile !== configuration.profile) differences.push('their chaos profile (--profile) is another');
  for (const name of new Set([...Object.keys(theirs.systems), ...Object.keys(configuration.systems)])) {
    if (JSON.stringify(theirs.systems[name]) !== JSON.stringify(configuration.systems[name])) differences.push(`${name} is configured otherwise (${JSON.stringify(theirs.systems[name] ?? 'not served')} there, ${JSON.stringify(configuration.systems[name] ?? 'not served')} here)`);
  }
  throw new ReplicaConfigurationError(
    `the replicas sharing ${link.where} under prefix "${link.prefix}" are configured otherwise: ${differences.join('; ')}. Every replica applies the same log, so all must run one configuration: start this one as they run, use another --redis-prefix, or start over with --reset-state`,
  );
}

async function unlinkMatching(link: RedisLink, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await link.commands.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await link.commands.unlink(...keys);
  } while (cursor !== '0');
}

/**
 * --reset-state with replicas: every key under the prefix goes (state, journal, deliveries, the agreed configuration,
 * the signing key), so that the replicas started next begin afresh. The prefix has no glob characters (checked).
 */
export function forgetEverything(link: RedisLink): Promise<void> {
  return unlinkMatching(link, `${link.prefix}:*`);
}

class ReplicatedWorkspaceStore implements WorkspaceStore {
  readonly keepsWrites = true;
  readonly journal = undefined;
  snapshotter = undefined;

  constructor(
    readonly shared: WorkspaceLog,
    private readonly link: RedisLink,
    private readonly forget: () => void,
  ) {}

  refusal(): string | undefined {
    return this.link.up ? undefined : `Redis is unreachable (${this.link.where})`;
  }
  logWrite(): undefined {
    // never called: with a shared log, writes are appended before they run (SystemStates, DeliveryBook)
    return undefined;
  }
  whenCommitted(): Promise<void> {
    return this.shared.caughtUp();
  }
  recover(): SystemRecovery {
    // states are rebuilt from the shared log (and its snapshot) by its first catch-up
    return { writes: [] };
  }
  saveChaos(_activation: ChaosActivation): void {}
  resetState(): void {}
  clearJournal(): void {}
  journalEntries(): StoredJournalEntry[] {
    return [];
  }
  delete(): void {
    this.shared.stop();
    this.forget();
  }
}

export class ReplicatedStore implements StateStore {
  readonly dataDir = null;
  private readonly logs = new Map<string, WorkspaceLog>();
  private follower: Redis | undefined;
  private following = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private announcedFrom = '$';
  /** told of a workspace another replica created (understudy.ts looks it up, which creates it here) */
  onAnnounced: ((workspace: string) => void) | undefined;

  private constructor(
    readonly link: RedisLink,
    private readonly options: ReplicatedStoreOptions,
  ) {}

  /**
   * Opens the store: checks this replica is configured as the others are (the first one to start sets it), reads
   * which workspaces exist, starts following them and beating the replica's heart.
   */
  static async open(link: RedisLink, configuration: ReplicaConfiguration, options: WorkspaceLogOptions = {}): Promise<ReplicatedStore> {
    await agreeConfiguration(link, configuration);
    const announcements = link.globalKey('workspaces');
    const last = (await link.commands.xrevrange(announcements, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
    const known = (await link.commands.smembers(link.globalKey('workspace-names'))).sort();
    const store = new ReplicatedStore(link, { ...options, known });
    store.announcedFrom = last[0]?.[0] ?? '0-0';
    await store.beat();
    store.heartbeat = setInterval(() => store.beat().catch(() => {}), HEARTBEAT_MS);
    store.heartbeat.unref();
    return store;
  }

  workspaces(): StoredWorkspace[] {
    // created here as new ones: their states, creation time and chaos come from the shared log
    return [];
  }

  /** names of the workspaces announced before this replica started */
  get knownWorkspaces(): string[] {
    return this.options.known ?? [];
  }

  open(workspace: StoredWorkspace): WorkspaceStore {
    const log = new WorkspaceLog(this.link, workspace.name, this.options);
    this.logs.set(workspace.name, log);
    this.announce(workspace.name).catch(() => {});
    this.startFollowing();
    return new ReplicatedWorkspaceStore(log, this.link, () => {
      this.forget(workspace.name).catch((err) => this.options.warn?.(`workspace ${workspace.name}: its keys could not be deleted from Redis: ${err instanceof Error ? err.message : String(err)}`));
    });
  }

  /** how far behind the head of the stream this replica is, per workspace (ms of the head's time not applied) */
  lag(): Record<string, number> {
    const lag: Record<string, number> = {};
    for (const [name, log] of this.logs) lag[name] = log.lagMs;
    return lag;
  }

  /** what /__admin/health says of this replica */
  async health(): Promise<{ id: string; redis: 'up' | 'down'; lag: { ms: number; workspaces: Record<string, number> }; replicas?: string[] }> {
    const up = this.link.up;
    const logs = [...this.logs.values()];
    if (up && logs.length > 0) {
      const heads = await this.link.commands.mget(...logs.map((l) => l.headKey)).catch(() => []);
      heads.forEach((head, i) => head && logs[i].noteHead(head));
    }
    const workspaces = this.lag();
    const ms = Math.max(0, ...Object.values(workspaces));
    const replicas = up ? await this.replicas().catch(() => undefined) : undefined;
    return { id: this.link.replicaId, redis: up ? 'up' : 'down', lag: { ms, workspaces }, ...(replicas ? { replicas } : {}) };
  }

  /** the replicas whose heart beat within the last few seconds */
  async replicas(): Promise<string[]> {
    return this.link.commands.zrangebyscore(this.link.globalKey('replicas'), Date.now() - 3 * HEARTBEAT_MS, '+inf');
  }

  settled(): Promise<void> {
    return Promise.all([...this.logs.values()].map((l) => l.caughtUp())).then(() => {});
  }

  async close(): Promise<void> {
    this.following = false;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const log of this.logs.values()) log.stop();
    await this.link.commands.zrem(this.link.globalKey('replicas'), this.link.replicaId).catch(() => {});
    await this.link.close();
  }

  private async beat(): Promise<void> {
    await this.link.commands.zadd(this.link.globalKey('replicas'), Date.now(), this.link.replicaId);
  }

  /**
   * Forgets a workspace everywhere (DELETE /__admin/workspaces/NAME): its keys go, and the announcement tells the
   * other replicas to drop it too, so that one re-created under its name starts from its seeded state.
   */
  async forget(name: string): Promise<void> {
    this.logs.get(name)?.stop();
    this.logs.delete(name);
    await unlinkMatching(this.link, `${this.link.prefix}:{ws:${name}}:*`);
    await this.link.commands.srem(this.link.globalKey('workspace-names'), name);
    await this.link.commands.xadd(this.link.globalKey('workspaces'), 'MAXLEN', '~', '10000', '*', 'w', name, 'deleted', '1');
  }

  /** told of a workspace another replica deleted */
  onDeleted: ((workspace: string) => void) | undefined;

  /** says the workspace exists, once per name (the announcement wakes every follower) */
  private async announce(name: string): Promise<void> {
    const added = await this.link.commands.sadd(this.link.globalKey('workspace-names'), name);
    if (added === 1) await this.link.commands.xadd(this.link.globalKey('workspaces'), 'MAXLEN', '~', '10000', '*', 'w', name);
  }

  private startFollowing(): void {
    if (this.following) return;
    this.following = true;
    this.follower = this.link.blocking();
    this.follow().catch(() => {});
  }

  /** XREAD BLOCK over every log and the announcements; whatever grew is caught up with */
  private async follow(): Promise<void> {
    const follower = this.follower!;
    const announcements = this.link.globalKey('workspaces');
    while (this.following) {
      if (follower.status !== 'ready') {
        await new Promise((resolve) => setTimeout(resolve, 200).unref());
        continue;
      }
      const logs = [...this.logs.values()];
      const keys = [announcements, ...logs.map((l) => l.streamKey)];
      const ids = [this.announcedFrom, ...logs.map((l) => l.applied)];
      let answer: Array<[string, Array<[string, string[]]>]> | null;
      try {
        answer = (await follower.xread('COUNT', 1, 'BLOCK', FOLLOW_BLOCK_MS, 'STREAMS', ...keys, ...ids)) as typeof answer;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200).unref());
        continue;
      }
      if (!answer) continue;
      const catchingUp: Promise<void>[] = [];
      for (const [key, entries] of answer) {
        if (key === announcements) {
          for (const [id, fields] of entries) {
            this.announcedFrom = id;
            const name = fields[1];
            if (name === undefined) continue;
            if (fields[2] === 'deleted') {
              const log = this.logs.get(name);
              if (log === undefined) continue;
              log.stop();
              this.logs.delete(name);
              this.onDeleted?.(name);
            } else if (!this.logs.has(name) && (await this.link.commands.sismember(this.link.globalKey('workspace-names'), name).catch(() => 0)) === 1) {
              // still there: an announcement read late, after the workspace was deleted, must not bring it back
              this.onAnnounced?.(name);
            }
          }
          continue;
        }
        const log = logs.find((l) => l.streamKey === key);
        // catch up with the head, not just the one entry XREAD showed
        if (log) catchingUp.push(log.caughtUp());
      }
      await Promise.all(catchingUp);
    }
  }
}
