// The span export path for OTLP/HTTP protobuf: each sampled span is encoded to protobuf when it
// ends and only its bytes are queued (encoded-queue.ts), instead of the BatchSpanProcessor keeping
// every span object alive until a batch is serialized. Holding bytes rather than objects is what
// keeps V8's young generation from growing under load (spans no longer survive scavenges), and
// encoding one span while it is hot in cache is cheaper than walking a batch later. The HTTP
// transport, retries, headers, compression and partial-success handling stay the maintained
// otlp-exporter-base ones.
import type * as Api from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { SignalConfig } from '../config.js';
import { EncodedQueue, lazyEncodedExporter, type BatchExporter, type EncodingOptions, type PendingResource } from './encoded-queue.js';
import { encodeSpan, type ResourceLike, type ScopeLike } from './otlp-span-encoding.js';

export type { BatchExporter, EncodedBatch, EncodingOptions } from './encoded-queue.js';

const SAMPLED = 1;

export class EncodingSpanProcessor implements SpanProcessor {
  /** The bytes waiting for export (what it drops is counted in pipeline-counters.ts). */
  readonly queue: EncodedQueue;

  constructor(api: typeof Api, suppress: (ctx: Context) => Context, exporter: BatchExporter, options: EncodingOptions) {
    this.queue = new EncodedQueue(api, suppress, exporter, options, { one: 'span', many: 'spans', exporter: 'trace', signal: 'span' });
  }

  onStart(_span: Span, _ctx: Context): void {}

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & SAMPLED) === 0) return;
    this.queue.add(span.resource as unknown as ResourceLike & PendingResource, span.instrumentationScope as ScopeLike, span, encodeSpan);
  }

  forceFlush(): Promise<void> {
    return this.queue.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.queue.shutdown();
  }
}

/** Builds the OTLP/HTTP trace transport at the first export, so that start-up does not load it. */
export function lazyEncodedTraceExporter(s: SignalConfig): BatchExporter {
  return lazyEncodedExporter('traces', s);
}
