// The processor chains every span and log record passes through, in order: release tags, task
// status (spans), redaction, the plugins' processors, Sentry's (spans), and last the processor
// that exports. Which exporting processor depends on the exporter chosen in the config.
import type * as Api from '@opentelemetry/api';
import type * as Core from '@opentelemetry/core';
import type * as Logs from '@opentelemetry/sdk-logs';
import type * as Trace from '@opentelemetry/sdk-trace';
import type { Config } from '../config.js';
import { EncodingSpanProcessor, lazyEncodedTraceExporter } from '../exporters/encoding-span-processor.js';
import { createLogExporter, createSpanExporter } from '../exporters/otlp.js';
import { LogCountingProcessor, LogExportGate, SpanCountingProcessor } from '../exporters/counting-processors.js';
import { RequestIdLogProcessor } from '../instrumentation/request-id.js';
import type { SentryLink } from '../sentry/start.js';
import { RedactionLogProcessor, RedactionSpanProcessor, type Redactor } from './redaction.js';
import { ReleaseTagLogProcessor, ReleaseTagSpanProcessor, type ReleaseTags } from './release-tags.js';
import { TaskStatusSpanProcessor } from './task-status.js';

export interface SpanChainDeps {
  api: typeof Api;
  core: typeof Core;
  trace: typeof Trace;
  config: Config;
  tags: ReleaseTags;
  redactor: Redactor;
  meter: Api.Meter;
  plugin?: Trace.SpanProcessor;
  sentry?: SentryLink;
}

/**
 * OTLP/HTTP protobuf: spans encoded as they end (EncodingSpanProcessor); JSON or console: the SDK's
 * BatchSpanProcessor; `none`: no exporting processor.
 */
export function exportingSpanProcessor(d: Pick<SpanChainDeps, 'api' | 'core' | 'trace' | 'config'>): Trace.SpanProcessor | undefined {
  const { traces, batch } = d.config;
  if (traces.exporter === 'none') return undefined;
  const bounds = { maxQueueSize: batch.maxQueueSize, maxExportBatchSize: batch.maxExportBatchSize, scheduledDelayMillis: batch.scheduledDelayMs };
  if (traces.exporter === 'otlp' && traces.protocol === 'http/protobuf') {
    return new EncodingSpanProcessor(d.api, d.core.suppressTracing, lazyEncodedTraceExporter(traces), bounds);
  }
  return new d.trace.BatchSpanProcessor({ exporter: createSpanExporter(traces), ...bounds, exportTimeoutMillis: batch.exportTimeoutMs });
}

export function spanProcessorChain(d: SpanChainDeps): Trace.SpanProcessor[] {
  const chain: Trace.SpanProcessor[] = [
    new SpanCountingProcessor(),
    new ReleaseTagSpanProcessor(d.tags),
    new TaskStatusSpanProcessor({ meter: d.meter, lastSeenRoles: d.config.lastSeenRoles, sentry: d.sentry?.Sentry }),
    new RedactionSpanProcessor(d.redactor, d.config.collectClientAddress),
    ...(d.plugin ? [d.plugin] : []),
    ...(d.sentry?.spanProcessors ?? []),
  ];
  const exporting = exportingSpanProcessor(d);
  return exporting ? [...chain, exporting] : chain;
}

export interface LogChainDeps {
  logs: typeof Logs;
  config: Config;
  tags: ReleaseTags;
  redactor: Redactor;
  plugin?: Logs.LogRecordProcessor;
}

/** The SDK's BatchLogRecordProcessor, unless the logs exporter is `none`. */
export function exportingLogProcessor(d: Pick<LogChainDeps, 'logs' | 'config'>): Logs.BatchLogRecordProcessor | undefined {
  const { logs: signal, logBatch } = d.config;
  if (signal.exporter === 'none') return undefined;
  return new d.logs.BatchLogRecordProcessor({
    exporter: createLogExporter(signal),
    maxQueueSize: logBatch.maxQueueSize,
    maxExportBatchSize: logBatch.maxExportBatchSize,
    scheduledDelayMillis: logBatch.scheduledDelayMs,
    exportTimeoutMillis: logBatch.exportTimeoutMs,
  });
}

/** The chain and, apart, its exporting processor (pino's sender watches its queue). */
export function logProcessorChain(d: LogChainDeps): { processors: Logs.LogRecordProcessor[]; exporting?: Logs.BatchLogRecordProcessor } {
  const processors: Logs.LogRecordProcessor[] = [
    new LogCountingProcessor(),
    ...(d.config.requestId.enabled ? [new RequestIdLogProcessor()] : []),
    new ReleaseTagLogProcessor(d.tags),
    new RedactionLogProcessor(d.redactor),
    ...(d.plugin ? [d.plugin] : []),
  ];
  const exporting = exportingLogProcessor(d);
  return { processors: exporting ? [...processors, new LogExportGate(exporting)] : processors, exporting };
}
