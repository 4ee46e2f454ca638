// The lean span against the SDK's span contract: the same calls on a LeanSpan and on the SDK's
// SpanImpl, through the SDK's SimpleSpanProcessor and BatchSpanProcessor, the upstream
// OTLPTraceExporter (otlp-transformer) to a real OTLP/HTTP receiver, and our own encoder, must give
// the same spans (ids from one deterministic generator; times compared as times, not bytes).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as api from '@opentelemetry/api';
import * as core from '@opentelemetry/core';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  InMemorySpanExporter,
  ParentBasedSampler,
  AlwaysOnSampler,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { LeanSpan } from '../../src/instrumentation/lean-span.js';
import { leanTracer } from '../../src/instrumentation/lean-tracer.js';
import { IdPool } from '../../src/instrumentation/id-pool.js';
import { ProcessorChain } from '../../src/instrumentation/processor-chain.js';
import { RequestContext } from '../../src/instrumentation/request-context.js';
import { REQUEST_ID_KEY } from '../../src/instrumentation/request-id.js';
import { ProtobufWriter } from '../../src/exporters/protobuf-writer.js';
import { encodeResource, encodeScope, encodeSpan, encodeTraceRequest } from '../../src/exporters/otlp-span-encoding.js';
import { decodeOtlp, startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';

/** Trace and span ids from a counter: the SDK run and the lean run get the same ones. */
function counterIds() {
  let n = 0;
  const hex = (width: number) => (++n).toString(16).padStart(width, '0');
  return { generateTraceId: () => hex(32), generateSpanId: () => hex(16) };
}

interface Run {
  simple: InMemorySpanExporter;
  batch: InMemorySpanExporter;
  batchProcessor: BatchSpanProcessor;
  otlp: BatchSpanProcessor;
  order: string[];
  tracer: api.Tracer;
  sdkTracer: api.Tracer;
}

function provider(receiver: OtlpReceiver, lean: boolean): Run {
  const simple = new InMemorySpanExporter();
  const batch = new InMemorySpanExporter();
  const batchProcessor = new BatchSpanProcessor({ exporter: batch, scheduledDelayMillis: 60_000 });
  const otlp = new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${receiver.url}/v1/traces` }), scheduledDelayMillis: 60_000 });
  const order: string[] = [];
  const hooks: SpanProcessor = {
    onStart: (s) => order.push(`start ${s.name}`),
    onEnding: (s) => {
      order.push(`ending ${s.name}`);
      s.setAttribute('set.in.onEnding', true); // what release-tags and redaction do
    },
    onEnd: (s) => order.push(`end ${s.name} ${s.ended}`),
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const tp = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'lean-contract' }),
    idGenerator: counterIds(),
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanLimits: { attributeCountLimit: 12, eventCountLimit: 3, linkCountLimit: 2 },
    spanProcessors: [hooks, new SimpleSpanProcessor({ exporter: simple }), batchProcessor, otlp],
  });
  const sdkTracer = tp.getTracer('contract', '1.0.0');
  // The sampler fast path on, as the default configuration runs it: the SDK's sampler must agree.
  const tracer = lean ? leanTracer(sdkTracer, api, core, { samplesUnderSampledParents: true })! : sdkTracer;
  return { simple, batch, batchProcessor, otlp, order, tracer, sdkTracer };
}

/** Every Span method, the attribute value types, limits, remote and unsampled parents, user child spans. */
function scenario({ tracer, sdkTracer }: Run): void {
  const remote = api.trace.setSpanContext(api.ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: 1,
    isRemote: true,
    traceState: new core.TraceState('vendor=abc'),
  });
  const unsampled = api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: 'f'.repeat(32), spanId: 'e'.repeat(16), traceFlags: 0, isRemote: true });
  const server = tracer.startSpan('GET', { kind: api.SpanKind.SERVER }, remote);
  server.setAttributes({ 'http.request.method': 'GET', 'server.port': 8080, ratio: 0.5, flag: true, list: ['a', 'ü'], nums: [1, 2.5] });
  server.setAttribute('bad', { nested: true } as never); // refused by the SDK's validation, and by ours
  for (let i = 0; i < 10; i++) server.setAttribute(`extra.${i}`, i); // past the count limit of 12
  server.addEvent('plain');
  server.addEvent('with attributes', { attempt: 2 });
  server.addEvent('timed', [1_700_000_000, 5]);
  server.recordException(new Error('boom'));
  server.recordException('text only');
  server.addLink({ context: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 }, attributes: { why: 'batch' } });
  server.addLinks([{ context: { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), traceFlags: 0 } }, { context: { traceId: 'e'.repeat(32), spanId: 'f'.repeat(16), traceFlags: 0 } }]);
  server.setStatus({ code: api.SpanStatusCode.ERROR, message: 'failed' });
  server.updateName('GET /users/:id');
  // User code: a child span from the SDK's own tracer, under the active span.
  api.context.with(api.trace.setSpan(api.context.active(), server), () => {
    expect(api.trace.getActiveSpan()).toBe(server);
    const child = sdkTracer.startSpan('user work');
    child.end();
    const handler = tracer.startSpan('request handler - /users/:id');
    handler.setStatus({ code: api.SpanStatusCode.OK });
    handler.setStatus({ code: api.SpanStatusCode.ERROR, message: 'ignored after OK' });
    handler.end();
  });
  server.end();
  server.end(); // a second end is refused
  server.setAttribute('after.end', 1);
  const root = tracer.startSpan('root', { kind: api.SpanKind.CLIENT });
  root.end();
  const dropped = tracer.startSpan('not sampled', {}, unsampled);
  expect(dropped.isRecording()).toBe(false);
  expect(dropped.spanContext().traceId).toBe('f'.repeat(32));
  dropped.end();
}

const ms = (t: api.HrTime) => t[0] * 1e3 + t[1] / 1e6;

/** A ReadableSpan's fields, times as a check that they are sane. */
function view(s: ReadableSpan) {
  return {
    name: s.name,
    kind: s.kind,
    spanContext: s.spanContext(),
    parentSpanContext: s.parentSpanContext,
    status: s.status,
    attributes: s.attributes,
    links: s.links,
    events: s.events.map((e) => ({ ...e, time: e.name === 'timed' ? e.time : 'now' })),
    ended: s.ended,
    resource: s.resource.attributes,
    scope: s.instrumentationScope,
    dropped: [s.droppedAttributesCount, s.droppedEventsCount, s.droppedLinksCount],
    timesSane: ms(s.endTime) >= ms(s.startTime) && Math.abs(ms(s.startTime) - Date.now()) < 60_000 && Math.abs(ms(s.duration) - (ms(s.endTime) - ms(s.startTime))) < 0.01,
  };
}

/** The OTLP request as decoded by the receiver's protobuf types, times left out (compared apart). */
function withoutTimes(body: unknown): unknown {
  return JSON.parse(JSON.stringify(body, (k, v) => (/[tT]imeUnixNano$/.test(k) ? (k === 'timeUnixNano' && v === '1700000000000000005' ? v : 'time') : v)));
}

describe('lean span: the SDK span contract', () => {
  let receiver: OtlpReceiver;
  const runs: Partial<Record<'sdk' | 'lean', Run>> = {};

  beforeAll(async () => {
    api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    receiver = await startOtlpReceiver();
    for (const kind of ['sdk', 'lean'] as const) {
      const run = provider(receiver, kind === 'lean');
      scenario(run);
      await run.batchProcessor.forceFlush();
      await run.otlp.forceFlush();
      runs[kind] = run;
    }
  });
  afterAll(() => receiver?.close());

  it('the lean run made lean spans', () => {
    const lean = runs.lean!.simple.getFinishedSpans();
    expect(lean.filter((s) => s instanceof LeanSpan).map((s) => s.name)).toEqual(['request handler - /users/:id', 'GET /users/:id', 'root']);
    expect(lean.find((s) => s.name === 'user work')).not.toBeInstanceOf(LeanSpan);
  });

  it('the processors see the same calls in the same order, and the same spans (Simple and Batch)', () => {
    const { sdk, lean } = runs as Required<typeof runs>;
    expect(lean.order).toEqual(sdk.order);
    expect(sdk.simple.getFinishedSpans()).toHaveLength(4);
    expect(lean.simple.getFinishedSpans().map(view)).toEqual(sdk.simple.getFinishedSpans().map(view));
    expect(lean.batch.getFinishedSpans().map(view)).toEqual(sdk.batch.getFinishedSpans().map(view));
  });

  it('the upstream OTLPTraceExporter sends the same request for both (decoded by a real receiver)', () => {
    const bodies = receiver.requests.filter((r) => r.signal === 'traces').map((r) => decodeOtlp('traces', r.payload, r.contentType));
    expect(bodies).toHaveLength(2);
    expect(withoutTimes(bodies[1])).toEqual(withoutTimes(bodies[0]));
    const spans = (b: any) => b.resourceSpans[0].scopeSpans[0].spans as Array<{ startTimeUnixNano: string; endTimeUnixNano: string }>;
    for (const s of spans(bodies[1])) expect(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano)).toBe(true);
  });

  it('our encoder writes the same bytes as otlp-transformer for lean spans, times included', () => {
    const lean = runs.lean!.simple.getFinishedSpans();
    const w = new ProtobufWriter(64);
    for (const s of lean) encodeSpan(w, s);
    const ours = encodeTraceRequest([{ resource: encodeResource(lean[0]!.resource), scopes: [{ scope: encodeScope(lean[0]!.instrumentationScope as never), records: w.buf.subarray(0, w.pos) }] }]);
    expect(Buffer.from(ours).equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(lean)!))).toBe(true);
  });
});

describe('lean tracer', () => {
  const ended: ReadableSpan[] = [];
  const sink: SpanProcessor = { onStart() {}, onEnd: (s) => ended.push(s), forceFlush: async () => {}, shutdown: async () => {} };

  it('asks the provider sampler, honours suppressed tracing, and hands options it does not do to the SDK', () => {
    const off = leanTracer(new TracerProvider({ sampler: new AlwaysOffSampler(), spanProcessors: [sink] }).getTracer('t'), api, core)!;
    const dropped = off.startSpan('x');
    expect(dropped).not.toBeInstanceOf(LeanSpan);
    expect(dropped.isRecording()).toBe(false);
    expect(api.trace.isSpanContextValid(dropped.spanContext())).toBe(true);
    const on = leanTracer(new TracerProvider({ spanProcessors: [sink] }).getTracer('t'), api, core)!;
    const suppressed = on.startSpan('x', {}, core.suppressTracing(api.ROOT_CONTEXT));
    expect(api.trace.isSpanContextValid(suppressed.spanContext())).toBe(false);
    expect(on.startSpan('x')).toBeInstanceOf(LeanSpan);
    expect(on.startSpan('x', { attributes: { a: 1 } })).not.toBeInstanceOf(LeanSpan);
    expect(on.startSpan('x', {}, api.trace.setSpan(api.ROOT_CONTEXT, on.startSpan('p'))).constructor).toBe(LeanSpan);
  });

  it('with samplesUnderSampledParents, asks the sampler only under an unsampled parent', () => {
    const calls: string[] = [];
    const inner = new ParentBasedSampler({ root: new AlwaysOnSampler() });
    const spy = { shouldSample: (...a: Parameters<typeof inner.shouldSample>) => (calls.push(a[2]), inner.shouldSample(...a)), toString: () => 'spy' };
    const t = leanTracer(new TracerProvider({ sampler: spy, spanProcessors: [sink] }).getTracer('t'), api, core, { samplesUnderSampledParents: true })!;
    const parent = (flags: number) =>
      api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: flags, isRemote: true, traceState: new core.TraceState('k=v') });
    const root = t.startSpan('root');
    const underSampled = t.startSpan('under-sampled', {}, parent(1));
    const underUnsampled = t.startSpan('under-unsampled', {}, parent(0));
    expect(calls).toEqual(['under-unsampled']);
    expect(root.spanContext().traceFlags).toBe(1);
    expect(underSampled.spanContext().traceFlags).toBe(1);
    expect(underSampled.spanContext().traceState?.serialize()).toBe('k=v');
    expect(underUnsampled.isRecording()).toBe(false);
  });

  it('a second end is refused with the SDK diagnostic, and the span reaches onEnd once', () => {
    const errors: string[] = [];
    const spy = vi.spyOn(api.diag, 'error').mockImplementation((m: string) => void errors.push(m));
    const t = leanTracer(new TracerProvider({ spanProcessors: [sink] }).getTracer('t'), api, core)!;
    ended.length = 0;
    const s = t.startSpan('twice');
    s.end();
    s.end();
    spy.mockRestore();
    expect(ended).toHaveLength(1);
    expect(errors.some((e) => e.includes('You can only call end() on a span once'))).toBe(true);
  });
});

describe('request context', () => {
  const span = api.trace.wrapSpanContext({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 });
  const rpc = { type: core.RPCType.HTTP, span } as core.RPCMetadata;
  const other = api.createContextKey('other');
  const parent = api.ROOT_CONTEXT.setValue(other, 'from parent');

  it('answers the span, the route metadata and the request id itself, the rest from its parent', () => {
    const ctx = new RequestContext(parent, span, rpc, 'rid');
    expect(api.trace.getSpan(ctx)).toBe(span);
    expect(core.getRPCMetadata(ctx)).toBe(rpc);
    expect(ctx.getValue(REQUEST_ID_KEY)).toBe('rid');
    expect(ctx.getValue(other)).toBe('from parent');
    const child = api.trace.wrapSpanContext({ traceId: '1'.repeat(32), spanId: '3'.repeat(16), traceFlags: 1 });
    const below = api.trace.setSpan(ctx, child);
    expect(api.trace.getSpan(below)).toBe(child);
    expect(core.getRPCMetadata(below)).toBe(rpc);
    expect(api.trace.getSpan(ctx)).toBe(span);
    expect(core.getRPCMetadata(core.deleteRPCMetadata(below))).toBeUndefined();
    expect(ctx.deleteValue(other).getValue(other)).toBeUndefined();
  });
});

describe('id pool and processor chain (the lean tracer\'s stand-ins for the SDK\'s)', () => {
  it('ids are lowercase hex of the SDK\'s lengths, distinct across refills, and never all zeros', () => {
    const pool = new IdPool();
    const seen = new Set<string>();
    // 8 KiB a fill: 2,000 trace ids and 2,000 span ids cross several refills.
    for (let i = 0; i < 2000; i++) {
      const t = pool.generateTraceId();
      const s = pool.generateSpanId();
      expect(t).toMatch(/^[0-9a-f]{32}$/);
      expect(s).toMatch(/^[0-9a-f]{16}$/);
      seen.add(t).add(s);
    }
    expect(seen.size).toBe(4000);
    // The SDK's rule for an all-zero draw: the last byte becomes 1, so the id stays valid.
    const zeros = new IdPool((buf) => buf.fill(0));
    expect(zeros.generateTraceId()).toBe('00000000000000000000000000000001');
    expect(zeros.generateSpanId()).toBe('0000000000000001');
    expect(api.trace.isSpanContextValid({ traceId: zeros.generateTraceId(), spanId: zeros.generateSpanId(), traceFlags: 1 })).toBe(true);
    // Every byte value, in order, spelled as Buffer's own hex encoding spells it.
    const counting = new IdPool((buf) => buf.forEach((_, i) => (buf[i] = (i * 7 + 3) & 255)));
    const bytes = Buffer.alloc(8192).map((_, i) => (i * 7 + 3) & 255);
    let at = 0;
    for (let i = 0; i < 1000; i++) {
      const trace = i % 3 === 0;
      const n = trace ? 16 : 8;
      if (at + n > 8192) at = 0; // a refill: the pool starts over
      expect(trace ? counting.generateTraceId() : counting.generateSpanId()).toBe(Buffer.from(bytes.subarray(at, at + n)).toString('hex'));
      at += n;
    }
  });

  it('the SDK\'s RandomIdGenerator and MultiSpanProcessor are stood in for; an app\'s own generator and processor are kept', () => {
    const sink: SpanProcessor = { onStart() {}, onEnd() {}, forceFlush: async () => {}, shutdown: async () => {} };
    const sdkTracer = new TracerProvider({ spanProcessors: [sink, sink] }).getTracer('t') as api.Tracer & { _idGenerator: unknown };
    const random = vi.spyOn(Math, 'random');
    const lean = leanTracer(sdkTracer, api, core)!;
    const span = lean.startSpan('pooled') as LeanSpan;
    expect(random).not.toHaveBeenCalled();
    random.mockRestore();
    expect((span as unknown as { shared: { processor: unknown } }).shared.processor).toBeInstanceOf(ProcessorChain);
    const own = counterIds();
    const custom = leanTracer(new TracerProvider({ idGenerator: own, spanProcessors: [sink] }).getTracer('t'), api, core)!;
    expect(custom.startSpan('custom').spanContext().spanId).toBe('0000000000000001');
  });

  it('the chain calls each processor in order, skips a missing onEnding, and lets an exception through as MultiSpanProcessor does', () => {
    const calls: string[] = [];
    const p = (name: string, ending = true): SpanProcessor => ({
      onStart: () => void calls.push(`${name}.start`),
      ...(ending ? { onEnding: () => void calls.push(`${name}.ending`) } : {}),
      onEnd: () => void calls.push(`${name}.end`),
      forceFlush: async () => void calls.push(`${name}.flush`),
      shutdown: async () => {},
    });
    const list = [p('a'), p('b', false)];
    const chain = new ProcessorChain(list, { forceFlush: async () => void calls.push('multi.flush') } as unknown as SpanProcessor);
    const span = {} as never;
    chain.onStart(span, api.ROOT_CONTEXT);
    chain.onEnding(span);
    chain.onEnd(span);
    list.push(p('c')); // read live, as MultiSpanProcessor reads its array
    chain.onEnd(span);
    void chain.forceFlush();
    expect(calls).toEqual(['a.start', 'b.start', 'a.ending', 'a.end', 'b.end', 'a.end', 'b.end', 'c.end', 'multi.flush']);
    const broken = new ProcessorChain([{ ...p('x'), onEnd: () => { throw new Error('boom'); } }, p('y')], p('m'));
    expect(() => broken.onEnd(span)).toThrow('boom');
  });
});
