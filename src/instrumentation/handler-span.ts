// What the Express (express-router.ts) and Fastify (fastify-handler.ts) tracers both do around a
// route handler: one `request handler - <route>` span current inside it, the route template on the
// HTTP server span (http.route, through the RPC metadata as upstream does), the span ended when the
// response is sent, and the handler's error recorded.
import type { AsyncLocalStorage } from 'node:async_hooks';
import type * as Api from '@opentelemetry/api';
import type * as Core from '@opentelemetry/core';
import type { Guard } from './channel-guard.js';
import { adoptOwnAttributes } from './own-attributes.js';

const ERROR = 2; // SpanStatusCode.ERROR

export interface HandlerSpanOptions {
  api: typeof Api;
  core: typeof Core;
  tracer: Api.Tracer;
  /** The AsyncLocalStorage behind the global context manager. */
  store: AsyncLocalStorage<Api.Context>;
}

/** Usually a ServerResponse, but tests (and some apps) drive routers with plain objects. */
export interface RespondingObject {
  writableEnded?: boolean;
  once?(event: 'close', listener: () => void): unknown;
}

/** The context active where the handler starts. */
export const activeContext = (o: HandlerSpanOptions): Api.Context => o.store.getStore() ?? o.api.ROOT_CONTEXT;

/**
 * Starts the handler span under `active` with our own attributes (set after the start, as in
 * http-server.ts: own-attributes.ts), and names the route on the server span's RPC metadata.
 * Returns the span and the context that makes it current.
 */
export function startHandlerSpan(o: HandlerSpanOptions, active: Api.Context, route: string, attributes: Record<string, string>): [Api.Span, Api.Context] {
  const rpc = o.core.getRPCMetadata(active);
  if (rpc?.type === o.core.RPCType.HTTP) rpc.route = route;
  const span = o.tracer.startSpan(`request handler - ${route}`, undefined, active);
  adoptOwnAttributes(span, { 'http.route': route, ...attributes });
  return [span, o.api.trace.setSpan(active, span)];
}

/** Ends a span still recording (a second end would be a diagnostic warning). */
export const endSpan = (span: Api.Span): void => {
  if (span.isRecording()) span.end();
};

/**
 * Ends the span when the response is done. A response already ended, or one that cannot say when
 * it is sent (a plain object, not an emitter), ends it at once: that is all that can be known.
 */
export function endWhenResponded(guard: Guard, span: Api.Span, res: RespondingObject | undefined): void {
  if (!res || res.writableEnded || typeof res.once !== 'function') endSpan(span);
  else res.once('close', () => guard.run('response.close', endSpan, span));
}

/** The handler's error on `span`: an exception event and ERROR status, for an Error or anything thrown. */
export function recordHandlerError(span: Api.Span, err: unknown): void {
  // null, undefined and symbols are thrown too; String() handles them all (a template would not).
  const text = err instanceof Error ? err.message : String(err);
  span.recordException(err instanceof Error ? err : text);
  span.setStatus({ code: ERROR, message: text });
}
