// The shape of the parsed configuration: what src/config.ts's readConfig returns.
import type { Level } from '../log.js';

export type Env = Record<string, string | undefined>;
export type Protocol = 'http/protobuf' | 'http/json';
export type SignalExporter = 'otlp' | 'console' | 'none';
export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

export interface SignalConfig {
  exporter: SignalExporter;
  endpoint: string;
  protocol: Protocol;
  headers: Record<string, string>;
  timeoutMs: number;
  compression: 'gzip' | 'none';
}

export interface BatchConfig {
  scheduledDelayMs: number;
  maxQueueSize: number;
  maxExportBatchSize: number;
  exportTimeoutMs: number;
}

export interface Config {
  disabled: boolean;
  logLevel: Level;
  serviceName?: string;
  /** Parsed OTEL_RESOURCE_ATTRIBUTES, percent-decoded. */
  resourceAttributes: Record<string, string>;
  /** The release (service.version) and where it came from; resource.ts falls back to package.json. */
  release?: Sourced;
  /** A commit SHA from the CI/PaaS environment, for vcs.ref.head.revision. */
  commit?: Sourced;
  environment?: Sourced;
  traces: SignalConfig;
  metrics: SignalConfig & { intervalMs: number };
  logs: SignalConfig;
  sampler: { name: SamplerName; ratio: number };
  batch: BatchConfig;
  logBatch: BatchConfig;
  /** Instrumentation short names (e.g. "express"); undefined means "the defaults". */
  enabledInstrumentations?: string[];
  disabledInstrumentations: string[];
  resourceDetectors: string[];
  /** Which cloud/container environments are present: their detectors probe the network or files otherwise. */
  platform: { aws: boolean; gcp: boolean; azure: boolean; alibaba: boolean; container: boolean };
  hostMetrics: boolean;
  runtimeMetrics: boolean;
  /** v8js.gc.duration, i.e. Node's gc PerformanceObserver (costly on Node 22/24: instrumentation/runtime-gc.ts). */
  gcMetrics: boolean;
  expressLayers: boolean;
  /** @fastify/otel (a span per hook) instead of the Fastify handler channel. */
  fastifyHooks: boolean;
  /** trace_id/span_id/trace_flags written into the app's own log lines (pino, winston, bunyan). */
  logCorrelation: boolean;
  redactKeys: string[];
  lastSeenRoles: string[];
  /** Plugin modules to load at start (OTEL_MONITOR_PLUGINS): paths from the cwd, packages from the app's directory. */
  plugins: string[];
  shutdownTimeoutMs: number;
  compileCache: boolean;
  /** Whether an app's own worker threads start the SDK (log-transport workers never do: worker-role.ts). */
  workers: boolean;
  /** Incoming HTTP traced by our own tracer (instrumentation/http-server.ts) rather than instrumentation-http (OTEL_MONITOR_FAST_HTTP_SERVER). */
  httpServerTracer: boolean;
  /**
   * Libraries traced by the maintained upstream instrumentation instead of our own hot-path code
   * (OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS): the escape hatch every replacement keeps.
   */
  upstreamInstrumentations: ReadonlySet<UpstreamInstrumentation>;
  /** client.address / network.peer.address on server spans (OTEL_MONITOR_COLLECT_CLIENT_ADDRESS). */
  collectClientAddress: boolean;
  /** Test-only (OTEL_MONITOR_TEST_FAULT): guarded tracer handlers that throw, to prove the guard. */
  testFaults?: string[];
  sentry?: { dsn: string; release?: string; environment?: string; sampleRate: number };
  /** OTEL_MONITOR_PROFILING: `sentry` runs Sentry's Node profiler (needs SENTRY_DSN). */
  profiling: 'sentry' | 'off';
  /** What pino records become in Sentry (OTEL_MONITOR_SENTRY_LOGS). */
  sentryLogs: SentryLogs;
  /** Node's --unhandled-rejections mode, from the command line or NODE_OPTIONS (default throw). */
  unhandledRejections: RejectionMode;
  health: HealthConfig;
  /** Our channel tracers start lean spans (OTEL_MONITOR_LEAN_SPANS, default true; SDK spans with Sentry or plugins). */
  leanSpans: boolean;
  /** Our HTTP server, undici and pg duration histograms are lean (OTEL_MONITOR_LEAN_METRICS, default true; lean-metrics.ts). */
  leanMetrics: boolean;
  /** format `trace`: a request that starts a new trace takes its trace id as its id; `uuid`: a fresh UUID. */
  requestId: { enabled: boolean; header: string; format: 'trace' | 'uuid' };
  logger: LoggerConfig;
  /** Add the redaction keys to the app's own pino instances' `redact` option (pino instrumentation). */
  redactAppLogs: boolean;
}

export type LogDestination = 'stdout' | 'otlp' | 'file';

/** The `logger` of @org/otel-monitor/api (docs/LOGS.md). */
export interface LoggerConfig {
  destinations: LogDestination[];
  level: string;
  /** Rotating file (pino-roll): base path, size per file (e.g. 10m), files kept besides the current one. */
  file?: string;
  fileSize: string;
  fileCount: number;
  /** Pretty stdout with pino-pretty: `auto` = when stdout is a TTY and pino-pretty is installed. */
  pretty: 'auto' | 'true' | 'false';
}

/** A built-in health check from OTEL_MONITOR_HEALTH_CHECKS (`kind[:name]=url`). */
export interface BuiltinCheckSpec {
  kind: 'postgres' | 'redis' | 'http';
  name: string;
  /** May carry credentials: print only through the Redactor. */
  url: string;
}

export interface HealthConfig {
  checks: BuiltinCheckSpec[];
  /** The /healthz + /readyz endpoint; off when undefined. */
  port?: number;
  host: string;
  intervalMs: number;
  timeoutMs: number;
  degradedAfter: number;
  unhealthyAfter: number;
  /** Names of built-in checks that do not decide readiness. */
  nonCritical: string[];
}

export type SentryLogs = 'errors' | 'breadcrumbs' | 'off';
export type RejectionMode = 'throw' | 'strict' | 'warn' | 'warn-with-error-code' | 'none';

export interface Sourced {
  value: string;
  source: string;
}

export interface ParsedConfig {
  config: Config;
  warnings: string[];
}

/** The libraries whose upstream instrumentation our own hot-path code replaces. */
export const UPSTREAM_INSTRUMENTATIONS = ['pg', 'undici', 'pino'] as const;
export type UpstreamInstrumentation = (typeof UPSTREAM_INSTRUMENTATIONS)[number];
