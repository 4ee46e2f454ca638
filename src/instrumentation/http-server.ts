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
import { adoptOwnAttributes, setOwnAttribute } from './own-attributes.js';
import { Guard } from './channel-guard.js';
import { isUntracedServer } from './untraced-servers.js';
import type { RequestIds } from './request-id.js';
import { RequestContext } from './request-context.js';
import { installKeepAliveFrame, markKeepAlive } from './keep-alive-frame.js';
import { KNOWN_HTTP_METHODS as KNOWN_METHODS, HTTP_DURATION_BUCKETS as DURATION_BUCKETS } from './http-semconv.js';
import { keyedHistogram } from './lean-metrics.js';
import { durationStart, secondsSince } from './lean-span.js';
import type { KeyedHistogram } from './lean-histogram.js';

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
  const duration = keyedHistogram(o.meter, 'http.server.request.duration', {
    description: 'Duration of HTTP server requests.',
    unit: 's',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  const guard = new Guard('http-server');
  const guardedClose = guard.wrap('response.close', function (this: TracedResponse) {
    endServerSpan(this, duration);
  });
  guard.subscribe('http.server.request.start', 'request.start', (message) => {
    const { request, response, socket, server } = message as { request: IncomingMessage; response: TracedResponse; socket: Socket; server: unknown };
    if (isUntracedServer(server)) return;
    startServerSpan(o, request, response, socket);
    // `on`, not `once`: a response closes once and is then garbage, so the listener needs no
    // removal, and `once` would allocate a wrapper per request to remove it.
    response.on('close', guardedClose);
  });
  // The keep-alive timer Node arms after each response is created in a frame without the request
  // (keep-alive-frame.ts), so the request's context, span objects included, is not kept until the
  // connection's next request. The app's own 'finish' and 'close' listeners keep the request's context.
  installKeepAliveFrame();
  guard.subscribe('http.server.response.finish', 'response.finish', (message) => {
    const { response, socket } = message as { response: TracedResponse; socket: Socket };
    if (response[kRequest]) markKeepAlive(socket);
  });
}

type TracedResponse = ServerResponse & { [kRequest]?: RequestState };

/** The request's stable-semconv attributes, only defined values: the SDK warns about every undefined one. */
function requestAttributes(o: HttpServerTracerOptions, request: IncomingMessage, socket: Socket, rawMethod: string, method: string, scheme: string): Api.Attributes {
  const url = request.url ?? '/';
  const q = url.indexOf('?');
  const headers = request.headers;
  const attributes: Api.Attributes = {
    'http.request.method': method,
    'url.scheme': scheme,
    'url.path': q === -1 ? url : url.slice(0, q),
    'network.protocol.version': request.httpVersion,
  };
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
  return attributes;
}

/** Starts the server span and makes the request's context the active one. */
function startServerSpan(o: HttpServerTracerOptions, request: IncomingMessage, response: TracedResponse, socket: Socket): void {
  const { api, core, tracer } = o;
  const rawMethod = request.method ?? 'GET';
  const method = KNOWN_METHODS.has(rawMethod) ? rawMethod : '_OTHER';
  const scheme = (socket as Socket & { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const attributes = requestAttributes(o, request, socket, rawMethod, method, scheme);
  const parent = api.propagation.extract(api.ROOT_CONTEXT, request.headers);
  // Attributes go in after the start (own-attributes.ts): given to startSpan, the SDK validates
  // and copies each of them twice; none of the samplers we configure reads them.
  const span = tracer.startSpan(method, { kind: SERVER }, parent);
  adoptOwnAttributes(span, attributes);
  const rpc = { type: core.RPCType.HTTP, span };
  // The channel fires synchronously just before the server emits 'request', so entering the
  // context here makes it the active one for the app's handlers and everything they start.
  const id = o.requestIds?.assign(span, request, response, api.trace.getSpanContext(parent) !== undefined);
  o.store.enterWith(new RequestContext(parent, span, rpc, id));
  // A lean span times itself; the duration metric reads its times (endServerSpan) instead of a clock.
  response[kRequest] = { span, rpc, started: durationStart(span), method, scheme, protocol: request.httpVersion };
}

/** The duration metric's attributes, built once per series (the key below names it). */
function serverMetricAttributes(state: RequestState, status: number, route: string | undefined, errorType: string | undefined): Api.Attributes {
  const attributes: Api.Attributes = {
    'http.request.method': state.method,
    'url.scheme': state.scheme,
    'network.protocol.version': state.protocol,
    'http.response.status_code': status,
  };
  if (route !== undefined) attributes['http.route'] = route;
  if (errorType !== undefined) attributes['error.type'] = errorType;
  return attributes;
}

/** On the response's 'close': the status, route and error go on the span, which ends, and the duration is recorded. */
function endServerSpan(response: TracedResponse, duration: KeyedHistogram): void {
  const state = response[kRequest];
  if (!state) return;
  response[kRequest] = undefined;
  const { span, rpc, method } = state;
  const status = response.statusCode;
  const errorType = !response.writableFinished ? 'aborted' : status >= 500 ? String(status) : undefined;
  const route = rpc.route;
  setOwnAttribute(span, 'http.response.status_code', status);
  if (route !== undefined) {
    setOwnAttribute(span, 'http.route', route);
    span.updateName(`${method} ${route}`);
  }
  if (errorType !== undefined) {
    setOwnAttribute(span, 'error.type', errorType);
    span.setStatus({ code: ERROR });
  }
  span.end();
  const seconds = secondsSince(span, state.started);
  const { scheme, protocol } = state;
  // The series is named by its attribute values (lean-histogram.ts), its attributes built once.
  (duration.get(method, scheme, protocol, status, route, errorType) ?? duration.bind(serverMetricAttributes(state, status, route, errorType), method, scheme, protocol, status, route, errorType)).record(seconds);
}
