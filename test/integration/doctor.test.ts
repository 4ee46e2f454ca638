// `otel-monitor doctor` against the real Collector, Prometheus and Jaeger, the Sentry envelope
// receiver and the Loki stand-in: every leg passes, then each is broken in turn and must fail with its exact line
// and exit 1, quickly where the endpoint is dead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, startPrometheus, type RunningCollector, type RunningPrometheus } from '../helpers/stack.js';
import { startSentryReceiver, type SentryReceiver } from '../helpers/sentry-receiver.js';
import { startLokiStandIn, type LokiStandIn } from '../helpers/loki-standin.js';
import { startJaeger, type RunningJaeger } from '../helpers/jaeger.js';
import { freePort, stopAll } from '../helpers/process.js';
import { compileCli, runCli } from './task-monitoring-helpers.js';

let bin: string;
let collector: RunningCollector;
let prometheus: RunningPrometheus;
let sentry: SentryReceiver;
let loki: LokiStandIn;
let jaeger: RunningJaeger;

beforeAll(async () => {
  [bin, sentry, loki, jaeger] = await Promise.all([compileCli(), startSentryReceiver(), startLokiStandIn(), startJaeger()]);
  collector = await startCollector({
    lokiEndpoint: loki.url,
    env: { OTELCOL_TRACES_EXPORTERS: '[otlp_http/jaeger]', JAEGER_ENDPOINT: jaeger.otlpHttp, OTELCOL_LOGS_EXPORTERS: '[otlp_http/loki]' },
  });
  prometheus = await startPrometheus({ collector });
}, 120_000);
afterAll(async () => {
  await stopAll();
  await sentry?.close();
  await loki?.close();
});

const appEnv = (c: RunningCollector, extra: Record<string, string> = {}) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: c.otlpHttp,
  OTEL_SERVICE_NAME: 'doctor-svc',
  OTEL_MONITOR_RELEASE: 'doc@1.2.3',
  OTEL_MONITOR_ENVIRONMENT: 'ci',
  ...extra,
});
const legLine = (stdout: string, leg: string) => stdout.split('\n').find((l) => new RegExp(`^(PASS|FAIL|SKIP)\\s+${leg}\\s`).test(l));

describe('otel-monitor doctor', () => {
  it('prints the effective configuration with secrets redacted and passes every configured leg', async () => {
    const env = appEnv(collector, { SENTRY_DSN: sentry.dsn, OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20S3CRET', OTEL_MONITOR_PLUGINS: 'acme-plugin' });
    const res = await runCli(bin, ['doctor', '--prometheus-url', prometheus.url, '--loki-url', loki.url, '--jaeger-url', jaeger.queryUrl, '--collector-metrics', `http://${collector.telemetryTarget}/metrics`, '--wait', '40'], env);
    expect(res.stdout).toMatch(/service\s+doctor-svc/);
    expect(res.stdout).toMatch(/release\s+doc@1\.2\.3 \(from OTEL_MONITOR_RELEASE\)/);
    expect(res.stdout).toMatch(/environment\s+ci \(from OTEL_MONITOR_ENVIRONMENT\)/);
    expect(res.stdout).toMatch(new RegExp(`traces\\s+${collector.otlpHttp}/v1/traces`));
    expect(res.stdout).toMatch(/headers\s+\[REDACTED\]/);
    expect(res.stdout).toMatch(/sentry\s+on/);
    expect(res.stdout).toMatch(/plugins\s+acme-plugin/);
    expect(res.stdout + res.stderr).not.toContain('S3CRET');
    expect(res.stdout + res.stderr).not.toContain(sentry.dsn);
    for (const leg of ['collector', 'prometheus', 'sentry', 'loki', 'jaeger']) expect(legLine(res.stdout, leg), `${leg}:\n${res.stdout}`).toMatch(/^PASS/);
    expect(res.code).toBe(0);
    // The event id shown is the one Sentry received, with the release.
    const eventId = /event id ([0-9a-f]{32})/.exec(res.stdout)?.[1];
    const event = sentry.events().find((e) => e.event_id === eventId);
    expect(event?.release).toBe('doc@1.2.3');
    // What Prometheus and Loki were asked for is what arrived through the Collector.
    expect(loki.lines.some((l) => l.service === 'doctor-svc' && res.stdout.includes(l.traceId))).toBe(true);
    const series = await prometheus.query('otel_monitor_doctor_check{service_version="doc@1.2.3"}');
    expect(series.length).toBeGreaterThan(0);
    // The trace the jaeger line names is in Jaeger: the doctor's span, with its release.
    const traceId = new RegExp(`${jaeger.queryUrl}/api/traces/([0-9a-f]{32})`).exec(legLine(res.stdout, 'jaeger')!)?.[1];
    const trace = await jaeger.trace(traceId!);
    expect(trace?.spans.map((s) => s.operationName)).toEqual(['otel-monitor doctor']);
    expect(Object.values(trace!.processes)[0]).toMatchObject({ serviceName: 'doctor-svc', tags: expect.arrayContaining([expect.objectContaining({ key: 'service.version', value: 'doc@1.2.3' })]) });
    // The trace id Loki was asked for is the same one.
    expect(loki.lines.some((l) => l.traceId === traceId)).toBe(true);
    // With a Prometheus, the apps' own drop counts (none here: nothing dropped).
    expect(res.stdout).toMatch(/^Telemetry the apps dropped in the last hour \(their otel_sdk_\* metrics in Prometheus\):\n {2}none$/m);
  }, 90_000);

  it('--json: one document with the configuration and every leg', async () => {
    const res = await runCli(bin, ['doctor', '--json', '--collector-metrics', `http://${collector.telemetryTarget}/metrics`], appEnv(collector));
    const doc = JSON.parse(res.stdout);
    expect(doc.config.service).toBe('doctor-svc');
    expect(doc.legs.map((l: { leg: string; verdict: string }) => `${l.leg}:${l.verdict}`)).toEqual(['collector:PASS', 'prometheus:SKIP', 'sentry:SKIP', 'loki:SKIP', 'jaeger:SKIP']);
    expect(doc.ok).toBe(true);
    expect(res.code).toBe(0);
  }, 30_000);

  it('Sentry answering 401: the sentry line fails with the reason and the fix, exit 1', async () => {
    const wrongKey = sentry.dsn.replace(/\/\/[^@]+@/, '//0123456789abcdef0123456789abcdef@');
    const res = await runCli(bin, ['doctor', '--collector-metrics', `http://${collector.telemetryTarget}/metrics`], appEnv(collector, { SENTRY_DSN: wrongKey }));
    expect(legLine(res.stdout, 'sentry')).toBe(
      `FAIL    sentry      http://127.0.0.1:${sentry.port} project 4242 refused the test error (HTTP 401) (fix: check the key and project in SENTRY_DSN (Project Settings > Client Keys))`,
    );
    expect(res.stdout).not.toContain('0123456789abcdef0123456789abcdef');
    expect(res.code).toBe(1);
  }, 30_000);

  it('a wrong Prometheus URL fails its line within 5 s, exit 1', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const res = await runCli(bin, ['doctor', '--prometheus-url', dead, '--collector-metrics', `http://${collector.telemetryTarget}/metrics`], appEnv(collector));
    expect(legLine(res.stdout, 'prometheus')).toBe(
      `FAIL    prometheus  cannot reach Prometheus at ${dead}: ECONNREFUSED (fix: pass the URL of a running Prometheus with --prometheus-url)`,
    );
    expect(Date.now() - started).toBeLessThan(8000); // 5 s for the leg, plus Node's start-up
    expect(res.code).toBe(1);
  }, 30_000);

  it("a Collector whose Prometheus exporter is broken: the metric never shows up and the down target is named", async () => {
    const broken = await startCollector({ env: { OTELCOL_METRICS_EXPORTERS: '[debug]', OTELCOL_TRACES_EXPORTERS: '[debug]', OTELCOL_LOGS_EXPORTERS: '[debug]' } });
    const prom = await startPrometheus({ collector: broken });
    const res = await runCli(bin, ['doctor', '--prometheus-url', prom.url, '--wait', '15', '--collector-metrics', `http://${broken.telemetryTarget}/metrics`], appEnv(broken));
    expect(legLine(res.stdout, 'collector')).toMatch(/^PASS/);
    const line = legLine(res.stdout, 'prometheus')!;
    expect(line).toMatch(
      new RegExp(`^FAIL    prometheus  otel_monitor_doctor_check\\{doctor_run="[0-9a-f-]{36}", service_version="doc@1\\.2\\.3"\\} not found at ${prom.url} after 15 s; scrape target down: otel-collector \\(.*connection refused.*\\) \\(fix: check the Collector's prometheus exporter and that Prometheus scrapes it \\(job otel-collector\\)\\)$`),
    );
    expect(res.code).toBe(1);
    await prom.stop();
    await broken.stop();
  }, 90_000);

  it('a stopped Jaeger fails the jaeger line within 5 s, exit 1', async () => {
    await jaeger.stop('SIGKILL');
    const started = Date.now();
    const res = await runCli(bin, ['doctor', '--jaeger-url', jaeger.queryUrl, '--collector-metrics', `http://${collector.telemetryTarget}/metrics`], appEnv(collector));
    expect(legLine(res.stdout, 'collector')).toMatch(/^PASS/);
    expect(legLine(res.stdout, 'jaeger')).toBe(
      `FAIL    jaeger      cannot query Jaeger at ${jaeger.queryUrl}: ECONNREFUSED (fix: pass the URL of a running Jaeger (its UI and query port, 16686) with --jaeger-url)`,
    );
    expect(Date.now() - started).toBeLessThan(8000); // 5 s for the leg, plus Node's start-up
    expect(res.code).toBe(1);
  }, 30_000);

  it('a Jaeger that never gets the span (the Collector does not export to it): the jaeger line fails after --wait, exit 1', async () => {
    await jaeger.restart();
    const other = await startCollector({ env: { OTELCOL_TRACES_EXPORTERS: '[debug]', OTELCOL_METRICS_EXPORTERS: '[debug]', OTELCOL_LOGS_EXPORTERS: '[debug]' } });
    const res = await runCli(bin, ['doctor', '--jaeger-url', jaeger.queryUrl, '--wait', '3', '--collector-metrics', `http://${other.telemetryTarget}/metrics`], appEnv(other));
    expect(legLine(res.stdout, 'collector')).toMatch(/^PASS/);
    expect(legLine(res.stdout, 'jaeger')).toMatch(
      new RegExp(`^FAIL    jaeger      no trace [0-9a-f]{32} at ${jaeger.queryUrl} after 3 s \\(fix: check JAEGER_ENDPOINT of the Collector and that otlp_http/jaeger is in OTELCOL_TRACES_EXPORTERS; see the Collector's log\\)$`),
    );
    expect(res.code).toBe(1);
    await other.stop();
  }, 60_000);

  it('a stopped Collector fails the collector line within 5 s and skips nothing else silently, exit 1', async () => {
    await collector.stop();
    const started = Date.now();
    const res = await runCli(bin, ['doctor', '--loki-url', loki.url], appEnv(collector));
    expect(legLine(res.stdout, 'collector')).toBe(
      `FAIL    collector   cannot reach ${collector.otlpHttp}: ECONNREFUSED (fix: start the Collector, or set OTEL_EXPORTER_OTLP_ENDPOINT to where it listens (OTLP/HTTP, port 4318))`,
    );
    // Loki can only show what the Collector accepted: it fails at once instead of waiting.
    expect(legLine(res.stdout, 'loki')).toBe('FAIL    loki        nothing to look for: the Collector did not accept the probe (fix: fix the collector leg first)');
    expect(Date.now() - started).toBeLessThan(8000);
    expect(res.code).toBe(1);
  }, 30_000);

  it('usage errors exit 2', async () => {
    const res = await runCli(bin, ['doctor', '--prometheus-url', 'not a url']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--prometheus-url is not a valid URL');
    // The shared connection options: checked as every Prometheus-reading command checks them.
    const header = await runCli(bin, ['doctor', '--prometheus-url', 'http://127.0.0.1:9', '--header', 'no-equals']);
    expect(header.code).toBe(2);
    expect(header.stderr).toContain('--header needs NAME=VALUE');
    const both = await runCli(bin, ['doctor', '--prometheus-url', 'http://u:p@127.0.0.1:9'], { OTEL_MONITOR_PROMETHEUS_TOKEN: 't0ken' });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give one of them');
    expect(both.stderr).not.toContain('t0ken');
  });
});
