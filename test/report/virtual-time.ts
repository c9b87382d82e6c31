/**
 * Virtual time for tests whose clients wait on timers (cockatiel and opossum backing off and probing, hand-rolled
 * retry loops, clients giving up after seconds) against a real understudy over real sockets. Timers and Date are
 * faked with vitest (the libraries look them up globally, so they run unchanged on fake time), and time moves one
 * timer at a time, and only once nothing is left to happen at the current instant: every request a client has in
 * flight has reached the server and is held there on a timer (injected latency, a hang, a trickling body), or
 * there are none. A drill of twenty virtual seconds then takes as long as its requests do, and its verdicts do not
 * depend on how busy the machine is: a 200 ms retry is 200 ms apart on the server's clock, whatever else runs.
 *
 * What is counted, to know when nothing is left to happen:
 *  - requests the clients have in flight (track()), from the call until the body is read or the attempt failed;
 *  - requests the server has open (from its 'request' event until the response closes);
 *  - timers the server holds requests on (the scheduler below, given to the server as ServerOptions.scheduler).
 * Nothing is left to happen when the three are equal. Otherwise real I/O is under way, and its end moves one of
 * them; when none moves for WATCHDOG_MS of real time, something is waiting that this accounting does not see,
 * and the test fails saying so rather than hanging.
 */
import type { Server } from 'node:http';
import { vi } from 'vitest';
import { realScheduler, type Scheduler } from '../../src/util/scheduler.js';

const WATCHDOG_MS = 5_000;
// captured at import, before any test fakes them: the watchdog measures real time
const realTimeout = globalThis.setTimeout.bind(globalThis);
const clearRealTimeout = globalThis.clearTimeout.bind(globalThis);

/** one turn of the real event loop: pending microtasks run, and I/O that is ready is read */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class VirtualTime {
  private inFlight = 0;
  private open = 0;
  private held = 0;
  /** bumped whenever a count changes */
  private version = 0;
  private wake: (() => void) | undefined;
  private installed = false;

  /**
   * The server's scheduler: the real one (so on fake timers once installed), counting the timers it holds.
   * The server must not schedule anything else (no subscriptions, no background ticks), or those would be counted
   * as held requests.
   */
  readonly scheduler: Scheduler = {
    now: () => realScheduler.now(),
    after: (ms, fn) => {
      let pending = true;
      const done = () => {
        if (!pending) return;
        pending = false;
        this.held--;
        this.bump();
      };
      this.held++;
      this.bump();
      const timer = realScheduler.after(ms, () => {
        done();
        fn();
      });
      return {
        cancel: () => {
          done();
          timer.cancel();
        },
      };
    },
    sleep: (ms) => new Promise<void>((resolve) => this.scheduler.after(ms, resolve)),
  };

  /** counts the server's open requests */
  watch(server: Server): void {
    server.on('request', (_req, res) => {
      this.open++;
      this.bump();
      res.once('close', () => {
        this.open--;
        this.bump();
      });
    });
  }

  /** fakes timers, Date and performance.now from now on (the server keeps the sockets it has) */
  install(): void {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'], now: Date.now() });
    this.installed = true;
  }

  uninstall(): void {
    if (this.installed) vi.useRealTimers();
    this.installed = false;
  }

  /** counts `work` as a client request in flight until it settles */
  readonly track = <T>(work: Promise<T>): Promise<T> => {
    this.inFlight++;
    this.bump();
    return work.finally(() => {
      this.inFlight--;
      this.bump();
    });
  };

  /** lets `ms` of virtual time pass, timer by timer, each fired once nothing is left to happen before it */
  run(ms: number): Promise<void> {
    return this.until(new Promise<void>((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * Lets virtual time pass, as run() does, until `work` settles, and returns what it came to: for clients told to
   * stop, whose libraries may still have a backoff to sit out before they look at the signal.
   */
  async until<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    const watched = work.finally(() => (settled = true));
    watched.catch(() => undefined);
    while (!settled) {
      await this.quiet();
      if (settled) break;
      vi.advanceTimersToNextTimer();
    }
    await this.quiet();
    return watched;
  }

  /** resolves once nothing is left to happen at this instant but timers */
  async quiet(): Promise<void> {
    for (;;) {
      const seen = this.version;
      await turn();
      await turn();
      if (this.version !== seen) continue;
      if (this.inFlight === this.open && this.open === this.held) return;
      await this.changed(seen);
    }
  }

  private changed(seen: number): Promise<void> {
    if (this.version !== seen) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const watchdog = realTimeout(() => {
        this.wake = undefined;
        reject(new Error(`virtual time is stuck: nothing moved for ${WATCHDOG_MS} ms with ${this.inFlight} client requests in flight, ${this.open} open on the server, ${this.held} held on its timers`));
      }, WATCHDOG_MS);
      this.wake = () => {
        clearRealTimeout(watchdog);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private bump(): void {
    this.version++;
    this.wake?.();
  }
}
