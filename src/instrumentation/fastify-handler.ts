// Fastify route-handler spans from Fastify's own TracingChannel ('fastify.request.handler', every
// Fastify 5), instead of @fastify/otel registering a plugin on every instance and wrapping every
// hook. That plugin changes what the app sees (hook validation, thrown non-Error values, onRoute
// options, plugin names, a span and a context stored on each request); a channel subscriber changes
// nothing: one span per request for the matched handler, current inside it, the route template on
// the HTTP server span (http.route, through the RPC metadata as upstream does), and the handler's
// or a preHandler hook's error recorded. Fastify 4 (no channel) and OTEL_MONITOR_FASTIFY_HOOKS=true
// use @fastify/otel instead, when it is installed (load-instrumentations.ts).
import { tracingChannel } from 'node:diagnostics_channel';
import type { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';
import type * as Core from '@opentelemetry/core';
import { setOwnAttributes } from './own-attributes.js';
import { requireFromApp } from '../require.js';
import { Guard } from './channel-guard.js';

const CHANNEL = 'fastify.request.handler';
const ERROR = 2; // SpanStatusCode.ERROR

interface RawReply {
  writableEnded?: boolean;
  once?(event: 'close', listener: () => void): unknown;
}

/** The message Fastify publishes (lib/handle-request.js, lib/wrap-thenable.js). */
interface HandlerMessage {
  request?: { routeOptions?: { handler?: { name?: string } } };
  reply?: { raw?: RawReply };
  async?: boolean;
  route?: { url?: string; method?: string };
  error?: unknown;
}

export interface FastifyHandlerOptions {
  api: typeof Api;
  core: typeof Core;
  tracer: Api.Tracer;
  /** The AsyncLocalStorage behind the global context manager. */
  store: AsyncLocalStorage<Api.Context>;
}

function describeError(err: unknown): { exception: Error | string; message: string } {
  if (err instanceof Error) return { exception: err, message: err.message };
  // null, undefined and symbols are thrown too; String() handles them all (a template would not).
  const text = String(err);
  return { exception: text, message: text };
}

const endSpan = (span: Api.Span) => {
  if (span.isRecording()) span.end();
};

export function traceFastifyHandler(o: FastifyHandlerOptions): void {
  const { api, core, tracer, store } = o;
  const channel = tracingChannel<unknown, HandlerMessage>(CHANNEL);
  const guard = new Guard('fastify');
  // Kept beside Fastify's message rather than on it: nothing of ours is reachable from the app's objects.
  const spans = new WeakMap<HandlerMessage, Api.Span>();

  /** Ends the span when the response is done; at once if there is no response to wait for. */
  const endWhenResponded = (span: Api.Span, raw: RawReply | undefined) => {
    if (!raw || raw.writableEnded || typeof raw.once !== 'function') endSpan(span);
    else raw.once('close', () => guard.run('response.close', endSpan, span));
  };

  // The transform runs as the handler starts; what it returns is the active context inside it.
  guard.bindStore(channel.start, store, 'start', (msg) => {
    const active = store.getStore() ?? api.ROOT_CONTEXT;
    const route = msg.route?.url ?? '/';
    const rpc = core.getRPCMetadata(active);
    if (rpc?.type === core.RPCType.HTTP) rpc.route = route;
    const span = tracer.startSpan(`request handler - ${route}`, undefined, active);
    // Fastify binds the handler to its instance: 'bound getItem'.
    const name = msg.request?.routeOptions?.handler?.name?.replace(/^bound /, '');
    setOwnAttributes(span, { 'http.route': route, 'fastify.type': 'request-handler', 'hook.callback.name': name || 'anonymous' });
    spans.set(msg, span);
    return api.trace.setSpan(active, span);
  });

  guard.subscribeTracing(channel, {
    end(msg) {
      const span = spans.get(msg);
      if (!span) return;
      if (!msg.async) endWhenResponded(span, msg.reply?.raw);
      // An async handler's promise is still pending: asyncEnd finishes its span, except after
      // reply.hijack(), when Fastify publishes no asyncEnd; the response's close does it then.
      else msg.reply?.raw?.once?.('close', () => guard.run('response.close', endSpan, span));
    },
    asyncEnd(msg) {
      const span = spans.get(msg);
      if (span?.isRecording()) endWhenResponded(span, msg.reply?.raw);
    },
    error(msg) {
      const span = spans.get(msg) ?? api.trace.getSpan(store.getStore() ?? api.ROOT_CONTEXT);
      if (!span?.isRecording()) return;
      const { exception, message } = describeError(msg.error);
      span.recordException(exception);
      span.setStatus({ code: ERROR, message });
    },
  });
}

/**
 * Whether the app's Fastify publishes the handler channel (Fastify >= 5). Resolved from the app's
 * own Fastify, as that is the copy it will load.
 */
export function fastifyHasChannel(paths: string[]): boolean {
  try {
    const appRequire = requireFromApp(paths);
    const pkg = appRequire.resolve('fastify/package.json', { paths });
    const version = (createRequire(pkg)('./package.json') as { version?: string }).version ?? '0';
    return Number(version.split('.')[0]) >= 5;
  } catch {
    return false;
  }
}
