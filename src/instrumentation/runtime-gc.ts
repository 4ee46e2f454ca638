// OTEL_MONITOR_GC_METRICS=false: runtime-node without its GC collector. v8js.gc.duration needs a
// `gc` PerformanceObserver, and on Node 22 and 24 Node builds every gc entry with four deprecate()d
// accessors (DEP0152) whatever the observer does: what survives of them makes V8 grow the young
// generation sooner, +46 MB of RSS on bare Node after 75 s of saturating load (BENCHMARKS.md,
// seventh session; Node 26 builds entries without them). This keeps the other runtime metrics.
import { log } from '../log.js';

interface Collector {
  constructor: { name: string };
  internalDisable(): void;
}

/**
 * Takes the GC collector out of a RuntimeNodeInstrumentation (0.37's private `_collectors`, pinned
 * by the unit test) and disconnects its observer, which the constructor already connected. Not its
 * disable(): that clears `enabled` on the config object every collector shares. Returns false, and
 * says so, when the shape is not the known one.
 */
export function dropGcCollector(instrumentation: object): boolean {
  const collectors = (instrumentation as { _collectors?: unknown })._collectors;
  const index = Array.isArray(collectors)
    ? collectors.findIndex((c: Partial<Collector> | null) => c?.constructor?.name === 'GCCollector' && typeof c.internalDisable === 'function')
    : -1;
  if (index < 0) {
    log.warn('OTEL_MONITOR_GC_METRICS=false: this instrumentation-runtime-node has no GC collector we know; v8js.gc.duration stays on');
    return false;
  }
  const [gc] = (collectors as Collector[]).splice(index, 1);
  gc!.internalDisable();
  return true;
}
