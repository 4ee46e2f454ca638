// The telemetry pipeline's own counts: what was produced, queued, handed to an exporter, delivered,
// and dropped (with why), per signal. Plain numbers incremented on the hot path and read only when
// metrics are collected (pipeline-metrics.ts turns them into OpenTelemetry's SDK self-observability
// metrics, otel.sdk.*), so counting costs an increment, never a metric API call per span or record.
//
// The API, for every path that produces, queues, exports or drops telemetry:
//   counters.span.started++ / counters.span.live++      a recording span started (live-- at its end)
//   counters.log.created++                               a log record submitted to a logger
//   countDrop('log', 'queue_full', n)                    n items dropped before an exporter saw them
//   watchQueue('span', () => queued, capacity)           a processor's queue, read at collection
//   exportStarted('span', n) → done(errorType?)          one export call (inflight, outcome, duration)
//
// The identity a test can check at any collection, per signal (counts are cumulative):
//   produced = processed + processor drops + queued
//   processed = exported (success) + exported with error.type + inflight
import { performance } from 'node:perf_hooks';

export type PipelineSignal = 'span' | 'log' | 'metric_data_point';

/**
 * Why telemetry was dropped (`error.type`). `queue_full` and `already_shutdown` are the semantic
 * conventions' values; the others are ours. Exporter failures carry their cause instead (an HTTP
 * status such as `503`, a network code such as `ECONNREFUSED`, `timeout`, `_OTHER`).
 */
export type DropReason = 'queue_full' | 'already_shutdown' | 'encoding_failed' | 'redaction_failed' | 'shutdown_timeout' | 'export_failed';

export interface SignalCounts {
  /** Spans started (recording), log records created, metric points collected. */
  started: number;
  /** Spans started and not yet ended (otel.sdk.span.live). Spans only. */
  live: number;
  /** Log records created (otel.sdk.log.created). Logs only; `started` for the other signals. */
  created: number;
  /** Items the processor handed to the exporter (otel.sdk.processor.*.processed without error.type). */
  processed: number;
  /** Items a processor dropped before any exporter saw them, by reason. */
  dropped: Record<string, number>;
  /** Items passed to the exporter whose export has not finished (otel.sdk.exporter.*.inflight). */
  inflight: number;
  /** Items whose export succeeded. */
  exported: number;
  /** Items whose export failed, by cause (otel.sdk.exporter.*.exported with error.type). */
  failed: Record<string, number>;
}

function signalCounts(): SignalCounts {
  return { started: 0, live: 0, created: 0, processed: 0, dropped: {}, inflight: 0, exported: 0, failed: {} };
}

export const counters: Record<PipelineSignal, SignalCounts> = {
  span: signalCounts(),
  log: signalCounts(),
  metric_data_point: signalCounts(),
};

export interface QueueWatch {
  size: () => number;
  capacity: number;
}

/** Each signal's queue, as its processor reports it (at most one exporting processor per signal). */
export const queues: Partial<Record<PipelineSignal, QueueWatch>> = {};

/** Export durations go straight to a histogram once pipeline-metrics.ts has one (per batch, not per item). */
type DurationSink = (signal: PipelineSignal, seconds: number, errorType: string | undefined) => void;
let durationSink: DurationSink | undefined;

export function setExportDurationSink(sink: DurationSink | undefined): void {
  durationSink = sink;
}

/** n items of a signal dropped before an exporter saw them, for `reason`. */
export function countDrop(signal: PipelineSignal, reason: DropReason, n = 1): void {
  const d = counters[signal].dropped;
  d[reason] = (d[reason] ?? 0) + n;
}

/** The processor's queue for a signal, read at collection time. */
export function watchQueue(signal: PipelineSignal, size: () => number, capacity: number): void {
  queues[signal] = { size, capacity };
}

/**
 * One export call of n items: counted as processed and in flight now; `done` says how it ended
 * (no error type: delivered). Spans and log records are counted processed here, where the
 * processor hands them over, as the conventions say.
 */
export function exportStarted(signal: PipelineSignal, n: number): (errorType?: string) => void {
  const c = counters[signal];
  c.processed += n;
  c.inflight += n;
  const start = performance.now();
  let finished = false;
  return (errorType) => {
    if (finished) return;
    finished = true;
    c.inflight -= n;
    if (errorType === undefined) c.exported += n;
    else c.failed[errorType] = (c.failed[errorType] ?? 0) + n;
    durationSink?.(signal, (performance.now() - start) / 1000, errorType);
  };
}

/**
 * The shutdown timeout ran out: what was still queued or in flight is lost, and said so. Moves it
 * into the drops so the identity still holds at the exit line.
 */
export function countShutdownLoss(): void {
  for (const signal of Object.keys(counters) as PipelineSignal[]) {
    const c = counters[signal];
    const queued = queues[signal]?.size() ?? 0;
    if (queued > 0) countDrop(signal, 'shutdown_timeout', queued);
    if (c.inflight > 0) {
      c.failed['shutdown_timeout'] = (c.failed['shutdown_timeout'] ?? 0) + c.inflight;
      c.inflight = 0;
    }
  }
}

/** A low-cardinality error.type for a failed export: HTTP status, network code, or `_OTHER`. */
export function exportErrorType(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | undefined;
  if (typeof e?.code === 'number' && e.code >= 100 && e.code < 600) return String(e.code);
  if (typeof e?.code === 'string' && /^E[A-Z_]{2,30}$/.test(e.code)) return e.code;
  if (typeof e?.message === 'string' && /timeout|timed out/i.test(e.message)) return 'timeout';
  // otlp-exporter-base's own refusals: its concurrency limit, and retries used up without a cause.
  if (typeof e?.message === 'string' && /concurren\w* (export )?limit/i.test(e.message)) return 'concurrency_limit';
  if (typeof e?.message === 'string' && /retryable status/i.test(e.message)) return 'retries_exhausted';
  if (typeof e?.message === 'string') {
    const code = /\b(E(?:CONNREFUSED|CONNRESET|HOSTUNREACH|NETUNREACH|NOTFOUND|PIPE|AI_AGAIN))\b/.exec(e.message)?.[1];
    if (code) return code;
  }
  return '_OTHER';
}

/** Test seam: every count back to zero (in place: hot paths hold the per-signal objects). */
export function resetCounters(): void {
  for (const signal of Object.keys(counters) as PipelineSignal[]) Object.assign(counters[signal], signalCounts());
  for (const signal of Object.keys(queues) as PipelineSignal[]) delete queues[signal];
}
