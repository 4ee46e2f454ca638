// Plugins named in OTEL_MONITOR_PLUGINS: loaded at start-up, initialized with a context (redacted
// config, resource, release, logger), their contributions attached to the distribution's
// providers, and their flush/close called on the distribution's own flush and shutdown.
// See docs/PLUGINS.md. Every call into plugin code is contained (host.ts).
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Resource } from '@opentelemetry/resources';
import type * as Logs from '@opentelemetry/sdk-logs';
import type * as Metrics from '@opentelemetry/sdk-metrics';
import type * as Trace from '@opentelemetry/sdk-trace';
import type { Config } from '../config.js';
import { redactUrl } from '../config.js';
import { log } from '../log.js';
import type { ReleaseInfo } from '../resource.js';
import { ForwardingLogProcessor, ForwardingMetricExporter, ForwardingSpanProcessor, guardExporter, Slot } from './host.js';
import { loadPlugin } from './load.js';
import type { OtelMonitorPlugin, PluginContext, PluginContributions } from './types.js';

export type { OtelMonitorPlugin, PluginContext, PluginContributions, PluginLogger } from './types.js';

export interface PluginDeps {
  resource: Resource;
  info: ReleaseInfo;
  trace: typeof Trace;
  logs: typeof Logs;
  metrics: typeof Metrics;
  /** Builds a reader with the lean histograms' producer (instrumentation/lean-metrics.ts), when there is one. */
  metricReader?: <R extends Metrics.IMetricReader>(build: (metricProducers: Metrics.MetricProducer[]) => R) => R;
}

export interface PluginHost {
  /** Installed in the providers only when plugins are configured. */
  spanProcessor: ForwardingSpanProcessor | undefined;
  logProcessor: ForwardingLogProcessor | undefined;
  metricReaders: Metrics.IMetricReader[];
  /** Called once the providers exist; registers instrumentations now and those that arrive later. */
  setRegister(register: (list: Instrumentation[]) => void): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** What the plugins contributed, gathered into the forwarding processors, exporters and readers. */
interface Gathered {
  deps: PluginDeps;
  spans: ForwardingSpanProcessor;
  logRecords: ForwardingLogProcessor;
  metricExports: ForwardingMetricExporter;
  /** Set once the providers exist; until then instrumentations wait in `pendingInstrumentations`. */
  register?: (list: Instrumentation[]) => void;
  pendingInstrumentations: Instrumentation[];
  /** Metric readers and exporters known at start-up, and whether a plugin may still contribute (async). */
  early: { readers: Metrics.IMetricReader[]; metricExporters: boolean; pending: boolean };
  started: boolean;
}

function attach(g: Gathered, slot: Slot, contributions: unknown): void {
  if (contributions === undefined || contributions === null) return;
  if (typeof contributions !== 'object') return slot.disable('initialize', new TypeError('initialize returned neither an object nor nothing'));
  const c = contributions as PluginContributions;
  for (const p of c.spanProcessors ?? []) g.spans.add(slot, p);
  for (const e of c.spanExporters ?? []) g.spans.add(slot, new g.deps.trace.BatchSpanProcessor({ exporter: guardExporter(slot, e) as Trace.SpanExporter }));
  for (const p of c.logRecordProcessors ?? []) g.logRecords.add(slot, p);
  for (const e of c.logRecordExporters ?? []) {
    g.logRecords.add(slot, new g.deps.logs.BatchLogRecordProcessor({ exporter: guardExporter(slot, e) as Logs.LogRecordExporter }));
  }
  for (const e of c.metricExporters ?? []) g.metricExports.add(slot, e);
  if (c.metricExporters?.length && !g.started) g.early.metricExporters = true;
  if (c.metricReaders?.length) {
    if (g.started) log.warn(`plugin ${slot.title}: metric readers returned after start-up are ignored (return them from a synchronous initialize, or return metricExporters)`);
    else g.early.readers.push(...c.metricReaders);
  }
  const instrumentations = c.instrumentations ?? [];
  const register = g.register;
  if (register) slot.call('instrumentation registration', () => register(instrumentations));
  else g.pendingInstrumentations.push(...instrumentations);
}

export function startPlugins(config: Config, deps: PluginDeps): PluginHost {
  const loaded: Array<{ slot: Slot; plugin: OtelMonitorPlugin }> = [];
  const g: Gathered = {
    deps,
    spans: new ForwardingSpanProcessor(),
    logRecords: new ForwardingLogProcessor(),
    metricExports: new ForwardingMetricExporter(),
    pendingInstrumentations: [],
    early: { readers: [], metricExporters: false, pending: false },
    started: false,
  };

  const initialize = (slot: Slot, plugin: OtelMonitorPlugin) => {
    slot.name = plugin.name;
    loaded.push({ slot, plugin });
    const result = slot.call('initialize', () => plugin.initialize(context(config, deps, slot)));
    if (typeof (result as Promise<unknown> | undefined)?.then === 'function') {
      g.early.pending = true;
      (result as Promise<PluginContributions | void>).then((c) => slot.enabled && slot.call('initialize', () => attach(g, slot, c)), (err: unknown) => slot.disable('initialize', err));
    } else if (slot.enabled) {
      slot.call('initialize', () => attach(g, slot, result));
    }
  };

  for (const spec of config.plugins) {
    const slot = new Slot(spec);
    try {
      const mod = loadPlugin(spec);
      if ('sync' in mod) initialize(slot, mod.sync);
      else {
        g.early.pending = true;
        mod.async.then((plugin) => initialize(slot, plugin), (err: unknown) => slot.disable('loading', err));
      }
    } catch (err) {
      slot.disable('loading', err);
    }
  }
  g.started = true;
  const any = config.plugins.length > 0;
  // A forwarding reader only when some plugin exports metrics or may still do so (it arrives late).
  const readers = [...g.early.readers];
  if (g.early.metricExporters || g.early.pending) {
    const build = (metricProducers: Metrics.MetricProducer[]) =>
      new deps.metrics.PeriodicExportingMetricReader({ exporter: g.metricExports, exportIntervalMillis: config.metrics.intervalMs, metricProducers });
    readers.push(deps.metricReader ? deps.metricReader(build) : build([]));
  }
  const each = (what: 'flush' | 'close') =>
    Promise.all(loaded.map(({ slot, plugin }) => (plugin[what] ? slot.callAsync(what, () => plugin[what]!()) : undefined))).then(() => undefined);
  return {
    spanProcessor: any ? g.spans : undefined,
    logProcessor: any ? g.logRecords : undefined,
    metricReaders: readers,
    setRegister(fn) {
      g.register = fn;
      if (g.pendingInstrumentations.length) fn(g.pendingInstrumentations.splice(0));
    },
    flush: () => each('flush'),
    close: () => each('close'),
  };
}

function context(config: Config, deps: PluginDeps, slot: Slot): PluginContext {
  const say = (level: 'error' | 'warn' | 'info' | 'debug') => (message: string) => log[level](`plugin ${slot.title}: ${message}`);
  return {
    config: redactedConfig(config),
    resource: deps.resource,
    release: { serviceName: deps.info.serviceName, release: deps.info.release, environment: deps.info.environment },
    logger: { error: say('error'), warn: say('warn'), info: say('info'), debug: say('debug') },
  };
}

/** A deep copy of the config with header values, URL credentials and the Sentry DSN replaced. */
export function redactedConfig(config: Config): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(config)) as Record<string, any>;
  for (const signal of ['traces', 'metrics', 'logs']) {
    const s = copy[signal];
    if (!s) continue;
    if (typeof s.endpoint === 'string') s.endpoint = redactUrl(s.endpoint);
    if (s.headers) for (const k of Object.keys(s.headers)) s.headers[k] = '[REDACTED]';
  }
  if (copy.sentry) copy.sentry.dsn = '[REDACTED]';
  return Object.freeze(copy);
}
