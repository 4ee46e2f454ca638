// A day of one service's history, written as OpenMetrics and turned into Prometheus TSDB blocks with
// `promtool tsdb create-blocks-from openmetrics`: ten releases deployed one after the other, fifty
// routes with skewed traffic, the same series names and labels our Collector exports. Used to check
// `releases list|compare` against a Prometheus the size the issue names, in seconds instead of a day.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './stack.js';

export const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

export interface ReleaseSpec {
  release: string;
  /** Unix seconds. */
  start: number;
  end: number;
  /** Error ratio per route (default `baseErrorRatio`). */
  errorRatio?: Record<string, number>;
  /** Multiplies every latency of this release. */
  latencyFactor?: number;
}

export interface HistorySpec {
  service: string;
  routes: string[];
  /** Requests per second across all routes; route i gets a Zipf share 1/(i+1). */
  requestsPerSecond: number;
  baseErrorRatio: number;
  stepSeconds: number;
  releases: ReleaseSpec[];
  seed: number;
}

/** mulberry32: small, fast and seeded, so the same spec always gives the same blocks. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** Binomial(n, p) by its normal approximation (exact enough at these counts), clamped to [0, n]. */
export function binomial(rand: () => number, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const x = Math.round(n * p + Math.sqrt(n * p * (1 - p)) * normal(rand));
  return Math.min(n, Math.max(0, x));
}

function erf(x: number): number {
  // Abramowitz-Stegun 7.1.26, |error| < 1.5e-7.
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

/** P(latency <= bound) for a log-normal latency with the given median and sigma. */
const lognormalCdf = (bound: number, median: number, sigma: number) => 0.5 * (1 + erf(Math.log(bound / median) / (sigma * Math.SQRT2)));

/** Per-bucket counts (non-cumulative, +Inf last) of `n` requests, drawn as sequential binomials. */
export function bucketCounts(rand: () => number, n: number, median: number, sigma: number): number[] {
  const counts: number[] = [];
  let left = n;
  let below = 0;
  for (const bound of BUCKETS) {
    const cdf = lognormalCdf(bound, median, sigma);
    const k = binomial(rand, left, below >= 1 ? 1 : (cdf - below) / (1 - below));
    counts.push(k);
    left -= k;
    below = cdf;
  }
  counts.push(left);
  return counts;
}

interface Series {
  labels: string;
  count: number;
  sum: number;
  buckets: number[];
}

/** Writes the OpenMetrics text for `spec` to a file and returns its path and sample count. */
export function writeHistory(spec: HistorySpec, dir: string): { file: string; samples: number } {
  const rand = prng(spec.seed);
  const file = join(dir, 'history.om');
  const fd = openSync(file, 'w');
  let samples = 0;
  const out = (lines: string[]) => {
    samples += lines.length;
    writeSync(fd, `${lines.join('\n')}\n`);
  };
  const weights = spec.routes.map((_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  out(['# TYPE http_server_request_duration_seconds histogram']);
  for (const r of spec.releases) {
    const base = `job="${spec.service}",instance="${r.release}-0",service_version="${r.release}",deployment_environment_name="production"`;
    spec.routes.forEach((route, i) => {
      const rate = (spec.requestsPerSecond * weights[i]!) / total;
      const ratio = r.errorRatio?.[route] ?? spec.baseErrorRatio;
      const median = 0.02 * (1 + (i % 5)) * (r.latencyFactor ?? 1);
      const labels = (status: string) => `${base},http_request_method="GET",http_route="${route}",http_response_status_code="${status}"`;
      const series: Series[] = ['200', '500'].map((s) => ({ labels: labels(s), count: 0, sum: 0, buckets: BUCKETS.map(() => 0).concat(0) }));
      const lines: string[][] = [[], []];
      for (let t = r.start + spec.stepSeconds; t <= r.end; t += spec.stepSeconds) {
        const n = Math.max(0, Math.round(rate * spec.stepSeconds + Math.sqrt(rate * spec.stepSeconds) * normal(rand)));
        const errors = binomial(rand, n, ratio);
        [n - errors, errors].forEach((k, s) => {
          const one = series[s]!;
          bucketCounts(rand, k, median, 0.6).forEach((c, b) => (one.buckets[b]! += c));
          one.count += k;
          one.sum += k * median * 1.2;
          let cumulative = 0;
          one.buckets.forEach((c, b) => {
            cumulative += c;
            const le = b < BUCKETS.length ? String(BUCKETS[b]) : '+Inf';
            lines[s]!.push(`http_server_request_duration_seconds_bucket{${one.labels},le="${le}"} ${cumulative} ${t}`);
          });
          lines[s]!.push(`http_server_request_duration_seconds_count{${one.labels}} ${one.count} ${t}`);
          lines[s]!.push(`http_server_request_duration_seconds_sum{${one.labels}} ${one.sum.toFixed(3)} ${t}`);
        });
      }
      lines.forEach(out);
    });
  }
  writeProcessSeries(spec, out);
  out(['# EOF']);
  closeSync(fd);
  return { file, samples };
}

/** target_info, CPU time and memory, one instance per release, as the Collector exports them. */
function writeProcessSeries(spec: HistorySpec, out: (lines: string[]) => void): void {
  const families: Array<[string, string, (r: ReleaseSpec, t: number) => number]> = [
    ['# TYPE target info', 'target_info', () => 1],
    ['# TYPE process_cpu_time_seconds counter', 'process_cpu_time_seconds_total', (r, t) => 0.05 * (t - r.start)],
    ['# TYPE process_memory_usage gauge', 'process_memory_usage', () => 150e6],
  ];
  for (const [type, name, value] of families) {
    out([type]);
    for (const r of spec.releases) {
      const labels = `job="${spec.service}",instance="${r.release}-0",service_version="${r.release}",deployment_environment_name="production"`;
      const lines: string[] = [];
      for (let t = r.start + spec.stepSeconds; t <= r.end; t += spec.stepSeconds) lines.push(`${name}{${labels}} ${value(r, t)} ${t}`);
      out(lines);
    }
  }
}

/**
 * TSDB blocks for `spec` in a new directory (`dir`, for the caller to remove), ready for
 * `prometheus --storage.tsdb.path=dataDir`. The OpenMetrics text (~300 MB) is removed at once.
 */
export function backfill(spec: HistorySpec): { dir: string; dataDir: string; samples: number } {
  const dir = mkdtempSync(join(tmpdir(), 'otel-monitor-backfill-'));
  const { file, samples } = writeHistory(spec, dir);
  const dataDir = join(dir, 'data');
  try {
    execFileSync(BIN.promtool, ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', file, dataDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  } finally {
    rmSync(file, { force: true });
  }
  return { dir, dataDir, samples };
}
