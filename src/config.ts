// Every environment variable the distribution reads is parsed here, once. A bad value never stops
// the app: it produces one warning naming the variable and the fallback that was used instead.
// The typed parsers are in config/parsers.ts; one reader per concern in config/.
import type { Level } from './log.js';
import { bool, collectWarnings, oneOf, redactUrl } from './config/parsers.js';
import { readHealth } from './config/health.js';
import { readLogger } from './config/logger.js';
import { readPlatform, readService } from './config/resource.js';
import { readSampler } from './config/sampler.js';
import { readSentry } from './config/sentry.js';
import { readBatch, readSignals } from './config/signals.js';
import { readInstrumentation, readSwitches, unhandledRejectionMode } from './config/switches.js';
import type { Config, Env, ParsedConfig, SignalConfig } from './config/types.js';

export type * from './config/types.js';
export { isLoopback, redactUrl } from './config/parsers.js';
export { COMMIT_VARIABLES, parseResourceAttributes } from './config/resource.js';
export { parseHealthChecks } from './config/health.js';
export { DEFAULT_REDACT_KEYS, unhandledRejectionMode } from './config/switches.js';

const LEVELS: Level[] = ['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'];

export function readConfig(env: Env = process.env): ParsedConfig {
  const warnings: string[] = [];
  const warn = collectWarnings(warnings);
  const signals = readSignals(env, warn);
  const config: Config = {
    disabled: bool(env, 'OTEL_SDK_DISABLED', false, warn),
    logLevel: oneOf(env, 'OTEL_LOG_LEVEL', LEVELS, 'info', warn),
    ...readService(env, warn),
    ...signals,
    sampler: readSampler(env, warn),
    batch: readBatch(env, 'OTEL_BSP', warn),
    logBatch: readBatch(env, 'OTEL_BLRP', warn),
    ...readPlatform(env, warn),
    ...readInstrumentation(env, warn),
    ...readSwitches(env, warn),
    ...readSentry(env, warn),
    unhandledRejections: unhandledRejectionMode(process.execArgv, env.NODE_OPTIONS),
    health: readHealth(env, warn),
    logger: readLogger(env, warn, signals.logs.exporter !== 'none'),
  };
  return { config, warnings };
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
