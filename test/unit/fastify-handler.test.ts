import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '@opentelemetry/api';
import * as core from '@opentelemetry/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { fastifyHasChannel, traceFastifyHandler } from '../../src/instrumentation/fastify-handler.js';
import { ROOT } from '../helpers/app.js';
import { compareKinds, expectRouteAndCurrentHandler, inMemoryTracing, requestSpans } from '../helpers/handler-spans.js';

describe('fastifyHasChannel', () => {
  it("finds the handler channel in this repository's Fastify 5", () => {
    expect(fastifyHasChannel([ROOT])).toBe(true);
    expect(fastifyHasChannel(['/nonexistent'])).toBe(false);
  });
});

describe('Fastify handlers from the fastify.request.handler channel', () => {
  const tracing = inMemoryTracing();
  const { spans, tracer, store } = tracing;
  let app: FastifyInstance;
  let base = '';

  beforeAll(async () => {
    traceFastifyHandler({ api, core, tracer: tracer('fastify'), store });

    app = Fastify();
    await app.register(
      async (scope) => {
        scope.get('/items/:id', async function getItem() {
          return { active: api.trace.getActiveSpan()?.spanContext().spanId };
        });
        scope.get('/sync-boom', () => {
          throw new Error('sync boom');
        });
        scope.get('/async-boom', async () => {
          await new Promise((r) => setTimeout(r, 5));
          throw new Error('async boom');
        });
        scope.get('/null-boom', () => {
          throw null;
        });
        scope.get('/hijacked', async (_req, reply) => {
          reply.hijack();
          reply.raw.end('raw');
        });
        scope.get('/later', (_req, reply) => {
          setTimeout(() => reply.send('late'), 30);
        });
      },
      { prefix: '/api/:ver' },
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });

  afterAll(() => app.close());

  const request = (path: string) => requestSpans(spans, base + path, 'fastify');

  // Every case under the SDK's span and under our lean span (OTEL_MONITOR_LEAN_SPANS).
  for (const kind of ['sdk', 'lean'] as const) {
    describe(`${kind} spans`, () => {
      beforeAll(() => tracing.use(kind));
      afterAll(() => tracing.use('sdk'));
    it('names the server span by the route template and makes the handler span current', async () => {
      expectRouteAndCurrentHandler(await request('/api/v1/items/42'), '/api/:ver/items/:id', { 'fastify.type': 'request-handler', 'hook.callback.name': 'getItem' });
    });

    it('records thrown and rejected errors on the handler span, once', async () => {
      for (const [path, message] of [
        ['/api/v1/sync-boom', 'sync boom'],
        ['/api/v1/async-boom', 'async boom'],
        ['/api/v1/null-boom', 'null'],
      ] as const) {
        const r = await request(path);
        expect(r.status).toBe(500);
        const h = r.handlers[0]!;
        expect(h.status).toEqual({ code: api.SpanStatusCode.ERROR, message });
        expect(h.events.filter((e) => e.name === 'exception')).toHaveLength(1);
        expect(r.server.attributes['error.type']).toBe('500');
      }
    });

    it('keeps a callback-style handler span open until the reply is sent', async () => {
      const r = await request('/api/v1/later');
      expect(r.body).toBe('late');
      const h = r.handlers[0]!;
      const ms = (t: api.HrTime) => t[0] * 1e3 + t[1] / 1e6;
      expect(ms(h.endTime) - ms(h.startTime)).toBeGreaterThanOrEqual(25);
    });

    it("ends an async handler's span when it hijacks the reply (Fastify publishes no asyncEnd then)", async () => {
      const r = await request('/api/v1/hijacked');
      expect(r.body).toBe('raw');
      for (let i = 0; i < 50 && r.handlers.length === 0; i++) {
        await new Promise((ok) => setTimeout(ok, 10));
        r.handlers = spans.getFinishedSpans().filter((s) => s.instrumentationScope.name === 'fastify');
      }
      expect(r.handlers.map((s) => s.name)).toEqual(['request handler - /api/:ver/hijacked']);
    });
    });
  }

  it('golden: the same spans under the lean span as under the SDK span', async () => {
    for (const path of ['/api/v1/items/42', '/api/v1/sync-boom', '/api/v1/async-boom', '/api/v1/null-boom', '/api/v1/later', '/nope?token=x']) {
      const views = await compareKinds(tracing, base + path);
      expect(views.sdk.length, path).toBeGreaterThan(0);
      expect(views.lean, path).toEqual(views.sdk);
    }
  });
});
