// Builds the `promtool test rules` file for the rules generated from a thresholds file: for every
// alert and every level, input series that sit just below / just above the threshold, and checks
// that the alert is silent below it, pending until its `for:` has passed (checked one evaluation
// before), firing after, and resolved once the series are healthy again. The series are written
// independently of the rule expressions, in the shape our pipeline exports (label names checked
// against a running Collector + Prometheus), so a wrong metric, label, comparison or `for:` fails.
import type { Levels, Level, Thresholds } from '../../src/cli/rules/thresholds.js';

type Sev = 'warning' | 'critical';
interface Series {
  series: string;
  values: string;
}
interface Check {
  eval_time: string;
  alertname: string;
  exp_alerts: Array<{ exp_labels: Record<string, string>; exp_annotations: Record<string, string> }>;
}
interface TestGroup {
  name: string;
  interval: string;
  input_series: Series[];
  alert_rule_test: Check[];
}

const minutes = (d: string) => {
  let s = 0;
  for (const m of d.matchAll(/(\d+)(ms|s|m|h|d)/g)) s += Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 'm'];
  return s / 60;
};

/** Go's %.4g for the values these cases produce (no exponents). */
const g4 = (v: number) => String(Number(v.toPrecision(4)));
export const humanizePercentage = (v: number) => `${g4(v * 100)}%`;
export function humanizeDuration(v: number): string {
  if (v === 0) return '0s';
  if (v >= 1) {
    const s = Math.trunc(v);
    const [d, h, m, sec] = [Math.trunc(s / 86400), Math.trunc(s / 3600) % 24, Math.trunc(s / 60) % 60, s % 60];
    if (d) return `${d}d ${h}h ${m}m ${sec}s`;
    if (h) return `${h}h ${m}m ${sec}s`;
    if (m) return `${m}m ${sec}s`;
    return `${g4(v)}s`;
  }
  let prefix = '';
  for (const p of ['m', 'u', 'n']) {
    if (v >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${g4(v)}${prefix}s`;
}

const repeat = (v: number | string, n: number) => Array.from({ length: n }, () => String(v));
/** A gauge: `bad` for `badMinutes` samples, then `good` until `total`. */
const gauge = (bad: number, good: number, badMinutes: number, total: number) =>
  [...repeat(bad, badMinutes), ...repeat(good, total - badMinutes)].join(' ');
/** A counter growing by `bad` per minute for `badMinutes`, then by `good`. */
function counter(bad: number, good: number, badMinutes: number, total: number): string {
  const out: number[] = [];
  let v = 0;
  for (let i = 0; i < total; i++) {
    out.push(Math.round(v * 1000) / 1000);
    v += i < badMinutes ? bad : good;
  }
  return out.join(' ');
}
const sel = (name: string, labels: Record<string, string>) =>
  `${name}{${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`;

const APP = { job: 'shop', deployment_environment_name: 'production', service_version: '1.4.2' };
const INSTANCE = { ...APP, instance: 'i-1' };
const SERVICE_TEXT = 'shop 1.4.2 (production)';

/** One threshold alert: how to build series for a value, and what the alert then says. */
interface MetricCase {
  alert: string;
  levels: Levels;
  /** First evaluation (minutes) at which the condition can hold: 0 for gauges, 1 for rates. */
  t0: number;
  /** Minutes after the series turn healthy until the alert has resolved. */
  settle: number;
  /** The value that sits just past `threshold` (or just short of it when `past` is false). */
  near: (threshold: number, past: boolean) => number;
  healthy: number;
  series: (value: number, badMinutes: number, total: number) => Series[];
  labels: Record<string, string>;
  summary: (value: number, level: Level) => string;
}

function metricGroup(c: MetricCase, level: 'below' | Sev): TestGroup {
  const { warning: w, critical: cr } = c.levels;
  const fw = minutes(w.for);
  const fc = minutes(cr.for);
  const recover = c.t0 + Math.max(fw, fc) + 5;
  const total = recover + c.settle + 5;
  const value = level === 'below' ? c.near(w.threshold, false) : c.near(c.levels[level].threshold, true);
  const firing = (sevs: Sev[]) =>
    sevs.map((s) => ({
      exp_labels: { severity: s, ...c.labels },
      exp_annotations: { summary: c.summary(value, c.levels[s]), ...(c.levels[s].shown ? { threshold: c.levels[s].shown } : {}) },
    }));
  const checks: Check[] = [];
  const at = (t: number, sevs: Sev[]) => checks.push({ eval_time: `${t}m`, alertname: c.alert, exp_alerts: firing(sevs) });
  if (level === 'below') {
    at(c.t0 + Math.max(fw, fc) + 1, []);
  } else {
    const sevs: Sev[] = level === 'warning' ? ['warning'] : ['warning', 'critical'];
    // Each level: one evaluation before its `for:` has passed it is not firing yet; at it, it is.
    const times = new Set<number>();
    for (const s of sevs) {
      const f = minutes(c.levels[s].for);
      if (f > 0) times.add(c.t0 + f - 1);
      times.add(c.t0 + f);
    }
    for (const t of [...times].sort((a, b) => a - b)) {
      at(t, sevs.filter((s) => c.t0 + minutes(c.levels[s].for) <= t));
    }
    at(recover + c.settle, []);
  }
  return { name: `${c.alert} ${level}`, interval: '1m', input_series: c.series(value, level === 'below' ? total : recover, total), alert_rule_test: checks };
}

const ratio = { near: (t: number, past: boolean) => t + (past ? 0.001 : -0.001) };
const secs = { near: (t: number, past: boolean) => t + (past ? 0.001 : -0.001) };

function metricCases(t: Thresholds): MetricCase[] {
  const cases: Array<MetricCase | undefined> = [];
  const host = t.host;
  if (host.cpu)
    cases.push({
      alert: 'HostCpuHigh', levels: host.cpu, t0: 0, settle: 0, ...ratio, healthy: 0.1, labels: INSTANCE,
      series: (v, bad, total) => [
        { series: sel('system_cpu_utilization', { ...INSTANCE, cpu_logical_number: '0', cpu_mode: 'idle', otel_scope_name: 'host' }), values: gauge(1 - v, 0.9, bad, total) },
        { series: sel('system_cpu_utilization', { ...INSTANCE, cpu_logical_number: '0', cpu_mode: 'user', otel_scope_name: 'host' }), values: gauge(v, 0.1, bad, total) },
      ],
      summary: (v, l) => `Host CPU of ${SERVICE_TEXT} instance i-1 is ${humanizePercentage(1 - (1 - v))} busy, above ${l.shown} for ${l.for}.`,
    });
  if (host.memory)
    cases.push({
      alert: 'HostMemoryHigh', levels: host.memory, t0: 0, settle: 0, ...ratio, healthy: 0.3, labels: INSTANCE,
      series: (v, bad, total) => [
        { series: sel('system_memory_utilization', { ...INSTANCE, system_memory_state: 'used' }), values: gauge(v, 0.3, bad, total) },
        { series: sel('system_memory_utilization', { ...INSTANCE, system_memory_state: 'free' }), values: gauge(1 - v, 0.7, bad, total) },
      ],
      summary: (v, l) => `Host memory of ${SERVICE_TEXT} instance i-1 is ${humanizePercentage(v)} used, above ${l.shown} for ${l.for}.`,
    });
  if (host.disk)
    cases.push({
      alert: 'HostDiskFull', levels: host.disk, t0: 0, settle: 0, ...ratio, healthy: 0.4, labels: { ...INSTANCE, system_filesystem_mountpoint: '/' },
      series: (v, bad, total) => [{ series: sel('system_filesystem_utilization_ratio', { ...INSTANCE, system_filesystem_mountpoint: '/' }), values: gauge(v, 0.4, bad, total) }],
      summary: (v, l) => `Disk / of ${SERVICE_TEXT} instance i-1 is ${humanizePercentage(v)} full, above ${l.shown} for ${l.for}.`,
    });
  if (t.runtime.eventLoopDelayP99)
    cases.push({
      alert: 'EventLoopDelayHigh', levels: t.runtime.eventLoopDelayP99, t0: 0, settle: 0, ...secs, healthy: 0.01, labels: INSTANCE,
      series: (v, bad, total) => [{ series: sel('nodejs_eventloop_delay_p99_seconds', INSTANCE), values: gauge(v, 0.01, bad, total) }],
      summary: (v, l) => `Event-loop delay (p99) of ${SERVICE_TEXT} instance i-1 is ${humanizeDuration(v)}, above ${l.shown} for ${l.for}.`,
    });
  cases.push(...httpCases(t));
  if (t.health.criticalChecks) cases.push(healthCase(t.health.criticalChecks));
  cases.push(...collectorCases(t));
  cases.push(...pipelineCases(t));
  return cases.filter((c): c is MetricCase => c !== undefined);
}

function httpCases(t: Thresholds): MetricCase[] {
  const w = t.http.window;
  const window = minutes(w);
  const route = (r: string, code: string) => ({ ...INSTANCE, http_request_method: 'GET', http_route: r, http_response_status_code: code });
  const out: MetricCase[] = [];
  if (t.http.errorRatio)
    out.push({
      alert: 'HttpErrorRatioHigh', levels: t.http.errorRatio, t0: 1, settle: window + 1, ...ratio, healthy: 0,
      labels: { ...APP, http_route: '/orders/:id' },
      // 1000 requests a minute on the failing route, a share `v` of them 5xx; another route is fine.
      series: (v, bad, total) => [
        { series: sel('http_server_request_duration_seconds_count', route('/orders/:id', '500')), values: counter(1000 * v, 0, bad, total) },
        { series: sel('http_server_request_duration_seconds_count', route('/orders/:id', '200')), values: counter(1000 * (1 - v), 1000, bad, total) },
        { series: sel('http_server_request_duration_seconds_count', route('/', '200')), values: counter(500, 500, bad, total) },
      ],
      summary: (v, l) => `${SERVICE_TEXT} route /orders/:id: ${humanizePercentage(v)} of requests failed (5xx) over ${w}, above ${l.shown} for ${l.for}.`,
    });
  if (t.http.latencyP95)
    out.push({
      alert: 'HttpLatencyP95High', levels: t.http.latencyP95, t0: 1, settle: window + 1, ...secs, healthy: 0,
      labels: { ...APP, http_route: '/slow' },
      // Every request in one bucket (0, le]: histogram_quantile interpolates p95 = 0.95 * le.
      series: (v, bad, total) => {
        const le = String(v / 0.95);
        const b = (l: string) => sel('http_server_request_duration_seconds_bucket', { ...route('/slow', '200'), le: l });
        return [
          { series: b(le), values: counter(100, 0, bad, total) },
          { series: b('+Inf'), values: counter(100, 0, bad, total) },
        ];
      },
      summary: (v, l) => `${SERVICE_TEXT} route /slow: p95 latency ${humanizeDuration(v)} over ${w}, above ${l.shown} for ${l.for}.`,
    });
  return out;
}

function healthCase(levels: Levels): MetricCase {
  const check = (name: string, critical: string) => sel('otel_monitor_health_status', { ...INSTANCE, otel_monitor_health_check: name, otel_monitor_health_critical: critical });
  return {
    alert: 'HealthCheckFailing', levels, t0: 0, settle: 0, healthy: 1,
    // Status values are discrete: "past" a level is the level itself, "short of" it is one better.
    near: (t, past) => (past ? t : t + 0.5),
    labels: { ...INSTANCE, otel_monitor_health_check: 'postgres' },
    series: (v, bad, total) => [
      { series: check('postgres', 'true'), values: gauge(v, 1, bad, total) },
      // A non-critical check that is down never alerts.
      { series: check('cache', 'false'), values: gauge(0, 0, total, total) },
    ],
    summary: (v, l) => `Critical health check postgres of ${SERVICE_TEXT} instance i-1 is ${l.shown} or worse (status ${v}) for ${l.for}.`,
  };
}

/** The app's own pipeline metrics (otel_sdk_*): drops with a reason, and an exporter that never succeeds. */
function pipelineCases(t: Thresholds): MetricCase[] {
  const p = t.pipeline;
  const out: MetricCase[] = [];
  const processor = { ...INSTANCE, otel_component_type: 'batching_span_processor', otel_component_name: 'batching_span_processor/0' };
  const exporter = { ...INSTANCE, otel_component_type: 'otlp_http_log_exporter', otel_component_name: 'otlp_http_log_exporter/0' };
  if (p.dropped)
    out.push({
      alert: 'TelemetryDropped', levels: p.dropped, t0: 1, settle: 6, healthy: 0,
      near: (_t, past) => (past ? 10 : 0),
      labels: { ...APP, error_type: 'queue_full' },
      series: (v, bad, total) => [
        { series: sel('otel_sdk_processor_span_processed_total', { ...processor, error_type: 'queue_full' }), values: counter(v, 0, bad, total) },
        // Spans handed to the exporter (no error_type) never alert.
        { series: sel('otel_sdk_processor_span_processed_total', processor), values: counter(500, 500, bad, total) },
      ],
      summary: (_v, l) => `${SERVICE_TEXT} is dropping telemetry (queue_full) for ${l.for}.`,
    });
  if (p.exporterFailing)
    out.push({
      alert: 'TelemetryExporterFailing', levels: p.exporterFailing, t0: 1, settle: 6, healthy: 0,
      near: (_t, past) => (past ? 10 : 0),
      labels: { ...APP, otel_component_type: 'otlp_http_log_exporter' },
      series: (v, bad, total) => [
        { series: sel('otel_sdk_exporter_log_exported_total', { ...exporter, error_type: 'ECONNREFUSED' }), values: counter(v, 0, bad, total) },
        // Not one success while it fails; every export succeeds once it has recovered.
        { series: sel('otel_sdk_exporter_log_exported_total', exporter), values: counter(v > 0 ? 0 : 100, 100, bad, total) },
      ],
      summary: (_v, l) => `The otlp_http_log_exporter of ${SERVICE_TEXT} has failed every export for ${l.for}.`,
    });
  return out;
}

function collectorCases(t: Thresholds): MetricCase[] {
  const c = t.collector;
  const own = { job: 'otel-collector-internal', instance: '127.0.0.1:8888' };
  const out: MetricCase[] = [];
  if (c.exportFailures)
    out.push({
      alert: 'OtelCollectorExportFailing', levels: c.exportFailures, t0: 1, settle: 6, ...ratio, healthy: 0,
      near: (th, past) => (past ? th + 0.001 : Math.max(0, th - 0.001)),
      labels: { exporter: 'otlp_http/loki' },
      series: (v, bad, total) => [
        { series: sel('otelcol_exporter_send_failed_log_records', { ...own, exporter: 'otlp_http/loki' }), values: counter(1000 * v, 0, bad, total) },
        { series: sel('otelcol_exporter_sent_log_records', { ...own, exporter: 'otlp_http/loki' }), values: counter(1000 * (1 - v), 1000, bad, total) },
        { series: sel('otelcol_exporter_sent_metric_points', { ...own, exporter: 'prometheus' }), values: counter(1000, 1000, bad, total) },
      ],
      summary: (v, l) => `Collector exporter otlp_http/loki fails to send ${humanizePercentage(v)} of its data, above ${l.shown} for ${l.for}.`,
    });
  if (c.queueFill)
    out.push({
      alert: 'OtelCollectorQueueFilling', levels: c.queueFill, t0: 0, settle: 0, ...ratio, healthy: 0,
      labels: { exporter: 'otlp_http/sentry', data_type: 'traces' },
      series: (v, bad, total) => [
        { series: sel('otelcol_exporter_queue_size', { ...own, exporter: 'otlp_http/sentry', data_type: 'traces' }), values: gauge(5000 * v, 0, bad, total) },
        { series: sel('otelcol_exporter_queue_capacity', { ...own, exporter: 'otlp_http/sentry', data_type: 'traces' }), values: gauge(5000, 5000, total, total) },
      ],
      summary: (v, l) => `Collector exporter otlp_http/sentry (traces) queue is ${humanizePercentage(v)} full, above ${l.shown} for ${l.for}.`,
    });
  if (c.droppingData)
    out.push({
      alert: 'OtelCollectorDroppingData', levels: c.droppingData, t0: 1, settle: 6, healthy: 0,
      near: (_t, past) => (past ? 10 : 0),
      labels: { exporter: 'otlp_http/loki' },
      series: (v, bad, total) => [{ series: sel('otelcol_exporter_enqueue_failed_log_records', { ...own, exporter: 'otlp_http/loki' }), values: counter(v, 0, bad, total) }],
      summary: (_v, l) => `Collector exporter otlp_http/loki is dropping data (queue full) for ${l.for}.`,
    });
  if (c.down)
    out.push({
      alert: 'OtelCollectorDown', levels: c.down, t0: 0, settle: 0, healthy: 1,
      near: (_t, past) => (past ? 0 : 1),
      labels: own,
      series: (v, bad, total) => [{ series: sel('up', own), values: gauge(v, 1, bad, total) }],
      summary: (_v, l) => `The OpenTelemetry Collector 127.0.0.1:8888 has not answered scrapes for ${l.for}.`,
    });
  return out;
}

// ---- tasks and last-seen: timestamps, promtool's clock starts at Unix time 0 ------------------

function taskGroups(t: Thresholds): TestGroup[] {
  const groups: TestGroup[] = [];
  for (const task of t.tasks.list) {
    const label = { otel_monitor_task_name: task.name };
    const tsName = (k: string) => sel(`otel_monitor_task_last_${k}_timestamp_seconds`, { ...label, job: 'worker', instance: 'w-1' });
    const lateW = task.late.warning;
    const lateC = task.late.critical;
    // Condition `age > after` first holds one evaluation after `after`; then its `for:` runs.
    const lateAt = (l: Level) => l.threshold / 60 + 1 + minutes(l.for);
    const failAt = (l: Level) => 5 + minutes(l.for);
    const recover = Math.ceil(Math.max(lateAt(lateC), failAt(task.failing.critical))) + 5;
    const total = recover + 5;
    const checks: Check[] = [];
    const late = (l: Level, s: Sev) => ({
      exp_labels: { severity: s, ...label },
      exp_annotations: {
        summary: `Task ${task.name} last succeeded {AGE} ago, more than the allowed ${g4(l.threshold / 60)} minutes.`,
        maximum_minutes: g4(l.threshold / 60),
      },
    });
    const lateCheck = (time: number, sevs: Sev[]) =>
      checks.push({
        eval_time: `${time}m`,
        alertname: 'OtelMonitorTaskLate',
        exp_alerts: sevs.map((s) => {
          const a = late(task.late[s], s);
          a.exp_annotations.summary = a.exp_annotations.summary.replace('{AGE}', humanizeDuration(time * 60));
          return a;
        }),
      });
    lateCheck(lateAt(lateW) - 1, []);
    lateCheck(lateAt(lateW), ['warning']);
    lateCheck(lateAt(lateC) - 1, ['warning']);
    lateCheck(lateAt(lateC), ['warning', 'critical']);
    lateCheck(recover, []);
    const failCheck = (time: number, sevs: Sev[]) =>
      checks.push({
        eval_time: `${time}m`,
        alertname: 'OtelMonitorTaskFailing',
        exp_alerts: sevs.map((s) => ({
          exp_labels: { severity: s, ...label },
          exp_annotations: {
            summary: `Task ${task.name} failed on its latest run, at 1970-01-01 00:05:00 +0000 UTC.`,
            maximum_minutes: g4(task.late[s].threshold / 60),
          },
        })),
      });
    failCheck(4, []);
    const fw = failAt(task.failing.warning);
    const fc = failAt(task.failing.critical);
    if (fw > 5) failCheck(fw - 1, []);
    failCheck(fw, ['warning']);
    failCheck(fc - 1, fc - 1 >= fw ? ['warning'] : []);
    failCheck(fc, ['warning', 'critical']);
    failCheck(recover, []);
    groups.push({
      name: `task ${task.name}: late and failing`,
      interval: '1m',
      input_series: [
        // Succeeded at minute 0, failed at minute 5, succeeded again at `recover`.
        { series: tsName('success'), values: [...repeat(0, recover), ...repeat(recover * 60, total - recover)].join(' ') },
        { series: tsName('failure'), values: [...repeat('_', 5), ...repeat(300, total - 5)].join(' ') },
      ],
      alert_rule_test: checks,
    });
    groups.push(neverGroup(`task ${task.name}: never reported`, 'OtelMonitorTaskNeverReported', task.late, label, tsName('success'),
      () => `Task ${task.name} has not reported any run in the last ${t.tasks.lookback}.`, 'maximum_minutes',
      t.tasks.list.filter((o) => o.name !== task.name).map((o) => ({ series: sel('otel_monitor_task_last_success_timestamp_seconds', { otel_monitor_task_name: o.name }), values: '' }))));
  }
  return groups;
}

/** No series until the `for:` of both levels has passed, then a report: fires, then resolves. */
function neverGroup(name: string, alert: string, levels: Levels, label: Record<string, string>, series: string, summary: (l: Level) => string, key: string, others: Series[]): TestGroup {
  const fw = levels.warning.threshold / 60;
  const fc = levels.critical.threshold / 60;
  const appear = Math.ceil(fc) + 5;
  const checks: Check[] = [];
  const at = (time: number, sevs: Sev[]) =>
    checks.push({
      eval_time: `${time}m`,
      alertname: alert,
      exp_alerts: sevs.map((s) => ({ exp_labels: { severity: s, ...label }, exp_annotations: { summary: summary(levels[s]), [key]: g4(levels[s].threshold / 60) } })),
    });
  at(fw - 1, []);
  at(fw, ['warning']);
  at(fc - 1, ['warning']);
  at(fc, ['warning', 'critical']);
  at(appear, []);
  // `others`: the other tasks (roles) report all along, so only this one is absent.
  const along = others.map((o) => ({ series: o.series, values: repeat(0, appear + 5).join(' ') }));
  return { name, interval: '1m', input_series: [{ series, values: [...repeat('_', appear), ...repeat(appear * 60, 5)].join(' ') }, ...along], alert_rule_test: checks };
}

function userGroups(t: Thresholds): TestGroup[] {
  const groups: TestGroup[] = [];
  for (const { role, notSeen } of t.lastSeen.list) {
    const user = { enduser_id: '42', user_roles: `${role},uploader`, otel_monitor_user_account_roles: 'acme' };
    const series = (u: Record<string, string>) => sel('otel_monitor_user_last_seen_timestamp_seconds', { ...u, job: 'api', instance: 'a-1' });
    const at = (l: Level) => l.threshold / 60 + 1 + minutes(l.for);
    const recover = Math.ceil(at(notSeen.critical)) + 5;
    const checks: Check[] = [];
    const check = (time: number, sevs: Sev[]) =>
      checks.push({
        eval_time: `${time}m`,
        alertname: 'OtelMonitorUserNotSeen',
        exp_alerts: sevs.map((s) => ({
          exp_labels: { severity: s, otel_monitor_role: role, ...user },
          exp_annotations: {
            summary: `User 42 (roles ${role},uploader; account roles acme) was last seen ${humanizeDuration(time * 60)} ago, more than the allowed ${g4(notSeen[s].threshold / 60)} minutes.`,
            maximum_minutes: g4(notSeen[s].threshold / 60),
          },
        })),
      });
    check(at(notSeen.warning) - 1, []);
    check(at(notSeen.warning), ['warning']);
    check(at(notSeen.critical) - 1, ['warning']);
    check(at(notSeen.critical), ['warning', 'critical']);
    check(recover, []);
    groups.push({
      name: `last seen ${role}`,
      interval: '1m',
      input_series: [
        { series: series(user), values: [...repeat(0, recover), ...repeat(recover * 60, 5)].join(' ') },
        // "ro${role}" has the role only as a substring: never matched.
        { series: series({ ...user, enduser_id: '7', user_roles: `ro${role}` }), values: repeat(0, recover + 5).join(' ') },
      ],
      alert_rule_test: checks,
    });
    groups.push(neverGroup(`no user seen ${role}`, 'OtelMonitorNoUserSeen', notSeen, { otel_monitor_role: role }, series(user),
      () => `No user with role ${role} has been seen in the last ${t.lastSeen.lookback}.`, 'maximum_minutes',
      t.lastSeen.list.filter((o) => o.role !== role).map((o) => ({ series: series({ ...user, user_roles: o.role }), values: '' }))));
  }
  return groups;
}

/** The promtool test file (as an object; the caller writes YAML). */
export function ruleTests(t: Thresholds, ruleFile: string, only?: (alert: string) => boolean) {
  const groups: TestGroup[] = [];
  for (const c of metricCases(t).filter((x) => !only || only(x.alert))) for (const level of ['below', 'warning', 'critical'] as const) groups.push(metricGroup(c, level));
  if (!only) groups.push(...taskGroups(t), ...userGroups(t));
  return { rule_files: [ruleFile], evaluation_interval: '1m', tests: groups };
}
