/**
 * Deliveries across replicas (issue #15), against a real Redis:
 * - the claims (replicas/delivery-claims.ts): two dispatchers reading one consumer group each attempt a share of
 *   the deliveries and none twice; offers are idempotent; a dispatcher that dies (its connection gone) has its
 *   claims taken over after the (shortened) timeout, while one that lives keeps its own past that timeout; a
 *   replica restarted under the same id takes its own claims back;
 * - the ticker lease (replicas/ticker-lease.ts): one holder at a time, passed on when the holder stops;
 * - the book over the shared log (a real WorkspaceLog): two replicas that propose overlapping events queue each
 *   once, the same deliveries with the same numbers on both, and subscriptions chosen with the same id at once
 *   end up under two ids;
 * - end to end (two servers, one Redis): a write on one replica gives exactly one POST per event, whose attempts
 *   show on the other; a replica killed with SIGKILL mid-retry leaves its delivery to the other.
 *
 * No test waits for time to pass: each polls for the condition it expects, with a bound.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DeliveryBook, type Subscription } from '../../src/deliveries/delivery-book.js';
import { DeliveryClaims, DISPATCHERS, type ClaimsBook } from '../../src/replicas/delivery-claims.js';
import { RedisLink } from '../../src/replicas/redis-link.js';
import { TickerLease } from '../../src/replicas/ticker-lease.js';
import { WorkspaceLog } from '../../src/replicas/workspace-log.js';
import type { WorkspaceStore } from '../../src/store/store.js';
import { call, json, start } from '../helpers.js';
import { Sink } from '../deliveries/sink.js';
import { describeWithRedis, dropPrefix, REDIS_URL, redisClient, startReplicaProcess, uniquePrefix } from './redis-harness.js';

/** polls `test` until it holds, failing after `ms` with what was awaited */
async function until(test: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`never saw ${what} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const prefixes: string[] = [];
const links: RedisLink[] = [];
afterAll(async () => {
  await Promise.all(links.splice(0).map((l) => l.close()));
  await Promise.all(prefixes.splice(0).map((p) => dropPrefix(p)));
});

async function link(prefix: string, replicaId: string): Promise<RedisLink> {
  const l = await RedisLink.open({ url: REDIS_URL, prefix, replicaId });
  links.push(l);
  return l;
}

function prefixFor(name: string): string {
  const p = uniquePrefix(name);
  prefixes.push(p);
  return p;
}

/** a stand-in for a replica's book: each delivery due until the test says it is done */
class FakeBook implements ClaimsBook {
  readonly status = new Map<number, 'due' | 'done'>();
  readonly claims: number[] = [];
  /** told on every claim (a test finishes deliveries from here) */
  onClaim: (n: number) => void = () => {};
  caughtUp(): Promise<void> {
    return Promise.resolve();
  }
  statusOf(n: number): 'due' | 'done' | 'unknown' {
    return this.status.get(n) ?? 'unknown';
  }
  claimed(n: number): void {
    this.claims.push(n);
    this.onClaim(n);
  }
}

const silent = (): void => {};

describeWithRedis('deliveries across replicas: claims', () => {
  it('two dispatchers on one consumer group attempt every delivery once between them', async () => {
    const prefix = prefixFor('claims-share');
    const [la, lb] = [await link(prefix, 'a'), await link(prefix, 'b')];
    const books = [new FakeBook(), new FakeBook()];
    for (let n = 1; n <= 60; n++) for (const b of books) b.status.set(n, 'due');
    const claims = [
      new DeliveryClaims({ link: la, workspace: 'ws', book: books[0], claimTimeoutMs: 3_000, warn: silent }),
      new DeliveryClaims({ link: lb, workspace: 'ws', book: books[1], claimTimeoutMs: 3_000, warn: silent }),
    ];
    // a claimed delivery is attempted and finished at once, as a receiver that answers 200 lets it be
    books.forEach((book, i) => (book.onClaim = (n) => claims[i].finished(n)));
    claims.forEach((c) => c.start());

    // offered from both sides, each delivery twice (its proposer and a reconcile), while both read
    for (let n = 1; n <= 60; n++) claims[n % 2].offer(n);
    await claims[0].reconcile(Array.from({ length: 60 }, (_, i) => i + 1));
    await until(() => books[0].claims.length + books[1].claims.length >= 60, 'all 60 claimed');

    const all = [...books[0].claims, ...books[1].claims].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    const redis = redisClient();
    try {
      // finished: nothing pending, nothing left in the stream or the offers
      await until(async () => Number(((await redis.xpending(claims[0].streamKey, DISPATCHERS)) as [number])[0]) === 0, 'no claim pending');
      expect(await redis.xlen(claims[0].streamKey)).toBe(0);
      expect(await redis.hlen(claims[0].offeredKey)).toBe(0);
    } finally {
      await redis.quit();
    }
    await Promise.all(claims.map((c) => c.stop()));
  });

  it('a dispatcher that dies has its claims taken over after the timeout; one that lives keeps its own', async () => {
    const prefix = prefixFor('claims-takeover');
    const [la, lb] = [await link(prefix, 'a'), await link(prefix, 'b')];
    const [ba, bb] = [new FakeBook(), new FakeBook()];
    for (let n = 1; n <= 10; n++) {
      ba.status.set(n, 'due');
      bb.status.set(n, 'due');
    }
    const timeout = 300;
    const a = new DeliveryClaims({ link: la, workspace: 'ws', book: ba, claimTimeoutMs: timeout, warn: silent });
    const b = new DeliveryClaims({ link: lb, workspace: 'ws', book: bb, claimTimeoutMs: timeout, warn: silent });
    // A alone reads at first, so it claims all ten (a retrying delivery stays claimed: never finished here)
    a.start();
    for (let n = 1; n <= 10; n++) a.offer(n);
    await until(() => ba.claims.length === 10, 'A claiming all ten');
    b.start();

    // both alive for many rounds past the timeout: A keeps its claims fresh, B takes none
    const from = b.rounds;
    await until(() => b.rounds >= from + 10 && a.rounds >= 10, 'ten rounds of B (over three timeouts)');
    expect(bb.claims).toEqual([]);
    expect([...Array(10)].every((_, i) => a.holds(i + 1))).toBe(true);

    // A dies: its connections are gone, its claims go stale, and B takes every one of them
    await la.close();
    await until(() => bb.claims.length === 10, "B taking over A's ten claims");
    expect([...bb.claims].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const redis = redisClient();
    try {
      const pending = (await redis.xpending(b.streamKey, DISPATCHERS, '-', '+', 100)) as Array<[string, string, number, number]>;
      expect(pending.map((p) => p[1])).toEqual(Array(10).fill('b'));
    } finally {
      await redis.quit();
    }
    await a.stop();
    await b.stop();
  });

  it('a stopping dispatcher gives its claims back; one restarted under its id takes its own back', async () => {
    const prefix = prefixFor('claims-restart');
    const [la, lb] = [await link(prefix, 'a'), await link(prefix, 'b')];
    const book = new FakeBook();
    for (let n = 1; n <= 4; n++) book.status.set(n, 'due');
    const first = new DeliveryClaims({ link: la, workspace: 'ws', book, claimTimeoutMs: 60_000, warn: silent });
    first.start();
    for (let n = 1; n <= 4; n++) first.offer(n);
    await until(() => book.claims.length === 4, 'all four claimed');
    // the process restarts under the same replica id without having stopped (a crash): its pending claims are its own
    const again = new FakeBook();
    for (let n = 1; n <= 4; n++) again.status.set(n, 'due');
    const restarted = new DeliveryClaims({ link: lb, workspace: 'ws', book: again, claimTimeoutMs: 60_000, consumer: 'a', warn: silent });
    restarted.start();
    await until(() => again.claims.length === 4, 'the restarted one taking its own four back');
    // it stops: the claims are marked idle past the timeout, and a replica with a timeout of a minute takes them
    // at its next round, not a minute later
    await restarted.stop();
    const other = new FakeBook();
    for (let n = 1; n <= 4; n++) other.status.set(n, n === 4 ? 'done' : 'due');
    const taker = new DeliveryClaims({ link: lb, workspace: 'ws', book: other, claimTimeoutMs: 600, consumer: 'c', warn: silent });
    taker.start();
    await until(() => other.claims.length === 3, 'the given-back claims taken');
    // the finished one was acknowledged by whoever found it finished, not armed
    expect([...other.claims].sort()).toEqual([1, 2, 3]);
    expect(taker.holds(4)).toBe(false);
    await taker.stop();
    await first.stop();
  });
});

describeWithRedis('deliveries across replicas: the ticker lease', () => {
  it('one replica holds it at a time; when it stops, another takes it', async () => {
    const prefix = prefixFor('lease');
    const ls = [await link(prefix, 'a'), await link(prefix, 'b'), await link(prefix, 'c')];
    let renewals = 0;
    const leases = ls.map((l) => new TickerLease(l, 'ws', { ttlMs: 600, onHeld: () => renewals++ }));
    leases.forEach((l) => l.start());
    await until(() => renewals >= 6, 'six renewals');
    expect(leases.filter((l) => l.held)).toHaveLength(1);
    const holder = leases.find((l) => l.held)!;
    await holder.stop();
    await until(() => leases.some((l) => l !== holder && l.held), 'another holder');
    expect(leases.filter((l) => l.held)).toHaveLength(1);
    await Promise.all(leases.map((l) => l.stop()));
  });
});

/** the store a book sees on a replica: the shared log and nothing else */
function sharedStore(log: WorkspaceLog): WorkspaceStore {
  return {
    shared: log,
    keepsWrites: false,
    refusal: () => undefined,
    logWrite: () => undefined,
    whenCommitted: () => Promise.resolve(),
    snapshotter: undefined,
    recover: () => ({ writes: [] }),
    saveChaos: () => {},
    resetState: () => {},
    clearJournal: () => {},
    journal: undefined,
    journalEntries: () => [],
    delete: () => {},
  };
}

const clock = { now: () => Date.now() };

function subscription(id: string): Subscription {
  return { id, target: 'webhook', url: 'http://127.0.0.1:9/hooks', events: ['*'], secrets: [{ secret: 's', until: null }], retry: null, timeoutMs: null, concurrency: null, salesforce: null, source: 'api', createdAt: 0 };
}

function changes(from: number, to: number, subscriber: string): Record<string, unknown> {
  const list = [];
  for (let seq = from; seq <= to; seq++) {
    list.push({ seq, event: { id: `evt_${seq}`, type: 'inventory.changed', system: 'wms', body: `{"n":${seq}}` }, deliveries: [{ subscription: subscriber, plan: null }] });
  }
  return { system: 'wms', epoch: 1, changes: list };
}

describeWithRedis('deliveries across replicas: the book over the shared log', () => {
  it('events two replicas both propose are queued once, the same deliveries on both', async () => {
    const prefix = prefixFor('book');
    const [la, lb] = [await link(prefix, 'a'), await link(prefix, 'b')];
    const logs = [new WorkspaceLog(la, 'ws', { snapshotEvery: 2 }), new WorkspaceLog(lb, 'ws', { snapshotEvery: 2 })];
    const books = logs.map((log) => new DeliveryBook(sharedStore(log), clock, 1, [], 1000));

    // both choose sub_000001 at once: the log's order gives the second one the next id
    const [s1, s2] = await Promise.all([books[0].append('subscribe', { subscription: subscription(books[0].newSubscriptionId()) }), books[1].append('subscribe', { subscription: subscription(books[1].newSubscriptionId()) })]);
    expect([(s1 as Subscription).id, (s2 as Subscription).id].sort()).toEqual(['sub_000001', 'sub_000002']);

    // A saw changes 1..3, B saw 2..5 (it applied A's write before A's events reached the log), then A 4..6
    await Promise.all([books[0].write('enqueue-changes', changes(1, 3, 'sub_000001')), books[1].write('enqueue-changes', changes(2, 5, 'sub_000001'))]);
    await books[0].write('enqueue-changes', changes(4, 6, 'sub_000001'));
    // an entry from before a reset of the state (an older epoch) queues nothing
    await books[1].write('enqueue-changes', { ...changes(7, 8, 'sub_000001'), epoch: 0 });
    await Promise.all(logs.map((l) => l.caughtUp()));

    const view = (book: DeliveryBook) => [...book.newestFirst()].map((d) => `${d.id}:${d.eventId}`).reverse();
    expect(view(books[0]).map((v) => v.split(':')[1])).toEqual(['evt_1', 'evt_2', 'evt_3', 'evt_4', 'evt_5', 'evt_6']);
    expect(view(books[1])).toEqual(view(books[0]));
    expect(books[0].cursorOf('wms', 1)).toBe(6);
    expect(books[1].subscriptions().map((s) => s.id)).toEqual(['sub_000001', 'sub_000002']);

    // a clear keeps what the book holds where it is applied: both subscriptions, and the numbering goes on
    await books[1].write('clear', { keepSubscriptions: true });
    await books[0].write('enqueue-changes', changes(7, 7, 'sub_000002'));
    await Promise.all(logs.map((l) => l.caughtUp()));
    for (const book of books) {
      expect(book.subscriptions().map((s) => s.id)).toEqual(['sub_000001', 'sub_000002']);
      expect(view(book)).toEqual(['dlv_00000007:evt_7']);
    }
    // a replica that starts late (the others snapshot every two entries and trim behind) has the same book
    const late = new WorkspaceLog(await link(prefix, 'c'), 'ws', { snapshotEvery: 2 });
    const lateBook = new DeliveryBook(sharedStore(late), clock, 1, [], 1000);
    await late.caughtUp();
    expect(view(lateBook)).toEqual(view(books[0]));
    expect(lateBook.cursorOf('wms', 1)).toBe(7);
    expect(lateBook.subscriptions().map((s) => s.id)).toEqual(['sub_000001', 'sub_000002']);
    late.stop();
    logs.forEach((l) => l.stop());
  });
});

describeWithRedis('deliveries across replicas: end to end', () => {
  let prefix: string;
  beforeAll(() => {
    prefix = prefixFor('e2e');
  });

  it('a write on replica A gives exactly one POST per event; B shows the attempts', async () => {
    const a = await start({ seed: 5, redis: { url: REDIS_URL, prefix, replicaId: 'e2e-a' } });
    const b = await start({ seed: 5, redis: { url: REDIS_URL, prefix, replicaId: 'e2e-b' } });
    const hooks = await Sink.start();
    const created = await call(`${b.url}/__admin/subscriptions`, json({ url: hooks.url, events: ['reservation.*'], secret: 'whsec_e2e' }));
    expect(created.status).toBe(201);

    // writes on both replicas, alternating
    const made: string[] = [];
    for (let i = 1; i <= 6; i++) {
      const replica = i % 2 === 0 ? b : a;
      const r = await call(`${replica.url}/wms/v1/reservations`, json({ externalOrderId: `E2E-${i}`, lines: [{ sku: `SKU-${i}`, quantity: 1 }] }));
      expect(r.status).toBe(201);
      made.push(r.body.id);
    }
    // every delivery delivered, as both replicas show it
    const deliveries = async (url: string) => (await call(`${url}/__admin/deliveries?limit=1000`)).body.deliveries as any[];
    await until(async () => {
      const [onA, onB] = [await deliveries(a.url), await deliveries(b.url)];
      return onA.length === 6 && onB.length === 6 && onB.every((d) => d.status === 'delivered') && onA.every((d) => d.status === 'delivered');
    }, 'six deliveries delivered on both replicas');
    const [onA, onB] = [await deliveries(a.url), await deliveries(b.url)];
    expect(onB).toEqual(onA);
    // one attempt each, one POST each: not one per replica
    for (const d of onB) expect(d.attempts).toHaveLength(1);
    const ids = hooks.received.map((r) => r.event.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(onB.map((d) => d.eventId).sort());
    expect(hooks.received.map((r) => r.event.data.id).sort()).toEqual([...made].sort());
    // closed before the file drops the test's keys, so that nothing of theirs writes after
    await Promise.all([a.close(100), b.close(100)]);
  });

  it('time-driven changes (the stock simulation) are queued by one replica: each event once, delivered once', async () => {
    const simPrefix = prefixFor('e2e-sim');
    const a = await start({ seed: 9, systems: { wms: { skus: 50 } }, redis: { url: REDIS_URL, prefix: simPrefix, replicaId: 'sim-a' } });
    const b = await start({ seed: 9, systems: { wms: { skus: 50 } }, redis: { url: REDIS_URL, prefix: simPrefix, replicaId: 'sim-b' } });
    const hooks = await Sink.start();
    expect((await call(`${a.url}/__admin/subscriptions`, json({ url: hooks.url, events: ['inventory.changed'], secret: 'sim' }))).status).toBe(201);
    const simulate = (url: string, rate: string) => call(`${url}/__admin/wms/simulation`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rate }) });
    expect((await simulate(b.url, '20/s')).status).toBe(200);
    // reads on both replicas meanwhile: each one's bus looks at the changes its state has applied
    await until(async () => {
      await call(`${a.url}/wms/v1/inventory?limit=1`);
      await call(`${b.url}/wms/v1/inventory?limit=1`);
      return hooks.received.length >= 15;
    }, 'fifteen simulated changes pushed');
    expect((await simulate(a.url, '0/s')).status).toBe(200);

    const deliveries = async (url: string) => (await call(`${url}/__admin/deliveries?limit=1000`)).body.deliveries as any[];
    await until(async () => (await deliveries(a.url)).every((d) => d.status === 'delivered') && (await deliveries(b.url)).every((d) => d.status === 'delivered'), 'every delivery delivered');
    const [onA, onB] = [await deliveries(a.url), await deliveries(b.url)];
    expect(onB).toEqual(onA);
    // each change queued once (event ids unique in the book), attempted once, received once
    const queued = onA.map((d) => d.eventId);
    expect(new Set(queued).size).toBe(queued.length);
    for (const d of onA) expect(d.attempts).toHaveLength(1);
    await hooks.waitFor((got) => got.length === queued.length, 'one POST per delivery');
    expect(hooks.received.map((r) => r.event.id).sort()).toEqual([...queued].sort());
    await Promise.all([a.close(100), b.close(100)]);
  });

  it('a replica killed with SIGKILL mid-retry leaves its delivery to the other, which finishes it', async () => {
    const killPrefix = prefixFor('e2e-kill');
    const dir = mkdtempSync(join(tmpdir(), 'understudy-claims-'));
    const config = join(dir, 'understudy.yaml');
    writeFileSync(config, `redis:\n  url: ${REDIS_URL}\n  claimTimeout: 1s\n`);
    const replicas = [await startReplicaProcess(killPrefix, { replicaId: 'kill-a', args: ['--config', config] }), await startReplicaProcess(killPrefix, { replicaId: 'kill-b', args: ['--config', config] })];
    const hooks = await Sink.start();
    // the receiver fails until the test says otherwise: the delivery is retried, a second apart
    let healthy = false;
    hooks.answer = () => (healthy ? 200 : 503);
    const created = await call(`${replicas[0].url}/__admin/subscriptions`, json({ url: hooks.url, events: ['reservation.created'], secret: 'whsec_kill', retry: { base: '1s', cap: '1s', maxAttempts: 100 } }));
    expect(created.status).toBe(201);
    expect((await call(`${replicas[1].url}/wms/v1/reservations`, json({ externalOrderId: 'KILL-1', lines: [{ sku: 'SKU-1', quantity: 1 }] }))).status).toBe(201);
    await hooks.waitFor((got) => got.length >= 2, 'a first attempt and a retry');

    // the replica holding the claim (the consumer group says which) is killed mid-retry
    const redis = redisClient();
    let holder: string;
    try {
      const pending = (await redis.xpending(`${killPrefix}:{ws:default}:deliveries-due`, DISPATCHERS, '-', '+', 10)) as Array<[string, string]>;
      expect(pending).toHaveLength(1);
      holder = pending[0][1];
    } finally {
      await redis.quit();
    }
    const killed = replicas.find((r) => r.replicaId === holder)!;
    const survivor = replicas.find((r) => r !== killed)!;
    killed.child.kill('SIGKILL');
    await killed.exited;
    const before = hooks.received.length;
    healthy = true;

    // the survivor takes the claim over and finishes the delivery, with every attempt on record
    const delivery = async () => (await call(`${survivor.url}/__admin/deliveries`)).body.deliveries as any[];
    await until(async () => (await delivery())[0]?.status === 'delivered', 'the delivery delivered by the survivor', 30_000);
    const [done] = await delivery();
    expect(done.attempts.at(-1).status).toBe(200);
    expect(done.attempts.filter((a: any) => a.status === 503).length).toBeGreaterThanOrEqual(2);
    expect(hooks.received.slice(before).filter((r) => r.headers['stripe-signature'] !== undefined).length).toBeGreaterThanOrEqual(1);
    survivor.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
});
