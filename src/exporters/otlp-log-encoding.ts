// OTLP protobuf encoding of one log record, as it is emitted (exporters/pino-emit.ts). Field order
// and defaults follow otlp-transformer's logs serializer (serializeLogRecord), so for the same record
// the bytes are identical (test/unit/otlp-log-encoding.test.ts checks that against the serializer).
import type { HrTime } from '@opentelemetry/api';
import type { ProtobufWriter } from './protobuf-writer.js';
import { anyValue, attributes, I32, I64, LEN, time, VARINT } from './otlp-encoding.js';

/** What a LogRecord message holds: a ReadableLogRecord's fields, flat. */
export interface EncodableLog {
  time: HrTime;
  observedTime: HrTime;
  severityNumber?: number;
  severityText?: string;
  body?: unknown;
  attributes: Record<string, unknown>;
  droppedAttributesCount: number;
  traceId?: string;
  spanId?: string;
  traceFlags?: number;
  eventName?: string;
}

function stringField(w: ProtobufWriter, field: number, value: string): void {
  w.tag(field, LEN);
  w.string(value);
}

function hexField(w: ProtobufWriter, field: number, id: string): void {
  w.tag(field, LEN);
  w.hex(id);
}

/** Appends one record as a ScopeLogs.log_records field (tag, length and LogRecord message). */
export function encodeLogRecord(w: ProtobufWriter, r: EncodableLog): void {
  w.tag(2, LEN);
  const msg = w.begin();
  w.tag(1, I64);
  time(w, r.time);
  // SeverityNumber UNSPECIFIED (0) is left out, as the serializer does.
  if (r.severityNumber) {
    w.tag(2, VARINT);
    w.varint(r.severityNumber);
  }
  if (r.severityText) stringField(w, 3, r.severityText);
  if (r.body !== undefined) {
    w.tag(5, LEN);
    const body = w.begin();
    anyValue(w, r.body);
    w.finish(body);
  }
  attributes(w, r.attributes as never, 6);
  w.tag(7, VARINT);
  w.varint(r.droppedAttributesCount);
  if (r.traceFlags) {
    w.tag(8, I32);
    w.fixed32(r.traceFlags);
  }
  if (r.traceId) hexField(w, 9, r.traceId);
  if (r.spanId) hexField(w, 10, r.spanId);
  w.tag(11, I64);
  time(w, r.observedTime);
  if (r.eventName) stringField(w, 12, r.eventName);
  w.finish(msg);
}
