// What one release of one service did in one window, read from Prometheus into the plain
// ReleaseData the statistics module compares. All PromQL for `releases list|compare` lives here.
//
// Counts are exact per series rather than `increase()`d: every process has its own `instance`
// (service.instance.id), so a series never resets, and its count over the window is its last value
// in the window minus its last value before it (0 for a process that started inside the window).
// `increase()` would drop the requests a process served before its first scrape, which is all of
// them for a short-lived release, and extrapolates the rest into fractions.
import { PROM_TASK_DURATION, PROM_TASK_RUNS, LABEL_TASK_NAME, LABEL_TASK_STATUS, TASK_STATUS_ERROR } from '../../semconv.js';
import { eq, escapeRegex, str, type Matcher } from '../shared/promql.js';
import type { PrometheusClient, Sample } from '../shared/prometheus.js';
import type { Histogram, ReleaseData, ScopeData, TaskData } from './statistics.js';
import { promRange, type Window } from './window.js';

export const HTTP_DURATION = 'http_server_request_duration_seconds';
/** The labels Prometheus shows for a service's release and route. */
export const LABEL_SERVICE = 'job';
export const LABEL_RELEASE = 'service_version';
export const LABEL_ROUTE = 'http_route';
const LABEL_METHOD = 'http_request_method';

/** A request failed when it answered 5xx or the instrumentation set error.type (e.g. aborted). */
const FAILED: readonly Matcher[] = ['http_response_status_code=~"5.."', 'error_type!=""'];

/** The selectors of failed requests within `sel`: one per way a request fails, for windowCount's union. */
export const failedSelectors = (sel: string): string[] => FAILED.map((f) => `${sel}, ${f}`);

export interface Scope {
  service: string;
  release: string;
  window: Window;
  /** Extra equality matchers from --label. */
  labels: readonly Matcher[];
}

const matchers = (s: Scope, extra: readonly Matcher[] = []): string =>
  [eq(LABEL_SERVICE, s.service), eq(LABEL_RELEASE, s.release), ...s.labels, ...extra].join(', ');

/**
 * The count each series gained within the window, summed `by`. Evaluated at the window's end:
 * `last_over_time(m[W])` is each series' last value in the window, and the same `offset W` is its
 * last value before the window; a series with none before started at 0 inside the window.
 */
export function windowCount(metric: string, alternatives: readonly string[], by: readonly string[], w: Window): string {
  const range = promRange(w);
  const union = (expr: (sel: string) => string) => alternatives.map(expr).join(' or ');
  const now = union((sel) => `last_over_time(${metric}{${sel}}[${range}])`);
  const before = union((sel) => `last_over_time(${metric}{${sel}}[${range}] offset ${range})`);
  return `sum by (${by.join(', ')}) ((${now}) - ((${before}) or (${now}) * 0))`;
}

async function query(prom: PrometheusClient, expr: string, w: Window): Promise<Sample[]> {
  return prom.query(expr, w.end);
}

/** Non-cumulative buckets from Prometheus' cumulative `le` series (one group's samples). */
export function toHistogram(samples: readonly Sample[]): Histogram | undefined {
  const cumulative = samples
    .map((s) => ({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), n: Math.max(0, Math.round(s.value)) }))
    .filter((b) => !Number.isNaN(b.le))
    .sort((a, b) => a.le - b.le);
  if (cumulative.length === 0 || cumulative[cumulative.length - 1]!.le !== Infinity) return undefined;
  const counts = cumulative.map((b, i) => Math.max(0, b.n - (i === 0 ? 0 : cumulative[i - 1]!.n)));
  return { bounds: cumulative.slice(0, -1).map((b) => b.le), counts };
}

function groupBy<T>(samples: readonly Sample[], key: (s: Sample) => string, fold: (group: Sample[]) => T): Map<string, T> {
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const k = key(s);
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  return new Map([...groups].map(([k, g]) => [k, fold(g)]));
}

const routeKey = (s: Sample): string => `${s.labels[LABEL_METHOD] ?? ''} ${s.labels[LABEL_ROUTE] ?? ''}`.trim() || '(no route)';
const total = (g: readonly Sample[]): number => Math.round(g.reduce((sum, s) => sum + s.value, 0));

async function httpData(prom: PrometheusClient, s: Scope): Promise<{ service: ScopeData; routes: Record<string, ScopeData> }> {
  const by = [LABEL_METHOD, LABEL_ROUTE];
  const [requests, errors, buckets] = await Promise.all([
    query(prom, windowCount(`${HTTP_DURATION}_count`, [matchers(s)], by, s.window), s.window),
    query(prom, windowCount(`${HTTP_DURATION}_count`, failedSelectors(matchers(s)), by, s.window), s.window),
    query(prom, windowCount(`${HTTP_DURATION}_bucket`, [matchers(s)], [...by, 'le'], s.window), s.window),
  ]);
  const reqBy = groupBy(requests, routeKey, total);
  const errBy = groupBy(errors, routeKey, total);
  const histBy = groupBy(buckets, routeKey, (g) => g);
  const routes: Record<string, ScopeData> = {};
  for (const [route, n] of reqBy) {
    if (n <= 0) continue;
    routes[route] = { requests: n, errors: errBy.get(route) ?? 0, latency: toHistogram(histBy.get(route) ?? []) };
  }
  const service: ScopeData = {
    requests: total(requests),
    errors: total(errors),
    latency: toHistogram([...groupBy(buckets, (b) => b.labels.le ?? '', (g) => ({ labels: { le: g[0]!.labels.le! }, value: total(g) })).values()]),
  };
  return { service, routes };
}

async function taskData(prom: PrometheusClient, s: Scope): Promise<Record<string, TaskData>> {
  const [runs, buckets] = await Promise.all([
    query(prom, windowCount(PROM_TASK_RUNS, [matchers(s)], [LABEL_TASK_NAME, LABEL_TASK_STATUS], s.window), s.window),
    query(prom, windowCount(`${PROM_TASK_DURATION}_bucket`, [matchers(s)], [LABEL_TASK_NAME, 'le'], s.window), s.window),
  ]);
  const tasks: Record<string, TaskData> = {};
  const name = (x: Sample) => x.labels[LABEL_TASK_NAME] ?? '';
  for (const [task, group] of groupBy(runs, name, (g) => g)) {
    const failures = total(group.filter((x) => x.labels[LABEL_TASK_STATUS] === TASK_STATUS_ERROR));
    tasks[task] = { runs: total(group), failures };
  }
  for (const [task, group] of groupBy(buckets, name, (g) => g)) {
    if (tasks[task]) tasks[task].duration = toHistogram(group);
  }
  return tasks;
}

interface ProcessData {
  instances: number;
  restarts: number;
  cpuUtilization?: number;
  memoryBytes?: number;
}

/**
 * Instances, restarts, CPU and memory from the per-process series. A restart is a process start
 * beyond what the release ran at once: instance ids seen in the window minus the most that were up
 * together (a process that dies and comes back gets a new service.instance.id).
 */
async function processData(prom: PrometheusClient, s: Scope, scrapeStep: string): Promise<ProcessData> {
  const range = promRange(s.window);
  const sel = matchers(s);
  const one = async (expr: string) => (await query(prom, expr, s.window))[0]?.value;
  const [seen, peak, cpu, memory] = await Promise.all([
    one(`count(count by (instance) (last_over_time(target_info{${sel}}[${range}])))`),
    one(`max_over_time(count(target_info{${sel}})[${range}:${scrapeStep}])`),
    // CPU seconds each instance used in the window (counted exactly, as requests are) over the
    // window: not rate(), which Prometheus extrapolates and MetricsQL (VictoriaMetrics) does not, so
    // an instance that started inside the window got 0.005 from one and 0.05 from the other.
    one(`avg(${windowCount('process_cpu_time_seconds_total', [sel], ['instance'], s.window)}) / ${s.window.end - s.window.start}`),
    // host-metrics gives process.memory.usage no unit, so the exporter adds no `_bytes`.
    one(`avg(avg by (instance) (avg_over_time({__name__=~"process_memory_usage(_bytes)?", ${sel}}[${range}])))`),
  ]);
  const instances = seen ?? 0;
  return {
    instances,
    restarts: Math.max(0, instances - (peak ?? instances)),
    cpuUtilization: finite(cpu),
    memoryBytes: finite(memory),
  };
}

const finite = (n: number | undefined): number | undefined => (n !== undefined && Number.isFinite(n) ? n : undefined);

/** Everything one release of one service did in its window. */
export async function readRelease(prom: PrometheusClient, s: Scope, scrapeStep = '30s'): Promise<ReleaseData> {
  const [http, tasks, proc] = await Promise.all([httpData(prom, s), taskData(prom, s), processData(prom, s, scrapeStep)]);
  return { windowSeconds: s.window.end - s.window.start, ...http, tasks, ...proc };
}

/** The services (job label) that reported any of `releases` in the window. */
export async function servicesWith(prom: PrometheusClient, releases: readonly string[], w: Window, labels: readonly Matcher[]): Promise<string[]> {
  const sel = [`${LABEL_RELEASE}=~${str(releases.map(escapeRegex).join('|'))}`, ...labels].join(', ');
  const rows = await prom.query(`group by (${LABEL_SERVICE}) (last_over_time(target_info{${sel}}[${promRange(w)}]))`, w.end);
  return rows.map((r) => r.labels[LABEL_SERVICE] ?? '').filter(Boolean).sort();
}
