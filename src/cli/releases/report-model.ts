// What the report of `releases compare` shows, before any markup: the verdict, and per service the
// metric rows with their 95% intervals, the latency distributions of the busiest scopes, the error
// ratios and what was not judged. The HTML (report-html.ts) and Markdown
// (report-markdown.ts) renderers draw the same model. Pure: a function of the comparison
// and the bucket data it was computed from.
import { changeInterval, scopeData, wilsonInterval, type Interval } from './intervals.js';
import type { Histogram, MetricResult, ReleaseData, Report, Verdict } from './statistics.js';
import { explain, formatValue, metricLabel } from './table.js';

export interface ReportInput {
  baseline: string;
  candidate: string;
  windows: { baseline: { start: string; end: string; text: string }; candidate: { start: string; end: string; text: string } };
  verdict: Verdict;
  exitCode: number;
  services: Array<{ service: string; report: Report; data: { baseline: ReleaseData; candidate: ReleaseData } }>;
}

export interface MetricRow {
  metric: string;
  scope: string;
  baseline: string;
  candidate: string;
  /** "+23% [+12%, +35%]" */
  change: string;
  test: string;
  verdict: Verdict;
  /** Why inconclusive, or why an informational metric is ok. */
  note?: string;
}

export interface Distribution {
  scope: string;
  /** The latency metrics judged on this scope. */
  judged: string[];
  baseline: Histogram;
  candidate: Histogram;
}

export interface ErrorBar {
  scope: string;
  baseline: { ratio: number; interval: Interval; requests: number } | null;
  candidate: { ratio: number; interval: Interval; requests: number } | null;
}

export interface ServiceView {
  service: string;
  verdict: Verdict;
  summary: string;
  rows: MetricRow[];
  findings: string[];
  distributions: Distribution[];
  errors: ErrorBar[];
  requests: { baseline: number; candidate: number };
  skipped: string[];
}

export const EXIT_MEANING: Record<number, string> = { 0: 'ok or improved', 1: 'regressed', 3: 'inconclusive: too little data' };

function changeText(m: MetricResult, interval: Interval | null): string {
  if (!interval) return m.changeText;
  const ratio = m.metric === 'error_ratio' || m.metric === 'task_failure_ratio';
  const fmt = (x: number) => {
    const v = x * 100;
    const digits = ratio ? (Math.abs(v) >= 10 ? 0 : Math.abs(v) >= 0.1 ? 1 : 2) : Math.abs(v) >= 10 ? 0 : 1;
    const text = v.toFixed(digits);
    return `${Number(text) > 0 ? '+' : ''}${Number(text) === 0 ? '0' : text}${ratio ? ' pp' : '%'}`;
  };
  return `${m.changeText} [${fmt(interval[0])}, ${fmt(interval[1])}]`;
}

function metricRow(m: MetricResult, data: ReportInput['services'][number]['data']): MetricRow {
  return {
    metric: metricLabel(m.metric),
    scope: m.scope,
    baseline: formatValue(m.metric, m.baseline),
    candidate: formatValue(m.metric, m.candidate),
    change: changeText(m, changeInterval(m, data.baseline, data.candidate)),
    test: m.evidence,
    verdict: m.verdict,
    ...(m.reason !== undefined ? { note: m.reason } : {}),
  };
}

/** The service and every route whose latency was judged, busiest first (the order of the report's rows). */
function distributions(report: Report, data: ReportInput['services'][number]['data']): Distribution[] {
  const scopes = [...new Set(report.metrics.filter((m) => m.metric.startsWith('latency_')).map((m) => m.scope))];
  return scopes.flatMap((scope) => {
    const b = scopeData(data.baseline, scope)?.latency;
    const c = scopeData(data.candidate, scope)?.latency;
    if (!b || !c) return [];
    const judged = report.metrics.filter((m) => m.scope === scope && m.metric.startsWith('latency_')).map((m) => metricLabel(m.metric));
    return [{ scope, judged, baseline: b, candidate: c }];
  });
}

function errorBars(report: Report, data: ReportInput['services'][number]['data']): ErrorBar[] {
  // Every compared route, also those whose error ratio was not judged (too few requests to detect
  // +5 pp): the interval bar shows how little the data says.
  const scopes = [...new Set(report.metrics.map((m) => m.scope).filter((x) => x === 'service' || x.startsWith('route ')))];
  const side = (r: ReleaseData, scope: string) => {
    const d = scopeData(r, scope);
    const interval = d && wilsonInterval(d.events, d.trials);
    return d && interval ? { ratio: d.events / d.trials, interval, requests: d.trials } : null;
  };
  return scopes.map((scope) => ({ scope, baseline: side(data.baseline, scope), candidate: side(data.candidate, scope) }));
}

export function serviceViews(input: ReportInput): ServiceView[] {
  return input.services.map(({ service, report, data }) => ({
    service,
    verdict: report.verdict,
    summary: `${report.tests} tests, each at p < ${report.alphaPerTest.toPrecision(2)} (Holm, family-wise alpha ${report.options.alpha.toPrecision(2)})`,
    rows: report.metrics.map((m) => metricRow(m, data)),
    findings: explain(report),
    distributions: distributions(report, data),
    errors: errorBars(report, data),
    requests: { baseline: data.baseline.service.requests, candidate: data.candidate.service.requests },
    skipped: report.skipped.map((x) => `${x.metric ? `${metricLabel(x.metric)} ` : ''}${x.scope}: ${x.reason}`),
  }));
}

/** The one line a reader needs first: the verdict, the exit code and what regressed. */
export function headline(input: ReportInput): string {
  return `${input.verdict.toUpperCase()}: ${input.candidate} against ${input.baseline} (exit code ${input.exitCode}, ${EXIT_MEANING[input.exitCode] ?? 'error'})`;
}
