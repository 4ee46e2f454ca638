// `npm run demo`: runs the example app under two releases with some traffic and errors, and shows
// what arrived per signal and per release. The telemetry goes to a local OTLP receiver here; with
// Docker, `docker compose up` runs the same app into the full Collector/Prometheus/Loki/Grafana stack.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startOtlpReceiver } from '../test/helpers/otlp-receiver.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const step = (msg) => console.log(`\n==> ${msg}`);

async function runRelease(receiverUrl, release) {
  const app = spawn(process.execPath, ['--import', '@org/otel-monitor', 'examples/app.js'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: {
      ...process.env,
      PORT: '0',
      OTEL_SERVICE_NAME: 'demo-shop',
      OTEL_MONITOR_RELEASE: release,
      OTEL_MONITOR_ENVIRONMENT: 'demo',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
    },
  });
  let stderr = '';
  app.stderr.on('data', (d) => (stderr += d));
  const port = await new Promise((resolve, reject) => {
    app.on('message', (m) => m?.port && resolve(m.port));
    app.on('exit', (code) => reject(new Error(`app exited (${code}):\n${stderr}`)));
  });
  console.log(stderr.split('\n').find((l) => l.includes('started')) ?? '');
  const paths = ['/', '/users/1', '/users/2', '/upstream', '/fail'];
  let errors = 0;
  for (let i = 0; i < 40; i++) {
    const res = await fetch(`http://127.0.0.1:${port}${paths[i % paths.length]}`);
    if (res.status >= 500) errors++;
    await res.arrayBuffer();
  }
  console.log(`    sent 40 requests to release ${release} (${errors} answered 5xx on purpose)`);
  await new Promise((r) => setTimeout(r, 1500));
  app.kill('SIGTERM');
  await new Promise((r) => app.on('exit', r));
}

const receiver = await startOtlpReceiver();
try {
  step(`local OTLP receiver on ${receiver.url}`);
  for (const release of ['demo-shop@1.0.0', 'demo-shop@1.1.0']) {
    step(`running examples/app.js as release ${release}`);
    await runRelease(receiver.url, release);
  }
  step('what arrived, per release');
  const rows = [];
  for (const release of ['demo-shop@1.0.0', 'demo-shop@1.1.0']) {
    const spans = receiver.spans().filter((s) => s.resource['service.version'] === release);
    const server = spans.filter((s) => s.kind === 2);
    const failed = server.filter((s) => s.status.code === 2);
    const logs = receiver.logRecords().filter((l) => l.resource['service.version'] === release);
    const metrics = new Set(receiver.metrics().filter((m) => m.resource['service.version'] === release).map((m) => m.name));
    rows.push({ release, spans: spans.length, 'server spans': server.length, '5xx': failed.length, 'log records': logs.length, 'metric names': metrics.size });
  }
  console.table(rows);
  const routes = {};
  for (const p of receiver.points('http.server.request.duration')) {
    const key = `${p.resource['service.version']} ${p.attributes['http.request.method']} ${p.attributes['http.route'] ?? '(no route)'} ${p.attributes['http.response.status_code']}`;
    routes[key] = Math.max(routes[key] ?? 0, p.count ?? 0);
  }
  step('http.server.request.duration, requests by release and route');
  for (const [k, v] of Object.entries(routes).sort()) console.log(`    ${k.padEnd(50)} ${v}`);
  step('where to look next');
  console.log('    docker compose up            the same app into Collector, Prometheus, Loki and Grafana');
  console.log('    docs/CONFIGURATION.md        every variable; docs/COLLECTOR.md for the pipeline');
} finally {
  await receiver.close();
}
