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
  shutdownTimeoutMs: number;
  compileCache: boolean;
  /** Whether an app's own worker threads start the SDK (log-transport workers never do: worker-role.ts). */
  workers: boolean;
  fastHttpServer: boolean;
  sentry?: { dsn: string; release?: string; environment?: string; sampleRate: number };
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
    warnings.push(`${name}=${JSON.stringify(value)} ${why}; using ${fallback}`);

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
  const int = (name: string, fallback: number, min = 0): number => {
    const v = str(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || !Number.isInteger(n) || n < min) {
      warn(name, v, String(fallback), `is not a whole number >= ${min}`);
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
    if (/^https?:\/\/[^@/]+@[^/]+\/.+/.test(dsn)) {
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
    shutdownTimeoutMs: int('OTEL_MONITOR_SHUTDOWN_TIMEOUT', 5000, 100),
    compileCache: bool('OTEL_MONITOR_COMPILE_CACHE', true),
    workers: bool('OTEL_MONITOR_WORKERS', true),
    fastHttpServer: bool('OTEL_MONITOR_FAST_HTTP_SERVER', true),
    sentry,
  };
  if (config.batch.maxExportBatchSize > config.batch.maxQueueSize) {
    warnings.push(
      `OTEL_BSP_MAX_EXPORT_BATCH_SIZE=${config.batch.maxExportBatchSize} is larger than OTEL_BSP_MAX_QUEUE_SIZE; using ${config.batch.maxQueueSize}`,
    );
    config.batch.maxExportBatchSize = config.batch.maxQueueSize;
  }
  return { config, warnings };
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
  if (bad.length) onBad(`has malformed entries (${bad.map((b) => JSON.stringify(b)).join(', ')})`);
  return out;
}

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
      out[part.slice(0, eq).trim().toLowerCase()] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      bad++;
    }
  }
  // Header values are usually credentials, so the warning counts entries rather than quoting them.
  if (bad) warnings.push(`${name} has ${bad} malformed entr${bad === 1 ? 'y' : 'ies'}; using the well-formed headers only`);
  return out;
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
