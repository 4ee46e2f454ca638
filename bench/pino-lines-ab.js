// A/B of pino lines under the preload (bench/pino-lines.mjs), interleaved runs with environment A
// and B, each process pinned to CPU 0 with this one (and the sink) on CPU 1, as bench/ab-env.js.
// Prints per side the median CPU ns per line, the log records the sink received, and KB survived
// (+ promoted) per scavenge and bytes allocated per line, over the whole process (warm-up included):
// allocation hardly depends on what else the machine runs, CPU time does.
//   node bench/pino-lines-ab.js --a OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS=pino --b OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS= [--mode burst|paced] [--lines 100000] [--reps 5]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startSink } from './sink.js';
import { gcCounter } from './gc-counter.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODE_BIN = join(ROOT, 'node_modules/.bin/node');
const NODE = existsSync(NODE_BIN) ? realpathSync(NODE_BIN) : process.execPath;
const { values: o } = parseArgs({
  options: { a: { type: 'string', multiple: true, default: [] }, b: { type: 'string', multiple: true, default: [] }, mode: { type: 'string', default: 'burst' }, lines: { type: 'string', default: '100000' }, reps: { type: 'string', default: '5' } },
});
const envOf = (pairs) => Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
spawnSync('taskset', ['-a', '-cp', '1', String(process.pid)]);

async function once(env, sink) {
  sink.take();
  const gc = gcCounter();
  const child = spawn('taskset', ['-c', '0', NODE, '--trace-gc-nvp', '--import', '@org/otel-monitor', join(ROOT, 'bench/pino-lines.mjs'), o.lines, o.mode], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { PATH: process.env.PATH, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_SERVICE_NAME: 'pino-ab', OTEL_METRICS_EXPORTER: 'none', OTEL_MONITOR_HOST_METRICS: 'false', ...env },
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
    gc.onStdout(String(d));
  });
  await new Promise((res) => child.on('exit', res));
  const result = JSON.parse(out.split('\n').find((l) => l.startsWith('{"mode"')));
  const c = gc.counts();
  const lines = Number(o.lines) * 3 + Math.min(Number(o.lines), 20_000); // bench/pino-lines.mjs: a warm-up and 3 rounds
  return { ...result, survivedKb: (c.survived + c.promoted) / c.scavenges / 1024, scavenges: c.scavenges, bytesPerLine: c.allocated / lines, records: sink.take().logs.items };
}

const sink = await startSink();
const results = { A: [], B: [] };
for (let rep = 0; rep < Number(o.reps); rep++) {
  for (const [k, pairs] of rep % 2 ? [['B', o.b], ['A', o.a]] : [['A', o.a], ['B', o.b]]) {
    const r = await once(envOf(pairs), sink);
    results[k].push(r);
    console.error(`${k} rep ${rep}: ${r.nsPerLine} ns/line, ${r.records} records received, ${r.scavenges} scavenges, ${r.survivedKb.toFixed(1)} KB survived/scavenge, ${r.bytesPerLine.toFixed(0)} B allocated/line`);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const k of ['A', 'B']) {
  const rs = results[k];
  console.log(`${k} (${(k === 'A' ? o.a : o.b).join(' ') || 'defaults'}): median ${median(rs.map((r) => r.nsPerLine))} ns CPU/line, ${median(rs.map((r) => r.records))} records received, ${median(rs.map((r) => r.survivedKb)).toFixed(1)} KB survived/scavenge, ${median(rs.map((r) => r.bytesPerLine)).toFixed(0)} B allocated/line (${o.mode}, ${rs.length} runs of ${o.lines} lines x3 + warm-up)`);
}
sink.close?.();
process.exit(0);
