import { describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, defaultTextMapSetter } from '@opentelemetry/api';
import { REQUEST_ID_KEY, RequestIdPropagator, requestIdOf, saneRequestId } from '../../src/instrumentation/request-id.js';

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
});
