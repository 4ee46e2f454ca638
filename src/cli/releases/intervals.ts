// 95% confidence intervals for the report of `releases compare`: each release's error ratio, and
// each metric's change between the releases. They describe the size of a change; the verdict does
// not rest on them (it rests on the tests and Holm's correction in statistics.ts, which
// correct for the number of tests; these intervals do not). Pure, like the statistics module.
import { histogramQuantile, type Histogram, type MetricResult, type ReleaseData } from './statistics.js';
import { sum } from './statistical-tests.js';

const Z95 = 1.959964;

export type Interval = [number, number];

/** Wilson's score interval of a proportion (Agresti 2002, 1.4.2): honest near 0 and with few trials. */
export function wilsonInterval(events: number, trials: number): Interval | null {
  if (!(trials > 0)) return null;
  const p = events / trials;
  const z2 = Z95 * Z95;
  const centre = (p + z2 / (2 * trials)) / (1 + z2 / trials);
  const half = (Z95 * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / (1 + z2 / trials);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** The difference of two proportions, candidate minus baseline: Newcombe's hybrid score interval (method 10, 1998). */
export function differenceInterval(base: { events: number; trials: number }, cand: { events: number; trials: number }): Interval | null {
  const b = wilsonInterval(base.events, base.trials);
  const c = wilsonInterval(cand.events, cand.trials);
  if (!b || !c) return null;
  const p1 = base.events / base.trials;
  const p2 = cand.events / cand.trials;
  const d = p2 - p1;
  return [d - Math.hypot(p2 - c[0], b[1] - p1), d + Math.hypot(c[1] - p2, p1 - b[0])];
}

/**
 * A distribution-free interval of a histogram's q-quantile: the order statistics at ranks
 * n q -/+ z sqrt(n q (1 - q)) (the binomial count below the quantile), read from the buckets as
 * histogram_quantile reads them.
 */
export function quantileInterval(h: Histogram, q: number): Interval | null {
  const n = sum(h.counts);
  if (!(n > 0)) return null;
  const half = Z95 * Math.sqrt((q * (1 - q)) / n);
  const lo = histogramQuantile(h, Math.max(0, q - half));
  const hi = histogramQuantile(h, Math.min(1, q + half));
  return lo === null || hi === null ? null : [lo, hi];
}

/**
 * The relative change of a quantile, candidate / baseline - 1: each release's interval turned into a
 * standard error on the log scale and combined (the releases are independent samples). null when a
 * quantile is 0 or unknown.
 */
export function quantileRatioInterval(base: Histogram, cand: Histogram, q: number): Interval | null {
  const b = histogramQuantile(base, q);
  const c = histogramQuantile(cand, q);
  const bi = quantileInterval(base, q);
  const ci = quantileInterval(cand, q);
  if (b === null || c === null || !bi || !ci || !(b > 0 && c > 0 && bi[0] > 0 && ci[0] > 0)) return null;
  const se = (i: Interval) => (Math.log(i[1]) - Math.log(i[0])) / (2 * Z95);
  const spread = Z95 * Math.hypot(se(bi), se(ci));
  const centre = Math.log(c / b);
  return [Math.exp(centre - spread) - 1, Math.exp(centre + spread) - 1];
}

const QUANTILE: Partial<Record<MetricResult['metric'], number>> = { latency_p50: 0.5, latency_p95: 0.95, latency_p99: 0.99, task_duration: 0.5 };

/** The requests (or task runs) of one scope of a release: 'service', 'route GET /x' or 'task name'. */
export function scopeData(r: ReleaseData, scope: string): { events: number; trials: number; latency?: Histogram } | undefined {
  if (scope === 'service') return { events: r.service.errors, trials: r.service.requests, latency: r.service.latency };
  if (scope.startsWith('route ')) {
    const route = r.routes[scope.slice(6)];
    return route && { events: route.errors, trials: route.requests, latency: route.latency };
  }
  if (scope.startsWith('task ')) {
    const task = r.tasks[scope.slice(5)];
    return task && { events: task.failures, trials: task.runs, latency: task.duration };
  }
  return undefined;
}

/** The 95% interval of a metric's change (same unit as MetricResult.change), or null where none is computed. */
export function changeInterval(m: MetricResult, base: ReleaseData, cand: ReleaseData): Interval | null {
  const b = scopeData(base, m.scope);
  const c = scopeData(cand, m.scope);
  if (!b || !c) return null;
  if (m.metric === 'error_ratio' || m.metric === 'task_failure_ratio') return differenceInterval(b, c);
  const q = QUANTILE[m.metric];
  if (q === undefined || !b.latency || !c.latency) return null;
  return quantileRatioInterval(b.latency, c.latency, q);
}
