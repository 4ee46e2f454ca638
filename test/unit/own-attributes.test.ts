import { describe, expect, it } from 'vitest';
import * as api from '@opentelemetry/api';
import { TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import * as core from '@opentelemetry/core';
import { adoptOwnAttributes, setOwnAttribute, setOwnAttributes } from '../../src/instrumentation/own-attributes.js';
import { leanTracer } from '../../src/instrumentation/lean-tracer.js';
import { LeanSpan } from '../../src/instrumentation/lean-span.js';

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

  it("gives a lean span its first attributes as a copy, counted, and keeps the limit for later ones", () => {
    const ended: ReadableSpan[] = [];
    const tp = new TracerProvider({
      spanLimits: { attributeCountLimit: 4 },
      spanProcessors: [{ onStart() {}, onEnd: (s: ReadableSpan) => ended.push(s), forceFlush: async () => {}, shutdown: async () => {} }],
    });
    const tracer = leanTracer(tp.getTracer('t'), api, core)!;
    const shared = { 'server.address': 'db', 'server.port': 5432 };
    const [first, second] = [tracer.startSpan('one'), tracer.startSpan('two')];
    expect(first).toBeInstanceOf(LeanSpan);
    setOwnAttributes(first, shared);
    setOwnAttributes(second, shared);
    (shared as Record<string, unknown>)['server.port'] = 1; // a cached set the tracer reuses: never the span's own
    setOwnAttribute(first, 'db.query.text', 'SELECT 1');
    first.setAttribute('a', 1); // fourth: allowed
    first.setAttribute('b', 2); // fifth: over the limit
    // A value left undefined: that key is left out, the others written one by one.
    setOwnAttributes(second, { 'x.kept': 'y', 'x.gone': undefined });
    first.end();
    second.end();
    expect(ended[0]!.attributes).toEqual({ 'server.address': 'db', 'server.port': 5432, 'db.query.text': 'SELECT 1', a: 1 });
    expect(ended[0]!.droppedAttributesCount).toBe(1);
    expect(ended[1]!.attributes).toEqual({ 'server.address': 'db', 'server.port': 5432, 'x.kept': 'y' });
    const third = tracer.startSpan('three');
    setOwnAttributes(third, { 'x.kept': 'y', 'x.gone': undefined });
    third.end();
    expect(ended[2]!.attributes).toEqual({ 'x.kept': 'y' });
    expect(Object.keys(ended[2]!.attributes)).toEqual(['x.kept']);
  });

  it('lets a lean span adopt an object built for it, and copies into any other span', () => {
    const tp = new TracerProvider({});
    const lean = leanTracer(tp.getTracer('t'), api, core)!.startSpan('lean') as LeanSpan;
    const built = { 'url.path': '/a', 'server.port': 80 };
    adoptOwnAttributes(lean, built);
    expect(lean.attributes).toBe(built);
    lean.setAttribute('later', 1);
    expect(lean.attributes).toEqual({ 'url.path': '/a', 'server.port': 80, later: 1 });
    const again = { more: 'x' };
    adoptOwnAttributes(lean, again); // it has attributes now: written into them
    expect(lean.attributes).toBe(built);
    expect(built).toEqual({ 'url.path': '/a', 'server.port': 80, later: 1, more: 'x' });
    const sdk = tp.getTracer('t').startSpan('sdk') as unknown as ReadableSpan;
    const other = { a: 1 };
    adoptOwnAttributes(sdk as unknown as api.Span, other);
    expect(sdk.attributes).not.toBe(other);
    expect(sdk.attributes).toEqual({ a: 1 });
    const withHole = leanTracer(tp.getTracer('t'), api, core)!.startSpan('hole') as LeanSpan;
    adoptOwnAttributes(withHole, { kept: 1, gone: undefined });
    expect(Object.keys(withHole.attributes)).toEqual(['kept']);
  });
});
