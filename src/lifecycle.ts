// Flush and shutdown, on demand (the ./api exports) and around process exit. The distribution only
// ends the process where Node itself would have: a signal with no app handler is re-raised after the
// flush, so the exit code and signal are what the app would have had without us.
import type { Sdk } from './sdk.js';
import { log, describe } from './log.js';

let sdk: Sdk | undefined;
let timeoutMs = 5000;
let shutdownPromise: Promise<void> | undefined;

export function attachSdk(started: Sdk, shutdownTimeoutMs: number): void {
  sdk = started;
  timeoutMs = shutdownTimeoutMs;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, onSignal);
  process.on('beforeExit', onBeforeExit);
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
  shutdownPromise ??= sdk.shutdown(timeoutMs).catch((err: unknown) => {
    log.once('warn', 'shutdown', `shutdown failed: ${describe(err)}`);
  });
  return shutdownPromise;
}

function onSignal(signal: NodeJS.Signals): void {
  // Another listener means the app owns its exit (graceful drain): flush what we have and let it
  // decide. Otherwise our listener is what stops Node's default exit, so finish and re-raise.
  const appHandlesIt = process.listeners(signal).some((l) => l !== onSignal);
  if (appHandlesIt) {
    void flush();
    return;
  }
  void shutdown().finally(() => {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  });
}

function onBeforeExit(): void {
  // The loop is empty: exporting schedules more work, after which beforeExit fires again and
  // the process ends normally with the app's exit code.
  if (!shutdownPromise) void shutdown();
}
