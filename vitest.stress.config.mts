import { defineConfig } from 'vitest/config';

// The heavy tests (npm run test:stress): loop-mounted filesystems, crash loops, many processes, fuzzing.
// Linux as root only, like test/linux.
export default defineConfig({
  test: {
    include: ['test/stress/**/*.test.ts'],
    pool: 'forks',
    // One file at a time: they mount filesystems and load both cores.
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
