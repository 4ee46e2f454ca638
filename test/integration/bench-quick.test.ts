// `npm run bench -- --quick` runs end to end and writes a well-formed report. Not a timed test:
// it checks shape and that the instrumented runs really exported, never how fast anything was.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { spawnTracked, stopAll } from '../helpers/process.js';

const ROOT = join(import.meta.dirname, '../..');
afterAll(stopAll);

/** Consecutive `|` lines as tables of trimmed cells, keyed by the heading above them. */
function tables(md: string): Map<string, string[][]> {
  const out = new Map<string, string[][]>();
  let heading = '';
  let current: string[][] | undefined;
  for (const line of md.split('\n')) {
    if (line.startsWith('#')) heading = line.replace(/^#+\s*/, '');
    if (line.startsWith('|')) {
      if (!current) out.set(heading, (current = []));
      current.push(line.slice(1, -1).split('|').map((c) => c.trim()));
    } else current = undefined;
  }
  return out;
}

it('bench --quick produces a well-formed results table', { timeout: 600_000 }, async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'bench-quick-')), 'BENCHMARKS.md');
  const run = spawnTracked(join(ROOT, 'node_modules/.bin/node'), ['bench/run.js', '--quick', '--out', out], { cwd: ROOT });
  const code = await run.exited;
  expect(code, run.output()).toBe(0);

  const md = readFileSync(out, 'utf8');
  expect(md).toMatch(/^- Machine: \d+ CPUs/m);
  expect(md).toMatch(/^- Node v24\./m);
  const t = tables(md);
  for (const [heading, rows] of t) {
    expect(rows.length, heading).toBeGreaterThan(2);
    expect(rows[1]!.every((c) => /^-+:?$/.test(c)), `${heading}: separator`).toBe(true);
    for (const r of rows) expect(r.length, `${heading}: ${r.join('|')}`).toBe(rows[0]!.length);
  }

  for (const app of ['`node:http` hello world', 'Express hello world']) {
    const rows = t.get(app);
    expect(rows, app).toBeDefined();
    const byConfig = new Map(rows!.slice(2).map((r) => [r[0], r]));
    expect(byConfig.get('bare Node')?.[3]).toBe('1.00×');
    for (const r of byConfig.values()) expect(Number(r[1]!.replace(/,/g, '')), r.join('|')).toBeGreaterThan(0);
    // The sink decoded spans from the upstream agent: the counting path works.
    expect(Number(byConfig.get('upstream register')?.[6])).toBeGreaterThanOrEqual(1);
  }
  // The realistic app (PostgreSQL, fetch, pino) ran for every configuration, and the sink decoded
  // dd-trace's msgpack spans as well as the OTLP ones.
  const realistic = [...t.entries()].find(([h]) => h.startsWith('Realistic app'))?.[1];
  expect(realistic, 'realistic app table').toBeDefined();
  const realisticBy = new Map(realistic!.slice(2).map((r) => [r[0], r]));
  for (const cfg of ['bare Node', 'upstream register', 'dd-trace', 'ours (defaults)']) {
    expect(Number(realisticBy.get(cfg)?.[1]?.replace(/,/g, '')), cfg).toBeGreaterThan(0);
    expect(Number(realisticBy.get(cfg)?.[9]), `${cfg} errors`).toBe(0);
  }
  for (const cfg of ['upstream register', 'dd-trace', 'ours (defaults)']) expect(Number(realisticBy.get(cfg)?.[6]), cfg).toBeGreaterThanOrEqual(3);
  // The fixed-rate latency, paced by vegeta (.ci/run builds it), served at that rate by bare and ours.
  expect(md).toMatch(/^Latency at a fixed 200 req\/s \(vegeta v\d+\.\d+\.\d+ `attack -rate`, one request every 5 ms, open loop/m);
  // Every request's latency was kept, so p50 and p99 are over all of them (2 s × 200 req/s).
  const pooled = md.match(/p50 and p99 over all ([\d,]+) requests of the 1 repetition together/);
  expect(Number(pooled?.[1]?.replace(/,/g, '')), 'pooled fixed-rate requests').toBeGreaterThanOrEqual(300);
  const paced = new Map((t.get('Realistic app: latency at a fixed rate') ?? []).slice(2).map((r) => [r[0], r]));
  for (const cfg of ['bare Node', 'ours (defaults)']) {
    expect(Number(paced.get(cfg)?.[1]), `${cfg} served at the fixed rate`).toBeGreaterThan(150);
    expect(Number(paced.get(cfg)?.[3]?.split(' ')[0]), `${cfg} p99`).toBeGreaterThan(0);
  }
  expect(t.get('Garbage collection under load')?.length).toBeGreaterThanOrEqual(4);
  expect(t.get('Start-up')?.length).toBeGreaterThanOrEqual(4);
  expect(t.get('Memory (RSS)')).toBeDefined();
  expect(t.get('Wire cost')).toBeDefined();
});
