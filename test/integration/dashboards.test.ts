// Every query of every provisioned dashboard (custom/ included) against real data: two releases of
// the example app under the distribution with traffic, plus a worker (task runs, health-check
// metrics under the health contract's names, error-level logs) for each release, all through our
// Collector into the real Prometheus and the Loki stand-in. Variables are resolved the way Grafana
// would, by running their own label_values() queries, then substituted. Every PromQL query must
// return series; every LogQL query must pass the Loki contract check (test/helpers/loki-contract.ts)
// and select log entries. Needs `npm run build`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startApp, type RunningApp } from '../helpers/app.js';
import { loadDashboards, panelQueries, parseLabelValues, substitute, type Dashboard } from '../helpers/dashboards.js';
import { checkLogQL, lokiIndexAttributes, toLokiEntry, type LokiEntry } from '../helpers/loki-contract.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { stopAll, waitFor } from '../helpers/process.js';
import { ensureAptPackages, startCollector, startInstrumentedApp, startPrometheus, type RunningPrometheus } from '../helpers/stack.js';

const SERVICE = 'dash-app';
const RELEASES = ['1.0.0', '2.0.0'];
/** What a user would pick where a variable offers a choice. */
const PREFERRED: Record<string, string> = { service: SERVICE, job: SERVICE, baseline: RELEASES[0]!, candidate: RELEASES[1]! };

const dashboards = loadDashboards();
let loki: OtlpReceiver;
let prom: RunningPrometheus;
const apps: RunningApp[] = [];
let traffic: NodeJS.Timeout | undefined;

const lokiEntries = (): LokiEntry[] => {
  const index = lokiIndexAttributes();
  return loki.logRecords().map((r) => toLokiEntry(r, index));
};

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  ensureAptPackages();
  loki = await startOtlpReceiver();
  const collector = await startCollector({ lokiEndpoint: loki.url, env: { OTELCOL_SPAN_METRICS_FLUSH_INTERVAL: '2s' } });
  prom = await startPrometheus({ collector });
  const env = (release: string) => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttp,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_SERVICE_NAME: SERVICE,
    OTEL_RESOURCE_ATTRIBUTES: `service.version=${release},deployment.environment.name=test`,
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    // A burst past a small log queue: queue_full drops for the Telemetry pipeline row. pino records
    // encoded at emit hand a full batch to one of 4 request slots at once, so a synchronous burst
    // fills 4 x 64 in flight plus 64 queued before the first drop: 1000 lines drop about 680.
    OTEL_BLRP_MAX_QUEUE_SIZE: '64',
    LOG_BURST: '1000',
  });
  await Promise.all(
    RELEASES.flatMap((release) => [
      startInstrumentedApp({ collector, service: SERVICE, release }).then((a) => apps.push(a)),
      startApp({ script: 'test/fixtures/dashboard-worker.mjs', env: env(release) }),
    ]),
  );
  let n = 0;
  traffic = setInterval(() => {
    for (const app of apps) {
      for (const path of ['/', `/users/${n % 5}`, ...(n % 3 === 0 ? ['/upstream'] : []), ...(n % 4 === 0 ? ['/fail'] : [])]) {
        void app.get(path).then((r) => r.arrayBuffer(), () => undefined);
      }
    }
    n++;
  }, 250);
  // Both releases' requests, tasks and health checks in Prometheus, each scraped twice (rate()).
  for (const metric of ['http_server_request_duration_seconds_count', 'otel_monitor_task_runs_total', 'otel_monitor_health_check_duration_seconds_count']) {
    await waitFor(
      async () => (await prom.query(`count by (service_version) (rate(${metric}{job="${SERVICE}"}[1m]))`)).length === RELEASES.length,
      { timeoutMs: 120_000, intervalMs: 2000, what: `${metric} of both releases, scraped twice` },
    );
  }
  await waitFor(() => RELEASES.every((r) => lokiEntries().some((e) => e.labels.service_version === r && e.metadata.detected_level === 'error')), {
    timeoutMs: 60_000,
    what: 'error-level logs of both releases at the Loki stand-in',
  });
}, 240_000);

afterAll(async () => {
  if (traffic) clearInterval(traffic);
  await stopAll();
  await loki?.close();
});

/** Grafana's resolution of the dashboard's variables, in order, against the real data. */
async function resolveVariables(d: Dashboard, entries: LokiEntry[]): Promise<{ values: Record<string, string>; problems: string[] }> {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  for (const v of d.json.templating?.list ?? []) {
    if (v.type === 'textbox' || v.type === 'constant') {
      values[v.name] = String(v.query ?? '');
      continue;
    }
    if (v.type === 'custom') {
      values[v.name] = String(v.query).split(',')[0]!.trim();
      continue;
    }
    const { selector, label } = parseLabelValues(v);
    let found: string[];
    if (v.datasource?.type === 'loki') {
      const sel = selector ? checkLogQL(substitute(selector, values), entries) : { errors: [], selected: entries };
      problems.push(...sel.errors.map((e) => `variable ${v.name}: ${e}`));
      found = sel.selected.map((e) => e.labels[label]).filter((x): x is string => x !== undefined);
    } else {
      const r = await prom.query(`group by (${label}) (${selector ? substitute(selector, values) : `{${label}!=""}`})`);
      found = r.map((s) => s.metric[label]).filter((x): x is string => x !== undefined);
    }
    found = [...new Set(found)].sort();
    if (v.sort === 2) found.reverse();
    if (found.length === 0) problems.push(`variable ${v.name}: ${v.definition} has no values`);
    values[v.name] = v.includeAll ? (v.allValue ?? found.join('|')) : PREFERRED[v.name] && found.includes(PREFERRED[v.name]!) ? PREFERRED[v.name]! : (found[0] ?? '');
  }
  return { values, problems };
}

/** Every query of the dashboard that returns nothing (or breaks the Loki contract). */
async function emptyQueries(d: Dashboard): Promise<string[]> {
  const entries = lokiEntries();
  const { values, problems } = await resolveVariables(d, entries);
  for (const q of panelQueries(d)) {
    const expr = substitute(q.expr, values);
    const where = `${q.panel} [${q.refId}]: ${expr}`;
    if (q.datasource.type === 'prometheus') {
      if ((await prom.query(expr)).length === 0) problems.push(`${where} returned no series`);
    } else if (q.datasource.type === 'loki') {
      const check = checkLogQL(expr, entries);
      problems.push(...check.errors.map((e) => `${where}: ${e}`));
      if (check.errors.length === 0 && check.matched.some((m) => m === 0)) problems.push(`${where} selects no log entry`);
    } else {
      problems.push(`${where}: datasource ${q.datasource.type} is not checked`);
    }
  }
  return problems;
}

describe('every dashboard query returns data', () => {
  it.each(dashboards.map((d) => [d.file, d] as const))('%s', async (_file, d) => {
    expect(panelQueries(d).length).toBeGreaterThan(0);
    // Series appear scrape by scrape (10 s); a query still empty after a minute is a defect.
    let problems: string[] = [];
    await waitFor(
      async () => {
        problems = await emptyQueries(d);
        return problems.length === 0;
      },
      { timeoutMs: 60_000, intervalMs: 5000, what: 'every query with data' },
    ).catch(() => undefined);
    expect(problems).toEqual([]);
  }, 120_000);
});

describe('the data behind them', () => {
  it('release health shows what the traffic implies for both releases', async () => {
    const d = dashboards.find((x) => x.file === 'release-health.json')!;
    const { values } = await resolveVariables(d, lokiEntries());
    expect(values).toMatchObject({ service: SERVICE, baseline: RELEASES[0], candidate: RELEASES[1] });
    const run = async (title: string, refId: string) => {
      const q = panelQueries(d).find((x) => x.panel === title && x.refId === refId)!;
      return prom.query(substitute(q.expr, values));
    };
    for (const refId of ['A', 'B']) {
      expect(Number((await run('Throughput', refId))[0]!.value[1])).toBeGreaterThan(0);
      // 3 of every ~35 requests go to /fail (500).
      const ratio = Number((await run('Error ratio (5xx or error.type)', refId))[0]!.value[1]);
      expect(ratio).toBeGreaterThan(0.02);
      expect(ratio).toBeLessThan(0.25);
      expect(Number((await run('p95 latency', refId))[0]!.value[1])).toBeGreaterThan(0);
    }
    const routes = await run('Busiest routes (candidate ${candidate})', 'A');
    const top = routes.sort((a, b) => Number(b.value[1]) - Number(a.value[1]))[0]!;
    expect(top.metric.http_route).toBe('/');
    expect(routes.map((r) => r.metric.http_route)).toEqual(expect.arrayContaining(['/', '/users/:id', '/upstream', '/fail']));
  });

  it('the health contract: exact Prometheus names and labels', async () => {
    const status = await prom.query(`otel_monitor_health_status{job="${SERVICE}"}`);
    const byCheck = Object.fromEntries(status.map((s) => [`${s.metric.otel_monitor_health_check}/${s.metric.otel_monitor_health_critical}`, Number(s.value[1])]));
    expect(byCheck).toEqual({ 'database/true': 1, 'cache/false': 0.5, 'disk/false': 0 });
    expect((await prom.query(`otel_monitor_health_overall_status{job="${SERVICE}"}`)).length).toBe(RELEASES.length);
    expect((await prom.query(`otel_monitor_health_check_duration_seconds_bucket{job="${SERVICE}", le="+Inf"}`)).length).toBeGreaterThan(0);
  });

  it('error-level log entries carry the trace_id the error-log panels link from', () => {
    const errors = lokiEntries().filter((e) => Number(e.metadata.severity_number) >= 17);
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(e.metadata.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(errors[0]!.labels).toMatchObject({ service_name: SERVICE, deployment_environment_name: 'test' });
  });

  it('the contract check fails a query on a label Loki does not index, and one that selects nothing', () => {
    const entries = lokiEntries();
    expect(checkLogQL(`{http_route="/users/:id"}`, entries).errors.join()).toMatch(/not an index label/);
    expect(checkLogQL(`{service_name="${SERVICE}"} | no_such_field = "x"`, entries).errors.join()).toMatch(/no log entry has/);
    expect(checkLogQL(`{service_name="${SERVICE}", service_version="9.9.9"}`, entries).matched).toEqual([0]);
  });

  it('an empty PromQL result is caught (a misspelt metric)', async () => {
    expect(await prom.query(`rate(http_server_request_duration_second_count{job="${SERVICE}"}[1m])`)).toEqual([]);
  });
});
