// End to end: the example app under our distribution → our Collector build → the real
// Prometheus, plus local OTLP receivers standing in for Loki and Sentry. Assertions are on what
// actually landed: PromQL results and decoded records.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../helpers/app.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { stopAll, waitFor } from '../helpers/process.js';
import {
  ensureAptPackages,
  startCollector,
  startInstrumentedApp,
  startPrometheus,
  type RunningCollector,
  type RunningPrometheus,
} from '../helpers/stack.js';

const SERVICE = 'pipeline-app';
const RELEASES = ['1.0.0', '2.0.0'];
const SENTRY_KEY = 'f00dfeedcafe4242';
const SENTRY_PROJECT = '4242';
const SERVER = 2;

let loki: OtlpReceiver;
let sentry: OtlpReceiver;
let collector: RunningCollector;
let prom: RunningPrometheus;
const apps: RunningApp[] = [];
/** While true the Loki stand-in answers 503, like a Loki that is down or overloaded. */
let lokiDown = false;
let lokiRefusals = 0;
let traffic: NodeJS.Timeout | undefined;

async function hit(app: RunningApp, path: string) {
  try {
    await (await app.get(path)).arrayBuffer();
  } catch {
    /* the app may be stopping */
  }
}

const sum = (m: Map<string, number>, prefix: string) =>
  [...m].filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0);

beforeAll(async () => {
  ensureAptPackages();
  loki = await startOtlpReceiver({
    respond: () => {
      if (!lokiDown) return undefined;
      lokiRefusals++;
      return 503;
    },
  });
  sentry = await startOtlpReceiver();
  const dsn = `http://${SENTRY_KEY}@127.0.0.1:${sentry.port}/${SENTRY_PROJECT}`;
  collector = await startCollector({
    lokiEndpoint: loki.url,
    sentryDsn: dsn,
    env: { OTELCOL_SPAN_METRICS_FLUSH_INTERVAL: '2s' },
  });
  prom = await startPrometheus({ collector });
  // Two releases of the same service side by side, as during a canary.
  for (const release of RELEASES) apps.push(await startInstrumentedApp({ collector, service: SERVICE, release }));
  let n = 0;
  traffic = setInterval(() => {
    for (const app of apps) {
      void hit(app, '/');
      void hit(app, `/users/${n % 7}`);
      if (n % 3 === 0) void hit(app, '/upstream');
      if (n % 4 === 0) void hit(app, '/fail');
    }
    n++;
  }, 250);
  // Prometheus scrapes every 10 s; wait until both releases are there.
  await waitFor(
    async () =>
      (await prom.query(`count by (service_version) (http_server_request_duration_seconds_count{job="${SERVICE}"})`)).length === 2,
    { timeoutMs: 120_000, intervalMs: 2000, what: 'both releases in Prometheus' },
  );
  // rate() needs two scrapes inside its window.
  await waitFor(
    async () => (await prom.query(`sum by (service_version) (rate(http_server_request_duration_seconds_count{job="${SERVICE}"}[1m]))`)).length === 2,
    { timeoutMs: 60_000, intervalMs: 2000, what: 'two scrapes of both releases' },
  );
});

afterAll(async () => {
  if (traffic) clearInterval(traffic);
  await stopAll();
  await loki?.close();
  await sentry?.close();
});

describe('metrics in the real Prometheus', () => {
  it('the HTTP duration histogram carries service_version (one value per release) and the environment', async () => {
    const r = await prom.query(`sum by (service_version, deployment_environment_name) (http_server_request_duration_seconds_count{job="${SERVICE}"})`);
    expect(r.map((s) => s.metric.service_version).sort()).toEqual(RELEASES);
    for (const s of r) {
      expect(s.metric.deployment_environment_name).toBe('test');
      expect(Number(s.value[1])).toBeGreaterThan(0);
    }
    const routes = await prom.query(`count by (http_route) (http_server_request_duration_seconds_bucket{job="${SERVICE}"})`);
    expect(routes.map((s) => s.metric.http_route)).toEqual(expect.arrayContaining(['/', '/users/:id', '/fail']));
  });

  it('every series the app produced has service_version and deployment_environment_name', async () => {
    const total = `count({job="${SERVICE}"})`;
    const all = await prom.query(total);
    expect(Number(all[0]!.value[1])).toBeGreaterThan(10);
    // All series minus the labelled ones, in one query: both counts at the same instant (two
    // queries can straddle a scrape that adds series, as seen with other files running beside).
    const unlabelled = await prom.query(`${total} - count({job="${SERVICE}", service_version=~".+", deployment_environment_name=~".+"})`);
    expect(unlabelled.map((s) => s.value[1]), 'series without service_version or deployment_environment_name').toEqual(['0']);
  });

  it('span_metrics: calls by status code, and a duration histogram in seconds by route', async () => {
    const byStatus = await waitFor(
      async () => {
        const r = await prom.query(`sum by (status_code) (traces_span_metrics_calls_total{service_name="${SERVICE}", span_kind="SPAN_KIND_SERVER"})`);
        return r.length >= 2 ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 2000, what: 'span_metrics calls by status' },
    );
    expect(byStatus.map((s) => s.metric.status_code).sort()).toEqual(['STATUS_CODE_ERROR', 'STATUS_CODE_UNSET']);
    const dimsQuery = `count by (service_version, http_route, http_request_method, http_response_status_code) (traces_span_metrics_duration_seconds_bucket{service_name="${SERVICE}", span_kind="SPAN_KIND_SERVER"})`;
    const dims = await waitFor(
      async () => {
        const r = await prom.query(dimsQuery);
        return r.filter((s) => s.metric.http_route === '/fail').length === 2 ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 2000, what: 'span_metrics durations for /fail in both releases' },
    );
    expect(dims.map((s) => s.metric.service_version)).toEqual(expect.arrayContaining(RELEASES));
    expect(dims).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          metric: { service_version: '1.0.0', http_route: '/fail', http_request_method: 'GET', http_response_status_code: '500' },
        }),
      ]),
    );
  });

  it('host and runtime metrics', async () => {
    for (const q of [
      `system_cpu_time_seconds_total{job="${SERVICE}"}`,
      // host-metrics 0.7 sets no unit on these, so there is no _bytes suffix (yet).
      `{__name__=~"system_memory_usage(_bytes)?", job="${SERVICE}", system_memory_state="used"}`,
      `{__name__=~"system_network_io(_bytes)?_total", job="${SERVICE}"}`,
      `nodejs_eventloop_delay_p99_seconds{job="${SERVICE}"}`,
    ]) {
      const r = await prom.query(q);
      expect(r.length, q).toBeGreaterThan(0);
    }
  });
  // Every dashboard's queries (this overview's included) run in test/integration/dashboards.test.ts.
});

describe('the Loki and Sentry legs', () => {
  it('Loki receives the app logs on /otlp/v1/logs with trace_id, service.name and service.version', async () => {
    const log = await waitFor(
      () => loki.logRecords().find((l) => l.body === 'user looked up' && l.resource['service.name'] === SERVICE),
      { what: 'app log at Loki' },
    );
    expect(log.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(log.traceId).not.toMatch(/^0+$/);
    expect(RELEASES).toContain(log.resource['service.version']);
    expect(log.resource['deployment.environment.name']).toBe('test');
    expect(new Set(loki.requests.map((q) => q.path))).toEqual(new Set(['/otlp/v1/logs']));
    // Both releases' logs arrive.
    await waitFor(() => RELEASES.every((r) => loki.logRecords().some((l) => l.resource['service.version'] === r)));
  });

  it('Sentry receives spans and logs on its project OTLP paths with the x-sentry-auth header', async () => {
    const span = await waitFor(
      () => sentry.spans().find((s) => s.kind === SERVER && s.attributes['http.route'] === '/users/:id'),
      { what: 'server span at Sentry' },
    );
    expect(RELEASES).toContain(span.resource['service.version']);
    await waitFor(() => sentry.logRecords().length > 0, { what: 'logs at Sentry' });
    const paths = new Set(sentry.requests.map((q) => q.path));
    expect(paths).toEqual(new Set([`/api/${SENTRY_PROJECT}/integration/otlp/v1/traces`, `/api/${SENTRY_PROJECT}/integration/otlp/v1/logs`]));
    for (const q of sentry.requests) expect(q.headers['x-sentry-auth']).toBe(`sentry sentry_key=${SENTRY_KEY}`);
  });

  it('the Collector normalises the resource and redacts credentials whatever the sender did', async () => {
    // Raw OTLP/JSON from a sender without our distribution: old environment key, no version,
    // credentials in attributes and the body.
    const traceId = '5b8efff798038103d269b633813fc60c';
    const body = {
      resourceLogs: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: 'raw-sender' } },
              { key: 'deployment.environment', value: { stringValue: 'legacy-env' } },
            ],
          },
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: String(Date.now() * 1e6),
                  traceId,
                  spanId: 'eee19b7ec3c1b174',
                  body: { stringValue: 'calling upstream with Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123' },
                  attributes: [
                    { key: 'db.password', value: { stringValue: 'pw-S3CRET' } },
                    { key: 'http.request.header.authorization', value: { stringValue: 'Basic dXNlcjpTM0NSRVQ=' } },
                    { key: 'url.full', value: { stringValue: 'https://bob:S3CRETpw@api.example.com/x?api_key=S3CRETkey&page=2' } },
                    { key: 'order.id', value: { stringValue: 'A-17' } },
                  ],
                },
              ],
            },
          ],
        },
      ],
    };
    const res = await fetch(`${collector.otlpHttp}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    const log = await waitFor(() => loki.logRecords().find((l) => l.traceId === traceId), { what: 'raw log at Loki' });
    expect(log.resource['deployment.environment.name']).toBe('legacy-env');
    expect(log.resource['deployment.environment']).toBeUndefined();
    expect(log.resource['service.version']).toBe('unknown');
    expect(log.attributes['order.id']).toBe('A-17');
    expect(log.attributes['http.request.header.authorization']).toBeUndefined();
    const exported = JSON.stringify(log);
    expect(exported).not.toMatch(/S3CRET|abcdefghijklmnop/);
    expect(String(log.attributes['url.full'])).toContain('page=2');
  });
});

describe('nothing lost', () => {
  const ids = (prefix: string) => Array.from({ length: 25 }, (_, i) => `${prefix}-${i}`);
  const arrived = (id: string) => loki.logRecords().some((l) => l.body === 'user looked up' && l.attributes.userId === id);

  it('Loki answers 503 for 20 s, then recovers: every log record arrives', async () => {
    const before = lokiRefusals;
    lokiDown = true;
    const wanted = ids('outage');
    for (const id of wanted) await hit(apps[0]!, `/users/${id}`);
    await waitFor(() => lokiRefusals > before, { what: 'Loki refusing requests' });
    await sleep(20_000);
    expect(wanted.some(arrived)).toBe(false);
    lokiDown = false;
    await waitFor(() => wanted.every(arrived), { timeoutMs: 60_000, what: 'every outage log at Loki' });
  });

  it('the Collector is SIGKILLed with logs queued, restarted: the queued logs arrive', async () => {
    lokiDown = true;
    // A separate app that exits (flushing to the Collector) before the kill, so after it the
    // records exist nowhere but in the Collector's queue.
    const app = await startInstrumentedApp({ collector, service: SERVICE, release: RELEASES[0]! });
    const wanted = ids('killed');
    for (const id of wanted) await hit(app, `/users/${id}`);
    await app.stop('SIGTERM');
    const lokiQueue = async () =>
      [...(await collector.selfMetrics())].filter(([k]) => k.startsWith('otelcol_exporter_queue_size{') && k.includes('"otlp_http/loki"'))[0]?.[1] ?? 0;
    await waitFor(async () => (await lokiQueue()) > 0, { what: 'logs queued for Loki' });
    await sleep(2000); // the batch processor (1 s timeout) has handed everything to the queue
    expect(wanted.some(arrived)).toBe(false);
    expect(await collector.stop('SIGKILL')).toBe('SIGKILL');
    lokiDown = false;
    await collector.restart();
    await waitFor(() => wanted.every(arrived), { timeoutMs: 90_000, what: 'every queued log after the restart' });
  });

  it("the Collector's own counters show zero enqueue_failed and zero refused", async () => {
    // The counters exist (so zero means zero, not "not exported"): the restarted Collector has
    // taken new data from the apps.
    const m = await waitFor(async () => {
      const m = await collector.selfMetrics();
      return sum(m, 'otelcol_receiver_accepted_') > 0 ? m : undefined;
    }, { what: 'the restarted Collector receiving data' });
    expect([...m.keys()].some((k) => k.startsWith('otelcol_exporter_enqueue_failed_') || k.startsWith('otelcol_exporter_queue_size'))).toBe(true);
    expect(sum(m, 'otelcol_exporter_enqueue_failed_')).toBe(0);
    expect(sum(m, 'otelcol_receiver_refused_')).toBe(0);
    expect(sum(m, 'otelcol_processor_refused_')).toBe(0);
    // Nothing was given up on either: retries outlasted the outage.
    expect(sum(m, 'otelcol_exporter_send_failed_')).toBe(0);
    // The same through Prometheus, which also scraped the Collector before the SIGKILL.
    const viaProm = await prom.query(
      'max_over_time(sum({__name__=~"otelcol_exporter_(enqueue|send)_failed_.*|otelcol_receiver_refused_.*", job="otel-collector-internal"})[10m:5s])',
    );
    expect(viaProm.map((r) => Number(r.value[1]))).toEqual([0]);
    // And the Collector never warned about a deprecated component name or setting.
    expect(collector.proc.output()).not.toMatch(/deprecat/i);
  });
});
