// `otel-monitor health [--service S] [--json]`: every health check's current status per service
// instance, read from Prometheus (the otel_monitor.health.status gauge, docs/HEALTH.md).
// Exit 1 when a critical check is unhealthy, 3 when no instance reports any check.
import { LABEL_HEALTH_CHECK, LABEL_HEALTH_CRITICAL, PROM_HEALTH_STATUS } from '../semconv.js';
import { parseArgs, parseLabels } from './shared/args.js';
import { CONNECTION_HELP, CONNECTION_SPEC, prometheusOption } from './shared/connection-options.js';
import { json, table, type Io } from './shared/output.js';
import { escapeRegex, extraMatchers, selector, str } from './shared/promql.js';

export const HELP = `Usage: otel-monitor health [--service NAME] [options]

Prints each health check's status (healthy, degraded, unhealthy) per service instance, as the
instances last reported it (checks are registered with registerHealthCheck() or set with
OTEL_MONITOR_HEALTH_CHECKS; see docs/HEALTH.md).

  --service NAME           Only this service (OTEL_SERVICE_NAME; Prometheus job label).
  --label NAME=VALUE       Only series with this label. Repeatable.
  --json                   Print one JSON document instead of the table.
  -h, --help               Show this help.

${CONNECTION_HELP}

Exit status: 0 no critical check unhealthy, 1 a critical check is unhealthy,
2 bad arguments or Prometheus unreachable, 3 no health check reported at all.`;

export interface CheckRow {
  service: string;
  instance: string;
  check: string;
  critical: boolean;
  status: 'healthy' | 'degraded' | 'unhealthy';
  value: number;
}

export function statusOf(value: number): CheckRow['status'] {
  return value >= 0.75 ? 'healthy' : value >= 0.25 ? 'degraded' : 'unhealthy';
}

export async function health(argv: readonly string[], io: Io): Promise<number> {
  const parsed = parseArgs(argv, { service: 'value', label: 'list', ...CONNECTION_SPEC, json: 'flag' });
  if (parsed.flags.has('help')) {
    io.out(HELP);
    return 0;
  }
  const prometheus = prometheusOption(parsed, io);
  const service = parsed.values.get('service');
  // job is service.name, or service.namespace/service.name.
  const matchers = [...(service ? [`job=~${str(`(.+/)?${escapeRegex(service)}`)}`] : []), ...extraMatchers(parseLabels(parsed.lists.get('label') ?? []))];
  const samples = await prometheus.query(selector(PROM_HEALTH_STATUS, matchers), io.now() / 1000);
  const rows: CheckRow[] = samples
    .map((s) => ({
      service: s.labels.job ?? '',
      instance: s.labels.instance ?? '',
      check: s.labels[LABEL_HEALTH_CHECK] ?? '',
      critical: s.labels[LABEL_HEALTH_CRITICAL] === 'true',
      status: statusOf(s.value),
      value: s.value,
    }))
    .sort((a, b) => a.service.localeCompare(b.service) || a.instance.localeCompare(b.instance) || a.check.localeCompare(b.check));
  const failing = rows.filter((r) => r.critical && r.status === 'unhealthy');
  const code = rows.length === 0 ? 3 : failing.length > 0 ? 1 : 0;
  if (parsed.flags.has('json')) {
    io.out(json({ status: code === 0 ? 'OK' : code === 1 ? 'ALERT' : 'NO_DATA', checks: rows }));
  } else if (rows.length === 0) {
    io.out(`No health checks reported${service ? ` for service "${service}"` : ''} in ${prometheus.displayUrl}.`);
  } else {
    io.out(table(['SERVICE', 'INSTANCE', 'CHECK', 'CRITICAL', 'STATUS'], rows.map((r) => [r.service, r.instance, r.check, r.critical ? 'yes' : 'no', r.status])));
    if (failing.length) io.out(`\n${failing.length} critical check${failing.length === 1 ? ' is' : 's are'} unhealthy.`);
  }
  return code;
}
