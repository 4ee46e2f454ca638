// Assembles the tracer, meter and logger providers from the config. The providers are built
// directly rather than through NodeSDK: NodeSDK re-reads the environment itself and loads every
// exporter flavour (gRPC included) at start-up, which costs time and duplicates config.ts.
import type { AsyncLocalStorage } from 'node:async_hooks';
import type * as Api from '@opentelemetry/api';
import type * as Core from '@opentelemetry/core';
import type * as Trace from '@opentelemetry/sdk-trace';
import type * as Metrics from '@opentelemetry/sdk-metrics';
import type * as Logs from '@opentelemetry/sdk-logs';
import type * as Instr from '@opentelemetry/instrumentation';
import type { Config } from './config.js';
import type { ReleaseInfo } from './resource.js';
import { buildResource, DISTRO_VERSION } from './resource.js';
import { traceIncomingHttp } from './instrumentation/http-server.js';
import { traceExpressRouter } from './instrumentation/express-router.js';
import { traceFastifyHandler } from './instrumentation/fastify-handler.js';
import { queueFull, sendPinoLogs } from './instrumentation/pino-logs.js';
import { injectFaults } from './instrumentation/channel-guard.js';
import { requireCjs } from './require.js';
import { log, describe, contained } from './log.js';
import { EncodingSpanProcessor, lazyEncodedTraceExporter } from './exporters/encoding-span-processor.js';
import { createLogExporter, createMetricExporter, createSpanExporter } from './exporters/otlp.js';
import { isExiting } from './exporters/exit-mode.js';
import { ReleaseTagLogProcessor, ReleaseTagSpanProcessor } from './processors/release-tags.js';
import { Redactor, RedactionLogProcessor, RedactionSpanProcessor } from './processors/redaction.js';
import { loadInstrumentations } from './instrumentation/instrumentations.js';
import { registerEsmHooks, type HookMode } from './instrumentation/esm-hooks.js';
import { startSystemMetrics } from './instrumentation/system-metrics.js';
import { armLazyActivation } from './instrumentation/lazy-activation.js';
import { TaskStatusSpanProcessor, recordTaskSpans } from './processors/task-status.js';
import { startSentry } from './instrumentation/sentry.js';
import type { CrashOrigin } from './crash.js';
import { startPlugins } from './plugins/index.js';
import { startHealth } from './health/start.js';
import { RequestIdLogProcessor, RequestIdPropagator, RequestIds } from './instrumentation/request-id.js';
import { publishLoggerSetup } from './logs/logger.js';

export interface Sdk {
  instrumentations: string[];
  hookMode: HookMode;
  sentry: boolean;
  /** An uncaught exception or unhandled rejection: on the active span and to Sentry (crash.ts). */
  reportCrash(error: unknown, origin: CrashOrigin, fatal: boolean): void;
  flush(timeoutMs: number): Promise<boolean>;
  /** Resolves false when the timeout cut it short. */
  shutdown(timeoutMs: number): Promise<boolean>;
}

/** Attribute keys that never become metric dimensions: unbounded values (full URLs, peers, agents). */
const UNBOUNDED_METRIC_KEYS = [
  'url.full',
  'url.path',
  'url.query',
  'http.url',
  'http.target',
  'client.address',
  'network.peer.address',
  'network.peer.port',
  'user_agent.original',
  'http.client_ip',
];
const CARDINALITY_LIMIT = 2000;

function installDiagLogger(api: typeof Api, level: Config['logLevel']): void {
  const levels: Record<Config['logLevel'], Api.DiagLogLevel> = {
    none: api.DiagLogLevel.NONE,
    error: api.DiagLogLevel.ERROR,
    warn: api.DiagLogLevel.WARN,
    info: api.DiagLogLevel.INFO,
    debug: api.DiagLogLevel.DEBUG,
    verbose: api.DiagLogLevel.VERBOSE,
    all: api.DiagLogLevel.ALL,
  };
  // SDK internals repeat the same failure on every export; say each distinct one once.
  // At exit every export failure is counted and said in one line (exit-mode.ts), not per signal.
  const once = (lvl: 'error' | 'warn' | 'info') => (raw: string, ...args: unknown[]) => {
    const msg = readable(raw);
    if (isExiting()) log.debug(msg);
    else log.once(lvl, `diag:${msg.slice(0, 80)}`, [msg, ...args.map((a) => (a instanceof Error ? describe(a) : typeof a === 'string' ? a : ''))].join(' ').trim());
  };
  api.diag.setLogger(
    {
      error: once('error'),
      warn: once('warn'),
      info: once('info'),
      debug: (m: string) => log.debug(m),
      verbose: (m: string) => log.debug(m),
    },
    { logLevel: levels[level], suppressOverrideMessage: true },
  );
}

/** The SDK's global error handler hands diag a JSON-serialized exception: its message is the news. */
function readable(msg: string): string {
  if (!msg.startsWith('{"')) return msg;
  try {
    const parsed = JSON.parse(msg) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : msg;
  } catch {
    return msg;
  }
}

function createSampler(trace: typeof Trace, c: Config['sampler']): Trace.Sampler {
  const ratio = new trace.TraceIdRatioBasedSampler(c.ratio);
  switch (c.name) {
    case 'always_on':
      return new trace.AlwaysOnSampler();
    case 'always_off':
      return new trace.AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_off':
      return new trace.ParentBasedSampler({ root: new trace.AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new trace.ParentBasedSampler({ root: ratio });
    default:
      return new trace.ParentBasedSampler({ root: new trace.AlwaysOnSampler() });
  }
}

export function startSdk(config: Config, info: ReleaseInfo): Sdk {
  const api = requireCjs('@opentelemetry/api') as typeof Api;
  const core = requireCjs('@opentelemetry/core') as typeof Core;
  const trace = requireCjs('@opentelemetry/sdk-trace') as typeof Trace;
  const metrics = requireCjs('@opentelemetry/sdk-metrics') as typeof Metrics;
  const logs = requireCjs('@opentelemetry/sdk-logs') as typeof Logs;
  const { AsyncLocalStorageContextManager } = requireCjs('@opentelemetry/context-async-hooks') as {
    AsyncLocalStorageContextManager: new () => Api.ContextManager & {
      enable(): Api.ContextManager;
      _asyncLocalStorage: AsyncLocalStorage<Api.Context>;
    };
  };

  installDiagLogger(api, config.logLevel);
  injectFaults(config.testFaults);
  const contextManager = new AsyncLocalStorageContextManager();
  api.context.setGlobalContextManager(contextManager.enable());
  api.propagation.setGlobalPropagator(
    new core.CompositePropagator({
      propagators: [
        new core.W3CTraceContextPropagator(),
        new core.W3CBaggagePropagator(),
        ...(config.requestId.enabled ? [new RequestIdPropagator(config.requestId.header)] : []),
      ],
    }),
  );

  const resource = buildResource(config, info);
  const tags = { release: info.release, environment: info.environment };
  const redactor = new Redactor(config.redactKeys);

  const plugins = startPlugins(config, { resource, info, trace, logs, metrics });
  const readers: Metrics.IMetricReader[] = [...plugins.metricReaders];
  if (config.metrics.exporter !== 'none') {
    readers.push(
      new metrics.PeriodicExportingMetricReader({
        exporter: createMetricExporter(config.metrics),
        exportIntervalMillis: config.metrics.intervalMs,
        exportTimeoutMillis: Math.min(config.metrics.timeoutMs, config.metrics.intervalMs),
        cardinalityLimits: { default: CARDINALITY_LIMIT },
      }),
    );
  }
  const meterProvider = new metrics.MeterProvider({
    resource,
    readers,
    views: [{ instrumentName: '*', attributesProcessors: [metrics.createDenyListAttributesProcessor(UNBOUNDED_METRIC_KEYS)] }],
  });
  api.metrics.setGlobalMeterProvider(meterProvider);
  const meter = meterProvider.getMeter('@org/otel-monitor');

  const activeTraceId = () => {
    const ctx = api.trace.getActiveSpan()?.spanContext();
    return ctx && api.isSpanContextValid(ctx) ? ctx.traceId : undefined;
  };
  const sentry = config.sentry ? startSentry(config, info, redactor, activeTraceId) : undefined;

  const spanProcessors: Trace.SpanProcessor[] = [
    new ReleaseTagSpanProcessor(tags),
    new TaskStatusSpanProcessor({ meter, lastSeenRoles: config.lastSeenRoles, sentry: sentry?.Sentry }),
    new RedactionSpanProcessor(redactor, config.collectClientAddress),
  ];
  if (plugins.spanProcessor) spanProcessors.push(plugins.spanProcessor);
  if (sentry) spanProcessors.push(...sentry.spanProcessors);
  if (config.traces.exporter === 'otlp' && config.traces.protocol === 'http/protobuf') {
    spanProcessors.push(
      new EncodingSpanProcessor(api, core.suppressTracing, lazyEncodedTraceExporter(config.traces), {
        maxQueueSize: config.batch.maxQueueSize,
        maxExportBatchSize: config.batch.maxExportBatchSize,
        scheduledDelayMillis: config.batch.scheduledDelayMs,
      }),
    );
  } else if (config.traces.exporter !== 'none') {
    spanProcessors.push(
      new trace.BatchSpanProcessor({
        exporter: createSpanExporter(config.traces),
        maxQueueSize: config.batch.maxQueueSize,
        maxExportBatchSize: config.batch.maxExportBatchSize,
        scheduledDelayMillis: config.batch.scheduledDelayMs,
        exportTimeoutMillis: config.batch.exportTimeoutMs,
      }),
    );
  }
  const tracerProvider = new trace.TracerProvider({
    resource,
    // A task run that the sampler drops must still count as a run, or it would look like a missed one.
    sampler: recordTaskSpans(createSampler(trace, config.sampler)),
    spanProcessors,
  });
  api.trace.setGlobalTracerProvider(tracerProvider);

  const logProcessors: Logs.LogRecordProcessor[] = [new ReleaseTagLogProcessor(tags), new RedactionLogProcessor(redactor)];
  if (plugins.logProcessor) logProcessors.push(plugins.logProcessor);
  if (config.requestId.enabled) logProcessors.unshift(new RequestIdLogProcessor());
  if (config.logs.exporter !== 'none') {
    logProcessors.push(
      new logs.BatchLogRecordProcessor({
        exporter: createLogExporter(config.logs),
        maxQueueSize: config.logBatch.maxQueueSize,
        maxExportBatchSize: config.logBatch.maxExportBatchSize,
        scheduledDelayMillis: config.logBatch.scheduledDelayMs,
        exportTimeoutMillis: config.logBatch.exportTimeoutMs,
      }),
    );
  }
  const loggerProvider = new logs.LoggerProvider({ resource, processors: logProcessors });
  api.logs.setGlobalLoggerProvider(loggerProvider);
  publishLoggerSetup({
    config: config.logger,
    redactor,
    base: { service: info.serviceName, release: info.release, environment: info.environment },
    api,
    version: DISTRO_VERSION,
  });

  const instrumentation = requireCjs('@opentelemetry/instrumentation') as typeof Instr;
  const register = (list: Instr.Instrumentation[]) =>
    instrumentation.registerInstrumentations({ instrumentations: list, tracerProvider, meterProvider, loggerProvider });
  const loaded = loadInstrumentations(config, (i) => contained('instrumentation activation', () => register([i])));
  const hookMode = registerEsmHooks(loaded.modules);
  register(loaded.instrumentations);
  armLazyActivation(loaded.pending);
  if (config.fastHttpServer && loaded.names.includes('http')) {
    traceIncomingHttp({
      api,
      core,
      tracer: tracerProvider.getTracer('@org/otel-monitor/http-server', DISTRO_VERSION),
      meter: meterProvider.getMeter('@org/otel-monitor/http-server', DISTRO_VERSION),
      store: contextManager._asyncLocalStorage,
      collectClientAddress: config.collectClientAddress,
      requestIds: config.requestId.enabled ? new RequestIds(config.requestId.header) : undefined,
    });
  }
  if (loaded.expressChannel) {
    traceExpressRouter({
      api,
      core,
      tracer: tracerProvider.getTracer('@org/otel-monitor/express', DISTRO_VERSION),
      store: contextManager._asyncLocalStorage,
    });
  }
  if (loaded.fastifyChannel) {
    traceFastifyHandler({
      api,
      core,
      tracer: tracerProvider.getTracer('@org/otel-monitor/fastify', DISTRO_VERSION),
      store: contextManager._asyncLocalStorage,
    });
  }
  if (loaded.pinoChannel && config.logs.exporter !== 'none') {
    const batch = logProcessors.find((p) => p instanceof logs.BatchLogRecordProcessor);
    sendPinoLogs(loggerProvider.getLogger('@org/otel-monitor/pino', DISTRO_VERSION), queueFull(batch));
  }
  plugins.setRegister((list) => contained('plugin instrumentations', () => register(list)));
  startSystemMetrics(config, meter, register);
  const health = startHealth(config.health, api, core, meterProvider.getMeter('@org/otel-monitor/health', DISTRO_VERSION), redactor);

  /** Resolves true when every signal finished within the timeout. */
  const each = async (what: 'forceFlush' | 'shutdown', timeoutMs: number): Promise<boolean> => {
    if (what === 'shutdown') health.stop();
    const work = Promise.allSettled([
      tracerProvider[what](),
      meterProvider[what]({ timeoutMillis: timeoutMs }),
      loggerProvider[what](),
      sentry ? (what === 'shutdown' ? sentry.close(timeoutMs) : sentry.flush(timeoutMs)) : undefined,
      // Plugins flush or close after their processors and exporters have (inside the same timeout).
    ])
      .then(() => (what === 'shutdown' ? plugins.close() : plugins.flush()))
      .then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => {
        // A shutdown that runs out of time is reported by lifecycle.ts, with what was dropped.
        if (what === 'forceFlush') log.warn(`flush did not finish within ${timeoutMs} ms; some telemetry may be lost`);
        resolve(false);
      }, timeoutMs);
      // Referenced: the export sockets and retry timers are not (exit-mode.ts), so at a natural
      // exit this timer is what keeps the process alive for the flush, up to the timeout.
    });
    const inTime = await Promise.race([work, timeout]);
    clearTimeout(timer);
    return inTime;
  };

  return {
    instrumentations: loaded.names,
    hookMode,
    sentry: !!sentry,
    reportCrash(error, origin, fatal) {
      // The span the error was raised in ends now with it, so the crashing request's trace is exported.
      const span = api.trace.getActiveSpan();
      if (fatal && span?.isRecording()) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      }
      sentry?.captureCrash(error, origin, fatal, activeTraceId());
      if (fatal) span?.end();
    },
    flush: (ms) => each('forceFlush', ms),
    shutdown: (ms) => each('shutdown', ms),
  };
}
