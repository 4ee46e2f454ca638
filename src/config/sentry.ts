// SENTRY_DSN and what we send to Sentry besides errors (logs, profiles).
import { oneOf, str, type Warn } from './parsers.js';
import type { Config, Env } from './types.js';

/** `https://<key>@<host>/<project>`, as the URL parser (and so the Sentry SDK) reads it. */
function isDsn(dsn: string): boolean {
  try {
    const u = new URL(dsn);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.username !== '' && u.hostname !== '' && /^\/.*[^/]/.test(u.pathname);
  } catch {
    return false;
  }
}

export function readSentry(env: Env, warn: Warn): Pick<Config, 'sentry' | 'sentryLogs' | 'profiling'> {
  const dsn = str(env, 'SENTRY_DSN');
  let sentry: Config['sentry'];
  if (dsn && isDsn(dsn)) {
    sentry = { dsn, release: str(env, 'SENTRY_RELEASE'), environment: str(env, 'SENTRY_ENVIRONMENT'), sampleRate: 1 };
  } else if (dsn) {
    // The DSN itself is a secret: name the variable, never echo the value.
    warn.line('SENTRY_DSN is not a valid DSN (https://<key>@<host>/<project>); using Sentry off');
  }
  const sentryLogs = oneOf(env, 'OTEL_MONITOR_SENTRY_LOGS', ['errors', 'breadcrumbs', 'off'] as const, 'errors', warn);
  let profiling = oneOf(env, 'OTEL_MONITOR_PROFILING', ['sentry', 'off'] as const, 'off', warn);
  if (profiling === 'sentry' && !sentry) {
    warn.line('OTEL_MONITOR_PROFILING=sentry needs SENTRY_DSN; using off');
    profiling = 'off';
  }
  return { sentry, sentryLogs, profiling };
}
