// Prometheus alerting rules from a thresholds file: for every alert one rule per severity, each
// with its own threshold and `for:`. The metric names are the ones our pipeline really exports
// (checked against a running Collector + Prometheus): host metrics from the host-metrics package,
// disk and event loop from our own and the runtime-node instrumentation, HTTP from the server
// duration histogram, the Collector's own telemetry without a `_total` suffix.
import { LABEL_HEALTH_CHECK, LABEL_HEALTH_CRITICAL, PROM_HEALTH_STATUS } from '../../semconv.js';
import { roleRules, taskRules } from './task-rules.js';
import { PROM_SDK_DROPS } from '../shared/pipeline-drops.js';
import type { Rule, RuleGroup } from './rule-yaml.js';
import { SEVERITIES, type Level, type Levels, type Severity, type Thresholds } from './thresholds.js';

/** The labels that say which service, environment and release an app series belongs to. */
const SERVICE = ['job', 'deployment_environment_name', 'service_version'];
const INSTANCE = [...SERVICE, 'instance'];
const ROUTE = [...SERVICE, 'http_route'];


const by = (labels: readonly string[]) => `by (${labels.join(', ')})`;
/** Collector item counters, spans / metric points / log records; `_total` only on older builds. */
const collectorCounter = (name: string) => `{__name__=~"otelcol_exporter_${name}_(spans|metric_points|log_records)(_total)?"}`;
const SERVICE_TEXT = '{{ $labels.job }} {{ $labels.service_version }} ({{ $labels.deployment_environment_name }})';

/** Prometheus prints floats in full; keep thresholds as short as the file wrote them. */
const num = (n: number) => String(Number(n.toPrecision(12)));

interface Spec {
  alert: string;
  levels: Levels | undefined;
  /** The expression with `THRESHOLD` where the level's value goes. */
  expr: (threshold: string) => string;
  summary: (level: Level) => string;
}

function leveled(spec: Spec): Rule[] {
  if (!spec.levels) return [];
  return SEVERITIES.map((severity: Severity) => {
    const level = spec.levels![severity];
    return {
      alert: spec.alert,
      expr: spec.expr(num(level.threshold)),
      for: level.for,
      labels: { severity },
      annotations: { summary: spec.summary(level), ...(level.shown ? { threshold: level.shown } : {}) },
    };
  });
}

function hostRules(t: Thresholds): Rule[] {
  return [
    ...leveled({
      alert: 'HostCpuHigh',
      levels: t.host.cpu,
      // Busy share of all logical CPUs: 1 - the idle share, averaged over CPUs.
      expr: (x) => `1 - avg ${by(INSTANCE)} (system_cpu_utilization{cpu_mode="idle"}) > ${x}`,
      summary: (l) => `Host CPU of ${SERVICE_TEXT} instance {{ $labels.instance }} is {{ $value | humanizePercentage }} busy, above ${l.shown} for ${l.for}.`,
    }),
    ...leveled({
      alert: 'HostMemoryHigh',
      levels: t.host.memory,
      expr: (x) => `max ${by(INSTANCE)} (system_memory_utilization{system_memory_state="used"}) > ${x}`,
      summary: (l) => `Host memory of ${SERVICE_TEXT} instance {{ $labels.instance }} is {{ $value | humanizePercentage }} used, above ${l.shown} for ${l.for}.`,
    }),
    ...leveled({
      alert: 'HostDiskFull',
      levels: t.host.disk,
      expr: (x) => `max ${by([...INSTANCE, 'system_filesystem_mountpoint'])} (system_filesystem_utilization_ratio) > ${x}`,
      summary: (l) =>
        `Disk {{ $labels.system_filesystem_mountpoint }} of ${SERVICE_TEXT} instance {{ $labels.instance }} is {{ $value | humanizePercentage }} full, above ${l.shown} for ${l.for}.`,
    }),
    ...leveled({
      alert: 'EventLoopDelayHigh',
      levels: t.runtime.eventLoopDelayP99,
      expr: (x) => `max ${by(INSTANCE)} (nodejs_eventloop_delay_p99_seconds) > ${x}`,
      summary: (l) => `Event-loop delay (p99) of ${SERVICE_TEXT} instance {{ $labels.instance }} is {{ $value | humanizeDuration }}, above ${l.shown} for ${l.for}.`,
    }),
  ];
}

function httpRules(t: Thresholds): Rule[] {
  const w = t.http.window;
  const rate = (matchers: string) => `sum ${by(ROUTE)} (rate(http_server_request_duration_seconds_count${matchers}[${w}]))`;
  return [
    ...leveled({
      alert: 'HttpErrorRatioHigh',
      levels: t.http.errorRatio,
      expr: (x) => `${rate('{http_response_status_code=~"5.."}')}\n  / ${rate('')}\n  > ${x}`,
      summary: (l) => `${SERVICE_TEXT} route {{ $labels.http_route }}: {{ $value | humanizePercentage }} of requests failed (5xx) over ${w}, above ${l.shown} for ${l.for}.`,
    }),
    ...leveled({
      alert: 'HttpLatencyP95High',
      levels: t.http.latencyP95,
      expr: (x) => `histogram_quantile(0.95, sum ${by([...ROUTE, 'le'])} (rate(http_server_request_duration_seconds_bucket[${w}])))\n  > ${x}`,
      summary: (l) => `${SERVICE_TEXT} route {{ $labels.http_route }}: p95 latency {{ $value | humanizeDuration }} over ${w}, above ${l.shown} for ${l.for}.`,
    }),
  ];
}

function healthRules(t: Thresholds): Rule[] {
  // 1 healthy, 0.5 degraded, 0 unhealthy: a level fires at its status or worse.
  return leveled({
    alert: 'HealthCheckFailing',
    levels: t.health.criticalChecks,
    expr: (x) => `min ${by([...INSTANCE, LABEL_HEALTH_CHECK])} (${PROM_HEALTH_STATUS}{${LABEL_HEALTH_CRITICAL}="true"}) <= ${x}`,
    summary: (l) => `Critical health check {{ $labels.${LABEL_HEALTH_CHECK} }} of ${SERVICE_TEXT} instance {{ $labels.instance }} is ${l.shown} or worse (status {{ $value }}) for ${l.for}.`,
  });
}

function collectorRules(t: Thresholds): Rule[] {
  const failed = `sum by (exporter) (rate(${collectorCounter('send_failed')}[5m]))`;
  const sent = `sum by (exporter) (rate(${collectorCounter('sent')}[5m]))`;
  return [
    ...leveled({
      alert: 'OtelCollectorExportFailing',
      levels: t.collector.exportFailures,
      // Share of items the exporter gave up on (after its retries) among all it handled.
      expr: (x) => `${failed}\n  / (${sent} + ${failed})\n  > ${x}`,
      summary: (l) => `Collector exporter {{ $labels.exporter }} fails to send {{ $value | humanizePercentage }} of its data, above ${l.shown} for ${l.for}.`,
    }),
    ...leveled({
      alert: 'OtelCollectorQueueFilling',
      levels: t.collector.queueFill,
      expr: (x) => `max by (exporter, data_type) (otelcol_exporter_queue_size / otelcol_exporter_queue_capacity) > ${x}`,
      summary: (l) => `Collector exporter {{ $labels.exporter }} ({{ $labels.data_type }}) queue is {{ $value | humanizePercentage }} full, above ${l.shown} for ${l.for}.`,
    }),
    ...leveled({
      alert: 'OtelCollectorDroppingData',
      levels: t.collector.droppingData,
      expr: () => `sum by (exporter) (rate(${collectorCounter('enqueue_failed')}[5m])) > 0`,
      summary: (l) => `Collector exporter {{ $labels.exporter }} is dropping data (queue full) for ${l.for}.`,
    }),
    ...leveled({
      alert: 'OtelCollectorDown',
      levels: t.collector.down,
      expr: () => 'up{job="otel-collector-internal"} == 0',
      summary: (l) => `The OpenTelemetry Collector {{ $labels.instance }} has not answered scrapes for ${l.for}.`,
    }),
  ];
}

/** The app's own pipeline metrics (otel.sdk.*, src/exporters/pipeline-metrics.ts) as Prometheus names them. */
const sdkExported = (failed: boolean) => `{__name__=~"otel_sdk_exporter_(span|log|metric_data_point)_exported_total", error_type${failed ? '!' : ''}=""}`;

/**
 * Growth of the counters in `sel` over 5m, per `labels`, or a series new in the window: a drop
 * reason's series only appears at its first drop, often already above 0 (a burst before the first
 * export), which `increase()` alone never sees.
 */
function grew(sel: string, labels: readonly string[]): string {
  return `(sum ${by(labels)} (increase(${sel}[5m])) > 0 or sum ${by(labels)} (${sel} unless ${sel} offset 5m) > 0)`;
}

function pipelineRules(t: Thresholds): Rule[] {
  const exporter = [...SERVICE, 'otel_component_type'];
  return [
    ...leveled({
      alert: 'TelemetryDropped',
      levels: t.pipeline.dropped,
      // Any drop, per reason: a drop is data nobody will see again.
      expr: () => grew(PROM_SDK_DROPS, [...SERVICE, 'error_type']),
      summary: (l) => `${SERVICE_TEXT} is dropping telemetry ({{ $labels.error_type }}) for ${l.for}.`,
    }),
    ...leveled({
      alert: 'TelemetryExporterFailing',
      levels: t.pipeline.exporterFailing,
      // Failing exports and not one success: the exporter cannot reach the Collector.
      expr: () => `${grew(sdkExported(true), exporter)}\n  unless on (${exporter.join(', ')}) sum ${by(exporter)} (rate(${sdkExported(false)}[5m])) > 0`,
      summary: (l) => `The {{ $labels.otel_component_type }} of ${SERVICE_TEXT} has failed every export for ${l.for}.`,
    }),
  ];
}

const minutes = (level: Level) => level.threshold / 60;

function taskAndUserRules(t: Thresholds): Rule[] {
  const out: Rule[] = [];
  for (const task of t.tasks.list) {
    for (const sev of SEVERITIES) {
      const late = task.late[sev];
      const rules = taskRules(task.name, minutes(late), [], t.tasks.lookback, sev, { late: late.for, failing: task.failing[sev].for });
      out.push(...rules);
    }
  }
  for (const role of t.lastSeen.list) {
    for (const sev of SEVERITIES) {
      const level = role.notSeen[sev];
      out.push(...roleRules(role.role, minutes(level), [], t.lastSeen.lookback, sev, { late: level.for }));
    }
  }
  return out;
}

export function thresholdRuleGroups(t: Thresholds): RuleGroup[] {
  const groups: RuleGroup[] = [
    { name: 'otel-monitor-host', rules: hostRules(t) },
    { name: 'otel-monitor-http', rules: httpRules(t) },
    { name: 'otel-monitor-health', rules: healthRules(t) },
    { name: 'otel-monitor-collector', rules: collectorRules(t) },
    { name: 'otel-monitor-pipeline', rules: pipelineRules(t) },
    { name: 'otel-monitor-tasks', rules: taskAndUserRules(t) },
  ];
  return groups.filter((g) => g.rules.length > 0);
}
