// Golden test of our GC-duration reader (src/instrumentation/gc-duration.ts) against the collector it
// replaces, runtime-node's `gc` PerformanceObserver: both run over the same collections in this
// process, each into its own MeterProvider, and their v8js.gc.duration metrics are compared field by
// field. The differences allowed are docs/ARCHITECTURE.md's gc-duration-golden table.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';
import { MeterProvider, MetricReader, type HistogramMetricData } from '@opentelemetry/sdk-metrics';
import { GC_DURATION_METRIC, GcDurationReader, withoutRuntimeNodeGcCollector } from '../../src/instrumentation/gc-duration.js';

const ROOT = join(import.meta.dirname, '..', '..');

class Reader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

async function gcDuration(reader: Reader): Promise<(HistogramMetricData & { scope: string }) | undefined> {
  const { resourceMetrics } = await reader.collect();
  for (const { scope, metrics } of resourceMetrics.scopeMetrics) {
    for (const metric of metrics) if (metric.descriptor.name === GC_DURATION_METRIC) return { ...(metric as HistogramMetricData), scope: scope.name };
  }
  return undefined;
}

/** Garbage enough for tens of scavenges, and a full collection (vm.measureMemory, eager). */
async function collectGarbage(): Promise<void> {
  let keep: object[] = [];
  for (let i = 0; i < 3_000_000; i++) {
    keep.push({ i, s: `x${i}` });
    if (keep.length > 5_000) keep = [];
  }
  await vm.measureMemory({ mode: 'summary', execution: 'eager' });
  await sleep(50); // perf_hooks hands gc entries to its observer asynchronously
}

/** kind → [count, sum] of one histogram's points. */
function byKind(metric: HistogramMetricData | undefined): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const p of metric?.dataPoints ?? []) out.set(String(p.attributes['v8js.gc.type']), [p.value.count, p.value.sum ?? 0]);
  return out;
}

/** The rows between the gc-duration-golden markers of docs/ARCHITECTURE.md: `| \`id\` | why |`. */
function listedDifferences(): string[] {
  const doc = readFileSync(join(ROOT, 'docs', 'ARCHITECTURE.md'), 'utf8');
  const table = doc.split('<!-- gc-duration-golden -->')[1];
  if (!table) throw new Error('docs/ARCHITECTURE.md has no <!-- gc-duration-golden --> table');
  return [...table.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
}

describe('GC duration from v8.GCProfiler (golden against runtime-node)', () => {
  const stops: (() => unknown)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  it('the same metric, kinds and collections as runtime-node, but for the differences ARCHITECTURE.md lists', async () => {
    const upstreamReader = new Reader();
    const oursReader = new Reader();
    const upstreamProvider = new MeterProvider({ readers: [upstreamReader] });
    const oursProvider = new MeterProvider({ readers: [oursReader] });
    stops.push(() => upstreamProvider.shutdown(), () => oursProvider.shutdown());
    const runtime = new RuntimeNodeInstrumentation({ monitoringPrecision: 10 });
    runtime.setMeterProvider(upstreamProvider);
    stops.push(() => runtime.disable());
    const ours = new GcDurationReader(oursProvider.getMeter('@org/otel-monitor'));
    ours.start(60_000); // read below, by hand
    stops.push(() => ours.stop());

    await collectGarbage();
    ours.read();
    const [upstream, mine] = [await gcDuration(upstreamReader), await gcDuration(oursReader)];
    expect(upstream, 'runtime-node recorded v8js.gc.duration').toBeDefined();
    expect(mine, 'ours recorded v8js.gc.duration').toBeDefined();

    const found: string[] = [];
    const same = (id: string, a: unknown, b: unknown) => {
      if (JSON.stringify(a) !== JSON.stringify(b)) found.push(id);
    };
    same(`scope ${upstream!.scope} → ${mine!.scope}`, upstream!.scope, mine!.scope);
    same('descriptor', upstream!.descriptor, mine!.descriptor);
    same('temporality', upstream!.aggregationTemporality, mine!.aggregationTemporality);
    same('boundaries', upstream!.dataPoints[0]?.value.buckets.boundaries, mine!.dataPoints[0]?.value.buckets.boundaries);
    const [a, b] = [byKind(upstream), byKind(mine)];
    same('kinds', [...a.keys()].sort(), [...b.keys()].sort());
    // Both watch the same collections of this thread: the same number of each kind, give or take
    // one that began between one side's start and the other's. Durations are timed by two different
    // callbacks around the same pause: the sums agree within a third.
    for (const [kind, [count, sum]] of a) {
      const [ourCount, ourSum] = b.get(kind) ?? [0, 0];
      if (Math.abs(count - ourCount) > 1) found.push(`count ${kind}: ${count} upstream, ${ourCount} ours`);
      if (count >= 5 && Math.abs(sum - ourSum) > sum / 3) found.push(`sum ${kind}: ${sum} upstream, ${ourSum} ours`);
    }
    expect(a.get('minor')?.[0], 'scavenges seen').toBeGreaterThanOrEqual(10);
    expect(a.get('major')?.[0], 'full collections seen').toBeGreaterThanOrEqual(1);
    const listed = listedDifferences();
    expect(found.filter((f) => !listed.includes(f)), 'differences not listed in ARCHITECTURE.md').toEqual([]);
  });

  it('takes only the GC collector out of runtime-node, so the other runtime metrics stay', async () => {
    const reader = new Reader();
    const provider = new MeterProvider({ readers: [reader] });
    stops.push(() => provider.shutdown());
    const runtime = new RuntimeNodeInstrumentation({ monitoringPrecision: 10 });
    expect(withoutRuntimeNodeGcCollector(runtime)).toBe(true);
    expect(withoutRuntimeNodeGcCollector(runtime), 'already taken out').toBe(false);
    runtime.setMeterProvider(provider);
    runtime.enable(); // a later enable() must not start it again
    stops.push(() => runtime.disable());
    await collectGarbage();
    await sleep(30); // event-loop delay is sampled by a timer
    const { resourceMetrics } = await reader.collect();
    const names = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name));
    expect(names).not.toContain(GC_DURATION_METRIC);
    expect(names).toEqual(expect.arrayContaining(['nodejs.eventloop.utilization', 'v8js.memory.heap.used']));
  });

  it('stop() records what the profiler saw since the last read; a read after stop() does nothing', async () => {
    const reader = new Reader();
    const provider = new MeterProvider({ readers: [reader] });
    stops.push(() => provider.shutdown());
    const ours = new GcDurationReader(provider.getMeter('t'));
    ours.start(60_000);
    await collectGarbage();
    ours.read();
    const first = byKind(await gcDuration(reader)).get('minor')?.[0] ?? 0;
    expect(first).toBeGreaterThanOrEqual(10);
    await collectGarbage();
    ours.stop();
    expect(byKind(await gcDuration(reader)).get('minor')?.[0]).toBeGreaterThan(first);
    ours.read(); // after stop: a no-op, not a throw
  });
});
