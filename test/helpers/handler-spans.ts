// In-process tracing for the channel-based handler instrumentations' unit tests: the server spans
// from http-server.ts, spans kept in memory, and one request's spans split into server and handlers.
import type { AsyncLocalStorage } from 'node:async_hooks';
import { expect } from 'vitest';
import * as api from '@opentelemetry/api';
import * as core from '@opentelemetry/core';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { traceHttpServer } from '../../src/instrumentation/http-server.js';
import { leanTracer } from '../../src/instrumentation/lean-tracer.js';
import { LeanSpan } from '../../src/instrumentation/lean-span.js';
import type { RequestIds } from '../../src/instrumentation/request-id.js';

export type SpanKindUnderTest = 'sdk' | 'lean';

/**
 * The SDK's span or our lean span, switchable between requests: one subscriber set per process (the
 * channels are global), so both kinds run through the same tracers, provider and processor.
 */
export function inMemoryTracing(options: { requestIds?: RequestIds } = {}): {
  spans: InMemorySpanExporter;
  tracer: (name: string) => api.Tracer;
  store: AsyncLocalStorage<api.Context>;
  use(kind: SpanKindUnderTest): void;
  /** The provider itself: the SDK's tracers, as user code gets them. */
  provider: TracerProvider;
} {
  const spans = new InMemorySpanExporter();
  const manager = new AsyncLocalStorageContextManager();
  api.context.setGlobalContextManager(manager.enable());
  // traceparent in, as the distribution sets it up: a request can join an upstream trace.
  api.propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
  const tp = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
  const store = (manager as unknown as { _asyncLocalStorage: AsyncLocalStorage<api.Context> })._asyncLocalStorage;
  let kind: SpanKindUnderTest = 'sdk';
  const tracer = (name: string): api.Tracer => {
    const sdk = tp.getTracer(name);
    const lean = leanTracer(sdk, api, core)!;
    const pick = () => (kind === 'lean' ? lean : sdk);
    return {
      startSpan: (n, o, c) => pick().startSpan(n, o, c),
      startActiveSpan: ((...a: unknown[]) => (pick().startActiveSpan as (...x: unknown[]) => unknown)(...a)) as api.Tracer['startActiveSpan'],
    };
  };
  traceHttpServer({ api, core, tracer: tracer('http'), meter: api.metrics.getMeter('t'), store, requestIds: options.requestIds });
  return { spans, tracer, store, use: (k) => (kind = k), provider: tp };
}

/** What must be equal between an SDK span and a lean span for the same request. */
export function goldenView(span: ReadableSpan, parentName: Map<string, string>) {
  // Ports and addresses of the test's client differ per connection, and a stack trace's line numbers per call site.
  const volatile = new Set(['network.peer.port', 'exception.stacktrace']);
  // A fresh UUID request id (a request that joined a trace) is random per request: its form is compared.
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const clean = (a: api.Attributes | undefined) =>
    Object.fromEntries(
      Object.entries(a ?? {})
        .filter(([k]) => !volatile.has(k))
        .map(([k, v]) => [k, k === 'otel_monitor.request.id' && typeof v === 'string' && uuid.test(v) ? '<uuid>' : v]),
    );
  return {
    name: span.name,
    kind: span.kind,
    scope: span.instrumentationScope,
    parent: span.parentSpanContext ? (parentName.get(span.parentSpanContext.spanId) ?? 'remote') : undefined,
    status: span.status,
    attributes: clean(span.attributes),
    events: span.events.map((e) => ({ name: e.name, attributes: clean(e.attributes) })),
    links: span.links,
    dropped: [span.droppedAttributesCount, span.droppedEventsCount, span.droppedLinksCount],
    ended: span.ended,
    sampled: span.spanContext().traceFlags,
    resource: span.resource.attributes,
    durationNonNegative: span.duration[0] >= 0 && span.duration[1] >= 0,
  };
}

/** One request under each span kind, the spans of each as golden views (in end order). */
export async function compareKinds(t: ReturnType<typeof inMemoryTracing>, url: string, headers: Record<string, string> = {}) {
  const views: Record<SpanKindUnderTest, unknown[]> = { sdk: [], lean: [] };
  for (const kind of ['sdk', 'lean'] as const) {
    t.use(kind);
    t.spans.reset();
    await (await fetch(url, { headers })).text();
    for (let i = 0; i < 20 && !t.spans.getFinishedSpans().some((s) => s.instrumentationScope.name === 'http'); i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 20)); // handler spans that end on the response's close
    const all = t.spans.getFinishedSpans();
    const names = new Map(all.map((s) => [s.spanContext().spanId, s.name]));
    views[kind] = all.map((s) => goldenView(s, names)).sort((a, b) => a.name.localeCompare(b.name));
    // Our tracers' spans are lean ones in the lean run; a span user code starts is the SDK's in both.
    const ours = all.filter((s) => ['http', 'express', 'fastify'].includes(s.instrumentationScope.name));
    if (ours.length > 0) expect(ours.every((s) => s instanceof LeanSpan)).toBe(kind === 'lean');
  }
  t.use('sdk');
  return views;
}

/** GETs `base + path` and returns the response with the request's server span and handler spans. */
export async function requestSpans(spans: InMemorySpanExporter, url: string, handlerScope: string) {
  spans.reset();
  const res = await fetch(url);
  const body = await res.text();
  for (let i = 0; i < 50 && spans.getFinishedSpans().filter((s) => s.instrumentationScope.name === 'http').length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const all = spans.getFinishedSpans();
  return {
    status: res.status,
    body,
    server: all.find((s) => s.instrumentationScope.name === 'http')!,
    handlers: all.filter((s) => s.instrumentationScope.name === handlerScope),
  };
}

/**
 * The contract both channel instrumentations keep: the route template on the server span, one
 * handler span under it named for the route, and that span current inside the handler (which
 * answers with `{ active: <span id> }`).
 */
export function expectRouteAndCurrentHandler(r: Awaited<ReturnType<typeof requestSpans>>, route: string, attributes: Record<string, string>): void {
  expect(r.status).toBe(200);
  expect(r.server.attributes['http.route']).toBe(route);
  expect(r.server.name).toBe(`GET ${route}`);
  expect(r.handlers).toHaveLength(1);
  const h = r.handlers[0]!;
  expect(h.name).toBe(`request handler - ${route}`);
  expect(h.attributes).toMatchObject({ 'http.route': route, ...attributes });
  expect(h.parentSpanContext?.spanId).toBe(r.server.spanContext().spanId);
  expect((JSON.parse(r.body) as { active?: string }).active).toBe(h.spanContext().spanId);
}
