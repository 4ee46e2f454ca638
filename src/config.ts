// Every environment variable the distribution reads is parsed here, once. A bad value never stops
// the app: it produces one warning naming the variable and the fallback that was used instead.
import type { Level } from './log.js';

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
  batch: { scheduledDelayMs: number; maxQueueSize: number; maxExportBatchSize: number; exportTimeoutMs: number };
  logBatch: { scheduledDelayMs: number; maxQueueSize: number; maxExportBatchSize: number; exportTimeoutMs: number };
  /** Instrumentation short names (e.g. "express"); undefined means "the defaults". */
  enabledInstrumentations?: string[];
  disabledInstrumentations: string[];
  resourceDetectors: string[];
  /** Which cloud/container environments are present: their detectors probe the network or files otherwise. */
  platform: { aws: boolean; gcp: boolean; azure: boolean; alibaba: boolean; container: boolean };
  hostMetrics: boolean;
  runtimeMetrics: boolean;
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
  fastHttpServer: boolean;
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
  requestId: { enabled: boolean; header: string };
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
const REJECTION_MODES: RejectionMode[] = ['throw', 'strict', 'warn', 'warn-with-error-code', 'none'];

/** The last --unhandled-rejections in NODE_OPTIONS then the command line (the command line wins). */
export function unhandledRejectionMode(execArgv: readonly string[], nodeOptions: string | undefined): RejectionMode {
  let mode: RejectionMode = 'throw';
  for (const arg of [...(nodeOptions ?? '').split(/\s+/), ...execArgv]) {
    const m = /^--unhandled-rejections=(.+)$/.exec(arg);
    if (m && (REJECTION_MODES as string[]).includes(m[1]!)) mode = m[1] as RejectionMode;
  }
  return mode;
}

export interface Sourced {
  value: string;
  source: string;
}

export interface ParsedConfig {
  config: Config;
  warnings: string[];
}

type Env = Record<string, string | undefined>;

/** CI and PaaS variables that carry the deployed commit, in the order they are trusted. */
export const COMMIT_VARIABLES = [
  'GITHUB_SHA',
  'CI_COMMIT_SHA',
  'HEROKU_SLUG_COMMIT',
  'SOURCE_VERSION',
  'VERCEL_GIT_COMMIT_SHA',
  'CIRCLE_SHA1',
  'BITBUCKET_COMMIT',
  'BUILDKITE_COMMIT',
  'TRAVIS_COMMIT',
  'DRONE_COMMIT_SHA',
  'CODEBUILD_RESOLVED_SOURCE_VERSION',
  'RENDER_GIT_COMMIT',
  'RAILWAY_GIT_COMMIT_SHA',
  'CF_PAGES_COMMIT_SHA',
  'KOYEB_GIT_SHA',
  'GIT_COMMIT',
];

const DEFAULT_ENDPOINT = 'http://localhost:4318';
const TIMER_MAX = 2 ** 31 - 1;
const SAMPLERS: SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];
const LEVELS: Level[] = ['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'];
const DETECTORS = ['env', 'host', 'os', 'process', 'serviceinstance', 'container', 'aws', 'gcp', 'azure', 'alibaba'];

/** Keys whose values are replaced with [REDACTED] in span attributes, log records and Sentry events. */
export const DEFAULT_REDACT_KEYS = [
  'authorization',
  'cookie',
  'set-cookie',
  'password',
  'passwd',
  'pwd',
  'secret',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'api_key',
  'apikey',
  'api-key',
  'key',
  'private_key',
  'client_secret',
  'signature',
  'sig',
  'session',
  'sessionid',
  'credentials',
  'x-api-key',
  'x-sentry-auth',
];

export function readConfig(env: Env = process.env): ParsedConfig {
  const warnings: string[] = [];
  const warn = (name: string, value: string, fallback: string, why: string) =>
    warnings.push(`${name}=${quote(value)} ${why}; using ${fallback}`);

  const str = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const v = str(name);
    if (v === undefined) return fallback;
    const lower = v.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(lower)) return true;
    if (['false', '0', 'no', 'off'].includes(lower)) return false;
    warn(name, v, String(fallback), 'is not a boolean');
    return fallback;
  };
  // Every number read is a count or milliseconds; Node turns a timer over 2^31-1 ms into 1 ms.
  const int = (name: string, fallback: number, min = 0, max = TIMER_MAX): number => {
    const v = str(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || !Number.isInteger(n) || n < min || n > max) {
      warn(name, v, String(fallback), Number.isInteger(n) && n > max ? `is more than ${max}` : `is not a whole number >= ${min}`);
      return fallback;
    }
    return n;
  };
  const list = (name: string): string[] | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    return v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const v = str(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    warn(name, v, fallback, `is not one of ${allowed.join(', ')}`);
    return fallback;
  };
  const firstOf = (...names: string[]): Sourced | undefined => {
    for (const n of names) {
      const v = str(n);
      if (v !== undefined) return { value: v, source: n };
    }
    return undefined;
  };

  const logLevelRaw = str('OTEL_LOG_LEVEL')?.toLowerCase();
  let logLevel: Level = 'info';
  if (logLevelRaw !== undefined) {
    if ((LEVELS as string[]).includes(logLevelRaw)) logLevel = logLevelRaw as Level;
    else warn('OTEL_LOG_LEVEL', logLevelRaw, 'info', `is not one of ${LEVELS.join(', ')}`);
  }

  const resourceAttributes = parseResourceAttributes(str('OTEL_RESOURCE_ATTRIBUTES'), (why) =>
    warn('OTEL_RESOURCE_ATTRIBUTES', env.OTEL_RESOURCE_ATTRIBUTES ?? '', 'the well-formed pairs only', why),
  );

  const headers = parseHeaders('OTEL_EXPORTER_OTLP_HEADERS', str('OTEL_EXPORTER_OTLP_HEADERS'), warnings);
  const timeoutMs = int('OTEL_EXPORTER_OTLP_TIMEOUT', 10_000, 1);
  const protocol = parseProtocol('OTEL_EXPORTER_OTLP_PROTOCOL', str('OTEL_EXPORTER_OTLP_PROTOCOL'), 'http/protobuf', warn);
  // Compression saves bandwidth to a remote Collector but only burns the app's CPU for one on the
  // same host (the usual sidecar/agent setup), so without a setting the default depends on where
  // each signal's endpoint is.
  const compressionRaw = str('OTEL_EXPORTER_OTLP_COMPRESSION');
  let compression: 'gzip' | 'none' | undefined;
  if (compressionRaw !== undefined) {
    const v = compressionRaw.toLowerCase();
    if (v === 'gzip' || v === 'none') compression = v;
    else warn('OTEL_EXPORTER_OTLP_COMPRESSION', compressionRaw, 'gzip (none for a loopback endpoint)', 'is not gzip or none');
  }
  const compressionFor = (endpoint: string): 'gzip' | 'none' => compression ?? (isLoopback(endpoint) ? 'none' : 'gzip');
  const base = parseUrl('OTEL_EXPORTER_OTLP_ENDPOINT', str('OTEL_EXPORTER_OTLP_ENDPOINT'), DEFAULT_ENDPOINT, warn);

  const signal = (sig: 'TRACES' | 'METRICS' | 'LOGS', path: string): SignalConfig => {
    const exporterName = `OTEL_${sig}_EXPORTER`;
    const exp = str(exporterName)?.toLowerCase() ?? 'otlp';
    let exporter: SignalExporter = 'otlp';
    if (exp === 'otlp' || exp === 'console' || exp === 'none') exporter = exp;
    else warn(exporterName, exp, 'otlp', 'is not one of otlp, console, none');
    // A per-signal endpoint is used as-is; the base endpoint gets the signal path appended (OTLP spec).
    const specific = `OTEL_EXPORTER_OTLP_${sig}_ENDPOINT`;
    const endpoint = str(specific)
      ? parseUrl(specific, str(specific), `${base.replace(/\/$/, '')}/v1/${path}`, warn)
      : `${base.replace(/\/$/, '')}/v1/${path}`;
    return {
      exporter,
      endpoint,
      protocol: parseProtocol(`OTEL_EXPORTER_OTLP_${sig}_PROTOCOL`, str(`OTEL_EXPORTER_OTLP_${sig}_PROTOCOL`), protocol, warn),
      headers: { ...headers, ...parseHeaders(`OTEL_EXPORTER_OTLP_${sig}_HEADERS`, str(`OTEL_EXPORTER_OTLP_${sig}_HEADERS`), warnings) },
      timeoutMs: int(`OTEL_EXPORTER_OTLP_${sig}_TIMEOUT`, timeoutMs, 1),
      compression: parseCompression(`OTEL_EXPORTER_OTLP_${sig}_COMPRESSION`, str(`OTEL_EXPORTER_OTLP_${sig}_COMPRESSION`), compressionFor(endpoint), warn),
    };
  };

  const samplerRaw = str('OTEL_TRACES_SAMPLER')?.toLowerCase();
  let samplerName: SamplerName = 'parentbased_always_on';
  if (samplerRaw !== undefined) {
    if ((SAMPLERS as string[]).includes(samplerRaw)) samplerName = samplerRaw as SamplerName;
    else warn('OTEL_TRACES_SAMPLER', samplerRaw, 'parentbased_always_on', `is not one of ${SAMPLERS.join(', ')}`);
  }
  let ratio = 1;
  const ratioRaw = str('OTEL_TRACES_SAMPLER_ARG');
  if (ratioRaw !== undefined && samplerName.endsWith('traceidratio')) {
    const r = Number(ratioRaw);
    if (Number.isFinite(r) && r >= 0 && r <= 1) ratio = r;
    else warn('OTEL_TRACES_SAMPLER_ARG', ratioRaw, '1', 'is not a number between 0 and 1');
  }

  const enabledInstrumentations = list('OTEL_NODE_ENABLED_INSTRUMENTATIONS');
  const detectorsRaw = list('OTEL_NODE_RESOURCE_DETECTORS');
  let resourceDetectors = ['env', 'host', 'os', 'process', 'serviceinstance', 'container', 'aws', 'gcp', 'azure'];
  if (detectorsRaw) {
    if (detectorsRaw.includes('all')) resourceDetectors = DETECTORS;
    else if (detectorsRaw.includes('none')) resourceDetectors = [];
    else {
      const unknown = detectorsRaw.filter((d) => !DETECTORS.includes(d));
      if (unknown.length) warn('OTEL_NODE_RESOURCE_DETECTORS', unknown.join(','), 'the known detectors only', 'names unknown detectors');
      resourceDetectors = detectorsRaw.filter((d) => DETECTORS.includes(d));
    }
  }

  const dsn = str('SENTRY_DSN');
  let sentry: Config['sentry'];
  if (dsn) {
    if (isDsn(dsn)) {
      sentry = {
        dsn,
        release: str('SENTRY_RELEASE'),
        environment: str('SENTRY_ENVIRONMENT'),
        sampleRate: 1,
      };
    } else {
      // The DSN itself is a secret: name the variable, never echo the value.
      warnings.push('SENTRY_DSN is not a valid DSN (https://<key>@<host>/<project>); using Sentry off');
    }
  }

  const config: Config = {
    disabled: bool('OTEL_SDK_DISABLED', false),
    logLevel,
    serviceName: str('OTEL_SERVICE_NAME'),
    resourceAttributes,
    release: resourceAttributes['service.version']
      ? { value: resourceAttributes['service.version'], source: 'OTEL_RESOURCE_ATTRIBUTES' }
      : firstOf('OTEL_MONITOR_RELEASE', 'SENTRY_RELEASE', ...COMMIT_VARIABLES),
    commit: firstOf(...COMMIT_VARIABLES),
    environment: (resourceAttributes['deployment.environment.name'] ?? resourceAttributes['deployment.environment'])
      ? {
          value: (resourceAttributes['deployment.environment.name'] ?? resourceAttributes['deployment.environment'])!,
          source: 'OTEL_RESOURCE_ATTRIBUTES',
        }
      : firstOf('OTEL_MONITOR_ENVIRONMENT', 'SENTRY_ENVIRONMENT', 'NODE_ENV'),
    traces: signal('TRACES', 'traces'),
    metrics: { ...signal('METRICS', 'metrics'), intervalMs: int('OTEL_METRIC_EXPORT_INTERVAL', 60_000, 100) },
    logs: signal('LOGS', 'logs'),
    sampler: { name: samplerName, ratio },
    batch: {
      scheduledDelayMs: int('OTEL_BSP_SCHEDULE_DELAY', 1000, 0),
      maxQueueSize: int('OTEL_BSP_MAX_QUEUE_SIZE', 2048, 1),
      maxExportBatchSize: int('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, 1),
      exportTimeoutMs: int('OTEL_BSP_EXPORT_TIMEOUT', 30_000, 1),
    },
    logBatch: {
      scheduledDelayMs: int('OTEL_BLRP_SCHEDULE_DELAY', 1000, 0),
      maxQueueSize: int('OTEL_BLRP_MAX_QUEUE_SIZE', 2048, 1),
      maxExportBatchSize: int('OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', 512, 1),
      exportTimeoutMs: int('OTEL_BLRP_EXPORT_TIMEOUT', 30_000, 1),
    },
    enabledInstrumentations,
    disabledInstrumentations: list('OTEL_NODE_DISABLED_INSTRUMENTATIONS') ?? [],
    resourceDetectors,
    platform: {
      aws: !!firstOf('AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME', 'ECS_CONTAINER_METADATA_URI_V4', 'ECS_CONTAINER_METADATA_URI'),
      gcp: !!firstOf('K_SERVICE', 'GOOGLE_CLOUD_PROJECT', 'GCE_METADATA_HOST', 'FUNCTION_TARGET', 'CLOUD_RUN_JOB'),
      azure: !!firstOf('WEBSITE_SITE_NAME', 'FUNCTIONS_WORKER_RUNTIME', 'AKS_CLUSTER_NAME'),
      alibaba: !!firstOf('ALIBABA_CLOUD_REGION_ID', 'FC_FUNCTION_NAME'),
      container: !!firstOf('KUBERNETES_SERVICE_HOST', 'CONTAINER', 'container'),
    },
    hostMetrics: bool('OTEL_MONITOR_HOST_METRICS', true),
    runtimeMetrics: bool('OTEL_MONITOR_RUNTIME_METRICS', true),
    expressLayers: bool('OTEL_MONITOR_EXPRESS_LAYERS', false),
    fastifyHooks: bool('OTEL_MONITOR_FASTIFY_HOOKS', false),
    logCorrelation: bool('OTEL_MONITOR_LOG_CORRELATION', true),
    redactKeys: [...DEFAULT_REDACT_KEYS, ...(list('OTEL_MONITOR_REDACT_KEYS') ?? []).map((k) => k.toLowerCase())],
    lastSeenRoles: list('OTEL_MONITOR_LAST_SEEN_ROLES') ?? [],
    plugins: list('OTEL_MONITOR_PLUGINS') ?? [],
    shutdownTimeoutMs: int('OTEL_MONITOR_SHUTDOWN_TIMEOUT', 5000, 100),
    compileCache: bool('OTEL_MONITOR_COMPILE_CACHE', true),
    workers: bool('OTEL_MONITOR_WORKERS', true),
    fastHttpServer: bool('OTEL_MONITOR_FAST_HTTP_SERVER', true),
    collectClientAddress: bool('OTEL_MONITOR_COLLECT_CLIENT_ADDRESS', true),
    testFaults: list('OTEL_MONITOR_TEST_FAULT'),
    sentry,
    sentryLogs: oneOf('OTEL_MONITOR_SENTRY_LOGS', ['errors', 'breadcrumbs', 'off'] as const, 'errors'),
    profiling: oneOf('OTEL_MONITOR_PROFILING', ['sentry', 'off'] as const, 'off'),
    unhandledRejections: unhandledRejectionMode(process.execArgv, env.NODE_OPTIONS),
    health: {
      checks: parseHealthChecks(str('OTEL_MONITOR_HEALTH_CHECKS'), warnings),
      port: str('OTEL_MONITOR_HEALTH_PORT') === undefined ? undefined : int('OTEL_MONITOR_HEALTH_PORT', 0, 1) || undefined,
      host: str('OTEL_MONITOR_HEALTH_HOST') ?? '127.0.0.1',
      intervalMs: int('OTEL_MONITOR_HEALTH_INTERVAL', 30_000, 100),
      timeoutMs: int('OTEL_MONITOR_HEALTH_TIMEOUT', 5000, 1),
      degradedAfter: int('OTEL_MONITOR_HEALTH_DEGRADED_AFTER', 1, 1),
      unhealthyAfter: int('OTEL_MONITOR_HEALTH_UNHEALTHY_AFTER', 3, 1),
      nonCritical: list('OTEL_MONITOR_HEALTH_NON_CRITICAL') ?? [],
    },
    requestId: {
      enabled: bool('OTEL_MONITOR_REQUEST_ID', true),
      header: parseHeaderName('OTEL_MONITOR_REQUEST_ID_HEADER', str('OTEL_MONITOR_REQUEST_ID_HEADER'), 'x-request-id', warn),
    },
    logger: { destinations: [], level: 'info', fileSize: '10m', fileCount: 5, pretty: 'auto' },
    redactAppLogs: bool('OTEL_MONITOR_REDACT_APP_LOGS', true),
  };
  if (config.profiling === 'sentry' && !config.sentry) {
    warnings.push('OTEL_MONITOR_PROFILING=sentry needs SENTRY_DSN; using off');
    config.profiling = 'off';
  }
  config.logger = parseLogger(str, int, warn, config.logs.exporter !== 'none');
  if (config.health.port !== undefined && config.health.port > 65_535) {
    warnings.push(`OTEL_MONITOR_HEALTH_PORT=${config.health.port} is not a TCP port; using the endpoint off`);
    config.health.port = undefined;
  }
  // A batch never exceeds the queue. Said only when the batch size is the user's own valid value:
  // the default, or a fallback already warned about, is capped silently.
  for (const [b, prefix] of [[config.batch, 'OTEL_BSP'], [config.logBatch, 'OTEL_BLRP']] as const) {
    if (b.maxExportBatchSize <= b.maxQueueSize) continue;
    const name = `${prefix}_MAX_EXPORT_BATCH_SIZE`;
    if (String(b.maxExportBatchSize) === str(name)) {
      warnings.push(`${name}=${b.maxExportBatchSize} is larger than ${prefix}_MAX_QUEUE_SIZE; using ${b.maxQueueSize}`);
    }
    b.maxExportBatchSize = b.maxQueueSize;
  }
  return { config, warnings };
}

/** A value as a warning quotes it: one line (JSON escapes), and short, so a huge value cannot flood stderr. */
function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

/** `k1=v1,k2=v2` with percent-encoded values (W3C baggage octets), as the SDK spec defines it. */
export function parseResourceAttributes(raw: string | undefined, onBad: (why: string) => void): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  const bad: string[] = [];
  for (const part of raw.split(',')) {
    if (!part.trim()) continue;
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq).trim() : '';
    if (!key || /\s/.test(key)) {
      bad.push(part.trim());
      continue;
    }
    try {
      out[key] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      bad.push(part.trim());
    }
  }
  if (bad.length) onBad(`has malformed entries (${bad.slice(0, 3).map(quote).join(', ')}${bad.length > 3 ? `, … ${bad.length} in all` : ''})`);
  return out;
}

const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

function parseHeaders(name: string, raw: string | undefined, warnings: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  let bad = 0;
  for (const part of raw.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      if (part.trim()) bad++;
      continue;
    }
    try {
      const key = part.slice(0, eq).trim().toLowerCase();
      const value = decodeURIComponent(part.slice(eq + 1).trim());
      // What Node's http.request would reject at every export is dropped here, once.
      if (HTTP_TOKEN.test(key) && !INVALID_HEADER_VALUE.test(value)) out[key] = value;
      else bad++;
    } catch {
      bad++;
    }
  }
  // Header values are usually credentials, so the warning counts entries rather than quoting them.
  if (bad) warnings.push(`${name} has ${bad} malformed entr${bad === 1 ? 'y' : 'ies'}; using the well-formed headers only`);
  return out;
}

const HEALTH_KINDS: Record<string, BuiltinCheckSpec['kind']> = {
  postgres: 'postgres',
  postgresql: 'postgres',
  redis: 'redis',
  http: 'http',
  https: 'http',
};

/**
 * `postgres=URL,redis=URL,http:payments=URL`. Entries are split at commas that start a new
 * `kind[:name]=`, so a URL may itself contain commas (multi-host PostgreSQL URLs). The URLs carry
 * credentials, so warnings name the entry's kind and name, never its value.
 */
export function parseHealthChecks(raw: string | undefined, warnings: string[]): BuiltinCheckSpec[] {
  if (!raw) return [];
  const out: BuiltinCheckSpec[] = [];
  const bad: string[] = [];
  for (const part of raw.split(/,(?=\s*[A-Za-z]+(?::[\w.-]+)?=)/)) {
    const entry = part.trim();
    if (!entry) continue;
    const m = /^([A-Za-z]+)(?::([\w.-]+))?=(.+)$/s.exec(entry);
    const kind = m ? HEALTH_KINDS[m[1]!.toLowerCase()] : undefined;
    if (!m || !kind) {
      bad.push(m ? `${m[1]}${m[2] ? `:${m[2]}` : ''}`.slice(0, 40) : `entry ${out.length + bad.length + 1}`);
      continue;
    }
    const name = m[2] ?? kind;
    if (out.some((c) => c.name === name)) bad.push(`a second "${name.slice(0, 40)}"`);
    else out.push({ kind, name, url: m[3]!.trim() });
  }
  // One warning for the variable, naming entries by kind and name only: the URLs carry credentials.
  if (bad.length) {
    const listed = bad.length > 5 ? [...bad.slice(0, 5), `${bad.length - 5} more`] : bad;
    warnings.push(`OTEL_MONITOR_HEALTH_CHECKS has entries that are not postgres|redis|http[:name]=URL or repeat a name (${listed.join(', ')}); ignoring them`);
  }
  return out;
}

const LOGGER_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function parseLogger(
  str: (name: string) => string | undefined,
  int: (name: string, fallback: number, min?: number) => number,
  warn: Warn,
  otlp: boolean,
): LoggerConfig {
  const file = str('OTEL_MONITOR_LOGGER_FILE');
  const fallback: LogDestination[] = ['stdout', ...(otlp ? (['otlp'] as const) : []), ...(file ? (['file'] as const) : [])];
  const raw = str('OTEL_MONITOR_LOGGER_DESTINATIONS');
  let destinations = fallback;
  if (raw !== undefined) {
    const wanted = raw.split(',').map((d) => d.trim().toLowerCase()).filter(Boolean);
    const bad = wanted.filter((d) => d !== 'stdout' && d !== 'otlp' && d !== 'file' && d !== 'none');
    destinations = [...new Set(wanted.filter((d): d is LogDestination => d === 'stdout' || d === 'otlp' || d === 'file'))];
  }
  // One warning for the variable, whatever is wrong with it.
  const noFile = destinations.includes('file') && !file;
  if (noFile) destinations = destinations.filter((d) => d !== 'file');
  const unknown = raw !== undefined && raw.split(',').some((d) => !['stdout', 'otlp', 'file', 'none', ''].includes(d.trim().toLowerCase()));
  if (unknown || noFile) {
    const why = [unknown ? 'names unknown destinations (stdout, otlp, file, none)' : '', noFile ? 'asks for a file but OTEL_MONITOR_LOGGER_FILE is not set' : ''];
    warn('OTEL_MONITOR_LOGGER_DESTINATIONS', raw ?? 'file', destinations.join(',') || 'none', why.filter(Boolean).join(' and '));
  }
  const levelRaw = str('OTEL_MONITOR_LOGGER_LEVEL')?.toLowerCase();
  let level = 'info';
  if (levelRaw !== undefined) {
    if (LOGGER_LEVELS.includes(levelRaw)) level = levelRaw;
    else warn('OTEL_MONITOR_LOGGER_LEVEL', levelRaw, 'info', `is not one of ${LOGGER_LEVELS.join(', ')}`);
  }
  const sizeRaw = str('OTEL_MONITOR_LOGGER_FILE_SIZE');
  let fileSize = '10m';
  if (sizeRaw !== undefined) {
    if (/^\d+[kmg]?$/i.test(sizeRaw)) fileSize = sizeRaw.toLowerCase();
    else warn('OTEL_MONITOR_LOGGER_FILE_SIZE', sizeRaw, '10m', 'is not a size such as 500k, 10m or 1g');
  }
  const prettyRaw = str('OTEL_MONITOR_LOGGER_PRETTY')?.toLowerCase();
  let pretty: LoggerConfig['pretty'] = 'auto';
  if (prettyRaw !== undefined) {
    if (prettyRaw === 'auto' || prettyRaw === 'true' || prettyRaw === 'false') pretty = prettyRaw;
    else warn('OTEL_MONITOR_LOGGER_PRETTY', prettyRaw, 'auto', 'is not auto, true or false');
  }
  return { destinations, level, file, fileSize, fileCount: int('OTEL_MONITOR_LOGGER_FILE_COUNT', 5, 1), pretty };
}

/** An HTTP header name (RFC 9110 token), lower-cased. */
function parseHeaderName(name: string, raw: string | undefined, fallback: string, warn: Warn): string {
  if (raw === undefined) return fallback;
  if (/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/.test(raw)) return raw.toLowerCase();
  warn(name, raw, fallback, 'is not an HTTP header name');
  return fallback;
}

type Warn = (name: string, value: string, fallback: string, why: string) => void;

function parseProtocol(name: string, raw: string | undefined, fallback: Protocol, warn: Warn): Protocol {
  if (raw === undefined) return fallback;
  const v = raw.toLowerCase();
  if (v === 'http/protobuf' || v === 'http/json') return v;
  warn(name, raw, fallback, v === 'grpc' ? 'is not supported by this distribution' : 'is not http/protobuf or http/json');
  return fallback;
}

function parseCompression(name: string, raw: string | undefined, fallback: 'gzip' | 'none', warn: Warn): 'gzip' | 'none' {
  if (raw === undefined) return fallback;
  const v = raw.toLowerCase();
  if (v === 'gzip' || v === 'none') return v;
  warn(name, raw, fallback, 'is not gzip or none');
  return fallback;
}

function parseUrl(name: string, raw: string | undefined, fallback: string, warn: Warn): string {
  if (raw === undefined) return fallback;
  try {
    const u = new URL(raw);
    if (u.protocol === 'http:' || u.protocol === 'https:') return raw;
  } catch {
    /* fall through to the warning */
  }
  warn(name, redactUrl(raw), fallback, 'is not an http(s) URL');
  return fallback;
}

/** `https://<key>@<host>/<project>`, as the URL parser (and so the Sentry SDK) reads it. */
function isDsn(dsn: string): boolean {
  try {
    const u = new URL(dsn);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.username !== '' && u.hostname !== '' && /^\/.*[^/]/.test(u.pathname);
  } catch {
    return false;
  }
}

export function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

/** Strips credentials from a URL-ish string so it can be printed. */
export function redactUrl(raw: string): string {
  return raw.replace(/\/\/([^/@\s]+)@/, '//[REDACTED]@');
}

/** The one start-up line: the effective config, with every secret left out. */
export function describeConfig(c: Config, extra: Record<string, string>): string {
  const sig = (s: SignalConfig) =>
    s.exporter === 'otlp' ? `${redactUrl(s.endpoint)} (${s.protocol}${s.compression === 'gzip' ? '+gzip' : ''})` : s.exporter;
  const parts = [
    ...Object.entries(extra).map(([k, v]) => `${k}=${v}`),
    `traces=${sig(c.traces)}`,
    `metrics=${sig(c.metrics)}`,
    `logs=${sig(c.logs)}`,
    `sampler=${c.sampler.name}${c.sampler.name.endsWith('ratio') ? `:${c.sampler.ratio}` : ''}`,
    `headers=${Object.keys(c.traces.headers).length ? '[REDACTED]' : 'none'}`,
    `sentry=${c.sentry ? 'on' : 'off'}`,
  ];
  return parts.join(' ');
}
