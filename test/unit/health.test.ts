import { describe, expect, it } from 'vitest';
import { metrics } from '@opentelemetry/api';
import { parseHealthChecks, readConfig } from '../../src/config.js';
import { registerHealthCheck } from '../../src/api/index.js';
import { HealthMonitor } from '../../src/health/monitor.js';
import { Redactor } from '../../src/processors/redaction.js';
import { DEFAULT_REDACT_KEYS } from '../../src/config.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('OTEL_MONITOR_HEALTH_CHECKS', () => {
  it('parses kinds, names and URLs that contain commas, and never echoes a URL in a warning', () => {
    const warnings: string[] = [];
    const checks = parseHealthChecks(
      'postgres=postgres://u:pw1@h1,h2/db?sslmode=require, redis=redis://:pw2@r:6379,http:payments=https://p.example/health?token=t,ftp=ftp://x:pw3@y,http:payments=http://z',
      warnings,
    );
    expect(checks).toEqual([
      { kind: 'postgres', name: 'postgres', url: 'postgres://u:pw1@h1,h2/db?sslmode=require' },
      { kind: 'redis', name: 'redis', url: 'redis://:pw2@r:6379' },
      { kind: 'http', name: 'payments', url: 'https://p.example/health?token=t' },
    ]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('(ftp, a second "payments")');
    expect(warnings.join('\n')).not.toMatch(/pw3|ftp:\/\/|http:\/\/z/);
  });

  it('reads the endpoint and thresholds with safe fallbacks', () => {
    const { config, warnings } = readConfig({ OTEL_MONITOR_HEALTH_PORT: '9464', OTEL_MONITOR_HEALTH_UNHEALTHY_AFTER: 'x' });
    expect(config.health).toMatchObject({ port: 9464, host: '127.0.0.1', degradedAfter: 1, unhealthyAfter: 3, intervalMs: 30_000 });
    expect(warnings).toHaveLength(1);
    expect(readConfig({}).config.health.port).toBeUndefined();
  });
});

describe('HealthMonitor', () => {
  const monitor = () =>
    new HealthMonitor({ meter: metrics.getMeter('test'), redactor: new Redactor(DEFAULT_REDACT_KEYS), isolate: (fn) => fn() });

  it('counts consecutive failures against the thresholds and recovers on one success', async () => {
    const m = monitor();
    let fail = true;
    m.register('dep', () => { if (fail) throw new Error('down: redis://:pw@h'); }, { intervalMs: 20, degradedAfter: 2, unhealthyAfter: 3 });
    const seen = new Set<string>();
    for (let i = 0; i < 100 && m.snapshot()[0]!.status !== 'unhealthy'; i++) {
      const s = m.snapshot()[0]!;
      if (s.status !== 'pending') {
        seen.add(s.status);
        expect(s.status).toBe(s.consecutiveFailures >= 3 ? 'unhealthy' : s.consecutiveFailures >= 2 ? 'degraded' : 'healthy');
      }
      await wait(5);
    }
    expect(m.readiness()).toBe('unhealthy');
    expect(seen).toContain('degraded');
    expect(m.snapshot()[0]!.lastError).toBe('Error: down: redis://:[REDACTED]@h');
    fail = false;
    for (let i = 0; i < 100 && m.snapshot()[0]!.status !== 'healthy'; i++) await wait(5);
    expect(m.snapshot()[0]).toMatchObject({ status: 'healthy', consecutiveFailures: 0 });
    m.stop();
  });

  it('cuts a hanging check at its timeout and aborts its signal', async () => {
    const m = monitor();
    let aborted = false;
    m.register('hangs', (signal) => new Promise(() => signal.addEventListener('abort', () => (aborted = true))), { timeoutMs: 50, intervalMs: 10_000 });
    for (let i = 0; i < 100 && m.snapshot()[0]!.status === 'pending'; i++) await wait(5);
    const s = m.snapshot()[0]!;
    expect(s.lastError).toBe('Error: timed out after 50 ms');
    expect(s.durationMs).toBeGreaterThanOrEqual(45);
    expect(aborted).toBe(true);
    m.stop();
  });

  it('non-critical checks do not decide readiness', async () => {
    const m = monitor();
    m.register('optional', () => Promise.reject(new Error('x')), { critical: false, unhealthyAfter: 1 });
    m.register('core', () => 'ok');
    for (let i = 0; i < 100 && m.readiness() === 'pending'; i++) await wait(5);
    expect(m.readiness()).toBe('healthy');
    m.stop();
  });
});

it('registerHealthCheck is a no-op without the SDK', () => {
  let ran = false;
  const remove = registerHealthCheck('x', () => {
    ran = true;
  });
  expect(typeof remove).toBe('function');
  remove();
  expect(ran).toBe(false);
});
