// The `logger` of @org/otel-monitor/api (OTEL_MONITOR_LOGGER_*, docs/LOGS.md).
import { int, oneOf, str, type Warn } from './parsers.js';
import type { Env, LogDestination, LoggerConfig } from './types.js';

const LOGGER_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const DESTINATIONS = ['stdout', 'otlp', 'file', 'none'];

/** OTEL_MONITOR_LOGGER_DESTINATIONS, with one warning for the variable whatever is wrong with it. */
function destinations(env: Env, warn: Warn, otlp: boolean, file: string | undefined): LogDestination[] {
  const raw = str(env, 'OTEL_MONITOR_LOGGER_DESTINATIONS');
  let out: LogDestination[] = ['stdout', ...(otlp ? (['otlp'] as const) : []), ...(file ? (['file'] as const) : [])];
  if (raw !== undefined) {
    const wanted = raw.split(',').map((d) => d.trim().toLowerCase()).filter(Boolean);
    out = [...new Set(wanted.filter((d): d is LogDestination => d === 'stdout' || d === 'otlp' || d === 'file'))];
  }
  const noFile = out.includes('file') && !file;
  if (noFile) out = out.filter((d) => d !== 'file');
  const unknown = raw !== undefined && raw.split(',').some((d) => ![...DESTINATIONS, ''].includes(d.trim().toLowerCase()));
  if (unknown || noFile) {
    const why = [unknown ? 'names unknown destinations (stdout, otlp, file, none)' : '', noFile ? 'asks for a file but OTEL_MONITOR_LOGGER_FILE is not set' : ''];
    warn('OTEL_MONITOR_LOGGER_DESTINATIONS', raw ?? 'file', out.join(',') || 'none', why.filter(Boolean).join(' and '));
  }
  return out;
}

function fileSize(env: Env, warn: Warn): string {
  const raw = str(env, 'OTEL_MONITOR_LOGGER_FILE_SIZE');
  if (raw === undefined) return '10m';
  if (/^\d+[kmg]?$/i.test(raw)) return raw.toLowerCase();
  warn('OTEL_MONITOR_LOGGER_FILE_SIZE', raw, '10m', 'is not a size such as 500k, 10m or 1g');
  return '10m';
}

/** `otlp`: whether the logs signal is exported at all (then the logger sends there by default). */
export function readLogger(env: Env, warn: Warn, otlp: boolean): LoggerConfig {
  const file = str(env, 'OTEL_MONITOR_LOGGER_FILE');
  return {
    destinations: destinations(env, warn, otlp, file),
    level: oneOf(env, 'OTEL_MONITOR_LOGGER_LEVEL', LOGGER_LEVELS, 'info', warn),
    file,
    fileSize: fileSize(env, warn),
    fileCount: int(env, 'OTEL_MONITOR_LOGGER_FILE_COUNT', 5, warn, 1),
    pretty: oneOf(env, 'OTEL_MONITOR_LOGGER_PRETTY', ['auto', 'true', 'false'] as const, 'auto', warn, { why: () => 'is not auto, true or false' }),
  };
}
