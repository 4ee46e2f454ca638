// `npm run demo`: the whole path on this machine. Builds our Collector if needed, finds or installs
// Prometheus, starts both on loopback, runs examples/app.js as two releases with traffic and
// errors, and prints what landed in Prometheus per release. Stops everything it started, unless
// --keep is given (then Ctrl-C stops it).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOtlpReceiver } from '../test/helpers/otlp-receiver.ts';
import { ensureCollector } from '../test/helpers/collector-build.ts';
import { ensureAptPackages, startCollector, startInstrumentedApp, startPrometheus } from '../test/helpers/stack.ts';
import { stopAll, waitFor } from '../test/helpers/process.ts';
import { NODE24, ROOT } from '../test/helpers/app.ts';
import { spawnSync } from 'node:child_process';
import { table } from '../src/cli/shared/output.ts';

const RELEASES = ['demo-shop@1.0.0', 'demo-shop@1.1.0'];
// 1.1.0 is built to regress: 8% of /users/:id requests fail and each takes 25 ms longer.
const REGRESSION = { DEMO_ERROR_RATE: '0.08', DEMO_DELAY_MS: '25' };
const REQUESTS = 1500;
const SERVICE = 'demo-shop';
const step = (msg: string) => console.log(`\n==> ${msg}`);
const logDir = mkdtempSync(join(tmpdir(), 'otel-monitor-demo-'));

step('building the Collector (skipped when collector/builder-config.yaml is unchanged)');
console.log(`    ${ensureCollector()}`);
step('finding Prometheus (installed with apt-get when missing)');
ensureAptPackages();

// Loki cannot run here: a local OTLP receiver stands in for its /otlp/v1/logs endpoint.
const loki = await startOtlpReceiver();
const collector = await startCollector({ lokiEndpoint: loki.url, env: { OTELCOL_TRACES_EXPORTERS: '[debug]' } });
const prom = await startPrometheus({ collector });
try {
  step(`stack up: Collector OTLP ${collector.otlpHttp}, Prometheus ${prom.url}, Loki stand-in ${loki.url}`);
  const apps = await Promise.all(
    RELEASES.map((release, i) =>
      startInstrumentedApp({ collector, service: SERVICE, release, environment: 'demo', env: { OTEL_SERVICE_NAME: SERVICE, ...(i === 1 ? REGRESSION : {}) } }),
    ),
  );
  step(`sending traffic: ${REQUESTS} requests per release, 2% failing on purpose (/fail); 1.1.0 is built to regress`);
  const paths = ['/', '/users/1', '/users/2', '/upstream', '/users/3'];
  await Promise.all(apps.map((app) => sendTraffic((n) => app.get(n % 50 === 0 ? '/fail' : paths[n % paths.length]!))));
  step('waiting for Prometheus to scrape both releases');
  const q = (expr: string) => prom.query(expr);
  await waitFor(async () => (await q(`sum by (service_version) (http_server_request_duration_seconds_count{job="${SERVICE}"}) >= ${REQUESTS}`)).length === 2, {
    timeoutMs: 90_000,
    what: 'both releases in Prometheus',
  });
  const spanCalls = `sum by (service_version) (traces_span_metrics_calls_total{service_name="${SERVICE}", span_kind="SPAN_KIND_SERVER"})`;
  // A new span-metrics series is first exposed at 0, so wait for counts rather than for series.
  await waitFor(async () => (await q(`${spanCalls} > 0`)).length === 2, { timeoutMs: 90_000, what: 'span metrics for both releases' });

  step('what landed in Prometheus, per release');
  const byRelease = async (expr: string) =>
    Object.fromEntries((await q(expr)).map((r) => [r.metric.service_version ?? '?', Number(r.value[1])]));
  const requests = await byRelease(`sum by (service_version) (http_server_request_duration_seconds_count{job="${SERVICE}"})`);
  const errors = await byRelease(`sum by (service_version) (http_server_request_duration_seconds_count{job="${SERVICE}", http_response_status_code=~"5.."})`);
  const p95 = await byRelease(
    `histogram_quantile(0.95, sum by (service_version, le) (http_server_request_duration_seconds_bucket{job="${SERVICE}"}))`,
  );
  const calls = await byRelease(spanCalls);
  const rows = RELEASES.map((r) => [
    r,
    String(requests[r] ?? 0),
    String(errors[r] ?? 0),
    requests[r] ? `${(((errors[r] ?? 0) / requests[r]!) * 100).toFixed(1)}%` : '-',
    p95[r] !== undefined ? (p95[r]! * 1000).toFixed(1) : '-',
    String(calls[r] ?? 0),
  ]);
  // The CLI's own table (aligned columns, no index column), indented like the demo's other lines.
  const text = table(['release', 'requests', '5xx', 'error rate', 'p95 ms', 'span_metrics calls'], rows);
  console.log(text.replace(/^/gm, '    '));
  const series = await q(`count by (__name__) ({job="${SERVICE}"})`);
  console.log(`    ${series.length} metric names for ${SERVICE}, e.g. ${series.slice(0, 6).map((s) => s.metric.__name__).join(', ')}`);
  await waitFor(() => loki.logRecords().length > 0, { timeoutMs: 30_000, what: 'log records at the Loki stand-in' });
  console.log(`    ${loki.logRecords().length} log records reached the Loki endpoint, trace ids on ${loki.logRecords().filter((l) => l.traceId).length}`);

  step(`the verdict: is ${RELEASES[1]} worse than ${RELEASES[0]}?`);
  const compare = ['releases', 'compare', RELEASES[0]!, RELEASES[1]!, '--service', SERVICE, '--window', '15m'];
  const verdict = spawnSync(NODE24, [join(ROOT, 'dist', 'cli', 'main.js'), ...compare, '--prometheus-url', prom.url], { encoding: 'utf8' });
  console.log(`$ otel-monitor ${compare.join(' ')}\n${verdict.stdout}${verdict.stderr}`);
  console.log(`    exit status ${verdict.status} (0 ok or improved, 1 regressed, 2 error, 3 inconclusive)`);
  console.log('    In CI, after the candidate has served traffic, this one line fails the job on a regression:');
  console.log(`    npx otel-monitor releases compare "$PREVIOUS_RELEASE" "$RELEASE" --service ${SERVICE} --window 30m`);

  step('where to look');
  console.log(`    Prometheus            ${prom.url}/graph  (try: sum by (service_version) (rate(http_server_request_duration_seconds_count[1m])))`);
  console.log('    Grafana + Loki        docker compose up   (needs Docker; GF_ADMIN_PASSWORD must be set)');
  if (process.argv.includes('--keep')) {
    console.log('    --keep: the stack keeps running; Ctrl-C stops it');
    await new Promise((resolve) => process.once('SIGINT', resolve));
  }
} finally {
  writeFileSync(join(logDir, 'collector.log'), collector.proc.output());
  writeFileSync(join(logDir, 'prometheus.log'), prom.proc.output());
  console.log(`    logs                  ${logDir}/collector.log, ${logDir}/prometheus.log`);
  step('stopping everything the demo started');
  await stopAll();
  await loki.close();
}

/** REQUESTS requests, 8 at a time, each body read so the connection is reused. */
async function sendTraffic(get: (n: number) => Promise<Response>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < REQUESTS) await (await get(next++)).arrayBuffer();
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}
