// The report renderers of `releases compare` (--report HTML, --format markdown) and the intervals
// they show, on a hand-made comparison: known interval values, the verdict first, every label value
// escaped. The HTML is also opened in a real browser by test/integration/releases-report-browser.test.ts.
import { describe, expect, it } from 'vitest';
import { differenceInterval, quantileRatioInterval, wilsonInterval } from '../../src/cli/releases/intervals.js';
import { compareReleases, type Histogram, type ReleaseData } from '../../src/cli/releases/statistics.js';
import { escapeHtml, renderHtmlReport } from '../../src/cli/releases/report-html.js';
import { markdownCell, renderMarkdownReport } from '../../src/cli/releases/report-markdown.js';
import type { ReportInput } from '../../src/cli/releases/report-model.js';

const bounds = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5];
const ROUTE = 'GET /a|b/<i>x</i>';

function release(counts: number[], errors: number): ReleaseData {
  const latency: Histogram = { bounds, counts };
  const requests = counts.reduce((a, b) => a + b, 0);
  return { windowSeconds: 3600, service: { requests, errors, latency }, routes: { [ROUTE]: { requests, errors, latency } }, tasks: {}, instances: 1, restarts: 0 };
}

function input(): ReportInput {
  const baseline = release([800, 1_600, 1_000, 400, 160, 40, 0], 40);
  const candidate = release([800, 1_600, 1_000, 300, 260, 40, 0], 44);
  const report = compareReleases(baseline, candidate);
  const w = { start: '2026-12-06T10:00:00.000Z', end: '2026-12-06T11:00:00.000Z', text: '2026-12-06 10:00:00Z .. 2026-12-06 11:00:00Z' };
  return { baseline: 'shop@1', candidate: 'shop@2', windows: { baseline: w, candidate: w }, verdict: report.verdict, exitCode: 1, services: [{ service: 'shop', report, data: { baseline, candidate } }] };
}

describe('intervals', () => {
  it("Wilson's interval and Newcombe's difference interval match published values", () => {
    const [lo, hi] = wilsonInterval(0, 10)!;
    expect(lo).toBe(0);
    expect(hi).toBeCloseTo(0.2775, 4);
    // Newcombe (1998), example (a): 56/70 against 48/80, method 10: 0.0524 to 0.3339.
    const d = differenceInterval({ events: 48, trials: 80 }, { events: 56, trials: 70 })!;
    expect(d[0]).toBeCloseTo(0.0524, 3);
    expect(d[1]).toBeCloseTo(0.3339, 3);
    expect(wilsonInterval(0, 0)).toBeNull();
  });

  it('the interval of a quantile change contains the observed change, and is narrower with more data', () => {
    const base: Histogram = { bounds, counts: [800, 1_600, 1_000, 400, 160, 40, 0] };
    const cand: Histogram = { bounds, counts: [800, 1_600, 1_000, 300, 260, 40, 0] };
    const [lo, hi] = quantileRatioInterval(base, cand, 0.95)!;
    expect(lo).toBeLessThan(0.58);
    expect(hi).toBeGreaterThan(0.58);
    const times = (h: Histogram, k: number) => ({ bounds, counts: h.counts.map((c) => c * k) });
    const [lo10, hi10] = quantileRatioInterval(times(base, 10), times(cand, 10), 0.95)!;
    expect(hi10 - lo10).toBeLessThan(hi - lo);
  });
});

describe('the Markdown report', () => {
  it('leads with the verdict and exit code, then one table row per metric; cells cannot break the table', () => {
    const md = renderMarkdownReport(input());
    expect(md.split('\n')[0]).toBe('## ❌ Release verdict: **REGRESSED** (exit code 1)');
    const header = '| Metric | Scope | Baseline | Candidate | Change [95% CI] | Test | Verdict |';
    expect(md).toContain(header);
    const columns = (line: string) => line.replace(/\\\|/g, '').split('|').length;
    const rows = md.split('\n').filter((l) => l.startsWith('| latency') || l.startsWith('| error'));
    expect(rows.length).toBeGreaterThanOrEqual(6);
    for (const row of rows) expect(columns(row), row).toBe(columns(header));
    expect(md).toContain('| latency p95 | service | 100.0 ms | 157.7 ms | +58% [+34%, +86%] | tail &gt;0.1 s p=2.3e-6 | **regressed** |');
    expect(md).toContain('route GET /a\\|b/&lt;i&gt;x&lt;/i&gt;');
    expect(md).not.toContain('<i>');
  });

  it('markdownCell escapes pipes, markup characters and line breaks', () => {
    expect(markdownCell('a|b\nc <b>*d*</b>')).toBe('a\\|b c &lt;b&gt;\\*d\\*&lt;/b&gt;');
  });
});

describe('the HTML report', () => {
  it('is one self-contained page: no script, no external reference, a policy that forbids loading anything', () => {
    const html = renderHtmlReport(input());
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//i);
    expect(html).toContain('Verdict: REGRESSED &middot; exit code 1');
    expect(html).toContain(escapeHtml(`route ${ROUTE}`));
    expect(html).not.toContain('<i>x</i>');
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
