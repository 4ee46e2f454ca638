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
import type { Resource } from '@opentelemetry/resources';
import { buildResource, DISTRO_VERSION } from './resource.js';
import { traceHttpServer } from './instrumentation/http-server.js';
import { traceExpressRouter } from './instrumentation/express-router.js';
import { traceFastifyHandler } from './instrumentation/fastify-handler.js';
import { queueFull, sendPinoLogs } from './instrumentation/pino-logs.js';
import { injectFaults } from './instrumentation/channel-guard.js';
import { requireCjs } from './require.js';
import { log, describe, contained } from './log.js';
import { createMetricExporter } from './exporters/otlp.js';
import { registerPipelineMetrics } from './exporters/pipeline-metrics.js';
import { isExiting } from './exporters/exit-mode.js';
import { logProcessorChain, spanProcessorChain } from './processors/chain.js';
import type { ReleaseTags } from './processors/release-tags.js';
import { Redactor } from './processors/redaction.js';
import { denyMetricAttributes } from './processors/metric-attributes.js';
import { loadInstrumentations, type LoadedInstrumentations } from './instrumentation/load-instrumentations.js';
import { registerEsmHooks, type HookMode } from './instrumentation/esm-hooks.js';
import { startSystemMetrics } from './instrumentation/system-metrics.js';
import { armLazyActivation } from './instrumentation/lazy-activation.js';
import { recordTaskSpans } from './processors/task-status.js';
import { startSentry, type SentryLink } from './sentry/start.js';
import type { CrashOrigin } from './crash.js';
import { startPlugins, type PluginHost } from './plugins/index.js';
import { startHealth } from './health/start.js';
import { RequestIdPropagator, RequestIds } from './instrumentation/request-id.js';
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

/** The SDK packages, loaded through their CJS builds (require.ts). */
interface Otel {
  api: typeof Api;
  core: typeof Core;
  trace: typeof Trace;
  metrics: typeof Metrics;
  logs: typeof Logs;
}

interface Providers {
  tracerProvider: Trace.TracerProvider;
  meterProvider: Metrics.MeterProvider;
  loggerProvider: Logs.LoggerProvider;
}

type ContextManager = Api.ContextManager & { enable(): Api.ContextManager; _asyncLocalStorage: AsyncLocalStorage<Api.Context> };

function loadOtel(): Otel {
  return {
    api: requireCjs('@opentelemetry/api') as typeof Api,
    core: requireCjs('@opentelemetry/core') as typeof Core,
    trace: requireCjs('@opentelemetry/sdk-trace') as typeof Trace,
    metrics: requireCjs('@opentelemetry/sdk-metrics') as typeof Metrics,
    logs: requireCjs('@opentelemetry/sdk-logs') as typeof Logs,
  };
}

/** Diagnostics, the context manager and the propagators; returns the context's AsyncLocalStorage. */
function installGlobals({ api, core }: Otel, config: Config): AsyncLocalStorage<Api.Context> {
  const { AsyncLocalStorageContextManager } = requireCjs('@opentelemetry/context-async-hooks') as {
    AsyncLocalStorageContextManager: new () => ContextManager;
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
  return contextManager._asyncLocalStorage;
}

function createMeterProvider({ api, metrics }: Otel, config: Config, resource: Resource, pluginReaders: Metrics.IMetricReader[]): Metrics.MeterProvider {
  const readers: Metrics.IMetricReader[] = [...pluginReaders];
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
    views: [{ instrumentName: '*', attributesProcessors: [denyMetricAttributes(UNBOUNDED_METRIC_KEYS)] }],
  });
  api.metrics.setGlobalMeterProvider(meterProvider);
  return meterProvider;
}

function createTracerProvider(otel: Otel, config: Config, resource: Resource, spanProcessors: Trace.SpanProcessor[]): Trace.TracerProvider {
  const tracerProvider = new otel.trace.TracerProvider({
    resource,
    // A task run that the sampler drops must still count as a run, or it would look like a missed one.
    sampler: recordTaskSpans(createSampler(otel.trace, config.sampler)),
    spanProcessors,
  });
  otel.api.trace.setGlobalTracerProvider(tracerProvider);
  return tracerProvider;
}

/** The logger provider, and the setup the API's `logger` reads (logs/logger.ts). */
function createLoggerProvider(otel: Otel, config: Config, info: ReleaseInfo, resource: Resource, processors: Logs.LogRecordProcessor[], redactor: Redactor): Logs.LoggerProvider {
  const loggerProvider = new otel.logs.LoggerProvider({ resource, processors });
  otel.api.logs.setGlobalLoggerProvider(loggerProvider);
  publishLoggerSetup({
    config: config.logger,
    redactor,
    base: { service: info.serviceName, release: info.release, environment: info.environment },
    api: otel.api,
    version: DISTRO_VERSION,
  });
  return loggerProvider;
}

type Register = (list: Instr.Instrumentation[]) => void;

/** The upstream instrumentations the app can use, then our own diagnostics-channel tracers. */
function startInstrumentations(otel: Otel, config: Config, providers: Providers, store: AsyncLocalStorage<Api.Context>, logBatch: unknown): { register: Register; names: string[]; hookMode: HookMode } {
  const instrumentation = requireCjs('@opentelemetry/instrumentation') as typeof Instr;
  const register: Register = (list) => instrumentation.registerInstrumentations({ instrumentations: list, ...providers });
  const loaded = loadInstrumentations(config, (i) => contained('instrumentation activation', () => register([i])));
  const hookMode = registerEsmHooks(loaded.modules);
  register(loaded.instrumentations);
  armLazyActivation(loaded.pending);
  startChannelTracers(otel, config, providers, store, loaded, logBatch);
  return { register, names: loaded.names, hookMode };
}

function startChannelTracers(
  { api, core }: Otel,
  config: Config,
  { tracerProvider, meterProvider, loggerProvider }: Providers,
  store: AsyncLocalStorage<Api.Context>,
  loaded: LoadedInstrumentations,
  logBatch: unknown,
): void {
  const tracer = (name: string) => tracerProvider.getTracer(`@org/otel-monitor/${name}`, DISTRO_VERSION);
  if (config.httpServerTracer && loaded.names.includes('http')) {
    traceHttpServer({
      api,
      core,
      tracer: tracer('http-server'),
      meter: meterProvider.getMeter('@org/otel-monitor/http-server', DISTRO_VERSION),
      store,
      collectClientAddress: config.collectClientAddress,
      requestIds: config.requestId.enabled ? new RequestIds(config.requestId.header) : undefined,
    });
  }
  if (loaded.expressChannel) traceExpressRouter({ api, core, tracer: tracer('express'), store });
  if (loaded.fastifyChannel) traceFastifyHandler({ api, core, tracer: tracer('fastify'), store });
  if (loaded.pinoChannel && config.logs.exporter !== 'none') {
    sendPinoLogs(loggerProvider.getLogger('@org/otel-monitor/pino', DISTRO_VERSION), queueFull(logBatch));
  }
}

interface Flushable extends Providers {
  sentry?: SentryLink;
  plugins: PluginHost;
  health: ReturnType<typeof startHealth>;
}

/** Flush or shut down every signal, Sentry, then the plugins; resolves false when the timeout cut it short. */
async function flushAll(what: 'forceFlush' | 'shutdown', timeoutMs: number, p: Flushable): Promise<boolean> {
  if (what === 'shutdown') p.health.stop();
  const work = Promise.allSettled([
    p.tracerProvider[what](),
    p.meterProvider[what]({ timeoutMillis: timeoutMs }),
    p.loggerProvider[what](),
    p.sentry ? (what === 'shutdown' ? p.sentry.close(timeoutMs) : p.sentry.flush(timeoutMs)) : undefined,
    // Plugins flush or close after their processors and exporters have (inside the same timeout).
  ])
    .then(() => (what === 'shutdown' ? p.plugins.close() : p.plugins.flush()))
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
}

/** An uncaught exception or unhandled rejection: on the active span and to Sentry. */
function crashReporter(api: typeof Api, sentry: SentryLink | undefined, activeTraceId: () => string | undefined): Sdk['reportCrash'] {
  return (error, origin, fatal) => {
    // The span the error was raised in ends now with it, so the crashing request's trace is exported.
    const span = api.trace.getActiveSpan();
    if (fatal && span?.isRecording()) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    }
    sentry?.captureCrash(error, origin, fatal, activeTraceId());
    if (fatal) span?.end();
  };
}

/** The order matters: plugins and Sentry before the providers that carry their processors. */
export function startSdk(config: Config, info: ReleaseInfo): Sdk {
  const otel = loadOtel();
  const { api } = otel;
  const store = installGlobals(otel, config);
  const resource = buildResource(config, info);
  const tags: ReleaseTags = { release: info.release, environment: info.environment };
  const redactor = new Redactor(config.redactKeys);
  const plugins = startPlugins(config, { resource, info, trace: otel.trace, logs: otel.logs, metrics: otel.metrics });

  const meterProvider = createMeterProvider(otel, config, resource, plugins.metricReaders);
  const meter = meterProvider.getMeter('@org/otel-monitor');
  registerPipelineMetrics(meterProvider.getMeter('@org/otel-monitor/pipeline', DISTRO_VERSION), config);
  const activeTraceId = () => {
    const ctx = api.trace.getActiveSpan()?.spanContext();
    return ctx && api.isSpanContextValid(ctx) ? ctx.traceId : undefined;
  };
  const sentry = config.sentry ? startSentry(config, info, redactor, activeTraceId) : undefined;
  const spans = spanProcessorChain({ ...otel, config, tags, redactor, meter, plugin: plugins.spanProcessor, sentry });
  const tracerProvider = createTracerProvider(otel, config, resource, spans);
  const logChain = logProcessorChain({ logs: otel.logs, config, tags, redactor, plugin: plugins.logProcessor });
  const loggerProvider = createLoggerProvider(otel, config, info, resource, logChain.processors, redactor);
  const providers = { tracerProvider, meterProvider, loggerProvider };

  const { register, names, hookMode } = startInstrumentations(otel, config, providers, store, logChain.exporting);
  plugins.setRegister((list) => contained('plugin instrumentations', () => register(list)));
  startSystemMetrics(config, meter, register);
  const health = startHealth(config.health, api, otel.core, meterProvider.getMeter('@org/otel-monitor/health', DISTRO_VERSION), redactor);

  const all: Flushable = { ...providers, sentry, plugins, health };
  return {
    instrumentations: names,
    hookMode,
    sentry: !!sentry,
    reportCrash: crashReporter(api, sentry, activeTraceId),
    flush: (ms) => flushAll('forceFlush', ms, all),
    shutdown: (ms) => flushAll('shutdown', ms, all),
  };
}
