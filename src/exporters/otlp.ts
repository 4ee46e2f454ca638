// OTLP/HTTP exporters for the three signals, protobuf by default and JSON on request. Exports run
// off the request path (batch processors), and a small concurrency limit keeps memory bounded when
// the Collector is down: an export that can't start is dropped and counted, never queued forever.
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { SignalConfig } from '../config.js';
import { requireCjs } from '../require.js';

const CONCURRENCY_LIMIT = 4;

type Ctor<T> = new (options: object) => T;

function options(s: SignalConfig): object {
  return {
    url: s.endpoint,
    headers: s.headers,
    timeoutMillis: s.timeoutMs,
    compression: s.compression,
    concurrencyLimit: CONCURRENCY_LIMIT,
  };
}

function exporterClass<T>(kind: 'trace' | 'metrics' | 'logs', s: SignalConfig, exportName: string): Ctor<T> {
  const flavour = s.protocol === 'http/json' ? 'http' : 'proto';
  return (requireCjs(`@opentelemetry/exporter-${kind}-otlp-${flavour}`) as Record<string, Ctor<T>>)[exportName]!;
}

export function createSpanExporter(s: SignalConfig): SpanExporter {
  if (s.exporter === 'console') return new (requireCjs('@opentelemetry/sdk-trace') as { ConsoleSpanExporter: Ctor<SpanExporter> }).ConsoleSpanExporter({});
  return new (exporterClass<SpanExporter>('trace', s, 'OTLPTraceExporter'))(options(s));
}

export function createMetricExporter(s: SignalConfig): PushMetricExporter {
  if (s.exporter === 'console') return new (requireCjs('@opentelemetry/sdk-metrics') as { ConsoleMetricExporter: Ctor<PushMetricExporter> }).ConsoleMetricExporter({});
  // Cumulative temporality is what Prometheus (through the Collector) expects.
  return new (exporterClass<PushMetricExporter>('metrics', s, 'OTLPMetricExporter'))(options(s));
}

export function createLogExporter(s: SignalConfig): LogRecordExporter {
  if (s.exporter === 'console') return new (requireCjs('@opentelemetry/sdk-logs') as { ConsoleLogRecordExporter: Ctor<LogRecordExporter> }).ConsoleLogRecordExporter({});
  return new (exporterClass<LogRecordExporter>('logs', s, 'OTLPLogExporter'))(options(s));
}
