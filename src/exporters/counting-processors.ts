// The two ends of each processor chain that pipeline-counters.ts cannot see from an exporter: spans
// as they start and end (otel.sdk.span.started, .live), log records as they are emitted
// (otel.sdk.log.created), and the log records the SDK's batch processor drops because its queue is
// full or redaction failed. Each is a counter increment; nothing here allocates.
import type { Context } from '@opentelemetry/api';
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { counters, countDrop, watchQueue } from './pipeline-counters.js';

const spans = counters.span;
const logs = counters.log;

/** First in the span chain: the processors see recording spans only, so that is what is counted. */
export class SpanCountingProcessor implements SpanProcessor {
  onStart(_span: Span, _ctx: Context): void {
    spans.started++;
    spans.live++;
  }
  onEnd(_span: ReadableSpan): void {
    spans.live--;
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
    logs.created++;
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

/** Records whose redaction failed: never exported. A flag first, so the usual case skips the lookup. */
const unredacted = new WeakSet<object>();
let anyUnredacted = false;

/** redaction.ts: this record could not be redacted; the gate keeps it back. */
export function markUnredacted(record: object): void {
  unredacted.add(record);
  anyUnredacted = true;
}

/**
 * In front of the SDK's BatchLogRecordProcessor: counts what it would drop without a word (a full
 * queue, after shutdown) and keeps back a record whose redaction failed. Its queue is read from
 * its own fields (sdk-logs 3.0, as pino-logs.ts does); another shape is passed through uncounted.
 */
export class LogExportGate implements LogRecordProcessor {
  private readonly queue: BatchLogQueue;
  private readonly capacity: number;

  constructor(private readonly inner: LogRecordProcessor) {
    this.queue = inner as unknown as BatchLogQueue;
    const q = this.queue;
    this.capacity = typeof q._maxQueueSize === 'number' && Array.isArray(q._finishedLogRecords) ? q._maxQueueSize : Infinity;
    if (this.capacity !== Infinity) watchQueue('log', () => q._finishedLogRecords!.length, this.capacity);
  }
  onEmit(record: ReadWriteLogRecord, ctx?: Context): void {
    if (anyUnredacted && unredacted.has(record)) return countDrop('log', 'redaction_failed');
    const q = this.queue;
    if (q._shutdownOnce?.isCalled) countDrop('log', 'already_shutdown');
    else if (q._finishedLogRecords !== undefined && q._finishedLogRecords.length >= this.capacity) countDrop('log', 'queue_full');
    this.inner.onEmit(record, ctx);
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}
