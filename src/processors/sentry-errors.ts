// Errors to Sentry, once each and with `handled` telling the truth:
// - an exception an instrumentation recorded on a span (an Express/Fastify/Koa handler that threw,
//   which the framework turned into a 500; a failed query the app caught) is handled: true;
// - an uncaught exception or unhandled rejection is handled: false (crash.ts reports those).
// An exception recorded on several spans of a trace (handler, router, server) is sent once.
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import type * as SentryNode from '@sentry/node';
import type { CrashOrigin } from '../crash.js';
import { InPlaceProcessor } from '../processors/in-place.js';
import { log, describe } from '../log.js';
import type { RequestSessions } from '../sentry/sessions.js';

type Attrs = ReadableSpan['attributes'];
/** Bounded: after this many distinct errors the memory is cleared; a few duplicates beat growth. */
const MAX_SEEN = 1000;

export class SentryErrorSpanProcessor extends InPlaceProcessor implements SpanProcessor {
  private readonly seen = new Set<string>();

  constructor(
    private readonly sentry: typeof SentryNode,
    private readonly sessions: RequestSessions | undefined,
  ) {
    super();
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (span.events.length === 0) return;
    try {
      this.captureSpanErrors(span);
    } catch (err) {
      // Runs inside the app's span.end(): a Sentry failure must not reach the app.
      log.once('warn', 'sentry-span-errors', `span errors could not be sent to Sentry: ${describe(err)}`);
    }
  }

  private captureSpanErrors(span: ReadableSpan): void {
    for (const ev of span.events) {
      if (ev.name !== 'exception' || !ev.attributes) continue;
      const type = String(ev.attributes['exception.type'] ?? 'Error');
      const value = String(ev.attributes['exception.message'] ?? '');
      const { traceId, spanId } = span.spanContext();
      if (!this.firstTime(traceId, type, value)) continue;
      const stack = ev.attributes['exception.stacktrace'];
      this.sessions?.mark(traceId, 'errored');
      const server = this.sessions?.serverAttributes(traceId) ?? {};
      const http = requestOf(span.attributes, server);
      this.sentry.captureEvent({
        level: 'error',
        exception: {
          values: [
            {
              type,
              value,
              stacktrace: typeof stack === 'string' ? { frames: this.sentry.defaultStackParser(stack) } : undefined,
              mechanism: { type: http.method ? 'otel-monitor.http' : 'otel-monitor.span', handled: true },
            },
          ],
        },
        contexts: { trace: { trace_id: traceId, span_id: spanId } },
        ...(http.route ? { transaction: `${http.method ?? ''} ${http.route}`.trim() } : {}),
        ...(http.request ? { request: http.request } : {}),
        tags: {
          'span.name': span.name,
          ...(http.route ? { 'http.route': http.route } : {}),
          ...(http.method ? { 'http.request.method': http.method } : {}),
        },
      });
    }
  }

  /**
   * An uncaught exception or unhandled rejection. Its exception is marked as seen so that the span
   * it ends on (crash.ts ends the active span) does not send it a second time as handled.
   */
  captureCrash(error: unknown, origin: CrashOrigin, fatal: boolean, traceId: string | undefined): void {
    if (traceId && error instanceof Error) this.firstTime(traceId, error.name, error.message);
    this.sentry.captureException(error, {
      captureContext: { level: fatal ? 'fatal' : 'error' },
      mechanism: { handled: false, type: origin === 'uncaughtException' ? 'auto.node.onuncaughtexception' : 'auto.node.onunhandledrejection' },
    });
  }

  private firstTime(traceId: string, type: string, value: string): boolean {
    const key = `${traceId}:${type}:${value}`;
    if (this.seen.has(key)) return false;
    if (this.seen.size >= MAX_SEEN) this.seen.clear();
    this.seen.add(key);
    return true;
  }
}

/** Route, method and request (URL without credentials; Sentry's scrubbing runs on it later). */
function requestOf(span: Attrs, server: Attrs): { route?: string; method?: string; request?: SentryNode.Event['request'] } {
  const pick = (k: string) => {
    const v = span[k] ?? server[k];
    return v === undefined ? undefined : String(v);
  };
  const route = pick('http.route');
  const method = pick('http.request.method') ?? pick('http.method');
  const path = pick('url.path');
  if (!method || !path) return { route, method };
  const host = pick('server.address');
  const port = pick('server.port');
  const origin = host ? `${pick('url.scheme') ?? 'http'}://${host}${port ? `:${port}` : ''}` : '';
  const query = pick('url.query');
  return { route, method, request: { method, url: `${origin}${path}`, ...(query ? { query_string: query } : {}) } };
}
