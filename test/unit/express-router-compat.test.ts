// What Express 5's own test suite (test/Route.js, test/Router.js, test/res.format.js) does to the
// router under the preload, distilled: plain-object req/res must not crash the app, and the `next`
// identity that router 2.3 cannot keep once its channel has any subscriber (docs/COMPATIBILITY.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import * as api from '@opentelemetry/api';
import * as core from '@opentelemetry/core';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { traceExpressRouter } from '../../src/instrumentation/express-router.js';

type Next = (err?: unknown) => void;
type Handler = (req: Record<string, unknown>, res: Record<string, unknown>, next: Next) => unknown;
interface RouterLike {
  get(path: string, ...fns: Handler[]): RouterLike;
  use(...fns: unknown[]): RouterLike;
  handle(req: object, res: object, done: Next): void;
}
interface RouteLike {
  all(fn: Handler): RouteLike;
  dispatch(req: object, res: object, done: Next): void;
}
const require = createRequire(import.meta.url);
const Router = require('router') as { new (): RouterLike; Route: new (path: string) => RouteLike };

const handle = (router: RouterLike, req: object, res: object) =>
  new Promise<unknown>((resolve) => router.handle(req, res, (err) => resolve(err)));

/** Whether a handler receives the router's own `next` (the one in req.next) under the current subscribers. */
async function nextIsReqNext(): Promise<boolean> {
  const router = new Router();
  let same: boolean | undefined;
  // A middleware layer: inside a route, handlers get the route's own next whatever subscribes.
  router.use((req: Record<string, unknown>, _res: unknown, next: Next) => {
    same = next === req.next;
    next();
  });
  await handle(router, { url: '/', method: 'GET' }, {});
  return same!;
}

describe('the Express router driven with plain objects (express test/Route.js, test/Router.js)', () => {
  const spans = new InMemorySpanExporter();
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);

  beforeAll(() => {
    process.on('uncaughtException', onUncaught);
    const manager = new AsyncLocalStorageContextManager();
    api.context.setGlobalContextManager(manager.enable());
    const tp = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
    const store = (manager as unknown as { _asyncLocalStorage: import('node:async_hooks').AsyncLocalStorage<api.Context> })._asyncLocalStorage;
    traceExpressRouter({ api, core, tracer: tp.getTracer('express'), store });
  });
  afterAll(() => {
    process.off('uncaughtException', onUncaught);
  });

  it('traces sync, async and failing handlers with a plain-object res, and never throws into the app', async () => {
    const router = new Router();
    router.get('/sync/:id', (req, res, next) => {
      res.seen = req.params;
      next();
    });
    router.get('/async', async (_req, res) => {
      await new Promise((r) => setTimeout(r, 1));
      res.done = true;
    });
    router.get('/boom', () => {
      throw new Error('boom');
    });
    const res: Record<string, unknown> = {};
    expect(await handle(router, { url: '/sync/7', method: 'GET' }, res)).toBeUndefined();
    expect(res.seen).toEqual({ id: '7' });
    // An async handler that responds does not call next: wait for its promise to settle.
    router.handle({ url: '/async', method: 'GET' }, res, () => {});
    for (let i = 0; i < 100 && !spans.getFinishedSpans().some((s) => s.name === 'request handler - /async'); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(res.done).toBe(true);
    expect(((await handle(router, { url: '/boom', method: 'GET' }, {})) as Error).message).toBe('boom');
    // A response that is no emitter ends the handler span when the handler settles.
    const names = spans.getFinishedSpans().map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['request handler - /sync/:id', 'request handler - /async', 'request handler - /boom']));
    expect(spans.getFinishedSpans().find((s) => s.name === 'request handler - /boom')!.status.code).toBe(api.SpanStatusCode.ERROR);
    await new Promise((r) => setImmediate(r));
    expect(uncaught).toEqual([]);
  });

  it('dispatches a bare Route with plain objects, and with no req or res at all', async () => {
    const route = new Router.Route('/foo');
    let calls = 0;
    route.all((_req, _res, next) => {
      calls++;
      next();
    });
    await new Promise<void>((resolve) => route.dispatch({ method: 'GET', url: '/foo' }, {}, () => resolve()));
    await new Promise<void>((resolve) => route.dispatch({ method: 'GET', url: '/foo' }, undefined as never, () => resolve()));
    expect(calls).toBe(2);
    await new Promise((r) => setImmediate(r));
    expect(uncaught).toEqual([]);
  });

  it("hands the handler a different `next` from req.next once the channel has a subscriber: router 2.3's own behaviour", async () => {
    // Proof that no way of subscribing keeps the identity (docs/COMPATIBILITY.md, Express 5): router
    // wraps `next` whenever any of the five channels has a subscriber, a bindStore included.
    expect(await nextIsReqNext()).toBe(false);
  });

  it('res.format-style routing through req.next behaves exactly like the handler next', async () => {
    const router = new Router();
    const seen: unknown[] = [];
    router.get('/fmt', (req) => {
      // express's res.format() calls req.next(err) for a 406
      (req.next as Next)(Object.assign(new Error('Not Acceptable'), { status: 406 }));
    });
    router.use((err: Error, _req: unknown, _res: unknown, next: Next) => {
      seen.push(err.message);
      next();
    });
    expect(await handle(router, { url: '/fmt', method: 'GET' }, {})).toBeUndefined();
    expect(seen).toEqual(['Not Acceptable']);
  });
});

describe('router 2.3 without subscribers', () => {
  it('hands the handler req.next itself (what express test/res.format.js checks)', async () => {
    // Runs in a process of its own (vitest forks per file), so nothing here has subscribed yet.
    const { execFileSync } = await import('node:child_process');
    const script = `
      const Router = require('router');
      const dc = require('node:diagnostics_channel');
      const check = (label) => new Promise((done) => {
        const r = new Router();
        r.use((req, res, next) => { console.log(label, next === req.next); next(); });
        r.handle({ url: '/', method: 'GET' }, {}, done);
      });
      (async () => {
        await check('none');
        const ch = dc.tracingChannel('express.router.request');
        for (const ev of ['start', 'end', 'asyncStart', 'asyncEnd', 'error']) {
          const fn = () => {};
          ch[ev].subscribe(fn);
          await check(ev);
          ch[ev].unsubscribe(fn);
        }
        const { AsyncLocalStorage } = require('node:async_hooks');
        const als = new AsyncLocalStorage();
        ch.start.bindStore(als, (m) => m);
        await check('bindStore');
      })();`;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: process.cwd(), encoding: 'utf8' });
    expect(out.trim().split('\n')).toEqual([
      'none true',
      'start false',
      'end false',
      'asyncStart false',
      'asyncEnd false',
      'error false',
      'bindStore false',
    ]);
  });
});
