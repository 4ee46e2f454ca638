import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { NODE24, ROOT } from '../helpers/app.js';

describe('npm run demo', () => {
  it('runs two releases through the real Collector and Prometheus, reports both, and ends on the verdict', () => {
    const out = execFileSync(NODE24, ['--import', './examples/ts-paths.mjs', 'examples/demo.ts'], { cwd: ROOT, timeout: 400_000 }).toString();
    for (const release of ['demo-shop@1.0.0', 'demo-shop@1.1.0']) {
      const row = out.split('\n').find((l) => l.trim().startsWith(`${release} `));
      expect(row, release).toBeDefined();
      // requests, 5xx and span_metrics calls, as read back from Prometheus: all non-zero.
      const cells = row!.trim().split(/\s{2,}/);
      expect(cells, `columns: ${row}`).toHaveLength(6);
      expect(Number(cells[1]), `requests: ${row}`).toBeGreaterThan(0);
      expect(Number(cells[2]), `5xx: ${row}`).toBeGreaterThan(0);
      expect(Number(cells[5]), `span_metrics calls: ${row}`).toBeGreaterThan(0);
    }
    expect(out).toMatch(/\d+ log records reached the Loki endpoint/);
    // It ends on the answer: 1.1.0 was built to regress, and the verdict says so and how.
    const verdict = out.slice(out.indexOf('==> the verdict'));
    expect(verdict).toMatch(/Verdict: REGRESSED/);
    expect(verdict).toMatch(/^error ratio\s+service\s.*REGRESSED/m);
    expect(verdict).toMatch(/^latency p95\s+service\s.*REGRESSED/m);
    expect(verdict).toContain('exit status 1');
    expect(verdict).toContain('npx otel-monitor releases compare "$PREVIOUS_RELEASE" "$RELEASE"');
    expect(out).toContain('stopping everything the demo started');
  });
});
