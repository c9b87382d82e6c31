/**
 * The embedded server of `understudy drill FILE -- COMMAND`: the same server `serve` runs, in this process, on a
 * free port of 127.0.0.1, from the seeded state kept in memory (no data directory unless asked), so a drill is
 * reproducible and two drills can run side by side without sharing a port or a file.
 */
import { startServer, type RunningServer } from '../server.js';

export interface EmbeddedOptions {
  /** the profile file (or built-in name) every workspace starts with */
  profile: string;
  seed?: number;
  /** a data directory to keep state in; none (the default) keeps everything in memory */
  dataDir?: string;
}

export interface Embedded {
  url: string;
  close(): Promise<void>;
}

export async function startEmbedded(options: EmbeddedOptions): Promise<Embedded> {
  const running: RunningServer = await startServer({
    port: 0,
    host: '127.0.0.1',
    profile: options.profile,
    seed: options.seed,
    dataDir: options.dataDir ?? '',
  });
  // in-flight requests of a COMMAND that left some behind get a short grace, not serve's 10 s
  return { url: running.url, close: () => running.close(1000) };
}
