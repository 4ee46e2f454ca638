// Outgoing fetch() and undici requests, traced from the diagnostics channels undici publishes (Node's
// bundled copy behind fetch, and the `undici` npm package, publish the same ones) instead of by
// @opentelemetry/instrumentation-undici, which per request runs its hook wrappers with no hooks set,
// parses a `new URL()`, builds a Map of every request header to read the user agent and injects the
// propagators into a temporary object. This records the same client span and
// `http.client.request.duration` histogram (docs/ARCHITECTURE.md lists the few differences the golden
// test allows), with server attributes cached per origin (origin.ts) and the propagators' headers
// (traceparent, baggage, the request id) added straight onto the request.
// OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS=undici puts the upstream instrumentation back.
import type * as Api from '@opentelemetry/api';
import { Guard } from '../channel-guard.js';
import { adoptOwnAttributes, setOwnAttribute, setOwnAttributes } from '../own-attributes.js';
import { durationStart, secondsSince } from '../lean-span.js';
import { originInfo, requestUrl, type OriginInfo } from './origin.js';
import { addHeader, hasHeader, userAgentOf, type UndiciRequest } from './request-headers.js';
import { KNOWN_HTTP_METHODS as KNOWN_METHODS, HTTP_DURATION_BUCKETS as DURATION_BUCKETS } from '../http-semconv.js';
import { keyedHistogram } from '../lean-metrics.js';
const CLIENT = 2; // SpanKind.CLIENT
const ERROR = 2; // SpanStatusCode.ERROR
const kState = Symbol('otel-monitor.undici');

interface RequestState {
  span: Api.Span;
  started: number;
  method: string;
  origin: OriginInfo;
  status?: number;
  errorType?: string;
  protocol?: string;
}

type TracedRequest = UndiciRequest & { [kState]?: RequestState };

interface ContextStore {
  getStore(): Api.Context | undefined;
}

export interface UndiciTracerOptions {
  api: typeof Api;
  tracer: Api.Tracer;
  meter: Api.Meter;
  /** The AsyncLocalStorage behind the global context manager. */
  store: ContextStore;
  /** The request id header (lower case), not added a second time when the app set it; undefined when off. */
  requestIdHeader?: string;
}

/** Upstream's method normalisation: a known method in upper case, anything else `_OTHER`. */
export function normaliseMethod(original: string): string {
  if (KNOWN_METHODS.has(original)) return original;
  const upper = original.toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : '_OTHER';
}

/** The client span's attributes at its start, in the stable semantic conventions upstream uses. */
function startAttributes(request: UndiciRequest, method: string, origin: OriginInfo, url: { full: string; path: string; query: string }): Api.Attributes {
  const attributes: Api.Attributes = {
    'http.request.method': method,
    'url.full': url.full,
    'url.path': url.path,
    'url.scheme': origin.scheme,
    'server.address': origin.address,
  };
  // Semconv: the original only when it differs; an absent query rather than an empty one.
  if (method !== request.method) attributes['http.request.method_original'] = request.method;
  if (url.query !== '') attributes['url.query'] = url.query;
  if (origin.port !== undefined) attributes['server.port'] = origin.port;
  const userAgent = userAgentOf(request);
  if (userAgent !== undefined) attributes['user_agent.original'] = userAgent;
  return attributes;
}

function isAbort(error: { name?: string; code?: unknown }): boolean {
  return error.name === 'AbortError' || (typeof DOMException !== 'undefined' && error instanceof DOMException && error.code === DOMException.ABORT_ERR);
}

function metricAttributes(state: RequestState): Api.Attributes {
  const attributes: Api.Attributes = {
    'http.request.method': state.method,
    'server.address': state.origin.address,
    'url.scheme': state.origin.scheme,
  };
  if (state.origin.port !== undefined) attributes['server.port'] = state.origin.port;
  if (state.status !== undefined) attributes['http.response.status_code'] = state.status;
  if (state.errorType !== undefined) attributes['error.type'] = state.errorType;
  if (state.protocol !== undefined) attributes['network.protocol.version'] = state.protocol;
  return attributes;
}

const kRequest = Symbol('otel-monitor.undici.carrier');

/**
 * The carrier propagators write into: one object, reused (injection is synchronous), holding the
 * request under a symbol, so each header goes straight onto the request and a propagator that
 * lists the carrier's keys (RequestIdPropagator) finds none instead of the request's thirty.
 */
interface Carrier {
  [kRequest]?: TracedRequest;
}

function headerSetter(requestIdHeader: string | undefined): Api.TextMapSetter<Carrier> {
  return {
    set(carrier, name, value) {
      const request = carrier[kRequest];
      if (!request || (name === requestIdHeader && hasHeader(request, name))) return;
      addHeader(request, name, value);
    },
  };
}

const carrier: Carrier = {};

/** `undici:request:create`: the client span, started in the caller's context, and the propagated headers. */
function startClientSpan(o: UndiciTracerOptions, setter: Api.TextMapSetter<Carrier>, request: TracedRequest): void {
  if (request.method === 'CONNECT') return;
  const origin = originInfo(request.origin);
  const url = origin && requestUrl(origin, request.path);
  if (!origin || !url) return;
  const { api } = o;
  const method = normaliseMethod(request.method);
  const parent = o.store.getStore() ?? api.ROOT_CONTEXT;
  const span = o.tracer.startSpan(method === '_OTHER' ? 'HTTP' : method, { kind: CLIENT }, parent);
  // Attributes after the start (own-attributes.ts); a span sampled out gets none.
  if (span.isRecording()) adoptOwnAttributes(span, startAttributes(request, method, origin, url));
  carrier[kRequest] = request;
  try {
    api.propagation.inject(api.trace.setSpan(parent, span), carrier, setter);
  } finally {
    carrier[kRequest] = undefined;
  }
  request[kState] = { span, started: durationStart(span), method, origin };
}

interface Socket {
  remoteAddress?: string;
  remotePort?: number;
  alpnProtocol?: string | false;
}

function onSendHeaders({ request, socket }: { request: TracedRequest; socket: Socket }): void {
  const state = request[kState];
  if (!state) return;
  state.protocol = socket.alpnProtocol === 'h2' ? '2' : '1.1';
  const attributes: Api.Attributes = { 'network.protocol.version': state.protocol };
  if (socket.remoteAddress !== undefined) attributes['network.peer.address'] = socket.remoteAddress;
  if (socket.remotePort !== undefined) attributes['network.peer.port'] = socket.remotePort;
  setOwnAttributes(state.span, attributes);
}

function onResponseHeaders({ request, response }: { request: TracedRequest; response: { statusCode: number } }): void {
  const state = request[kState];
  if (!state) return;
  const status = response.statusCode;
  state.status = status;
  setOwnAttribute(state.span, 'http.response.status_code', status);
  if (status >= 400) {
    state.errorType = String(status);
    setOwnAttribute(state.span, 'error.type', state.errorType);
    state.span.setStatus({ code: ERROR });
  }
}

/** An aborted request ends without an error, as upstream's does. */
function recordError(state: RequestState, error: Error & { code?: string }): void {
  if (isAbort(error)) return;
  state.errorType = error.code || error.name || 'Error';
  setOwnAttribute(state.span, 'error.type', state.errorType);
  state.span.recordException(error);
  state.span.setStatus({ code: ERROR, message: error.message });
}

export function traceUndici(o: UndiciTracerOptions): void {
  const duration = keyedHistogram(o.meter, 'http.client.request.duration', {
    description: 'Measures the duration of outbound HTTP requests.',
    unit: 's',
    valueType: o.api.ValueType.DOUBLE,
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  const setter = headerSetter(o.requestIdHeader);
  const finish = (request: TracedRequest, state: RequestState) => {
    request[kState] = undefined;
    state.span.end();
    const seconds = secondsSince(state.span, state.started);
    // The series is named by its attribute values (the origin's prefix stands for scheme, address and port).
    const { method, origin, status, protocol, errorType } = state;
    (duration.get(method, origin.prefix, status, protocol, errorType) ?? duration.bind(metricAttributes(state), method, origin.prefix, status, protocol, errorType)).record(seconds);
  };

  const guard = new Guard('undici');
  guard.subscribe('undici:request:create', 'request.create', ({ request }: { request: TracedRequest }) => startClientSpan(o, setter, request));
  guard.subscribe('undici:client:sendHeaders', 'client.sendHeaders', onSendHeaders);
  guard.subscribe('undici:request:headers', 'request.headers', onResponseHeaders);
  guard.subscribe('undici:request:trailers', 'request.trailers', ({ request }: { request: TracedRequest }) => {
    const state = request[kState];
    if (state) finish(request, state);
  });
  guard.subscribe('undici:request:error', 'request.error', ({ request, error }: { request: TracedRequest; error: Error & { code?: string } }) => {
    const state = request[kState];
    if (!state) return;
    recordError(state, error);
    finish(request, state);
  });
}
