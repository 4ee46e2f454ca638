import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { NODE24, ROOT } from '../helpers/app.js';

describe('npm run demo', () => {
  it('runs two releases end to end and reports what arrived for each', () => {
    const out = execFileSync(NODE24, ['examples/demo.js'], { cwd: ROOT, timeout: 120_000 }).toString();
    for (const release of ['demo-shop@1.0.0', 'demo-shop@1.1.0']) {
      const row = out.split('\n').find((l) => l.includes(`'${release}'`));
      expect(row, release).toBeDefined();
      // spans, server spans, 5xx, log records, metric names: all non-zero.
      const counts = row!.split('│').slice(3, 8).map((c) => Number(c.trim()));
      expect(counts.every((n) => n > 0), row).toBe(true);
      expect(out).toMatch(new RegExp(`${release.replace(/[.@]/g, '\\$&')} GET /users/:id 200\\s+\\d+`));
    }
  });
});
