// In-memory OpenTelemetry SDK for the task unit tests: real TracerProvider + MeterProvider, the
// real TaskStatusSpanProcessor, spans captured in memory and metrics collected on demand.
import { context, metrics, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type Sampler } from '@opentelemetry/sdk-trace';
import { TaskStatusSpanProcessor, type SentryCheckIns } from '../../src/processors/task-status.js';

class TestReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

export interface TestOtel {
  spans: InMemorySpanExporter;
  /** Data points of one metric by its OTel name, e.g. 'otel_monitor.task.runs'. */
  points: (name: string) => Promise<Array<DataPoint<number | Histogram>>>;
  unit: (name: string) => Promise<string | undefined>;
  shutdown: () => Promise<void>;
}

export function startTestOtel(opts: { lastSeenRoles?: string[]; sentry?: SentryCheckIns; sampler?: Sampler; maxUsers?: number } = {}): TestOtel {
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spans = new InMemorySpanExporter();
  const processor = new TaskStatusSpanProcessor({
    meter: meterProvider.getMeter('@org/otel-monitor'),
    lastSeenRoles: opts.lastSeenRoles ?? [],
    ...(opts.sentry ? { sentry: opts.sentry } : {}),
    ...(opts.maxUsers ? { maxUsers: opts.maxUsers } : {}),
  });
  const tracerProvider = new TracerProvider({
    spanProcessors: [processor, new SimpleSpanProcessor({ exporter: spans })],
    ...(opts.sampler ? { sampler: opts.sampler } : {}),
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);

  async function find(name: string) {
    const { resourceMetrics } = await reader.collect();
    for (const sm of resourceMetrics.scopeMetrics) {
      for (const m of sm.metrics) if (m.descriptor.name === name) return m;
    }
    return undefined;
  }
  return {
    spans,
    points: async (name) => ((await find(name))?.dataPoints ?? []) as Array<DataPoint<number | Histogram>>,
    unit: async (name) => (await find(name))?.descriptor.unit,
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      trace.disable();
      metrics.disable();
      context.disable();
    },
  };
}

export function pointWith<T>(points: Array<DataPoint<T>>, attrs: Attributes): DataPoint<T> | undefined {
  return points.find((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v));
}
