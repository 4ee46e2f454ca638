// `otel-monitor summary`: the seed's `summary` (status counts and yield), per service and release
// over a window: requests by status class and their yield (share not 5xx), task runs by status and
// their success yield, the health-check status, and the open alerts when an Alertmanager is given.
import { setTimeout as sleep } from 'node:timers/promises';
import { LABEL_HEALTH_CHECK, LABEL_TASK_STATUS, PROM_HEALTH_STATUS, PROM_TASK_RUNS, TASK_STATUS_ERROR, TASK_STATUS_OK } from '../semconv.js';
import { openAlerts, type OpenAlert } from './shared/alertmanager.js';
import { parseArgs, parseDuration, parseLabels, parseNumber, type Parsed } from './shared/args.js';
import { UsageError } from './shared/errors.js';
import { alertmanagerOption, CONNECTION_HELP, CONNECTION_SPEC, prometheusOption, timeoutOption } from './shared/connection-options.js';
import { json, shortTime, table, type Io } from './shared/output.js';
import type { HttpEndpoint } from './shared/http-endpoint.js';
import type { PrometheusClient, Sample } from './shared/prometheus.js';
import { extraMatchers, selector } from './shared/promql.js';
import { dropsText, telemetryDrops, type Drops, type ServiceDrops } from './shared/pipeline-drops.js';

export const HELP = `Usage: otel-monitor summary [options]

For each service and release over a window: requests by status class and their yield (the share
that was not 5xx), task runs by status and their success yield, the health-check status (worst
check; "-" when the service reports none), the telemetry the app itself dropped (its otel_sdk_*
metrics: spans, log records and metric points lost, per reason), and, with --alertmanager-url, its
open alerts.

  --window DURATION        How far back to count (default 1h).
  --label NAME=VALUE       Only series with this label, e.g. deployment_environment_name=production.
                           Repeatable.
  --min-yield RATIO        Exit 1 when a request or task yield is below it: 0.99 or 99%.
  --watch SECONDS          Print the summary again every SECONDS until interrupted.
  --alertmanager-url URL   Also show open alerts (env OTEL_MONITOR_ALERTMANAGER_URL).
  --json                   Print one JSON document instead of the table.
  -h, --help               Show this help.

${CONNECTION_HELP}

Exit status: 0 OK; 1 a yield below --min-yield; 2 bad arguments or a server that cannot be reached;
3 --min-yield given but no service had any request or task run in the window.`;

const REQUESTS = 'http_server_request_duration_seconds_count';
const KEY = ['job', 'service_version'];
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other'] as const;
type StatusClass = (typeof CLASSES)[number];
type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface ServiceSummary {
  service: string;
  release: string;
  requests: { total: number } & Record<StatusClass, number>;
  /** Share of requests that were not 5xx; null without requests. */
  yield: number | null;
  tasks: { ok: number; error: number; total: number };
  taskYield: number | null;
  health: { status: HealthStatus | null; failing: string[] };
  /** Telemetry the app's SDK dropped in the window, per error_type. */
  telemetryDropped: Drops;
  /** Open alert names; null when no Alertmanager was asked. */
  alerts: string[] | null;
  belowMinYield: boolean;
}

interface Options {
  prometheus: PrometheusClient;
  alertmanager: HttpEndpoint | undefined;
  window: string;
  labels: Array<[string, string]>;
  minYield: number | undefined;
  watchSeconds: number | undefined;
  json: boolean;
  timeoutMs: number;
}

export async function summary(argv: readonly string[], io: Io): Promise<number> {
  const parsed = parseArgs(argv, {
    window: 'value', label: 'list', 'min-yield': 'value', watch: 'value', 'alertmanager-url': 'value',
    ...CONNECTION_SPEC, json: 'flag',
  });
  if (parsed.flags.has('help')) {
    io.out(HELP);
    return 0;
  }
  const opts = options(parsed, io);
  if (opts.watchSeconds === undefined) return once(opts, io);
  // Until interrupted: a failing refresh (Prometheus restarting) is reported and retried.
  for (;;) {
    await once(opts, io).catch((err: Error) => io.err(`otel-monitor: ${err.message}`));
    await sleep(opts.watchSeconds * 1000);
  }
}

function options(parsed: Parsed, io: Io): Options {
  const values = parsed.values;
  const timeoutMs = timeoutOption({ values });
  return {
    prometheus: prometheusOption(parsed, io, timeoutMs),
    alertmanager: alertmanagerOption(parsed, io, timeoutMs),
    window: parseDuration(values.get('window') ?? '1h', '--window'),
    labels: parseLabels(parsed.lists.get('label') ?? []),
    minYield: values.has('min-yield') ? parseRatio(values.get('min-yield')!) : undefined,
    watchSeconds: values.has('watch') ? parseNumber(values.get('watch')!, '--watch', { unit: 'seconds' }) : undefined,
    json: parsed.flags.has('json'),
    timeoutMs,
  };
}

export function parseRatio(text: string): number {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  const n = pct ? Number(pct[1]) / 100 : Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new UsageError(`--min-yield must be a ratio such as 0.99 or 99%, got "${text}"`);
  }
  return n;
}

/** Counter growth over the window, exact for series born inside it (they started at 0). */
function growth(metric: string, opts: Options): string {
  const s = selector(metric, extraMatchers(opts.labels));
  const last = `last_over_time(${s}[${opts.window}])`;
  return `${last} - (last_over_time(${s}[${opts.window}] offset ${opts.window}) or ${last} * 0)`;
}

async function once(opts: Options, io: Io): Promise<number> {
  const time = io.now() / 1000;
  const [requests, tasks, health, drops, alerts] = await Promise.all([
    opts.prometheus.query(`sum by (job, service_version, http_response_status_code) (${growth(REQUESTS, opts)})`, time),
    opts.prometheus.query(`sum by (job, service_version, ${LABEL_TASK_STATUS}) (${growth(PROM_TASK_RUNS, opts)})`, time),
    opts.prometheus.query(`min by (job, service_version, ${LABEL_HEALTH_CHECK}) (${selector(PROM_HEALTH_STATUS, extraMatchers(opts.labels))})`, time),
    telemetryDrops(opts.prometheus, opts.window, time, extraMatchers(opts.labels)),
    opts.alertmanager ? openAlerts(opts.alertmanager) : Promise.resolve(undefined),
  ]);
  const rows = buildRows(requests, tasks, health, drops, alerts, opts.minYield);
  const matched = new Set(rows.map((r) => rowKey(r.service, r.release)));
  const other = alerts?.filter((a) => !matched.has(rowKey(a.labels.job ?? '', a.labels.service_version ?? ''))) ?? null;
  const alerting = rows.some((r) => r.belowMinYield);
  const noData = opts.minYield !== undefined && rows.every((r) => r.yield === null && r.taskYield === null);
  const status = alerting ? 'ALERT' : noData ? 'NO_DATA' : 'OK';
  if (opts.json) {
    io.out(json({
      command: 'summary', status, time: new Date(time * 1000).toISOString(), window: opts.window, minYield: opts.minYield ?? null,
      prometheus: opts.prometheus.displayUrl, services: rows,
      otherAlerts: other?.map((a) => ({ alertname: a.labels.alertname ?? '', severity: a.labels.severity ?? '', labels: a.labels })) ?? null,
    }));
  } else {
    io.out(render(rows, other, opts, time));
  }
  return alerting ? 1 : noData ? 3 : 0;
}

const rowKey = (service: string, release: string) => `${service}\u0000${release}`;

function buildRows(requests: Sample[], tasks: Sample[], health: Sample[], drops: ServiceDrops[], alerts: OpenAlert[] | undefined, minYield: number | undefined): ServiceSummary[] {
  const rows = new Map<string, ServiceSummary>();
  const row = (labels: Record<string, string>) => {
    const [service, release] = KEY.map((k) => labels[k] ?? '') as [string, string];
    const key = rowKey(service, release);
    if (!rows.has(key)) {
      rows.set(key, {
        service, release, requests: { total: 0, '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, other: 0 }, yield: null,
        tasks: { ok: 0, error: 0, total: 0 }, taskYield: null, health: { status: null, failing: [] }, telemetryDropped: { total: 0, reasons: {} },
        alerts: null, belowMinYield: false,
      });
    }
    return rows.get(key)!;
  };
  for (const s of requests) {
    const r = row(s.labels);
    const n = Math.round(s.value);
    r.requests[statusClass(s.labels.http_response_status_code)] += n;
    r.requests.total += n;
  }
  for (const s of tasks) {
    const r = row(s.labels);
    const n = Math.round(s.value);
    if (s.labels[LABEL_TASK_STATUS] === TASK_STATUS_OK) r.tasks.ok += n;
    else if (s.labels[LABEL_TASK_STATUS] === TASK_STATUS_ERROR) r.tasks.error += n;
    r.tasks.total += n;
  }
  for (const s of health) addHealth(row(s.labels).health, s.labels[LABEL_HEALTH_CHECK] ?? '', s.value);
  for (const d of drops) row({ job: d.service, service_version: d.release }).telemetryDropped = { total: d.total, reasons: d.reasons };
  for (const r of rows.values()) {
    r.yield = r.requests.total > 0 ? 1 - r.requests['5xx'] / r.requests.total : null;
    r.taskYield = r.tasks.total > 0 ? r.tasks.ok / r.tasks.total : null;
    r.belowMinYield = minYield !== undefined && [r.yield, r.taskYield].some((y) => y !== null && y < minYield);
    if (alerts) r.alerts = alerts.filter((a) => a.labels.job === r.service && a.labels.service_version === r.release).map((a) => a.labels.alertname ?? '').sort();
  }
  return [...rows.values()].sort((a, b) => a.service.localeCompare(b.service) || a.release.localeCompare(b.release));
}

function statusClass(code: string | undefined): StatusClass {
  const m = /^([1-5])\d\d$/.exec(code ?? '');
  return m ? (`${m[1]}xx` as StatusClass) : 'other';
}

function addHealth(h: ServiceSummary['health'], check: string, value: number): void {
  const status: HealthStatus = value >= 1 ? 'healthy' : value > 0 ? 'degraded' : 'unhealthy';
  const rank = { healthy: 0, degraded: 1, unhealthy: 2 };
  if (h.status === null || rank[status] > rank[h.status]) h.status = status;
  if (status !== 'healthy') h.failing = [...h.failing, check].sort();
}

export const percent = (y: number | null) => (y === null ? '-' : `${(y * 100).toFixed(2)}%`);

function render(rows: ServiceSummary[], other: OpenAlert[] | null, opts: Options, time: number): string {
  const head = `Summary over the last ${opts.window} at ${shortTime(time)} (${opts.prometheus.displayUrl})`;
  if (rows.length === 0) return `${head}\nNo requests, task runs or health checks in the window.`;
  const headers = ['SERVICE', 'RELEASE', 'REQUESTS', '2XX', '3XX', '4XX', '5XX', 'YIELD', 'TASK RUNS', 'TASK YIELD', 'HEALTH', 'DROPPED'];
  if (opts.alertmanager) headers.push('ALERTS');
  const lines = rows.map((r) => {
    const cells = [
      r.service, r.release || '-', String(r.requests.total), ...(['2xx', '3xx', '4xx', '5xx'] as const).map((c) => String(r.requests[c])),
      percent(r.yield) + (r.belowMinYield && r.yield !== null && r.yield < opts.minYield! ? ' <' : ''),
      r.tasks.total ? `${r.tasks.ok} ok / ${r.tasks.error} failed` : '-',
      percent(r.taskYield) + (r.belowMinYield && r.taskYield !== null && r.taskYield < opts.minYield! ? ' <' : ''),
      r.health.status === null ? '-' : r.health.failing.length ? `${r.health.status} (${r.health.failing.join(', ')})` : r.health.status,
      dropsText(r.telemetryDropped),
    ];
    if (r.alerts) cells.push(r.alerts.length ? `${r.alerts.length} (${[...new Set(r.alerts)].join(', ')})` : '0');
    return cells;
  });
  const out = [head, table(headers, lines), '', 'Yield: share of requests that were not 5xx; task yield: share of runs that succeeded; dropped: telemetry the app lost, per reason.'];
  if (opts.minYield !== undefined) out.push(`Minimum yield ${percent(opts.minYield)}: ${rows.some((r) => r.belowMinYield) ? 'BELOW (marked <)' : 'met'}.`);
  if (other?.length) out.push(`Other open alerts: ${other.map((a) => `${a.labels.alertname} (${a.labels.severity ?? '-'})`).join(', ')}`);
  return out.join('\n');
}
