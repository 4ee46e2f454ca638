// The other half of the fuzzed-configuration property (test/unit/config-fuzz.test.ts checks the
// invariants in-process, thousands of times): a sample of the same random environments starts the
// real preload in a real process, which runs, serves and exits with the app's code. Endpoints point
// at a closed local port so that nothing leaves the machine; every other variable stays random.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { environment } from '../helpers/config-arbitraries.js';
import { ROOT, NODE24 } from '../helpers/app.js';
import { freePort, spawnTracked } from '../helpers/process.js';

describe('a fuzzed configuration starts', () => {
  it('8 random environments: the app runs, serves and exits 0, and the preload never fails to start', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const samples = fc.sample(environment, { numRuns: 8, seed: Date.now() % 100_000 });
    for (const fuzzed of samples) {
      const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
      // Env values cannot hold NUL bytes: the OS would refuse them before the app ever ran.
      for (const [k, v] of Object.entries(fuzzed)) if (!v.includes('\u0000')) env[k] = v;
      for (const k of Object.keys(env)) if (/ENDPOINT$/.test(k)) env[k] = dead;
      env.OTEL_EXPORTER_OTLP_ENDPOINT = dead;
      // Bounded so that one sample cannot hold the test (a random shutdown timeout may be 24 days).
      env.OTEL_MONITOR_SHUTDOWN_TIMEOUT = '2000';
      const t = spawnTracked(NODE24, ['--import', '@org/otel-monitor', 'test/fixtures/serve-once.cjs'], { cwd: ROOT, env });
      const code = await Promise.race([t.exited, new Promise((ok) => setTimeout(() => ok('still running'), 30_000))]);
      const out = t.output();
      const context = `${JSON.stringify(fuzzed).slice(0, 500)}\n${out.slice(0, 2000)}`;
      expect(code, context).toBe(0);
      expect(out, context).toContain('served 200');
      expect(out, context).not.toMatch(/failed to start|Uncaught|TypeError|RangeError/);
    }
  });
});
