import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// Projects, run as groups one after another (sequence.groupOrder); docs/DEVELOPING.md has the times.
// - unit: pure modules, files in parallel (one worker per core).
// - integration: real processes and servers (Collector, Prometheus, PostgreSQL, apps), three files
//   at a time. Most of their time is waiting (scrape and rule-evaluation intervals, metric export
//   intervals, process start, `for:` durations), not CPU, so three overlap well on 2 cores. Every
//   file starts its own servers on free 127.0.0.1 ports in its own temp dirs and stops them by pid;
//   what files share under .cache/ (the packed tarball, the compiled CLI) is written to a temp dir
//   per process and renamed, so two files making it at once cannot clash.
// - integration-serial: the files whose assertions bound wall time on this 2-core machine, one at a
//   time after the parallel group, with nothing beside them: exit.test.ts (exit within the shutdown
//   timeout + 1.5 s), preload-latency.test.ts (p95 request latency < 250 ms with a dead backend)
//   and doctor.test.ts (a 5 s leg timeout reported in < 8 s).
// - after-suite: the whole quick bench and the demo take minutes each and prove nothing a change to
//   one module needs: `npm test` leaves them out, and .ci/run runs them after the suite, so a fresh
//   clone still proves both. `npm run test:unit` runs the unit project alone.
const AFTER_SUITE = ['test/integration/bench-quick.test.ts', 'test/integration/demo.test.ts'];
const SERIAL = ['test/integration/exit.test.ts', 'test/integration/preload-latency.test.ts', 'test/integration/doctor.test.ts'];

/**
 * The longest integration files first (measured, docs/DEVELOPING.md), so the parallel group does not
 * end on a long file started last. vitest orders by the last run's durations when it has them
 * (node_modules/.vite); a fresh clone has none and would order by file size. The soak (about 3 min)
 * starts first and the others share the remaining workers; alert-rules (promtool, a core for 45 s
 * or more) starts once a first file is done, not while the soak measures the app's capacity.
 */
const LONGEST_FIRST = [
  'soak', 'jaeger-pipeline', 'scale-out', 'alert-rules', 'collector-pipeline', 'health', 'pg', 'preload', 'dashboards',
  'alert-delivery', 'releases-compare', 'task-monitoring-e2e', 'releases-history', 'bugsink', 'victoriametrics', 'channel-guard',
].map((name) => `/test/integration/${name}.test.ts`);

class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((suffix) => f.moduleId.endsWith(suffix));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    // Array sort is stable: files not in the list keep vitest's order among themselves.
    return (await super.sort(files)).sort(
      (a, b) => a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder || rank(a) - rank(b),
    );
  }
}

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 600_000,
    pool: 'forks',
    sequence: { sequencer: LongestFirstSequencer },
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
          exclude: [...AFTER_SUITE, ...SERIAL],
          sequence: { groupOrder: 1 },
          maxWorkers: 3,
          fileParallelism: true,
        },
      },
      {
        extends: true,
        test: { name: 'integration-serial', include: SERIAL, sequence: { groupOrder: 2 }, maxWorkers: 1, fileParallelism: false },
      },
      {
        extends: true,
        test: { name: 'after-suite', include: AFTER_SUITE, sequence: { groupOrder: 3 }, maxWorkers: 1, fileParallelism: false },
      },
    ],
  },
});
