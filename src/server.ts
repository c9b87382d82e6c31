/**
 * A running understudy: the traffic path (node:http) and the admin API (express) on one port, in front of what
 * understudy.ts builds without a socket (the systems mounted-systems.ts assembles, the engine, the workspaces),
 * which the msw transport (msw.ts) shares.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULTS } from './config/config.js';
import type { Engine } from './engine/pipeline.js';
import type { Workspaces } from './engine/workspace.js';
import type { Restored, ServerOptions } from './mounted-systems.js';
import type { StateStore } from './store/store.js';
import { createTrafficServer } from './tls/server-tls.js';
import { createTrafficListener } from './transports/node-http.js';
import { createUnderstudy } from './understudy.js';

// where their users have always found them
export { buildSystems, dataDirOf, type Restored, type ServerOptions } from './mounted-systems.js';
export { createUnderstudy, type Understudy, type UnderstudyOptions } from './understudy.js';

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
   * yet) is done, with warnings about schemas that could not be compiled. That work starts when this is first
   * read (the command does at once): a server embedded in a test suite, which never reads it, compiles only the
   * validators its requests need.
   */
  readonly ready: Promise<string[]>;
  /** stop accepting, let in-flight requests finish (at most graceMs), then resolve */
  close(graceMs?: number): Promise<void>;
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const understudy = await createUnderstudy(options);
  const { engine, workspaces, restored, store } = understudy;
  let draining = false;
  const traffic = createTrafficListener({ engine, workspaces, admin: understudy.admin, draining: () => draining, scheduler: understudy.scheduler });
  // HTTPS when given a certificate (tls: / --tls-cert), asking for client certificates with a CA (mutual TLS)
  const server = createTrafficServer(traffic, options.tls);
  server.on('connection', traffic.connection);
  // once the last exchange is recorded, the store writes its last journal batch and closes
  server.on('close', () => understudy.close());

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error) => {
      understudy.close().finally(() => reject(err));
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
    get ready() {
      return understudy.warmUp();
    },
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
        draining = true;
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          understudy.close().then(resolve, resolve);
        });
        server.closeIdleConnections();
      }),
  };
}
