// Seeded simulation of two releases' telemetry, as `releases compare` reads it from Prometheus: per
// route request and error counts and http.server.request.duration histograms with the SDK's
// buckets, task runs/failures/durations, restarts, CPU and memory. Used by the statistics test
// and by scripts/release-statistics-tables.ts (the tables in docs/RELEASES.md). Deterministic: the
// same seed gives the same releases on every machine.
import type { Histogram, ReleaseData, Report, ScopeData, TaskData } from '../../src/cli/releases/statistics.js';
// The normal CDF for the lognormal's bucket probabilities (itself unit-tested against known values).
import { normalUpperTail } from '../../src/cli/releases/statistical-tests.js';

/** The buckets of http.server.request.duration (src/instrumentation/http-server.ts). */
export const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** The buckets of the task duration histogram (src/processors/task-status.ts). */
export const TASK_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];

export type Rng = () => number;

/** sfc32 (Doty-Humphrey's small fast counting generator), seeded through splitmix32: uniform in [0, 1). */
export function seededRng(seed: number): Rng {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = 1;
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 12; i++) next(); // the first outputs of a fresh state are weakly mixed
  return next;
}

/** Standard normal by Box-Muller (the second value of each pair is discarded: simplicity over speed). */
export function normal(rng: Rng): number {
  const u = 1 - rng(); // (0, 1]: log(0) never happens
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Poisson by Knuth's multiplication method: fine for the small means of restarts. */
export function poisson(rng: Rng, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = rng(); p > limit; p *= rng()) k++;
  return k;
}

export interface RouteModel {
  name: string;
  /** Share of the service's requests. */
  share: number;
  errorRatio: number;
  /** Lognormal latency: median in seconds and sigma of log(latency). */
  median: number;
  sigma: number;
}

export interface TaskModel {
  name: string;
  runs: number;
  failureRatio: number;
  median: number;
  sigma: number;
}

export interface ReleaseModel {
  requests: number;
  windowSeconds: number;
  routes: RouteModel[];
  tasks: TaskModel[];
  instances: number;
  restartsPerInstanceHour: number;
  /** CPU seconds per request; cores per instance follow from the throughput. */
  cpuSecondsPerRequest: number;
  memoryBytes: number;
  /** Relative noise of the CPU and memory means (normal, sd). */
  resourceNoise: number;
}

// Ten routes with skewed traffic (the busiest has 29%, the tenth 2%) and two rare ones beyond the ten
// busiest; median latencies from 3 ms (health check) to 1.5 s (reindex).
const ROUTES: Array<[string, number, number, number]> = [
  ['GET /users/:id', 0.29, 0.03, 0.6],
  ['GET /products', 0.2, 0.05, 0.7],
  ['POST /orders', 0.12, 0.12, 0.6],
  ['GET /orders/:id', 0.1, 0.04, 0.5],
  ['GET /search', 0.08, 0.2, 0.8],
  ['POST /login', 0.06, 0.08, 0.5],
  ['GET /health', 0.05, 0.003, 0.4],
  ['PUT /users/:id', 0.04, 0.06, 0.6],
  ['GET /reports', 0.03, 0.4, 0.9],
  ['DELETE /orders/:id', 0.02, 0.05, 0.6],
  ['GET /admin/audit', 0.005, 0.3, 0.7],
  ['POST /admin/reindex', 0.005, 1.5, 0.5],
];

/** The baseline release: 2% errors on every route, a one-hour window, 3 instances. */
export function baselineModel(requests: number): ReleaseModel {
  return {
    requests,
    windowSeconds: 3600,
    routes: ROUTES.map(([name, share, median, sigma]) => ({ name, share, errorRatio: 0.02, median, sigma })),
    tasks: [
      { name: 'import_prices', runs: 24, failureRatio: 0.04, median: 40, sigma: 0.3 },
      { name: 'send_digest', runs: 60, failureRatio: 0.02, median: 2, sigma: 0.5 },
    ],
    instances: 3,
    restartsPerInstanceHour: 0.1,
    cpuSecondsPerRequest: 0.002,
    memoryBytes: 180e6,
    resourceNoise: 0.03,
  };
}

/** The same release with every route's error ratio set to `ratio` (2% -> 3% is +1 pp for the service). */
export function withErrorRatio(m: ReleaseModel, ratio: number): ReleaseModel {
  return { ...m, routes: m.routes.map((r) => ({ ...r, errorRatio: ratio })) };
}

/** Every request `factor` times slower: the multiplicative shift of the latency distribution. */
export function withLatencyFactor(m: ReleaseModel, factor: number): ReleaseModel {
  return { ...m, routes: m.routes.map((r) => ({ ...r, median: r.median * factor })) };
}

/** One route's error ratio changed, the rest as they were. */
export function withRouteErrorRatio(m: ReleaseModel, route: string, ratio: number): ReleaseModel {
  return { ...m, routes: m.routes.map((r) => (r.name === route ? { ...r, errorRatio: ratio } : r)) };
}

function emptyHistogram(bounds: number[]): Histogram {
  return { bounds, counts: new Array<number>(bounds.length + 1).fill(0) };
}

/** Bucket probabilities of a lognormal (a value equal to a bound belongs to that bound's bucket, "le"). */
function lognormalBucketCdf(bounds: number[], median: number, sigma: number): number[] {
  return bounds.map((b) => 1 - normalUpperTail(Math.log(b / median) / sigma));
}

/**
 * `n` observations drawn into a histogram by inverting its bucket CDF: one uniform per observation
 * instead of a normal draw and an exponential, which keeps hundreds of 20,000-request releases fast.
 */
function fill(rng: Rng, h: Histogram, n: number, cdf: number[]): void {
  for (let i = 0; i < n; i++) {
    const u = rng();
    let k = 0;
    while (k < cdf.length && u >= cdf[k]!) k++;
    h.counts[k]!++;
  }
}

/** Binomial by geometric waiting times between successes: O(n p) uniforms rather than n. */
function binomial(rng: Rng, n: number, p: number): number {
  if (p <= 0) return 0;
  if (p >= 1) return n;
  const logQ = Math.log1p(-p);
  let k = 0;
  for (let position = Math.floor(Math.log(1 - rng()) / logQ); position < n; position += 1 + Math.floor(Math.log(1 - rng()) / logQ)) k++;
  return k;
}

function addInto(total: ScopeData, part: ScopeData): void {
  total.requests += part.requests;
  total.errors += part.errors;
  part.latency!.counts.forEach((c, i) => (total.latency!.counts[i]! += c));
}

/** One release's data for one comparison window. */
export function simulateRelease(m: ReleaseModel, rng: Rng): ReleaseData {
  const service: ScopeData = { requests: 0, errors: 0, latency: emptyHistogram(HTTP_BUCKETS) };
  const routes: Record<string, ScopeData> = {};
  for (const r of m.routes) {
    const requests = Math.round(m.requests * r.share);
    if (requests === 0) continue;
    const route: ScopeData = { requests, errors: binomial(rng, requests, r.errorRatio), latency: emptyHistogram(HTTP_BUCKETS) };
    fill(rng, route.latency!, requests, lognormalBucketCdf(HTTP_BUCKETS, r.median, r.sigma));
    routes[r.name] = route;
    addInto(service, route);
  }
  const tasks: Record<string, TaskData> = {};
  for (const t of m.tasks) {
    const duration = emptyHistogram(TASK_BUCKETS);
    fill(rng, duration, t.runs, lognormalBucketCdf(TASK_BUCKETS, t.median, t.sigma));
    tasks[t.name] = { runs: t.runs, failures: binomial(rng, t.runs, t.failureRatio), duration };
  }
  const noise = () => 1 + m.resourceNoise * normal(rng);
  return {
    windowSeconds: m.windowSeconds,
    service,
    routes,
    tasks,
    instances: m.instances,
    restarts: poisson(rng, (m.restartsPerInstanceHour * m.instances * m.windowSeconds) / 3600),
    cpuUtilization: ((m.cpuSecondsPerRequest * service.requests) / m.windowSeconds / m.instances) * noise(),
    memoryBytes: m.memoryBytes * noise(),
  };
}

export interface Tally {
  cases: number;
  regressed: number;
  inconclusive: number;
  ok: number;
  improved: number;
}

/**
 * Simulates `cases` independent baseline/candidate pairs from one seed, compares each, counts the
 * overall verdicts and hands every report to `inspect` (for per-case assertions).
 */
export function runScenario(
  compare: (b: ReleaseData, c: ReleaseData) => Report,
  baseline: ReleaseModel,
  candidate: ReleaseModel,
  cases: number,
  seed: number,
  inspect: (report: Report) => void = () => {},
): Tally {
  const rng = seededRng(seed);
  const tally: Tally = { cases, regressed: 0, inconclusive: 0, ok: 0, improved: 0 };
  for (let i = 0; i < cases; i++) {
    const report = compare(simulateRelease(baseline, rng), simulateRelease(candidate, rng));
    tally[report.verdict]++;
    inspect(report);
  }
  return tally;
}

/** Wilson score interval of a proportion (95%): the honest error bar of a rate from `cases` trials. */
export function wilson(successes: number, cases: number, z = 1.96): [number, number] {
  const p = successes / cases;
  const denominator = 1 + (z * z) / cases;
  const centre = (p + (z * z) / (2 * cases)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / cases + (z * z) / (4 * cases * cases))) / denominator;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
