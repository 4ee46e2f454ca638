// pino log lines to the OpenTelemetry Logs API from pino's own TracingChannel ('pino_asJson',
// pino >= 9.10), instead of instrumentation-pino's log sending. That one replaces every logger's
// destination with a pino.multistream of the app's stream and a Writable of its own: the app's
// `logger[streamSym]` is no longer the stream it passed, and each line is copied to a Buffer and
// decoded back before it is parsed. Here the destination stays the app's; each finished line (the
// string pino has just serialized, so the app's serializers, redaction and formatters apply) is
// parsed once and emitted in the caller's context, as upstream maps it. instrumentation-pino still
// adds trace_id/span_id/trace_flags to lines logged inside a span (log correlation); only its log
// sending is turned off where this channel exists.
import { tracingChannel } from 'node:diagnostics_channel';
import type { Logger, LogRecord } from '@opentelemetry/api';
import { log } from '../log.js';
import { appPackageVersion, atLeast } from './app-package.js';
import { Guard } from './channel-guard.js';
import { counters, countDrop } from '../exporters/pipeline-counters.js';

const CHANNEL = 'pino_asJson';

/** What pino publishes: the logger, asJson's (obj, msg, num, time) and, at the end, the line. */
export interface AsJsonMessage {
  instance?: PinoLogger;
  arguments?: ArrayLike<unknown>;
  result?: unknown;
}

interface PinoLogger {
  levels?: { labels?: Record<number, string> };
  [key: symbol]: unknown;
}

/** pino's symbols, found by their descriptions once per copy of pino (its prototype object). */
interface PinoKeys {
  messageKey?: symbol;
  errorKey?: symbol;
  time?: symbol;
  hooks?: symbol;
}

/** Set on a logger that sends its own records (the API's logger, src/logs/logger.ts): not sent twice. */
export const OWN_LOGGER = Symbol.for('@org/otel-monitor.own-logger');

// SeverityNumber for pino's default levels; in-between custom levels map as upstream does.
const SEVERITY: Record<number, number> = { 10: 1, 20: 5, 30: 9, 40: 13, 50: 17, 60: 21 };
const EXTRA = [2, 3, 4, 6, 7, 8, 10, 11, 12, 14, 15, 16, 18, 19, 20, 22, 23, 24];

function severityOf(level: number): number {
  const known = SEVERITY[level];
  if (known !== undefined) return known;
  const i = Math.floor(((level - 10) / 60) * EXTRA.length);
  return EXTRA[Math.min(EXTRA.length - 1, Math.max(0, i))]!;
}

const OMITTED = new Set(['hostname', 'pid', 'trace_id', 'span_id', 'trace_flags', 'event.name']);

const keysByProto = new WeakMap<object, PinoKeys>();

/** What a line's mapping reads from its logger: fixed when pino creates it (children inherit it). */
interface LoggerShape {
  messageKey: string;
  errorKey: string;
  /** The line's `time` is in seconds (pino.stdTimeFunctions.unixTime). */
  seconds: boolean;
  /** The app's streamWrite hook: the destination gets the line after it (redaction, often). */
  streamWrite?: (s: string) => string;
}

// The logger of the last line: most lines come from the same one. Read again per line, its keys and
// options (symbol-keyed fields of a dictionary-mode object, and the walk up the prototype chain to
// the keys' WeakMap entry) were 1.4 µs per line in the profile of the bench's realistic app.
let lastInstance: PinoLogger | undefined;
let lastShape: LoggerShape | undefined;

function shapeOf(instance: PinoLogger): LoggerShape {
  if (instance === lastInstance && lastShape) return lastShape;
  const keys = keysByPrototype(instance);
  const streamWrite = keys.hooks && (instance[keys.hooks] as { streamWrite?: (s: string) => string } | undefined)?.streamWrite;
  lastShape = {
    messageKey: (keys.messageKey && (instance[keys.messageKey] as string)) || 'msg',
    errorKey: (keys.errorKey && (instance[keys.errorKey] as string)) || 'err',
    seconds: ((keys.time && instance[keys.time]) as { name?: string } | undefined)?.name === 'unixTime',
    ...(typeof streamWrite === 'function' ? { streamWrite } : {}),
  };
  lastInstance = instance;
  return lastShape;
}

function keysByPrototype(instance: PinoLogger): PinoKeys {
  // Child loggers chain to their parent; the root logger chains to pino's shared prototype.
  let proto: object | null = instance;
  while (proto && !Object.hasOwn(proto, 'child')) proto = Object.getPrototypeOf(proto) as object | null;
  const cacheKey = proto ?? instance;
  let keys = keysByProto.get(cacheKey);
  if (keys) return keys;
  keys = {};
  for (let o: object | null = instance; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const s of Object.getOwnPropertySymbols(o)) {
      if (s.description === 'pino.messageKey') keys.messageKey = s;
      else if (s.description === 'pino.errorKey') keys.errorKey = s;
      else if (s.description === 'pino.time') keys.time = s;
      else if (s.description === 'pino.hooks') keys.hooks = s;
    }
  }
  keysByProto.set(cacheKey, keys);
  return keys;
}

/** The "time" field as epoch ms, however the logger writes it (pino.stdTimeFunctions). */
function millisOf(time: unknown, seconds: boolean): number | undefined {
  if (typeof time === 'number') return seconds ? time * 1000 : time;
  if (typeof time === 'string') {
    const ms = Date.parse(time);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/**
 * The line's fields but pino's own (time, level, message, error) and OMITTED: as upstream, the
 * correlation ids are not attributes, the record has its context. One pass into a fresh object,
 * not a rest copy and six deletes: deleting turned every record's attributes into a slow
 * dictionary-mode object, which sdk-logs' setAttributes then walked too. Measured on the bench's
 * realistic app (CPU profile, per request): toLogRecord 7.7 → 4.6 µs, LogRecordImpl.setAttributes
 * 3.2 → 1.2 µs; in isolation, this subscriber 1.95 → 1.65 µs per pino line.
 */
function attributesOf(record: Record<string, unknown>, messageKey: string, errorKey: string, omit: Duplicate | undefined): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const key in record) {
    if (key === 'time' || key === 'level' || key === messageKey || key === errorKey || OMITTED.has(key)) continue;
    if (omit !== undefined && key === omit.key && record[key] === omit.value) continue;
    // JSON.parse makes "__proto__" an own field; assigning it would set the prototype instead.
    if (key === '__proto__') Object.defineProperty(attributes, key, { value: record[key], enumerable: true, writable: true, configurable: true });
    else attributes[key] = record[key];
  }
  return attributes;
}

/** A field of the line that the record carries elsewhere: left out when it has this value. */
export interface Duplicate {
  key: string;
  value: string;
}

/** One finished line as an API LogRecord, mapped as instrumentation-pino maps it. */
export function toLogRecord(msg: AsJsonMessage, omit?: Duplicate): LogRecord | undefined {
  const instance = msg.instance;
  if (typeof msg.result !== 'string' || !instance || instance[OWN_LOGGER]) return undefined;
  const { messageKey, errorKey, seconds, streamWrite } = shapeOf(instance);
  // The line as the destination gets it: after the app's streamWrite hook.
  const parsed: unknown = JSON.parse(streamWrite ? streamWrite(msg.result) : msg.result);
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as Record<string, unknown>;
  const { time, level, [messageKey]: body, [errorKey]: exception } = record;
  const attributes = attributesOf(record, messageKey, errorKey, omit);
  const eventName = record['event.name'];
  const num = Number(msg.arguments?.[2] ?? level);
  let ms = millisOf(time, seconds);
  if (ms === undefined) {
    if (time !== undefined) attributes['time'] = time;
    ms = Date.now();
  }
  if (exception && typeof exception === 'object' && !Array.isArray(exception)) {
    const e = exception as Record<string, unknown>;
    if (typeof e['type'] === 'string' && typeof e['name'] !== 'string') e['name'] = e['type'];
  }
  return {
    timestamp: ms,
    observedTimestamp: ms,
    severityNumber: severityOf(num),
    severityText: instance.levels?.labels?.[num],
    body: body as LogRecord['body'],
    attributes: attributes as LogRecord['attributes'],
    ...(exception !== undefined ? { exception } : {}),
    ...(typeof eventName === 'string' ? { eventName } : {}),
  } as LogRecord;
}

/**
 * Whether the batch log processor's queue is full, read from its own queue (sdk-logs 3.0), so that a
 * line it would drop anyway is not parsed first. Always false for anything else.
 */
export function queueFull(processor: unknown): () => boolean {
  const p = processor as { _finishedLogRecords?: unknown[]; _maxQueueSize?: number } | undefined;
  if (!p || !Array.isArray(p._finishedLogRecords) || typeof p._maxQueueSize !== 'number') return () => false;
  return () => p._finishedLogRecords!.length >= p._maxQueueSize!;
}

/** Where parsed lines go: the Logs API (the SDK path) or records encoded at emit (pino-emit). */
export interface PinoSink {
  /**
   * Says when the export queue cannot take another record: a burst of lines logged faster than
   * they can be exported (a synchronous loop never lets an export run) then costs pino's own work
   * only, not a parse and a log record per line that the queue would throw away.
   */
  rejects(): boolean;
  /** A field of the line the sink carries elsewhere (the request id), read before the line is parsed. */
  duplicate?(): Duplicate | undefined;
  emit(record: LogRecord): void;
}

/** The SDK path: each line to the Logs API's `logger`, unless the batch processor's queue is full. */
export function apiSink(logger: Logger, full: () => boolean = () => false): PinoSink {
  return {
    rejects: () => {
      if (!full()) return false;
      countDrop('log', 'queue_full');
      log.once('warn', 'pino-queue-full', 'pino lines are logged faster than they can be exported: lines beyond the log queue (OTEL_BLRP_MAX_QUEUE_SIZE) are not sent');
      return true;
    },
    emit: (record) => logger.emit(record),
  };
}

export function sendPinoLogs(sink: PinoSink): void {
  const channel = tracingChannel<unknown, AsJsonMessage>(CHANNEL);
  // The end runs synchronously inside the log call: the active context is the caller's.
  new Guard('pino-logs').subscribeTracing(channel, {
    end(msg) {
      // A record the queue would drop anyway: counted as made here, and as dropped by the sink.
      if (sink.rejects()) {
        counters.log.created++;
        return;
      }
      // A line that is not JSON (a custom serializer's output) is not sent; the app's line is unaffected.
      let record: LogRecord | undefined;
      try {
        record = toLogRecord(msg, sink.duplicate?.());
      } catch {
        return;
      }
      if (record) sink.emit(record);
    },
  });
}

/** Whether the app's pino publishes the channel (pino >= 9.10), resolved from the app's own pino. */
export function pinoHasChannel(paths: string[]): boolean {
  return atLeast(appPackageVersion('pino', paths), 9, 10);
}
