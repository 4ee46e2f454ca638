// The significance tests and sample-size arithmetic behind `releases compare` (release-statistics.ts),
// on counts and on binned (histogram) data. Pure and deterministic: no I/O, no randomness, Node
// built-ins only. Each test returns two one-sided p-values: `pWorse` (the candidate is higher: more
// errors, slower) and `pBetter`. The method choices and references are in docs/RELEASES.md, "The model".

/** Two one-sided p-values of one comparison. */
export interface OneSided {
  pWorse: number;
  pBetter: number;
  /**
   * The smallest p-value each direction could reach with these margins (all events in one release,
   * say). A test that cannot reach the level is left out of the multiple-testing count (Tarone 1990).
   */
  minWorse: number;
  minBetter: number;
}

const NO_EVIDENCE: OneSided = { pWorse: 1, pBetter: 1, minWorse: 1, minBetter: 1 };

/** P(Z > z) for a standard normal Z. */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

// Chebyshev fit of erfc with relative error < 1.2e-7 everywhere (Numerical Recipes, 2nd ed., 6.2).
// Relative, not absolute, accuracy is what matters: p-values are compared with levels near 1e-4,
// where 1 - erf(x) would have lost every digit.
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}

// Acklam's rational approximation of the normal quantile (relative error < 1.2e-9).
const A = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
const B = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
const C = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];

function horner(coefficients: number[], x: number): number {
  return coefficients.reduce((acc, c) => acc * x + c, 0);
}

/** The z with P(Z > z) = p, for 0 < p < 1 (so 1.645 for 0.05). */
export function normalUpperQuantile(p: number): number {
  const lower = Math.min(p, 1 - p);
  let z: number;
  if (lower < 0.02425) {
    // The tail branch, evaluated on the small probability itself so that 1e-6 keeps its digits.
    const q = Math.sqrt(-2 * Math.log(lower));
    z = -horner(C, q) / (horner(D, q) * q + 1);
  } else {
    const q = 0.5 - lower;
    const r = q * q;
    z = (horner(A, r) * q) / (horner(B, r) * r + 1);
  }
  return p <= 0.5 ? z : -z;
}

// Lanczos approximation (g = 7, n = 9): ~15 significant digits, enough for log binomial coefficients
// of counts up to billions.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

function logFactorial(n: number): number {
  if (n < 2) return 0;
  const x = n; // log Gamma(n + 1), with the Lanczos series written for Gamma(x + 1)
  let a = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i]! / (x + i);
  const t = x + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

/**
 * A discrete distribution on the integers lo..hi given by its log pmf at one point and the pmf
 * ratio between neighbours: both tails are summed from the observed point outwards, always in the
 * direction where terms shrink, so that neither underflow nor cancellation spoils small p-values.
 */
interface Discrete {
  lo: number;
  hi: number;
  mode: number;
  logPmf: (k: number) => number;
  /** pmf(k + 1) / pmf(k) */
  up: (k: number) => number;
}

function sumFrom(d: Discrete, k: number, step: 1 | -1): number {
  let term = Math.exp(d.logPmf(k));
  let sum = term;
  for (let i = k; step === 1 ? i < d.hi : i > d.lo; i += step) {
    term *= step === 1 ? d.up(i) : 1 / d.up(i - 1);
    sum += term;
    if (term <= sum * 1e-17) break;
  }
  return sum;
}

/** P(X >= x) and P(X <= x). */
function tails(d: Discrete, x: number): OneSided {
  const upper = x <= d.lo ? 1 : x > d.mode ? sumFrom(d, x, 1) : 1 - sumFrom(d, x - 1, -1);
  const lower = x >= d.hi ? 1 : x < d.mode ? sumFrom(d, x, -1) : 1 - sumFrom(d, x + 1, 1);
  const atHi = Math.exp(d.logPmf(d.hi));
  const atLo = Math.exp(d.logPmf(d.lo));
  return { pWorse: clamp01(upper), pBetter: clamp01(lower), minWorse: atHi, minBetter: atLo };
}

function clamp01(p: number): number {
  return Math.min(1, Math.max(0, p));
}

/**
 * Fisher's exact test on a 2x2 table (events / trials in each release), one-sided both ways. Exact
 * at every count, so a release with a handful of requests cannot produce a small p-value by an
 * approximation's error; at large counts it agrees with the two-proportion z-test.
 */
export function fisherExact(baseEvents: number, baseTrials: number, candEvents: number, candTrials: number): OneSided {
  if (baseTrials <= 0 || candTrials <= 0) return NO_EVIDENCE;
  const n = baseTrials + candTrials;
  const events = baseEvents + candEvents;
  const nonEvents = n - events;
  // X = the candidate's events, hypergeometric given the margins.
  const lo = Math.max(0, candTrials - nonEvents);
  const hi = Math.min(events, candTrials);
  const logTotal = logChoose(n, candTrials);
  return tails(
    {
      lo,
      hi,
      mode: Math.min(hi, Math.max(lo, Math.floor(((candTrials + 1) * (events + 1)) / (n + 2)))),
      logPmf: (k) => logChoose(events, k) + logChoose(nonEvents, candTrials - k) - logTotal,
      up: (k) => ((events - k) * (candTrials - k)) / ((k + 1) * (nonEvents - candTrials + k + 1)),
    },
    candEvents,
  );
}

/**
 * Exact conditional test of two Poisson rates (restarts): given the total count, the candidate's
 * count is binomial with its share of the exposure (Przyborowski & Wilenski 1940).
 */
export function poissonRatesExact(baseCount: number, baseExposure: number, candCount: number, candExposure: number): OneSided {
  const total = baseCount + candCount;
  if (baseExposure <= 0 || candExposure <= 0 || total === 0) return NO_EVIDENCE;
  const p = candExposure / (baseExposure + candExposure);
  return tails(
    {
      lo: 0,
      hi: total,
      mode: Math.min(total, Math.floor((total + 1) * p)),
      logPmf: (k) => logChoose(total, k) + k * Math.log(p) + (total - k) * Math.log1p(-p),
      up: (k) => ((total - k) / (k + 1)) * (p / (1 - p)),
    },
    candCount,
  );
}

/**
 * Mann-Whitney U on two histograms with the same buckets: every bucket is one tie group, so U counts
 * candidate/baseline pairs where the candidate is in a higher bucket, plus half the pairs in the same
 * bucket. Exact (the permutation distribution) for small samples, where heavy ties make the normal
 * approximation's tail too light; otherwise normal with the tie-corrected variance and a continuity
 * correction (Lehmann 1975, ch. 1).
 */
export function rankTest(baseCounts: readonly number[], candCounts: readonly number[]): OneSided {
  const n1 = sum(baseCounts);
  const n2 = sum(candCounts);
  const n = n1 + n2;
  if (n1 === 0 || n2 === 0) return NO_EVIDENCE;
  let twiceU = 0; // 2U keeps the half-counted ties integer
  let below = 0;
  let ties = 0;
  for (let i = 0; i < baseCounts.length; i++) {
    const b = baseCounts[i] ?? 0;
    const c = candCounts[i] ?? 0;
    twiceU += c * (2 * below + b);
    below += b;
    const t = b + c;
    ties += t * t * t - t;
  }
  const pooled = baseCounts.map((b, i) => b + (candCounts[i] ?? 0));
  if (exactRankCost(pooled, n1, n2) <= EXACT_RANK_BUDGET) return exactRankTails(pooled, n1, n2, twiceU);
  const variance = ((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1)));
  if (!(variance > 0)) return NO_EVIDENCE; // every observation in one bucket: no ranking at all
  const sd = Math.sqrt(variance);
  const u = twiceU / 2;
  const mean = (n1 * n2) / 2;
  // The extremes (every candidate above / below every baseline observation) ignore ties: an
  // underestimate of the smallest reachable p, which only ever counts a test in rather than out.
  const extreme = normalUpperTail((mean - 0.5) / sd);
  return { pWorse: normalUpperTail((u - mean - 0.5) / sd), pBetter: normalUpperTail((mean - u - 0.5) / sd), minWorse: extreme, minBetter: extreme };
}

/**
 * The exact distribution is used whenever it is cheap: small samples, or few occupied buckets (task
 * durations, where heavy ties make the normal tail too light). Budget in state transitions.
 */
const EXACT_RANK_BUDGET = 50_000;

/** An upper bound of the state transitions exactRankTails makes. */
function exactRankCost(pooled: readonly number[], n1: number, n2: number): number {
  const maxStates = (n2 + 1) * (2 * n1 * n2 + 1);
  if (maxStates > Number.MAX_SAFE_INTEGER) return Infinity; // the state keys would lose precision
  let states = 1;
  let cost = 0;
  for (const t of pooled) {
    if (t === 0) continue;
    const transitions = states * (Math.min(t, n2) + 1);
    cost += transitions;
    states = Math.min(transitions, maxStates);
    if (cost > EXACT_RANK_BUDGET) break;
  }
  return cost;
}

/**
 * The exact null distribution of 2U given the pooled bucket totals: the candidate's counts per bucket
 * are multivariate hypergeometric, built bucket by bucket as a sequence of hypergeometric choices.
 * State: candidates placed so far and 2U so far.
 */
function exactRankTails(pooled: readonly number[], n1: number, n2: number, observed: number): OneSided {
  const STRIDE = 2 * n1 * n2 + 1; // key = placed * STRIDE + 2U
  let states = new Map<number, number>([[0, 1]]);
  let remaining = sum(pooled);
  let pooledBelow = 0;
  for (const t of pooled) {
    if (t === 0) continue; // an empty bucket adds no pairs
    const next = new Map<number, number>();
    const choices = new Map<number, number[]>(); // hypergeometric probabilities by candidates left
    for (const [key, p] of states) {
      const placed = Math.floor(key / STRIDE);
      const left = n2 - placed;
      const first = Math.max(0, left - (remaining - t));
      let q = choices.get(left);
      if (q === undefined) {
        const logDenominator = logChoose(remaining, left);
        q = [];
        for (let c = first; c <= Math.min(t, left); c++) q.push(Math.exp(logChoose(t, c) + logChoose(remaining - t, left - c) - logDenominator));
        choices.set(left, q);
      }
      for (let i = 0; i < q.length; i++) {
        const c = first + i;
        const k = (placed + c) * STRIDE + (key % STRIDE) + c * (2 * (pooledBelow - placed) + t - c);
        next.set(k, (next.get(k) ?? 0) + p * q[i]!);
      }
    }
    states = next;
    remaining -= t;
    pooledBelow += t;
  }
  let worse = 0;
  let better = 0;
  let [lowest, highest] = [Infinity, -Infinity];
  for (const key of states.keys()) [lowest, highest] = [Math.min(lowest, key % STRIDE), Math.max(highest, key % STRIDE)];
  let [atLowest, atHighest] = [0, 0];
  for (const [key, p] of states) {
    const u = key % STRIDE;
    if (u >= observed) worse += p;
    if (u <= observed) better += p;
    if (u === highest) atHighest += p;
    if (u === lowest) atLowest += p;
  }
  return { pWorse: clamp01(worse), pBetter: clamp01(better), minWorse: atHighest, minBetter: atLowest };
}

export function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/**
 * The bucket index whose upper bound splits off the slowest `share` (e.g. 1%) of the POOLED
 * observations: the largest bound with at least that share above it. Chosen from the pooled
 * histogram, which is the same under any relabelling of the two releases, so the test on it stays
 * valid. -1 when no bound has that share above it.
 */
export function tailBoundIndex(baseCounts: readonly number[], candCounts: readonly number[], share: number): number {
  const pooled = baseCounts.map((b, i) => b + (candCounts[i] ?? 0));
  const total = sum(pooled);
  let above = 0;
  for (let i = pooled.length - 1; i >= 1; i--) {
    above += pooled[i]!;
    if (total > 0 && above >= share * total) return i - 1;
  }
  return -1;
}

/** Fisher's exact test on the share of observations above bucket `bound`'s upper bound. */
export function tailTest(baseCounts: readonly number[], candCounts: readonly number[], bound: number): OneSided {
  const above = (counts: readonly number[]) => sum(counts.slice(bound + 1));
  return fisherExact(above(baseCounts), sum(baseCounts), above(candCounts), sum(candCounts));
}

/**
 * The cumulative share of a histogram at x, interpolating linearly inside a bucket (the assumption
 * histogram_quantile makes; the first bucket starts at 0). Defined up to the largest finite bound.
 */
export function interpolatedCdf(bounds: readonly number[], counts: readonly number[], x: number): number {
  const total = sum(counts);
  let below = 0;
  for (let i = 0; i < bounds.length; i++) {
    const upper = bounds[i]!;
    const lower = i === 0 ? 0 : bounds[i - 1]!;
    const c = counts[i] ?? 0;
    if (x <= upper) {
      const within = upper > lower ? Math.max(0, x - lower) / (upper - lower) : 1;
      return (below + c * within) / total;
    }
    below += c;
  }
  return below / total;
}

/** Bucket shares of the histogram after every observation is multiplied by (1 + increase). */
export function shiftedShares(bounds: readonly number[], counts: readonly number[], increase: number): number[] {
  const cdf = bounds.map((b) => interpolatedCdf(bounds, counts, b / (1 + increase)));
  return [...cdf, 1].map((c, i) => c - (i === 0 ? 0 : cdf[i - 1]!));
}

/**
 * Trials per release for a one-sided comparison of two proportions at level `alpha` to detect
 * p1 -> p1 + delta with probability `power`: Fleiss, Levin & Paik (2003), ch. 4, with the
 * continuity correction that brings the normal formula close to Fisher's exact test.
 */
export function proportionSampleSize(p1: number, delta: number, alpha: number, power: number): number {
  const p2 = Math.min(1, p1 + delta);
  const d = p2 - p1;
  if (!(d > 0)) return Infinity;
  const pbar = (p1 + p2) / 2;
  const root =
    normalUpperQuantile(alpha) * Math.sqrt(2 * pbar * (1 - pbar)) +
    normalUpperQuantile(1 - power) * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  const n = (root * root) / (d * d);
  return Math.ceil((n / 4) * (1 + Math.sqrt(1 + 4 / (n * d))) ** 2);
}

/**
 * Observations per release for the binned Mann-Whitney test to detect every observation of the
 * baseline histogram being `increase` slower (a multiplicative shift), Noether (1987): n = T (za + zb)^2
 * / (6 d^2), d = P(candidate > baseline) + P(tie)/2 - 1/2 on the bucketed shifted distribution and
 * T the tie correction. Infinity when the buckets cannot show the shift (everything above the last bound).
 */
export function rankSampleSize(bounds: readonly number[], counts: readonly number[], increase: number, alpha: number, power: number): number {
  const total = sum(counts);
  if (total === 0) return Infinity;
  const p = counts.map((c) => c / total);
  const q = shiftedShares(bounds, counts, increase);
  const d = rankEffect(p, q);
  if (!(d > 1e-9)) return Infinity;
  const ties = sum(p.map((pi, i) => ((pi + q[i]!) / 2) ** 3));
  const z = normalUpperQuantile(alpha) + normalUpperQuantile(1 - power);
  return Math.ceil(((1 - ties) * z * z) / (6 * d * d));
}

/** P(X > Y) + P(X = Y) / 2 - 1/2 for bucket shares q of X and p of Y: U / (n1 n2) - 1/2 in the limit. */
function rankEffect(p: readonly number[], q: readonly number[]): number {
  let below = 0;
  let d = -0.5;
  for (let i = 0; i < p.length; i++) {
    d += q[i]! * (below + 0.5 * p[i]!);
    below += p[i]!;
  }
  return d;
}

/**
 * How much slower `to` is than `from`, as one multiplicative shift (0.1 = every observation 10%
 * slower): the shift of `from`'s histogram that reproduces `to`'s rank statistic against it, a
 * Hodges-Lehmann-type estimate for binned data. It rests on the whole distribution, so it is far
 * steadier than one interpolated quantile. 0 when `to` is not slower.
 */
export function rankShift(bounds: readonly number[], from: readonly number[], to: readonly number[]): number {
  const n1 = sum(from);
  const n2 = sum(to);
  if (n1 === 0 || n2 === 0) return 0;
  const p = from.map((c) => c / n1);
  const observed = rankEffect(p, to.map((c) => c / n2));
  return solveShift((s) => rankEffect(p, shiftedShares(bounds, from, s)), observed);
}

/** The same for the tail: the shift of `from` that gives it `to`'s share above bucket `bound`. */
export function tailShift(bounds: readonly number[], from: readonly number[], to: readonly number[], bound: number): number {
  const n2 = sum(to);
  if (sum(from) === 0 || n2 === 0 || bound < 0) return 0;
  const observed = sum(to.slice(bound + 1)) / n2;
  return solveShift((s) => 1 - interpolatedCdf(bounds, from, bounds[bound]! / (1 + s)), observed);
}

/** The smallest shift in [0, 10] where the non-decreasing `statistic` reaches `observed` (bisection). */
function solveShift(statistic: (shift: number) => number, observed: number): number {
  const MAX = 10;
  if (statistic(0) >= observed) return 0;
  if (statistic(MAX) < observed) return MAX;
  let [lo, hi] = [0, MAX];
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (statistic(mid) >= observed) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Observations per release for tailTest at bucket `bound` to detect a shift by `increase`. */
export function tailSampleSize(bounds: readonly number[], counts: readonly number[], bound: number, increase: number, alpha: number, power: number): number {
  if (sum(counts) === 0 || bound < 0) return Infinity;
  const at = bounds[bound]!;
  const q0 = 1 - interpolatedCdf(bounds, counts, at);
  const q1 = 1 - interpolatedCdf(bounds, counts, at / (1 + increase));
  return proportionSampleSize(q0, q1 - q0, alpha, power);
}
