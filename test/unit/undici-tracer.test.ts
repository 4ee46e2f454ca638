// src/instrumentation/undici/tracer.ts in process, against the real SDK: the span's parent, the
// headers a server receives, suppressed tracing and sampled-out parents as upstream handles them
// (no span, no traceparent / a traceparent with flags 00; the duration metric either way), and an
// app's own request id header left alone.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '@opentelemetry/api';
import * as core from '@opentelemetry/core';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { traceUndici } from '../../src/instrumentation/undici/tracer.js';
import { RequestIdPropagator, REQUEST_ID_KEY } from '../../src/instrumentation/request-id.js';

class Reader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const spans = new InMemorySpanExporter();
const reader = new Reader();
const received: IncomingHttpHeaders[] = [];
let server: Server;
let url = '';
let tracer: api.Tracer;

beforeAll(async () => {
  const manager = new AsyncLocalStorageContextManager();
  api.context.setGlobalContextManager(manager.enable());
  api.propagation.setGlobalPropagator(new core.CompositePropagator({ propagators: [new core.W3CTraceContextPropagator(), new RequestIdPropagator('x-request-id')] }));
  const tp = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
  const mp = new MeterProvider({ readers: [reader] });
  const store = (manager as unknown as { _asyncLocalStorage: AsyncLocalStorage<api.Context> })._asyncLocalStorage;
  tracer = tp.getTracer('app');
  traceUndici({ api, tracer: tp.getTracer('undici'), meter: mp.getMeter('undici'), store, requestIdHeader: 'x-request-id' });
  server = createServer((req, res) => {
    received.push(req.headers);
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/x`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

async function call(ctx: api.Context, headers?: Record<string, string>): Promise<IncomingHttpHeaders> {
  received.length = 0;
  spans.reset();
  await api.context.with(ctx, async () => (await fetch(url, { headers })).text());
  return received[0]!;
}

async function requestCount(): Promise<number> {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'http.client.request.duration');
  return (metric?.dataPoints ?? []).reduce((n, p) => n + (p.value as { count: number }).count, 0);
}

describe('undici tracer in process', () => {
  it('starts a client span under the active span and sends its traceparent and the request id', async () => {
    const parent = tracer.startSpan('request');
    const h = await call(api.trace.setSpan(api.ROOT_CONTEXT, parent).setValue(REQUEST_ID_KEY, 'rid-1'));
    parent.end();
    const client = spans.getFinishedSpans().find((s) => s.kind === api.SpanKind.CLIENT)!;
    expect(client.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(h.traceparent).toBe(`00-${client.spanContext().traceId}-${client.spanContext().spanId}-01`);
    expect(h['x-request-id']).toBe('rid-1');
    expect(client.attributes).toMatchObject({ 'http.request.method': 'GET', 'url.full': url, 'http.response.status_code': 200, 'network.protocol.version': '1.1' });
  });

  it('records no span and sends no traceparent when tracing is suppressed, and still counts the request', async () => {
    const before = await requestCount();
    const h = await call(core.suppressTracing(api.ROOT_CONTEXT));
    expect(spans.getFinishedSpans()).toEqual([]);
    expect(h.traceparent).toBeUndefined();
    expect(await requestCount()).toBe(before + 1);
  });

  it('propagates a sampled-out parent as not sampled, without recording a span', async () => {
    const parent = api.trace.wrapSpanContext({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: api.TraceFlags.NONE, isRemote: true });
    const h = await call(api.trace.setSpan(api.ROOT_CONTEXT, parent));
    expect(spans.getFinishedSpans()).toEqual([]);
    expect(h.traceparent).toMatch(new RegExp(`^00-${'a'.repeat(32)}-[0-9a-f]{16}-00$`));
  });

  it("leaves the app's own request id header alone", async () => {
    const h = await call(api.ROOT_CONTEXT.setValue(REQUEST_ID_KEY, 'rid-2'), { 'x-request-id': 'app-own' });
    expect(h['x-request-id']).toBe('app-own');
  });
});
