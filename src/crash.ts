// Uncaught exceptions and unhandled rejections: report them, flush every signal, then end the
// process the way Node would have (stack on stderr, exit code 1), or not at all where Node would
// not have (the app has its own handler, or --unhandled-rejections=warn|none).
//
// Node only exits after an uncaught exception when nobody listens for 'uncaughtException', and in
// the default `throw` mode only turns a rejection into one when nobody listens for
// 'unhandledRejection'. Our listeners would change both, so each one checks whether it is the only
// listener and, if so, does what Node would have done after the flush.
import { writeSync } from 'node:fs';
import { inspect } from 'node:util';
import type { RejectionMode } from './config.js';
import type * as Api from '@opentelemetry/api';
import { log, describe } from './log.js';

export type CrashOrigin = 'uncaughtException' | 'unhandledRejection';

export interface CrashHooks {
  mode: RejectionMode;
  /** Reports the error (Sentry, the active span). `fatal`: the process is about to end because of it. */
  report(error: unknown, origin: CrashOrigin, fatal: boolean): void;
  /** Flushes and stops every signal; resolves within the shutdown timeout. */
  shutdown(): Promise<void>;
}

const reported = new WeakSet<object>();
const emit = (event: string, ...args: unknown[]) => (process.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);

export function installCrashHandlers(hooks: CrashHooks): void {
  let exiting = false;

  const report = (error: unknown, origin: CrashOrigin, fatal: boolean) => {
    // Under --unhandled-rejections=strict the same error reaches both listeners.
    if (typeof error === 'object' && error !== null) {
      if (reported.has(error)) return;
      reported.add(error);
    }
    try {
      hooks.report(error, origin, fatal);
    } catch (err) {
      log.once('warn', 'crash-report', `could not report an uncaught error: ${describe(err)}`);
    }
  };

  const die = (error: unknown, origin: CrashOrigin) => {
    report(error, origin, true);
    if (exiting) return; // a second error while flushing: Node would already be gone
    exiting = true;
    void hooks.shutdown().finally(() => {
      printLikeNode(error);
      process.exit(1);
    });
  };

  const onUncaught = (error: unknown, origin: CrashOrigin) => {
    const appHandlesIt = process.listeners('uncaughtException').some((l) => l !== onUncaught);
    if (appHandlesIt && !exiting) report(error, origin, false);
    else die(error, origin);
  };

  const onRejection = (reason: unknown) => {
    const appHandlesIt = process.listeners('unhandledRejection').some((l) => l !== onRejection);
    if (hooks.mode === 'throw' && !appHandlesIt) {
      // Node would raise it as an uncaught exception, which the app's handlers may still catch.
      const error = reason instanceof Error ? reason : new UnhandledPromiseRejection(reason);
      emit('uncaughtExceptionMonitor', error, 'unhandledRejection');
      if (process.listeners('uncaughtException').some((l) => l !== onUncaught)) {
        report(error, 'unhandledRejection', false);
        emit('uncaughtException', error, 'unhandledRejection');
      } else die(error, 'unhandledRejection');
      return;
    }
    // strict: already raised through onUncaught. warn, warn-with-error-code, none: Node goes on.
    if (hooks.mode === 'strict') return;
    report(reason, 'unhandledRejection', false);
    if (hooks.mode === 'warn-with-error-code' && !appHandlesIt) warnLikeNode(reason);
  };

  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onRejection);
}

/** What Node prints for a fatal exception: the inspected error and its version. */
function printLikeNode(error: unknown): void {
  const text = error instanceof Error ? inspect(error) : `Uncaught ${inspect(error)}`;
  try {
    writeSync(2, `${text}\n\nNode.js ${process.version}\n`);
  } catch {
    /* stderr closed: nothing to tell */
  }
}

/**
 * Under warn-with-error-code Node warns and sets the exit code only when nobody listens for
 * 'unhandledRejection'; ours is a listener, so do it the same way. (warn: Node always warns.)
 */
function warnLikeNode(reason: unknown): void {
  const text = reason instanceof Error ? (reason.stack ?? String(reason)) : inspect(reason);
  process.emitWarning(`Unhandled promise rejection. ${text}`, 'UnhandledPromiseRejectionWarning');
  process.exitCode = 1;
}

/** Node's wrapper for a rejection whose reason is not an Error (same name and code). */
class UnhandledPromiseRejection extends Error {
  readonly code = 'ERR_UNHANDLED_REJECTION';
  constructor(reason: unknown) {
    super(
      'This error originated either by throwing inside of an async function without a catch block, or by rejecting a ' +
        `promise which was not handled with .catch(). The promise rejected with the reason "${inspect(reason)}".`,
    );
    this.name = 'UnhandledPromiseRejection';
  }
}

/** An uncaught exception or unhandled rejection: on the active span and to Sentry. */
/** Where a crash is reported besides the span: Sentry's link (sentry/start.ts), named by shape here so crash.ts imports no Sentry code. */
export interface CrashSink {
  captureCrash(error: unknown, origin: CrashOrigin, fatal: boolean, traceId: string | undefined): void;
}

export function crashReporter(api: typeof Api, sentry: CrashSink | undefined, activeTraceId: () => string | undefined): CrashHooks['report'] {
  return (error, origin, fatal) => {
    // The span the error was raised in ends now with it, so the crashing request's trace is exported.
    const span = api.trace.getActiveSpan();
    if (fatal && span?.isRecording()) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    }
    sentry?.captureCrash(error, origin, fatal, activeTraceId());
    if (fatal) span?.end();
  };
}
