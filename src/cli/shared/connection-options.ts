// Where the CLI commands find Prometheus and Alertmanager: an option, else the environment, else
// the default. Shared by every command that reads or alerts.
import { numberOption, parseNumber, parseUrl, type Parsed } from './args.js';
import type { Io } from './output.js';
import { PrometheusClient } from './prometheus.js';

export const DEFAULT_PROMETHEUS_URL = 'http://localhost:9090';

type Options = Pick<Parsed, 'values'>;

/** `--timeout` in seconds (default 10), as milliseconds. */
export function timeoutOption(parsed: Options): number {
  return parseNumber(parsed.values.get('timeout') ?? '10', '--timeout', { unit: 'seconds' }) * 1000;
}

/** The Prometheus of `--prometheus-url`, OTEL_MONITOR_PROMETHEUS_URL or the default. */
export function prometheusOption(parsed: Options, io: Io, timeoutMs: number): PrometheusClient {
  const promUrl = parsed.values.get('prometheus-url') ?? (io.env.OTEL_MONITOR_PROMETHEUS_URL || DEFAULT_PROMETHEUS_URL);
  return new PrometheusClient(parseUrl(promUrl, '--prometheus-url'), timeoutMs);
}

/** The releases commands' Prometheus: `--timeout` through numberOption, default 10 s. */
export function prometheusFrom(p: Parsed, io: Io): PrometheusClient {
  return prometheusOption(p, io, numberOption(p, 'timeout', 1000) ?? 10_000);
}

/** The Alertmanager of `--alertmanager-url` or OTEL_MONITOR_ALERTMANAGER_URL; none by default. */
export function alertmanagerOption(parsed: Options, io: Io): URL | undefined {
  const amUrl = parsed.values.get('alertmanager-url') ?? (io.env.OTEL_MONITOR_ALERTMANAGER_URL || undefined);
  return amUrl === undefined ? undefined : parseUrl(amUrl, '--alertmanager-url');
}
