// `otel-monitor releases list|compare` end to end: instrumented apps (examples/app.js) as four
// releases of one service -> our Collector -> Prometheus (the compose config) -> the built CLI.
// 1.1.0 is built to regress (errors and latency on /users/:id), 1.0.1 behaves exactly like 1.0.0,
// and 0.9.0 serves only a handful of requests. Every fifth /users/:id request takes a slow path
// (5 ms); in 1.2.0 it takes 80 ms: a slower tail (10% of all requests), the median unchanged. 1.0.0 and 1.0.1 answer without errors: with a 2%
// error ratio an A/A pair needs ~7,700 requests each before the error ratio can be called ok
// (docs/RELEASES.md), with none it needs ~2,000.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, type RunningApp } from '../helpers/app.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { freePort, stopAll, waitFor } from '../helpers/process.js';
import { startCollector, startInstrumentedApp, startPrometheus, type RunningPrometheus } from '../helpers/stack.js';
import { runCli, runInProcess } from './task-monitoring-helpers.js';

const SERVICE = 'shop';
const BIN = join(ROOT, 'dist', 'cli', 'main.js');
const PER_RELEASE = 2500;
const PATHS = ['/', '/users/1', '/users/2', '/upstream', '/users/3'];

let prom: RunningPrometheus;
let loki: OtlpReceiver;
const cli = (...args: string[]) => runCli(BIN, args, { OTEL_MONITOR_PROMETHEUS_URL: prom.url });

/** Requests spread over the apps in turn, so all of them share the machine's load equally. */
async function interleaved(apps: RunningApp[], perApp: number): Promise<void> {
  let n = 0;
  const worker = async () => {
    while (n < perApp) {
      const i = n++;
      const path = PATHS[i % PATHS.length]!;
      await Promise.all(apps.map(async (app) => (await app.get(path)).arrayBuffer()));
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

beforeAll(async () => {
  loki = await startOtlpReceiver();
  const collector = await startCollector({ lokiEndpoint: loki.url, env: { OTELCOL_TRACES_EXPORTERS: '[debug]' } });
  prom = await startPrometheus({ collector });
  const start = (release: string, env: Record<string, string> = {}) =>
    startInstrumentedApp({ collector, service: SERVICE, release, env: { OTEL_SERVICE_NAME: SERVICE, DEMO_SLOW_EVERY: '5', DEMO_SLOW_MS: '5', ...env } });
  const [base, twin, bad, tiny, slowTail] = await Promise.all([
    start('shop@1.0.0'),
    start('shop@1.0.1'),
    start('shop@1.1.0', { DEMO_ERROR_RATE: '0.1', DEMO_DELAY_MS: '20' }),
    start('shop@0.9.0'),
    start('shop@1.2.0', { DEMO_SLOW_MS: '80' }),
  ]);
  await interleaved([base!, twin!, bad!, slowTail!], PER_RELEASE);
  for (let i = 0; i < 12; i++) await (await tiny!.get(PATHS[i % PATHS.length]!)).arrayBuffer();
  // /upstream calls / on the same app: each release serves PER_RELEASE * 6/5 requests.
  await waitFor(
    async () => (await prom.query(`sum by (service_version) (http_server_request_duration_seconds_count{job="${SERVICE}"}) >= 12`)).length === 5,
    { timeoutMs: 90_000, what: 'all five releases in Prometheus' },
  );
  await waitFor(async () => (await prom.query('count by (service_version) (process_cpu_time_seconds_total{job="shop"})')).length === 5, {
    timeoutMs: 60_000,
    what: 'process metrics for all five releases',
  });
}, 600_000);

afterAll(async () => {
  await stopAll();
  await loki?.close();
});

describe('releases compare', () => {
  it('finds the regression in 1.1.0, names the metrics and the route, and exits 1', async () => {
    const r = await cli('releases', 'compare', 'shop@1.0.0', 'shop@1.1.0', '--service', SERVICE, '--window', '15m');
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/Verdict: REGRESSED/);
    const regressed = r.stdout.split('\n').filter((l) => l.includes('REGRESSED  <<<'));
    expect(regressed.some((l) => l.startsWith('error ratio') && l.includes('service')), r.stdout).toBe(true);
    expect(regressed.some((l) => l.startsWith('latency p95')), r.stdout).toBe(true);
    expect(regressed.some((l) => l.includes('GET /users/:id')), r.stdout).toBe(true);
  });

  it('gives the same verdict as JSON, with numbers read back from Prometheus', async () => {
    const r = await cli('releases', 'compare', 'shop@1.0.0', 'shop@1.1.0', '--window', '15m', '--json');
    expect(r.code, r.stderr).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.verdict).toBe('regressed');
    expect(doc.exitCode).toBe(1);
    const [svc] = doc.services;
    expect(svc.service).toBe(SERVICE);
    const errorRatio = svc.report.metrics.find((m: any) => m.metric === 'error_ratio' && m.scope === 'service');
    expect(errorRatio.verdict).toBe('regressed');
    expect(errorRatio.baseline).toBe(0);
    // 10% of /users/:id (3 of 6 requests) fail: about 5% of all.
    expect(errorRatio.candidate).toBeGreaterThan(0.03);
    expect(errorRatio.candidate).toBeLessThan(0.08);
  });

  it('finds a slower tail with the median unchanged (the slow path sleeps longer), names p95, exits 1, and writes the reports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-monitor-report-'));
    const [html, md] = [join(dir, 'compare.html'), join(dir, 'compare.md')];
    const r = await cli('releases', 'compare', 'shop@1.0.0', 'shop@1.2.0', '--service', SERVICE, '--window', '15m', '--report', html, '--markdown', md);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const line = (metric: string) => r.stdout.split('\n').find((l) => l.startsWith(metric) && /\sservice\s/.test(l)) ?? '';
    expect(line('latency p95'), r.stdout).toContain('REGRESSED  <<<');
    expect(line('latency p50'), r.stdout).not.toContain('REGRESSED');
    expect(r.stderr).toContain(`wrote ${html}`);
    expect(readFileSync(html, 'utf8')).toContain('Verdict: REGRESSED &middot; exit code 1');
    expect(readFileSync(md, 'utf8')).toMatch(/^## ❌ Release verdict: \*\*REGRESSED\*\* \(exit code 1\)\n[\s\S]*\| latency p95 \| service \|.*\*\*regressed\*\*/);
    // The same verdict as Markdown on stdout, for $GITHUB_STEP_SUMMARY.
    const summary = await cli('releases', 'compare', 'shop@1.0.0', 'shop@1.2.0', '--service', SERVICE, '--window', '15m', '--format', 'markdown');
    expect(summary.code).toBe(1);
    // Not byte for byte the file: the windows end "now", and memory is read again a second later.
    expect(summary.stdout).toMatch(/^## ❌ Release verdict: \*\*REGRESSED\*\* \(exit code 1\)\n[\s\S]*\| latency p95 \| service \|.*\*\*regressed\*\*/);
    const unwritable = await cli('releases', 'compare', 'shop@1.0.0', 'shop@1.2.0', '--service', SERVICE, '--window', '15m', '--report', join(dir, 'no', 'such', 'dir.html'));
    expect(unwritable.code).toBe(2);
    expect(existsSync(join(dir, 'no'))).toBe(false);
  });

  it('says ok, exit 0, for two releases that behave the same (A/A)', async () => {
    const r = await cli('releases', 'compare', 'shop@1.0.0', 'shop@1.0.1', '--service', SERVICE, '--window', '15m');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Verdict: (OK|IMPROVED)/);
    expect(r.stdout).not.toContain('REGRESSED');
  });

  it('is inconclusive, exit 3, for a release with a handful of requests, and says what it needs', async () => {
    const r = await cli('releases', 'compare', 'shop@1.0.0', 'shop@0.9.0', '--service', SERVICE, '--window', '15m');
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout).toMatch(/Verdict: INCONCLUSIVE/);
    expect(r.stdout).toMatch(/need ≥ [\d,]+ requests per release .*have \d+/);
  });

  it('takes separate before/after windows', async () => {
    const r = await cli(
      'releases', 'compare', 'shop@1.0.0', 'shop@1.1.0',
      '--baseline-window', 'now-15m..now', '--candidate-window', '15m', '--service', SERVICE,
    );
    expect(r.code, r.stdout + r.stderr).toBe(1);
  });

  it('exits 2 with one line when Prometheus cannot be reached, or on bad usage', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const down = await runCli(BIN, ['releases', 'compare', 'a', 'b', '--prometheus-url', closed]);
    expect(down.code).toBe(2);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
    expect(down.stderr).toContain('cannot reach Prometheus');
    for (const args of [['releases', 'compare', 'only-one'], ['releases', 'compare', 'a', 'b', '--window', 'yesterday'], ['releases', 'compare', 'a', 'b', '--baseline-window', '1h']]) {
      const bad = await cli(...args);
      expect(bad.code, args.join(' ')).toBe(2);
      expect(bad.stderr).toMatch(/^otel-monitor: .*\(see --help\)\n$/);
    }
  });
});

describe('releases list', () => {
  it('lists every release with its requests, error ratio and instances', async () => {
    const r = await cli('releases', 'list', '--service', SERVICE, '--json');
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ release: string; requests: number; errorRatio: number; instances: number; firstSeen: string }>;
    expect(rows.map((x) => x.release).sort()).toEqual(['shop@0.9.0', 'shop@1.0.0', 'shop@1.0.1', 'shop@1.1.0', 'shop@1.2.0']);
    const byRelease = Object.fromEntries(rows.map((x) => [x.release, x]));
    expect(byRelease['shop@1.0.0']!.requests).toBe((PER_RELEASE * 6) / 5);
    expect(byRelease['shop@0.9.0']!.requests).toBeGreaterThanOrEqual(12);
    expect(byRelease['shop@1.1.0']!.errorRatio).toBeGreaterThan(byRelease['shop@1.0.0']!.errorRatio);
    for (const row of rows) expect(row.instances).toBe(1);
    for (const row of rows) expect(Date.parse(row.firstSeen), r.stdout).toBeGreaterThan(Date.now() - 15 * 60_000);
    const table = await cli('releases', 'list');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^SERVICE\s+RELEASE\s+FIRST SEEN/);
    expect(table.stdout).toContain('shop@1.1.0');
  });

  it('gives first and last seen for a release scraped only once, since the last 10 s boundary', async () => {
    // The list's recent read steps every 10 s; a release newer than its last step is in no step.
    // Listing right after 0.9.0's first scrape (ts) puts it there deterministically.
    const [first] = await prom.query('min_over_time(timestamp(target_info{service_version="shop@0.9.0"})[15m:1s])');
    const ts = Number(first!.value[1]);
    const r = await runInProcess(['releases', 'list', '--service', SERVICE, '--json'], { OTEL_MONITOR_PROMETHEUS_URL: prom.url }, () => ts * 1000 + 1);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ release: string; firstSeen: string | null; lastSeen: string | null }>;
    // The other releases may have been first scraped by then too; each row has both times.
    for (const row of rows) expect([row.firstSeen, row.lastSeen], row.release).not.toContain(null);
    const tiny = rows.find((x) => x.release === 'shop@0.9.0')!;
    expect(Date.parse(tiny.firstSeen!) / 1000).toBe(ts);
    expect(Date.parse(tiny.lastSeen!) / 1000).toBe(ts);
  });
});
