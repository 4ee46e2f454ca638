// The opt-in health endpoint (OTEL_MONITOR_HEALTH_PORT), on its own port, loopback by default,
// following the Kubernetes probe conventions:
//   /healthz (alias /livez)  liveness: the process answers; no dependency is consulted, so a
//                            database outage never gets the pod restarted.
//   /readyz                  readiness: 503 while a critical check is unhealthy (or has not run
//                            yet), 200 otherwise; non-critical checks are shown but never decide.
// Both answer JSON with every check's status and last error (already redacted by the monitor).
// node:http is taken with process.getBuiltinModule, not imported: an ESM import builds the module's
// ESM facade, which reads every export, and node:http's WebSocket, CloseEvent and MessageEvent
// getters then load Node's bundled undici (2.2 MB of heap) into apps that never use fetch.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { log, describe } from '../log.js';
import { markUntraced } from '../instrumentation/untraced-servers.js';
import type { HealthMonitor } from './monitor.js';

export function startHealthEndpoint(monitor: HealthMonitor, port: number, host: string): Server {
  const server = process.getBuiltinModule('node:http').createServer((req, res) => {
    try {
      answer(monitor, req, res);
    } catch (err) {
      log.once('warn', 'health-endpoint', `health endpoint failed to answer: ${describe(err)}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  markUntraced(server);
  server.on('error', (err) => log.warn(`health endpoint cannot listen on ${host}:${port}: ${describe(err)}`));
  server.listen(port, host);
  // Never what keeps the process alive.
  server.unref();
  return server;
}

function answer(monitor: HealthMonitor, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' }, req.method);
  const checks = monitor.snapshot();
  if (path === '/healthz' || path === '/livez') {
    return send(res, 200, { status: 'ok', checks }, req.method);
  }
  if (path === '/readyz') {
    const status = monitor.readiness();
    const ready = status === 'healthy' || status === 'degraded';
    return send(res, ready ? 200 : 503, { status, checks }, req.method);
  }
  send(res, 404, { error: 'not found', paths: ['/healthz', '/livez', '/readyz'] }, req.method);
}

function send(res: ServerResponse, status: number, body: unknown, method: string | undefined): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(method === 'HEAD' ? undefined : text);
}
