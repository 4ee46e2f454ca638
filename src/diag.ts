// The OpenTelemetry diagnostics logger: the SDK's own messages through the distribution's stderr
// voice (log.ts), each distinct one said once, and quiet at exit, where exit-mode.ts counts.
import type * as Api from '@opentelemetry/api';
import type { Config } from './config.js';
import { log, describe } from './log.js';
import { isExiting } from './exporters/exit-mode.js';

export function installDiagLogger(api: typeof Api, level: Config['logLevel']): void {
  const levels: Record<Config['logLevel'], Api.DiagLogLevel> = {
    none: api.DiagLogLevel.NONE,
    error: api.DiagLogLevel.ERROR,
    warn: api.DiagLogLevel.WARN,
    info: api.DiagLogLevel.INFO,
    debug: api.DiagLogLevel.DEBUG,
    verbose: api.DiagLogLevel.VERBOSE,
    all: api.DiagLogLevel.ALL,
  };
  // SDK internals repeat the same failure on every export; say each distinct one once.
  // At exit every export failure is counted and said in one line (exit-mode.ts), not per signal.
  const once = (lvl: 'error' | 'warn' | 'info') => (raw: string, ...args: unknown[]) => {
    const msg = readable(raw);
    if (isExiting()) log.debug(msg);
    else log.once(lvl, `diag:${msg.slice(0, 80)}`, [msg, ...args.map((a) => (a instanceof Error ? describe(a) : typeof a === 'string' ? a : ''))].join(' ').trim());
  };
  api.diag.setLogger(
    {
      error: once('error'),
      warn: once('warn'),
      info: once('info'),
      debug: (m: string) => log.debug(m),
      verbose: (m: string) => log.debug(m),
    },
    { logLevel: levels[level], suppressOverrideMessage: true },
  );
}

/** The SDK's global error handler hands diag a JSON-serialized exception: its message is the news. */
function readable(msg: string): string {
  if (!msg.startsWith('{"')) return msg;
  try {
    const parsed = JSON.parse(msg) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : msg;
  } catch {
    return msg;
  }
}
