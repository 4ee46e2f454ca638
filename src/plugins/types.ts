// The plugin interface (OTEL_MONITOR_PLUGINS): the seed's monitoring-plugin shape, initialize /
// flush / close, on OpenTelemetry's own extension points. docs/PLUGINS.md documents it.
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Resource } from '@opentelemetry/resources';
import type { LogRecordExporter, LogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { IMetricReader, PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';

/** What a plugin's `initialize` may hand back; every list is optional. */
export interface PluginContributions {
  /** Called for every span, after the distribution's release tags and redaction. */
  spanProcessors?: SpanProcessor[];
  /** Batched by the distribution (BatchSpanProcessor). */
  spanExporters?: SpanExporter[];
  /** Called for every log record, after release tags and redaction. */
  logRecordProcessors?: LogRecordProcessor[];
  /** Batched by the distribution (BatchLogRecordProcessor). */
  logRecordExporters?: LogRecordExporter[];
  /** Exported at the distribution's metric interval (OTEL_METRIC_EXPORT_INTERVAL). */
  metricExporters?: PushMetricExporter[];
  /** Own readers (e.g. a pull exporter). Only honoured when `initialize` returns synchronously. */
  metricReaders?: IMetricReader[];
  /** Registered with the distribution's providers. */
  instrumentations?: Instrumentation[];
}

export interface PluginLogger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

export interface PluginContext {
  /** The distribution's effective configuration, with every secret replaced by `[REDACTED]`. */
  config: Readonly<Record<string, unknown>>;
  /** The resource every signal carries (service.name, service.version, deployment.environment.name...). */
  resource: Resource;
  release: { serviceName: string; release?: string; environment?: string };
  /** The distribution's stderr voice, each line prefixed with the plugin's name. */
  logger: PluginLogger;
}

export interface OtelMonitorPlugin {
  name: string;
  initialize(ctx: PluginContext): PluginContributions | void | Promise<PluginContributions | void>;
  /** Called by the distribution's flush (the api's flush(), signals with an app handler). */
  flush?(): void | Promise<void>;
  /** Called once at shutdown, after the plugin's processors and exporters have been shut down. */
  close?(): void | Promise<void>;
}
