// Runs the registered health checks on their own unref'd timers and keeps each one's status:
// healthy until `degradedAfter` consecutive failures, degraded until `unhealthyAfter`, unhealthy
// after that; one success makes it healthy again. A check that throws or runs past its timeout is
// a failure, and a check that never settles is never started twice, so a hung dependency can
// neither hold the process nor pile up work. Statuses are exported as gauges (see semconv.ts).
import type * as Api from '@opentelemetry/api';
import {
  ATTR_HEALTH_CHECK,
  ATTR_HEALTH_CRITICAL,
  HEALTH_DEGRADED,
  HEALTH_HEALTHY,
  HEALTH_UNHEALTHY,
  METRIC_HEALTH_DURATION,
  METRIC_HEALTH_OVERALL,
  METRIC_HEALTH_STATUS,
} from '../semconv.js';
import { describe, log } from '../log.js';
import type { Redactor } from '../processors/redaction.js';

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** A check: resolves (optionally with details to show) when the dependency is fine, throws when not. */
export type HealthCheck = (signal: AbortSignal) => unknown;

export interface HealthCheckOptions {
  /** A run that takes longer fails (and its signal is aborted). Default 5000. */
  timeoutMs?: number;
  /** Time between the starts of two runs. Default 30000. */
  intervalMs?: number;
  /** Critical checks decide readiness (/readyz) and the overall status. Default true. */
  critical?: boolean;
  /** Consecutive failures after which the check is degraded. Default 1. */
  degradedAfter?: number;
  /** Consecutive failures after which the check is unhealthy. Default 3. */
  unhealthyAfter?: number;
}

export interface CheckSnapshot {
  name: string;
  critical: boolean;
  /** `pending` until the first run has finished. */
  status: HealthStatus | 'pending';
  consecutiveFailures: number;
  /** The last failure's message, redacted; kept after a recovery so the cause stays visible. */
  lastError: string | null;
  lastRun: string | null;
  lastSuccess: string | null;
  durationMs: number | null;
  details?: unknown;
}

export const HEALTH_DEFAULTS: Required<HealthCheckOptions> = {
  timeoutMs: 5000,
  intervalMs: 30_000,
  critical: true,
  degradedAfter: 1,
  unhealthyAfter: 3,
};

const VALUE: Record<HealthStatus, number> = { healthy: HEALTH_HEALTHY, degraded: HEALTH_DEGRADED, unhealthy: HEALTH_UNHEALTHY };
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface Entry {
  name: string;
  check: HealthCheck;
  options: Required<HealthCheckOptions>;
  attributes: Api.Attributes;
  state: CheckSnapshot;
  timer?: NodeJS.Timeout;
  /** Set while a run has not settled, even past its timeout. */
  inFlight: boolean;
  removed: boolean;
}

export interface HealthMonitorOptions {
  meter: Api.Meter;
  /** Blanks credentials in error messages and details before anyone sees them. */
  redactor: Pick<Redactor, 'redactString' | 'redactValue'>;
  /** Runs a check outside any request and with tracing suppressed (no spans for probes). */
  isolate: <T>(fn: () => T) => T;
  defaults?: Partial<HealthCheckOptions>;
}

/** Where the started SDK leaves its monitor for `registerHealthCheck` (a global: one per process). */
export const HEALTH_MONITOR = Symbol.for('@org/otel-monitor.health-monitor');

export function currentMonitor(): HealthMonitor | undefined {
  return (globalThis as { [HEALTH_MONITOR]?: HealthMonitor })[HEALTH_MONITOR];
}

export class HealthMonitor {
  private readonly entries = new Map<string, Entry>();
  private readonly duration: Api.Histogram;
  private readonly defaults: Required<HealthCheckOptions>;
  private stopped = false;

  constructor(private readonly o: HealthMonitorOptions) {
    this.defaults = { ...HEALTH_DEFAULTS, ...o.defaults };
    this.duration = o.meter.createHistogram(METRIC_HEALTH_DURATION, {
      description: 'Duration of each health check run, failures and timeouts included.',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    const status = o.meter.createObservableGauge(METRIC_HEALTH_STATUS, {
      description: 'Health check status: 1 healthy, 0.5 degraded, 0 unhealthy.',
    });
    const overall = o.meter.createObservableGauge(METRIC_HEALTH_OVERALL, {
      description: 'The worst status among the critical health checks: 1 healthy, 0.5 degraded, 0 unhealthy.',
    });
    status.addCallback((result) => {
      for (const e of this.entries.values()) {
        if (e.state.status !== 'pending') result.observe(VALUE[e.state.status], e.attributes);
      }
    });
    overall.addCallback((result) => {
      const value = this.overallValue();
      if (value !== undefined) result.observe(value);
    });
  }

  /** Registers (or replaces) a check and runs it at once; returns a function that removes it. */
  register(name: string, check: HealthCheck, options: HealthCheckOptions = {}): () => void {
    if (this.stopped) return () => {};
    if (typeof name !== 'string' || name.trim() === '' || typeof check !== 'function') {
      log.warn('registerHealthCheck needs a non-empty name and a function; the check was ignored');
      return () => {};
    }
    const previous = this.entries.get(name);
    if (previous) this.unregister(previous);
    const opts = this.validOptions(name, options);
    const entry: Entry = {
      name,
      check,
      options: opts,
      attributes: { [ATTR_HEALTH_CHECK]: name, [ATTR_HEALTH_CRITICAL]: String(opts.critical) },
      state: {
        name,
        critical: opts.critical,
        status: 'pending',
        consecutiveFailures: 0,
        lastError: null,
        lastRun: null,
        lastSuccess: null,
        durationMs: null,
      },
      inFlight: false,
      removed: false,
    };
    this.entries.set(name, entry);
    this.schedule(entry, 0);
    return () => this.unregister(entry);
  }

  snapshot(): CheckSnapshot[] {
    return [...this.entries.values()].map((e) => ({ ...e.state }));
  }

  /** The worst status among critical checks; `pending` while one has not run yet. */
  readiness(): HealthStatus | 'pending' {
    let worst: HealthStatus | 'pending' = 'healthy';
    for (const e of this.entries.values()) {
      if (!e.options.critical) continue;
      const s = e.state.status;
      if (s === 'unhealthy') return 'unhealthy';
      if (s === 'pending') worst = 'pending';
      else if (s === 'degraded' && worst === 'healthy') worst = 'degraded';
    }
    return worst;
  }

  stop(): void {
    this.stopped = true;
    for (const e of this.entries.values()) this.unregister(e);
  }

  private overallValue(): number | undefined {
    let value: number | undefined;
    for (const e of this.entries.values()) {
      if (e.options.critical && e.state.status !== 'pending') value = Math.min(value ?? 1, VALUE[e.state.status]);
    }
    if (value === undefined && this.entries.size > 0) return HEALTH_HEALTHY;
    return value;
  }

  private validOptions(name: string, options: HealthCheckOptions): Required<HealthCheckOptions> {
    const out = { ...this.defaults };
    const positive = (key: 'timeoutMs' | 'intervalMs' | 'degradedAfter' | 'unhealthyAfter') => {
      const v = options?.[key];
      if (v === undefined) return;
      if (typeof v === 'number' && Number.isFinite(v) && v >= 1) out[key] = key.endsWith('Ms') ? v : Math.floor(v);
      else log.warn(`health check "${name}": ${key}=${String(v)} is not a number >= 1; using ${out[key]}`);
    };
    positive('timeoutMs');
    positive('intervalMs');
    positive('degradedAfter');
    positive('unhealthyAfter');
    if (options?.critical !== undefined) out.critical = options.critical !== false;
    if (out.unhealthyAfter < out.degradedAfter) {
      log.warn(`health check "${name}": unhealthyAfter is below degradedAfter; using ${out.degradedAfter} for both`);
      out.unhealthyAfter = out.degradedAfter;
    }
    return out;
  }

  private unregister(entry: Entry): void {
    entry.removed = true;
    clearTimeout(entry.timer);
    if (this.entries.get(entry.name) === entry) this.entries.delete(entry.name);
  }

  private schedule(entry: Entry, delayMs: number): void {
    if (entry.removed || this.stopped) return;
    entry.timer = setTimeout(() => {
      const started = Date.now();
      void this.runOnce(entry).finally(() => this.schedule(entry, Math.max(0, entry.options.intervalMs - (Date.now() - started))));
    }, delayMs);
    // Health checks must never keep the app alive.
    entry.timer.unref();
  }

  private async runOnce(entry: Entry): Promise<void> {
    if (entry.inFlight) {
      // The previous run never settled: count it again rather than start a second one.
      this.record(entry, 0, new Error(`the previous run has not finished after ${entry.options.timeoutMs} ms`));
      return;
    }
    const started = performance.now();
    const outcome = await this.attempt(entry);
    this.record(entry, performance.now() - started, outcome.error, outcome.details);
  }

  private attempt(entry: Entry): Promise<{ error?: unknown; details?: unknown }> {
    const controller = new AbortController();
    entry.inFlight = true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        controller.abort(new Error(`timed out after ${entry.options.timeoutMs} ms`));
        resolve({ error: controller.signal.reason });
      }, entry.options.timeoutMs);
      timer.unref();
      let run: Promise<unknown>;
      try {
        run = Promise.resolve(this.o.isolate(() => entry.check(controller.signal)));
      } catch (err) {
        run = Promise.reject(err);
      }
      run.then(
        (details) => resolve({ details }),
        (error: unknown) => resolve({ error: error ?? new Error('the check failed') }),
      ).finally(() => {
        clearTimeout(timer);
        entry.inFlight = false;
      });
    });
  }

  private record(entry: Entry, ms: number, error: unknown, details?: unknown): void {
    if (entry.removed) return;
    const s = entry.state;
    const now = new Date().toISOString();
    s.lastRun = now;
    s.durationMs = Math.round(ms * 10) / 10;
    if (error === undefined) {
      s.consecutiveFailures = 0;
      s.status = 'healthy';
      s.lastSuccess = now;
      s.details = details === undefined || details === null ? undefined : this.o.redactor.redactValue(details);
    } else {
      s.consecutiveFailures++;
      s.lastError = this.o.redactor.redactString(describe(error));
      const { degradedAfter, unhealthyAfter } = entry.options;
      s.status = s.consecutiveFailures >= unhealthyAfter ? 'unhealthy' : s.consecutiveFailures >= degradedAfter ? 'degraded' : 'healthy';
    }
    this.duration.record(ms / 1000, entry.attributes);
  }
}
