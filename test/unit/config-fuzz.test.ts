// readConfig under thousands of random environments (fast-check): every variable it reads, with
// empty, blank, huge, numeric-edge, unicode, URL and injection values. It never throws; a bad value
// costs at most one warning, which names its variable, stays on one line, is bounded in size and
// never echoes a secret; and the config it returns is one the SDK can start with (checked here by
// the invariants startSdk and Node's timers rely on, and for real in test/integration/config-start.test.ts).
import { describe, expect, it } from 'vitest';
import { validateHeaderName, validateHeaderValue } from 'node:http';
import fc from 'fast-check';
import { readConfig, type Config, type SignalConfig } from '../../src/config.js';
import { environment, SIGNALS, VARIABLES } from '../helpers/config-arbitraries.js';

const TIMER_MAX = 2 ** 31 - 1; // Node clamps a longer timer to 1 ms
const SECRETS = ['OTEL_EXPORTER_OTLP_HEADERS', ...SIGNALS.map((s) => `OTEL_EXPORTER_OTLP_${s}_HEADERS`), 'SENTRY_DSN', 'OTEL_MONITOR_HEALTH_CHECKS'];

function expectStartable(c: Config): void {
  const signals: SignalConfig[] = [c.traces, c.metrics, c.logs];
  for (const s of signals) {
    expect(['otlp', 'console', 'none']).toContain(s.exporter);
    expect(['http/protobuf', 'http/json']).toContain(s.protocol);
    expect(['gzip', 'none']).toContain(s.compression);
    expect(['http:', 'https:']).toContain(new URL(s.endpoint).protocol);
    expect(Number.isInteger(s.timeoutMs) && s.timeoutMs >= 1 && s.timeoutMs <= TIMER_MAX).toBe(true);
    for (const [k, v] of Object.entries(s.headers)) {
      // Node's http.request would throw on these at every export.
      expect(() => validateHeaderName(k)).not.toThrow();
      expect(() => validateHeaderValue(k, v)).not.toThrow();
    }
  }
  const timers = [c.metrics.intervalMs, c.shutdownTimeoutMs, c.batch.scheduledDelayMs, c.batch.exportTimeoutMs, c.logBatch.scheduledDelayMs, c.logBatch.exportTimeoutMs];
  for (const ms of timers) expect(Number.isInteger(ms) && ms >= 0 && ms <= TIMER_MAX).toBe(true);
  for (const b of [c.batch, c.logBatch]) {
    expect(b.maxQueueSize).toBeGreaterThanOrEqual(1);
    expect(b.maxExportBatchSize).toBeGreaterThanOrEqual(1);
    expect(b.maxExportBatchSize).toBeLessThanOrEqual(b.maxQueueSize);
  }
  expect(c.sampler.ratio >= 0 && c.sampler.ratio <= 1).toBe(true);
  expect(['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all']).toContain(c.logLevel);
  if (c.sentry) expect(new URL(c.sentry.dsn).username).not.toBe('');
}

function expectWellSaid(env: Record<string, string>, warnings: string[]): void {
  const named = warnings.map((w) => /^([A-Za-z0-9_]+)[= ]/.exec(w)?.[1]);
  for (const [i, name] of named.entries()) {
    expect(VARIABLES, `warning names no variable: ${warnings[i]!.slice(0, 200)}`).toContain(name);
    // One line, bounded: a value can neither forge log lines nor flood stderr.
    expect(warnings[i]).not.toMatch(/[\n\r]/);
    expect(warnings[i]!.length).toBeLessThan(1000);
  }
  const counts = new Map<string, number>();
  for (const n of named) counts.set(n!, (counts.get(n!) ?? 0) + 1);
  for (const [n, count] of counts) expect(count, `${n} warned ${count} times: ${warnings.join(' | ').slice(0, 500)}`).toBe(1);
  // A warning about a header or DSN variable names it, never quotes its value.
  for (const name of SECRETS) {
    const raw = env[name]?.trim();
    if (raw && raw.length >= 6) for (const w of warnings.filter((x) => x.startsWith(name))) expect(w).not.toContain(raw);
  }
}

describe('readConfig, fuzzed', () => {
  it('never throws, warns at most once per bad variable and by name, and always yields a startable config', () => {
    fc.assert(
      fc.property(environment, (env) => {
        const { config, warnings } = readConfig(env);
        expectWellSaid(env, warnings);
        expectStartable(config);
      }),
      { numRuns: 3000 },
    );
  });

  it('the empty environment: the defaults, no warning', () => {
    const { config, warnings } = readConfig({});
    expect(warnings).toEqual([]);
    expectStartable(config);
  });

  it(`reads every variable the test knows of (${VARIABLES.length})`, () => {
    expect(VARIABLES).toEqual(expect.arrayContaining(['OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'SENTRY_DSN', 'OTEL_MONITOR_SHUTDOWN_TIMEOUT', 'GITHUB_SHA']));
  });
});
