import { defineConfig } from 'vitest/config';

// Projects. Unit files are pure and run in parallel (one worker per core). Integration files
// spawn real processes and servers (Collector, Prometheus, PostgreSQL, apps) and run one file at a
// time, after the unit group, so the 2-core CI machine is not oversubscribed.
// The whole bench and the demo (a third project) run minutes each and prove nothing a change to
// one module needs: `npm test` leaves them out, and .ci/run runs them after the suite, so a fresh
// clone still proves both. `npm run test:unit` runs the unit project alone (docs/DEVELOPING.md).
const AFTER_SUITE = ['test/integration/bench-quick.test.ts', 'test/integration/demo.test.ts'];
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 600_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 0 }, maxWorkers: 2, fileParallelism: true },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: AFTER_SUITE,
          sequence: { groupOrder: 1 },
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: { name: 'after-suite', include: AFTER_SUITE, sequence: { groupOrder: 2 }, maxWorkers: 1, fileParallelism: false },
      },
    ],
  },
});
