// Builds the `logger` of @org/otel-monitor/api: a pino instance whose every record carries the
// trace id, span id, request id, service and release, written to the destinations of
// OTEL_MONITOR_LOGGER_DESTINATIONS (stdout, otlp, file), redacted before any of them sees it:
// pino's own `redact` for secret keys at known paths, the Redactor over the record for secret keys
// nested anywhere and credentials in string values, and a pass over each serialized line for what
// serializers add (an error's message and stack).
import type * as Api from '@opentelemetry/api';
import type { Logger, LoggerOptions, StreamEntry } from 'pino';
import { readConfig, type LoggerConfig } from '../config.js';
import { DISTRO_VERSION } from '../resource.js';
import { LOG_FIELD_REQUEST_ID } from '../semconv.js';
import { requestIdOf } from '../instrumentation/request-id.js';
import { describe, log } from '../log.js';
import { Redactor } from '../processors/redaction.js';
import { appPaths, requireCjs, requireFromApp } from '../require.js';
import { otlpStream } from './otlp-stream.js';
import { pinoRedactPaths } from './pino-redaction.js';

type Pino = typeof import('pino');

export interface LoggerSetup {
  config: LoggerConfig;
  redactor: Redactor;
  /** service, release, environment: on every record. */
  base: Record<string, string | undefined>;
  /** The OTel API when the SDK runs; without it there is no OTLP destination. */
  api?: typeof Api;
  version: string;
}

/** An optional package from the app's own node_modules (pino-pretty, pino-roll): its path, or undefined. */
function resolveFromApp(name: string): string | undefined {
  const paths = appPaths();
  try {
    return requireFromApp(paths).resolve(name, { paths });
  } catch {
    return undefined;
  }
}

function stdoutStream(pino: Pino, config: LoggerConfig): NodeJS.WritableStream | ReturnType<Pino['destination']> {
  const wantPretty = config.pretty === 'true' || (config.pretty === 'auto' && process.stdout.isTTY === true);
  const prettyPath = wantPretty ? resolveFromApp('pino-pretty') : undefined;
  if (wantPretty && !prettyPath && config.pretty === 'true') log.once('warn', 'logger-pretty', 'OTEL_MONITOR_LOGGER_PRETTY=true but pino-pretty is not installed in the app; writing JSON');
  if (prettyPath) return (requireCjs(prettyPath) as (o: object) => NodeJS.WritableStream)({ colorize: process.stdout.isTTY === true, sync: true });
  return pino.destination(1);
}

function fileStream(pino: Pino, config: LoggerConfig): ReturnType<Pino['transport']> | undefined {
  const roll = resolveFromApp('pino-roll');
  if (!roll) {
    log.warn('OTEL_MONITOR_LOGGER_FILE is set but pino-roll is not installed in the app (npm install pino-roll); the logger writes no file');
    return undefined;
  }
  return pino.transport({
    target: roll,
    options: { file: config.file, size: config.fileSize, limit: { count: config.fileCount }, mkdir: true },
    // The preload flags must not start a second copy of the distribution in the transport's thread.
    worker: { execArgv: [] },
  });
}

export function createLogger(setup: LoggerSetup): Logger {
  const pino = requireCjs('pino') as Pino;
  const { config, api } = setup;
  const streams: StreamEntry[] = [];
  const add = (stream: StreamEntry['stream'] | undefined) => stream && streams.push({ stream, level: 'trace' });
  if (config.destinations.includes('stdout')) add(stdoutStream(pino, config));
  if (config.destinations.includes('file')) add(fileStream(pino, config));
  if (config.destinations.includes('otlp') && api) add(otlpStream(api, setup.version) as StreamEntry['stream']);
  const options: LoggerOptions = {
    level: config.level,
    base: { pid: process.pid, ...Object.fromEntries(Object.entries(setup.base).filter(([, v]) => v !== undefined)) },
    mixin: api ? correlation(api) : undefined,
    redact: { paths: pinoRedactPaths(setup.redactor.keys), censor: '[REDACTED]' },
    // Secret keys nested deeper than pino's paths reach, and credentials inside string values.
    formatters: { log: (record) => setup.redactor.redactValue(record) as Record<string, unknown> },
    hooks: { streamWrite: (line) => setup.redactor.redactSerialized(line) },
  };
  const destination = streams.length ? pino.multistream(streams) : { write() {} };
  const logger = pino(options, destination);
  // When the pino instrumentation is active it patches this pino too, adding its own OTLP stream
  // and mixin; this logger has its own, so the instrumentation's are taken back off.
  const symbols = pino.symbols as unknown as Record<string, symbol>;
  const self = logger as unknown as Record<symbol, unknown>;
  self[symbols.mixinSym!] = options.mixin;
  self[symbols.streamSym!] = destination;
  // Nor does pino-logs.ts send its lines from pino's channel: the otlp destination above does.
  self[Symbol.for('@org/otel-monitor.own-logger')] = true;
  return logger;
}

/**
 * The API's logger, never an exception at the app's import: a destination that cannot start (a
 * file that cannot be opened, a broken transport) leaves stdout only, and failing that pino silent.
 */
export function createLoggerSafely(setup: LoggerSetup): Logger {
  try {
    return createLogger(setup);
  } catch (err) {
    log.warn(`logger: ${describe(err)}; writing to stdout only`);
  }
  try {
    return createLogger({ ...setup, config: { ...setup.config, destinations: ['stdout'] } });
  } catch {
    return (requireCjs('pino') as Pino)({ enabled: false });
  }
}

const SETUP = Symbol.for('@org/otel-monitor.logger-setup');

/** Called by the started SDK, before the app can import the API. */
export function publishLoggerSetup(setup: LoggerSetup): void {
  (globalThis as { [SETUP]?: LoggerSetup })[SETUP] = setup;
}

/** The SDK's setup, or without the SDK: the same variables, stdout and file only, no trace context. */
export function currentLoggerSetup(): LoggerSetup {
  const published = (globalThis as { [SETUP]?: LoggerSetup })[SETUP];
  if (published) return published;
  const { config } = readConfig();
  return {
    config: { ...config.logger, destinations: config.logger.destinations.filter((d) => d !== 'otlp') },
    redactor: new Redactor(config.redactKeys),
    base: { service: config.serviceName },
    version: DISTRO_VERSION,
  };
}

/** trace_id, span_id, trace_flags (the pino instrumentation's names) and request_id of the caller. */
function correlation(api: typeof Api): () => Record<string, string> {
  return () => {
    const ctx = api.context.active();
    const span = api.trace.getSpanContext(ctx);
    const out: Record<string, string> = {};
    if (span && api.isSpanContextValid(span)) {
      out.trace_id = span.traceId;
      out.span_id = span.spanId;
      out.trace_flags = `0${span.traceFlags.toString(16)}`;
    }
    const id = requestIdOf(ctx);
    if (id !== undefined) out[LOG_FIELD_REQUEST_ID] = id;
    return out;
  };
}
