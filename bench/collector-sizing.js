// Collector sizing for docs/SCALING.md: how many spans per second one core of an agent and of a
// gateway handles. `npm run bench -- --collectors` (or `node bench/collector-sizing.js`).
//
// app (bench/apps/express.js under our preload) -> agent (collector/otel-agent.yaml)
//   -> gateway (collector/otel-config.yaml + otel-gateway.yaml) -> bench/sink.js (the trace and log
//   backend, standing in for Sentry/Loki); span metrics go to the gateway's Prometheus exporter.
// Each Collector's CPU time (otelcol_process_cpu_seconds) and accepted spans
// (otelcol_receiver_accepted_spans) are read from its own metrics before and after a wrk run, so
// the figure is CPU seconds per span, which the other processes on the machine do not distort.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureLoadGen, runLoad } from './load.js';
import { startSink } from './sink.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COLLECTOR = join(ROOT, '.cache/otelcol/otelcol-monitor');
const NODE = join(ROOT, 'node_modules/node/bin/node');
const SECONDS = Number(process.env.SIZING_SECONDS ?? 20);
const children = [];

const freePort = () =>
  new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

async function waitUntil(check, what, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function startCollector(name, configs, env) {
  const [grpc, http, health, zpages, exporter, telemetry] = await Promise.all(Array.from({ length: 6 }, freePort));
  const storage = mkdtempSync(join(tmpdir(), `otel-monitor-sizing-${name}-`));
  const child = spawn(COLLECTOR, configs.flatMap((c) => ['--config', join(ROOT, c)]), {
    env: {
      PATH: process.env.PATH,
      OTELCOL_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
      OTELCOL_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
      OTELCOL_HEALTH_ENDPOINT: `127.0.0.1:${health}`,
      OTELCOL_ZPAGES_ENDPOINT: `127.0.0.1:${zpages}`,
      OTELCOL_PROMETHEUS_ENDPOINT: `127.0.0.1:${exporter}`,
      OTELCOL_TELEMETRY_PORT: String(telemetry),
      OTELCOL_STORAGE_DIR: join(storage, 'storage'),
      OTELCOL_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  await waitUntil(async () => (await fetch(`http://127.0.0.1:${health}/`)).ok, `${name} health`);
  return { name, grpc: `127.0.0.1:${grpc}`, http: `http://127.0.0.1:${http}`, metricsUrl: `http://127.0.0.1:${telemetry}/metrics` };
}

/** Sum of every series of `name` in a Collector's own Prometheus metrics. */
async function selfMetric(c, name) {
  const text = await (await fetch(c.metricsUrl)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

const snapshot = async (c) => ({ cpu: await selfMetric(c, 'otelcol_process_cpu_seconds'), spans: await selfMetric(c, 'otelcol_receiver_accepted_spans') });

async function main() {
  if (!existsSync(COLLECTOR)) throw new Error('no Collector build: run npm run collector:build');
  const sink = await startSink();
  const gateway = await startCollector('gateway', ['collector/otel-config.yaml', 'collector/otel-gateway.yaml'], {
    SENTRY_OTLP_TRACES_ENDPOINT: `${sink.url}/v1/traces`,
    SENTRY_OTLP_LOGS_ENDPOINT: `${sink.url}/v1/logs`,
    OTELCOL_LOGS_EXPORTERS: '[otlp_http/sentry]',
  });
  const agent = await startCollector('agent', ['collector/otel-agent.yaml'], { OTELCOL_GATEWAY_ENDPOINTS: `[${gateway.grpc}]` });
  const port = await freePort();
  const app = spawn('taskset', ['-c', '0', NODE, '--import', '@org/otel-monitor', 'bench/apps/express.js'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), OTEL_SERVICE_NAME: 'sizing', OTEL_EXPORTER_OTLP_ENDPOINT: agent.http, OTEL_MONITOR_RELEASE: 'sizing@1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(app);
  const url = `http://127.0.0.1:${port}/`;
  await waitUntil(async () => (await fetch(url)).ok, 'the app');
  const tool = ensureLoadGen();
  await runLoad(tool, NODE, url, 3, 20);
  await sleep(3000);
  const before = [await snapshot(agent), await snapshot(gateway)];
  const load = await runLoad(tool, NODE, url, SECONDS, 20);
  await sleep(5000); // the app's and the agent's batches reach the gateway
  const after = [await snapshot(agent), await snapshot(gateway)];
  const rows = [agent, gateway].map((c, i) => {
    const spans = after[i].spans - before[i].spans;
    const cpu = after[i].cpu - before[i].cpu;
    return { tier: c.name, spans, cpuSeconds: Number(cpu.toFixed(2)), spansPerCoreSecond: Math.round(spans / cpu) };
  });
  console.log(JSON.stringify({ date: new Date().toISOString(), seconds: SECONDS, appRps: Math.round(load.rps), rows }, null, 2));
  await sink.close?.();
}

/** Runs the sizing and stops everything it started; the exit code says whether it worked. */
export function sizing() {
  return main()
    .catch((err) => {
      console.error(err);
      process.exitCode = 1;
    })
    .finally(stopChildren);
}

async function stopChildren() {
    // The app first, so its last export still finds the agent, then the Collectors.
  for (const c of children.reverse()) {
    c.kill('SIGTERM');
    await new Promise((resolve) => (c.exitCode === null ? c.once('exit', resolve) : resolve()));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await sizing();
