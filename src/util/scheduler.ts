/**
 * Timers as the engine sees them: injected latency, held connections and dripped bodies all wait through a
 * Scheduler, so tests can replace real time with ManualScheduler and make time pass by calling advance().
 */
import type { ManualClock } from './clock.js';

export interface Timer {
  cancel(): void;
}

export interface Scheduler {
  /** a monotonic time in ms (sub-millisecond for real time): what after() delays are measured against */
  now(): number;
  /** runs `fn` after `ms` milliseconds */
  after(ms: number, fn: () => void): Timer;
  sleep(ms: number): Promise<void>;
}

/** the longest delay setTimeout keeps (a longer one fires at once, with a warning) */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export const realScheduler: Scheduler = {
  now: () => performance.now(),
  after(ms, fn) {
    // node truncates fractional delays; round up so a delay never ends early. A retry policy or a chaos delay may
    // ask for weeks: such a wait is a chain of the longest timeouts
    let handle: ReturnType<typeof setTimeout>;
    const wait = (left: number): void => {
      handle = setTimeout(() => (left > MAX_TIMEOUT_MS ? wait(left - MAX_TIMEOUT_MS) : fn()), Math.min(Math.ceil(left), MAX_TIMEOUT_MS));
    };
    wait(ms);
    return { cancel: () => clearTimeout(handle) };
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

interface Pending {
  due: number;
  seq: number;
  fn: () => void;
}

/**
 * Time that moves only when a test says so. Timers fire in due order during advance(), which also moves the
 * given ManualClock, so "now" and timers agree. whenPending() lets a test wait for the event "the server has
 * started waiting" instead of sleeping.
 */
export class ManualScheduler implements Scheduler {
  private timers: Pending[] = [];
  private seq = 0;
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(readonly clock: ManualClock) {}

  now(): number {
    return this.clock.now();
  }

  after(ms: number, fn: () => void): Timer {
    const timer: Pending = { due: this.clock.now() + ms, seq: this.seq++, fn };
    this.timers.push(timer);
    this.timers.sort((a, b) => a.due - b.due || a.seq - b.seq);
    this.waiters = this.waiters.filter((w) => (this.timers.length >= w.count ? (w.resolve(), false) : true));
    return { cancel: () => (this.timers = this.timers.filter((t) => t !== timer)) };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.after(ms, resolve));
  }

  /** the delays (from now) of the timers waiting */
  get pending(): number[] {
    return this.timers.map((t) => t.due - this.clock.now());
  }

  /** resolves once at least `count` timers are waiting */
  whenPending(count = 1): Promise<void> {
    if (this.timers.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** moves time forward by `ms`, firing every timer that falls due, in order */
  advance(ms: number): void {
    const end = this.clock.now() + ms;
    for (let next = this.timers[0]; next && next.due <= end; next = this.timers[0]) {
      this.timers.shift();
      this.clock.set(next.due);
      next.fn();
    }
    this.clock.set(end);
  }
}
