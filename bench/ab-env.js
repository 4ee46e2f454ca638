// Quick A/B of one setting under our preload: the same app, interleaved runs with environment A
// and B, throughput and latency from the usual load generator. For a feature's cost in isolation
// (the full comparison with upstream is bench/run.js).
//   node bench/ab-env.js --app http --a OTEL_MONITOR_REQUEST_ID=off --b OTEL_MONITOR_REQUEST_ID=on [--reps 3] [--seconds 10] [--profile]
// --app realistic starts PostgreSQL and the upstream as bench/run.js does. A side given the single
// pair BARE=1 runs without the preload, so a side can be bare Node itself; PRELOAD=/path/dist/index.js
// runs another build of the preload (a copy of an earlier dist/), for a before/after of a code change.
// --profile also CPU-profiles every run and prints, per side, the self time per request of the
// functions that differ most between A and B (the load window only). --gc runs the server under
// --trace-gc-nvp and reports KB survived per scavenge (new-space survivors + promoted) over the load
// window; both sides pay the tracing, so compare within the run only.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startSink } from './sink.js';
import { ensureLoadGen, runLoad } from './load.js';
import { startRealisticBackends } from './backends.js';
import { loadProfile, selfTimeByFunction } from './profile.js';
import { gcCounter } from './gc-counter.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODE_BIN = join(ROOT, 'node_modules/.bin/node');
const NODE = existsSync(NODE_BIN) ? realpathSync(NODE_BIN) : process.execPath;
const { values: o } = parseArgs({
  options: { app: { type: 'string', default: 'http' }, a: { type: 'string', multiple: true, default: [] }, b: { type: 'string', multiple: true, default: [] }, reps: { type: 'string', default: '3' }, seconds: { type: 'string', default: '10' }, profile: { type: 'boolean' }, gc: { type: 'boolean' } },
});
const envOf = (pairs) => Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));

/** A /proc stat file's name (comm) and utime + stime in clock ticks (1/100 s). */
function readStat(path) {
  const stat = readFileSync(path, 'utf8');
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  return { name: stat.slice(stat.indexOf('(') + 1, close).trim(), ticks: Number(fields[11]) + Number(fields[12]) };
}

/** utime + stime of a whole process, threads that have ended included. */
const cpuTicks = (pid) => readStat(`/proc/${pid}/stat`).ticks;

// As bench/run.js: this process (the sink), and through inheritance the load generator and the
// backends, on CPU 1; the server alone on CPU 0. Unpinned, the load generator lands on the server's
// CPU now and then, and each response's write then waits for it.
spawnSync('taskset', ['-a', '-cp', '1', String(process.pid)]);

const SCRIPT = o.app === 'realistic' ? join(ROOT, 'bench/scripts/realistic.lua') : undefined;
const backends = o.app === 'realistic' ? await startRealisticBackends(20_000 + Math.floor(Math.random() * 20_000)) : { env: {}, stop: async () => {} };

/** CPU ticks per thread name (main thread: "main"), summed over the process's live threads. */
function ticksByThread(pid) {
  const out = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const { name, ticks } = readStat(`/proc/${pid}/task/${tid}/stat`);
      const key = tid === String(pid) ? 'main' : name;
      out[key] = (out[key] ?? 0) + ticks;
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

async function once(env, sink, tool, port) {
  const bare = env.BARE === '1';
  const profDir = o.profile ? mkdtempSync(join(os.tmpdir(), 'ab-prof-')) : undefined;
  const profArgs = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const spawnedAt = Date.now();
  const preload = bare ? [] : ['--import', env.PRELOAD ?? '@org/otel-monitor'];
  const gcArgs = o.gc ? ['--trace-gc-nvp'] : [];
  const gc = gcCounter();
  const child = spawn('taskset', ['-c', '0', NODE, ...profArgs, ...gcArgs, ...preload, join(ROOT, 'bench/apps', `${o.app}.js`)], {
    cwd: ROOT,
    stdio: ['ignore', o.gc ? 'pipe' : 'ignore', 'ignore'],
    env: { PATH: process.env.PATH, PORT: String(port), OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_SERVICE_NAME: 'ab', ...backends.env, ...env },
  });
  child.stdout?.on('data', (d) => gc.onStdout(String(d)));
  const url = `http://127.0.0.1:${port}/`;
  // Up to 60 s: on a loaded machine the preload and the realistic app take far longer than 10 s.
  for (let i = 0; i < 600; i++) {
    if (await fetch(url).then(() => true, () => false)) break;
    await sleep(100);
  }
  await runLoad(tool, NODE, url, 2, 50, SCRIPT); // warm-up
  // CPU time the server spent per request: far steadier than req/s on a shared, busy machine.
  gc.reset();
  const before = cpuTicks(child.pid);
  const threadsBefore = ticksByThread(child.pid);
  const loadStart = Date.now();
  const r = await runLoad(tool, NODE, url, Number(o.seconds), 50, SCRIPT);
  const loadEnd = Date.now();
  r.cpuUsPerReq = ((cpuTicks(child.pid) - before) * 10_000) / r.requests;
  // Besides "main": V8's GC helpers, libuv's pool (zlib, fs), none of which a CPU profile shows.
  const threadsAfter = ticksByThread(child.pid);
  r.threads = Object.fromEntries(Object.entries(threadsAfter).map(([k, v]) => [k, ((v - (threadsBefore[k] ?? 0)) * 10_000) / r.requests]));
  const g = gc.counts();
  r.survivedKbPerScavenge = g.scavenges ? (g.survived + g.promoted) / g.scavenges / 1024 : NaN;
  child.kill('SIGTERM');
  await new Promise((res) => child.on('exit', res));
  const prof = profDir && loadProfile(profDir, spawnedAt, loadStart, loadEnd);
  if (prof) r.fns = selfTimeByFunction(prof.file, prof.window, r.requests);
  return r;
}

const sink = await startSink();
const tool = ensureLoadGen();
const results = { A: [], B: [] };
for (let rep = 0; rep < Number(o.reps); rep++) {
  for (const [k, pairs] of rep % 2 ? [['B', o.b], ['A', o.a]] : [['A', o.a], ['B', o.b]]) {
    const r = await once(envOf(pairs), sink, tool, 20_000 + Math.floor(Math.random() * 20_000));
    results[k].push(r);
    console.error(`${k} rep ${rep}: ${r.rps.toFixed(0)} req/s p50 ${r.p50} ms p99 ${r.p99} ms, ${r.cpuUsPerReq.toFixed(1)} us CPU/request (${Object.entries(r.threads).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}), errors ${r.errors}${o.gc ? `, ${r.survivedKbPerScavenge.toFixed(1)} KB survived/scavenge` : ''}`);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const k of ['A', 'B']) {
  const rs = results[k];
  console.log(`${k} (${(k === 'A' ? o.a : o.b).join(' ') || 'defaults'}): median ${median(rs.map((r) => r.cpuUsPerReq)).toFixed(1)} us CPU/request (main thread ${median(rs.map((r) => r.threads.main)).toFixed(1)}), ${median(rs.map((r) => r.rps)).toFixed(0)} req/s, p50 ${median(rs.map((r) => r.p50))} ms, p99 ${median(rs.map((r) => r.p99))} ms${o.gc ? `, ${median(rs.map((r) => r.survivedKbPerScavenge)).toFixed(1)} KB survived/scavenge` : ''} (${tool}, ${o.app}, ${rs.length}x${o.seconds}s)`);
}
if (o.profile) printProfileDiff(results);
await backends.stop();
sink.close?.();
process.exit(0);

/** µs per request by function, the median over the runs of each side, largest differences first. */
function printProfileDiff(res) {
  const side = (rs) => {
    const keys = new Set(rs.flatMap((r) => [...(r.fns ?? new Map()).keys()]));
    return new Map([...keys].map((k) => [k, median(rs.map((r) => r.fns?.get(k) ?? 0))]));
  };
  const a = side(res.A);
  const b = side(res.B);
  const keys = new Set([...a.keys(), ...b.keys()]);
  const rows = [...keys].map((k) => [k, a.get(k) ?? 0, b.get(k) ?? 0]).sort((x, y) => Math.abs(y[2] - y[1]) - Math.abs(x[2] - x[1]));
  console.log('\n| function | A µs/request | B µs/request | B − A |\n|---|---:|---:|---:|');
  for (const [k, x, y] of rows.slice(0, Number(process.env.ROWS ?? 30))) console.log(`| ${k} | ${x.toFixed(2)} | ${y.toFixed(2)} | ${(y - x).toFixed(2)} |`);
  const sum = (m) => [...m.values()].reduce((s, v) => s + v, 0);
  console.log(`| **total** | ${sum(a).toFixed(2)} | ${sum(b).toFixed(2)} | ${(sum(b) - sum(a)).toFixed(2)} |`);
  // The same by package: a key starts with its package (`@org/otel-monitor`, `node:internal`, `express`, …).
  const byPackage = (m) => {
    const out = new Map();
    for (const [k, v] of m) {
      const pkg = k.startsWith('(') ? k.slice(0, k.indexOf(')') + 1) : k.split(' ')[0];
      out.set(pkg, (out.get(pkg) ?? 0) + v);
    }
    return out;
  };
  const [pa, pb] = [byPackage(a), byPackage(b)];
  const pkgs = [...new Set([...pa.keys(), ...pb.keys()])].sort((x, y) => Math.abs((pb.get(y) ?? 0) - (pa.get(y) ?? 0)) - Math.abs((pb.get(x) ?? 0) - (pa.get(x) ?? 0)));
  console.log('\n| package | A µs/request | B µs/request | B − A |\n|---|---:|---:|---:|');
  for (const k of pkgs.slice(0, 12)) console.log(`| ${k} | ${(pa.get(k) ?? 0).toFixed(2)} | ${(pb.get(k) ?? 0).toFixed(2)} | ${((pb.get(k) ?? 0) - (pa.get(k) ?? 0)).toFixed(2)} |`);
}
