// Whether this thread should start the SDK. `--import` (NODE_OPTIONS or execArgv) reaches every
// worker thread, so without a rule each pino transport would start a second SDK of its own: about
// 95 ms per worker, host metrics and exporters in each, for a thread that only writes log lines.
//
// The rule: the main thread always starts. A worker starts too (an app's own worker does real work
// and keeps its spans), unless it is a log transport run by thread-stream (pino's transports, and
// anything else built on thread-stream), or the app turned workers off with OTEL_MONITOR_WORKERS
// (process-wide, or for one worker through the `env` option of `new Worker`).
import { isMainThread, workerData } from 'node:worker_threads';

/**
 * thread-stream starts lib/worker.js with `{ filename, dataBuf, stateBuf, workerData }`, the two
 * buffers shared; thread-stream >= 2 also stamps `workerData.$context.threadStreamVersion`.
 */
export function isThreadStreamWorker(data: unknown = workerData): boolean {
  if (typeof data !== 'object' || data === null) return false;
  const d = data as { filename?: unknown; dataBuf?: unknown; stateBuf?: unknown; workerData?: { $context?: { threadStreamVersion?: unknown } } };
  if (typeof d.workerData?.$context?.threadStreamVersion === 'string') return true;
  return typeof d.filename === 'string' && d.dataBuf instanceof SharedArrayBuffer && d.stateBuf instanceof SharedArrayBuffer;
}

export type ThreadRole = 'main' | 'worker' | 'log-transport';

export function threadRole(): ThreadRole {
  if (isMainThread) return 'main';
  return isThreadStreamWorker() ? 'log-transport' : 'worker';
}
