import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native addons and worker threads do not mix; each file gets its own process.
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
