import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One workflow bundle for every test worker (test/support/global-setup.ts).
    globalSetup: ['test/support/global-setup.ts'],
    // End-to-end files each start a Temporal dev server and worker processes: on a
    // 2-core machine they run one after another.
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
