// `releases compare --format markdown` / `--markdown FILE`: the verdict and the metric table as
// GitHub-flavoured Markdown, for a CI job summary ($GITHUB_STEP_SUMMARY) or a merge-request
// comment. Label values come from the telemetry: table cells are escaped so that a route name can
// neither break the table nor inject HTML. Pure: input -> string.
import type { Verdict } from './statistics.js';
import { headline, serviceViews, type ReportInput } from './report-model.js';

const ICON: Record<Verdict, string> = { regressed: '❌', inconclusive: '⚠️', ok: '✅', improved: '✅' };

/** One table cell: no line breaks, pipes escaped, HTML and Markdown's own markup characters neutralised. */
export function markdownCell(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\|`*_[\]])/g, '\\$1');
}

export function renderMarkdownReport(input: ReportInput): string {
  const out: string[] = [];
  out.push(`## ${ICON[input.verdict]} Release verdict: **${input.verdict.toUpperCase()}** (exit code ${input.exitCode})`, '');
  out.push(markdownCell(headline(input)), '');
  out.push('| | Release | Window |', '|---|---|---|');
  out.push(`| Baseline | ${markdownCell(input.baseline)} | ${markdownCell(input.windows.baseline.text)} |`);
  out.push(`| Candidate | ${markdownCell(input.candidate)} | ${markdownCell(input.windows.candidate.text)} |`);
  for (const s of serviceViews(input)) {
    out.push('', `### ${ICON[s.verdict]} Service ${markdownCell(s.service)}: ${s.verdict.toUpperCase()}`, '');
    out.push(`${markdownCell(s.summary)}. Requests: baseline ${s.requests.baseline.toLocaleString('en-US')}, candidate ${s.requests.candidate.toLocaleString('en-US')}.`, '');
    for (const f of s.findings) out.push(`- ${markdownCell(f)}`);
    if (s.findings.length) out.push('');
    out.push('| Metric | Scope | Baseline | Candidate | Change [95% CI] | Test | Verdict |', '|---|---|--:|--:|--:|---|---|');
    for (const r of s.rows) {
      const verdict = r.verdict === 'regressed' ? '**regressed**' : r.verdict;
      // The change is our own text ("+23% [+12%, +35%]"): its brackets stay readable in the source.
      const cells = [...[r.metric, r.scope, r.baseline, r.candidate].map(markdownCell), r.change, markdownCell(r.test)];
      out.push(`| ${cells.join(' | ')} | ${verdict}${r.note ? ` (${markdownCell(r.note)})` : ''} |`);
    }
    if (s.skipped.length) {
      out.push('', `<details><summary>Not judged (${s.skipped.length})</summary>`, '');
      for (const x of s.skipped) out.push(`- ${markdownCell(x)}`);
      out.push('', '</details>');
    }
  }
  return `${out.join('\n')}\n`;
}
