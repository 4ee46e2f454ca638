// The pipeline's own counts (pipeline-counters.ts) as OpenTelemetry's SDK self-observability
// metrics (semantic conventions, docs/otel/sdk-metrics.md: otel.sdk.*), registered on our
// MeterProvider as observable instruments: one batch callback reads the plain counters when the
// reader collects, so nothing is recorded per span or log record. Exported like every other
// metric (OTLP → Collector → Prometheus: otel_sdk_span_started_total, ...). The list, with the
// attributes and what each value of error.type means, is in docs/CONFIGURATION.md.
import type { Attributes, Meter, Observable, BatchObservableResult } from '@opentelemetry/api';
import type { Config, SignalConfig } from '../config.js';
import { counters, queues, setExportDurationSink, type PipelineSignal } from './pipeline-counters.js';

const UNIT: Record<PipelineSignal, string> = { span: '{span}', log: '{log_record}', metric_data_point: '{data_point}' };
const NAME: Record<PipelineSignal, string> = { span: 'span', log: 'log', metric_data_point: 'metric_data_point' };
const EXPORTER_NOUN: Record<PipelineSignal, string> = { span: 'span', log: 'log', metric_data_point: 'metric' };

/** The conventions' otel.component.type for a signal's exporter. */
function exporterType(signal: PipelineSignal, s: SignalConfig): string {
  if (s.exporter !== 'otlp') return `${s.exporter}_${EXPORTER_NOUN[signal]}_exporter`;
  return s.protocol === 'http/json' ? `otlp_http_json_${EXPORTER_NOUN[signal]}_exporter` : `otlp_http_${EXPORTER_NOUN[signal]}_exporter`;
}

function component(type: string): Attributes {
  return { 'otel.component.type': type, 'otel.component.name': `${type}/0` };
}

interface Instruments {
  started: Observable;
  live: Observable;
  created: Observable;
  processed: Record<'span' | 'log', Observable>;
  queueSize: Record<'span' | 'log', Observable>;
  queueCapacity: Record<'span' | 'log', Observable>;
  inflight: Record<PipelineSignal, Observable>;
  exported: Record<PipelineSignal, Observable>;
}

function createInstruments(meter: Meter): Instruments {
  const counter = (name: string, unit: string, description: string) => meter.createObservableCounter(name, { unit, description });
  const updown = (name: string, unit: string, description: string) => meter.createObservableUpDownCounter(name, { unit, description });
  const perProcessor = (make: (s: 'span' | 'log') => Observable) => ({ span: make('span'), log: make('log') });
  const perSignal = (make: (s: PipelineSignal) => Observable) => ({ span: make('span'), log: make('log'), metric_data_point: make('metric_data_point') });
  return {
    started: counter('otel.sdk.span.started', '{span}', 'The number of created spans.'),
    live: updown('otel.sdk.span.live', '{span}', 'The number of created spans for which the end operation has not been called yet.'),
    created: counter('otel.sdk.log.created', '{log_record}', 'The number of log records submitted to enabled SDK Loggers.'),
    processed: perProcessor((s) => counter(`otel.sdk.processor.${s}.processed`, UNIT[s], `The number of ${NAME[s]}s for which the processing has finished, either successful or failed.`)),
    queueSize: perProcessor((s) => updown(`otel.sdk.processor.${s}.queue.size`, UNIT[s], `The number of ${NAME[s]}s in the queue of the processor.`)),
    queueCapacity: perProcessor((s) => updown(`otel.sdk.processor.${s}.queue.capacity`, UNIT[s], `The maximum number of ${NAME[s]}s the processor's queue can hold.`)),
    inflight: perSignal((s) => updown(`otel.sdk.exporter.${NAME[s]}.inflight`, UNIT[s], 'Items passed to the exporter whose export has not finished.')),
    exported: perSignal((s) => counter(`otel.sdk.exporter.${NAME[s]}.exported`, UNIT[s], 'Items for which the export has finished, either successful or failed.')),
  };
}

type Observe = (o: Observable, value: number, attributes: Attributes) => void;

function observeSignal(observe: Observe, i: Instruments, signal: PipelineSignal, processor: Attributes, exporter: Attributes): void {
  const c = counters[signal];
  if (signal !== 'metric_data_point') {
    observe(i.processed[signal], c.processed, processor);
    for (const [reason, n] of Object.entries(c.dropped)) observe(i.processed[signal], n, { ...processor, 'error.type': reason });
    const q = queues[signal];
    if (q) {
      observe(i.queueSize[signal], q.size(), processor);
      observe(i.queueCapacity[signal], q.capacity, processor);
    }
  }
  observe(i.inflight[signal], c.inflight, exporter);
  observe(i.exported[signal], c.exported, exporter);
  for (const [reason, n] of Object.entries(c.failed)) observe(i.exported[signal], n, { ...exporter, 'error.type': reason });
}

/** Registers the otel.sdk.* instruments; they read pipeline-counters.ts at each collection. */
export function registerPipelineMetrics(meter: Meter, config: Pick<Config, 'traces' | 'logs' | 'metrics'>): void {
  const i = createInstruments(meter);
  const exporters: Record<PipelineSignal, Attributes> = {
    span: component(exporterType('span', config.traces)),
    log: component(exporterType('log', config.logs)),
    metric_data_point: component(exporterType('metric_data_point', config.metrics)),
  };
  const processors = { span: component('batching_span_processor'), log: component('batching_log_processor') };
  const duration = meter.createHistogram('otel.sdk.exporter.operation.duration', {
    unit: 's',
    description: 'The duration of exporting a batch of telemetry records.',
    advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] },
  });
  // Per batch, off the request path: a synchronous histogram is right here.
  setExportDurationSink((signal, seconds, errorType) => duration.record(seconds, errorType ? { ...exporters[signal], 'error.type': errorType } : exporters[signal]));
  const all = [i.started, i.live, i.created, ...Object.values(i.processed), ...Object.values(i.queueSize), ...Object.values(i.queueCapacity), ...Object.values(i.inflight), ...Object.values(i.exported)];
  meter.addBatchObservableCallback((result: BatchObservableResult) => {
    const observe: Observe = (o, value, attributes) => result.observe(o, value, attributes);
    observe(i.started, counters.span.started, {});
    observe(i.live, counters.span.live, {});
    observe(i.created, counters.log.created, {});
    for (const signal of ['span', 'log', 'metric_data_point'] as const) {
      observeSignal(observe, i, signal, signal === 'metric_data_point' ? {} : processors[signal], exporters[signal]);
    }
  }, all);
}
