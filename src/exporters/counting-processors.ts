// The two ends of each processor chain that pipeline-counters.ts cannot see from an exporter: spans
// as they start and end (otel.sdk.span.started, .live), log records as they are emitted
// (otel.sdk.log.created), and the log records the SDK's batch processor drops because its queue is
// full or redaction failed. Each is a counter increment; nothing here allocates.
import type { Context } from '@opentelemetry/api';
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { counters, countDrop, watchQueue } from './pipeline-counters.js';

/** First in the span chain: the processors see recording spans only, so that is what is counted. */
export class SpanCountingProcessor implements SpanProcessor {
  onStart(_span: Span, _ctx: Context): void {
    counters.span.started++;
    counters.span.live++;
  }
  onEnd(_span: ReadableSpan): void {
    counters.span.live--;
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** First in the log chain. */
export class LogCountingProcessor implements LogRecordProcessor {
  onEmit(_record: ReadWriteLogRecord, _ctx?: Context): void {
    counters.log.created++;
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

interface BatchLogQueue {
  _finishedLogRecords?: unknown[];
  _maxQueueSize?: number;
  _shutdownOnce?: { isCalled?: boolean };
}

/** Records whose redaction failed: never exported (redaction.ts adds them). */
export const unredactedLogs = new WeakSet<object>();

/**
 * In front of the SDK's BatchLogRecordProcessor: counts what it would drop without a word (a full
 * queue, after shutdown) and keeps back a record whose redaction failed. Its queue is read from
 * its own fields (sdk-logs 3.0, as pino-logs.ts does); another shape is passed through uncounted.
 */
export class LogExportGate implements LogRecordProcessor {
  constructor(private readonly inner: LogRecordProcessor) {
    const q = inner as unknown as BatchLogQueue;
    if (Array.isArray(q._finishedLogRecords) && typeof q._maxQueueSize === 'number') {
      watchQueue('log', () => q._finishedLogRecords!.length, q._maxQueueSize);
    }
  }
  onEmit(record: ReadWriteLogRecord, ctx?: Context): void {
    const q = this.inner as unknown as BatchLogQueue;
    if (unredactedLogs.has(record)) return countDrop('log', 'redaction_failed');
    if (q._shutdownOnce?.isCalled) countDrop('log', 'already_shutdown');
    else if (q._finishedLogRecords && q._finishedLogRecords.length >= q._maxQueueSize!) countDrop('log', 'queue_full');
    this.inner.onEmit(record, ctx);
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}
