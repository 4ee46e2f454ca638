// Fastify A/B: the Fastify handler channel (fastify-handler.ts) against @fastify/otel
// (OTEL_MONITOR_FASTIFY_HOOKS=true), with bare Node as the baseline, interleaved.
//   node bench/fastify-ab.js [rounds]
// The app runs on CPU 0, autocannon on CPU 1 (Linux, taskset). Besides req/s (noisy on a shared
// machine) it reports the server's CPU time per request, read from /proc/<pid>/stat.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startSink } from './sink.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODE = `${ROOT}node_modules/node/bin/node`;
const AUTOCANNON = `${ROOT}node_modules/.bin/autocannon`;
const CONFIGS = [
  { id: 'bare', args: [], env: {} },
  { id: 'channel', args: ['--import', '@org/otel-monitor'], env: {} },
  { id: '@fastify/otel', args: ['--import', '@org/otel-monitor'], env: { OTEL_MONITOR_FASTIFY_HOOKS: 'true' } },
];

const cpuTicks = (pid) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ').slice(11, 13).reduce((a, b) => a + Number(b), 0);
const load = (url, seconds) => spawnSync('taskset', ['-c', '1', AUTOCANNON, '-j', '-c', '50', '-d', String(seconds), url], { encoding: 'utf8' });

async function round(cfg, sinkUrl) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, ...cfg.env };
  const child = spawn('taskset', ['-c', '0', NODE, ...cfg.args, 'bench/apps/fastify.js'], { cwd: ROOT, env, stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/items/42`;
  for (let i = 0; i < 100; i++) {
    if (await fetch(url).then(() => true, () => false)) break;
    await sleep(100);
  }
  load(url, 3);
  const c0 = cpuTicks(child.pid);
  const r = JSON.parse(load(url, 10).stdout);
  const ticks = cpuTicks(child.pid) - c0;
  child.kill('SIGTERM');
  return { config: cfg.id, rps: Math.round(r.requests.average), cpuUsPerRequest: (ticks * 10_000) / r.requests.total, p99: r.latency.p99 };
}

const sink = await startSink();
const rounds = Number(process.argv[2] ?? 3);
const results = [];
for (let i = 0; i < rounds; i++) {
  for (const cfg of CONFIGS) {
    const r = await round(cfg, sink.url);
    results.push(r);
    console.log(JSON.stringify(r));
    sink.take?.();
  }
}
await sink.close();
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const cfg of CONFIGS) {
  const mine = results.filter((r) => r.config === cfg.id);
  console.log(`${cfg.id}: median ${median(mine.map((r) => r.rps))} req/s, ${median(mine.map((r) => r.cpuUsPerRequest)).toFixed(1)} µs CPU/request`);
}
