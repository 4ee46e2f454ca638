import { describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, defaultTextMapSetter, trace, TraceFlags } from '@opentelemetry/api';
import { AlwaysOffSampler, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { REQUEST_ID_KEY, RequestIdPropagator, RequestIds, requestIdOf, saneRequestId } from '../../src/instrumentation/request-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  it('keeps sane ids and replaces everything else with a fresh UUID', () => {
    for (const ok of ['abc', 'req-123_ab.C:9', 'a/b+c=d@e~f', 'x'.repeat(128), '9f1c5b3e-0d7c-4d7e-8a43-0b6e3b1e2f10']) expect(saneRequestId(ok)).toBe(ok);
    for (const bad of ['', 'x'.repeat(129), 'a b', 'a\r\nSet-Cookie: x', 'a\u0000b', 'caf\u00e9', '"quoted"', '%0d%0a', undefined, ['a', 'b']]) {
      expect(saneRequestId(bad as string)).toMatch(UUID);
    }
  });

  it('the propagator writes the id of the context, and leaves a header the app set alone', () => {
    const p = new RequestIdPropagator('x-request-id');
    const ctx = ROOT_CONTEXT.setValue(REQUEST_ID_KEY, 'rid-1');
    expect(requestIdOf(ctx)).toBe('rid-1');
    const fresh: Record<string, string> = {};
    p.inject(ctx, fresh, defaultTextMapSetter);
    expect(fresh).toEqual({ 'x-request-id': 'rid-1' });
    const own: Record<string, string> = { 'X-Request-Id': 'app-chosen' };
    p.inject(ctx, own, defaultTextMapSetter);
    expect(own).toEqual({ 'X-Request-Id': 'app-chosen' });
    const outside: Record<string, string> = {};
    p.inject(ROOT_CONTEXT, outside, defaultTextMapSetter);
    expect(outside).toEqual({});
    expect(p.fields()).toEqual(['x-request-id']);
  });

  describe('the trace id as the request id', () => {
    const tracer = new TracerProvider().getTracer('t');
    const upstream = trace.setSpanContext(ROOT_CONTEXT, { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED, isRemote: true });
    const attribute = (span: unknown) => (span as ReadableSpan).attributes['otel_monitor.request.id'];

    it('a request that starts a new trace without an id takes its trace id, and the span gets no attribute', () => {
      const ids = new RequestIds('x-request-id');
      for (const incoming of [undefined, '', 'a b', 'x'.repeat(129)]) {
        const span = tracer.startSpan('GET');
        expect(ids.idFor(span, incoming, false)).toBe(span.spanContext().traceId);
        expect(attribute(span)).toBeUndefined();
      }
    });

    it('an id from outside, or a request that joined an upstream trace, is written on the span', () => {
      const ids = new RequestIds('x-request-id');
      const root = tracer.startSpan('GET');
      expect(ids.idFor(root, 'req-1', false)).toBe('req-1');
      expect(attribute(root)).toBe('req-1');
      const joined = tracer.startSpan('GET', {}, upstream);
      const id = ids.idFor(joined, undefined, true);
      expect(id).toMatch(UUID);
      expect(attribute(joined)).toBe(id);
      // The downstream service of a front that used its trace id: the same string, nothing to add.
      const downstream = tracer.startSpan('GET', {}, upstream);
      expect(ids.idFor(downstream, 'a'.repeat(32), true)).toBe('a'.repeat(32));
      expect(attribute(downstream)).toBeUndefined();
    });

    it('keeps the UUID form with the uuid format, and uses the trace id of an unsampled request too', () => {
      const span = tracer.startSpan('GET');
      const id = new RequestIds('x-request-id', 'uuid').idFor(span, undefined, false);
      expect(id).toMatch(UUID);
      expect(attribute(span)).toBe(id);
      const unsampled = new TracerProvider({ sampler: new AlwaysOffSampler() }).getTracer('t').startSpan('GET');
      expect(new RequestIds('x-request-id').idFor(unsampled, undefined, false)).toBe(unsampled.spanContext().traceId);
      // No tracing at all (the API's no-op span): the all-zero trace id is no id.
      expect(new RequestIds('x-request-id').idFor(trace.wrapSpanContext(trace.INVALID_SPAN_CONTEXT), undefined, false)).toMatch(UUID);
    });
  });
});
