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
import { apiSink, queueFull, type PinoSink } from './instrumentation/pino-logs.js';
import { PinoEmitter, type PinoEmitDeps } from './exporters/pino-emit.js';
import { lazyEncodedExporter } from './exporters/encoded-queue.js';
import { injectFaults } from './instrumentation/channel-guard.js';
import { requireCjs } from './require.js';
import { contained } from './log.js';
import { installDiagLogger } from './diag.js';
import { createSampler, samplesUnderSampledParents } from './sampler.js';
import { flushAll, type Flushable, type Sdk } from './lifecycle.js';
import { crashReporter } from './crash.js';
import { createMetricExporter } from './exporters/otlp.js';
import { registerPipelineMetrics } from './exporters/pipeline-metrics.js';
import { logProcessorChain, spanProcessorChain } from './processors/chain.js';
import type { ReleaseTags } from './processors/release-tags.js';
import { Redactor } from './processors/redaction.js';
import { denyMetricAttributes } from './processors/metric-attributes.js';
import { loadInstrumentations, type LoadedInstrumentations } from './instrumentation/load-instrumentations.js';
import type { TracerDeps } from './instrumentation/own-tracers.js';
import { registerEsmHooks, type HookMode } from './instrumentation/esm-hooks.js';
import { startSystemMetrics } from './instrumentation/system-metrics.js';
import { armLazyActivation } from './instrumentation/lazy-activation.js';
import { recordTaskSpans } from './processors/task-status.js';
import { startSentry } from './sentry/start.js';
import { startPlugins } from './plugins/index.js';
import { startHealth } from './health/start.js';
import { RequestIdPropagator } from './instrumentation/request-id.js';
import { leanTracer, type LeanOf } from './instrumentation/lean-tracer.js';
import { publishLoggerSetup } from './logs/logger.js';
import { LeanMetrics } from './instrumentation/lean-metrics.js';

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
export const CARDINALITY_LIMIT = 2000;
export const METRIC_ATTRIBUTES = denyMetricAttributes(UNBOUNDED_METRIC_KEYS);
/** The one view, for every instrument; its limit applies to every reader alike (a reader's own limits reach no instrument a view selects). */
export const METRIC_VIEWS: Metrics.ViewOptions[] = [{ instrumentName: '*', attributesProcessors: [METRIC_ATTRIBUTES], aggregationCardinalityLimit: CARDINALITY_LIMIT }];

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

/** What instrumentations get: a meter provider whose meters may be lean ones (lean-metrics.ts). */
type Instrumented = Omit<Providers, 'meterProvider'> & { meterProvider: Api.MeterProvider };

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

/**
 * The meter provider; every reader we build carries the lean histograms' producer (lean-metrics.ts),
 * which decides here, before any instrument exists, whether they can be lean.
 */
function createMeterProvider({ api, metrics }: Otel, config: Config, resource: Resource, pluginReaders: Metrics.IMetricReader[], lean: LeanMetrics | undefined): Metrics.MeterProvider {
  const readers: Metrics.IMetricReader[] = [...pluginReaders];
  if (config.metrics.exporter !== 'none') {
    const build = (metricProducers: Metrics.MetricProducer[]) =>
      new metrics.PeriodicExportingMetricReader({
        exporter: createMetricExporter(config.metrics),
        exportIntervalMillis: config.metrics.intervalMs,
        exportTimeoutMillis: Math.min(config.metrics.timeoutMs, config.metrics.intervalMs),
        cardinalityLimits: { default: CARDINALITY_LIMIT },
        metricProducers,
      });
    readers.push(lean ? lean.reader(build) : build([]));
  }
  lean?.decide(readers);
  const meterProvider = new metrics.MeterProvider({
    resource,
    readers,
    views: METRIC_VIEWS,
  });
  api.metrics.setGlobalMeterProvider(meterProvider);
  return meterProvider;
}

/** The lean histograms' producer, unless OTEL_MONITOR_LEAN_METRICS=false. */
function leanMetrics({ api, core }: Otel, config: Config, resource: Resource): LeanMetrics | undefined {
  if (!config.leanMetrics) return undefined;
  return new LeanMetrics({ resource, processor: METRIC_ATTRIBUTES, cardinalityLimit: CARDINALITY_LIMIT, millisToHrTime: core.millisToHrTime, diag: api.diag });
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
function startInstrumentations(otel: Otel, config: Config, providers: Instrumented, store: AsyncLocalStorage<Api.Context>, pino: PinoSink): { register: Register; names: string[]; hookMode: HookMode } {
  const instrumentation = requireCjs('@opentelemetry/instrumentation') as typeof Instr;
  const register: Register = (list) => instrumentation.registerInstrumentations({ instrumentations: list, ...providers });
  const lean = leanOf(otel, config);
  const loaded = loadInstrumentations(config, (i) => contained('instrumentation activation', () => register([i])), store, lean);
  const hookMode = registerEsmHooks(loaded.modules);
  register(loaded.instrumentations);
  armLazyActivation(loaded.pending);
  startChannelTracers(otel, config, providers, store, loaded, pino, lean);
  return { register, names: loaded.names, hookMode };
}

/**
 * What our channel tracers start: lean spans (lean-span.ts), unless OTEL_MONITOR_LEAN_SPANS=false, or
 * Sentry or a plugin is configured: their span processors may read the SDK's span class itself.
 */
export function spanKind(config: Config): 'lean' | 'sdk' | 'sdk-for-sentry' | 'sdk-for-plugins' {
  if (!config.leanSpans) return 'sdk';
  if (config.sentry) return 'sdk-for-sentry';
  return config.plugins.length > 0 ? 'sdk-for-plugins' : 'lean';
}

/** Our tracer beside an SDK Tracer: lean spans when spanKind says so, else that SDK Tracer itself. */
function leanOf({ api, core }: Otel, config: Config): LeanOf {
  if (spanKind(config) !== 'lean') return (sdk) => sdk;
  const options = { samplesUnderSampledParents: samplesUnderSampledParents(config.sampler) };
  return (sdk) => leanTracer(sdk, api, core, options) ?? sdk;
}

/** Our channel tracers that load-instrumentations.ts chose (own-tracers.ts), each with our tracer of its name. */
function startChannelTracers({ api, core }: Otel, config: Config, { tracerProvider, meterProvider }: Instrumented, store: AsyncLocalStorage<Api.Context>, loaded: LoadedInstrumentations, pino: PinoSink, lean: LeanOf): void {
  const tracer = (name: string) => lean(tracerProvider.getTracer(`@org/otel-monitor/${name}`, DISTRO_VERSION));
  const deps: TracerDeps = { api, core, config, store, tracer, meter: (name) => meterProvider.getMeter(name, DISTRO_VERSION), pino };
  for (const own of loaded.own) own.start?.(deps);
}

interface PinoDeps {
  resource: Resource;
  redactor: Redactor;
  tags: ReleaseTags;
  plugin?: { readonly active: boolean };
  loggerProvider: Logs.LoggerProvider;
  batch: unknown;
}

/**
 * pino lines encoded at emit (exporters/pino-emit.ts), or through the Logs API (the SDK path) when
 * OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS has `pino` or the logs exporter is not OTLP/HTTP protobuf;
 * while a plugin has a log processor, the emitter hands records to the SDK path itself.
 */
function pinoLogs({ api, core }: Otel, config: Config, d: PinoDeps): { sink: PinoSink; emitter?: PinoEmitter } {
  const logger = d.loggerProvider.getLogger('@org/otel-monitor/pino', DISTRO_VERSION);
  const sdkPath = apiSink(logger, queueFull(d.batch));
  const { logs, logBatch } = config;
  if (config.upstreamInstrumentations.has('pino') || logs.exporter !== 'otlp' || logs.protocol !== 'http/protobuf') return { sink: sdkPath };
  const emitter = new PinoEmitter({
    api,
    timeInputToHrTime: core.timeInputToHrTime,
    suppress: core.suppressTracing,
    resource: d.resource as unknown as PinoEmitDeps['resource'],
    scope: { name: '@org/otel-monitor/pino', version: DISTRO_VERSION },
    redactor: d.redactor,
    tags: d.tags,
    requestIds: config.requestId.enabled,
    exporter: lazyEncodedExporter('logs', logs),
    options: { maxQueueSize: logBatch.maxQueueSize, maxExportBatchSize: logBatch.maxExportBatchSize, scheduledDelayMillis: logBatch.scheduledDelayMs },
    fallback: d.plugin && { active: () => d.plugin!.active, emit: (r) => sdkPath.emit(r) },
  });
  return { sink: emitter, emitter };
}

/** The order matters: plugins and Sentry before the providers that carry their processors. */
export type { Sdk };

export function startSdk(config: Config, info: ReleaseInfo): Sdk {
  const otel = loadOtel();
  const { api } = otel;
  const store = installGlobals(otel, config);
  const resource = buildResource(config, info);
  const tags: ReleaseTags = { release: info.release, environment: info.environment };
  const redactor = new Redactor(config.redactKeys);
  const lean = leanMetrics(otel, config, resource);
  const plugins = startPlugins(config, { resource, info, trace: otel.trace, logs: otel.logs, metrics: otel.metrics, metricReader: lean && ((build) => lean.reader(build)) });

  const meterProvider = createMeterProvider(otel, config, resource, plugins.metricReaders, lean);
  const meter = meterProvider.getMeter('@org/otel-monitor');
  registerPipelineMetrics(meterProvider.getMeter('@org/otel-monitor/pipeline', DISTRO_VERSION), config);
  const activeTraceId = () => {
    const ctx = api.trace.getActiveSpan()?.spanContext();
    return ctx && api.isSpanContextValid(ctx) ? ctx.traceId : undefined;
  };
  const untraced = <T>(fn: () => T): T => api.context.with(otel.core.suppressTracing(api.context.active()), fn);
  const sentry = config.sentry ? startSentry(config, info, redactor, activeTraceId, untraced) : undefined;
  const spans = spanProcessorChain({ ...otel, config, tags, redactor, meter, plugin: plugins.spanProcessor, sentry });
  const tracerProvider = createTracerProvider(otel, config, resource, spans);
  const logChain = logProcessorChain({ logs: otel.logs, config, tags, redactor, plugin: plugins.logProcessor });
  const loggerProvider = createLoggerProvider(otel, config, info, resource, logChain.processors, redactor);
  const providers = { tracerProvider, meterProvider, loggerProvider };

  const pino = pinoLogs(otel, config, { resource, redactor, tags, plugin: plugins.logProcessor, loggerProvider, batch: logChain.exporting });
  // Our tracers' meters can make their duration histograms lean (lean-metrics.ts); flushing stays with the SDK's provider.
  const instrumented = { ...providers, meterProvider: lean?.meterProvider(meterProvider) ?? meterProvider };
  const { register, names, hookMode } = startInstrumentations(otel, config, instrumented, store, pino.sink);
  plugins.setRegister((list) => contained('plugin instrumentations', () => register(list)));
  // Host, runtime and process metrics nobody reads are pure cost (runtime-node's gc observer alone
  // adds ~8 KB of survivors to every scavenge, BENCHMARKS.md): with no metrics exporter and no
  // plugin reader they are not started at all.
  if (config.metrics.exporter !== 'none' || plugins.metricReaders.length > 0) startSystemMetrics(config, meter, register);
  const health = startHealth(config.health, api, otel.core, meterProvider.getMeter('@org/otel-monitor/health', DISTRO_VERSION), redactor);

  const all: Flushable = { ...providers, sentry, plugins, health, pinoLogs: pino.emitter };
  return {
    instrumentations: names,
    hookMode,
    metrics: lean?.mode ?? 'sdk',
    sentry: !!sentry,
    reportCrash: crashReporter(api, sentry, activeTraceId),
    flush: (ms) => flushAll('forceFlush', ms, all),
    shutdown: (ms) => flushAll('shutdown', ms, all),
  };
}
