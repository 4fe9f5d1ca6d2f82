import { defineConfig } from 'vitest/config';

// The kernel tests are per platform: test/linux needs Linux as root with CAP_LINUX_IMMUTABLE, and
// test/darwin needs macOS. The pure tests at the top of test/ run everywhere.
const platformTests = process.platform === 'darwin' ? 'test/darwin/**/*.test.ts' : `test/${process.platform}/**/*.test.ts`;

export default defineConfig({
  test: {
    include: ['test/*.test.ts', 'test/log/**/*.test.ts', 'test/checkpoint/**/*.test.ts', platformTests],
    // Native addons and worker threads do not mix; each file gets its own process.
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 300_000,
  },
});
