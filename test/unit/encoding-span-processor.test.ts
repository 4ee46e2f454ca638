// EncodingSpanProcessor's bounds and drop accounting: what waits is capped by maxQueueSize, drops
// are counted and reported (once a minute at most), a span that fails to encode costs only itself,
// and nothing is taken after shutdown.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { EncodingSpanProcessor, type BatchExporter, type EncodedBatch } from '../../src/exporters/encoding-span-processor.js';
import { decodeOtlp } from '../helpers/otlp-receiver.js';

class StuckExporter implements BatchExporter {
  batches: EncodedBatch[] = [];
  private pending: Array<() => void> = [];
  shutdowns = 0;
  export(batch: EncodedBatch, done: (r: { code: number }) => void): void {
    this.batches.push(batch);
    this.pending.push(() => done({ code: 0 }));
  }
  async release(): Promise<void> {
    for (let i = 0; i < 5; i++) {
      for (const p of this.pending.splice(0)) p();
      await new Promise((r) => setImmediate(r));
    }
  }
  forceFlush = async () => {};
  shutdown = async () => {
    this.shutdowns++;
  };
  spans(): number {
    return this.batches.reduce((n, b) => n + b.items, 0);
  }
}

/** Ended spans from a provider, handed to the processor by hand. */
function endedSpans(n: number, scopes = 1): ReadableSpan[] {
  const out: ReadableSpan[] = [];
  const tp = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bounds' }),
    spanProcessors: [{ onStart() {}, onEnd: (s: ReadableSpan) => out.push(s), forceFlush: async () => {}, shutdown: async () => {} }],
  });
  for (let i = 0; i < n; i++) tp.getTracer(`scope-${i % scopes}`).startSpan(`s${i}`).end();
  return out;
}

let stderr: string[];
beforeEach(() => {
  stderr = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    stderr.push(String(s));
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

const options = { maxQueueSize: 50, maxExportBatchSize: 10, scheduledDelayMillis: 60_000 };

describe('EncodingSpanProcessor bounds and drops', () => {
  it('caps what waits at maxQueueSize across scopes, counts every drop and reports it once', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(10_000_000);
    const exporter = new StuckExporter();
    const p = new EncodingSpanProcessor(api, suppressTracing, exporter, options);
    for (const s of endedSpans(500, 3)) p.onEnd(s);
    // 4 requests of 10 in flight, 50 waiting, 410 dropped.
    expect(exporter.batches.map((b) => b.items)).toEqual([10, 10, 10, 10]);
    expect(stderr.filter((l) => l.includes('span queue full'))).toHaveLength(1);
    await exporter.release();
    await p.forceFlush();
    await exporter.release();
    expect(exporter.spans()).toBe(90);
    expect(stderr.filter((l) => l.includes('410 spans were dropped'))).toHaveLength(1);
  });

  it('reports drops at most once a minute, with the count since the last report', async () => {
    let now = 20_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    const exporter = new StuckExporter();
    const p = new EncodingSpanProcessor(api, suppressTracing, exporter, options);
    const burst = async (n: number) => {
      for (const s of endedSpans(n)) p.onEnd(s);
      await exporter.release();
      await p.forceFlush();
      await exporter.release();
    };
    await burst(100); // 40 in flight + 50 queued, 10 dropped: reported
    now += 1000;
    await burst(120); // 30 more dropped within the minute: held back
    now += 61_000;
    await burst(95); // 5 more: reported with the 30 before
    const reports = stderr.filter((l) => l.includes('spans were dropped'));
    expect(reports).toEqual([expect.stringContaining(' 10 spans'), expect.stringContaining(' 35 spans')]);
  });

  it('a span that fails to encode is dropped alone: the batch around it still decodes', async () => {
    const exporter = new StuckExporter();
    const p = new EncodingSpanProcessor(api, suppressTracing, exporter, { ...options, maxExportBatchSize: 2 });
    const [a, b, c] = endedSpans(3);
    const broken = new Proxy(b!, {
      get(target, key) {
        if (key === 'events') throw new Error('broken span');
        return Reflect.get(target, key);
      },
    });
    p.onEnd(a!);
    p.onEnd(broken);
    p.onEnd(c!);
    expect(stderr.filter((l) => l.includes('could not be encoded'))).toHaveLength(1);
    expect(exporter.batches).toHaveLength(1);
    const body = decodeOtlp('traces', Buffer.from(exporter.batches[0]!.bytes), 'application/x-protobuf');
    const names = body.resourceSpans.flatMap((r: any) => r.scopeSpans.flatMap((s: any) => s.spans.map((x: any) => x.name)));
    expect(names).toEqual(['s0', 's2']);
  });

  it('takes nothing after shutdown, and shuts the exporter down once', async () => {
    const exporter = new StuckExporter();
    const p = new EncodingSpanProcessor(api, suppressTracing, exporter, options);
    const spans = endedSpans(5);
    p.onEnd(spans[0]!);
    const done = p.shutdown();
    await exporter.release();
    await done;
    await p.shutdown();
    for (const s of spans.slice(1)) p.onEnd(s);
    await p.forceFlush();
    expect(exporter.spans()).toBe(1);
    expect(exporter.shutdowns).toBe(1);
  });
});
