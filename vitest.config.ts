import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // one test file per core (vitest's default leaves one core idle: on a 2-core machine the suite ran one file at
    // a time, 296 s; two at a time, 213 s). Tests wait on events and manual clocks, not on spare CPU.
    maxWorkers: Math.max(1, availableParallelism()),
  },
});
