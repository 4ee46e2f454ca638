// OTLP protobuf encoding shared by every signal encoded at emit (spans: otlp-span-encoding.ts, log
// records: otlp-log-encoding.ts): attribute values, timestamps, the scope and resource messages, and
// the request envelope around already-encoded records. Field order and defaults follow the
// otlp-transformer's serializer, so for the same data the bytes are identical. Traces and logs share
// the envelope's shape: Export{Trace,Logs}ServiceRequest { Resource{Spans,Logs} = 1 { resource = 1,
// Scope{Spans,Logs} = 2 { scope = 1, records = 2, schema_url = 3 }, schema_url = 3 } }.
import type { Attributes, HrTime } from '@opentelemetry/api';
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

export const LEN = 2;
export const VARINT = 0;
export const I64 = 1;
export const I32 = 5;
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

export function time(w: ProtobufWriter, t: HrTime): void {
  seconds(w, t[0], t[1]);
}

/** A lean span's times are epoch milliseconds (lean-span.ts): no HrTime tuple is built for them. */
export function timeMs(w: ProtobufWriter, ms: number): void {
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

export function anyValue(w: ProtobufWriter, value: unknown): void {
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

// Most attribute values repeat too (methods, schemes, status codes, host names, user agents): the
// whole KeyValue message of a short scalar value, length byte included, is built once and then
// copied. Bounded per key, so a key whose values never repeat (a peer port) stops adding entries
// once it has its share, and in all.
const MAX_VALUES_PER_KEY = 64;
const MAX_CACHED_PAIRS = 4096;
const MAX_CACHED_STRING = 48;
const pairCache = new Map<string, Map<string | number | boolean, Buffer>>();
let cachedPairs = 0;
const pairWriter = new ProtobufWriter(256);
// Kept for a pair whose message outgrows one length byte, so it is not built again on every call.
const TOO_LONG = Buffer.alloc(0);

function keyValue(w: ProtobufWriter, key: string, value: unknown): void {
  const k = encodedKey(key);
  if (k) w.raw(k);
  else {
    w.tag(1, LEN);
    w.string(key);
  }
  w.tag(2, LEN);
  const v = w.begin();
  anyValue(w, value);
  w.finish(v);
}

/** A KeyValue message (length byte first) for a short scalar value, cached; undefined for others. */
function cachedKeyValue(key: string, value: unknown): Buffer | undefined {
  const type = typeof value;
  if (type === 'string' ? (value as string).length > MAX_CACHED_STRING : type !== 'number' && type !== 'boolean') return undefined;
  let values = pairCache.get(key);
  const hit = values?.get(value as string | number | boolean);
  if (hit !== undefined) return hit === TOO_LONG ? undefined : hit;
  if (cachedPairs >= MAX_CACHED_PAIRS) return undefined;
  if (values === undefined) {
    if (pairCache.size >= MAX_CACHED_KEYS) return undefined;
    values = new Map();
    pairCache.set(key, values);
  }
  if (values.size >= MAX_VALUES_PER_KEY) return undefined;
  pairWriter.reset();
  const at = pairWriter.begin();
  keyValue(pairWriter, key, value);
  pairWriter.finish(at);
  // Only messages whose length fits the one byte reserved for it, so the copy is the exact bytes.
  const fits = pairWriter.pos - 1 <= 127;
  const bytes = fits ? Buffer.from(pairWriter.buf.subarray(0, pairWriter.pos)) : TOO_LONG;
  values.set(value as string | number | boolean, bytes);
  cachedPairs++;
  return fits ? bytes : undefined;
}

export function attributes(w: ProtobufWriter, attrs: Attributes, field: number): void {
  for (const key in attrs) {
    if (!Object.prototype.hasOwnProperty.call(attrs, key)) continue;
    const value = attrs[key];
    w.tag(field, LEN);
    const cached = cachedKeyValue(key, value);
    if (cached !== undefined) {
      w.raw(cached);
      continue;
    }
    const kv = w.begin();
    keyValue(w, key, value);
    w.finish(kv);
  }
}

/** Scope{Spans,Logs}.scope: the tag, length and InstrumentationScope message. */
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

/** Resource{Spans,Logs}.resource: the tag, length and Resource message. */
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
  /** The encoded records: Span or LogRecord messages, each with its field-2 tag. */
  records: Uint8Array;
}

export interface EncodedResource {
  resource: Buffer;
  schemaUrl?: string;
  scopes: EncodedScope[];
}

/** The Export{Trace,Logs}ServiceRequest around already-encoded spans or log records. */
export function encodeExportRequest(resources: EncodedResource[]): Uint8Array {
  let size = 16;
  for (const r of resources) {
    size += r.resource.length + 16 + (r.schemaUrl?.length ?? 0) * 3;
    for (const s of r.scopes) size += s.scope.length + s.records.length + 16 + (s.schemaUrl?.length ?? 0) * 3;
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
      w.raw(s.records);
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
