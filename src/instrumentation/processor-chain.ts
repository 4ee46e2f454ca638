// The provider's span processors, called by the lean span in an indexed loop. The SDK's
// MultiSpanProcessor walks the same array with for...of, and on a hello-world request those three
// loops (onStart, onEnding, onEnd) each allocated an iterator. Same processors, same order, same
// calls, and an exception propagates as it does there; flush and shutdown go to the SDK's object.
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

export class ProcessorChain implements SpanProcessor {
  constructor(
    private readonly list: SpanProcessor[],
    private readonly multi: SpanProcessor,
  ) {}

  onStart(span: Span, ctx: Context): void {
    const list = this.list;
    for (let i = 0; i < list.length; i++) list[i]!.onStart(span, ctx);
  }

  onEnding(span: Span): void {
    const list = this.list;
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!;
      if (p.onEnding) p.onEnding(span);
    }
  }

  onEnd(span: ReadableSpan): void {
    const list = this.list;
    for (let i = 0; i < list.length; i++) list[i]!.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.multi.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.multi.shutdown();
  }
}

/** A chain over the SDK MultiSpanProcessor's list (its `_spanProcessors`, read live), or `p` itself. */
export function processorChain(p: SpanProcessor): SpanProcessor {
  const list = (p as { _spanProcessors?: unknown })._spanProcessors;
  return p.constructor?.name === 'MultiSpanProcessor' && Array.isArray(list) ? new ProcessorChain(list as SpanProcessor[], p) : p;
}
