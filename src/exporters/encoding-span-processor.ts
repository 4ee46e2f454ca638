// The span export path for OTLP/HTTP protobuf: each sampled span is encoded to protobuf when it
// ends and only its bytes are queued, instead of the BatchSpanProcessor keeping every span object
// alive until a batch is serialized. Holding bytes rather than objects is what keeps V8's young
// generation from growing under load (spans no longer survive scavenges), and encoding one span
// while it is hot in cache is cheaper than walking a batch later. The HTTP transport, retries,
// headers, compression and partial-success handling stay the maintained otlp-exporter-base ones.
//
// Bounds: at most `maxQueueSize` spans wait in the buffers, and at most CONCURRENCY requests are
// in flight; beyond that new spans are dropped and counted, so a dead Collector costs a fixed
// amount of memory. Nothing is dropped while the exporter keeps up.
import type * as Api from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { ExportResult } from '@opentelemetry/core';
import type { SignalConfig } from '../config.js';
import { requireCjs } from '../require.js';
import { log, describe } from '../log.js';
import { ProtobufWriter } from './protobuf-writer.js';
import { LazyExporter } from './otlp.js';
import { exitAwareAgent, isExiting } from './exit-mode.js';
import { useExitAwareRetries } from './retrying-transport.js';
import { countDrop, watchQueue } from './pipeline-counters.js';
import {
  encodeResource,
  encodeScope,
  encodeSpan,
  encodeTraceRequest,
  type EncodedResource,
  type ResourceLike,
  type ScopeLike,
} from './otlp-span-encoding.js';

const CONCURRENCY = 4;
const SUCCESS = 0;
const SAMPLED = 1;
const DROP_REPORT_MS = 60_000;

export interface EncodingOptions {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
}

/** A batch ready to send: the request bytes and how many spans they hold. */
export interface EncodedBatch {
  bytes: Uint8Array;
  spans: number;
}

export interface BatchExporter {
  export(batch: EncodedBatch, done: (result: ExportResult) => void): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

interface PendingResource {
  waitForAsyncAttributes?(): Promise<void>;
  asyncAttributesPending?: boolean;
}

interface ScopeBuffer {
  scope: Buffer;
  schemaUrl?: string;
  writer: ProtobufWriter;
}

interface ResourceBuffer {
  source: ResourceLike & PendingResource;
  scopes: Map<ScopeLike, ScopeBuffer>;
}

export class EncodingSpanProcessor implements SpanProcessor {
  private readonly resources = new Map<ResourceLike, ResourceBuffer>();
  private readonly encodedResources = new WeakMap<object, Buffer>();
  private queued = 0;
  private inFlight = 0;
  private dropped = 0;
  private lastDropReport = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private shutdownOnce: Promise<void> | undefined;
  private readonly settled = new Set<Promise<void>>();

  constructor(
    private readonly api: typeof Api,
    private readonly suppress: (ctx: Context) => Context,
    private readonly exporter: BatchExporter,
    private readonly options: EncodingOptions,
  ) {
    watchQueue('span', () => this.queued, options.maxQueueSize);
  }

  onStart(_span: Span, _ctx: Context): void {}

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & SAMPLED) === 0) return;
    if (this.closed) return countDrop('span', 'already_shutdown');
    if (this.queued >= this.options.maxQueueSize) {
      this.dropped++;
      countDrop('span', 'queue_full');
      log.once('warn', 'span-queue-full', `span queue full (${this.options.maxQueueSize} spans) while the trace exporter is behind; dropping spans until it catches up`);
      return;
    }
    const writer = this.writerFor(span);
    const mark = writer.pos;
    try {
      encodeSpan(writer, span);
    } catch (err) {
      writer.pos = mark; // a half-written span would corrupt the whole request
      countDrop('span', 'encoding_failed');
      log.once('error', 'span-encoding', `a span could not be encoded and was dropped: ${describe(err)}`);
      return;
    }
    this.queued++;
    if (this.queued >= this.options.maxExportBatchSize) this.send();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.send();
      }, this.options.scheduledDelayMillis);
      this.timer.unref();
    }
  }

  forceFlush(): Promise<void> {
    return this.drain();
  }

  shutdown(): Promise<void> {
    this.shutdownOnce ??= this.drain().then(() => {
      this.closed = true;
      return this.exporter.shutdown();
    });
    return this.shutdownOnce;
  }

  private writerFor(span: ReadableSpan): ProtobufWriter {
    const resource = span.resource as unknown as ResourceLike & PendingResource;
    let r = this.resources.get(resource);
    if (!r) {
      r = { source: resource, scopes: new Map() };
      this.resources.set(resource, r);
    }
    const scope = span.instrumentationScope as ScopeLike;
    let s = r.scopes.get(scope);
    if (!s) {
      s = { scope: encodeScope(scope), schemaUrl: scope.schemaUrl, writer: new ProtobufWriter() };
      r.scopes.set(scope, s);
    }
    return s.writer;
  }

  /** Seals what is buffered into one request and hands it to the exporter, if a slot is free. */
  private send(): void {
    if (this.queued === 0 || this.inFlight >= CONCURRENCY) return;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const spans = this.queued;
    const pending: Promise<void>[] = [];
    for (const r of this.resources.values()) {
      if (r.source.asyncAttributesPending && r.source.waitForAsyncAttributes) pending.push(r.source.waitForAsyncAttributes());
    }
    // Copy the bytes out so the writers can be reused at once; a request is built when the
    // resource is final (detectors may still be running just after start-up).
    const snapshot = [...this.resources.values()].map((r) => ({
      source: r.source,
      scopes: [...r.scopes.values()]
        .filter((s) => s.writer.pos > 0)
        .map((s) => ({ scope: s.scope, schemaUrl: s.schemaUrl, spans: Buffer.from(s.writer.buf.subarray(0, s.writer.pos)) })),
    }));
    for (const r of this.resources.values()) for (const s of r.scopes.values()) s.writer.reset();
    this.queued = 0;
    this.inFlight++;

    const build = (): EncodedBatch => {
      const resources: EncodedResource[] = snapshot
        .filter((r) => r.scopes.length > 0)
        .map((r) => ({ resource: this.resourceBytes(r.source), schemaUrl: r.source.schemaUrl, scopes: r.scopes }));
      return { bytes: encodeTraceRequest(resources), spans };
    };
    const done = new Promise<void>((resolve) => {
      const exportNow = (batch: EncodedBatch) =>
        this.api.context.with(this.suppress(this.api.context.active()), () =>
          this.exporter.export(batch, (result) => {
            // At exit the loss is counted (exit-mode.ts) and said once, for every signal together.
            if (result.code !== SUCCESS && !isExiting()) {
              log.once('warn', `span-export:${result.error?.message ?? ''}`.slice(0, 120), `span export failed, ${spans} spans lost: ${describe(result.error)}`);
            }
            resolve();
          }),
        );
      const fail = (err: unknown) => {
        countDrop('span', 'encoding_failed', spans);
        log.once('error', 'span-export-build', `span export failed, ${spans} spans lost: ${describe(err)}`);
        resolve();
      };
      try {
        if (pending.length === 0) exportNow(build());
        else Promise.all(pending).then(() => exportNow(build()), fail);
      } catch (err) {
        fail(err);
      }
    }).then(() => {
      this.inFlight--;
      this.settled.delete(done);
      if (this.dropped > 0 && Date.now() - this.lastDropReport > DROP_REPORT_MS) {
        log.warn(`${this.dropped} spans were dropped while the trace exporter was behind`);
        this.dropped = 0;
        this.lastDropReport = Date.now();
      }
      if (this.queued >= this.options.maxExportBatchSize || (this.queued > 0 && this.timer === undefined)) this.send();
    });
    this.settled.add(done);
  }

  private resourceBytes(resource: ResourceLike): Buffer {
    let b = this.encodedResources.get(resource);
    if (!b) {
      b = encodeResource(resource);
      this.encodedResources.set(resource, b);
    }
    return b;
  }

  /** Sends everything buffered and waits for every request in flight. */
  private async drain(): Promise<void> {
    for (let i = 0; i < 64 && (this.queued > 0 || this.settled.size > 0); i++) {
      this.send();
      await Promise.all(this.settled);
    }
    await this.exporter.forceFlush();
  }
}

/** The maintained OTLP/HTTP transport, fed with requests that are already encoded. */
export function createEncodedTraceExporter(s: SignalConfig): BatchExporter {
  const base = requireCjs('@opentelemetry/otlp-exporter-base') as {
    OTLPExporterBase: new (delegate: unknown) => BatchExporter;
  };
  const http = requireCjs('@opentelemetry/otlp-exporter-base/node-http') as {
    convertLegacyHttpOptions(config: object, signal: string, path: string, headers: Record<string, string>): object;
    createOtlpHttpExportDelegate(options: object, serializer: object, componentType: string, helper: object): unknown;
  };
  const { ProtobufTraceSerializer } = requireCjs('@opentelemetry/otlp-transformer') as {
    ProtobufTraceSerializer: { deserializeResponse(data: Uint8Array): unknown };
  };
  const options = http.convertLegacyHttpOptions(
    {
      url: s.endpoint,
      headers: s.headers,
      timeoutMillis: s.timeoutMs,
      compression: s.compression,
      // The processor bounds what is in flight (CONCURRENCY). The transport frees a slot only after
      // the done callback has run, and that callback starts the next export at once: with the same
      // limit here, every export started from a freed slot was refused ("Concurrent export limit
      // reached"), 7498 of 75918 spans in the soak (docs/RELIABILITY.md).
      concurrencyLimit: CONCURRENCY * 2,
      httpAgentOptions: exitAwareAgent,
    },
    'TRACES',
    'v1/traces',
    { 'Content-Type': 'application/x-protobuf' },
  );
  const serializer = {
    serializeRequest: (batch: EncodedBatch) => batch.bytes,
    deserializeResponse: (data: Uint8Array) => ProtobufTraceSerializer.deserializeResponse(data),
  };
  const helper = { name: 'span', countItems: (batch: EncodedBatch) => batch.spans };
  return useExitAwareRetries(new base.OTLPExporterBase(http.createOtlpHttpExportDelegate(options, serializer, 'otlp_http_span_exporter', helper)));
}

/** Builds the transport at the first export, so that start-up does not load it. */
export function lazyEncodedTraceExporter(s: SignalConfig): BatchExporter {
  return new LazyExporter('trace', () => createEncodedTraceExporter(s));
}
