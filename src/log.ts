// The distribution's own voice on stderr: one prefix, levels from OTEL_LOG_LEVEL, and "once" so a
// failing exporter or hook cannot flood the app's logs.
export type Level = 'none' | 'error' | 'warn' | 'info' | 'debug' | 'verbose' | 'all';
const rank: Record<Level, number> = { none: 0, error: 1, warn: 2, info: 3, debug: 4, verbose: 5, all: 6 };

let threshold = rank.info;
const said = new Set<string>();

export function setLogLevel(level: Level): void {
  threshold = rank[level];
}

function write(level: Exclude<Level, 'none' | 'all'>, msg: string): void {
  if (rank[level] > threshold) return;
  try {
    process.stderr.write(`[otel-monitor] ${level}: ${msg}\n`);
  } catch {
    // stderr closed: nothing sensible left to do, and the app must not see it
  }
}

export const log = {
  error: (msg: string) => write('error', msg),
  warn: (msg: string) => write('warn', msg),
  info: (msg: string) => write('info', msg),
  debug: (msg: string) => write('debug', msg),
  /** Logs a message the first time its key is seen, then stays quiet. */
  once(level: 'error' | 'warn' | 'info', key: string, msg: string): void {
    if (said.has(key)) return;
    said.add(key);
    write(level, msg);
  },
};

/** Runs `fn`, containing any error it throws: logged once under `where`, never rethrown into the app. */
export function contained<T>(where: string, fn: () => T, fallback?: T): T | undefined {
  try {
    return fn();
  } catch (err) {
    log.once('error', `contained:${where}`, `${where} failed and was disabled for this call: ${describe(err)}`);
    return fallback;
  }
}

export function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
