// Flush and shutdown, on demand (the ./api exports) and around process exit. The distribution only
// ends the process where Node itself would have: a signal with no app handler is re-raised after the
// flush, so the exit code and signal are what the app would have had without us. Every exit path
// ends within the shutdown timeout, whatever the exporters' retry settings, and says in one line
// what could not be delivered (exporters/exit-mode.ts).
import type * as Trace from '@opentelemetry/sdk-trace';
import type * as Metrics from '@opentelemetry/sdk-metrics';
import type * as Logs from '@opentelemetry/sdk-logs';
import type { CrashOrigin } from './crash.js';
import type { SentryLink } from './sentry/start.js';
import type { PluginHost } from './plugins/index.js';
import type { startHealth } from './health/start.js';
import type { HookMode } from './instrumentation/esm-hooks.js';
import { log, describe } from './log.js';
import { beginExit, dropSummary } from './exporters/exit-mode.js';
import { countShutdownLoss } from './exporters/pipeline-counters.js';

export interface Sdk {
  instrumentations: string[];
  hookMode: HookMode;
  /** Our duration histograms: `lean`, or the SDK's and why (instrumentation/lean-metrics.ts). */
  metrics?: string;
  sentry: boolean;
  /** An uncaught exception or unhandled rejection: on the active span and to Sentry (crash.ts). */
  reportCrash(error: unknown, origin: CrashOrigin, fatal: boolean): void;
  flush(timeoutMs: number): Promise<boolean>;
  /** Resolves false when the timeout cut it short. */
  shutdown(timeoutMs: number): Promise<boolean>;
}

/** What flushAll flushes or shuts down, in order. */
export interface Flushable {
  tracerProvider: Trace.TracerProvider;
  meterProvider: Metrics.MeterProvider;
  loggerProvider: Logs.LoggerProvider;
  /** pino records encoded at emit (exporters/pino-emit.ts): their bytes queue, beside the providers. */
  pinoLogs?: { forceFlush(): Promise<void>; shutdown(): Promise<void> };
  sentry?: SentryLink;
  plugins: PluginHost;
  health: ReturnType<typeof startHealth>;
}

/** Flush or shut down every signal, Sentry, then the plugins; resolves false when the timeout cut it short. */
export async function flushAll(what: 'forceFlush' | 'shutdown', timeoutMs: number, p: Flushable): Promise<boolean> {
  if (what === 'shutdown') p.health.stop();
  const work = Promise.allSettled([
    p.tracerProvider[what](),
    p.meterProvider[what]({ timeoutMillis: timeoutMs }),
    p.loggerProvider[what](),
    p.pinoLogs?.[what](),
    p.sentry ? (what === 'shutdown' ? p.sentry.close(timeoutMs) : p.sentry.flush(timeoutMs)) : undefined,
    // Plugins flush or close after their processors and exporters have (inside the same timeout).
  ])
    .then(() => (what === 'shutdown' ? p.plugins.close() : p.plugins.flush()))
    .then(() => true);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => {
      // A shutdown that runs out of time is reported by lifecycle.ts, with what was dropped.
      if (what === 'forceFlush') log.warn(`flush did not finish within ${timeoutMs} ms; some telemetry may be lost`);
      resolve(false);
    }, timeoutMs);
    // Referenced: the export sockets and retry timers are not (exit-mode.ts), so at a natural
    // exit this timer is what keeps the process alive for the flush, up to the timeout.
  });
  const inTime = await Promise.race([work, timeout]);
  clearTimeout(timer);
  return inTime;
}

let sdk: Sdk | undefined;
let timeoutMs = 5000;
let shutdownPromise: Promise<void> | undefined;
/** Node's process.exit while an app's own exit is being held for the flush. */
let realExit: typeof process.exit | undefined;
/** beforeExit listeners installed before the app ran: ours and the Sentry SDK's. */
let ownBeforeExit = new Set<unknown>();

export function attachSdk(started: Sdk, shutdownTimeoutMs: number): void {
  sdk = started;
  timeoutMs = shutdownTimeoutMs;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, onSignal);
  process.on('beforeExit', onBeforeExit);
  ownBeforeExit = new Set(process.listeners('beforeExit'));
}

/** Exports everything buffered so far. Resolves within the shutdown timeout; never rejects. */
export async function flush(): Promise<void> {
  if (!sdk || shutdownPromise) return;
  try {
    await sdk.flush(timeoutMs);
  } catch (err) {
    log.once('warn', 'flush', `flush failed: ${describe(err)}`);
  }
}

/** Flushes and stops every signal. Idempotent; resolves within the shutdown timeout; never rejects. */
export function shutdown(): Promise<void> {
  if (!sdk) return Promise.resolve();
  shutdownPromise ??= runShutdown(sdk);
  return shutdownPromise;
}

async function runShutdown(started: Sdk): Promise<void> {
  beginExit();
  let inTime = true;
  try {
    inTime = await started.shutdown(timeoutMs);
  } catch (err) {
    log.once('warn', 'shutdown', `shutdown failed: ${describe(err)}`);
  }
  if (!inTime) countShutdownLoss();
  const summary = dropSummary(inTime ? undefined : timeoutMs);
  if (summary) log.warn(summary);
}

function onSignal(signal: NodeJS.Signals): void {
  // Another listener means the app owns its exit (graceful drain): flush what we have and let it
  // decide; if it decides to call process.exit, that exit waits for the flush. Otherwise our
  // listener is what stops Node's default exit, so finish and re-raise.
  const appHandlesIt = process.listeners(signal).some((l) => l !== onSignal);
  if (appHandlesIt) {
    holdExit();
    void flush();
    return;
  }
  void shutdown().finally(() => {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  });
}

/**
 * After a termination signal the app handles itself, its `process.exit(code)` (typically in
 * `server.close()`'s callback) would cut off the spans of the requests it just drained. The first
 * such call starts the shutdown and exits with the app's code when it ends (within the shutdown
 * timeout); a second call exits at once, so an app that insists is never held.
 */
function holdExit(): void {
  if (realExit) return;
  const exit = (realExit = process.exit);
  const exitAfterFlush = ((code?: number | string | null) => {
    if (process.exit === exitAfterFlush) process.exit = exit;
    if (code !== undefined && code !== null) process.exitCode = code;
    void shutdown().finally(() => exit.call(process, code ?? undefined));
    return undefined as never;
  }) as typeof process.exit;
  process.exit = exitAfterFlush;
}

function onBeforeExit(): void {
  // The loop is empty: exporting schedules more work, after which beforeExit fires again and the
  // process ends with the app's exit code. What keeps the loop alive after the shutdown is ours
  // alone (an exporter's retry timer, a socket to a Collector that does not answer), unless the app
  // listens for beforeExit too and may have started work of its own: then Node decides, as before.
  if (shutdownPromise) return;
  void shutdown().then(() => {
    const appListens = process.listeners('beforeExit').some((l) => !ownBeforeExit.has(l));
    if (!appListens) (realExit ?? process.exit).call(process);
  });
}
