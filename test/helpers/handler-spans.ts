// In-process tracing for the channel-based handler instrumentations' unit tests: the server spans
// from http-server.ts, spans kept in memory, and one request's spans split into server and handlers.
import type { AsyncLocalStorage } from 'node:async_hooks';
import { expect } from 'vitest';
import * as api from '@opentelemetry/api';
import * as core from '@opentelemetry/core';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { traceHttpServer } from '../../src/instrumentation/http-server.js';

export function inMemoryTracing(): { spans: InMemorySpanExporter; tracer: (name: string) => api.Tracer; store: AsyncLocalStorage<api.Context> } {
  const spans = new InMemorySpanExporter();
  const manager = new AsyncLocalStorageContextManager();
  api.context.setGlobalContextManager(manager.enable());
  const tp = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
  const store = (manager as unknown as { _asyncLocalStorage: AsyncLocalStorage<api.Context> })._asyncLocalStorage;
  traceHttpServer({ api, core, tracer: tp.getTracer('http'), meter: api.metrics.getMeter('t'), store });
  return { spans, tracer: (name) => tp.getTracer(name), store };
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
