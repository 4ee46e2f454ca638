// Quick A/B of one setting under our preload: the same app, interleaved runs with environment A
// and B, throughput and latency from the usual load generator. For a feature's cost in isolation
// (the full comparison with upstream is bench/run.js).
//   node bench/ab-env.js --app http --a OTEL_MONITOR_REQUEST_ID=off --b OTEL_MONITOR_REQUEST_ID=on [--reps 3] [--seconds 10]
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startSink } from './sink.js';
import { ensureLoadGen, runLoad } from './load.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODE_BIN = join(ROOT, 'node_modules/.bin/node');
const NODE = existsSync(NODE_BIN) ? realpathSync(NODE_BIN) : process.execPath;
const { values: o } = parseArgs({
  options: { app: { type: 'string', default: 'http' }, a: { type: 'string', multiple: true, default: [] }, b: { type: 'string', multiple: true, default: [] }, reps: { type: 'string', default: '3' }, seconds: { type: 'string', default: '10' } },
});
const envOf = (pairs) => Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));

/** utime + stime of a process, in clock ticks (1/100 s). */
function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function once(env, sink, tool, port) {
  const child = spawn('taskset', ['-c', '0', NODE, '--import', '@org/otel-monitor', join(ROOT, 'bench/apps', `${o.app}.js`)], {
    cwd: ROOT,
    stdio: 'ignore',
    env: { PATH: process.env.PATH, PORT: String(port), OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_SERVICE_NAME: 'ab', ...env },
  });
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 100; i++) {
    if (await fetch(url).then(() => true, () => false)) break;
    await sleep(100);
  }
  await runLoad(tool, NODE, url, 2); // warm-up
  // CPU time the server spent per request: far steadier than req/s on a shared, busy machine.
  const before = cpuTicks(child.pid);
  const r = await runLoad(tool, NODE, url, Number(o.seconds));
  r.cpuUsPerReq = ((cpuTicks(child.pid) - before) * 10_000) / r.requests;
  child.kill('SIGTERM');
  await new Promise((res) => child.on('exit', res));
  return r;
}

const sink = await startSink();
const tool = ensureLoadGen();
const results = { A: [], B: [] };
for (let rep = 0; rep < Number(o.reps); rep++) {
  for (const [k, pairs] of rep % 2 ? [['B', o.b], ['A', o.a]] : [['A', o.a], ['B', o.b]]) {
    const r = await once(envOf(pairs), sink, tool, 20_000 + Math.floor(Math.random() * 20_000));
    results[k].push(r);
    console.error(`${k} rep ${rep}: ${r.rps.toFixed(0)} req/s p50 ${r.p50} ms p99 ${r.p99} ms, ${r.cpuUsPerReq.toFixed(1)} us CPU/request, errors ${r.errors}`);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const k of ['A', 'B']) {
  const rs = results[k];
  console.log(`${k} (${(k === 'A' ? o.a : o.b).join(' ') || 'defaults'}): median ${median(rs.map((r) => r.cpuUsPerReq)).toFixed(1)} us CPU/request, ${median(rs.map((r) => r.rps)).toFixed(0)} req/s, p50 ${median(rs.map((r) => r.p50))} ms, p99 ${median(rs.map((r) => r.p99))} ms (${tool}, ${o.app}, ${rs.length}x${o.seconds}s)`);
}
sink.close?.();
process.exit(0);
