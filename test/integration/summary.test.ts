// `otel-monitor summary` against the real stack: two instrumented apps (an Express service with
// 200/404/500 responses, a worker with task runs and health checks) -> our Collector -> Prometheus,
// and open alerts from a real Alertmanager.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, NODE24, type RunningApp } from '../helpers/app.js';
import { freePort, spawnTracked, stopAll, waitFor } from '../helpers/process.js';
import {
  startAlertmanager,
  startCollector,
  startInstrumentedApp,
  startPrometheus,
  type RunningAlertmanager,
  type RunningPrometheus,
} from '../helpers/stack.js';
import { startApp } from '../helpers/app.js';
import { runInProcess } from './task-monitoring-helpers.js';

let prometheus: RunningPrometheus;
let alertmanager: RunningAlertmanager;
let shop: RunningApp;
/** Spans the worker started, each one a failed export (its trace endpoint is a closed port). */
let workerSpans = 0;

beforeAll(async () => {
  const collector = await startCollector();
  alertmanager = await startAlertmanager();
  prometheus = await startPrometheus({ collector, alertmanagerUrl: alertmanager.url });
  shop = await startInstrumentedApp({ collector, service: 'shop', release: '1.0.0' });
  await startApp({
    script: 'test/fixtures/summary-worker.mjs',
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttp,
      OTEL_SERVICE_NAME: 'worker',
      OTEL_RESOURCE_ATTRIBUTES: 'service.version=2.1.0,deployment.environment.name=test',
      OTEL_MONITOR_HOST_METRICS: 'false',
      // Its spans go nowhere (a closed port): every one is a failed export, counted by the app.
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:9/v1/traces',
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '1000',
    },
  });
  // 6 x 200, 2 x 404, 2 x 500: 10 requests, yield 80 %.
  for (let i = 0; i < 6; i++) expect((await shop.get(`/users/${i}`)).status).toBe(200);
  for (let i = 0; i < 2; i++) expect((await shop.get('/nowhere')).status).toBe(404);
  for (let i = 0; i < 2; i++) expect((await shop.get('/fail')).status).toBe(500);
  await waitFor(
    async () => {
      const [req] = await prometheus.query('sum(http_server_request_duration_seconds_count{job="shop"})');
      const [runs] = await prometheus.query('sum(otel_monitor_task_runs_total{job="worker"})');
      const health = await prometheus.query('otel_monitor_health_status');
      const [failed] = await prometheus.query('sum(otel_sdk_exporter_span_exported_total{job="worker", error_type!=""})');
      const [started] = await prometheus.query('sum(otel_sdk_span_started_total{job="worker"})');
      return Number(req?.value[1]) === 10 && Number(runs?.value[1]) === 4 && health.length === 2 && Number(failed?.value[1]) >= 4 && failed?.value[1] === started?.value[1];
    },
    { timeoutMs: 90_000, what: 'the requests, task runs and health checks in Prometheus' },
  );
  workerSpans = Number((await prometheus.query('sum(otel_sdk_span_started_total{job="worker"})'))[0]!.value[1]);
  // Open alerts, posted the way Prometheus does (API v2): one for shop 1.0.0, one for the Collector.
  const post = await fetch(`${alertmanager.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([
      { labels: { alertname: 'HttpErrorRatioHigh', severity: 'critical', job: 'shop', service_version: '1.0.0', http_route: '/fail' }, annotations: { summary: 's' } },
      { labels: { alertname: 'OtelCollectorQueueFilling', severity: 'warning', exporter: 'otlp_http/loki' }, annotations: { summary: 'q' } },
    ]),
  });
  expect(post.status).toBe(200);
  // The worker's latest import_prices run failed, so the real rules (thresholds.yaml has a
  // for: 0m warning for that task) fire OtelMonitorTaskFailing through the real Prometheus too.
  // Waiting for it keeps the open-alert lists below the same however fast the evaluation runs.
  await waitFor(
    async () => {
      const open = (await (await fetch(`${alertmanager.url}/api/v2/alerts`)).json()) as { labels: Record<string, string> }[];
      return (
        open.some((a) => a.labels.alertname === 'OtelMonitorTaskFailing' && a.labels.otel_monitor_task_name === 'import_prices') &&
        open.some((a) => a.labels.alertname === 'TelemetryDropped' && a.labels.job === 'worker')
      );
    },
    { timeoutMs: 90_000, what: 'OtelMonitorTaskFailing for import_prices and TelemetryDropped for the worker, fired by the rules' },
  );
}, 300_000);

afterAll(() => stopAll());

const summary = (args: string[]) => runInProcess(['summary', ...args], { OTEL_MONITOR_PROMETHEUS_URL: prometheus.url });

describe('otel-monitor summary', () => {
  it('--json: requests by status class, yield, task runs and yield, health, open alerts per service and release', async () => {
    const r = await summary(['--json', '--alertmanager-url', alertmanager.url]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ command: 'summary', status: 'OK', window: '1h', minYield: null });
    expect(doc.services).toEqual([
      {
        service: 'shop', release: '1.0.0',
        requests: { total: 10, '1xx': 0, '2xx': 6, '3xx': 0, '4xx': 2, '5xx': 2, other: 0 }, yield: 0.8,
        tasks: { ok: 0, error: 0, total: 0 }, taskYield: null,
        health: { status: null, failing: [] }, telemetryDropped: { total: 0, reasons: {} }, alerts: ['HttpErrorRatioHigh'], belowMinYield: false,
      },
      {
        service: 'worker', release: '2.1.0',
        requests: { total: 0, '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, other: 0 }, yield: null,
        tasks: { ok: 3, error: 1, total: 4 }, taskYield: 0.75,
        health: { status: 'degraded', failing: ['postgres'] }, telemetryDropped: { total: workerSpans, reasons: { ECONNREFUSED: workerSpans } },
        // Its drops fire the pipeline rules through the real Prometheus (TelemetryExporterFailing too, after its for:).
        alerts: expect.arrayContaining(['TelemetryDropped']), belowMinYield: false,
      },
    ]);
    // Alerts with no service label: the Collector's, and the task alert (tasks are named, not owned by a service).
    expect([...doc.otherAlerts].sort((a: any, b: any) => a.alertname.localeCompare(b.alertname))).toEqual([
      { alertname: 'OtelCollectorQueueFilling', severity: 'warning', labels: { alertname: 'OtelCollectorQueueFilling', severity: 'warning', exporter: 'otlp_http/loki' } },
      { alertname: 'OtelMonitorTaskFailing', severity: 'warning', labels: { alertname: 'OtelMonitorTaskFailing', severity: 'warning', otel_monitor_task_name: 'import_prices' } },
    ]);
  });

  it('prints a compact table by default', async () => {
    const r = await summary(['--alertmanager-url', alertmanager.url]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^Summary over the last 1h at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(http:\/\/127\.0\.0\.1:\d+\)$/);
    expect(lines[1]).toMatch(/^SERVICE\s+RELEASE\s+REQUESTS\s+2XX\s+3XX\s+4XX\s+5XX\s+YIELD\s+TASK RUNS\s+TASK YIELD\s+HEALTH\s+DROPPED\s+ALERTS$/);
    expect(lines[2]).toMatch(/^shop\s+1\.0\.0\s+10\s+6\s+0\s+2\s+2\s+80\.00%\s+-\s+-\s+-\s+0\s+1 \(HttpErrorRatioHigh\)$/);
    expect(lines[3]).toMatch(new RegExp(`^worker\\s+2\\.1\\.0\\s+0\\s+0\\s+0\\s+0\\s+0\\s+-\\s+3 ok / 1 failed\\s+75\\.00%\\s+degraded \\(postgres\\)\\s+${workerSpans} \\(ECONNREFUSED ${workerSpans}\\)\\s+\\d \\(.*TelemetryDropped.*\\)$`));
    expect(r.stdout).toMatch(/^Other open alerts: .*OtelCollectorQueueFilling \(warning\)/m);
    expect(r.stdout).toMatch(/^Other open alerts: .*OtelMonitorTaskFailing \(warning\)/m);
  });

  it('--min-yield: exit 1 when a yield is below it, 0 when all are above, 3 when nothing had traffic', async () => {
    let r = await summary(['--min-yield', '0.78']);
    expect(r.code, r.stdout).toBe(1); // task yield 75 % < 78 %
    expect(r.stdout).toMatch(/^worker .*75\.00% </m);
    expect(r.stdout).toContain('Minimum yield 78.00%: BELOW (marked <).');
    r = await summary(['--min-yield', '75%', '--json']);
    expect(r.code, r.stdout).toBe(0);
    expect(JSON.parse(r.stdout).status).toBe('OK');
    r = await summary(['--min-yield', '81%', '--json', '--label', 'job=shop']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).services.map((s: any) => [s.service, s.belowMinYield])).toEqual([['shop', true]]);
    r = await summary(['--min-yield', '0.5', '--label', 'deployment_environment_name=production']);
    expect([r.code, r.stdout.split('\n')[1]]).toEqual([3, 'No requests, task runs or health checks in the window.']);
  });

  it('bad arguments and an unreachable server are exit 2 with one line', async () => {
    for (const args of [['--min-yield', '1.5'], ['--window', 'an hour'], ['--watch', '0'], ['--bogus']]) {
      const r = await summary(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const closed = await freePort();
    const r = await summary(['--prometheus-url', `http://127.0.0.1:${closed}`]);
    expect([r.code, r.stderr]).toEqual([2, `otel-monitor: cannot reach Prometheus at http://127.0.0.1:${closed}: ECONNREFUSED`]);
  });

  it('--watch N prints the summary again every N seconds (the built CLI)', async () => {
    const cli = spawnTracked(NODE24, [`${ROOT}dist/cli/main.js`, 'summary', '--watch', '1', '--prometheus-url', prometheus.url], { cwd: ROOT });
    await waitFor(() => (cli.output().match(/^Summary over the last 1h/gm) ?? []).length >= 2, { timeoutMs: 20_000, what: 'two refreshes' });
    expect(cli.output()).toMatch(/^shop\s+1\.0\.0\s+10\s/m);
    await cli.stop('SIGINT');
  });
});
