/**
 * Test plumbing for replicas that share workspaces through Redis (issue #15): whether a Redis answers, a describe
 * that needs one, key prefixes of a test's own (so test files run in parallel on one Redis and clean up after
 * themselves without FLUSHALL), an ioredis client for assertions, `understudy serve --redis` as its own process,
 * and a private redis-server a test may stop, kill and restart without touching the shared one.
 *
 * Redis is found at TEST_REDIS_URL (default redis://127.0.0.1:6379; not an UNDERSTUDY_ variable, which
 * `understudy serve`, spawned by tests with their environment, would refuse as unknown). Where none answers, the tests that need
 * it are skipped with a message saying so, except under TEST_REDIS_REQUIRED=1 (CI, set by .ci/run),
 * where a missing Redis is a failure: CI must not go green by skipping the replica tests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, it } from 'vitest';

export const REDIS_URL: string = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';

const REQUIRED = process.env.TEST_REDIS_REQUIRED === '1';

/** how long the probe waits for a PONG before deciding there is no Redis */
const PROBE_MS = 1_000;
/** how long a spawned process (replica or redis-server) may take to come up before we give up on it */
const START_MS = 15_000;

/** Whether a Redis answers PING at `url` within about a second. Never throws. */
async function answers(url: string): Promise<boolean> {
  let probe: Redis | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    probe = new Redis(url, {
      lazyConnect: true,
      connectTimeout: PROBE_MS,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null, // one try: a probe must not keep reconnecting in the background
    });
    probe.on('error', () => {}); // the outcome is the return value, not an unhandled 'error' event
    const connected = probe;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer')), PROBE_MS + 200);
    });
    await Promise.race([connected.connect().then(() => connected.ping()), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    probe?.disconnect();
  }
}

export const redisAvailable: boolean = await answers(REDIS_URL);

const missingMessage = `replica tests skipped: no Redis answers at ${REDIS_URL} (start redis-server, or set TEST_REDIS_URL)`;
let warned = false;

/**
 * describe for tests that need the shared Redis. Without one it skips them (warning once), or, when
 * TEST_REDIS_REQUIRED=1, replaces them with one failing test that says why.
 *
 * A skipped describe's body still runs (vitest collects the tests it skips), so open connections and start
 * processes in beforeAll/the tests, never in the describe body itself.
 */
export const describeWithRedis = (name: string, fn: () => void): void => {
  if (redisAvailable) {
    describe(name, fn);
    return;
  }
  if (REQUIRED) {
    describe(name, () => {
      it('needs a Redis (TEST_REDIS_REQUIRED=1)', () => {
        throw new Error(`no Redis answers at ${REDIS_URL}, and TEST_REDIS_REQUIRED=1 forbids skipping: start redis-server, or set TEST_REDIS_URL`);
      });
    });
    return;
  }
  if (!warned) {
    warned = true;
    console.warn(missingMessage);
  }
  describe.skip(name, fn);
};

/**
 * A key prefix no other test (in this run or a concurrent one) uses: `t-NAME-PID-RANDOM`. The name is reduced to
 * characters that need no escaping in a key or a SCAN pattern.
 */
export function uniquePrefix(name: string): string {
  const tidy = name.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 40);
  return `t-${tidy}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** a SCAN MATCH pattern matching `text` literally */
function globLiteral(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** Removes every key under `prefix:` (SCAN + UNLINK; never FLUSHALL: other tests share this Redis). */
export async function dropPrefix(prefix: string, url: string = REDIS_URL): Promise<void> {
  const client = redisClient(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${globLiteral(prefix)}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    await client.quit().catch(() => client.disconnect());
  }
}

/** An ioredis client for a test's own assertions and set-up; the caller quits it. */
export function redisClient(url: string = REDIS_URL): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: PROBE_MS * 2 });
  client.on('error', () => {}); // a test that stops Redis on purpose sees failed commands, not a crash
  return client;
}

// ---------------------------------------------------------------------------------------------------------------
// Processes: whatever a test file starts is ended when it finishes (or when the worker exits), even if a test
// forgot to, so no replica or redis-server outlives the run.

const ROOT = new URL('../..', import.meta.url).pathname;
const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

async function endAll(): Promise<void> {
  await Promise.all(
    [...children].map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }),
  );
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

afterAll(endAll);
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** the environment without the caller's UNDERSTUDY_* variables, so a developer's own settings do not leak in */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('UNDERSTUDY_')));
}

/**
 * Waits for `pattern` on the child's stdout; rejects if the child exits first or `START_MS` passes, with what it
 * wrote on stderr (the reason a start failed is there).
 */
function waitForOutput(child: ChildProcess, pattern: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what} did not start within ${START_MS} ms: ${err || out}`));
    }, START_MS);
    const onOut = (c: Buffer) => {
      out += c;
      const m = pattern.exec(out);
      if (m) {
        cleanup();
        resolve(m);
      }
    };
    const onErr = (c: Buffer) => (err += c);
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`${what} exited (${code ?? signal}) before it was ready: ${err || out}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off('data', onOut);
      child.stderr!.off('data', onErr);
      child.off('exit', onExit);
      // keep draining, so a chatty child never blocks on a full pipe
      child.stdout!.resume();
      child.stderr!.resume();
    };
    child.stdout!.on('data', onOut);
    child.stderr!.on('data', onErr);
    child.on('exit', onExit);
  });
}

export interface ReplicaProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<unknown>;
  replicaId: string;
}

/**
 * `understudy serve --redis URL --redis-prefix PREFIX --replica-id ID --data-dir '' --port 0` as its own process
 * (so a test can kill -9 one replica and watch another), from the checkout through tsx. Resolves once it listens.
 * The caller kills it; whatever is left is killed when the test file ends.
 */
export async function startReplicaProcess(
  prefix: string,
  opts: { replicaId?: string; url?: string; seed?: number; args?: string[] } = {},
): Promise<ReplicaProcess> {
  const replicaId = opts.replicaId ?? `replica-${randomBytes(3).toString('hex')}`;
  const args = [
    '--import', 'tsx', 'src/cli.ts', 'serve',
    '--port', '0',
    '--data-dir', '',
    '--redis', opts.url ?? REDIS_URL,
    '--redis-prefix', prefix,
    '--replica-id', replicaId,
    '--seed', String(opts.seed ?? 1),
    ...(opts.args ?? []),
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...cleanEnv(), HOME: tmpdir() }, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  try {
    const m = await waitForOutput(child, /listening on (http:\/\/\S+)/, `replica ${replicaId}`);
    return { child, url: m[1], exited, replicaId };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A private redis-server

/** whether a `redis-server` binary is on PATH (startPrivateRedis needs one) */
export const privateRedisAvailable: boolean = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

export interface PrivateRedis {
  url: string;
  port: number;
  /** SIGTERM: Redis finishes what it is writing and exits (resolves once it has) */
  stop(): Promise<void>;
  /** SIGKILL: gone at once, as in a crash (resolves once it has exited) */
  kill(): Promise<void>;
  /** starts it again on the same port and directory (its AOF brings the data back); resolves once it is ready */
  start(): Promise<void>;
}

/** a port nothing listens on at this moment (the OS's choice for port 0) */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * A redis-server of the test's own on a free port, durable on every write (appendonly yes, appendfsync always) in
 * a temporary directory, so that a test can stop or kill it and start it again with its data. Stopped and its
 * directory removed when the test file ends.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  if (!privateRedisAvailable) throw new Error('startPrivateRedis: no redis-server on PATH (install redis-server)');
  const dir = mkdtempSync(join(tmpdir(), 'understudy-redis-'));
  tempDirs.add(dir);
  let child: ChildProcess | undefined;
  let port = 0;

  const launch = async (): Promise<void> => {
    const args = [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--dir', dir,
      '--appendonly', 'yes',
      '--appendfsync', 'always',
      '--save', '',
      '--daemonize', 'no',
      '--loglevel', 'notice',
    ];
    const started = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    track(started);
    child = started;
    try {
      await waitForOutput(started, /Ready to accept connections/, `redis-server on port ${port}`);
    } catch (err) {
      started.kill('SIGKILL');
      throw err;
    }
  };

  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const current = child;
    child = undefined;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const exited = once(current, 'exit');
    current.kill(signal);
    await exited;
  };

  // the free port may be taken between choosing it and redis binding it: choose again a few times
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    start: async () => {
      if (child) throw new Error('startPrivateRedis: start() while it is running (stop or kill it first)');
      await launch();
    },
  };
}
