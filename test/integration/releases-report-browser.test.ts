// The HTML report of `releases compare --report`, opened in a real browser (Debian's chromium via
// playwright-core) offline: it must render without errors or network, lead with the verdict and
// the exit code, draw one chart per scope whose latency was judged with both releases in it, and
// show something (a screenshot with many colours, not a blank page). The comparison is the seeded
// simulation's slower-tail scenario through compareReleases, exactly as the CLI computes it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareReleases, type ReleaseData } from '../../src/cli/releases/statistics.js';
import { renderHtmlReport } from '../../src/cli/releases/report-html.js';
import type { ReportInput } from '../../src/cli/releases/report-model.js';
import { ROOT } from '../helpers/app.js';
import { closeBrowser, distinctColours, openFile } from '../helpers/browser.js';
import { baselineModel, seededRng, simulateRelease, withTailFactor } from '../helpers/release-simulation.js';

const HOSTILE = 'GET /x/<script>alert(1)</script>"&\'';

/** One route renamed to a hostile label value in both releases: the page must show it as text. */
function renamed(r: ReleaseData): ReleaseData {
  const { ['GET /orders/:id']: route, ...rest } = r.routes;
  return { ...r, routes: { ...rest, [HOSTILE]: route! } };
}

function input(): ReportInput {
  const rng = seededRng(7);
  const baseline = renamed(simulateRelease(baselineModel(5_000), rng));
  const candidate = renamed(simulateRelease(withTailFactor(baselineModel(5_000), 0.95, 1.3), rng));
  const report = compareReleases(baseline, candidate);
  const w = (start: string, end: string) => ({ start, end, text: `${start} .. ${end}` });
  return {
    baseline: 'shop@1.0.0',
    candidate: 'shop@1.1.0',
    windows: { baseline: w('2026-12-06T10:00:00Z', '2026-12-06T11:00:00Z'), candidate: w('2026-12-06T11:00:00Z', '2026-12-06T12:00:00Z') },
    verdict: report.verdict,
    exitCode: report.verdict === 'regressed' ? 1 : 0,
    services: [{ service: 'shop', report, data: { baseline, candidate } }],
  };
}

afterAll(closeBrowser);

describe('releases compare --report, in chromium', () => {
  it('renders offline without errors: verdict first, a two-series chart per judged latency scope, not blank', async () => {
    const doc = input();
    expect(doc.verdict).toBe('regressed');
    const dir = join(ROOT, '.cache', 'report-test');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'report.html');
    writeFileSync(file, renderHtmlReport(doc));
    const { page, errors, blocked, close } = await openFile(file);
    try {
      expect(errors).toEqual([]);
      expect(blocked).toEqual([]);
      expect(await page.locator('#verdict').innerText()).toMatch(/^Verdict: REGRESSED · exit code 1/);
      // The verdict is the first thing on the page, above the fold.
      const box = await page.locator('#verdict').boundingBox();
      expect(box!.y).toBeLessThan(150);
      // One chart per scope with a judged latency metric, each with the two releases' series.
      const scopes = new Set(doc.services[0]!.report.metrics.filter((m) => m.metric.startsWith('latency_')).map((m) => m.scope));
      const charts = page.locator('figure.chart');
      expect(await charts.count()).toBe(scopes.size);
      for (let i = 0; i < scopes.size; i++) {
        const series = charts.nth(i).locator('path.series');
        expect(await series.evaluateAll((paths) => paths.map((p) => p.getAttribute('data-series')))).toEqual(['baseline', 'candidate']);
        for (const d of await series.evaluateAll((paths) => paths.map((p) => p.getAttribute('d') ?? ''))) expect(d.split('L').length).toBeGreaterThan(2);
      }
      expect(await page.locator('svg.errors g[data-series]').count()).toBeGreaterThanOrEqual(2 * scopes.size);
      // A hostile route name is text, not markup: no script element, the name shown as written.
      expect(await page.evaluate(() => document.scripts.length)).toBe(0);
      const chartScopes = await charts.evaluateAll((figures) => figures.map((f) => f.getAttribute('data-scope')));
      expect(chartScopes).toContain(`route ${HOSTILE}`);
      expect(await page.locator('body').innerText()).toContain(`route ${HOSTILE}`);
      expect(await page.locator('body').innerText()).toMatch(/Not judged, and why/);
      const png = await page.screenshot({ fullPage: true, path: join(dir, 'report.png') });
      expect(await distinctColours(png)).toBeGreaterThan(100);
    } finally {
      await close();
    }
  });
});
