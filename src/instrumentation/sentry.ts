// Sentry takes errors, release-health sessions and cron check-ins; OpenTelemetry owns tracing.
// openTelemetryIntegration() attaches Sentry events to the active OpenTelemetry span so an error in
// Sentry links to the same trace the Collector forwards.
import type * as SentryNode from '@sentry/node';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { Config } from '../config.js';
import type { ReleaseInfo } from '../resource.js';
import type { Redactor } from '../processors/redaction.js';
import { REDACTED } from '../processors/redaction.js';
import { requireCjs } from '../require.js';
import { log, describe } from '../log.js';
import { InPlaceProcessor } from '../processors/in-place.js';

export type SentryModule = typeof SentryNode;

function scrubEvent<T extends SentryNode.Event>(event: T, redactor: Redactor): T {
  const req = event.request;
  if (req) {
    if (req.headers) req.headers = redactor.redactValue(req.headers) as Record<string, string>;
    if (req.cookies) req.cookies = { cookies: REDACTED };
    if (typeof req.url === 'string') req.url = redactor.redactString(req.url);
    if (typeof req.query_string === 'string') req.query_string = redactor.redactString(`?${req.query_string}`).slice(1);
    if (req.data !== undefined) req.data = redactor.redactValue(req.data);
  }
  if (event.extra) event.extra = redactor.redactValue(event.extra) as Record<string, unknown>;
  if (event.contexts) event.contexts = redactor.redactValue(event.contexts) as SentryNode.Event['contexts'];
  if (event.breadcrumbs) {
    event.breadcrumbs = event.breadcrumbs.map((b) => ({ ...b, data: b.data && (redactor.redactValue(b.data) as Record<string, unknown>) }));
  }
  return event;
}

export function startSentry(c: NonNullable<Config['sentry']>, info: ReleaseInfo, redactor: Redactor): SentryModule | undefined {
  try {
    const Sentry = requireCjs('@sentry/node') as SentryModule;
    Sentry.init({
      dsn: c.dsn,
      release: c.release ?? info.release,
      environment: c.environment ?? info.environment,
      sampleRate: c.sampleRate,
      // Headers and cookies are left out at the source; beforeSend still scrubs whatever slips through.
      dataCollection: { userInfo: false, cookies: false, httpHeaders: { request: { deny: redactor.keys }, response: false }, urlQueryParams: { deny: redactor.keys } },
      // The distribution's own instrumentations produce the spans; Sentry must not transform modules too.
      enableRuntimeChannelInjection: false,
      integrations: [Sentry.openTelemetryIntegration()],
      beforeSend: (event) => scrubEvent(event, redactor),
      beforeBreadcrumb: (b) => (b.data ? { ...b, data: redactor.redactValue(b.data) as Record<string, unknown> } : b),
    });
    return Sentry;
  } catch (err) {
    log.warn(`Sentry could not be started and is off: ${describe(err)}`);
    return undefined;
  }
}

/**
 * Sends errors that instrumentations recorded on spans (an Express handler that threw, a failed
 * query) to Sentry, which never sees them otherwise because the framework turned them into a 500.
 * Each exception is sent once per trace, however many spans it was recorded on.
 */
export class SentryErrorSpanProcessor extends InPlaceProcessor implements SpanProcessor {
  private readonly seen = new Map<string, number>();
  constructor(private readonly sentry: SentryModule) {
    super();
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (span.events.length === 0) return;
    for (const ev of span.events) {
      if (ev.name !== 'exception' || !ev.attributes) continue;
      const type = String(ev.attributes['exception.type'] ?? 'Error');
      const value = String(ev.attributes['exception.message'] ?? '');
      const { traceId, spanId } = span.spanContext();
      const key = `${traceId}:${type}:${value}`;
      if (this.seen.has(key)) continue;
      if (this.seen.size > 1000) this.seen.clear(); // bounded: a few duplicates beat unbounded memory
      this.seen.set(key, 1);
      const stack = ev.attributes['exception.stacktrace'];
      this.sentry.captureEvent({
        level: 'error',
        exception: {
          values: [
            {
              type,
              value,
              stacktrace: typeof stack === 'string' ? { frames: this.sentry.defaultStackParser(stack) } : undefined,
              mechanism: { type: 'otel-monitor.span', handled: false },
            },
          ],
        },
        contexts: { trace: { trace_id: traceId, span_id: spanId } },
        tags: {
          'span.name': span.name,
          ...(span.attributes['http.route'] ? { 'http.route': String(span.attributes['http.route']) } : {}),
        },
      });
    }
  }

}
