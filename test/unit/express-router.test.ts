import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import * as api from '@opentelemetry/api';
import * as core from '@opentelemetry/core';
import express from 'express';
import { joinRoute, routerHasChannel, traceExpressRouter } from '../../src/instrumentation/express-router.js';
import { ROOT } from '../helpers/app.js';
import { compareKinds, expectRouteAndCurrentHandler, inMemoryTracing, requestSpans } from '../helpers/handler-spans.js';

describe('joinRoute', () => {
  it('joins mount and route templates the way instrumentation-express does', () => {
    expect(joinRoute('', '/')).toBe('/');
    expect(joinRoute('', '/users/:id')).toBe('/users/:id');
    expect(joinRoute('/api', '/')).toBe('/api');
    expect(joinRoute('/api/', '/items')).toBe('/api/items');
    expect(joinRoute('/api/:ver', '/items/:id')).toBe('/api/:ver/items/:id');
  });

  it("finds the router channel in this repository's Express 5", () => {
    expect(routerHasChannel([ROOT])).toBe(true);
    expect(routerHasChannel(['/nonexistent'])).toBe(false);
  });
});

describe('Express routes from the router channel', () => {
  const tracing = inMemoryTracing();
  const { spans, store } = tracing;
  const finishSeen: Array<string | undefined> = [];
  let server: Server;
  let base = '';

  beforeAll(async () => {
    traceExpressRouter({ api, core, tracer: tracing.tracer('express'), store });

    const app = express();
    app.use(express.json());
    const items = express.Router();
    items.get('/items/:id', (_req, res) => {
      // the handler span is the active one inside the handler
      res.json({ active: api.trace.getActiveSpan()?.spanContext().spanId });
    });
    items.get('/sync-boom', () => {
      throw new Error('sync boom');
    });
    items.get('/async-boom', async () => {
      await new Promise((r) => setTimeout(r, 5));
      throw new Error('async boom');
    });
    items.get('/logged', (_req, res) => {
      // A request logger's 'finish' listener must still see the request's span as the active one.
      res.on('finish', () => {
        finishSeen.push(api.trace.getActiveSpan()?.spanContext().spanId);
      });
      res.send('ok');
    });
    items.get('/later', (_req, res) => {
      setTimeout(() => res.send('late'), 30);
    });
    app.use('/api/:ver', items);
    app.use('/mw-boom', () => {
      throw new Error('middleware boom');
    });
    app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).send(err.message);
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const request = (path: string) => requestSpans(spans, base + path, 'express');

  // Every case under the SDK's span and under our lean span (OTEL_MONITOR_LEAN_SPANS).
  for (const kind of ['sdk', 'lean'] as const) {
    describe(`${kind} spans`, () => {
      beforeAll(() => {
        tracing.use(kind);
        finishSeen.length = 0;
      });
      afterAll(() => tracing.use('sdk'));
    it('names the server span by the full route template and makes the handler span current', async () => {
      expectRouteAndCurrentHandler(await request('/api/v1/items/42'), '/api/:ver/items/:id', { 'express.name': '/items/:id', 'express.type': 'request_handler' });
    });

    it("runs the app's 'finish' listeners in the request's trace", async () => {
      const r = await request('/api/v1/logged');
      expect(finishSeen).toEqual([r.handlers[0]!.spanContext().spanId]);
    });

    it('records thrown and rejected errors on the handler span, once', async () => {
      for (const [path, message] of [
        ['/api/v1/sync-boom', 'sync boom'],
        ['/api/v1/async-boom', 'async boom'],
      ] as const) {
        const r = await request(path);
        expect(r.status).toBe(500);
        const h = r.handlers[0]!;
        expect(h.status).toEqual({ code: api.SpanStatusCode.ERROR, message });
        expect(h.events.filter((e) => e.name === 'exception').map((e) => e.attributes?.['exception.message'])).toEqual([message]);
        expect(r.server.attributes['error.type']).toBe('500');
      }
    });

    it('keeps a callback-style handler span open until the response is sent', async () => {
      const r = await request('/api/v1/later');
      const h = r.handlers[0]!;
      const ms = (t: api.HrTime) => t[0] * 1e3 + t[1] / 1e6;
      expect(ms(h.endTime) - ms(h.startTime)).toBeGreaterThanOrEqual(25);
    });

    it('records a middleware error on the server span, with no handler span', async () => {
      const r = await request('/mw-boom');
      expect(r.status).toBe(500);
      expect(r.handlers).toHaveLength(0);
      expect(r.server.events.map((e) => e.attributes?.['exception.message'])).toEqual(['middleware boom']);
    });
    });
  }

  it('golden: the same spans under the lean span as under the SDK span', async () => {
    for (const path of ['/api/v1/items/42', '/api/v1/sync-boom', '/api/v1/async-boom', '/api/v1/logged', '/api/v1/later', '/mw-boom', '/nope?a=1']) {
      const views = await compareKinds(tracing, base + path);
      expect(views.sdk.length, path).toBeGreaterThan(0);
      expect(views.lean, path).toEqual(views.sdk);
    }
  });
});
