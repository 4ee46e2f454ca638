// Servers the distribution runs itself (the health endpoint) are not the app's traffic: no server
// spans, no request metrics, no request ids. A mark on the server object, checked by the HTTP server
// tracing (http-server.ts, and instrumentation-http's ignoreIncomingRequestHook when it traces).
import type { IncomingMessage, Server } from 'node:http';

const UNTRACED = Symbol.for('@org/otel-monitor.untraced-server');

export function markUntraced(server: Server): void {
  (server as Server & { [UNTRACED]?: true })[UNTRACED] = true;
}

export function isUntracedServer(server: unknown): boolean {
  return (server as { [UNTRACED]?: true } | undefined)?.[UNTRACED] === true;
}

/** For instrumentation-http: the request's socket knows its server. */
export function isUntracedRequest(request: IncomingMessage): boolean {
  return isUntracedServer((request.socket as { server?: unknown } | undefined)?.server);
}
