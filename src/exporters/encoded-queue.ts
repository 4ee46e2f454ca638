// Where records encoded at emit (spans at their end, pino lines as they are logged) wait for export:
// as protobuf bytes in one growable buffer per (resource, scope), not as objects, so nothing a
// request made survives V8's scavenges while it waits. Sent by the maintained otlp-exporter-base
// transport (HTTP, headers, gzip, timeouts, partial success), with the exit-aware retry policy.
//
// Bounds: at most `maxQueueSize` records wait in the buffers, and at most CONCURRENCY requests are
// in flight; beyond that new records are dropped and counted, so a dead Collector costs a fixed
// amount of memory. Nothing is dropped while the exporter keeps up.
import type * as Api from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { SignalConfig } from '../config.js';
import { requireCjs } from '../require.js';
import { log, describe } from '../log.js';
import { ProtobufWriter } from './protobuf-writer.js';
import { countDrop, watchQueue, type PipelineSignal } from './pipeline-counters.js';
import { LazyExporter } from './otlp.js';
import { exitAwareAgent, isExiting } from './exit-mode.js';
import { useExitAwareRetries } from './retrying-transport.js';
import { encodeExportRequest, encodeResource, encodeScope, type EncodedResource, type ResourceLike, type ScopeLike } from './otlp-encoding.js';

const CONCURRENCY = 4;
const SUCCESS = 0;
const DROP_REPORT_MS = 60_000;

export interface EncodingOptions {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
}

/** A batch ready to send: the request bytes and how many records (spans, log records) they hold. */
export interface EncodedBatch {
  bytes: Uint8Array;
  items: number;
}

export interface BatchExporter {
  export(batch: EncodedBatch, done: (result: ExportResult) => void): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** How the queue names what it holds in its messages (`span`, `spans`, the `trace` exporter) and in the pipeline's self-metrics. */
export interface QueueNames {
  one: string;
  many: string;
  exporter: string;
  signal: PipelineSignal;
}

export interface PendingResource {
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

/** What takeBuffered copies out: per resource, the sealed bytes of each scope that has records. */
type BufferedSnapshot = { source: ResourceLike & PendingResource; scopes: EncodedResource['scopes'] }[];

export class EncodedQueue {
  private readonly resources = new Map<ResourceLike, ResourceBuffer>();
  private readonly encodedResources = new WeakMap<object, Buffer>();
  private queued = 0;
  private inFlight = 0;
  /** Dropped since the last warning (drops are said at most once a minute). */
  private unreported = 0;
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
    private readonly names: QueueNames,
  ) {
    watchQueue(names.signal, () => this.queued, options.maxQueueSize);
  }

  /**
   * True, and the drop counted, when a record offered now could not be kept: the queue is full or
   * shut down. Lets a caller skip the work of building a record that would be dropped.
   */
  rejects(): boolean {
    if (this.closed) {
      countDrop(this.names.signal, 'already_shutdown');
      return true;
    }
    if (this.queued < this.options.maxQueueSize) return false;
    countDrop(this.names.signal, 'queue_full');
    // Said once (log.once); not even its text is built again for each record dropped in a burst.
    if (this.unreported++ === 0) {
      const { one, many, exporter } = this.names;
      log.once('warn', `${one}-queue-full`, `${one} queue full (${this.options.maxQueueSize} ${many}) while the ${exporter} exporter is behind; dropping ${many} until it catches up`);
    }
    return true;
  }

  /** Encodes one record into its (resource, scope) buffer; `encode` writes its field-2 tag and message. */
  add<T>(resource: ResourceLike & PendingResource, scope: ScopeLike, item: T, encode: (w: ProtobufWriter, item: T) => void): void {
    if (this.rejects()) return;
    const writer = this.writerFor(resource, scope);
    const mark = writer.pos;
    try {
      encode(writer, item);
    } catch (err) {
      writer.pos = mark; // a half-written record would corrupt the whole request
      countDrop(this.names.signal, 'encoding_failed');
      log.once('error', `${this.names.one}-encoding`, `a ${this.names.one} could not be encoded and was dropped: ${describe(err)}`);
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

  private writerFor(resource: ResourceLike & PendingResource, scope: ScopeLike): ProtobufWriter {
    let r = this.resources.get(resource);
    if (!r) {
      r = { source: resource, scopes: new Map() };
      this.resources.set(resource, r);
    }
    let s = r.scopes.get(scope);
    if (!s) {
      s = { scope: encodeScope(scope), schemaUrl: scope.schemaUrl, writer: new ProtobufWriter() };
      r.scopes.set(scope, s);
    }
    return s.writer;
  }

  /**
   * What is buffered, per resource and scope: views into the writers (`copy` false: a request must
   * be built from them before the writers are written again) or copies that can wait.
   */
  private snapshot(copy: boolean): BufferedSnapshot {
    return [...this.resources.values()].map((r) => ({
      source: r.source,
      scopes: [...r.scopes.values()]
        .filter((s) => s.writer.pos > 0)
        .map((s) => {
          const bytes = s.writer.buf.subarray(0, s.writer.pos);
          return { scope: s.scope, schemaUrl: s.schemaUrl, records: copy ? Buffer.from(bytes) : bytes };
        }),
    }));
  }

  /** Forgets what is buffered; the writers keep their buffers for the next records. */
  private resetBuffers(): void {
    for (const r of this.resources.values()) for (const s of r.scopes.values()) s.writer.reset();
    this.queued = 0;
  }

  /** Seals what is buffered into one request and hands it to the exporter, if a slot is free. */
  private send(): void {
    if (this.queued === 0 || this.inFlight >= CONCURRENCY) return;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const items = this.queued;
    const pending: Promise<void>[] = [];
    for (const r of this.resources.values()) {
      if (r.source.asyncAttributesPending && r.source.waitForAsyncAttributes) pending.push(r.source.waitForAsyncAttributes());
    }
    // With the resource final, the request is built at once from the writers' bytes in place (one
    // copy of the records, not two); while detectors still run (just after start-up), the bytes are
    // copied out to wait for them.
    const now = pending.length === 0;
    const snapshot = this.snapshot(!now);
    let batch: EncodedBatch | undefined;
    let buildError: unknown;
    if (now) {
      try {
        batch = this.buildBatch(snapshot, items);
      } catch (err) {
        buildError = err;
      }
    }
    this.resetBuffers();
    this.inFlight++;
    const done: Promise<void> = new Promise<void>((resolve) => {
      // A request that could not be built never reached the exporter (which counts its own failures).
      const fail = (err: unknown) => {
        countDrop(this.names.signal, 'encoding_failed', items);
        log.once('error', `${this.names.one}-export-build`, this.lost(items, err));
        resolve();
      };
      try {
        if (batch) this.exportBatch(batch, resolve);
        else if (now) fail(buildError);
        else Promise.all(pending).then(() => this.exportBatch(this.buildBatch(snapshot, items), resolve)).catch(fail);
      } catch (err) {
        fail(err);
      }
    }).then(() => this.settle(done));
    this.settled.add(done);
  }

  /** One export request from a snapshot of the buffers, with the resources as they are now. */
  private buildBatch(snapshot: BufferedSnapshot, items: number): EncodedBatch {
    const resources: EncodedResource[] = snapshot
      .filter((r) => r.scopes.length > 0)
      .map((r) => ({ resource: this.resourceBytes(r.source), schemaUrl: r.source.schemaUrl, scopes: r.scopes }));
    return { bytes: encodeExportRequest(resources), items };
  }

  /** Exports with tracing suppressed (the transport's own HTTP request must not become a span). */
  private exportBatch(batch: EncodedBatch, done: () => void): void {
    this.api.context.with(this.suppress(this.api.context.active()), () =>
      this.exporter.export(batch, (result) => {
        if (result.code !== SUCCESS) {
          const message = this.lost(batch.items, result.error);
          // At exit the loss is counted (exit-mode.ts) and said once, for every signal together.
          if (!isExiting()) log.once('warn', `${this.names.one}-export:${result.error?.message ?? ''}`.slice(0, 120), message);
        }
        done();
      }),
    );
  }

  private lost(items: number, err: unknown): string {
    return `${this.names.one} export failed, ${items} ${this.names.many} lost: ${describe(err)}`;
  }

  private settle(done: Promise<void>): void {
    this.inFlight--;
    this.settled.delete(done);
    if (this.unreported > 0 && Date.now() - this.lastDropReport > DROP_REPORT_MS) {
      log.warn(`${this.unreported} ${this.names.many} were dropped while the ${this.names.exporter} exporter was behind`);
      this.unreported = 0;
      this.lastDropReport = Date.now();
    }
    if (this.queued >= this.options.maxExportBatchSize || (this.queued > 0 && this.timer === undefined)) this.send();
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

const SIGNALS = {
  traces: { upper: 'TRACES', path: 'v1/traces', serializer: 'ProtobufTraceSerializer', component: 'otlp_http_span_exporter', item: 'span' },
  logs: { upper: 'LOGS', path: 'v1/logs', serializer: 'ProtobufLogsSerializer', component: 'otlp_http_log_exporter', item: 'log' },
} as const;

/** The maintained OTLP/HTTP transport, fed with requests that are already encoded. */
export function createEncodedExporter(signal: keyof typeof SIGNALS, s: SignalConfig): BatchExporter {
  const base = requireCjs('@opentelemetry/otlp-exporter-base') as {
    OTLPExporterBase: new (delegate: unknown) => BatchExporter;
  };
  const http = requireCjs('@opentelemetry/otlp-exporter-base/node-http') as {
    convertLegacyHttpOptions(config: object, signal: string, path: string, headers: Record<string, string>): object;
    createOtlpHttpExportDelegate(options: object, serializer: object, componentType: string, helper: object): unknown;
  };
  const what = SIGNALS[signal];
  const transformer = requireCjs('@opentelemetry/otlp-transformer') as Record<string, { deserializeResponse(data: Uint8Array): unknown }>;
  const response = transformer[what.serializer]!;
  const options = http.convertLegacyHttpOptions(
    {
      url: s.endpoint,
      headers: s.headers,
      timeoutMillis: s.timeoutMs,
      compression: s.compression,
      // The queue keeps CONCURRENCY requests in flight itself. The transport forgets a finished
      // request a microtask after its callback, in which the queue may already send the next: at
      // the same limit that one was refused ("Concurrent export limit reached") and its records lost.
      concurrencyLimit: CONCURRENCY * 2,
      httpAgentOptions: exitAwareAgent,
    },
    what.upper,
    what.path,
    { 'Content-Type': 'application/x-protobuf' },
  );
  const serializer = {
    serializeRequest: (batch: EncodedBatch) => batch.bytes,
    deserializeResponse: (data: Uint8Array) => response.deserializeResponse(data),
  };
  const helper = { name: what.item, countItems: (batch: EncodedBatch) => batch.items };
  return useExitAwareRetries(new base.OTLPExporterBase(http.createOtlpHttpExportDelegate(options, serializer, what.component, helper)));
}

/** Builds the transport at the first export, so that start-up does not load it. */
export function lazyEncodedExporter(signal: keyof typeof SIGNALS, s: SignalConfig): BatchExporter {
  return new LazyExporter(signal === 'traces' ? 'trace' : 'logs', () => createEncodedExporter(signal, s));
}
