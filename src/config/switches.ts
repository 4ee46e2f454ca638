// Our own switches (OTEL_MONITOR_*): what to instrument and record, redaction, start-up and shutdown.
import { bool, headerName, int, list, oneOf, type Warn } from './parsers.js';
import { UPSTREAM_INSTRUMENTATIONS, type Config, type Env, type RejectionMode, type UpstreamInstrumentation } from './types.js';

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

type Instrumentation = Pick<Config, 'enabledInstrumentations' | 'disabledInstrumentations' | 'expressLayers' | 'fastifyHooks' | 'httpServerTracer' | 'upstreamInstrumentations' | 'collectClientAddress' | 'testFaults'>;

/** Which instrumentations run and how much they record. */
export function readInstrumentation(env: Env, warn: Warn): Instrumentation {
  return {
    enabledInstrumentations: list(env, 'OTEL_NODE_ENABLED_INSTRUMENTATIONS'),
    disabledInstrumentations: list(env, 'OTEL_NODE_DISABLED_INSTRUMENTATIONS') ?? [],
    expressLayers: bool(env, 'OTEL_MONITOR_EXPRESS_LAYERS', false, warn),
    fastifyHooks: bool(env, 'OTEL_MONITOR_FASTIFY_HOOKS', false, warn),
    httpServerTracer: bool(env, 'OTEL_MONITOR_FAST_HTTP_SERVER', true, warn),
    upstreamInstrumentations: upstreamList(env, warn),
    collectClientAddress: bool(env, 'OTEL_MONITOR_COLLECT_CLIENT_ADDRESS', true, warn),
    testFaults: list(env, 'OTEL_MONITOR_TEST_FAULT'),
  };
}

/** OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS: `pg,undici,pino`, `all`, or empty; unknown names are warned (once) and ignored. */
function upstreamList(env: Env, warn: Warn): ReadonlySet<UpstreamInstrumentation> {
  const name = 'OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS';
  const names = (list(env, name) ?? []).map((n) => n.toLowerCase());
  if (names.includes('all')) return new Set(UPSTREAM_INSTRUMENTATIONS);
  const isKnown = (n: string): n is UpstreamInstrumentation => (UPSTREAM_INSTRUMENTATIONS as readonly string[]).includes(n);
  const unknown = names.filter((n) => !isKnown(n));
  if (unknown.length) warn(name, unknown.join(','), 'ignoring them', `names no library of all, ${UPSTREAM_INSTRUMENTATIONS.join(', ')}`);
  return new Set(names.filter(isKnown));
}

type Switches = Pick<
  Config,
  'hostMetrics' | 'runtimeMetrics' | 'gcMetrics' | 'logCorrelation' | 'redactKeys' | 'redactAppLogs' | 'lastSeenRoles' | 'plugins' | 'shutdownTimeoutMs' | 'compileCache' | 'workers' | 'requestId' | 'leanSpans' | 'leanMetrics'
>;

export function readSwitches(env: Env, warn: Warn): Switches {
  return {
    hostMetrics: bool(env, 'OTEL_MONITOR_HOST_METRICS', true, warn),
    runtimeMetrics: bool(env, 'OTEL_MONITOR_RUNTIME_METRICS', true, warn),
    gcMetrics: bool(env, 'OTEL_MONITOR_GC_METRICS', true, warn),
    logCorrelation: bool(env, 'OTEL_MONITOR_LOG_CORRELATION', true, warn),
    redactKeys: [...DEFAULT_REDACT_KEYS, ...(list(env, 'OTEL_MONITOR_REDACT_KEYS') ?? []).map((k) => k.toLowerCase())],
    redactAppLogs: bool(env, 'OTEL_MONITOR_REDACT_APP_LOGS', true, warn),
    lastSeenRoles: list(env, 'OTEL_MONITOR_LAST_SEEN_ROLES') ?? [],
    plugins: list(env, 'OTEL_MONITOR_PLUGINS') ?? [],
    shutdownTimeoutMs: int(env, 'OTEL_MONITOR_SHUTDOWN_TIMEOUT', 5000, warn, 100),
    compileCache: bool(env, 'OTEL_MONITOR_COMPILE_CACHE', true, warn),
    workers: bool(env, 'OTEL_MONITOR_WORKERS', true, warn),
    leanSpans: bool(env, 'OTEL_MONITOR_LEAN_SPANS', true, warn),
    leanMetrics: bool(env, 'OTEL_MONITOR_LEAN_METRICS', true, warn),
    requestId: {
      enabled: bool(env, 'OTEL_MONITOR_REQUEST_ID', true, warn),
      header: headerName(env, 'OTEL_MONITOR_REQUEST_ID_HEADER', 'x-request-id', warn),
      format: oneOf(env, 'OTEL_MONITOR_REQUEST_ID_FORMAT', ['trace', 'uuid'] as const, 'trace', warn),
    },
  };
}
