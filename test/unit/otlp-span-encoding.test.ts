import { describe, expect, it } from 'vitest';
import * as api from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { TracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { ProtobufWriter } from '../../src/exporters/protobuf-writer.js';
import { encodeResource, encodeScope, encodeSpan, encodeTraceRequest } from '../../src/exporters/otlp-span-encoding.js';
import { EncodingSpanProcessor, type BatchExporter, type EncodedBatch } from '../../src/exporters/encoding-span-processor.js';
import { isTracingSuppressed, suppressTracing } from '@opentelemetry/core';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

function collect(make: (tp: TracerProvider) => void, extra: SpanProcessor[] = []): ReadableSpan[] {
  const spans: ReadableSpan[] = [];
  const tp = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'enc', 'service.version': 'v1', 'host.cores': 2, 'feature.on': true }),
    spanProcessors: [
      { onStart() {}, onEnd: (s: ReadableSpan) => spans.push(s), forceFlush: async () => {}, shutdown: async () => {} },
      ...extra,
    ],
  });
  make(tp);
  return spans;
}

/** Every field the encoder writes, exercised: kinds, values of each type, events, links, status, remote parents, trace state. */
function variedSpans(tp: TracerProvider): void {
  const a = tp.getTracer('scope-a', '1.2.3');
  const b = tp.getTracer('scope-b');
  const remote = api.trace.setSpanContext(api.ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: 1,
    isRemote: true,
    traceState: new TraceState('vendor=abc,other=x'),
  });
  for (let i = 0; i < 40; i++) {
    const s = a.startSpan(
      i % 2 ? 'GET /users/:id' : 'héllo wörld ✓',
      {
        kind: (i % 5) as api.SpanKind,
        attributes: {
          'http.request.method': 'GET',
          'server.port': 8080,
          'big.int': 2 ** 40 + i,
          negative: -17 - i,
          ratio: 0.25 + i,
          flag: i % 2 === 0,
          list: ['a', 'b', 'ü'],
          numbers: [1, 2.5, -3],
          long: 'x'.repeat(300 + i),
          'ключ': 'значение',
        },
        links: i % 3 === 0 ? [{ context: { traceId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', spanId: 'bbbbbbbbbbbbbbbb', traceFlags: 0 }, attributes: { why: 'batch' } }] : [],
      },
      i % 4 === 0 ? remote : api.ROOT_CONTEXT,
    );
    if (i % 2) s.addEvent('retry', { attempt: i });
    if (i % 7 === 0) s.recordException(new Error(`boom ${i}`));
    if (i % 3 === 1) s.setStatus({ code: api.SpanStatusCode.ERROR, message: 'failed' });
    s.end();
    const c = b.startSpan('child', {}, api.trace.setSpan(api.ROOT_CONTEXT, s));
    c.end();
  }
}

function encodeWithOurs(spans: ReadableSpan[]): Uint8Array {
  const scopes = new Map<object, ProtobufWriter>();
  for (const s of spans) {
    let w = scopes.get(s.instrumentationScope);
    if (!w) scopes.set(s.instrumentationScope, (w = new ProtobufWriter(64)));
    encodeSpan(w, s);
  }
  return encodeTraceRequest([
    {
      resource: encodeResource(spans[0]!.resource),
      scopes: [...scopes].map(([scope, w]) => ({ scope: encodeScope(scope as never), records: w.buf.subarray(0, w.pos) })),
    },
  ]);
}

describe('OTLP span encoding', () => {
  it('writes the same bytes as the otlp-transformer serializer for the same spans', () => {
    const spans = collect(variedSpans);
    expect(spans.length).toBe(80);
    const ours = Buffer.from(encodeWithOurs(spans));
    const reference = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
    expect(ours.length).toBe(reference.length);
    expect(ours.equals(reference)).toBe(true);
  });

  it('writes the same bytes past the repeated-value cache limits (values per key, long pairs, value types)', () => {
    const spans = collect((tp) => {
      const t = tp.getTracer('limits');
      for (let i = 0; i < 150; i++) {
        const s = t.startSpan('s', {
          attributes: {
            'network.peer.port': 40_000 + i, // a new value each span: past 64 the key stops caching
            ['k'.repeat(90)]: 'v'.repeat(48), // a KeyValue over 127 bytes: never cached
            'same.text': i % 2 ? '200' : 200, // a string and a number that print alike
            'zero.sign': i % 2 ? -0 : 0,
            'not.a.number': Number.NaN,
            'short.then.long': 'x'.repeat(40 + (i % 20)),
          },
        });
        s.end();
      }
    });
    const ours = Buffer.from(encodeWithOurs(spans));
    const reference = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
    expect(ours.equals(reference)).toBe(true);
  });

  it('widens a length prefix in place when a message outgrows one byte', () => {
    const w = new ProtobufWriter(4);
    const at = w.begin();
    w.string('y'.repeat(20000));
    w.finish(at);
    // 20003 bytes of content (3-byte length + string) need a 3-byte length prefix.
    expect([...w.buf.subarray(0, 3)]).toEqual([0xa3, 0x9c, 0x01]);
    expect(w.pos).toBe(3 + 3 + 20000);
  });
});

describe('EncodingSpanProcessor', () => {
  class StuckExporter implements BatchExporter {
    batches: EncodedBatch[] = [];
    pending: Array<() => void> = [];
    export(batch: EncodedBatch, done: (r: { code: number }) => void): void {
      this.batches.push(batch);
      this.pending.push(() => done({ code: 0 }));
    }
    release(): void {
      for (const p of this.pending.splice(0)) p();
    }
    forceFlush = async () => {};
    shutdown = async () => {};
  }

  const options = { maxQueueSize: 100, maxExportBatchSize: 10, scheduledDelayMillis: 60_000 };

  it('sends full batches, bounds what waits while the exporter is stuck, and flushes the rest', async () => {
    const exporter = new StuckExporter();
    const processor = new EncodingSpanProcessor(api, suppressTracing, exporter, options);
    collect((tp) => {
      const t = tp.getTracer('t');
      for (let i = 0; i < 1000; i++) t.startSpan(`s${i}`).end();
    }, [processor]);
    // 4 requests in flight of 10 spans each, then 100 queued; the other 860 are dropped.
    expect(exporter.batches.map((b) => b.items)).toEqual([10, 10, 10, 10]);
    exporter.release();
    const flushed = processor.forceFlush();
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setImmediate(r));
      exporter.release();
    }
    await flushed;
    const total = exporter.batches.reduce((n, b) => n + b.items, 0);
    expect(total).toBe(140);
  });

  it('skips spans that are not sampled and exports with tracing suppressed', async () => {
    api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const seen: boolean[] = [];
    const exporter: BatchExporter = {
      export: (batch, done) => {
        seen.push(isTracingSuppressed(api.context.active()) && batch.items === 1);
        done({ code: 0 });
      },
      forceFlush: async () => {},
      shutdown: async () => {},
    };
    const processor = new EncodingSpanProcessor(api, suppressTracing, exporter, { ...options, maxExportBatchSize: 1 });
    collect((tp) => {
      const t = tp.getTracer('t');
      const unsampled = api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 0 });
      t.startSpan('parent-based drop', {}, unsampled).end();
      t.startSpan('kept').end();
    }, [processor]);
    await processor.shutdown();
    expect(seen).toEqual([true]);
  });
});
