// OTLP protobuf encoding of spans, one span at a time, plus the envelope that wraps encoded spans
// into an ExportTraceServiceRequest. Field order and defaults follow the otlp-transformer's
// serializer, so for the same spans the bytes are identical (test/unit/otlp-span-encoding.test.ts
// checks that); what differs is when it runs: at each span's end, so that only bytes wait for export.
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { Attributes, HrTime, SpanContext } from '@opentelemetry/api';
import { ProtobufWriter } from './protobuf-writer.js';

export interface ScopeLike {
  name: string;
  version?: string;
  schemaUrl?: string;
  attributes?: Attributes;
  droppedAttributesCount?: number;
}

export interface ResourceLike {
  attributes: Attributes;
  schemaUrl?: string;
}

const LEN = 2;
const VARINT = 0;
const I64 = 1;
const I32 = 5;
const MAX_CACHED_KEYS = 1024;
const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

// Attribute keys repeat on every span; their encoded KeyValue.key field is built once.
const keyCache = new Map<string, Buffer>();

function encodedKey(key: string): Buffer | undefined {
  let b = keyCache.get(key);
  if (b === undefined && keyCache.size < MAX_CACHED_KEYS) {
    const w = new ProtobufWriter(key.length * 3 + 8);
    w.tag(1, LEN);
    w.string(key);
    b = Buffer.from(w.buf.subarray(0, w.pos));
    keyCache.set(key, b);
  }
  return b;
}

function time(w: ProtobufWriter, t: HrTime): void {
  seconds(w, t[0], t[1]);
}

/** A lean span's times are epoch milliseconds (lean-span.ts): no HrTime tuple is built for them. */
function timeMs(w: ProtobufWriter, ms: number): void {
  const s = Math.floor(ms / 1000);
  const ns = Math.round((ms - s * 1000) * 1e6);
  if (ns >= 1e9) seconds(w, s + 1, ns - 1e9);
  else seconds(w, s, ns);
}

function seconds(w: ProtobufWriter, s: number, nanos: number): void {
  // Nanoseconds as an unsigned 64-bit integer, split so that no step exceeds 2^53.
  const lo16 = (s & 65535) * 1e9;
  const hi = ((s / 65536) >>> 0) * 1e9;
  const low = (lo16 >>> 0) + (((hi & 65535) * 65536) >>> 0) + nanos;
  const high = Math.floor(lo16 / 4294967296) + ((hi / 65536) >>> 0) + Math.floor(low / 4294967296);
  w.fixed64(low >>> 0, high >>> 0);
}

function anyValue(w: ProtobufWriter, value: unknown): void {
  switch (typeof value) {
    case 'string':
      w.tag(1, LEN);
      w.string(value);
      return;
    case 'boolean':
      w.tag(2, VARINT);
      w.varint(value ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
        w.tag(3, VARINT);
        w.varint(value);
      } else {
        w.tag(4, I64);
        w.double(value);
      }
      return;
    case 'object':
      if (value === null) return;
      if (value instanceof Uint8Array) {
        w.tag(7, LEN);
        w.bytes(value);
      } else if (Array.isArray(value)) {
        w.tag(5, LEN);
        const arr = w.begin();
        for (const item of value) {
          w.tag(1, LEN);
          const at = w.begin();
          anyValue(w, item);
          w.finish(at);
        }
        w.finish(arr);
      } else {
        w.tag(6, LEN);
        const list = w.begin();
        attributes(w, value as Attributes, 1);
        w.finish(list);
      }
      return;
    default:
  }
}

export function attributes(w: ProtobufWriter, attrs: Attributes, field: number): void {
  for (const key in attrs) {
    if (!Object.prototype.hasOwnProperty.call(attrs, key)) continue;
    w.tag(field, LEN);
    const kv = w.begin();
    const k = encodedKey(key);
    if (k) w.raw(k);
    else {
      w.tag(1, LEN);
      w.string(key);
    }
    w.tag(2, LEN);
    const v = w.begin();
    anyValue(w, attrs[key]);
    w.finish(v);
    w.finish(kv);
  }
}

const HAS_IS_REMOTE = 256;
const IS_REMOTE = 512;

function flags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 255) | HAS_IS_REMOTE | (isRemote ? IS_REMOTE : 0);
}

/** trace_id, span_id and trace_state: fields 1–3 of both Span and Span.Link. */
function identity(w: ProtobufWriter, ctx: SpanContext): void {
  w.tag(1, LEN);
  w.hex(ctx.traceId);
  w.tag(2, LEN);
  w.hex(ctx.spanId);
  const traceState = ctx.traceState?.serialize();
  if (traceState) {
    w.tag(3, LEN);
    w.string(traceState);
  }
}

/** Span.start_time_unix_nano and end_time_unix_nano, from a lean span's numbers when it has them. */
function startAndEnd(w: ProtobufWriter, span: ReadableSpan): void {
  const lean = span as { startMs?: unknown; endMs?: unknown };
  w.tag(7, I64);
  if (typeof lean.startMs === 'number') timeMs(w, lean.startMs);
  else time(w, span.startTime);
  w.tag(8, I64);
  if (typeof lean.endMs === 'number') timeMs(w, lean.endMs);
  else time(w, span.endTime);
}

/** Appends one span as a ScopeSpans.spans field (tag, length and Span message). */
export function encodeSpan(w: ProtobufWriter, span: ReadableSpan): void {
  const ctx = span.spanContext();
  w.tag(2, LEN);
  const msg = w.begin();
  identity(w, ctx);
  const parent = span.parentSpanContext;
  if (parent?.spanId) {
    w.tag(4, LEN);
    w.hex(parent.spanId);
  }
  w.tag(5, LEN);
  w.string(span.name);
  // SpanKind in the API starts at INTERNAL = 0; in OTLP 0 is UNSPECIFIED and is left out.
  if (span.kind != null) {
    w.tag(6, VARINT);
    w.varint(span.kind + 1);
  }
  startAndEnd(w, span);
  attributes(w, span.attributes, 9);
  w.tag(10, VARINT);
  w.varint(span.droppedAttributesCount);
  for (const event of span.events) {
    w.tag(11, LEN);
    const at = w.begin();
    w.tag(1, I64);
    time(w, event.time);
    w.tag(2, LEN);
    w.string(event.name);
    if (event.attributes) attributes(w, event.attributes, 3);
    w.tag(4, VARINT);
    w.varint(event.droppedAttributesCount ?? 0);
    w.finish(at);
  }
  w.tag(12, VARINT);
  w.varint(span.droppedEventsCount);
  for (const link of span.links) {
    w.tag(13, LEN);
    const at = w.begin();
    const lc = link.context;
    identity(w, lc);
    if (link.attributes) attributes(w, link.attributes, 4);
    w.tag(5, VARINT);
    w.varint(link.droppedAttributesCount ?? 0);
    w.tag(6, I32);
    w.fixed32(flags(lc.traceFlags, lc.isRemote));
    w.finish(at);
  }
  w.tag(14, VARINT);
  w.varint(span.droppedLinksCount);
  w.tag(15, LEN);
  const st = w.begin();
  if (span.status.message) {
    w.tag(2, LEN);
    w.string(span.status.message);
  }
  w.tag(3, VARINT);
  w.varint(span.status.code);
  w.finish(st);
  w.tag(16, I32);
  w.fixed32(flags(ctx.traceFlags, parent?.isRemote));
  w.finish(msg);
}

/** ScopeSpans.scope: the tag, length and InstrumentationScope message. */
export function encodeScope(scope: ScopeLike): Buffer {
  const w = new ProtobufWriter(256);
  w.tag(1, LEN);
  const at = w.begin();
  w.tag(1, LEN);
  w.string(scope.name);
  if (scope.version) {
    w.tag(2, LEN);
    w.string(scope.version);
  }
  if (scope.attributes) attributes(w, scope.attributes, 3);
  if (scope.droppedAttributesCount) {
    w.tag(4, VARINT);
    w.varint(scope.droppedAttributesCount);
  }
  w.finish(at);
  return Buffer.from(w.buf.subarray(0, w.pos));
}

/** ResourceSpans.resource: the tag, length and Resource message. */
export function encodeResource(resource: ResourceLike): Buffer {
  const w = new ProtobufWriter(1024);
  w.tag(1, LEN);
  const at = w.begin();
  attributes(w, resource.attributes, 1);
  w.tag(2, VARINT);
  w.varint(0);
  w.finish(at);
  return Buffer.from(w.buf.subarray(0, w.pos));
}

export interface EncodedScope {
  scope: Buffer;
  schemaUrl?: string;
  spans: Uint8Array;
}

export interface EncodedResource {
  resource: Buffer;
  schemaUrl?: string;
  scopes: EncodedScope[];
}

/** The ExportTraceServiceRequest around already-encoded spans. */
export function encodeTraceRequest(resources: EncodedResource[]): Uint8Array {
  let size = 16;
  for (const r of resources) {
    size += r.resource.length + 16 + (r.schemaUrl?.length ?? 0) * 3;
    for (const s of r.scopes) size += s.scope.length + s.spans.length + 16 + (s.schemaUrl?.length ?? 0) * 3;
  }
  const w = new ProtobufWriter(size);
  for (const r of resources) {
    w.tag(1, LEN);
    const rs = w.begin();
    w.raw(r.resource);
    for (const s of r.scopes) {
      w.tag(2, LEN);
      const ss = w.begin();
      w.raw(s.scope);
      w.raw(s.spans);
      if (s.schemaUrl) {
        w.tag(3, LEN);
        w.string(s.schemaUrl);
      }
      w.finish(ss);
    }
    if (r.schemaUrl) {
      w.tag(3, LEN);
      w.string(r.schemaUrl);
    }
    w.finish(rs);
  }
  return w.buf.subarray(0, w.pos);
}
