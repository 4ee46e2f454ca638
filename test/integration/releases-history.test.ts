// `releases list|compare` against a Prometheus holding a day of data: ten releases of `checkout`
// deployed one after another, fifty routes, backfilled with promtool (test/helpers/release-backfill.ts).
// 1.9.0 regresses on one route with ~11% of the traffic (2% -> 20% errors there) and is 25% slower;
// 1.8.0 behaves exactly like 1.7.0. The wall time of each command is printed (the figures in
// docs/RELEASES.md come from here); the assertions are on the verdicts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/app.js';
import { backfill, type HistorySpec } from '../helpers/release-backfill.js';
import { freePort, spawnTracked, stopAll, waitForHttp } from '../helpers/process.js';
import { BIN as STACK_BIN, ensureAptPackages } from '../helpers/stack.js';
import { runCli } from './task-monitoring-helpers.js';

const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const HOUR = 3600;
const NOW = Math.floor(Date.now() / 1000);
const END = NOW - 300;
const RELEASE_SECONDS = 2.4 * HOUR;
const routes = Array.from({ length: 50 }, (_, i) => `/api/r${String(i).padStart(2, '0')}`);
const spec: HistorySpec = {
  service: 'checkout',
  routes,
  requestsPerSecond: 30,
  baseErrorRatio: 0.02,
  stepSeconds: 120,
  seed: 20261130,
  releases: Array.from({ length: 10 }, (_, k) => ({
    release: `checkout@1.${k}.0`,
    start: END - (10 - k) * RELEASE_SECONDS,
    end: END - (9 - k) * RELEASE_SECONDS,
    ...(k === 9 ? { errorRatio: { '/api/r01': 0.2 }, latencyFactor: 1.25 } : {}),
  })),
};
const windowOf = (k: number) => `${Math.round(spec.releases[k]!.start)}..${Math.round(spec.releases[k]!.end)}`;

let url: string;
const dirs: string[] = [];
const timings: Array<[string, number]> = [];
async function timed(what: string, ...args: string[]) {
  const t0 = performance.now();
  const r = await runCli(CLI, args, { OTEL_MONITOR_PROMETHEUS_URL: url });
  timings.push([what, Math.round(performance.now() - t0)]);
  return r;
}

beforeAll(async () => {
  ensureAptPackages();
  const t0 = performance.now();
  const { dir: blocks, dataDir, samples } = backfill(spec);
  dirs.push(blocks);
  process.stderr.write(`[releases-history] ${samples} samples backfilled in ${Math.round(performance.now() - t0)} ms\n`);
  const dir = mkdtempSync(join(tmpdir(), 'otel-monitor-prom-history-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1m\n');
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const proc = spawnTracked(STACK_BIN.prometheus, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${dataDir}`,
    '--storage.tsdb.retention.time=30d',
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  await waitForHttp(`${url}/-/ready`, 120_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${proc.output()}`);
  });
}, 600_000);

afterAll(async () => {
  await stopAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  process.stderr.write(`[releases-history] wall time per command, node start included:\n${timings.map(([w, ms]) => `  ${ms} ms  ${w}`).join('\n')}\n`);
});

describe('a day of data, 50 routes, 10 releases', () => {
  it('lists the ten releases, newest first, with their traffic', async () => {
    const r = await timed('releases list --since 24h', 'releases', 'list', '--since', '25h', '--json');
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ release: string; requests: number; errorRatio: number }>;
    expect(rows.map((x) => x.release)).toEqual(spec.releases.map((x) => x.release).reverse());
    // 30 req/s for 2.4 h, give or take the noise.
    for (const row of rows) expect(Math.abs(row.requests / (30 * RELEASE_SECONDS) - 1)).toBeLessThan(0.02);
    expect(rows[0]!.errorRatio).toBeGreaterThan(rows[1]!.errorRatio);
  });

  it('finds 1.9.0 worse than 1.8.0, names the route, and exits 1', async () => {
    const r = await timed('releases compare (before/after, 2.4 h windows)', 'releases', 'compare', 'checkout@1.8.0', 'checkout@1.9.0', '--baseline-window', windowOf(8), '--candidate-window', windowOf(9));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const regressed = r.stdout.split('\n').filter((l) => l.includes('REGRESSED  <<<'));
    expect(regressed.some((l) => l.startsWith('error ratio') && l.includes('GET /api/r01')), r.stdout).toBe(true);
    expect(regressed.some((l) => l.startsWith('latency p95') && l.includes('service')), r.stdout).toBe(true);
    // No other route's error ratio is blamed.
    expect(regressed.filter((l) => l.startsWith('error ratio') && l.includes('route') && !l.includes('/api/r01')), r.stdout).toEqual([]);
  });

  it('finds 1.8.0 no worse than 1.7.0 and exits 0', async () => {
    const r = await timed('releases compare (A/A)', 'releases', 'compare', 'checkout@1.7.0', 'checkout@1.8.0', '--baseline-window', windowOf(7), '--candidate-window', windowOf(8));
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('compares the last hour of 1.9.0 with the hour before its deploy (the default 1h window shape)', async () => {
    const deploy = Math.round(spec.releases[9]!.start);
    const r = await timed('releases compare (1 h windows)', 'releases', 'compare', 'checkout@1.8.0', 'checkout@1.9.0', '--baseline-window', `${deploy - HOUR}..${deploy}`, '--candidate-window', `${END - HOUR}..${END}`);
    expect(r.code, r.stdout + r.stderr).toBe(1);
  });
});
