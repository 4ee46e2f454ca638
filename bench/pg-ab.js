// The pg tracer alone, A/B: a client process runs `pool.query` inside a request span, 20 at a time
// on a pool of 5 (so callers wait for clients, as a busy service's do), under our preload with
// upstream's instrumentation-pg (OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS=pg), with ours, and bare.
// Sides are interleaved, every process pinned to CPU 0 and PostgreSQL and the sink to CPU 1; it
// prints CPU µs per query and KB survived per scavenge (--trace-gc-nvp) over the measured window.
//   node bench/pg-ab.js [--reps 5] [--queries 20000] [--rate 1000]
// --rate: queries started per second at a fixed pace instead of 20 callers in a closed loop, so
// both sides keep the same number of spans in flight and in the export queue (survivors compare).
// Child mode (spawned by the parent): node bench/pg-ab.js --child N
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: o } = parseArgs({ options: { reps: { type: 'string', default: '5' }, queries: { type: 'string', default: '20000' }, child: { type: 'string' }, rate: { type: 'string' } } });

async function child(n) {
  const { trace } = await import('@opentelemetry/api');
  const { default: pg } = await import('pg');
  const tracer = trace.getTracer('bench');
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 5 });
  const one = (i) => tracer.startActiveSpan('request', async (span) => {
    await pool.query('SELECT $1::int AS id', [i]);
    span.end();
  });
  const paced = async (count, rate) => {
    const all = [];
    for (let i = 0; i < count; i += rate / 100) {
      for (let j = 0; j < rate / 100; j++) all.push(one(i + j));
      await new Promise((ok) => setTimeout(ok, 10));
    }
    await Promise.all(all);
  };
  const closed = async (count) => {
    let next = 0;
    await Promise.all(Array.from({ length: 20 }, async () => {
      while (next < count) await one(next++);
    }));
  };
  const rate = Number(process.env.PG_AB_RATE ?? 0);
  const run = (count) => (rate ? paced(count, rate) : closed(count));
  await run(2000); // warm-up
  console.log('MEASURE-START');
  const cpu = process.cpuUsage();
  await run(n);
  const used = process.cpuUsage(cpu);
  console.log('MEASURE-END');
  console.log(JSON.stringify({ cpuUsPerQuery: (used.user + used.system) / n }));
  await pool.end();
}

async function once(side, dbUrl, sinkUrl, gcCounter) {
  const NODE_BIN = join(ROOT, 'node_modules/.bin/node');
  const node = existsSync(NODE_BIN) ? realpathSync(NODE_BIN) : process.execPath;
  const preload = side === 'bare' ? [] : ['--import', '@org/otel-monitor'];
  const env = { PATH: process.env.PATH, DATABASE_URL: dbUrl, OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_SERVICE_NAME: 'pg-ab', OTEL_LOG_LEVEL: 'warn' };
  if (side === 'upstream') env.OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS = 'pg';
  if (o.rate) env.PG_AB_RATE = o.rate;
  const gc = gcCounter();
  const p = spawn('taskset', ['-c', '0', node, '--trace-gc-nvp', ...preload, join(ROOT, 'bench/pg-ab.js'), '--child', o.queries], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let measuring = false;
  let result;
  let rest = '';
  p.stdout.on('data', (d) => {
    const lines = (rest + d).split('\n');
    rest = lines.pop();
    for (const line of lines) {
      if (line === 'MEASURE-START') {
        measuring = true;
        gc.reset();
      } else if (line === 'MEASURE-END') measuring = false;
      else if (line.startsWith('{')) result = JSON.parse(line);
      else if (measuring) gc.onStdout(`${line}\n`);
    }
  });
  await new Promise((ok) => p.on('exit', ok));
  const c = gc.counts();
  return { ...result, survivedKb: c.scavenges ? (c.survived + c.promoted) / c.scavenges / 1024 : NaN, scavenges: c.scavenges, allocatedKbPerQuery: c.allocated / Number(o.queries) / 1024, youngMb: c.capacity / 2 ** 20 };
}

async function parent() {
  const { startPostgres } = await import('./backends.js');
  const { startSink } = await import('./sink.js');
  const { gcCounter } = await import('./gc-counter.js');
  spawnSync('taskset', ['-a', '-cp', '1', String(process.pid)]);
  const db = await startPostgres(20_000 + Math.floor(Math.random() * 20_000));
  const sink = await startSink();
  const sides = ['upstream', 'ours', 'bare'];
  const res = Object.fromEntries(sides.map((s) => [s, []]));
  try {
    for (let rep = 0; rep < Number(o.reps); rep++) {
      const order = rep % 2 ? [...sides].reverse() : sides;
      for (const side of order) {
        const r = await once(side, db.url, sink.url, gcCounter);
        res[side].push(r);
        console.error(`${side} rep ${rep}: ${r.cpuUsPerQuery?.toFixed(1)} µs CPU/query, ${r.survivedKb.toFixed(1)} KB survived/scavenge (${r.scavenges} scavenges, young generation ${r.youngMb.toFixed(0)} MB), ${r.allocatedKbPerQuery.toFixed(2)} KB allocated/query`);
      }
    }
  } finally {
    sink.close?.();
    await db.stop();
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const side of sides) {
    console.log(`${side}: median ${median(res[side].map((r) => r.cpuUsPerQuery)).toFixed(1)} µs CPU/query, ${median(res[side].map((r) => r.survivedKb)).toFixed(1)} KB survived/scavenge, ${median(res[side].map((r) => r.allocatedKbPerQuery)).toFixed(2)} KB allocated/query (${res[side].length} runs x ${o.queries} queries)`);
  }
  process.exit(0);
}

if (o.child) await child(Number(o.child));
else await parent();
