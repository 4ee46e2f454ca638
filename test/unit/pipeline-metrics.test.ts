// The pipeline's own metrics: the counters behind them add up (produced = exported + dropped +
// queued + in flight, per signal, each drop with its reason), and they come out under the
// semantic conventions' otel.sdk.* names with otel.component.* and error.type attributes.
import * as api from '@opentelemetry/api';
import * as core from '@opentelemetry/core';
import * as logs from '@opentelemetry/sdk-logs';
import * as trace from '@opentelemetry/sdk-trace';
import { AggregationTemporality, MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readConfig } from '../../src/config.js';
import { counters, countDrop, exportErrorType, exportStarted, queues, resetCounters } from '../../src/exporters/pipeline-counters.js';
import { registerPipelineMetrics } from '../../src/exporters/pipeline-metrics.js';
import { logProcessorChain, spanProcessorChain } from '../../src/processors/chain.js';
import { Redactor } from '../../src/processors/redaction.js';
import { EncodingSpanProcessor, lazyEncodedTraceExporter } from '../../src/exporters/encoding-span-processor.js';
import http from 'node:http';

class PullReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

function points(rm: ResourceMetrics): Map<string, Array<{ attributes: api.Attributes; value: unknown }>> {
  const out = new Map<string, Array<{ attributes: api.Attributes; value: unknown }>>();
  for (const sm of rm.scopeMetrics) for (const m of sm.metrics) out.set(m.descriptor.name, m.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value })));
  return out;
}

beforeEach(() => {
  resetCounters();
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => vi.restoreAllMocks());

describe('pipeline metrics', () => {
  it('reports the counters under the otel.sdk.* names, drops and failures with error.type', async () => {
    const { config } = readConfig({});
    const reader = new PullReader({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
    const mp = new MeterProvider({ readers: [reader] });
    registerPipelineMetrics(mp.getMeter('t'), config);
    counters.span.started += 7;
    counters.span.live += 2;
    countDrop('span', 'queue_full', 3);
    exportStarted('span', 4)();
    exportStarted('span', 1)('503');
    exportStarted('log', 2);
    queues.span = { size: () => 5, capacity: 2048 };
    const { resourceMetrics } = await reader.collect();
    const m = points(resourceMetrics);
    const type = { 'otel.component.type': 'otlp_http_span_exporter', 'otel.component.name': 'otlp_http_span_exporter/0' };
    const processor = { 'otel.component.type': 'batching_span_processor', 'otel.component.name': 'batching_span_processor/0' };
    expect(m.get('otel.sdk.span.started')).toEqual([{ attributes: {}, value: 7 }]);
    expect(m.get('otel.sdk.span.live')).toEqual([{ attributes: {}, value: 2 }]);
    expect(m.get('otel.sdk.processor.span.processed')).toEqual([
      { attributes: processor, value: 5 },
      { attributes: { ...processor, 'error.type': 'queue_full' }, value: 3 },
    ]);
    expect(m.get('otel.sdk.processor.span.queue.size')).toEqual([{ attributes: processor, value: 5 }]);
    expect(m.get('otel.sdk.processor.span.queue.capacity')).toEqual([{ attributes: processor, value: 2048 }]);
    expect(m.get('otel.sdk.exporter.span.exported')).toEqual([
      { attributes: type, value: 4 },
      { attributes: { ...type, 'error.type': '503' }, value: 1 },
    ]);
    expect(m.get('otel.sdk.exporter.log.inflight')?.[0]?.value).toBe(2);
    const durations = m.get('otel.sdk.exporter.operation.duration')!;
    expect(durations.map((d) => d.attributes['error.type'])).toEqual([undefined, '503']);
    await mp.shutdown();
  });

  it('classifies export errors with low cardinality', () => {
    expect(exportErrorType({ code: 503, message: 'Service Unavailable' })).toBe('503');
    expect(exportErrorType(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(exportErrorType(new Error('Request timed out'))).toBe('timeout');
    expect(exportErrorType(new Error('connect ECONNRESET'))).toBe('ECONNRESET');
    expect(exportErrorType(new Error('Concurrent export limit reached'))).toBe('concurrency_limit');
    expect(exportErrorType(new Error('Export failed with retryable status'))).toBe('retries_exhausted');
    expect(exportErrorType(new Error('something 12345 else'))).toBe('_OTHER');
  });
});

describe('the accounting identity through the real chains', () => {
  it('spans and log records to a Collector that refuses: produced = exported + dropped, each drop with its reason', async () => {
    const { config } = readConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_EXPORTER_OTLP_TIMEOUT: '300', OTEL_BSP_MAX_QUEUE_SIZE: '20', OTEL_BLRP_MAX_QUEUE_SIZE: '20' });
    const redactor = new Redactor(config.redactKeys);
    const spanChain = spanProcessorChain({ api, core, trace, config, tags: {}, redactor, meter: api.metrics.getMeter('t') });
    const tp = new trace.TracerProvider({ spanProcessors: spanChain });
    const { processors } = logProcessorChain({ logs, config, tags: {}, redactor });
    const lp = new logs.LoggerProvider({ processors });
    for (let i = 0; i < 300; i++) tp.getTracer('t').startSpan(`s${i}`).end();
    const open = tp.getTracer('t').startSpan('still open');
    for (let i = 0; i < 300; i++) lp.getLogger('t').emit({ body: `line ${i}` });
    await Promise.all([tp.forceFlush(), lp.forceFlush()]);
    open.end();
    await Promise.all([tp.shutdown(), lp.shutdown()]);

    const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
    const s = counters.span;
    expect(s.started).toBe(301);
    expect(s.live).toBe(0);
    expect(s.dropped['queue_full']).toBeGreaterThan(0);
    expect(s.inflight).toBe(0);
    expect(s.exported).toBe(0);
    // Every span that reached the exporting processor was either dropped there or failed to export.
    expect(s.processed + sum(s.dropped)).toBe(301);
    expect(s.processed).toBe(sum(s.failed));
    expect(Object.keys(s.failed).every((k) => ['ECONNREFUSED', 'concurrency_limit'].includes(k))).toBe(true);

    const l = counters.log;
    expect(l.created).toBe(300);
    expect(l.dropped['queue_full']).toBeGreaterThan(0);
    expect(l.processed + sum(l.dropped)).toBe(300);
    expect(l.processed).toBe(sum(l.failed));
    expect(l.inflight).toBe(0);
  });
});

describe('redaction failures', () => {
  it('a span or log record whose redaction throws is not exported, and is counted as redaction_failed', async () => {
    const { config } = readConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_EXPORTER_OTLP_TIMEOUT: '300' });
    const redactor = new Redactor(config.redactKeys);
    const tp = new trace.TracerProvider({ spanProcessors: spanProcessorChain({ api, core, trace, config, tags: {}, redactor, meter: api.metrics.getMeter('t') }) });
    const lp = new logs.LoggerProvider({ processors: logProcessorChain({ logs, config, tags: {}, redactor }).processors });
    const span = tp.getTracer('t').startSpan('poisoned');
    Object.defineProperty((span as unknown as { attributes: object }).attributes, 'boom', { enumerable: true, get: () => { throw new Error('getter'); } });
    span.end();
    tp.getTracer('t').startSpan('fine').end();
    const body = Object.defineProperty({}, 'boom', { enumerable: true, get: () => { throw new Error('getter'); } });
    lp.getLogger('t').emit({ body: body as never });
    await Promise.all([tp.shutdown(), lp.shutdown()]);
    expect(counters.span.dropped).toEqual({ redaction_failed: 1 });
    expect(counters.span.processed).toBe(1); // the fine one
    expect(counters.log.dropped).toEqual({ redaction_failed: 1 });
    expect(counters.log.processed).toBe(0);
  });
});

describe('the span exporter at its concurrency', () => {
  it('a slow Collector: every span waits for a free slot and is delivered, none refused by the transport', async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => setTimeout(() => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(), 100));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const { config } = readConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` });
    const p = new EncodingSpanProcessor(api, core.suppressTracing, lazyEncodedTraceExporter(config.traces), { maxQueueSize: 1000, maxExportBatchSize: 1, scheduledDelayMillis: 10 });
    const tp = new trace.TracerProvider({ spanProcessors: [p] });
    for (let i = 0; i < 40; i++) tp.getTracer('t').startSpan(`s${i}`).end();
    await tp.forceFlush();
    await tp.shutdown();
    server.close();
    expect(counters.span.failed).toEqual({});
    expect(counters.span.exported).toBe(40);
  });
});
