// The OTLP exporters' retry policy, with otlp-exporter-base's schedule (5 retries, backoff from 1 s
// growing 1.5x to 5 s with 20% jitter, Retry-After honoured, all within the export timeout) but two
// differences that keep a dead Collector from holding a process that has finished its work:
// - the backoff timer does not keep the event loop alive (upstream's does, so a process whose
//   Collector is down lived on for up to the export timeout, 8-13 s, before it could even exit);
// - once the process is exiting (exit-mode.ts), nothing is retried, and a batch waiting for its
//   next attempt is sent at once, a last time, instead of after its backoff.
// The HTTP transport itself (request, compression, timeouts, retryable statuses) stays upstream's.
import { log } from '../log.js';
import { isExiting, onExit } from './exit-mode.js';
import { useBuiltinRequest } from './builtin-request.js';

interface ExportResponse {
  status: 'success' | 'failure' | 'retryable';
  retryInMillis?: number;
  error?: Error;
}

export interface Transport {
  send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse>;
  shutdown(): void;
}

const MAX_ATTEMPTS = 5;
const INITIAL_BACKOFF = 1000;
const MAX_BACKOFF = 5000;
const BACKOFF_MULTIPLIER = 1.5;
const JITTER = 0.2;

/** Backoff sleeps in progress, woken early when the process starts exiting. */
const sleepers = new Set<() => void>();
onExit(() => {
  for (const wake of [...sleepers]) wake();
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      sleepers.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    timer.unref();
    sleepers.add(wake);
  });
}

export class ExitAwareRetryingTransport implements Transport {
  constructor(private readonly inner: Transport) {}

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    const deadline = Date.now() + timeoutMillis;
    let backoff = INITIAL_BACKOFF;
    let result = await this.inner.send(data, timeoutMillis);
    for (let attempt = 0; result.status === 'retryable' && attempt < MAX_ATTEMPTS && !isExiting(); attempt++) {
      const jittered = Math.min(backoff * (1 + (Math.random() * 2 - 1) * JITTER), MAX_BACKOFF);
      backoff *= BACKOFF_MULTIPLIER;
      const wait = result.retryInMillis ?? jittered;
      const remaining = deadline - Date.now();
      if (wait > remaining) break;
      await sleep(wait);
      result = await this.inner.send(data, Math.max(deadline - Date.now(), 1));
    }
    return result;
  }

  shutdown(): void {
    this.inner.shutdown();
  }
}

interface WithDelegate {
  _delegate?: { _transport?: { _transport?: Transport; send?: unknown } };
}

/**
 * Puts the exit-aware retry policy in place of upstream's in an OTLP exporter built by
 * otlp-exporter-base (OTLPExporterBase → delegate → RetryingTransport → HTTP transport). The SDK
 * line is pinned; a unit test checks this shape, and if it ever differs the exporter keeps its own
 * policy rather than break. The HTTP transport found there also gets node:http's request without an
 * ESM import (builtin-request.ts).
 */
export function useExitAwareRetries<T>(exporter: T): T {
  const delegate = (exporter as WithDelegate)._delegate;
  const http = delegate?._transport?._transport;
  if (delegate && http && typeof http.send === 'function') {
    useBuiltinRequest(http);
    delegate._transport = new ExitAwareRetryingTransport(http) as never;
  } else log.debug('OTLP exporter shape not recognised: keeping its own retry policy');
  return exporter;
}
