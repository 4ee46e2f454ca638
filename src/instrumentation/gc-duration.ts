// v8js.gc.duration from V8's GC profiler read in bulk, instead of the `gc` PerformanceObserver of
// @opentelemetry/instrumentation-runtime-node. Why: that observer makes a PerformanceEntry per
// collection and hands it to JS later, so those objects are alive when the next scavenge runs, and
// every app pays for them in its young generation. Measured on the bench's http app (ab-env --gc):
// 25.9 KB survived per scavenge with runtime metrics on, 16.8 KB with them off; bare Node 3.7, and
// bare Node with only that observer 13.1. v8.GCProfiler writes each collection's record into a
// native buffer; reading it once a second makes the JS objects live only during the read.
// OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS=runtime-node keeps runtime-node's observer instead.
import v8 from 'node:v8';
import { ValueType, type Attributes, type Histogram, type Meter } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { contained } from '../log.js';

/** Often enough that the native buffer stays small: each collection's record is ~4 KB of JSON. */
export const GC_READ_INTERVAL_MS = 1000;

// runtime-node 0.37's name, unit, description and buckets, so dashboards read the same series.
export const GC_DURATION_METRIC = 'v8js.gc.duration';
const GC_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const DESCRIPTION = 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.';

// The profiler's names for V8's GC types (node_v8.cc), mapped to the kinds runtime-node reports
// from perf_hooks. The profiler has no name for a minor mark-sweep (off unless --minor-ms);
// runtime-node's table has no kind for it either.
const KIND_ATTRIBUTES: Readonly<Record<string, Attributes>> = {
  Scavenge: { 'v8js.gc.type': 'minor' },
  MarkSweepCompact: { 'v8js.gc.type': 'major' },
  IncrementalMarking: { 'v8js.gc.type': 'incremental' },
  ProcessWeakCallbacks: { 'v8js.gc.type': 'weakcb' },
};

interface ProfilerRecord { gcType: string; cost: number }

/** The v8js.gc.duration histogram, fed from one GCProfiler that is read and restarted each second. */
export class GcDurationReader {
  private readonly histogram: Histogram;
  private profiler: v8.GCProfiler | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(meter: Meter) {
    this.histogram = meter.createHistogram(GC_DURATION_METRIC, {
      description: DESCRIPTION, unit: 's', valueType: ValueType.DOUBLE, advice: { explicitBucketBoundaries: GC_DURATION_BUCKETS },
    });
  }

  start(intervalMs = GC_READ_INTERVAL_MS): void {
    if (this.profiler) return;
    this.profiler = new v8.GCProfiler();
    this.profiler.start();
    this.timer = setInterval(() => contained('gc duration', () => this.read()), intervalMs).unref();
  }

  /** Records what the profiler saw since the last read, and starts it again. */
  read(): void {
    const profiler = this.profiler;
    if (!profiler) return;
    // stop() hands back the buffer and frees it; a start() right after loses no collection, since
    // collections run only on this thread, between JS calls.
    const records = (profiler.stop() as { statistics?: ProfilerRecord[] } | undefined)?.statistics ?? [];
    profiler.start();
    for (const { gcType, cost } of records) {
      const attributes = KIND_ATTRIBUTES[gcType];
      // cost is in microseconds (uv_hrtime between V8's GC prologue and epilogue callbacks).
      if (attributes && cost >= 0) this.histogram.record(cost / 1e6, attributes);
    }
  }

  stop(): void {
    if (!this.profiler) return;
    this.read();
    clearInterval(this.timer);
    this.profiler.stop();
    this.profiler = undefined;
  }
}

/**
 * Takes runtime-node's GC collector out of its instrumentation (disabled, and removed so that a
 * later enable() does not start it again). Returns false when the collector is not where
 * runtime-node 0.37 keeps it; the caller then leaves runtime-node whole rather than count twice.
 */
export function withoutRuntimeNodeGcCollector(instrumentation: Instrumentation): boolean {
  const collectors = (instrumentation as unknown as { _collectors?: unknown[] })._collectors;
  if (!Array.isArray(collectors)) return false;
  const index = collectors.findIndex((c) => (c as object | null)?.constructor?.name === 'GCCollector');
  if (index < 0) return false;
  const collector = collectors[index] as { disable?: () => void };
  if (typeof collector.disable !== 'function') return false;
  collector.disable();
  collectors.splice(index, 1);
  return true;
}
