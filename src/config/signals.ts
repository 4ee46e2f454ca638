// Where and how each signal is exported: OTEL_*_EXPORTER, OTEL_EXPORTER_OTLP_*, OTEL_BSP_*, OTEL_BLRP_*.
import { headers, int, isLoopback, oneOf, str, url, type Warn } from './parsers.js';
import type { BatchConfig, Config, Env, Protocol, SignalConfig, SignalExporter } from './types.js';

const DEFAULT_ENDPOINT = 'http://localhost:4318';
const PROTOCOLS: Protocol[] = ['http/protobuf', 'http/json'];
const COMPRESSIONS = ['gzip', 'none'] as const;
type Compression = (typeof COMPRESSIONS)[number];

function protocol(env: Env, name: string, fallback: Protocol, warn: Warn): Protocol {
  return oneOf(env, name, PROTOCOLS, fallback, warn, {
    quoteAsGiven: true,
    why: (v) => (v === 'grpc' ? 'is not supported by this distribution' : 'is not http/protobuf or http/json'),
  });
}

function compression<F extends Compression | undefined>(env: Env, name: string, fallback: F, warn: Warn, fallbackText?: string): Compression | F {
  return oneOf(env, name, COMPRESSIONS, fallback, warn, { quoteAsGiven: true, why: () => 'is not gzip or none', fallback: fallbackText });
}

/** The settings every signal inherits unless its own OTEL_EXPORTER_OTLP_<SIGNAL>_* says otherwise. */
interface Shared {
  base: string;
  protocol: Protocol;
  headers: Record<string, string>;
  timeoutMs: number;
  compression?: Compression;
}

function readShared(env: Env, warn: Warn): Shared {
  return {
    headers: headers(env, 'OTEL_EXPORTER_OTLP_HEADERS', warn),
    timeoutMs: int(env, 'OTEL_EXPORTER_OTLP_TIMEOUT', 10_000, warn, 1),
    protocol: protocol(env, 'OTEL_EXPORTER_OTLP_PROTOCOL', 'http/protobuf', warn),
    // Compression saves bandwidth to a remote Collector but only burns the app's CPU for one on the
    // same host (the usual sidecar/agent setup), so without a setting the default depends on where
    // each signal's endpoint is.
    compression: compression(env, 'OTEL_EXPORTER_OTLP_COMPRESSION', undefined, warn, 'gzip (none for a loopback endpoint)'),
    base: url(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', DEFAULT_ENDPOINT, warn),
  };
}

function readSignal(env: Env, warn: Warn, shared: Shared, sig: 'TRACES' | 'METRICS' | 'LOGS', path: string): SignalConfig {
  const exporter = oneOf<SignalExporter>(env, `OTEL_${sig}_EXPORTER`, ['otlp', 'console', 'none'], 'otlp', warn);
  // A per-signal endpoint is used as-is; the base endpoint gets the signal path appended (OTLP spec).
  const endpoint = url(env, `OTEL_EXPORTER_OTLP_${sig}_ENDPOINT`, `${shared.base.replace(/\/$/, '')}/v1/${path}`, warn);
  const compressionDefault = shared.compression ?? (isLoopback(endpoint) ? 'none' : 'gzip');
  return {
    exporter,
    endpoint,
    protocol: protocol(env, `OTEL_EXPORTER_OTLP_${sig}_PROTOCOL`, shared.protocol, warn),
    headers: { ...shared.headers, ...headers(env, `OTEL_EXPORTER_OTLP_${sig}_HEADERS`, warn) },
    timeoutMs: int(env, `OTEL_EXPORTER_OTLP_${sig}_TIMEOUT`, shared.timeoutMs, warn, 1),
    compression: compression(env, `OTEL_EXPORTER_OTLP_${sig}_COMPRESSION`, compressionDefault, warn),
  };
}

export function readSignals(env: Env, warn: Warn): Pick<Config, 'traces' | 'metrics' | 'logs'> {
  const shared = readShared(env, warn);
  return {
    traces: readSignal(env, warn, shared, 'TRACES', 'traces'),
    metrics: { ...readSignal(env, warn, shared, 'METRICS', 'metrics'), intervalMs: int(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000, warn, 100) },
    logs: readSignal(env, warn, shared, 'LOGS', 'logs'),
  };
}

/** OTEL_BSP_* (spans) or OTEL_BLRP_* (log records). A batch never exceeds the queue. */
export function readBatch(env: Env, prefix: 'OTEL_BSP' | 'OTEL_BLRP', warn: Warn): BatchConfig {
  const b: BatchConfig = {
    scheduledDelayMs: int(env, `${prefix}_SCHEDULE_DELAY`, 1000, warn, 0),
    maxQueueSize: int(env, `${prefix}_MAX_QUEUE_SIZE`, 2048, warn, 1),
    maxExportBatchSize: int(env, `${prefix}_MAX_EXPORT_BATCH_SIZE`, 512, warn, 1),
    exportTimeoutMs: int(env, `${prefix}_EXPORT_TIMEOUT`, 30_000, warn, 1),
  };
  if (b.maxExportBatchSize > b.maxQueueSize) {
    // Said only when the batch size is the user's own valid value: the default, or a fallback
    // already warned about, is capped silently.
    const name = `${prefix}_MAX_EXPORT_BATCH_SIZE`;
    if (String(b.maxExportBatchSize) === str(env, name)) {
      warn.line(`${name}=${b.maxExportBatchSize} is larger than ${prefix}_MAX_QUEUE_SIZE; using ${b.maxQueueSize}`);
    }
    b.maxExportBatchSize = b.maxQueueSize;
  }
  return b;
}
