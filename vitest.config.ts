import { defineConfig } from 'vitest/config';

// Integration tests spawn real processes and servers; give them room and run files one at a time
// so the 2-core CI machine is not oversubscribed.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
