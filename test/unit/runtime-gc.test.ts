import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { dropGcCollector } from '../../src/instrumentation/runtime-gc.js';

const { RuntimeNodeInstrumentation } = createRequire(import.meta.url)('@opentelemetry/instrumentation-runtime-node') as {
  RuntimeNodeInstrumentation: new (c: object) => { setMeterProvider(p: MeterProvider): void; disable(): void; _collectors: Array<{ constructor: { name: string }; _observer?: { disconnect(): void } }> };
};

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** Metric names runtime-node reports after enough allocation for several scavenges. */
async function runtimeMetricNames(drop: boolean): Promise<{ names: string[]; disconnected: boolean }> {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const runtime = new RuntimeNodeInstrumentation({ monitoringPrecision: 10 });
  const gc = runtime._collectors.find((c) => c.constructor.name === 'GCCollector')!;
  const disconnect = vi.spyOn(gc._observer!, 'disconnect');
  stops.push(async () => {
    runtime.disable();
    await provider.shutdown();
  });
  if (drop) expect(dropGcCollector(runtime)).toBe(true);
  runtime.setMeterProvider(provider);
  let garbage: object[] = [];
  for (let i = 0; i < 400_000; i++) {
    garbage.push({ i, s: `x${i}` });
    if (garbage.length > 1000) garbage = [];
  }
  await new Promise((r) => setTimeout(r, 100)); // gc entries reach observers in a later immediate
  const { resourceMetrics } = await reader.collect();
  const names = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name));
  return { names, disconnected: disconnect.mock.calls.length > 0 };
}

describe('OTEL_MONITOR_GC_METRICS=false (dropGcCollector)', () => {
  it('by default runtime-node reports v8js.gc.duration beside the event loop and heap metrics', async () => {
    const { names, disconnected } = await runtimeMetricNames(false);
    expect(names).toContain('v8js.gc.duration');
    expect(names).toContain('nodejs.eventloop.utilization');
    expect(disconnected).toBe(false);
  });

  it("without the GC collector: its observer disconnected, no v8js.gc.duration, every other runtime metric kept", async () => {
    const full = await runtimeMetricNames(false);
    const { names, disconnected } = await runtimeMetricNames(true);
    expect(disconnected).toBe(true);
    expect(names).not.toContain('v8js.gc.duration');
    expect(names.sort()).toEqual(full.names.filter((n) => n !== 'v8js.gc.duration').sort());
  });

  it('an instrumentation of another shape is left as it is, and says so', () => {
    const other = { _collectors: [{ internalDisable: vi.fn() }] };
    expect(dropGcCollector(other)).toBe(false);
    expect(other._collectors).toHaveLength(1);
    expect(dropGcCollector({})).toBe(false);
  });
});
