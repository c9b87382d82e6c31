import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests whose clients wait on real timers (reference clients backing off with cockatiel and opossum, clients
 * giving up after seconds, Retry-After honoured in real time) and whose verdicts depend on those waits landing
 * when they should. They run last, one file at a time and alone: sharing both cores with other test files, the
 * payment-outage drill once misjudged a jittered exponential client as linear in six runs.
 */
const REAL_TIME = [
  'test/report/payment-outage-drill.test.ts',
  'test/report/wms-rate-limits-drill.test.ts',
  'test/report/timeout-clients.test.ts',
  'test/report/deliveries-and-alerting.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // a test file on every core: everything but the real-time files, which wait for their own group
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'parallel', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...REAL_TIME], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'real-time', include: REAL_TIME, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
