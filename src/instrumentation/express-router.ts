// Express 5 route and request-handler spans from the `router` package's own TracingChannel
// ('express.router.request', router >= 2.3), instead of @opentelemetry/instrumentation-express
// wrapping every layer of every router and binding every `next` callback to a context. A request
// costs one span for the matched handler plus two map lookups, and the route template reaches the
// HTTP server span (http.route) through the same RPC metadata the upstream instrumentation uses.
// Middleware layers get no span; an error any layer reports is recorded on the span it runs under.
// Express 4 (no channel) and OTEL_MONITOR_EXPRESS_LAYERS=true use instrumentation-express instead.
import { tracingChannel } from 'node:diagnostics_channel';
import type { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as Api from '@opentelemetry/api';
import type * as Core from '@opentelemetry/core';
import { setOwnAttributes } from './own-attributes.js';
import { Guard } from './channel-guard.js';

const CHANNEL = 'express.router.request';
const ERROR = 2; // SpanStatusCode.ERROR
const kSpan = Symbol('otel-monitor.express.span');
const kMounts = Symbol('otel-monitor.express.mounts');

interface Layer {
  method?: string;
}

interface Request {
  baseUrl?: string;
  [kMounts]?: Map<string, string>;
}

/** Usually a ServerResponse, but router's own tests (and some apps) drive it with plain objects. */
interface Response {
  writableEnded?: boolean;
  once?(event: 'close', listener: () => void): unknown;
}

interface RouterContext {
  req?: Request;
  res?: Response;
  layer: Layer;
  route?: unknown;
  errorHandler?: boolean;
  param?: string;
  error?: unknown;
  result?: unknown;
  [kSpan]?: Api.Span;
}

export interface ExpressRouterOptions {
  api: typeof Api;
  core: typeof Core;
  tracer: Api.Tracer;
  /** The AsyncLocalStorage behind the global context manager. */
  store: AsyncLocalStorage<Api.Context>;
}

/** Joins a mount template and a route template as instrumentation-express does: '/api' + '/' is '/api'. */
export function joinRoute(prefix: string, route: string): string {
  if (route === '/' || route === '/*' || route === '') return prefix || '/';
  return (prefix + route).replace(/\/{2,}/g, '/');
}

/**
 * The route template under which the request is now: a mount layer (a router or sub-app under a
 * path) is remembered by the concrete base URL the router gives it, so that a handler further in
 * finds its prefix from `req.baseUrl` alone, however the request got there.
 */
function prefixOf(req: Request): string {
  return (req.baseUrl && req[kMounts]?.get(req.baseUrl)) || '';
}

function rememberMount(req: Request, route: string): void {
  const base = req.baseUrl;
  if (!base) return;
  const mounts = (req[kMounts] ??= new Map());
  let parent = '';
  let best = -1;
  for (const [concrete, template] of mounts) {
    if (concrete.length > best && concrete.length < base.length && base.startsWith(concrete)) {
      best = concrete.length;
      parent = template;
    }
  }
  mounts.set(base, joinRoute(parent, route));
}

const template = (route: unknown): string => (route === undefined ? '/' : String(route));
const endSpan = (span: Api.Span): void => span.end();

export function traceExpressRouter(o: ExpressRouterOptions): void {
  const { api, core, tracer, store } = o;
  const channel = tracingChannel<unknown, RouterContext>(CHANNEL);
  const guard = new Guard('express');

  // A response that cannot say when it is sent (a plain object, not an emitter) ends the span as
  // the handler returns: that is all that can be known about it.
  const endWhenResponded = (span: Api.Span, res: Response | undefined) => {
    if (!res || res.writableEnded || typeof res.once !== 'function') span.end();
    else res.once('close', () => guard.run('response.close', endSpan, span));
  };

  // The transform runs as the layer starts; what it returns is the active context inside it.
  guard.bindStore(channel.start, store, 'start', (ctx) => {
    const active = store.getStore() ?? api.ROOT_CONTEXT;
    if (ctx.errorHandler || ctx.param !== undefined) return active;
    // Router hands over whatever the app called it with; without an object there is nothing to trace.
    const req = ctx.req !== null && typeof ctx.req === 'object' ? ctx.req : {};
    const route = template(ctx.route);
    if (!ctx.layer || !('method' in ctx.layer)) {
      if (route !== '/') rememberMount(req, route);
      return active;
    }
    const full = joinRoute(prefixOf(req), route);
    const rpc = core.getRPCMetadata(active);
    if (rpc?.type === core.RPCType.HTTP) rpc.route = full;
    // Attributes after the start, as in http-server.ts (own-attributes.ts).
    const span = tracer.startSpan(`request handler - ${full}`, undefined, active);
    setOwnAttributes(span, { 'http.route': full, 'express.name': route, 'express.type': 'request_handler' });
    ctx[kSpan] = span;
    return api.trace.setSpan(active, span);
  });

  guard.subscribeTracing(channel, {
    end(ctx) {
      const span = ctx[kSpan];
      // Neither set means the handler returned a promise: asyncEnd finishes it.
      if (span && ('result' in ctx || 'error' in ctx)) endWhenResponded(span, ctx.res);
    },
    asyncEnd(ctx) {
      const span = ctx[kSpan];
      if (span) endWhenResponded(span, ctx.res);
    },
    error(ctx) {
      // A handler span that already ended (next(err) from a late callback) hands over to the server span.
      const own = ctx[kSpan];
      const span = own?.isRecording() ? own : api.trace.getSpan(store.getStore() ?? api.ROOT_CONTEXT);
      if (!span?.isRecording()) return;
      const err = ctx.error;
      span.recordException(err instanceof Error || typeof err === 'string' ? err : String(err));
      span.setStatus({ code: ERROR, message: err instanceof Error ? err.message : String(err) });
    },
  });
}

/**
 * Whether the app's Express routes through a `router` that publishes the channel (Express 5 with
 * router >= 2.3). Resolved from the app's own Express, as that is the copy it will load.
 */
export function routerHasChannel(paths: string[]): boolean {
  try {
    const appRequire = createRequire(join(paths[0] ?? process.cwd(), 'noop.js'));
    const expressPkg = appRequire.resolve('express/package.json', { paths });
    // Express 4 has its own router; a `router` found further up (a parent's Express 5) is not its.
    const expressMajor = Number(((createRequire(expressPkg)('./package.json') as { version?: string }).version ?? '0').split('.')[0]);
    if (expressMajor < 5) return false;
    const routerPkg = createRequire(expressPkg).resolve('router/package.json');
    const version = (createRequire(routerPkg)('./package.json') as { version?: string }).version ?? '0';
    const [major = 0, minor = 0] = version.split('.').map(Number);
    return major > 2 || (major === 2 && minor >= 3);
  } catch {
    return false;
  }
}
