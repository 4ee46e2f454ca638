// The built-in health checks and the /healthz + /readyz endpoint (OTEL_MONITOR_HEALTH_*).
import { int, list, str, type Warn } from './parsers.js';
import type { BuiltinCheckSpec, Env, HealthConfig } from './types.js';

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

/** The endpoint's port: off when unset, 0 or out of the TCP range. */
function healthPort(env: Env, warn: Warn): number | undefined {
  if (str(env, 'OTEL_MONITOR_HEALTH_PORT') === undefined) return undefined;
  const port = int(env, 'OTEL_MONITOR_HEALTH_PORT', 0, warn, 1) || undefined;
  if (port !== undefined && port > 65_535) {
    warn.line(`OTEL_MONITOR_HEALTH_PORT=${port} is not a TCP port; using the endpoint off`);
    return undefined;
  }
  return port;
}

export function readHealth(env: Env, warn: Warn): HealthConfig {
  const warnings: string[] = [];
  const checks = parseHealthChecks(str(env, 'OTEL_MONITOR_HEALTH_CHECKS'), warnings);
  for (const w of warnings) warn.line(w);
  return {
    checks,
    port: healthPort(env, warn),
    host: str(env, 'OTEL_MONITOR_HEALTH_HOST') ?? '127.0.0.1',
    intervalMs: int(env, 'OTEL_MONITOR_HEALTH_INTERVAL', 30_000, warn, 100),
    timeoutMs: int(env, 'OTEL_MONITOR_HEALTH_TIMEOUT', 5000, warn, 1),
    degradedAfter: int(env, 'OTEL_MONITOR_HEALTH_DEGRADED_AFTER', 1, warn, 1),
    unhealthyAfter: int(env, 'OTEL_MONITOR_HEALTH_UNHEALTHY_AFTER', 3, warn, 1),
    nonCritical: list(env, 'OTEL_MONITOR_HEALTH_NON_CRITICAL') ?? [],
  };
}
