// Incoming HTTP requests, traced from Node's own diagnostics channels instead of by wrapping
// Server.prototype.emit and binding every request/response emitter to a context, which is where
// most of @opentelemetry/instrumentation-http's per-request cost goes (measured: that
// instrumentation alone halves an Express app's throughput even with sampling off).
// It records the same stable-semconv span and `http.server.request.duration` metric, and leaves
// outgoing requests to instrumentation-http. OTEL_MONITOR_FAST_HTTP_SERVER=false switches back.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type * as Api from '@opentelemetry/api';
import type * as Core from '@opentelemetry/core';
import { setOwnAttribute, setOwnAttributes } from './own-attributes.js';
import { Guard } from './channel-guard.js';
import { isUntracedServer } from './untraced-servers.js';
import type { RequestIds } from './request-id.js';
import { lighten, RequestContext } from './request-context.js';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const SERVER = 1; // SpanKind.SERVER
const ERROR = 2; // SpanStatusCode.ERROR
const kRequest = Symbol('otel-monitor.request');

interface RequestState {
  span: Api.Span;
  rpc: { type: Core.RPCType; route?: string; span: Api.Span };
  started: number;
  method: string;
  scheme: string;
  protocol: string;
}

interface ContextStore {
  enterWith(ctx: Api.Context): void;
  getStore(): Api.Context | undefined;
}

export interface HttpServerTracerOptions {
  api: typeof Api;
  core: typeof Core;
  tracer: Api.Tracer;
  meter: Api.Meter;
  /** The AsyncLocalStorage behind the global context manager. */
  store: ContextStore;
  /** false: the client's IP is not recorded (OTEL_MONITOR_COLLECT_CLIENT_ADDRESS). */
  collectClientAddress?: boolean;
  /** Request ids (request-id.ts); undefined with OTEL_MONITOR_REQUEST_ID=off. */
  requestIds?: RequestIds;
}

/** `example.com:8080` → `example.com`, `[::1]:8080` → `::1`. */
export function hostName(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 0 ? host.slice(1, end) : host;
  }
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

export function traceHttpServer(o: HttpServerTracerOptions): void {
  const { api, core, tracer, store } = o;
  const duration = o.meter.createHistogram('http.server.request.duration', {
    description: 'Duration of HTTP server requests.',
    unit: 's',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });

  const guard = new Guard('http-server');
  const guardedClose = guard.wrap('response.close', onClose);
  guard.subscribe('http.server.request.start', 'request.start', (message) => {
    const { request, response, socket, server } = message as { request: IncomingMessage; response: ServerResponse; socket: Socket; server: unknown };
    if (isUntracedServer(server)) return;
    const rawMethod = request.method ?? 'GET';
    const method = KNOWN_METHODS.has(rawMethod) ? rawMethod : '_OTHER';
    const url = request.url ?? '/';
    const q = url.indexOf('?');
    const scheme = (socket as Socket & { encrypted?: boolean }).encrypted ? 'https' : 'http';
    const headers = request.headers;
    const attributes: Api.Attributes = {
      'http.request.method': method,
      'url.scheme': scheme,
      'url.path': q === -1 ? url : url.slice(0, q),
      'network.protocol.version': request.httpVersion,
    };
    // Only defined values: the SDK warns about every undefined attribute it is handed.
    const host = headers.host;
    if (host) attributes['server.address'] = hostName(host);
    if (socket.localPort !== undefined) attributes['server.port'] = socket.localPort;
    if (socket.remoteAddress !== undefined && o.collectClientAddress !== false) {
      attributes['client.address'] = socket.remoteAddress;
      attributes['network.peer.address'] = socket.remoteAddress;
    }
    if (socket.remotePort !== undefined) attributes['network.peer.port'] = socket.remotePort;
    const userAgent = headers['user-agent'];
    if (userAgent !== undefined) attributes['user_agent.original'] = userAgent;
    // Secret parameters are blanked by the redaction processor before any exporter sees the span.
    if (q !== -1) attributes['url.query'] = url.slice(q + 1);
    if (method !== rawMethod) attributes['http.request.method_original'] = rawMethod;

    const parent = api.propagation.extract(api.ROOT_CONTEXT, headers);
    // Attributes go in after the start (own-attributes.ts): given to startSpan, the SDK validates
    // and copies each of them twice; none of the samplers we configure reads them.
    const span = tracer.startSpan(method, { kind: SERVER }, parent);
    setOwnAttributes(span, attributes);
    const rpc = { type: core.RPCType.HTTP, span };
    // The channel fires synchronously just before the server emits 'request', so entering the
    // context here makes it the active one for the app's handlers and everything they start.
    const id = o.requestIds?.assign(span, request, response, api.trace.getSpanContext(parent) !== undefined);
    store.enterWith(new RequestContext(parent, span, rpc, id));
    (response as ServerResponse & { [kRequest]?: RequestState })[kRequest] = {
      span,
      rpc,
      started: performance.now(),
      method,
      scheme,
      protocol: request.httpVersion,
    };
    response.once('close', guardedClose);
  });

  // Node creates the socket's keep-alive timer right after this channel fires, inside its own
  // 'finish' listener, and the timer captures the async context frame current then, holding it until
  // the connection's next request. That frame is the request's context with its spans: left alone,
  // one set per connection survives every scavenge, which on the bench grew V8's young generation
  // from 8 to 67 MB. So the timer gets the root context, unless the app listens for 'finish' too
  // (request loggers run after Node's listener): then it gets a context that keeps the trace
  // identity and baggage for their log correlation, but not the span objects or the RPC metadata.
  const wrapSpanContext = (span: Api.Span) => api.trace.wrapSpanContext(span.spanContext());
  guard.subscribe('http.server.response.finish', 'response.finish', (message) => {
    const ctx = store.getStore();
    if (!ctx || ctx === api.ROOT_CONTEXT) return;
    if ((message as { response: ServerResponse }).response.listenerCount('finish') <= 1) {
      store.enterWith(api.ROOT_CONTEXT);
      return;
    }
    const light = lighten(ctx, wrapSpanContext);
    if (light) return store.enterWith(light);
    const span = api.trace.getSpan(ctx);
    const rest = core.deleteRPCMetadata(ctx);
    store.enterWith(span ? api.trace.setSpanContext(rest, span.spanContext()) : rest);
  });

  function onClose(this: ServerResponse & { [kRequest]?: RequestState }): void {
    const state = this[kRequest];
    if (!state) return;
    this[kRequest] = undefined;
    const { span, rpc, method } = state;
    const status = this.statusCode;
    const finished = this.writableFinished;
    const errorType = !finished ? 'aborted' : status >= 500 ? String(status) : undefined;
    const metricAttributes: Api.Attributes = {
      'http.request.method': method,
      'url.scheme': state.scheme,
      'network.protocol.version': state.protocol,
      'http.response.status_code': status,
    };
    setOwnAttribute(span, 'http.response.status_code', status);
    if (rpc.route !== undefined) {
      setOwnAttribute(span, 'http.route', rpc.route);
      span.updateName(`${method} ${rpc.route}`);
      metricAttributes['http.route'] = rpc.route;
    }
    if (errorType !== undefined) {
      setOwnAttribute(span, 'error.type', errorType);
      span.setStatus({ code: ERROR });
      metricAttributes['error.type'] = errorType;
    }
    span.end();
    duration.record((performance.now() - state.started) / 1000, metricAttributes);
  }
}
