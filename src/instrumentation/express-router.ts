// Express 5 route and request-handler spans from the `router` package's own TracingChannel
// ('express.router.request', router >= 2.3), instead of @opentelemetry/instrumentation-express
// wrapping every layer of every router and binding every `next` callback to a context. A request
// costs one span for the matched handler plus two map lookups, and the route template reaches the
// HTTP server span (http.route) through the same RPC metadata the upstream instrumentation uses.
// Middleware layers get no span; an error any layer reports is recorded on the span it runs under.
// Express 4 (no channel) and OTEL_MONITOR_EXPRESS_LAYERS=true use instrumentation-express instead.
import { tracingChannel } from 'node:diagnostics_channel';
import type * as Api from '@opentelemetry/api';
import { Guard } from './channel-guard.js';
import { activeContext, endWhenResponded, recordHandlerError, startHandlerSpan, type HandlerSpanOptions, type RespondingObject } from './handler-span.js';
import { appPackageVersion, atLeast } from './app-package.js';

const CHANNEL = 'express.router.request';
const kSpan = Symbol('otel-monitor.express.span');
const kMounts = Symbol('otel-monitor.express.mounts');

interface Layer {
  method?: string;
}

interface Request {
  baseUrl?: string;
  [kMounts]?: Map<string, string>;
}

interface RouterContext {
  req?: Request;
  res?: RespondingObject;
  layer: Layer;
  route?: unknown;
  errorHandler?: boolean;
  param?: string;
  error?: unknown;
  result?: unknown;
  [kSpan]?: Api.Span;
}

export type ExpressRouterOptions = HandlerSpanOptions;

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

export function traceExpressRouter(o: ExpressRouterOptions): void {
  const { api, store } = o;
  const channel = tracingChannel<unknown, RouterContext>(CHANNEL);
  const guard = new Guard('express');

  // The transform runs as the layer starts; what it returns is the active context inside it.
  guard.bindStore(channel.start, store, 'start', (ctx) => {
    const active = activeContext(o);
    if (ctx.errorHandler || ctx.param !== undefined) return active;
    // Router hands over whatever the app called it with; without an object there is nothing to trace.
    const req = ctx.req !== null && typeof ctx.req === 'object' ? ctx.req : {};
    const route = template(ctx.route);
    if (!ctx.layer || !('method' in ctx.layer)) {
      if (route !== '/') rememberMount(req, route);
      return active;
    }
    const [span, context] = startHandlerSpan(o, active, joinRoute(prefixOf(req), route), { 'express.name': route, 'express.type': 'request_handler' });
    ctx[kSpan] = span;
    return context;
  });

  guard.subscribeTracing(channel, {
    end(ctx) {
      const span = ctx[kSpan];
      // Neither set means the handler returned a promise: asyncEnd finishes it.
      if (span && ('result' in ctx || 'error' in ctx)) endWhenResponded(guard, span, ctx.res);
    },
    asyncEnd(ctx) {
      const span = ctx[kSpan];
      if (span) endWhenResponded(guard, span, ctx.res);
    },
    error(ctx) {
      // A handler span that already ended (next(err) from a late callback) hands over to the server span.
      const own = ctx[kSpan];
      const span = own?.isRecording() ? own : api.trace.getSpan(activeContext(o));
      if (span?.isRecording()) recordHandlerError(span, ctx.error);
    },
  });
}

/**
 * Whether the app's Express routes through a `router` that publishes the channel (Express 5 with
 * router >= 2.3). Resolved from the app's own Express, as that is the copy it will load; Express 4
 * has its own router, and a `router` found further up (a parent's Express 5) is not its.
 */
export function routerHasChannel(paths: string[]): boolean {
  const express = appPackageVersion('express', paths);
  return !!express && express.major >= 5 && atLeast(appPackageVersion('router', paths, express.packageJson), 2, 3);
}
