// The apps' own count of telemetry they dropped (the otel.sdk.* self-observability metrics of
// src/exporters/pipeline-metrics.ts, as Prometheus names them), per service, release and reason,
// for `summary` and `doctor`. The alert rules (threshold-rules.ts) select the same series.
import type { PrometheusClient } from './prometheus.js';

/** Every drop: processor drops (queue_full, ...) and failed exports, each with its error_type. */
export const PROM_SDK_DROPS = '{__name__=~"otel_sdk_(processor_(span|log)_processed|exporter_(span|log|metric_data_point)_exported)_total", error_type!=""}';

export interface Drops {
  total: number;
  /** Count per error_type. */
  reasons: Record<string, number>;
}

export interface ServiceDrops extends Drops {
  service: string;
  release: string;
}

const KEY = 'job, service_version, error_type';

/**
 * Counter growth over the window per service, release and reason, exact for series born inside it
 * (they started at 0): the newest value minus the newest one a window earlier.
 */
export function dropsQuery(window: string, extra: readonly string[] = []): string {
  const sel = extra.length ? PROM_SDK_DROPS.replace(/}$/, `, ${extra.join(', ')}}`) : PROM_SDK_DROPS;
  const last = `sum by (${KEY}) (last_over_time(${sel}[${window}]))`;
  return `${last} - (sum by (${KEY}) (last_over_time(${sel}[${window}] offset ${window})) or ${last} * 0)`;
}

export async function telemetryDrops(prometheus: PrometheusClient, window: string, time: number, extra: readonly string[] = []): Promise<ServiceDrops[]> {
  const samples = await prometheus.query(dropsQuery(window, extra), time);
  const rows = new Map<string, ServiceDrops>();
  for (const s of samples) {
    const n = Math.round(s.value);
    if (n <= 0) continue;
    const service = s.labels.job ?? '';
    const release = s.labels.service_version ?? '';
    const key = `${service}\u0000${release}`;
    const row = rows.get(key) ?? { service, release, total: 0, reasons: {} };
    const reason = s.labels.error_type ?? '';
    row.reasons[reason] = (row.reasons[reason] ?? 0) + n;
    row.total += n;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => a.service.localeCompare(b.service) || a.release.localeCompare(b.release));
}

/** `12 (queue_full 10, ECONNREFUSED 2)`, or `0`. */
export function dropsText(d: Drops | undefined): string {
  if (!d || d.total === 0) return '0';
  const parts = Object.entries(d.reasons).sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`);
  return `${d.total} (${parts.join(', ')})`;
}

/** For `doctor`: every service's drops over the last hour, or why they could not be read. */
export async function doctorDrops(prometheus: PrometheusClient, now: number): Promise<{ services: ServiceDrops[] } | { error: string }> {
  try {
    return { services: await telemetryDrops(prometheus, '1h', now / 1000) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

export function renderDoctorDrops(d: { services: ServiceDrops[] } | { error: string }): string {
  const head = 'Telemetry the apps dropped in the last hour (their otel_sdk_* metrics in Prometheus):';
  if ('error' in d) return `${head}\n  unknown: ${d.error}`;
  if (d.services.length === 0) return `${head}\n  none`;
  return [head, ...d.services.map((s) => `  ${s.service} ${s.release || '-'}: ${dropsText(s)}`)].join('\n');
}
