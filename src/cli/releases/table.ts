// The human form of a release comparison: one table per service, regressions marked, and a
// closing verdict line that names what regressed, by how much and with what evidence.
import { table } from '../shared/output.js';
import type { MetricName, MetricResult, Report, Verdict } from './statistics.js';

const LABEL: Record<MetricName, string> = {
  error_ratio: 'error ratio',
  latency_p50: 'latency p50',
  latency_p95: 'latency p95',
  latency_p99: 'latency p99',
  throughput: 'throughput',
  task_failure_ratio: 'task failure ratio',
  task_duration: 'task duration p50',
  restarts: 'restarts',
  cpu: 'CPU per instance',
  memory: 'memory per instance',
};

const MARK: Record<Verdict, string> = { regressed: 'REGRESSED  <<<', improved: 'improved', ok: 'ok', inconclusive: 'inconclusive' };

/** A metric's value in its natural unit: %, ms, req/s, cores, MB or a count. */
export function formatValue(metric: MetricName, value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '-';
  switch (metric) {
    case 'error_ratio':
    case 'task_failure_ratio':
      return `${(value * 100).toFixed(value < 0.1 ? 2 : 1)}%`;
    case 'latency_p50':
    case 'latency_p95':
    case 'latency_p99':
    case 'task_duration':
      return value < 1 ? `${(value * 1000).toFixed(1)} ms` : `${value.toFixed(2)} s`;
    case 'throughput':
      return `${value.toFixed(value < 10 ? 2 : 1)} req/s`;
    case 'cpu':
      return `${(value * 100).toFixed(1)}% core`;
    case 'memory':
      return `${(value / 1024 / 1024).toFixed(1)} MB`;
    case 'restarts':
      return String(value);
  }
}

function row(m: MetricResult): string[] {
  return [
    LABEL[m.metric] ?? m.metric,
    m.scope,
    formatValue(m.metric, m.baseline),
    formatValue(m.metric, m.candidate),
    m.changeText,
    m.evidence,
    MARK[m.verdict] ?? m.verdict,
  ];
}

/** One sentence per regressed (or, failing that, inconclusive) metric, for the verdict line. */
export function explain(report: Report): string[] {
  const regressed = report.metrics.filter((m) => m.verdict === 'regressed');
  if (regressed.length > 0) {
    return regressed.map((m) => `${LABEL[m.metric]} (${m.scope}) ${formatValue(m.metric, m.baseline)} -> ${formatValue(m.metric, m.candidate)}, ${m.changeText}, ${m.evidence}`);
  }
  return report.metrics.filter((m) => m.verdict === 'inconclusive').map((m) => `${LABEL[m.metric]} (${m.scope}): ${m.reason ?? 'too little data'}`);
}

export interface ComparisonView {
  baseline: string;
  candidate: string;
  windows: { baseline: { text: string }; candidate: { text: string } };
  verdict: Verdict;
  results: Array<{ service: string; report: Report }>;
}

export function renderComparison(v: ComparisonView): string {
  const out: string[] = [];
  const same = v.windows.baseline.text === v.windows.candidate.text;
  out.push(`Baseline  ${v.baseline}   ${v.windows.baseline.text}`);
  out.push(`Candidate ${v.candidate}   ${v.windows.candidate.text}${same ? '   (same window)' : ''}`);
  for (const { service, report } of v.results) {
    out.push('', `Service ${service}: ${report.verdict.toUpperCase()}   (${report.tests} tests, each at p < ${report.alphaPerTest.toPrecision(2)})`);
    out.push(table(['METRIC', 'SCOPE', 'BASELINE', 'CANDIDATE', 'CHANGE', 'EVIDENCE', 'VERDICT'], report.metrics.map(row)));
    for (const line of explain(report)) out.push(`  - ${line}`);
    if (report.skipped.length > 0) {
      out.push(`  Not judged: ${report.skipped.map((x) => `${x.metric ? `${LABEL[x.metric]} ` : ''}${x.scope} (${x.reason})`).join('; ')}`);
    }
  }
  out.push('', `Verdict: ${v.verdict.toUpperCase()}`);
  return out.join('\n');
}
