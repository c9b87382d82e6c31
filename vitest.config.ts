import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // a test file on every core. The drills whose clients back off, give up and honour Retry-After on timers
    // (payment-outage, wms-rate-limits, timeout-clients) run them on virtual time (test/report/virtual-time.ts),
    // so sharing the cores cannot shift a retry and change a verdict, and they need no group of their own.
    maxWorkers: 2,
  },
});
