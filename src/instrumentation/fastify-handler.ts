// Fastify route-handler spans from Fastify's own TracingChannel ('fastify.request.handler', every
// Fastify 5), instead of @fastify/otel registering a plugin on every instance and wrapping every
// hook. That plugin changes what the app sees (hook validation, thrown non-Error values, onRoute
// options, plugin names, a span and a context stored on each request); a channel subscriber changes
// nothing: one span per request for the matched handler, current inside it, the route template on
// the HTTP server span (http.route, through the RPC metadata as upstream does), and the handler's
// or a preHandler hook's error recorded. Fastify 4 (no channel) and OTEL_MONITOR_FASTIFY_HOOKS=true
// use @fastify/otel instead, when it is installed (load-instrumentations.ts).
import { tracingChannel } from 'node:diagnostics_channel';
import type * as Api from '@opentelemetry/api';
import { appPackageVersion, atLeast } from './app-package.js';
import { Guard } from './channel-guard.js';
import { activeContext, endSpan, endWhenResponded, recordHandlerError, startHandlerSpan, type HandlerSpanOptions, type RespondingObject } from './handler-span.js';

const CHANNEL = 'fastify.request.handler';

/** The message Fastify publishes (lib/handle-request.js, lib/wrap-thenable.js). */
interface HandlerMessage {
  request?: { routeOptions?: { handler?: { name?: string } } };
  reply?: { raw?: RespondingObject };
  async?: boolean;
  route?: { url?: string; method?: string };
  error?: unknown;
}

export type FastifyHandlerOptions = HandlerSpanOptions;

export function traceFastifyHandler(o: FastifyHandlerOptions): void {
  const { api, store } = o;
  const channel = tracingChannel<unknown, HandlerMessage>(CHANNEL);
  const guard = new Guard('fastify');
  // Kept beside Fastify's message rather than on it: nothing of ours is reachable from the app's objects.
  const spans = new WeakMap<HandlerMessage, Api.Span>();

  // The transform runs as the handler starts; what it returns is the active context inside it.
  guard.bindStore(channel.start, store, 'start', (msg) => {
    // Fastify binds the handler to its instance: 'bound getItem'.
    const name = msg.request?.routeOptions?.handler?.name?.replace(/^bound /, '');
    const [span, context] = startHandlerSpan(o, activeContext(o), msg.route?.url ?? '/', { 'fastify.type': 'request-handler', 'hook.callback.name': name || 'anonymous' });
    spans.set(msg, span);
    return context;
  });

  guard.subscribeTracing(channel, {
    end(msg) {
      const span = spans.get(msg);
      if (!span) return;
      if (!msg.async) endWhenResponded(guard, span, msg.reply?.raw);
      // An async handler's promise is still pending: asyncEnd finishes its span, except after
      // reply.hijack(), when Fastify publishes no asyncEnd; the response's close does it then.
      else msg.reply?.raw?.once?.('close', () => guard.run('response.close', endSpan, span));
    },
    asyncEnd(msg) {
      const span = spans.get(msg);
      if (span?.isRecording()) endWhenResponded(guard, span, msg.reply?.raw);
    },
    error(msg) {
      const span = spans.get(msg) ?? api.trace.getSpan(activeContext(o));
      if (span?.isRecording()) recordHandlerError(span, msg.error);
    },
  });
}

/** Whether the app's Fastify publishes the handler channel (Fastify >= 5), resolved from the app's own copy. */
export function fastifyHasChannel(paths: string[]): boolean {
  return atLeast(appPackageVersion('fastify', paths), 5);
}
