// Health checks end to end, as users run them: an app under `node --import @org/otel-monitor` with
// built-in checks against a real PostgreSQL, a real Redis and the Collector's own HTTP health URL,
// plus checks registered in code; its /healthz + /readyz endpoint; the gauges through our
// Collector into a real Prometheus; and `otel-monitor health` reading them. Needs `npm run build`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startApp, type RunningApp } from '../helpers/app.js';
import { startPostgres, startRedis, type RunningPostgres, type RunningRedis } from '../helpers/databases.js';
import { freePort, stopAll, waitFor } from '../helpers/process.js';
import { startCollector, startPrometheus, type RunningCollector, type RunningPrometheus } from '../helpers/stack.js';
import { compileCli, runCli } from './task-monitoring-helpers.js';

const SERVICE = 'health-app';
const HTTP_TOKEN = 'http-S3cret-token';

let pg: RunningPostgres;
let redis: RunningRedis;
let collector: RunningCollector;
let prometheus: RunningPrometheus;
let app: RunningApp;
let healthUrl: string;
let bin: string;

interface Check {
  name: string;
  critical: boolean;
  status: string;
  consecutiveFailures: number;
  lastError: string | null;
  durationMs: number | null;
  details?: Record<string, unknown>;
}
interface Answer {
  code: number;
  body: { status: string; checks: Check[] };
  text: string;
}

async function probe(path: string): Promise<Answer> {
  const res = await fetch(`${healthUrl}${path}`);
  const text = await res.text();
  return { code: res.status, body: JSON.parse(text), text };
}
const check = (a: Answer, name: string) => a.body.checks.find((c) => c.name === name)!;

async function promValue(promql: string): Promise<number | undefined> {
  const r = await prometheus.query(promql);
  return r.length ? Number(r[0]!.value[1]) : undefined;
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  [pg, redis, bin] = await Promise.all([startPostgres(), startRedis(), compileCli()]);
  collector = await startCollector();
  prometheus = await startPrometheus({ collector });
  const port = await freePort();
  healthUrl = `http://127.0.0.1:${port}`;
  app = await startApp({
    script: 'test/fixtures/health-app.mjs',
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttp,
      OTEL_SERVICE_NAME: SERVICE,
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_MONITOR_HEALTH_CHECKS: `postgres=${pg.url},redis=${redis.url},http:collector=${collector.healthUrl}?token=${HTTP_TOKEN}`,
      OTEL_MONITOR_HEALTH_PORT: String(port),
      OTEL_MONITOR_HEALTH_INTERVAL: '500',
      OTEL_MONITOR_HEALTH_TIMEOUT: '2000',
      OTEL_MONITOR_HEALTH_DEGRADED_AFTER: '2',
      OTEL_MONITOR_HEALTH_UNHEALTHY_AFTER: '4',
    },
  });
}, 240_000);

afterAll(async () => {
  await stopAll();
});

describe('health checks', () => {
  it('rates the real PostgreSQL, Redis and HTTP dependency healthy; /readyz 200, /healthz 200', async () => {
    const ready = await waitFor(
      async () => {
        const a = await probe('/readyz');
        return a.code === 200 && ['postgres', 'redis', 'collector', 'toggle'].every((n) => check(a, n)?.status === 'healthy') ? a : undefined;
      },
      { timeoutMs: 30_000, what: 'all critical checks healthy' },
    );
    expect(ready.body.status).toBe('healthy');
    expect(check(ready, 'postgres')).toMatchObject({ critical: true, consecutiveFailures: 0, details: { driver: 'pg' } });
    expect(check(ready, 'redis')).toMatchObject({ critical: true, details: { driver: 'ioredis' } });
    expect(check(ready, 'collector')).toMatchObject({ critical: true, details: { status: 200 } });
    const live = await probe('/healthz');
    expect(live.code).toBe(200);
    expect(live.body.status).toBe('ok');
    expect((await fetch(`${healthUrl}/nope`)).status).toBe(404);
    expect((await fetch(`${healthUrl}/readyz`, { method: 'POST' })).status).toBe(405);
  });

  it('cuts a check that never settles at its timeout, keeps counting it, and the app stays responsive', async () => {
    const a = await waitFor(
      async () => {
        const r = await probe('/healthz');
        return check(r, 'hangs').consecutiveFailures >= 4 ? r : undefined;
      },
      { timeoutMs: 15_000, what: 'the hanging check failing 4 times' },
    );
    const hangs = check(a, 'hangs');
    // No thresholds of its own: the OTEL_MONITOR_HEALTH_*_AFTER defaults (2 and 4) apply.
    expect(hangs.status).toBe('unhealthy');
    expect(hangs.critical).toBe(false);
    // The first run is cut at 300 ms; the later ones find it still unsettled and never start a second.
    expect(hangs.lastError).toMatch(/timed out after 300 ms|previous run has not finished after 300 ms/);
    // Non-critical: readiness is unaffected.
    expect((await probe('/readyz')).code).toBe(200);
    const histogram = await waitFor(
      () => promValue(`otel_monitor_health_check_duration_seconds_count{job="${SERVICE}", otel_monitor_health_check="hangs"}`),
      { timeoutMs: 60_000, intervalMs: 1000, what: 'the hanging check duration in Prometheus' },
    );
    expect(histogram).toBeGreaterThan(0);
    const sum = await promValue(`otel_monitor_health_check_duration_seconds_sum{job="${SERVICE}", otel_monitor_health_check="hangs"}`);
    // About 0.3 s for the first, cut run (0 for the ones that found it still running); never the hang.
    expect(sum).toBeGreaterThan(0.25);
    expect(sum).toBeLessThan(5);
  });

  it('Redis stopped: degraded at 2 consecutive failures, unhealthy at 4 (/readyz 503); started again: recovers', async () => {
    await redis.stop();
    const seen: Array<{ failures: number; status: string; code: number }> = [];
    const down = await waitFor(
      async () => {
        const a = await probe('/readyz');
        const r = check(a, 'redis');
        seen.push({ failures: r.consecutiveFailures, status: r.status, code: a.code });
        return r.status === 'unhealthy' ? a : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'redis unhealthy' },
    );
    for (const s of seen) {
      const expected = s.failures >= 4 ? 'unhealthy' : s.failures >= 2 ? 'degraded' : 'healthy';
      expect(s.status, JSON.stringify(s)).toBe(expected);
      // Degraded is still ready; only an unhealthy critical check fails readiness.
      expect(s.code, JSON.stringify(s)).toBe(expected === 'unhealthy' ? 503 : 200);
    }
    expect(seen.some((s) => s.status === 'degraded')).toBe(true);
    expect(down.code).toBe(503);
    expect(down.body.status).toBe('unhealthy');
    expect(check(down, 'redis').lastError).toBeTruthy();
    expect(down.text).not.toContain(redis.password);

    // The same verdict in the real Prometheus, and from the CLI (exit 1: a critical check is unhealthy).
    await waitFor(async () => (await promValue(`otel_monitor_health_status{job="${SERVICE}", otel_monitor_health_check="redis"}`)) === 0, {
      timeoutMs: 60_000,
      intervalMs: 1000,
      what: 'redis status 0 in Prometheus',
    });
    expect(await promValue(`otel_monitor_health_overall_status{job="${SERVICE}"}`)).toBe(0);
    const cli = await runCli(bin, ['health', '--service', SERVICE, '--json', '--prometheus-url', prometheus.url]);
    expect(cli.code, cli.stderr).toBe(1);
    const doc = JSON.parse(cli.stdout);
    expect(doc.status).toBe('ALERT');
    expect(doc.checks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ service: SERVICE, check: 'redis', critical: true, status: 'unhealthy', value: 0 }),
        expect.objectContaining({ service: SERVICE, check: 'postgres', critical: true, status: 'healthy', value: 1 }),
        expect.objectContaining({ service: SERVICE, check: 'hangs', critical: false, status: 'unhealthy' }),
      ]),
    );
    const table = await runCli(bin, ['health', '--service', SERVICE, '--prometheus-url', prometheus.url]);
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/redis\s+yes\s+unhealthy/);

    await redis.start();
    const up = await waitFor(
      async () => {
        const a = await probe('/readyz');
        return check(a, 'redis').status === 'healthy' ? a : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'redis healthy again' },
    );
    expect(up.code).toBe(200);
    expect(check(up, 'redis').consecutiveFailures).toBe(0);
    await waitFor(async () => (await promValue(`otel_monitor_health_overall_status{job="${SERVICE}"}`)) === 1, {
      timeoutMs: 60_000,
      intervalMs: 1000,
      what: 'overall status 1 in Prometheus',
    });
    const ok = await runCli(bin, ['health', '--service', SERVICE, '--prometheus-url', prometheus.url]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/postgres\s+yes\s+healthy/);
    const none = await runCli(bin, ['health', '--service', 'no-such-service', '--prometheus-url', prometheus.url]);
    expect(none.code).toBe(3);
  }, 180_000);

  it('a check that throws: its message is redacted; critical, so /readyz fails until it recovers', async () => {
    app.child.send('fail');
    const down = await waitFor(
      async () => {
        const a = await probe('/readyz');
        return check(a, 'toggle').status === 'unhealthy' ? a : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: 'toggle unhealthy' },
    );
    expect(down.code).toBe(503);
    const err = check(down, 'toggle').lastError!;
    expect(err).toContain('toggle failed on purpose');
    expect(err).toContain('[REDACTED]');
    expect(down.text).not.toContain('toggle-S3cret');
    expect(down.text).not.toContain('tok-S3cret');
    app.child.send('recover');
    await waitFor(async () => (await probe('/readyz')).code === 200, { timeoutMs: 15_000, intervalMs: 100, what: 'ready again' });
  });

  it('probes are not app traffic: no spans for the endpoint or the checks\' queries', async () => {
    // One real request to the app, so the trace pipeline is shown to work for this service.
    expect((await app.get('/')).status).toBe(200);
    const server = `traces_span_metrics_calls_total{service_name="${SERVICE}", span_kind="SPAN_KIND_SERVER"}`;
    await waitFor(async () => ((await promValue(`sum(${server})`)) ?? 0) >= 1, { timeoutMs: 60_000, intervalMs: 1000, what: 'the app request span' });
    // Dozens of /readyz requests and hundreds of PostgreSQL / Redis / HTTP checks happened before it.
    expect(await promValue(`sum(${server})`)).toBe(1);
    expect(await prometheus.query(`traces_span_metrics_calls_total{service_name="${SERVICE}", span_kind!="SPAN_KIND_SERVER"}`)).toEqual([]);
  }, 90_000);

  it('never prints a credential', () => {
    const out = app.output();
    for (const secret of [pg.password, redis.password, HTTP_TOKEN, 'toggle-S3cret']) expect(out).not.toContain(secret);
  });
});
