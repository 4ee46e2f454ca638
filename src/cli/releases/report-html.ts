// `releases compare --report FILE.html`: the comparison as one self-contained page for a CI
// artifact. No script and no fetch: inline CSS and SVG only, and a Content-Security-Policy that
// forbids loading anything, so the file reads the same offline, years later. Every label value
// (service, release and route names come from the telemetry) is escaped. Pure: input -> string.
import type { Histogram, Verdict } from './statistics.js';
import { EXIT_MEANING, headline, serviceViews, type Distribution, type ErrorBar, type ReportInput, type ServiceView } from './report-model.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const COLOURS = { baseline: '#2f6db5', candidate: '#e07000' };
const VERDICT_COLOUR: Record<Verdict, string> = { regressed: '#c62828', inconclusive: '#b7791f', ok: '#2e7d32', improved: '#1565c0' };

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#1d2430;background:#fff}
h1{font-size:20px;margin:0 0 12px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde2ea;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
.verdict{color:#fff;padding:14px 18px;border-radius:8px;font-size:18px;font-weight:600}
.verdict small{display:block;font-weight:400;font-size:13px;opacity:.95;margin-top:4px}
table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e6e9ef;vertical-align:top}
th{background:#f4f6f9;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.regressed td{background:#fdecea}tr.improved td{background:#eaf2fd}tr.inconclusive td{background:#fdf6e6}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:14px}figure{margin:0;border:1px solid #e6e9ef;border-radius:6px;padding:8px;max-width:520px}
figcaption{font-size:13px;font-weight:600;margin-bottom:4px}.muted{color:#5b6472;font-size:12px}
ul{margin:4px 0 8px;padding-left:20px}code{background:#f4f6f9;padding:0 3px;border-radius:3px}
`;

/** Seconds as the axis shows them: 5 ms, 250 ms, 2.5 s. */
function seconds(x: number): string {
  return x < 1 ? `${Number((x * 1000).toPrecision(3))} ms` : `${Number(x.toPrecision(3))} s`;
}

function cumulative(h: Histogram): number[] {
  const total = h.counts.reduce((a, b) => a + b, 0);
  let below = 0;
  return h.bounds.map((_, i) => (below += h.counts[i] ?? 0) / (total || 1));
}

/** Below this share the survival axis ends: the slowest 0.1%. */
const FLOOR = 0.001;

/**
 * Both releases' latency as the share of requests slower than each bucket bound, on log-log axes:
 * the tail, where p95 and p99 live, gets as much room as the bulk. The curves cross the p50, p95
 * and p99 lines at those quantiles; a slower tail is the candidate's curve above the baseline's.
 */
function ecdfChart(d: Distribution): string {
  const [W, H, L, R, T, B] = [520, 250, 44, 12, 10, 38];
  const sb = cumulative(d.baseline).map((f) => 1 - f);
  const sc = cumulative(d.candidate).map((f) => 1 - f);
  const first = Math.max(0, sb.findIndex((v, i) => v < 1 || sc[i]! < 1) - 1);
  const lastBoth = sb.findIndex((v, i) => v <= 0 && sc[i]! <= 0);
  const last = Math.min(d.baseline.bounds.length - 1, lastBoth < 0 ? d.baseline.bounds.length - 1 : Math.max(lastBoth, first + 1));
  const bounds = d.baseline.bounds.slice(first, last + 1);
  const [lo, hi] = [Math.log(bounds[0]!), Math.log(bounds[bounds.length - 1]!)];
  const x = (v: number) => L + ((Math.log(v) - lo) / (hi - lo || 1)) * (W - L - R);
  const y = (share: number) => T + (Math.log10(1 / Math.max(share, FLOOR)) / Math.log10(1 / FLOOR)) * (H - T - B);
  const path = (survival: number[]) => bounds.map((b, i) => `${i === 0 ? 'M' : 'L'}${x(b).toFixed(1)},${y(survival[first + i]!).toFixed(1)}`).join(' ');
  let lastLabel = -Infinity;
  const ticks = bounds.map((b, i) => {
    const at = x(b);
    const anchor = i === bounds.length - 1 ? 'end' : i === 0 ? 'start' : 'middle'; // inside the frame
    const label = at - lastLabel >= 52 ? ((lastLabel = at), `<text x="${at.toFixed(1)}" y="${H - B + 14}" text-anchor="${anchor}">${seconds(b)}</text>`) : '';
    return `<line x1="${at.toFixed(1)}" x2="${at.toFixed(1)}" y1="${T}" y2="${H - B}" stroke="#eef0f4"/>${label}`;
  });
  const levels = ([[1, '100%'], [0.5, 'p50'], [0.05, 'p95'], [0.01, 'p99'], [FLOOR, '0.1%']] as const).map(
    ([share, name]) =>
      `<line x1="${L}" x2="${W - R}" y1="${y(share).toFixed(1)}" y2="${y(share).toFixed(1)}" stroke="#c9ced8" stroke-dasharray="${name.endsWith('%') ? '' : '3,3'}"/><text x="${L - 4}" y="${(y(share) + 4).toFixed(1)}" text-anchor="end">${name}</text>`,
  );
  const series = (['baseline', 'candidate'] as const).map((s) => `<path class="series" data-series="${s}" d="${path(s === 'baseline' ? sb : sc)}" fill="none" stroke="${COLOURS[s]}" stroke-width="2.2"/>`);
  const title = `Latency of ${d.scope}: share of requests slower than each bucket bound, log-log`;
  return `<svg class="ecdf" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}" font-size="11" fill="#5b6472"><title>${escapeHtml(title)}</title>${ticks.join('')}${levels.join('')}${series.join('')}<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle">latency (bucket bounds); up: share of requests slower</text></svg>`;
}

function legend(base: string, cand: string): string {
  const item = (colour: string, text: string) => `<span style="display:inline-block;width:14px;height:3px;background:${colour};vertical-align:middle;margin:0 4px 0 10px"></span>${escapeHtml(text)}`;
  return `<div class="muted">${item(COLOURS.baseline, `baseline ${base}`)}${item(COLOURS.candidate, `candidate ${cand}`)}</div>`;
}

/** Each compared scope's error ratio per release, with its 95% Wilson interval as whiskers. */
function errorChart(bars: ErrorBar[]): string {
  const rows = bars.filter((b) => b.baseline || b.candidate);
  if (rows.length === 0) return '<p class="muted">No requests to show.</p>';
  const [W, L, R, ROW] = [760, 250, 20, 30];
  const H = rows.length * ROW + 28;
  const max = Math.max(0.001, ...rows.flatMap((b) => [b.baseline?.interval[1] ?? 0, b.candidate?.interval[1] ?? 0])) * 1.1;
  const x = (v: number) => L + (v / max) * (W - L - R);
  const mark = (side: 'baseline' | 'candidate', v: ErrorBar['baseline'], cy: number) =>
    v
      ? `<g data-series="${side}"><line x1="${x(v.interval[0]).toFixed(1)}" x2="${x(v.interval[1]).toFixed(1)}" y1="${cy}" y2="${cy}" stroke="${COLOURS[side]}" stroke-width="2"/><line x1="${x(v.interval[0]).toFixed(1)}" x2="${x(v.interval[0]).toFixed(1)}" y1="${cy - 4}" y2="${cy + 4}" stroke="${COLOURS[side]}"/><line x1="${x(v.interval[1]).toFixed(1)}" x2="${x(v.interval[1]).toFixed(1)}" y1="${cy - 4}" y2="${cy + 4}" stroke="${COLOURS[side]}"/><circle cx="${x(v.ratio).toFixed(1)}" cy="${cy}" r="4" fill="${COLOURS[side]}"/></g>`
      : '';
  const body = rows.map((b, i) => {
    const top = 8 + i * ROW;
    return `<text x="${L - 8}" y="${top + 14}" text-anchor="end">${escapeHtml(b.scope)}</text>${mark('baseline', b.baseline, top + 7)}${mark('candidate', b.candidate, top + 17)}`;
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<line x1="${x(f * max).toFixed(1)}" x2="${x(f * max).toFixed(1)}" y1="4" y2="${H - 20}" stroke="#eef0f4"/><text x="${x(f * max).toFixed(1)}" y="${H - 6}" text-anchor="middle">${(f * max * 100).toPrecision(2)}%</text>`);
  return `<svg class="errors" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="Error ratio per scope with 95% intervals" font-size="11" fill="#5b6472"><title>Error ratio per scope with 95% intervals</title>${ticks.join('')}${body.join('')}</svg>`;
}

function badge(v: Verdict): string {
  return `<span class="badge" style="background:${VERDICT_COLOUR[v]}">${v}</span>`;
}

function metricTable(s: ServiceView): string {
  const head = '<tr><th>Metric</th><th>Scope</th><th>Baseline</th><th>Candidate</th><th>Change [95% CI]</th><th>Test</th><th>Verdict</th></tr>';
  const rows = s.rows.map(
    (r) =>
      `<tr class="${r.verdict}"><td>${escapeHtml(r.metric)}</td><td>${escapeHtml(r.scope)}</td><td class="num">${escapeHtml(r.baseline)}</td><td class="num">${escapeHtml(r.candidate)}</td><td class="num">${escapeHtml(r.change)}</td><td>${escapeHtml(r.test)}</td><td>${badge(r.verdict)}${r.note ? `<div class="muted">${escapeHtml(r.note)}</div>` : ''}</td></tr>`,
  );
  return `<table class="metrics">${head}${rows.join('')}</table>`;
}

function serviceSection(s: ServiceView, input: ReportInput): string {
  const list = (items: string[]) => (items.length ? `<ul>${items.map((x) => `<li>${escapeHtml(x)}</li>`).join('')}</ul>` : '<p class="muted">Nothing.</p>');
  const charts = s.distributions.map(
    (d) =>
      `<figure class="chart" data-scope="${escapeHtml(d.scope)}"><figcaption>${escapeHtml(d.scope)} <span class="muted">(judged: ${escapeHtml(d.judged.join(', '))})</span></figcaption>${ecdfChart(d)}</figure>`,
  );
  return [
    `<section class="service" data-service="${escapeHtml(s.service)}">`,
    `<h2>Service ${escapeHtml(s.service)}: ${badge(s.verdict)}</h2>`,
    `<p class="muted">${escapeHtml(s.summary)}. Requests: baseline ${s.requests.baseline.toLocaleString('en-US')}, candidate ${s.requests.candidate.toLocaleString('en-US')}.</p>`,
    s.findings.length ? `<h3>Findings</h3>${list(s.findings)}` : '',
    `<h3>Every metric</h3>${metricTable(s)}`,
    `<p class="muted">The change's 95% interval describes its size for each metric on its own; the verdict rests on the test, corrected for all ${escapeHtml(s.summary.split(' ')[0]!)} tests.</p>`,
    `<h3>Latency distributions</h3>${legend(input.baseline, input.candidate)}<div class="charts">${charts.join('') || '<p class="muted">No latency histogram.</p>'}</div>`,
    `<h3>Error ratios</h3>${legend(input.baseline, input.candidate)}${errorChart(s.errors)}`,
    `<h3>Not judged, and why</h3>${list(s.skipped)}`,
    '</section>',
  ].join('\n');
}

export function renderHtmlReport(input: ReportInput): string {
  const views = serviceViews(input);
  const windowRow = (name: string, release: string, w: { start: string; end: string }) =>
    `<tr><td>${name}</td><td><code>${escapeHtml(release)}</code></td><td>${escapeHtml(w.start)}</td><td>${escapeHtml(w.end)}</td>${views.length === 1 ? `<td class="num">${(name === 'Baseline' ? views[0]!.requests.baseline : views[0]!.requests.candidate).toLocaleString('en-US')}</td>` : ''}</tr>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`${input.verdict.toUpperCase()}: ${input.baseline} -> ${input.candidate}`)}</title>
<style>${STYLE}</style></head><body>
<h1>Release comparison: <code>${escapeHtml(input.baseline)}</code> &rarr; <code>${escapeHtml(input.candidate)}</code></h1>
<div class="verdict" id="verdict" style="background:${VERDICT_COLOUR[input.verdict]}">Verdict: ${escapeHtml(input.verdict.toUpperCase())} &middot; exit code ${input.exitCode}<small>${escapeHtml(headline(input))}</small></div>
<h2>Windows and requests</h2>
<table><tr><th></th><th>Release</th><th>From</th><th>To</th>${views.length === 1 ? '<th>Requests</th>' : ''}</tr>
${windowRow('Baseline', input.baseline, input.windows.baseline)}
${windowRow('Candidate', input.candidate, input.windows.candidate)}</table>
<p class="muted">Exit codes: ${Object.entries(EXIT_MEANING).map(([k, v]) => `${k} ${escapeHtml(v)}`).join(', ')}, 2 usage error or Prometheus unreachable. Method: docs/RELEASES.md of @org/otel-monitor.</p>
${views.map((s) => serviceSection(s, input)).join('\n')}
</body></html>
`;
}
