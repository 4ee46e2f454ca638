// The verdict of `otel-monitor releases compare`: is the candidate release worse than the baseline?
// Metric by metric, from the counts and histograms the command reads from Prometheus. Pure: no I/O,
// no clock, no environment, no randomness, so the seeded simulation in
// test/unit/release-statistics.test.ts proves the very code the CLI runs. The model, its defaults
// and their measured false-alarm and power rates: docs/RELEASES.md.
import {
  fisherExact,
  poissonRatesExact,
  proportionSampleSize,
  rankSampleSize,
  rankShift,
  rankTest,
  sum,
  tailBoundIndex,
  tailShift,
  tailSampleSize,
  tailTest,
  type OneSided,
} from './statistical-tests.js';

export type Verdict = 'regressed' | 'improved' | 'ok' | 'inconclusive';

export interface Histogram {
  /** Upper bounds in seconds, ascending, without +Inf. */
  bounds: number[];
  /** NON-cumulative counts, bounds.length + 1 of them: the last one is above the last bound. */
  counts: number[];
}

export interface ScopeData {
  requests: number;
  /** Requests with a 5xx status or error.type set. */
  errors: number;
  latency?: Histogram;
}

export interface TaskData {
  runs: number;
  failures: number;
  duration?: Histogram;
}

export interface ReleaseData {
  /** Throughput = requests / windowSeconds; restarts are counted per instance-second of it. */
  windowSeconds: number;
  service: ScopeData;
  /** Keyed by "METHOD route", e.g. "GET /users/:id". */
  routes: Record<string, ScopeData>;
  tasks: Record<string, TaskData>;
  instances: number;
  /** Process starts beyond the first, within the window. */
  restarts: number;
  /** Mean per instance, in cores. */
  cpuUtilization?: number;
  /** Mean resident set size per instance, in bytes. */
  memoryBytes?: number;
}

export interface CompareOptions {
  /** Family-wise rate of a false 'regressed' verdict over all tests of one comparison. Default 0.01. */
  alpha?: number;
  /** Power the sample-size rule asks for: below it a metric is inconclusive. Default 0.8. */
  power?: number;
  /** Smallest error-ratio increase (absolute) ever called regressed. Default 0.005 (0.5 pp). */
  minErrorRatioIncrease?: number;
  /** Smallest relative increase of a latency quantile ever called regressed. Default 0.10. */
  minLatencyIncrease?: number;
  /** Service error-ratio increase the sample must be able to detect, else inconclusive. Default 2 x minErrorRatioIncrease. */
  detectErrorRatioIncrease?: number;
  /** Service latency increase the sample must be able to detect, else inconclusive. Default 2 x minLatencyIncrease. */
  detectLatencyIncrease?: number;
  /** Busiest routes compared. Default 10. */
  maxRoutes?: number;
  /**
   * Requests each release must have served before any request metric is called regressed or
   * improved. Default 200: a handful of requests is mostly a fresh process's warm-up (JIT,
   * connections, caches), in the order they came, which the tests' independence assumption misses.
   */
  minRequests?: number;
  /** A route too small to detect this error-ratio increase is skipped, not inconclusive. Default 0.05. */
  routeDetectErrorRatioIncrease?: number;
  /** A route too small to detect this latency increase is skipped, not inconclusive. Default 0.5. */
  routeDetectLatencyIncrease?: number;
  /** Smallest task failure-ratio increase (absolute) ever called regressed. Default 0.05. */
  minTaskFailureRatioIncrease?: number;
  /** A task with too few runs to detect this failure-ratio increase is skipped. Default 0.25. */
  taskDetectFailureRatioIncrease?: number;
  /** A task with too few runs to detect this duration increase is skipped. Default 0.5. */
  taskDetectDurationIncrease?: number;
  /** Smallest relative increase of the restart rate ever called regressed (any rate above 0 counts when the baseline had none). Default 0.5. */
  minRestartIncrease?: number;
  /** Relative increase of CPU per request called regressed (a margin: no variance is available). Default 0.25. */
  minCpuIncrease?: number;
  /** Relative increase of memory per instance called regressed (a margin). Default 0.25. */
  minMemoryIncrease?: number;
}

export type MetricName =
  | 'error_ratio' | 'latency_p50' | 'latency_p95' | 'latency_p99' | 'throughput'
  | 'task_failure_ratio' | 'task_duration' | 'restarts' | 'cpu' | 'memory';

export interface MetricResult {
  metric: MetricName;
  /** 'service' | 'route GET /x' | 'task import_prices' */
  scope: string;
  /** Ratio in 0..1, seconds, req/s, cores, bytes or a count. */
  baseline: number | null;
  candidate: number | null;
  /** candidate - baseline for ratios; candidate / baseline - 1 for the rest (cpu: per request). */
  change: number | null;
  changeText: string;
  evidence: string;
  /** One-sided p-value in the direction of the change. */
  pValue?: number;
  verdict: Verdict;
  /** Always set when inconclusive; also says why an informational metric is 'ok'. */
  reason?: string;
}

/** A metric or scope left out of the verdict, and why (too little traffic, not busy enough, no data). */
export interface SkippedMetric {
  scope: string;
  /** Absent when the whole scope is left out. */
  metric?: MetricName;
  reason: string;
}

export interface Report {
  verdict: Verdict;
  metrics: MetricResult[];
  skipped: SkippedMetric[];
  /** alpha / tests: the Bonferroni level, which the first step of Holm's procedure uses. */
  alphaPerTest: number;
  /** Tests that could signal a regression (those that cannot reach alpha at all are not counted). */
  tests: number;
  options: Required<CompareOptions>;
}

const SEVERITY: Record<Verdict, number> = { improved: 0, ok: 1, inconclusive: 2, regressed: 3 };

/** The most severe verdict: regressed > inconclusive > ok > improved. Nothing to judge is inconclusive. */
export function worstVerdict(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.length === 0) return 'inconclusive';
  return verdicts.reduce((worst, v) => (SEVERITY[v] > SEVERITY[worst] ? v : worst));
}

/**
 * The q-quantile of a histogram as PromQL's histogram_quantile computes it: the bucket holding rank
 * q x total, linear interpolation inside it (the first bucket starts at 0), and the largest finite
 * bound when the rank falls in the +Inf bucket. Empty buckets are passed over. null without data.
 */
export function histogramQuantile(h: Histogram, q: number): number | null {
  const total = sum(h.counts);
  if (!(q >= 0 && q <= 1) || !(total > 0) || h.bounds.length === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    const count = h.counts[i] ?? 0;
    if (count > 0 && below + count >= rank) {
      const upper = h.bounds[i]!;
      if (i === 0 && upper <= 0) return upper;
      const lower = i === 0 ? 0 : h.bounds[i - 1]!;
      return lower + (upper - lower) * ((rank - below) / count);
    }
    below += count;
  }
  return h.bounds[h.bounds.length - 1]!;
}

const DEFAULTS = {
  alpha: 0.01,
  power: 0.8,
  minErrorRatioIncrease: 0.005,
  minLatencyIncrease: 0.1,
  maxRoutes: 10,
  minRequests: 200,
  routeDetectErrorRatioIncrease: 0.05,
  routeDetectLatencyIncrease: 0.5,
  minTaskFailureRatioIncrease: 0.05,
  taskDetectFailureRatioIncrease: 0.25,
  taskDetectDurationIncrease: 0.5,
  minRestartIncrease: 0.5,
  minCpuIncrease: 0.25,
  minMemoryIncrease: 0.25,
};

/** The options with defaults filled in; a RangeError names a value out of range. */
export function resolveOptions(options: CompareOptions = {}): Required<CompareOptions> {
  const known = new Set([...Object.keys(DEFAULTS), 'detectErrorRatioIncrease', 'detectLatencyIncrease']);
  const defined = Object.fromEntries(Object.entries(options).filter(([k, v]) => known.has(k) && v !== undefined));
  const merged = { ...DEFAULTS, ...defined } as typeof DEFAULTS & CompareOptions;
  const resolved: Required<CompareOptions> = {
    ...merged,
    // The power promise is for effects twice the smallest one called a regression (issue 9).
    detectErrorRatioIncrease: merged.detectErrorRatioIncrease ?? 2 * merged.minErrorRatioIncrease,
    detectLatencyIncrease: merged.detectLatencyIncrease ?? 2 * merged.minLatencyIncrease,
  };
  for (const [name, value] of Object.entries(resolved)) {
    const ok = name === 'alpha' || name === 'power' ? value > 0 && value < 1 : value >= 0;
    if (!(typeof value === 'number' && Number.isFinite(value) && ok)) {
      throw new RangeError(`${name} must be ${name === 'alpha' || name === 'power' ? 'between 0 and 1' : 'a number >= 0'}, got ${String(value)}`);
    }
  }
  if (!Number.isInteger(resolved.maxRoutes)) throw new RangeError(`maxRoutes must be an integer, got ${resolved.maxRoutes}`);
  return resolved;
}

// ---- Rows: one metric of one scope, before the multiple-testing correction decides significance ----

/** One significance test; several rows may share it (p50 and p95 share the rank test). */
interface Test extends OneSided {
  name: string;
  worse: boolean;
  better: boolean;
}

interface Row extends Pick<MetricResult, 'metric' | 'scope' | 'baseline' | 'candidate' | 'change' | 'changeText'> {
  /** Absent: no data to test, informational, or judged on the margin alone (marginOnly). */
  test?: Test;
  marginOnly?: boolean;
  evidence?: string;
  informational?: string;
  /** Practical significance: is the observed change at least the minimum effect, in this direction? */
  large: (direction: 1 | -1) => boolean;
  /** Why the sample is too small to detect the effect that matters, at this per-test level; else undefined. */
  shortfall?: (alphaPerTest: number) => string | undefined;
  /** A route or task: a shortfall skips it instead of making the whole comparison inconclusive. */
  breakdown: boolean;
}

function newTest(name: string, p: OneSided): Test {
  return { name, ...p, worse: false, better: false };
}

function atLeast(change: number | null, min: number): Row['large'] {
  // The `> 0` keeps a zero change from ever being a regression when a minimum is set to 0.
  return (direction) => change !== null && direction * change >= min && direction * change > 0;
}

interface Counts {
  events: number;
  trials: number;
}

interface ProportionSpec {
  metric: MetricName;
  scope: string;
  base: Counts;
  cand: Counts;
  /** Minimum effect (absolute) and the effect the sample must be able to detect. */
  min: number;
  detect: number;
  unit: string;
  power: number;
  breakdown: boolean;
}

/** Error ratio or task failure ratio: Fisher's exact test plus the absolute minimum effect. */
function proportionRow(s: ProportionSpec): Row {
  const ratio = (c: Counts) => (c.trials > 0 ? c.events / c.trials : null);
  const b = ratio(s.base);
  const c = ratio(s.cand);
  const change = b !== null && c !== null ? c - b : null;
  const have = Math.min(s.base.trials, s.cand.trials);
  // Plan with the baseline's ratio, the rate the candidate is judged against; the pooled one
  // only when the baseline has no data (it would grow with the very regression being looked for).
  const planRatio = b ?? ratio({ events: s.base.events + s.cand.events, trials: s.base.trials + s.cand.trials }) ?? 0;
  return {
    metric: s.metric,
    scope: s.scope,
    baseline: b,
    candidate: c,
    change,
    changeText: change === null ? 'n/a' : ppText(change),
    test: have > 0 ? newTest('Fisher', fisherExact(s.base.events, s.base.trials, s.cand.events, s.cand.trials)) : undefined,
    large: atLeast(change, s.min),
    shortfall: (alpha) =>
      // A ratio already within the effect of 100% cannot rise by it, however many the requests.
      planRatio + s.detect > 1
        ? `cannot rise by +${trimmed(s.detect * 100)} pp from ${trimmed(planRatio * 100)}%`
        : shortfallText(proportionSampleSize(planRatio, s.detect, alpha, s.power), have, s.unit, `+${trimmed(s.detect * 100)} pp`),
    breakdown: s.breakdown,
  };
}

interface LatencySpec {
  scope: string;
  min: number;
  detect: number;
  unit: string;
  power: number;
  breakdown: boolean;
  /** Which quantile rows to produce: the rank test judges p50/p95 (and task durations), the tail test p99. */
  rows: Array<[MetricName, number]>;
}

const TAIL_SHARE = 0.01; // the tail test looks at the slowest 1%: the p99

/**
 * Quantile rows of one scope. The rank test (Mann-Whitney on the buckets) sees a shift of the bulk of
 * the distribution, which is what p50 and p95 measure; a change confined to the slowest 1% barely
 * moves the ranks, so p99 gets its own test on the share of observations beyond the pooled p99 bound.
 */
function latencyRows(base: Histogram, cand: Histogram, s: LatencySpec): Row[] {
  const have = Math.min(sum(base.counts), sum(cand.counts));
  // Planning needs a distribution: the baseline's, or the candidate's when the baseline has none.
  const plan = sum(base.counts) > 0 ? base.counts : cand.counts;
  const rank = newTest('Mann-Whitney', rankTest(base.counts, cand.counts));
  const bound = tailBoundIndex(base.counts, cand.counts, TAIL_SHARE);
  const tail = bound >= 0 ? newTest(`tail >${base.bounds[bound]} s`, tailTest(base.counts, cand.counts, bound)) : undefined;
  return s.rows.map(([metric, q]) => {
    const isTail = q > 1 - 2 * TAIL_SHARE;
    const b = histogramQuantile(base, q);
    const c = histogramQuantile(cand, q);
    const change = b !== null && c !== null && b > 0 ? c / b - 1 : null;
    const effect = `+${trimmed(s.detect * 100)}% on p${trimmed(q * 100)}`;
    return {
      metric,
      scope: s.scope,
      baseline: b,
      candidate: c,
      change,
      changeText: relativeText(change),
      test: have > 0 ? (isTail ? tail : rank) : undefined,
      // The shown quantile must move by the minimum effect, and so must the whole distribution
      // (or its tail) judged by the test's own statistic: one interpolated quantile of a busy route
      // crosses +10% by noise alone far too often when the real slow-down is 5%.
      large: (direction: 1 | -1) => {
        const shift = (from: Histogram, to: Histogram) => (isTail ? tailShift(base.bounds, from.counts, to.counts, bound) : rankShift(base.bounds, from.counts, to.counts));
        // Slower by s is a change of +s; faster by s' (the baseline s' slower) a change of 1/(1+s') - 1.
        const moved = () => (direction === 1 ? shift(base, cand) : 1 - 1 / (1 + shift(cand, base)));
        return atLeast(change, s.min)(direction) && moved() >= s.min;
      },
      shortfall: (alpha: number) => {
        const need = isTail
          ? tailSampleSize(base.bounds, plan, bound, s.detect, alpha, s.power)
          : rankSampleSize(base.bounds, plan, s.detect, alpha, s.power);
        return shortfallText(need, have, s.unit, effect);
      },
      // The p99 rests on the slowest 1% and needs several times the requests of p95: when short of
      // them it is listed as skipped, so that it does not make every ordinary comparison inconclusive.
      breakdown: s.breakdown || isTail,
    };
  });
}

/** Why `have` is too small to detect `effect`, in the words; undefined when it is enough. */
function shortfallText(need: number, have: number, unit: string, effect: string): string | undefined {
  if (have >= need) return undefined;
  if (Number.isFinite(need)) return `need ≥ ${countText(roundUp(need))} ${unit} per release to detect ${effect}; have ${countText(have)}`;
  if (have === 0) return `need ${unit} in both releases to detect ${effect}; have 0`;
  return `cannot detect ${effect}: the histogram buckets are too coarse for this distribution; have ${countText(have)} ${unit}`;
}

/** Up to two significant digits, rounding up: a sample-size estimate is not precise to the request. */
function roundUp(n: number): number {
  if (n < 100) return Math.ceil(n);
  const step = 10 ** (Math.floor(Math.log10(n)) - 1);
  return Math.ceil(n / step) * step;
}

const EMPTY_SCOPE: ScopeData = { requests: 0, errors: 0 };
const SERVICE_QUANTILES: Array<[MetricName, number]> = [['latency_p50', 0.5], ['latency_p95', 0.95], ['latency_p99', 0.99]];

/**
 * Both histograms with the same buckets, or a reason why not. A release without a histogram but
 * with the other's buckets counts as empty (it had no requests), so its shortfall is reported.
 */
function histogramPair(base: Histogram | undefined, cand: Histogram | undefined): [Histogram, Histogram] | string {
  const shape = base ?? cand;
  if (shape === undefined) return 'no histogram in either release';
  const empty = { bounds: shape.bounds, counts: shape.counts.map(() => 0) };
  const b = base ?? empty;
  const c = cand ?? empty;
  if (b.bounds.length !== c.bounds.length || b.bounds.some((x, i) => x !== c.bounds[i])) return 'the releases have different histogram buckets';
  return [b, c];
}

function scopeRows(scope: string, base: ScopeData, cand: ScopeData, o: Required<CompareOptions>, breakdown: boolean, skipped: SkippedMetric[]): Row[] {
  const rows = [
    proportionRow({
      metric: 'error_ratio',
      scope,
      base: { events: base.errors, trials: base.requests },
      cand: { events: cand.errors, trials: cand.requests },
      min: o.minErrorRatioIncrease,
      detect: breakdown ? o.routeDetectErrorRatioIncrease : o.detectErrorRatioIncrease,
      unit: 'requests',
      power: o.power,
      breakdown,
    }),
  ];
  const pair = histogramPair(base.latency, cand.latency);
  if (typeof pair === 'string') {
    for (const [metric] of SERVICE_QUANTILES) skipped.push({ scope, metric, reason: pair });
    return rows;
  }
  const detect = breakdown ? o.routeDetectLatencyIncrease : o.detectLatencyIncrease;
  const spec = { scope, min: o.minLatencyIncrease, detect, unit: 'requests', power: o.power, breakdown, rows: SERVICE_QUANTILES };
  return [...rows, ...latencyRows(pair[0], pair[1], spec)];
}

/** The busiest routes (by both releases' requests) that both releases served; the rest are listed as skipped. */
function routeRows(base: ReleaseData, cand: ReleaseData, o: Required<CompareOptions>, skipped: SkippedMetric[]): Row[] {
  const traffic = (name: string) => (base.routes[name]?.requests ?? 0) + (cand.routes[name]?.requests ?? 0);
  const names = [...new Set([...Object.keys(base.routes), ...Object.keys(cand.routes)])].sort(
    (a, b) => traffic(b) - traffic(a) || (a < b ? -1 : a > b ? 1 : 0),
  );
  const rows: Row[] = [];
  names.forEach((name, i) => {
    const scope = `route ${name}`;
    const b = base.routes[name] ?? EMPTY_SCOPE;
    const c = cand.routes[name] ?? EMPTY_SCOPE;
    if (i >= o.maxRoutes) skipped.push({ scope, reason: `not among the ${o.maxRoutes} busiest routes` });
    else if (b.requests === 0 || c.requests === 0) skipped.push({ scope, reason: `no requests in the ${b.requests === 0 ? 'baseline' : 'candidate'}` });
    else rows.push(...scopeRows(scope, b, c, o, true, skipped));
  });
  return rows;
}

function taskRows(base: ReleaseData, cand: ReleaseData, o: Required<CompareOptions>, skipped: SkippedMetric[]): Row[] {
  const names = [...new Set([...Object.keys(base.tasks), ...Object.keys(cand.tasks)])].sort();
  const rows: Row[] = [];
  for (const name of names) {
    const scope = `task ${name}`;
    const b = base.tasks[name] ?? { runs: 0, failures: 0 };
    const c = cand.tasks[name] ?? { runs: 0, failures: 0 };
    if (b.runs === 0 || c.runs === 0) {
      skipped.push({ scope, reason: `no runs in the ${b.runs === 0 ? 'baseline' : 'candidate'}` });
      continue;
    }
    rows.push(
      proportionRow({
        metric: 'task_failure_ratio',
        scope,
        base: { events: b.failures, trials: b.runs },
        cand: { events: c.failures, trials: c.runs },
        min: o.minTaskFailureRatioIncrease,
        detect: o.taskDetectFailureRatioIncrease,
        unit: 'runs',
        power: o.power,
        breakdown: true,
      }),
    );
    const pair = histogramPair(b.duration, c.duration);
    if (typeof pair === 'string') skipped.push({ scope, metric: 'task_duration', reason: pair });
    else {
      // The median: a task runs a few dozen times a window, too few for a stable p95.
      const spec = { scope, min: o.minLatencyIncrease, detect: o.taskDetectDurationIncrease, unit: 'runs', power: o.power, breakdown: true };
      rows.push(...latencyRows(pair[0], pair[1], { ...spec, rows: [['task_duration', 0.5]] }));
    }
  }
  return rows;
}

/** Throughput is set by the traffic that reached each release, not by its code: shown, never judged. */
function throughputRow(base: ReleaseData, cand: ReleaseData): Row {
  const rate = (r: ReleaseData) => (r.windowSeconds > 0 ? r.service.requests / r.windowSeconds : null);
  const b = rate(base);
  const c = rate(cand);
  const change = b !== null && c !== null && b > 0 ? c / b - 1 : null;
  return {
    metric: 'throughput',
    scope: 'service',
    baseline: b,
    candidate: c,
    change,
    changeText: relativeText(change),
    informational: 'informational: traffic, not the release, sets throughput',
    large: () => false,
    breakdown: false,
  };
}

/**
 * Restarts as Poisson counts over instance-seconds: the exact conditional test, plus a minimum
 * relative rate increase. Never inconclusive: no restarts is the normal state, not missing data.
 */
function restartsRow(base: ReleaseData, cand: ReleaseData, o: Required<CompareOptions>): Row | undefined {
  const eb = base.instances * base.windowSeconds;
  const ec = cand.instances * cand.windowSeconds;
  if (!(eb > 0 && ec > 0)) return undefined;
  const rb = base.restarts / eb;
  const rc = cand.restarts / ec;
  const change = rb > 0 ? rc / rb - 1 : null;
  const grew = (from: number, to: number) => to > 0 && (from === 0 || to / from - 1 >= o.minRestartIncrease);
  return {
    metric: 'restarts',
    scope: 'service',
    baseline: base.restarts,
    candidate: cand.restarts,
    change,
    changeText: change !== null ? relativeText(change) : rc > 0 ? `+${cand.restarts} (from 0)` : '0',
    test: newTest('Poisson exact', poissonRatesExact(base.restarts, eb, cand.restarts, ec)),
    large: (direction) => (direction === 1 ? grew(rb, rc) : grew(rc, rb)),
    breakdown: false,
  };
}

/**
 * CPU and memory arrive as means without a variance, so no test is possible: a margin well above
 * their run-to-run noise decides. CPU is compared per request (cores x instances / throughput), so
 * that a release serving more traffic is not called heavier for it; memory per instance.
 */
/** Below this many requests per second per instance, CPU per request is mostly idle CPU. */
const MIN_CPU_RATE = 10;

function requestRatePerInstance(r: ReleaseData): number {
  return r.windowSeconds > 0 && r.instances > 0 ? r.service.requests / r.windowSeconds / r.instances : 0;
}

function resourceRows(base: ReleaseData, cand: ReleaseData, o: Required<CompareOptions>, skipped: SkippedMetric[]): Row[] {
  const rows: Row[] = [];
  const perRequest = base.service.requests > 0 && cand.service.requests > 0;
  const cpuCost = (r: ReleaseData) => (r.cpuUtilization ?? 0) * r.instances * (perRequest ? r.windowSeconds / r.service.requests : 1);
  const margin = (metric: MetricName, b: number | undefined, c: number | undefined, ratio: number, min: number, suffix: string) => {
    if (b === undefined || c === undefined) {
      skipped.push({ scope: 'service', metric, reason: 'no data' });
      return;
    }
    const change = Number.isFinite(ratio) ? ratio - 1 : null;
    const changeText = change === null ? 'n/a' : `${relativeText(change)}${suffix}`;
    rows.push({ metric, scope: 'service', baseline: b, candidate: c, change, changeText, evidence: `margin ±${trimmed(min * 100)}%`, marginOnly: true, large: atLeast(change, min), breakdown: false });
  };
  const busy = [base, cand].map(requestRatePerInstance);
  if (busy.some((rate) => rate < MIN_CPU_RATE)) {
    // A process spends its idle CPU (timers, metric exports) whatever its traffic; at a few requests
    // a second that floor, not the release, decides the CPU per request.
    const have = busy.map((rate) => trimmed(rate)).join(' and ');
    skipped.push({ scope: 'service', metric: 'cpu', reason: `needs ≥ ${MIN_CPU_RATE} req/s per instance in both releases; have ${have}` });
  } else {
    margin('cpu', base.cpuUtilization, cand.cpuUtilization, cpuCost(cand) / cpuCost(base), o.minCpuIncrease, perRequest ? ' per request' : ' per instance');
  }
  margin('memory', base.memoryBytes, cand.memoryBytes, (cand.memoryBytes ?? 0) / (base.memoryBytes ?? 0), o.minMemoryIncrease, '');
  return rows;
}

// ---- The comparison ----

/**
 * Compares the candidate release with the baseline. Every test is one-sided twice (worse, better);
 * Holm's step-down procedure over all tests keeps the chance of any false 'regressed' at or below
 * `alpha`, and a change is only called regressed or improved when it is also at least the minimum
 * effect. A non-significant metric whose sample could not have detected the effect that matters is
 * inconclusive (service) or skipped (route, task).
 */
export function compareReleases(baselineData: ReleaseData, candidateData: ReleaseData, options?: CompareOptions): Report {
  const o = resolveOptions(options);
  const baseline = wholeCounts(baselineData);
  const candidate = wholeCounts(candidateData);
  const skipped: SkippedMetric[] = [];
  const restarts = restartsRow(baseline, candidate, o);
  const rows = [
    ...scopeRows('service', baseline.service, candidate.service, o, false, skipped),
    throughputRow(baseline, candidate),
    ...(restarts ? [restarts] : []),
    ...resourceRows(baseline, candidate, o, skipped),
    ...taskRows(baseline, candidate, o, skipped),
    ...routeRows(baseline, candidate, o, skipped),
  ];
  const tests = [...new Set(rows.flatMap((r) => (r.test ? [r.test] : [])))];
  const worseFamily = holm(tests, o.alpha, 'pWorse', 'minWorse', (t) => (t.worse = true));
  holm(tests, o.alpha, 'pBetter', 'minBetter', (t) => (t.better = true));
  const alphaPerTest = o.alpha / Math.max(1, worseFamily);
  const metrics: MetricResult[] = [];
  for (const row of rows) {
    const judged = judge(row, alphaPerTest);
    if ('verdict' in judged) metrics.push(judged);
    else skipped.push(judged);
  }
  holdBelowMinimum(metrics, baseline.service.requests, candidate.service.requests, o.minRequests);
  return { verdict: worstVerdict(metrics.map((m) => m.verdict)), metrics, skipped, alphaPerTest, tests: worseFamily, options: o };
}

/**
 * Counts as the exact tests need them: whole and non-negative, errors never above requests.
 * PromQL's increase() extrapolates to the window's edges and returns fractions (1234.56 requests),
 * and errors and requests are separate series scraped at slightly different times.
 */
function wholeCounts(r: ReleaseData): ReleaseData {
  const whole = (x: number) => (Number.isFinite(x) && x > 0 ? Math.round(x) : 0);
  const histogram = (h: Histogram | undefined) => (h ? { bounds: h.bounds, counts: h.counts.map(whole) } : undefined);
  const scope = (d: ScopeData): ScopeData => {
    const requests = whole(d.requests);
    return { requests, errors: Math.min(requests, whole(d.errors)), latency: histogram(d.latency) };
  };
  const task = (t: TaskData): TaskData => {
    const runs = whole(t.runs);
    return { runs, failures: Math.min(runs, whole(t.failures)), duration: histogram(t.duration) };
  };
  return {
    ...r,
    service: scope(r.service),
    routes: Object.fromEntries(Object.entries(r.routes).map(([k, v]) => [k, scope(v)])),
    tasks: Object.fromEntries(Object.entries(r.tasks).map(([k, v]) => [k, task(v)])),
    restarts: whole(r.restarts),
  };
}

/**
 * Holm (1979): sort the p-values, reject while p(k) <= alpha / (m - k). Its first step is Bonferroni,
 * so whether anything is rejected (the overall 'regressed') is the same; after a rejection it names
 * further regressions with more power. Valid under any dependence between the tests, and routes
 * are strongly dependent on the service they are part of. Tests whose smallest reachable p-value is
 * above alpha (no restarts at all, a task with one failure) cannot be rejected at any step and are
 * not counted in m (Tarone 1990). Returns m.
 */
function holm(tests: Test[], alpha: number, key: 'pWorse' | 'pBetter', reach: 'minWorse' | 'minBetter', mark: (t: Test) => void): number {
  const family = tests.filter((t) => t[reach] <= alpha).sort((a, b) => a[key] - b[key]);
  for (let k = 0; k < family.length; k++) {
    const t = family[k]!;
    if (t[key] > alpha / (family.length - k)) break;
    mark(t);
  }
  return family.length;
}

const REQUEST_METRICS = new Set<MetricName>(['error_ratio', 'latency_p50', 'latency_p95', 'latency_p99']);

/** Below `minRequests` in either release, no request metric is regressed or improved: inconclusive. */
function holdBelowMinimum(metrics: MetricResult[], base: number, cand: number, minRequests: number): void {
  const have = Math.min(base, cand);
  if (have >= minRequests) return;
  const reason = `need ≥ ${countText(minRequests)} requests per release before any verdict; have ${countText(have)}`;
  for (const m of metrics) {
    if (!REQUEST_METRICS.has(m.metric) || m.verdict === 'ok') continue;
    m.verdict = 'inconclusive';
    m.reason = m.reason ?? reason;
  }
}

function judge(row: Row, alphaPerTest: number): MetricResult | SkippedMetric {
  const { metric, scope, baseline, candidate, change, changeText } = row;
  const pValue = row.test ? (change !== null && change < 0 ? row.test.pBetter : row.test.pWorse) : undefined;
  const evidence = row.evidence ?? (row.test && pValue !== undefined ? `${row.test.name} ${pText(pValue)}` : '-');
  const result = (verdict: Verdict, reason?: string): MetricResult => ({
    metric, scope, baseline, candidate, change, changeText, evidence, verdict,
    ...(pValue !== undefined ? { pValue } : {}),
    ...(reason !== undefined ? { reason } : {}),
  });
  if (row.informational !== undefined) return result('ok', row.informational);
  // Without a test (cpu, memory) the margin alone decides.
  const significant = (direction: 1 | -1) => (row.test ? (direction === 1 ? row.test.worse : row.test.better) : row.marginOnly === true);
  if (significant(1) && row.large(1)) return result('regressed');
  if (significant(-1) && row.large(-1)) return result('improved');
  const reason = row.shortfall?.(alphaPerTest);
  if (reason === undefined) return result('ok');
  return row.breakdown ? { scope, metric, reason } : result('inconclusive', reason);
}

// ---- Text ----

function trimmed(x: number): string {
  return String(Number(x.toFixed(2)));
}

function signed(x: number, digits: number): string {
  const text = x.toFixed(digits);
  return Number(text) === 0 ? '0' : x > 0 ? `+${text}` : text;
}

/** "+1.2 pp" for an absolute change of a ratio. */
function ppText(change: number): string {
  const pp = change * 100;
  return `${signed(pp, Math.abs(pp) >= 10 ? 0 : Math.abs(pp) >= 0.1 ? 1 : 2)} pp`;
}

/** "+23%" for a relative change; "n/a" without one. */
function relativeText(change: number | null): string {
  if (change === null) return 'n/a';
  const pct = change * 100;
  return `${signed(pct, Math.abs(pct) >= 10 ? 0 : 1)}%`;
}

function pText(p: number): string {
  if (p < 1e-6) return 'p<1e-6';
  if (p < 0.001) return `p=${p.toExponential(1)}`;
  return `p=${Number(p.toPrecision(2))}`;
}

/** 12345 -> "12,345" (fixed, not locale-dependent). */
function countText(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
