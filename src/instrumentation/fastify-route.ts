// Fastify's http.route when @fastify/otel (an optional peer dependency) is not installed. Fastify 5
// publishes the 'fastify.request.handler' TracingChannel around every route handler, and its start
// message carries the request, whose routeOptions.url is the route template. Writing it into the RPC
// metadata that the HTTP server span put in the request's context gives that span and
// http.server.request.duration their http.route, which is what @fastify/otel does for them too.
// No handler or hook spans: those need @fastify/otel.
import type * as Api from '@opentelemetry/api';
import type * as Core from '@opentelemetry/core';
import { requireCjs } from '../require.js';
import { Guard } from './channel-guard.js';

const CHANNEL = 'tracing:fastify.request.handler:start';

interface HandlerStart {
  request?: { routeOptions?: { url?: unknown } };
}

let subscribed = false;

export function traceFastifyRoutes(): void {
  if (subscribed) return;
  subscribed = true;
  const api = requireCjs('@opentelemetry/api') as typeof Api;
  const core = requireCjs('@opentelemetry/core') as typeof Core;
  new Guard('fastify-route').subscribe<HandlerStart>(CHANNEL, 'start', (message) => {
    const url = message.request?.routeOptions?.url;
    const rpc = core.getRPCMetadata(api.context.active());
    if (typeof url === 'string' && rpc?.type === core.RPCType.HTTP) rpc.route = url;
  });
}
