// OTLP/HTTP exporters for the three signals, protobuf by default and JSON on request. Exports run
// off the request path (batch processors), and a small concurrency limit keeps memory bounded when
// the Collector is down: an export that can't start is dropped and counted, never queued forever.
// Each exporter's code is loaded at its first export, not at start-up: the OTLP transformer and
// HTTP transport are a large part of what a preload would otherwise load before the app runs.
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { ExportResult } from '@opentelemetry/core';
import type { SignalConfig } from '../config.js';
import { requireCjs } from '../require.js';
import { log, describe } from '../log.js';
import { countDropped, exitAwareAgent, type Signal } from './exit-mode.js';
import { useExitAwareRetries } from './retrying-transport.js';
import { exportErrorType, exportStarted, type PipelineSignal } from './pipeline-counters.js';

const CONCURRENCY_LIMIT = 4;
const FAILED = 1; // ExportResultCode.FAILED

interface AnyExporter {
  export(items: never, done: (r: ExportResult) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

const SIGNALS: Record<string, Signal> = { trace: 'spans', metrics: 'metric points', logs: 'log records' };
const PIPELINE: Record<string, PipelineSignal> = { trace: 'span', metrics: 'metric_data_point', logs: 'log' };

/** How many spans, metric points or log records an export carries (an encoded batch says it). */
export function itemCount(items: unknown): number {
  if (Array.isArray(items)) return items.length;
  const o = items as { items?: number; scopeMetrics?: Array<{ metrics?: Array<{ dataPoints?: unknown[] }> }> };
  if (typeof o?.items === 'number') return o.items;
  let points = 0;
  for (const sm of o?.scopeMetrics ?? []) for (const m of sm.metrics ?? []) points += m.dataPoints?.length ?? 0;
  return points;
}

/** Builds the real exporter on first use; until then flush and shutdown have nothing to do. */
export class LazyExporter {
  private real?: AnyExporter;
  constructor(
    private readonly what: string,
    private readonly make: () => AnyExporter,
  ) {}
  export(items: unknown, done: (r: ExportResult) => void): void {
    const n = itemCount(items);
    const finished = exportStarted(PIPELINE[this.what] ?? 'span', n);
    let called = false;
    const counted = (r: ExportResult) => {
      if (called) return;
      called = true;
      finished(r.code === FAILED ? exportErrorType(r.error) : undefined);
      if (r.code === FAILED) countDropped(SIGNALS[this.what] ?? 'spans', n, r.error?.message.slice(0, 120));
      done(r);
    };
    try {
      this.real ??= this.make();
      this.real.export(items as never, counted);
    } catch (err) {
      log.once('error', `exporter:${this.what}`, `the ${this.what} exporter could not be created or failed: ${describe(err)}`);
      counted({ code: FAILED, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }
  forceFlush(): Promise<void> {
    return this.real?.forceFlush?.() ?? Promise.resolve();
  }
  shutdown(): Promise<void> {
    return this.real?.shutdown() ?? Promise.resolve();
  }
}

function options(s: SignalConfig): object {
  return {
    url: s.endpoint,
    headers: s.headers,
    timeoutMillis: s.timeoutMs,
    compression: s.compression,
    concurrencyLimit: CONCURRENCY_LIMIT,
    httpAgentOptions: exitAwareAgent,
  };
}

function lazy(kind: 'trace' | 'metrics' | 'logs', s: SignalConfig, exportName: string, consolePkg: string, consoleName: string) {
  return new LazyExporter(kind, () => {
    if (s.exporter === 'console') {
      return new (requireCjs(consolePkg) as Record<string, new () => AnyExporter>)[consoleName]!();
    }
    const flavour = s.protocol === 'http/json' ? 'http' : 'proto';
    const Ctor = (requireCjs(`@opentelemetry/exporter-${kind}-otlp-${flavour}`) as Record<string, new (o: object) => AnyExporter>)[exportName]!;
    return useExitAwareRetries(new Ctor(options(s)));
  });
}

export function createSpanExporter(s: SignalConfig): SpanExporter {
  return lazy('trace', s, 'OTLPTraceExporter', '@opentelemetry/sdk-trace', 'ConsoleSpanExporter') as unknown as SpanExporter;
}

/** Cumulative temporality (the reader's default, as the lazy wrapper selects none) is what Prometheus expects. */
export function createMetricExporter(s: SignalConfig): PushMetricExporter {
  return lazy('metrics', s, 'OTLPMetricExporter', '@opentelemetry/sdk-metrics', 'ConsoleMetricExporter') as unknown as PushMetricExporter;
}

export function createLogExporter(s: SignalConfig): LogRecordExporter {
  return lazy('logs', s, 'OTLPLogExporter', '@opentelemetry/sdk-logs', 'ConsoleLogRecordExporter') as unknown as LogRecordExporter;
}
