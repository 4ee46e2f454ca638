// Sentry takes errors, release-health sessions and cron check-ins; OpenTelemetry owns tracing.
// openTelemetryIntegration() attaches Sentry events to the active OpenTelemetry span so an error in
// Sentry links to the same trace the Collector forwards. Sentry never creates spans or
// transactions here (no tracesSampleRate), so nothing is traced twice.
//
// @sentry/node is an optional peer dependency: it is loaded only when SENTRY_DSN is set.
import { createRequire } from 'node:module';
import type * as SentryNode from '@sentry/node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { Config } from '../config.js';
import type { ReleaseInfo } from '../resource.js';
import type { Redactor } from '../processors/redaction.js';
import type { CrashOrigin } from '../crash.js';
import { REDACTED } from '../processors/redaction.js';
import { requireCjs } from '../require.js';
import { log, describe } from '../log.js';
import { RequestSessions } from './sessions.js';
import { SentryErrorSpanProcessor } from '../processors/sentry-errors.js';
import { pinoBreadcrumbs, pinoIntegrations } from './logs.js';
import { loadProfiling, profilingOptions } from './profiling.js';
import { exportHttpModule } from '../exporters/exit-mode.js';

export type SentryModule = typeof SentryNode;

export interface SentryLink {
  Sentry: SentryModule;
  /** Request sessions, then span errors: add them to the tracer provider. */
  spanProcessors: SpanProcessor[];
  /** An uncaught exception or unhandled rejection, raised while `traceId` was active. */
  captureCrash(error: unknown, origin: CrashOrigin, fatal: boolean, traceId: string | undefined): void;
  flush(timeoutMs: number): Promise<boolean>;
  /** Flushes and stops Sentry; the profiler's last chunk goes out first. */
  close(timeoutMs: number): Promise<boolean>;
}

/**
 * Default integrations we replace: crash.ts owns the process handlers, sessions follow our spans,
 * and errors of the frameworks we trace come from their spans (one event each, handled: true).
 */
const REPLACED = new Set(['OnUncaughtException', 'OnUnhandledRejection', 'Http', 'Express', 'Fastify', 'Koa', 'Hapi']);

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

/**
 * Sentry names the transaction after the URL (`GET /orders/7`); the route template
 * (`GET /orders/:id`) groups one endpoint's errors together, as the OTel metrics do.
 */
function routeAsTransaction<T extends SentryNode.Event>(event: T): T {
  const route = event.tags?.['http.route'];
  const method = event.tags?.['http.request.method'];
  if (typeof route === 'string') event.transaction = typeof method === 'string' ? `${method} ${route}` : route;
  return event;
}

function loadSentry(): SentryModule | undefined {
  try {
    return requireCjs('@sentry/node') as SentryModule;
  } catch (err) {
    const missing = (err as { code?: string }).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes("'@sentry/node'");
    log.warn(
      missing
        ? 'SENTRY_DSN is set but @sentry/node is not installed: Sentry is off (npm install @sentry/node to turn it on)'
        : `Sentry could not be loaded and is off: ${describe(err)}`,
    );
    return undefined;
  }
}

type Transport = ReturnType<SentryModule['makeNodeTransport']>;

/**
 * Sentry's own transport, sending with OpenTelemetry tracing suppressed. Sentry's suppressTracing
 * marks a Sentry scope, which the OTel HTTP instrumentation does not read: each envelope became a
 * `POST` client span in the app's trace (the DSN key in its url.full). The request is made
 * synchronously inside send(), so the suppressed context reaches it. instrumentation-http records
 * http.client.request.duration even untraced: exportHttpModule keeps it out of the app's metrics.
 */
function untracedTransport(transport: Transport, untraced: <T>(fn: () => T) => T): Transport {
  return { ...transport, send: (envelope) => untraced(() => transport.send(envelope)) };
}

export function startSentry(
  config: Config,
  info: ReleaseInfo,
  redactor: Redactor,
  activeTraceId: () => string | undefined,
  untraced: <T>(fn: () => T) => T,
): SentryLink | undefined {
  const c = config.sentry;
  const Sentry = c && loadSentry();
  if (!c || !Sentry) return undefined;
  const profiling = config.profiling === 'sentry' ? loadProfiling() : undefined;
  const { integrations: profiler = [], ...profilerOptions } = profiling ? profilingOptions(profiling) : {};
  try {
    const client = Sentry.init({
      ...profilerOptions,
      dsn: c.dsn,
      // Byte for byte the service.version and deployment.environment.name of every OTel signal.
      release: info.release,
      environment: info.environment,
      sampleRate: c.sampleRate,
      transport: (options) =>
        untracedTransport(Sentry.makeNodeTransport({ ...options, httpModule: exportHttpModule(options.url) }), untraced),
      // Headers and cookies are left out at the source; beforeSend still scrubs whatever slips through.
      dataCollection: { userInfo: false, cookies: false, httpHeaders: { request: { deny: redactor.keys }, response: false }, urlQueryParams: { deny: redactor.keys } },
      // The distribution's own instrumentations produce the spans; Sentry must not transform modules too.
      enableRuntimeChannelInjection: false,
      integrations: (defaults) => [
        ...defaults.filter((i) => !REPLACED.has(i.name)),
        // Request isolation (request data and breadcrumbs per request) without Sentry's own
        // sessions, and no sentry-trace/baggage on outgoing requests: OTel's propagator does that.
        Sentry.httpIntegration({ sessions: false, tracePropagation: false } as Parameters<typeof Sentry.httpIntegration>[0]),
        Sentry.openTelemetryIntegration(),
        ...pinoIntegrations(Sentry, config.sentryLogs),
        ...profiler,
      ],
      beforeSend: (event) => scrubEvent(routeAsTransaction(event), redactor),
      beforeBreadcrumb: (b) => (b.data ? { ...b, data: redactor.redactValue(b.data) as Record<string, unknown> } : b),
    });
    if (!client) return undefined;
    if (profiling) Sentry.profiler.startProfiler();
    pinoBreadcrumbs(Sentry, config.sentryLogs, redactor);
    const sessions = new RequestSessions(Sentry, client, loadStartRequestSession(), activeTraceId);
    const errors = new SentryErrorSpanProcessor(Sentry, sessions);
    return {
      Sentry,
      spanProcessors: [errors, sessions],
      captureCrash(error, origin, fatal, traceId) {
        errors.captureCrash(error, origin, fatal, traceId);
        if (fatal) sessions.crash(traceId);
      },
      flush: (ms) => Sentry.flush(ms),
      close(ms) {
        if (profiling) Sentry.profiler.stopProfiler();
        return Sentry.close(ms);
      },
    };
  } catch (err) {
    log.warn(`Sentry could not be started and is off: ${describe(err)}`);
    return undefined;
  }
}

/** Sentry's per-minute request-session aggregation, from the @sentry/core that @sentry/node uses. */
function loadStartRequestSession(): ConstructorParameters<typeof RequestSessions>[2] {
  const fromSentryNode = createRequire(requireCjs.resolve('@sentry/node'));
  return (fromSentryNode('@sentry/core/server') as { startRequestSession: ConstructorParameters<typeof RequestSessions>[2] }).startRequestSession;
}
