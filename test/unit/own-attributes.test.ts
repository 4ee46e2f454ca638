import { describe, expect, it } from 'vitest';
import * as api from '@opentelemetry/api';
import { TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { setOwnAttribute, setOwnAttributes } from '../../src/instrumentation/own-attributes.js';

describe('setOwnAttributes', () => {
  it('writes into an SDK span and keeps its attribute count limit working', () => {
    const ended: ReadableSpan[] = [];
    const tp = new TracerProvider({
      spanLimits: { attributeCountLimit: 3 },
      spanProcessors: [{ onStart() {}, onEnd: (s: ReadableSpan) => ended.push(s), forceFlush: async () => {}, shutdown: async () => {} }],
    });
    const span = tp.getTracer('t').startSpan('s');
    setOwnAttributes(span, { a: 'x', b: 2, skipped: undefined });
    setOwnAttribute(span, 'b', 3); // overwrite: still two attributes
    span.setAttribute('c', true); // third: allowed
    span.setAttribute('d', 'over the limit'); // fourth: dropped by the SDK's own limit
    span.end();
    setOwnAttribute(span, 'late', 'ignored'); // an ended span takes nothing
    expect(ended[0]!.attributes).toEqual({ a: 'x', b: 3, c: true });
    expect(ended[0]!.droppedAttributesCount).toBe(1);
  });

  it('falls back to setAttributes for spans that are not the SDK kind', () => {
    const calls: api.Attributes[] = [];
    const foreign = {
      ...api.trace.wrapSpanContext(api.INVALID_SPAN_CONTEXT),
      isRecording: () => true,
      setAttributes(a: api.Attributes) {
        calls.push(a);
        return this;
      },
      setAttribute(k: string, v: api.AttributeValue) {
        calls.push({ [k]: v });
        return this;
      },
    } as unknown as api.Span;
    setOwnAttributes(foreign, { a: 1 });
    setOwnAttribute(foreign, 'b', 'two');
    expect(calls).toEqual([{ a: 1 }, { b: 'two' }]);
  });
});
