// `otel-monitor releases compare <baseline> <candidate>`: is the candidate release worse than the
// baseline? Reads both from Prometheus (release-queries.ts), judges them with the pure statistics
// module (release-statistics.ts) and exits 0 ok/improved, 1 regressed, 2 usage or connection
// error, 3 inconclusive (too little data to say).
import { writeFileSync } from 'node:fs';
import { numberOption, parseArgs, parseLabels, type Parsed } from '../shared/args.js';
import { UsageError } from '../shared/errors.js';
import { CONNECTION_HELP, CONNECTION_SPEC, prometheusOption } from '../shared/connection-options.js';
import { json, shortTime, type Io } from '../shared/output.js';
import { extraMatchers } from '../shared/promql.js';
import type { PrometheusClient } from '../shared/prometheus.js';
import { readRelease, servicesWith, type Scope } from './queries.js';
import { renderHtmlReport } from './report-html.js';
import { renderMarkdownReport } from './report-markdown.js';
import type { ReportInput } from './report-model.js';
import { compareReleases, worstVerdict, type CompareOptions, type Report, type Verdict } from './statistics.js';
import { renderComparison } from './table.js';
import { parseWindow, type Window } from './window.js';

export const COMPARE_HELP = `Usage: otel-monitor releases compare <baseline> <candidate> [options]

Compares two releases (the service_version label, e.g. shop@1.4.1 and shop@1.4.2) per service and
for the busiest routes: error ratio, latency p50/p95/p99, throughput, task failures and durations,
restarts, CPU and memory. Every metric gets a verdict (regressed, improved, ok, inconclusive) and
the overall verdict is the worst of them. The statistics are explained in docs/RELEASES.md.

Options:
  --service NAME               Only this service (the job label). Default: every service that
                               reported either release.
  --window W                   One window for both releases, for canaries running side by side
                               (default 1h). W is a duration ending now (30m, 6h) or START..END,
                               each end RFC 3339, Unix seconds, now or now-DURATION.
  --baseline-window W          Separate windows, for before/after deploys; give both.
  --candidate-window W
  --min-error-increase PP      Smallest error-ratio increase that can count as a regression, in
                               percentage points (default 0.5).
  --min-latency-increase PCT   Smallest latency increase that can count, in % (default 10).
  --alpha A                    False-alarm rate of the whole comparison (default 0.01).
  --max-routes N               Busiest routes compared one by one (default 10).
  --label NAME=VALUE           Only series with this label, e.g. deployment_environment_name=production.
  --format F                   table (default), json or markdown (GitHub-flavoured, for a CI job
                               summary: >> "$GITHUB_STEP_SUMMARY").
  --json                       The same as --format json.
  --report FILE.html           Also write the comparison as one self-contained HTML page (charts
                               of both releases' latency and errors; no network needed to view).
  --markdown FILE              Also write the Markdown form to FILE.
  -h, --help                   Show this help.

${CONNECTION_HELP}

Exit status: 0 ok or improved, 1 regressed, 2 usage error or Prometheus unreachable,
3 inconclusive (the message says how many requests each release would need).`;

const SPEC = {
  service: 'value',
  window: 'value',
  'baseline-window': 'value',
  'candidate-window': 'value',
  'min-error-increase': 'value',
  'min-latency-increase': 'value',
  alpha: 'value',
  'max-routes': 'value',
  label: 'list',
  ...CONNECTION_SPEC,
  json: 'flag',
  format: 'value',
  report: 'value',
  markdown: 'value',
} as const;

export const EXIT_FOR: Record<Verdict, number> = { ok: 0, improved: 0, regressed: 1, inconclusive: 3 };

export interface ServiceComparison {
  service: string;
  report: Report;
}

function statisticsOptions(p: Parsed): CompareOptions {
  const maxRoutes = numberOption(p, 'max-routes', 1, 1000);
  if (maxRoutes !== undefined && !Number.isInteger(maxRoutes)) throw new UsageError(`--max-routes must be a whole number`);
  const options: CompareOptions = {
    alpha: numberOption(p, 'alpha', 1, 0.5),
    minErrorRatioIncrease: numberOption(p, 'min-error-increase', 0.01, 100),
    minLatencyIncrease: numberOption(p, 'min-latency-increase', 0.01),
    maxRoutes,
  };
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as CompareOptions;
}

function windows(p: Parsed, nowSeconds: number): { baseline: Window; candidate: Window } {
  const b = p.values.get('baseline-window');
  const c = p.values.get('candidate-window');
  if ((b === undefined) !== (c === undefined)) throw new UsageError('--baseline-window and --candidate-window go together');
  if (b !== undefined && p.values.has('window')) throw new UsageError('use either --window or --baseline-window/--candidate-window');
  if (b !== undefined && c !== undefined) {
    return { baseline: parseWindow(b, nowSeconds, '--baseline-window'), candidate: parseWindow(c, nowSeconds, '--candidate-window') };
  }
  const shared = parseWindow(p.values.get('window') ?? '1h', nowSeconds, '--window');
  return { baseline: shared, candidate: shared };
}

/** Leading positionals (the two releases), then options. */
export function splitPositionals(argv: readonly string[], count: number, usage: string): { names: string[]; rest: string[] } {
  const names: string[] = [];
  let i = 0;
  while (i < argv.length && names.length < count && !argv[i]!.startsWith('-')) names.push(argv[i++]!);
  if (names.length < count && !argv.some((a) => a === '--help' || a === '-h')) throw new UsageError(usage);
  return { names, rest: argv.slice(i) };
}

export async function releasesCompare(argv: readonly string[], io: Io): Promise<number> {
  const { names, rest } = splitPositionals(argv, 2, 'releases compare needs <baseline> <candidate>');
  const p = parseArgs(rest, SPEC);
  if (p.flags.has('help')) {
    io.out(COMPARE_HELP);
    return 0;
  }
  const [baseline, candidate] = names as [string, string];
  if (baseline === candidate) throw new UsageError(`baseline and candidate are the same release "${baseline}"`);
  const prom = prometheusOption(p, io);
  const w = windows(p, io.now() / 1000);
  const labels = extraMatchers(parseLabels(p.lists.get('label') ?? []));
  const options = statisticsOptions(p);
  const services = p.values.has('service')
    ? [p.values.get('service')!]
    : await discoverServices(prom, baseline, candidate, w, labels);
  if (services.length === 0) {
    io.err(`otel-monitor: no service reported ${baseline} or ${candidate} in the window(s); see "otel-monitor releases list"`);
    return EXIT_FOR.inconclusive;
  }
  // Each service is its own family of tests: split the false-alarm budget between them.
  const perService = { ...options, alpha: (options.alpha ?? 0.01) / services.length };
  const results: ServiceComparison[] = [];
  const data: ReportInput['services'][number]['data'][] = [];
  for (const service of services) {
    const scope = (release: string, window: Window): Scope => ({ service, release, window, labels });
    const [b, c] = await Promise.all([readRelease(prom, scope(baseline, w.baseline)), readRelease(prom, scope(candidate, w.candidate))]);
    results.push({ service, report: compareReleases(b, c, perService) });
    data.push({ baseline: b, candidate: c });
  }
  const verdict = worstVerdict(results.map((r) => r.report.verdict));
  const input: ReportInput = {
    baseline,
    candidate,
    windows: describeWindows(w),
    verdict,
    exitCode: EXIT_FOR[verdict],
    services: results.map((r, i) => ({ ...r, data: data[i]! })),
  };
  writeReports(p, input, io);
  io.out(render(outputFormat(p), input, results));
  return EXIT_FOR[verdict];
}

function outputFormat(p: Parsed): 'table' | 'json' | 'markdown' {
  const format = p.values.get('format') ?? (p.flags.has('json') ? 'json' : 'table');
  if (format !== 'table' && format !== 'json' && format !== 'markdown') throw new UsageError(`--format must be table, json or markdown, got "${format}"`);
  if (p.flags.has('json') && format !== 'json') throw new UsageError('use either --json or --format');
  return format;
}

function render(format: 'table' | 'json' | 'markdown', input: ReportInput, results: ServiceComparison[]): string {
  const { baseline, candidate, windows, verdict, exitCode } = input;
  if (format === 'json') return json({ baseline, candidate, windows, verdict, exitCode, services: results });
  if (format === 'markdown') return renderMarkdownReport(input);
  return renderComparison({ baseline, candidate, windows, verdict, results });
}

/** --report and --markdown: files beside the printed output; a file that cannot be written is a usage error (exit 2). */
function writeReports(p: Parsed, input: ReportInput, io: Io): void {
  const files: Array<[string | undefined, (x: ReportInput) => string]> = [
    [p.values.get('report'), renderHtmlReport],
    [p.values.get('markdown'), renderMarkdownReport],
  ];
  for (const [file, renderer] of files) {
    if (file === undefined) continue;
    try {
      writeFileSync(file, renderer(input));
    } catch (e) {
      throw new UsageError(`cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    io.err(`otel-monitor: wrote ${file}`);
  }
}

async function discoverServices(prom: PrometheusClient, a: string, b: string, w: { baseline: Window; candidate: Window }, labels: string[]) {
  const [inB, inC] = await Promise.all([servicesWith(prom, [a], w.baseline, labels), servicesWith(prom, [b], w.candidate, labels)]);
  return [...new Set([...inB, ...inC])].sort();
}

function describeWindows(w: { baseline: Window; candidate: Window }) {
  const one = (x: Window) => ({ start: new Date(x.start * 1000).toISOString(), end: new Date(x.end * 1000).toISOString(), text: `${shortTime(x.start)} .. ${shortTime(x.end)}` });
  return { baseline: one(w.baseline), candidate: one(w.candidate) };
}
