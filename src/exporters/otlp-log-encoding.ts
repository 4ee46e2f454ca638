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
  if (r.severityText) {
    w.tag(3, LEN);
    w.string(r.severityText);
  }
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
  if (r.traceId) {
    w.tag(9, LEN);
    w.hex(r.traceId);
  }
  if (r.spanId) {
    w.tag(10, LEN);
    w.hex(r.spanId);
  }
  w.tag(11, I64);
  time(w, r.observedTime);
  if (r.eventName) {
    w.tag(12, LEN);
    w.string(r.eventName);
  }
  w.finish(msg);
}
