/**
 * Reference clients for the report card: integration code written the ways people write it, with the libraries
 * people use (cockatiel for retries and breakers, opossum for breakers) or the loops people hand-roll (immediate
 * retries, a constant or linear delay, Retry-After honoured or ignored, keys kept or minted per attempt). Each
 * charges orders on the payment gateway in a loop until stopped, one order at a time, as a worker would. The
 * report must tell them apart.
 *
 * The libraries schedule their own waits on the global timers, which a test may fake (virtual-time.ts): nothing
 * here captures a timer or the clock, and every wait (an attempt's timeout included) goes through setTimeout, so
 * real or fake, all of a drill runs on one time. Every client names itself with X-Understudy-Client, so the
 * server judges each separately.
 */
import { setMaxListeners } from 'node:events';
import { circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleAll, noJitterGenerator, retry, type IBackoffFactory } from 'cockatiel';
import CircuitBreaker from 'opossum';

export interface Driver {
  /** the server (with /w/{ws} when the drill runs in a workspace) */
  base: string;
  /** aborted when the drill is over: loops end and their waits are cut short */
  stop: AbortSignal;
  /** told of every request while it is in flight (virtual time must not move while one is under way) */
  track?: <T>(request: Promise<T>) => Promise<T>;
}

export interface Answer {
  status: number;
  /** what Retry-After asked for, in ms from now (seconds or an HTTP-date), or null */
  retryAfterMs: number | null;
}

/** an attempt that got no HTTP answer (a reset, a timeout, the drill stopping) */
export class NoAnswer extends Error {}
/** a non-2xx answer, for the libraries that retry on exceptions */
export class Refused extends Error {
  constructor(readonly answer: Answer) {
    super(`HTTP ${answer.status}`);
  }
}

const ATTEMPT_TIMEOUT_MS = 4_000;

/** One charge attempt for an order. `key` is the Idempotency-Key header (none when undefined). */
export async function charge(d: Driver, client: string, order: string, key: string | undefined): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-understudy-client': client };
  if (key !== undefined) headers['idempotency-key'] = key;
  const body = JSON.stringify({ amount: 2500, currency: 'usd', payment_method: 'pm_card_visa', description: `Order ${order}`, metadata: { order_id: order } });
  // the attempt's own timeout on setTimeout, not AbortSignal.timeout (whose timer no fake replaces)
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new DOMException('the attempt timed out', 'TimeoutError')), ATTEMPT_TIMEOUT_MS);
  const attempt = async (): Promise<Response> => {
    const res = await fetch(`${d.base}/payments/v1/charges`, { method: 'POST', headers, body, signal: AbortSignal.any([d.stop, timeout.signal]) });
    await res.arrayBuffer();
    return res;
  };
  let res: Response;
  try {
    res = await (d.track ? d.track(attempt()) : attempt());
  } catch (err) {
    throw new NoAnswer(String(err));
  } finally {
    clearTimeout(timer);
  }
  return { status: res.status, retryAfterMs: retryAfterMs(res.headers.get('retry-after')) };
}

export function retryAfterMs(value: string | null): number | null {
  if (value === null) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

export function ok(a: Answer): boolean {
  return a.status >= 200 && a.status < 300;
}

/** Resolves after `ms`, or at once when the drill stops. */
export function sleep(d: Driver, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (d.stop.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      d.stop.removeEventListener('abort', done);
      resolve();
    }
    d.stop.addEventListener('abort', done);
  });
}

/** how long to wait before retry `attempt` (1 = the first retry), or null to give the order up */
type WaitRule = (attempt: number, told: Answer | null) => number | null;

interface LoopOptions {
  maxAttempts: number;
  wait: WaitRule;
  /** a new Idempotency-Key for every attempt (the mistake) instead of one per order */
  keyPerAttempt?: boolean;
  /** workers running the loop in parallel under the same client name */
  parallel?: number;
  /** pause between orders */
  paceMs?: number;
}

/** A hand-rolled worker: charge each order, retrying by `wait`, then the next order. */
function handRolled(client: string, options: LoopOptions) {
  return workers(options.parallel ?? 1, async (d, w) => {
    for (let n = 1; !d.stop.aborted; n++) {
      const order = `${client}-${w}-${n}`;
      for (let attempt = 1; attempt <= options.maxAttempts && !d.stop.aborted; attempt++) {
        let told: Answer | null = null;
        try {
          told = await charge(d, client, order, options.keyPerAttempt ? `${order}-try-${attempt}` : `${order}-key`);
          if (ok(told)) break;
        } catch {
          told = null;
        }
        const wait = options.wait(attempt, told);
        if (wait === null) break;
        await sleep(d, wait);
      }
      await sleep(d, options.paceMs ?? 100);
    }
  });
}

/**
 * The same worker loop `count` times in parallel under one client name, as an org runs several Queueables: the
 * report sees more logical requests in a short drill, which is what its strategy classification pools over.
 */
function workers(count: number, loop: (d: Driver, worker: number) => Promise<void>) {
  return (d: Driver) => Promise.all(Array.from({ length: count }, (_, w) => loop(d, w))).then(() => undefined);
}

/** Retries through a cockatiel retry policy with the given backoff (no breaker), in `parallel` workers. */
function cockatielRetry(client: string, backoff: IBackoffFactory<unknown>, maxAttempts: number, parallel = 1) {
  const policy = retry(handleAll, { maxAttempts, backoff });
  return workers(parallel, async (d, w) => {
    for (let n = 1; !d.stop.aborted; n++) {
      const order = `${client}-${w}-${n}`;
      try {
        await policy.execute(async () => {
          if (d.stop.aborted) return;
          const a = await charge(d, client, order, `${order}-key`);
          if (!ok(a)) throw new Refused(a);
        });
      } catch {
        // given up: the order goes to a dead-letter queue
      }
      await sleep(d, 100);
    }
  });
}

export const CLIENTS: Record<string, (d: Driver) => Promise<void>> = {
  /** retries at once, five times, ignoring Retry-After */
  'naive-immediate': handRolled('naive-immediate', { maxAttempts: 5, wait: () => 0 }),
  /** never retries: a failure is a failure */
  'no-retry': handRolled('no-retry', { maxAttempts: 1, wait: () => null }),
  /** a fixed 250 ms between attempts */
  'constant-delay': handRolled('constant-delay', { maxAttempts: 5, wait: () => 250, parallel: 3 }),
  /** 150 ms more each time */
  'linear-delay': handRolled('linear-delay', { maxAttempts: 6, wait: (k) => 150 * k, parallel: 3 }),
  /** cockatiel's default: exponential backoff with decorrelated jitter */
  'cockatiel-exponential': cockatielRetry('cockatiel-exponential', new ExponentialBackoff({ initialDelay: 200, maxDelay: 5_000 }), 4, 3),
  /** exponential without jitter */
  'exponential-no-jitter': cockatielRetry('exponential-no-jitter', new ExponentialBackoff({ generator: noJitterGenerator, initialDelay: 150, maxDelay: 5_000 }), 4, 3),
  /** waits as long as Retry-After says (else 300 ms); gives an order up when asked to wait more than 5 s, and pauses until then */
  'honours-retry-after': async (d) => {
    for (let n = 1; !d.stop.aborted; n++) {
      const order = `honours-retry-after-${n}`;
      for (let attempt = 1; attempt <= 6 && !d.stop.aborted; attempt++) {
        let told: Answer | null = null;
        try {
          told = await charge(d, 'honours-retry-after', order, `${order}-key`);
          if (ok(told)) break;
        } catch {
          told = null;
        }
        const wait = told?.retryAfterMs ?? 300;
        await sleep(d, wait + 20);
        if (wait > 5_000) break;
      }
      await sleep(d, 100);
    }
  },
  /** the same loop, blind to Retry-After: 200 ms whatever the server said */
  'ignores-retry-after': handRolled('ignores-retry-after', { maxAttempts: 6, wait: () => 200 }),
  /** retries with a fresh Idempotency-Key each time */
  'mints-keys': handRolled('mints-keys', { maxAttempts: 6, wait: () => 200, keyPerAttempt: true }),
  /** long exponential backoff, no breaker: goes quiet in an outage by waiting, then retries the same order */
  'patient-backoff': cockatielRetry('patient-backoff', new ExponentialBackoff({ initialDelay: 1_000, maxDelay: 30_000 }), 10),
  /**
   * an opossum breaker around each charge, and a page to on-call when it opens. Its error rate is counted over
   * the last second only, so it opens after about three failures (over opossum's default 10 s, the successes
   * before the outage would keep it closed for a dozen failures or more); it probes every 3 s.
   */
  'opossum-breaker': async (d) => {
    const breaker = new CircuitBreaker(
      async (order: string) => {
        const a = await charge(d, 'opossum-breaker', order, `${order}-key`);
        if (!ok(a)) throw new Refused(a);
        return a;
      },
      { timeout: false, errorThresholdPercentage: 50, volumeThreshold: 3, resetTimeout: 3_000, rollingCountTimeout: 1_000, rollingCountBuckets: 10 },
    );
    breaker.on('open', () => {
      const page = fetch(`${d.base}/alerts/pagerduty/v2/enqueue`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-understudy-client': 'opossum-breaker' },
        body: JSON.stringify({ routing_key: 'R0UT1NGK3YR0UT1NGK3YR0UT1NGK3Y00', event_action: 'trigger', dedup_key: 'payments-breaker', payload: { summary: 'payment gateway breaker open', source: 'order-worker', severity: 'critical' } }),
      }).then((r) => r.arrayBuffer(), () => undefined);
      void (d.track ? d.track(page) : page);
    });
    for (let n = 1; !d.stop.aborted; n++) {
      try {
        await breaker.fire(`opossum-breaker-${n}`);
      } catch {
        // open breaker or a failure: the order is parked for later, the worker moves on
      }
      await sleep(d, 100);
    }
    breaker.shutdown();
  },
  /** cockatiel's breaker: opens after 3 consecutive failures, half-opens after 3 s */
  'cockatiel-breaker': (() => {
    const policy = circuitBreaker(handleAll, { halfOpenAfter: 3_000, breaker: new ConsecutiveBreaker(3) });
    return async (d: Driver) => {
      for (let n = 1; !d.stop.aborted; n++) {
        const order = `cockatiel-breaker-${n}`;
        try {
          await policy.execute(async () => {
            const a = await charge(d, 'cockatiel-breaker', order, `${order}-key`);
            if (!ok(a)) throw new Refused(a);
          });
        } catch {
          // broken circuit or a failure: parked
        }
        await sleep(d, 100);
      }
    };
  })(),
};

/** Runs every named client until `stop` aborts; resolves when all have finished their last attempt. */
export function runClients(d: Driver, names: string[]): Promise<void> {
  // every worker's wait and request listens to the one stop signal: dozens at once, on purpose
  setMaxListeners(1000, d.stop);
  return Promise.all(names.map((name) => CLIENTS[name](d))).then(() => undefined);
}
