// The statistics behind `otel-monitor releases compare`: the tests against known values, and the
// bar of issue 9 (false alarms, power, direction, a confined regression, a handful of requests)
// proved over seeded simulated release pairs through compareReleases itself. Seeds are fixed, so
// every run sees the same pairs; docs/RELEASES.md publishes the same scenarios with more cases
// (scripts/release-statistics-tables.ts).
import { describe, expect, it } from 'vitest';
import {
  compareReleases,
  histogramQuantile,
  worstVerdict,
  type Histogram,
  type MetricResult,
  type ReleaseData,
  type Report,
} from '../../src/cli/releases/statistics.js';
import {
  fisherExact,
  normalUpperQuantile,
  normalUpperTail,
  poissonRatesExact,
  rankShift,
  rankTest,
  shiftedShares,
} from '../../src/cli/releases/statistical-tests.js';
import {
  baselineModel,
  runScenario,
  seededRng,
  withErrorRatio,
  withLatencyFactor,
  withRouteErrorRatio,
  type ReleaseModel,
  type Tally,
} from '../helpers/release-simulation.js';

const compare = (b: ReleaseData, c: ReleaseData): Report => compareReleases(b, c);

function release(requests: number, errors: number, latency?: Histogram, extra: Partial<ReleaseData> = {}): ReleaseData {
  return { windowSeconds: 3600, service: { requests, errors, latency }, routes: {}, tasks: {}, instances: 2, restarts: 0, ...extra };
}

function metric(report: Report, name: MetricResult['metric'], scope = 'service'): MetricResult {
  const found = report.metrics.find((m) => m.metric === name && m.scope === scope);
  if (!found) throw new Error(`no ${name} for ${scope} in ${JSON.stringify(report.metrics.map((m) => `${m.scope} ${m.metric}`))}`);
  return found;
}

describe('histogramQuantile (PromQL histogram_quantile semantics)', () => {
  const h: Histogram = { bounds: [0.1, 0.5, 1], counts: [10, 20, 10, 0] };

  it('interpolates linearly inside the bucket holding the rank, the first bucket starting at 0', () => {
    expect(histogramQuantile(h, 0.125)).toBeCloseTo(0.05, 12); // rank 5 of 10 in [0, 0.1]
    expect(histogramQuantile(h, 0.25)).toBeCloseTo(0.1, 12);
    expect(histogramQuantile(h, 0.5)).toBeCloseTo(0.3, 12); // rank 20: 10 into [0.1, 0.5]'s 20
    expect(histogramQuantile(h, 0.9)).toBeCloseTo(0.8, 12); // rank 36: 6 into [0.5, 1]'s 10
    expect(histogramQuantile(h, 1)).toBeCloseTo(1, 12);
  });

  it('returns the largest finite bound when the rank falls in the +Inf bucket, and null without data', () => {
    expect(histogramQuantile({ bounds: [0.1, 0.5, 1], counts: [0, 0, 1, 3] }, 0.5)).toBe(1);
    expect(histogramQuantile({ bounds: [0.1, 0.5, 1], counts: [0, 0, 0, 0] }, 0.5)).toBeNull();
    expect(histogramQuantile(h, 1.5)).toBeNull();
    expect(histogramQuantile(h, Number.NaN)).toBeNull();
  });

  it('passes over empty buckets', () => {
    expect(histogramQuantile({ bounds: [0.1, 0.5, 1], counts: [0, 0, 4, 0] }, 0.5)).toBeCloseTo(0.75, 12);
  });
});

describe('significance tests against known values', () => {
  it('normal tail and quantile', () => {
    expect(normalUpperTail(1.959964)).toBeCloseTo(0.025, 6);
    expect(normalUpperTail(3.719016) / 1e-4).toBeCloseTo(1, 5);
    expect(normalUpperQuantile(0.05)).toBeCloseTo(1.644854, 5);
    expect(normalUpperQuantile(1e-6)).toBeCloseTo(4.753424, 5);
    expect(normalUpperQuantile(0.8)).toBeCloseTo(-0.841621, 5);
  });

  it("Fisher's exact test: 3/4 against 1/4 is 17/70 one-sided (R: fisher.test(..., alternative = 'greater'))", () => {
    const p = fisherExact(1, 4, 3, 4);
    expect(p.pWorse).toBeCloseTo(17 / 70, 12);
    expect(p.pBetter).toBeCloseTo(69 / 70, 12);
    expect(p.minWorse).toBeCloseTo(1 / 70, 12); // all 4 events in the candidate
  });

  it('Fisher stays exact far in the tail (no cancellation): 0/10,000 against 40/10,000', () => {
    // P = C(10000, 40) / C(20000, 40) = prod (10000 - i) / (20000 - i), i < 40
    let exact = 1;
    for (let i = 0; i < 40; i++) exact *= (10_000 - i) / (20_000 - i);
    expect(fisherExact(0, 10_000, 40, 10_000).pWorse / exact).toBeCloseTo(1, 8);
  });

  it('the exact Poisson-rate test: 12 restarts against none in equal exposure is 0.5^12', () => {
    expect(poissonRatesExact(0, 3600, 12, 3600).pWorse).toBeCloseTo(0.5 ** 12, 15);
    expect(poissonRatesExact(0, 3600, 0, 3600).pWorse).toBe(1);
  });

  it('the binned Mann-Whitney test equals the permutation distribution on small samples', () => {
    const rng = seededRng(42);
    for (let trial = 0; trial < 20; trial++) {
      const base = [0, 0, 0, 0].map(() => Math.floor(rng() * 3));
      const cand = [0, 0, 0, 0].map(() => Math.floor(rng() * 3));
      if (base.every((c) => c === 0) || cand.every((c) => c === 0)) continue;
      expect(rankTest(base, cand).pWorse).toBeCloseTo(permutationPWorse(base, cand), 10);
    }
  });

  it('rankShift recovers a multiplicative shift of a histogram, and reads no shift as 0', () => {
    const bounds = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1];
    const base = [5, 40, 300, 900, 1200, 1500, 4000, 1500, 400, 100, 55];
    const slower = shiftedShares(bounds, base, 0.2).map((share) => share * 1e6);
    expect(rankShift(bounds, base, slower)).toBeCloseTo(0.2, 3);
    expect(rankShift(bounds, base, base)).toBeCloseTo(0, 6);
    expect(rankShift(bounds, slower, base)).toBeCloseTo(0, 6); // faster is not slower
  });

  it('the normal approximation of large samples agrees with the z statistic computed by hand', () => {
    // 1000 v 1000 over two buckets: U = 600*(400 + 200) + ... reduces to a 2x2 comparison.
    const p = rankTest([600, 400], [400, 600]).pWorse;
    const twiceU = 400 * 600 + 600 * (2 * 600 + 400);
    const ties = 1000 ** 3 - 1000 + (1000 ** 3 - 1000);
    const sd = Math.sqrt(((1000 * 1000) / 12) * (2001 - ties / (2000 * 1999)));
    expect(p).toBeCloseTo(normalUpperTail((twiceU / 2 - 500_000 - 0.5) / sd), 12);
  });
});

/** P(U >= observed) by enumerating every way to pick the candidate's observations from the pooled sample. */
function permutationPWorse(base: number[], cand: number[]): number {
  const pooled = base.flatMap((c, i) => new Array<number>(c + (cand[i] ?? 0)).fill(i));
  const n2 = cand.reduce((a, b) => a + b, 0);
  const u = (c: number[], b: number[]) => c.reduce((s, x) => s + b.reduce((t, y) => t + (x > y ? 1 : x === y ? 0.5 : 0), 0), 0);
  const observed = u(cand.flatMap((c, i) => new Array<number>(c).fill(i)), base.flatMap((c, i) => new Array<number>(c).fill(i)));
  let atLeast = 0;
  let total = 0;
  for (let mask = 0; mask < 1 << pooled.length; mask++) {
    if (popcount(mask) !== n2) continue;
    const c = pooled.filter((_, i) => mask & (1 << i));
    const b = pooled.filter((_, i) => !(mask & (1 << i)));
    total++;
    if (u(c, b) >= observed - 1e-9) atLeast++;
  }
  return atLeast / total;
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x; v; v &= v - 1) n++;
  return n;
}

describe('compareReleases on hand-made data', () => {
  const latency = (scale: number): Histogram => ({ bounds: [0.1, 0.5, 1], counts: [600 * scale, 300 * scale, 80 * scale, 20 * scale] });

  it('a tiny but significant increase is never regressed; one above the minimum effect is', () => {
    const tiny = compareReleases(release(1_000_000, 20_000, latency(1000)), release(1_000_000, 22_000, latency(1000)));
    expect(metric(tiny, 'error_ratio').pValue).toBeLessThan(1e-6);
    expect(metric(tiny, 'error_ratio')).toMatchObject({ verdict: 'ok', changeText: '+0.2 pp', evidence: 'Fisher p<1e-6' });
    const big = compareReleases(release(1_000_000, 20_000, latency(1000)), release(1_000_000, 26_000, latency(1000)));
    expect(metric(big, 'error_ratio')).toMatchObject({ verdict: 'regressed', changeText: '+0.6 pp' });
    expect(big.verdict).toBe('regressed');
  });

  it('a p95 that jumps inside a wide bucket while the distribution barely moved is not regressed', () => {
    // 1% of the requests move from below 0.1 s to just above it: significant at 100,000 requests, and
    // the interpolated p95 jumps +30% inside the wide 0.1-0.5 s bucket, but the whole distribution is
    // about 1% slower.
    const base = release(100_000, 2_000, { bounds: [0.1, 0.5, 1], counts: [94_000, 5_000, 1_000, 0] });
    const cand = release(100_000, 2_000, { bounds: [0.1, 0.5, 1], counts: [93_000, 6_000, 1_000, 0] });
    const report = compareReleases(base, cand);
    expect(metric(report, 'latency_p95').change).toBeGreaterThan(0.25);
    expect(metric(report, 'latency_p95').pValue).toBeLessThan(1e-6);
    expect(metric(report, 'latency_p95').verdict).toBe('ok');
  });

  it('states the minimum sample when a release has too few requests, in the words of issue 9', () => {
    const report = compareReleases(release(340, 7, latency(0.34)), release(340, 7, latency(0.34)));
    expect(report.verdict).toBe('inconclusive');
    expect(metric(report, 'error_ratio').reason).toMatch(/^need ≥ \d{1,3}(,\d{3})* requests per release to detect \+1 pp; have 340$/);
    expect(metric(report, 'latency_p95').reason).toMatch(/^need ≥ [\d,]+ requests per release to detect \+20% on p95; have 340$/);
    // p99 needs several times the data: listed as skipped, with its own minimum.
    expect(report.skipped).toContainEqual({ scope: 'service', metric: 'latency_p99', reason: expect.stringMatching(/^need ≥ [\d,]+ requests per release to detect \+20% on p99; have 340$/) });
  });

  it('an improvement is improved, never regressed', () => {
    const report = compareReleases(release(100_000, 3_000, latency(100)), release(100_000, 2_000, latency(100)));
    expect(metric(report, 'error_ratio')).toMatchObject({ verdict: 'improved', changeText: '-1.0 pp' });
  });

  it('judges CPU per request: twice the traffic at twice the CPU is ok, 1.5x the CPU at the same traffic is regressed', () => {
    const base = release(100_000, 2_000, latency(100), { cpuUtilization: 0.4, memoryBytes: 200e6 });
    const doubled = release(200_000, 4_000, latency(200), { cpuUtilization: 0.8, memoryBytes: 210e6 });
    expect(metric(compareReleases(base, doubled), 'cpu').verdict).toBe('ok');
    const heavier = compareReleases(base, { ...base, cpuUtilization: 0.6, memoryBytes: 300e6 });
    expect(metric(heavier, 'cpu')).toMatchObject({ verdict: 'regressed', changeText: '+50% per request', evidence: 'margin ±25%' });
    expect(metric(heavier, 'memory').verdict).toBe('regressed');
  });

  it('restarts: a crash loop (12 against none) is regressed, 3 against none is not evidence enough', () => {
    const base = release(100_000, 2_000, latency(100));
    expect(metric(compareReleases(base, { ...base, restarts: 12 }), 'restarts').verdict).toBe('regressed');
    expect(metric(compareReleases(base, { ...base, restarts: 3 }), 'restarts').verdict).toBe('ok');
  });

  it('compares the busiest routes both releases served and lists the rest as skipped', () => {
    const routes = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`GET /r${i}`, { requests: 10_000 - i * 100, errors: 200 - 2 * i }]));
    const base = release(200_000, 4_000, undefined, { routes: { ...routes(12), 'GET /old': { requests: 50_000, errors: 1_000 } } });
    const report = compareReleases(base, { ...base, routes: routes(12) }, { maxRoutes: 10 });
    expect(report.metrics.filter((m) => m.metric === 'error_ratio' && m.scope.startsWith('route'))).toHaveLength(9);
    expect(report.skipped).toContainEqual({ scope: 'route GET /old', reason: 'no requests in the candidate' });
    expect(report.skipped).toContainEqual({ scope: 'route GET /r11', reason: 'not among the 10 busiest routes' });
  });

  it("takes PromQL increase()'s fractional counts as whole ones, and never more errors than requests", () => {
    const h = (k: number): Histogram => ({ bounds: [0.1, 0.5, 1], counts: [6000.4 * k, 3000.2 * k, 800.3 * k, 199.6 * k] });
    const fractional = compareReleases(release(10_000.4, 200.3, h(1)), release(10_000.2, 10_000.9, h(1)));
    const whole = compareReleases(release(10_000, 200, h(1)), release(10_000, 10_000, h(1)));
    expect(fractional.metrics).toEqual(whole.metrics);
    expect(metric(fractional, 'error_ratio').candidate).toBe(1);
  });

  it('worstVerdict orders regressed > inconclusive > ok > improved', () => {
    expect(worstVerdict(['improved', 'ok'])).toBe('ok');
    expect(worstVerdict(['ok', 'inconclusive', 'improved'])).toBe('inconclusive');
    expect(worstVerdict(['inconclusive', 'regressed'])).toBe('regressed');
    expect(worstVerdict(['improved'])).toBe('improved');
  });

  it('rejects options out of range', () => {
    expect(() => compareReleases(release(1, 0), release(1, 0), { alpha: 1.5 })).toThrow(RangeError);
    expect(() => compareReleases(release(1, 0), release(1, 0), { maxRoutes: 2.5 })).toThrow(RangeError);
  });
});

// ---- The bar of issue 9, over seeded simulated pairs ----

const rate = (t: Tally, k: keyof Omit<Tally, 'cases'>) => t[k] / t.cases;

/** No metric whose observed change is an improvement is ever called regressed. */
function neverRegressedAgainstItsChange(report: Report): void {
  for (const m of report.metrics) if (m.verdict === 'regressed') expect(m.change ?? 1).toBeGreaterThan(0);
}

describe('false alarms and power (issue 9), simulated', () => {
  const base = baselineModel;

  it.each([
    { requests: 2_000, cases: 300, seed: 11 },
    { requests: 10_000, cases: 300, seed: 12 },
    { requests: 20_000, cases: 300, seed: 13 },
  ])('A/A at $requests requests per release: regressed in at most 2% of $cases pairs', ({ requests, cases, seed }) => {
    const tally = runScenario(compare, base(requests), base(requests), cases, seed, neverRegressedAgainstItsChange);
    expect(rate(tally, 'regressed')).toBeLessThanOrEqual(0.02);
  });

  it('+1 pp of error ratio (2% -> 3%): regressed in >= 95% at 20,000 requests and >= 80% at 10,000', () => {
    const at20k = runScenario(compare, base(20_000), withErrorRatio(base(20_000), 0.03), 200, 21);
    expect(rate(at20k, 'regressed')).toBeGreaterThanOrEqual(0.95);
    const at10k = runScenario(compare, base(10_000), withErrorRatio(base(10_000), 0.03), 400, 22);
    expect(rate(at10k, 'regressed')).toBeGreaterThanOrEqual(0.8);
  });

  it('+20% latency (every request 1.2x slower): regressed in >= 95% at 2,000 requests, named on the service latency', () => {
    let named = 0;
    const tally = runScenario(compare, base(2_000), withLatencyFactor(base(2_000), 1.2), 300, 31, (r) => {
      if (r.metrics.some((m) => m.scope === 'service' && m.metric.startsWith('latency_') && m.verdict === 'regressed')) named++;
    });
    expect(rate(tally, 'regressed')).toBeGreaterThanOrEqual(0.95);
    expect(named / tally.cases).toBeGreaterThanOrEqual(0.95);
  });

  it('an improvement (3% -> 2% errors, latency x0.8) is never regressed', () => {
    const better = (m: ReleaseModel) => withLatencyFactor(withErrorRatio(m, 0.02), 0.8);
    let improvedErrors = 0;
    const tally = runScenario(compare, withErrorRatio(base(20_000), 0.03), better(base(20_000)), 300, 41, (r) => {
      neverRegressedAgainstItsChange(r);
      if (metric(r, 'error_ratio').verdict === 'improved') improvedErrors++;
    });
    expect(tally.regressed).toBe(0);
    expect(improvedErrors / tally.cases).toBeGreaterThanOrEqual(0.95);
  });

  it('a regression confined to one route with 10% of the traffic (2% -> 20% errors) is caught and named', () => {
    const route = 'GET /orders/:id';
    let named = 0;
    const candidate = withRouteErrorRatio(base(20_000), route, 0.2);
    const tally = runScenario(compare, base(20_000), candidate, 200, 51, (r) => {
      if (r.metrics.some((m) => m.scope === `route ${route}` && m.metric === 'error_ratio' && m.verdict === 'regressed')) named++;
    });
    expect(rate(tally, 'regressed')).toBe(1);
    expect(named).toBe(tally.cases);
  });

  it('a release with a handful of requests is inconclusive, with the minimum sample', () => {
    const handful: ReleaseModel = { ...base(12), tasks: [] }; // a fresh deploy: no task has run yet
    const tally = runScenario(compare, handful, handful, 100, 61, (r) => {
      expect(metric(r, 'error_ratio').reason).toMatch(/^need ≥ [\d,]+ requests per release to detect \+1 pp; have \d+$/);
    });
    expect(tally.inconclusive).toBe(tally.cases);
  });

  it('a handful of requests is inconclusive even when they were much slower (a fresh process warming up)', () => {
    const slow: Histogram = { bounds: [0.005, 0.01, 0.025, 0.05], counts: [0, 2, 8, 4, 0] };
    const fast: Histogram = { bounds: [0.005, 0.01, 0.025, 0.05], counts: [3000, 500, 100, 0, 0] };
    const r = compare(release(3600, 0, fast), release(14, 0, slow));
    expect(r.verdict).toBe('inconclusive');
    for (const name of ['latency_p50', 'latency_p95'] as const) {
      expect(metric(r, name).verdict).toBe('inconclusive');
    }
    expect(metric(r, 'latency_p50').reason).toMatch(/^need ≥ 200 requests per release before any verdict; have 14$/);
    // From 200 requests on, the same slow-down is a regression.
    const enough: Histogram = { bounds: slow.bounds, counts: slow.counts.map((n) => n * 20) };
    expect(compare(release(3600, 0, fast), release(280, 0, enough)).verdict).toBe('regressed');
  });
});
