// pino records encoded at emit, as spans are at their end (encoding-span-processor.ts): each line
// that instrumentation/pino-logs.ts has parsed becomes protobuf bytes inside the log call and only
// the bytes wait for export (encoded-queue.ts), sent to the OTLP/HTTP logs endpoint. This replaces,
// for pino lines, the SDK's way: a LogRecordImpl whose attributes are validated one by one, three
// log processors, a record object that waits about a second in the BatchLogRecordProcessor's queue
// (surviving scavenges), then otlp-transformer's encoding of the batch.
//
// The record is what the SDK path exports (test/integration/pino-emit-golden.test.ts compares them;
// docs/ARCHITECTURE.md lists the differences): the same exception attributes, the request id
// (RequestIdLogProcessor), the release tags (ReleaseTagLogProcessor), the same redaction
// (RedactionLogProcessor, through the same Redactor method) in the same order, the same attribute
// count limit, trace and span ids from the active context. One difference on purpose: the request id
// is the record's `otel_monitor.request.id` attribute only; the line's own `request_id` field (the
// pino instrumentation's logHook writes the same id into the line) is not repeated as an attribute.
//
// While a plugin has a log record processor (it may read or change records), records go through the
// SDK's Logger instead, so the plugin sees them as before.
import type * as Api from '@opentelemetry/api';
import type { Context, HrTime, LogRecord } from '@opentelemetry/api';
import { ATTR_REQUEST_ID, LOG_FIELD_REQUEST_ID } from '../semconv.js';
import { requestIdOf } from '../instrumentation/request-id.js';
import type { Duplicate, PinoSink } from '../instrumentation/pino-logs.js';
import type { Redactor } from '../processors/redaction.js';
import type { ReleaseTags } from '../processors/release-tags.js';
import { EncodedQueue, type BatchExporter, type EncodingOptions, type PendingResource } from './encoded-queue.js';
import type { ResourceLike, ScopeLike } from './otlp-encoding.js';
import { encodeLogRecord, type EncodableLog } from './otlp-log-encoding.js';
import { counters, countDrop } from './pipeline-counters.js';
import { log, describe } from '../log.js';

/** sdk-logs' default attribute count limit, which our LoggerProvider keeps (sdk.ts sets none). */
export const ATTRIBUTE_COUNT_LIMIT = 128;

export interface PinoEmitDeps {
  api: typeof Api;
  /** @opentelemetry/core's, so timestamps convert exactly as LogRecordImpl converts them. */
  timeInputToHrTime(time: number): HrTime;
  suppress(ctx: Context): Context;
  resource: ResourceLike & PendingResource;
  scope: ScopeLike;
  redactor: Redactor;
  tags: ReleaseTags;
  /** OTEL_MONITOR_REQUEST_ID: the request id from the context on each record. */
  requestIds: boolean;
  exporter: BatchExporter;
  options: EncodingOptions;
  /** The SDK path, taken while `active()` (a plugin's log processor is registered). */
  fallback?: { active(): boolean; emit(record: LogRecord): void };
}

/** Sets an own property, also one named `__proto__` (JSON.parse makes it an own field). */
function setOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

/** LogRecordImpl._setException: exception.type (code, else name), .message and .stacktrace, unless set. */
export function addExceptionAttributes(attrs: Record<string, unknown>, exception: unknown): void {
  const put = (key: string, value: unknown) => {
    if (!Object.hasOwn(attrs, key)) attrs[key] = value;
  };
  if (typeof exception === 'string' || typeof exception === 'number') return put('exception.message', String(exception));
  if (!exception || typeof exception !== 'object') return;
  const e = exception as Record<string, { toString(): string } | undefined>;
  if (e['code']) put('exception.type', e['code'].toString());
  else if (e['name']) put('exception.type', e['name']);
  if (e['message']) put('exception.message', e['message']);
  if (e['stack']) put('exception.stacktrace', e['stack']);
}

/**
 * The attribute count limit as LogRecordImpl applies it: the first `limit` keys in the order they
 * were set, the rest counted as dropped; an empty key is invalid (left out, not counted).
 */
export function limitAttributes(attrs: Record<string, unknown>, limit: number): { attributes: Record<string, unknown>; dropped: number } {
  let n = 0;
  let clean = true;
  for (const key in attrs) {
    n++;
    if (key === '') clean = false;
  }
  if (clean && n <= limit) return { attributes: attrs, dropped: 0 };
  const kept: Record<string, unknown> = {};
  let count = 0;
  let dropped = 0;
  for (const key in attrs) {
    if (key === '') continue;
    if (count < limit) {
      setOwn(kept, key, attrs[key]);
      count++;
    } else dropped++;
  }
  return { attributes: kept, dropped };
}

export class PinoEmitter implements PinoSink {
  /** The bytes waiting for export; its `drops` count what was lost, by reason. */
  readonly queue: EncodedQueue;

  constructor(private readonly d: PinoEmitDeps) {
    this.queue = new EncodedQueue(d.api, d.suppress, d.exporter, d.options, { one: 'log record', many: 'log records', exporter: 'logs', signal: 'log' });
  }

  rejects(): boolean {
    return this.d.fallback?.active() ? false : this.queue.rejects();
  }

  /** The line's `request_id` (the pino instrumentation's logHook) repeats the context's id. */
  duplicate(): Duplicate | undefined {
    const id = this.d.requestIds ? requestIdOf(this.d.api.context.active()) : undefined;
    return id === undefined ? undefined : { key: LOG_FIELD_REQUEST_ID, value: id };
  }

  emit(record: LogRecord): void {
    const { d } = this;
    if (d.fallback?.active()) return d.fallback.emit(record);
    // Made here, not through the Logs API, whose first processor counts the SDK path's records.
    counters.log.created++;
    let encodable: EncodableLog;
    try {
      encodable = this.encodable(record, d.api.context.active());
    } catch (err) {
      // A record that could not be finished (redacted, tagged) is dropped and counted; the tracer stays on.
      countDrop('log', 'redaction_failed');
      log.once('error', 'pino-emit-record', `a pino record could not be prepared and was dropped: ${describe(err)}`);
      return;
    }
    this.queue.add(d.resource, d.scope, encodable, encodeLogRecord);
  }

  /** The record as the SDK's processors would leave it: exception, request id, tags, then redaction. */
  private encodable(record: LogRecord, ctx: Context): EncodableLog {
    const { d } = this;
    // toLogRecord built this object for this record alone: changed in place, as processors do.
    const attrs = (record.attributes ?? {}) as Record<string, unknown>;
    if (record.exception != null) addExceptionAttributes(attrs, record.exception);
    const id = d.requestIds ? requestIdOf(ctx) : undefined;
    if (id !== undefined && attrs[ATTR_REQUEST_ID] === undefined) attrs[ATTR_REQUEST_ID] = id;
    if (d.tags.release) attrs['service.version'] = d.tags.release;
    if (d.tags.environment) attrs['deployment.environment.name'] = d.tags.environment;
    d.redactor.redactLogAttributes(attrs, (k, v) => setOwn(attrs, k, v));
    const { attributes, dropped } = limitAttributes(attrs, ATTRIBUTE_COUNT_LIMIT);
    const span = d.api.trace.getSpanContext(ctx);
    const valid = span !== undefined && d.api.isSpanContextValid(span);
    const now = Date.now();
    return {
      time: d.timeInputToHrTime((record.timestamp as number | undefined) ?? now),
      observedTime: d.timeInputToHrTime((record.observedTimestamp as number | undefined) ?? now),
      severityNumber: record.severityNumber,
      severityText: record.severityText,
      body: record.body === undefined ? undefined : d.redactor.redactValue(record.body),
      attributes,
      droppedAttributesCount: dropped,
      traceId: valid ? span.traceId : undefined,
      spanId: valid ? span.spanId : undefined,
      traceFlags: valid ? span.traceFlags : undefined,
      eventName: record.eventName,
    };
  }

  forceFlush(): Promise<void> {
    return this.queue.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.queue.shutdown();
  }
}
