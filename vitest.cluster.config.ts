import { defineConfig } from 'vitest/config';

/**
 * The cluster tier (`npm run test:cluster`): test/cluster/ against the real Temporal server on Postgres, two worker
 * and two API processes (test/cluster/global-setup.ts). One file at a time: the faults are cluster-wide.
 */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    globalSetup: ['test/cluster/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 600_000,
    teardownTimeout: 120_000,
  },
});
