// OTLP protobuf encoding of spans, one span at a time; the attribute encoder, the scope, resource
// and request envelope are otlp-encoding.ts's, shared with log records. Field order and defaults follow the otlp-transformer's
// serializer, so for the same spans the bytes are identical (test/unit/otlp-span-encoding.test.ts
// checks that); what differs is when it runs: at each span's end, so that only bytes wait for export.
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { SpanContext } from '@opentelemetry/api';
import type { ProtobufWriter } from './protobuf-writer.js';
import { attributes, I32, I64, LEN, time, timeMs, VARINT } from './otlp-encoding.js';

export { encodeExportRequest as encodeTraceRequest, encodeResource, encodeScope } from './otlp-encoding.js';
export type { EncodedResource, EncodedScope, ResourceLike, ScopeLike } from './otlp-encoding.js';

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
  for (const event of span.events) encodeEvent(w, event);
  w.tag(12, VARINT);
  w.varint(span.droppedEventsCount);
  for (const link of span.links) encodeLink(w, link);
  w.tag(14, VARINT);
  w.varint(span.droppedLinksCount);
  encodeStatus(w, span.status);
  w.tag(16, I32);
  w.fixed32(flags(ctx.traceFlags, parent?.isRemote));
  w.finish(msg);
}

/** Span.Event (field 11): time, name, attributes, dropped attributes. */
function encodeEvent(w: ProtobufWriter, event: ReadableSpan['events'][number]): void {
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

/** Span.Link (field 13): the linked span's identity, attributes, and its flags. */
function encodeLink(w: ProtobufWriter, link: ReadableSpan['links'][number]): void {
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

/** Span.Status (field 15): written even when unset, as otlp-transformer does. */
function encodeStatus(w: ProtobufWriter, status: ReadableSpan['status']): void {
  w.tag(15, LEN);
  const st = w.begin();
  if (status.message) {
    w.tag(2, LEN);
    w.string(status.message);
  }
  w.tag(3, VARINT);
  w.varint(status.code);
  w.finish(st);
}
