// Cost of one outgoing fetch() under each configuration, the client side alone: a bare local server
// in this process answers, a child process makes the requests (10 in flight) and measures its own CPU
// time (user + system: the span, the metric, the export count; other processes on the machine do
// not), best of 3 rounds after a warm-up. Configurations run interleaved, so a loaded machine slows
// them alike. --gc runs each child once more under --trace-gc-nvp: KB survived per scavenge.
//   node bench/undici-client.mjs [--reps 5] [--requests 5000] [--gc]
// The configurations: bare Node, instrumentation-undici (OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS=undici),
// ours (src/instrumentation/undici/).
import { spawn } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startSink } from './sink.js';
import { gcCounter } from './gc-counter.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function child(url, n) {
  const once = async () => (await fetch(url)).text();
  async function round(count) {
    const t0 = process.cpuUsage();
    let next = 0;
    await Promise.all(Array.from({ length: 10 }, async () => {
      while (next++ < count) await once();
    }));
    const { user, system } = process.cpuUsage(t0);
    return (user + system) / count;
  }
  await round(Math.min(n, 2000)); // warm-up
  console.log('WARMED'); // the driver counts scavenges from here
  const rounds = [await round(n), await round(n), await round(n)];
  console.log(JSON.stringify({ usPerFetch: Math.min(...rounds) }));
}

const CONFIGS = [
  { id: 'bare', preload: [], env: {} },
  { id: 'upstream undici', preload: ['--import', join(ROOT, 'dist/index.js')], env: { OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS: 'undici' } },
  { id: 'ours', preload: ['--import', join(ROOT, 'dist/index.js')], env: {} },
];

function runChild(cfg, url, n, sinkUrl, gc) {
  const counter = gc ? gcCounter() : undefined;
  const args = [...(gc ? ['--trace-gc-nvp'] : []), ...cfg.preload, fileURLToPath(import.meta.url), 'child', url, String(n)];
  const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { PATH: process.env.PATH, OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_SERVICE_NAME: 'undici-bench', ...cfg.env } });
  let out = '';
  p.stdout.on('data', (d) => {
    const s = String(d);
    out += s;
    const warmed = s.indexOf('WARMED\n');
    if (!counter) return;
    if (warmed === -1) return counter.onStdout(s);
    counter.onStdout(s.slice(0, warmed));
    counter.reset();
    counter.onStdout(s.slice(warmed));
  });
  return new Promise((resolve) => p.on('exit', () => {
    const line = out.split('\n').find((l) => l.startsWith('{"usPerFetch"'));
    const c = counter?.counts();
    resolve({ us: line ? JSON.parse(line).usPerFetch : NaN, survivedKb: c && c.scavenges ? (c.survived + c.promoted) / c.scavenges / 1024 : undefined, scavenges: c?.scavenges });
  }));
}

async function driver() {
  const { values: o } = parseArgs({ options: { reps: { type: 'string', default: '5' }, requests: { type: 'string', default: '5000' }, gc: { type: 'boolean' } } });
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"plan":"pro","amount":42}'));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/prices/7`;
  const sink = await startSink();
  const results = new Map(CONFIGS.map((c) => [c.id, []]));
  for (let rep = 0; rep < Number(o.reps); rep++) {
    const order = rep % 2 ? [...CONFIGS].reverse() : CONFIGS;
    for (const cfg of order) {
      const r = await runChild(cfg, url, Number(o.requests), sink.url, false);
      if (o.gc) Object.assign(r, await runChild(cfg, url, Number(o.requests), sink.url, true).then((g) => ({ survivedKb: g.survivedKb, scavenges: g.scavenges })));
      results.get(cfg.id).push(r);
      console.error(`rep ${rep} ${cfg.id}: ${r.us.toFixed(1)} µs CPU per fetch${r.survivedKb !== undefined ? `, ${r.survivedKb.toFixed(1)} KB survived per scavenge (${r.scavenges} scavenges)` : ''}`);
      sink.take();
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`| configuration | µs CPU per fetch (median of ${o.reps}, min–max) |${o.gc ? ' KB survived per scavenge (median) |' : ''}\n|---|---:|${o.gc ? '---:|' : ''}`);
  for (const [id, rs] of results) {
    const us = rs.map((r) => r.us);
    const gcCol = o.gc ? ` ${median(rs.map((r) => r.survivedKb)).toFixed(1)} |` : '';
    console.log(`| ${id} | ${median(us).toFixed(1)} (${Math.min(...us).toFixed(1)}–${Math.max(...us).toFixed(1)}) |${gcCol}`);
  }
  server.close();
  sink.close?.();
}

if (process.argv[2] === 'child') await child(process.argv[3], Number(process.argv[4]));
else await driver();
