// Measures the false-alarm and power rates of `releases compare` over seeded simulated release pairs
// (test/helpers/release-simulation.ts, the same simulation as test/unit/release-statistics.test.ts,
// with more cases) and prints the tables of docs/RELEASES.md, "False alarms and power".
//
//   node_modules/node/bin/node --import ./examples/ts-paths.mjs scripts/release-statistics-tables.ts [--write]
//
// --write replaces the block between the <!-- tables:begin --> and <!-- tables:end --> markers of
// docs/RELEASES.md. Deterministic: the same code gives the same tables on every machine.
import { readFileSync, writeFileSync } from 'node:fs';
import { compareReleases, type Report } from '../src/cli/releases/statistics.js';
import {
  baselineModel,
  runScenario,
  wilson,
  withErrorRatio,
  withLatencyFactor,
  withRouteErrorRatio,
  type ReleaseModel,
  type Tally,
} from '../test/helpers/release-simulation.js';

const AA_CASES = 2000;
const CASES = 1000;
const compare = (b: Parameters<typeof compareReleases>[0], c: Parameters<typeof compareReleases>[1]): Report => compareReleases(b, c);

const percent = (x: number) => `${(100 * x).toFixed(1)}%`;
const thousands = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

function rateCell(hits: number, cases: number): string {
  const [lo, hi] = wilson(hits, cases);
  return `${percent(hits / cases)} [${percent(lo)}, ${percent(hi)}]`;
}

interface Row {
  label: string;
  baseline: ReleaseModel;
  candidate: ReleaseModel;
  seed: number;
  /** An extra count per case, e.g. "the route was named". */
  extra?: (r: Report) => boolean;
}

function measure(rows: Row[], cases: number, extraHeader?: string): string {
  const header = ['', 'cases', 'seed', 'regressed (95% CI)', 'inconclusive', 'ok or improved', ...(extraHeader ? [extraHeader] : [])];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows) {
    let extra = 0;
    const t: Tally = runScenario(compare, row.baseline, row.candidate, cases, row.seed, (r) => {
      if (row.extra?.(r)) extra++;
    });
    const cells = [row.label, thousands(cases), String(row.seed), rateCell(t.regressed, cases), percent(t.inconclusive / cases), percent((t.ok + t.improved) / cases)];
    if (extraHeader) cells.push(rateCell(extra, cases));
    lines.push(`| ${cells.join(' | ')} |`);
    process.stderr.write(`${row.label}: ${JSON.stringify(t)}\n`);
  }
  return lines.join('\n');
}

const base = baselineModel;
const sizes = (list: number[], make: (n: number, i: number) => Row) => list.map(make);
const requestsLabel = (n: number) => `${thousands(n)} requests`;
const routeNamed = (route: string) => (r: Report) =>
  r.metrics.some((m) => m.scope === `route ${route}` && m.metric === 'error_ratio' && m.verdict === 'regressed');
const p95Named = (r: Report) => r.metrics.some((m) => m.scope === 'service' && m.metric === 'latency_p95' && m.verdict === 'regressed');

function tables(): string {
  const aa = measure(sizes([2_000, 5_000, 10_000, 20_000, 50_000], (n, i) => ({ label: requestsLabel(n), baseline: base(n), candidate: base(n), seed: 100 + i })), AA_CASES);
  const errors = measure(
    [
      ...sizes([5_000, 7_500, 8_500, 10_000, 12_500, 14_000, 15_000, 20_000], (n, i) => ({ label: `+1 pp at ${requestsLabel(n)}`, baseline: base(n), candidate: withErrorRatio(base(n), 0.03), seed: 200 + i })),
      ...sizes([20_000, 50_000], (n, i) => ({ label: `+0.5 pp at ${requestsLabel(n)}`, baseline: base(n), candidate: withErrorRatio(base(n), 0.025), seed: 210 + i })),
      { label: '+0.2 pp (below the minimum effect) at 50,000 requests', baseline: base(50_000), candidate: withErrorRatio(base(50_000), 0.022), seed: 212 },
    ],
    CASES,
  );
  const latency = measure(
    [
      ...sizes([500, 750, 1_000, 1_250, 1_500, 2_000], (n, i) => ({ label: `x1.2 at ${requestsLabel(n)}`, baseline: base(n), candidate: withLatencyFactor(base(n), 1.2), seed: 300 + i, extra: p95Named })),
      ...sizes([2_000, 5_000], (n, i) => ({ label: `x1.1 at ${requestsLabel(n)}`, baseline: base(n), candidate: withLatencyFactor(base(n), 1.1), seed: 310 + i, extra: p95Named })),
      { label: 'x1.05 (below the minimum effect) at 20,000 requests', baseline: base(20_000), candidate: withLatencyFactor(base(20_000), 1.05), seed: 312, extra: p95Named },
    ],
    CASES,
    'p95 named regressed',
  );
  const better = (m: ReleaseModel) => withLatencyFactor(withErrorRatio(m, 0.02), 0.8);
  const route = 'GET /orders/:id';
  const direction = measure(
    [
      { label: 'improvement 3% -> 2%, latency x0.8, 20,000 requests', baseline: withErrorRatio(base(20_000), 0.03), candidate: better(base(20_000)), seed: 400 },
      ...sizes([2_000, 5_000, 20_000], (n, i) => ({
        label: `one route (10% of traffic) 2% -> 20%, ${requestsLabel(n)}`,
        baseline: base(n),
        candidate: withRouteErrorRatio(base(n), route, 0.2),
        seed: 410 + i,
        extra: routeNamed(route),
      })),
      { label: 'a handful: 12 requests, no task runs', baseline: { ...base(12), tasks: [] }, candidate: { ...base(12), tasks: [] }, seed: 420 },
    ],
    CASES,
    'route named regressed',
  );
  return [
    `**A/A (both releases identical): false alarms.** ${thousands(AA_CASES)} pairs per row.`,
    '',
    aa,
    '',
    `**Error ratio 2% -> 3% (+1 pp), 2% -> 2.5% (the minimum effect) and 2% -> 2.2% on every route.** ${thousands(CASES)} pairs per row.`,
    '',
    errors,
    '',
    `**Latency: every request 1.2x, 1.1x (the minimum effect) and 1.05x slower.** ${thousands(CASES)} pairs per row.`,
    '',
    latency,
    '',
    `**Direction, a confined regression, a handful of requests.** ${thousands(CASES)} pairs per row.`,
    '',
    direction,
  ].join('\n');
}

const text = tables();
if (process.argv.includes('--write')) {
  const path = new URL('../docs/RELEASES.md', import.meta.url);
  const doc = readFileSync(path, 'utf8');
  const begin = '<!-- tables:begin -->';
  const end = '<!-- tables:end -->';
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`docs/RELEASES.md has no ${begin} ... ${end} block`);
  writeFileSync(path, `${doc.slice(0, from + begin.length)}\n${text}\n${doc.slice(to)}`);
} else {
  process.stdout.write(`${text}\n`);
}
