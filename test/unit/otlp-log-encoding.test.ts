// pino records encoded at emit (exporters/pino-emit.ts) against the SDK path they replace, byte for
// byte: the same pino lines, logged once, go both ways at once (two subscribers of pino's channel):
// through the Logs API, LogRecordImpl and the real log processor chain into otlp-transformer's
// serializer, and through our emitter into the encoded queue. Lines cover every value type, errors
// (code, type), secrets for redaction, custom time functions and levels, event names, more
// attributes than the count limit, an empty and a `__proto__` key, lines outside any span, in an
// unsampled one, and with a request id in the context.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '@opentelemetry/api';
import { suppressTracing, timeInputToHrTime } from '@opentelemetry/core';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordProcessor, type SdkLogRecord } from '@opentelemetry/sdk-logs';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import pino from 'pino';
import { DEFAULT_REDACT_KEYS, readConfig } from '../../src/config.js';
import { apiSink, sendPinoLogs } from '../../src/instrumentation/pino-logs.js';
import { REQUEST_ID_KEY } from '../../src/instrumentation/request-id.js';
import { logProcessorChain } from '../../src/processors/chain.js';
import { Redactor } from '../../src/processors/redaction.js';
import { PinoEmitter, limitAttributes } from '../../src/exporters/pino-emit.js';
import type { BatchExporter, EncodedBatch } from '../../src/exporters/encoded-queue.js';
import { decodeOtlp } from '../helpers/otlp-receiver.js';
import * as logs from '@opentelemetry/sdk-logs';

const resource = resourceFromAttributes({ 'service.name': 'golden', 'service.version': '1.2.3', 'host.cores': 2 });
const tags = { release: '1.2.3', environment: 'test' };
const redactor = new Redactor(DEFAULT_REDACT_KEYS);
const SCOPE = { name: '@org/otel-monitor/pino', version: '0.0.0-test' };

const sdkRecords: SdkLogRecord[] = [];
const batches: EncodedBatch[] = [];
let emitter: PinoEmitter;
let pluginActive = false;
let viaFallback = 0;

beforeAll(() => {
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const capture: LogRecordProcessor = { onEmit: (r) => void sdkRecords.push(r), forceFlush: async () => {}, shutdown: async () => {} };
  const { config } = readConfig({ OTEL_LOGS_EXPORTER: 'none' });
  const chain = logProcessorChain({ logs, config, tags, redactor });
  const provider = new LoggerProvider({ resource, processors: [...chain.processors, capture] });
  const sdkPath = apiSink(provider.getLogger(SCOPE.name, SCOPE.version));
  const exporter: BatchExporter = {
    export: (batch, done) => {
      batches.push(batch);
      done({ code: 0 });
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  emitter = new PinoEmitter({
    api,
    timeInputToHrTime,
    suppress: suppressTracing,
    resource: resource as never,
    scope: SCOPE,
    redactor,
    tags,
    requestIds: true,
    exporter,
    options: { maxQueueSize: 10_000, maxExportBatchSize: 10_000, scheduledDelayMillis: 60_000 },
    fallback: { active: () => pluginActive, emit: () => void viaFallback++ },
  });
  sendPinoLogs(sdkPath);
  sendPinoLogs(emitter);
});
afterAll(() => api.context.disable());

const sink = { write() {} };
const span = (traceFlags: number) =>
  api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags });

/** Lines of every shape, as an app logs them. */
function logVaried(): void {
  const log = pino({ base: { pid: 1, hostname: 'h' } }, sink);
  const iso = pino({ timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'message', errorKey: 'error' }, sink);
  const unix = pino({ timestamp: pino.stdTimeFunctions.unixTime, customLevels: { audit: 35 }, level: 'trace' }, sink);
  const many = Object.fromEntries(Array.from({ length: 140 }, (_, i) => [`k${i}`, i]));
  const inRequest = span(1).setValue(REQUEST_ID_KEY, 'req-7');
  api.context.with(inRequest, () => {
    log.info({ n: 1, f: 0.5, big: 2 ** 40, neg: -3, t: true, nil: null, list: [1, 'a', null, { x: 1 }], nested: { a: { b: 'ü ✓' } } }, 'varied ✓');
    log.warn({ password: 'hunter2', db: 'postgres://u:pw-secret@db/x', user: { token: 't' }, mail: 'a@example.com' }, 'secret ?token=abc');
    log.error({ err: Object.assign(new Error('boom'), { code: 'E_BOOM' }) }, 'failed');
    log.error(new Error('bare error'));
    iso.info({ error: { type: 'TypeError', message: 'bad', stack: 'TypeError: bad\n    at x' } }, 'iso time');
    unix.audit({ 'event.name': 'user.login', '': 'empty key' }, 'custom level');
    unix.trace('trace level');
    log.info(many, 'many attributes');
    log.info({ 'service.version': 'own', 'otel_monitor.request.id': 'own-id' }, 'own tags');
  });
  api.context.with(span(0), () => log.info('unsampled span'));
  log.info({ request_id: 'app-own' }, 'outside any request');
  log.fatal('fatal, no fields');
}

describe('pino records encoded at emit', () => {
  it('write the same bytes as the SDK path (LogRecordImpl, the log processors, otlp-transformer)', async () => {
    logVaried();
    await emitter.forceFlush();
    expect(sdkRecords).toHaveLength(12);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.items).toBe(12);
    const ours = Buffer.from(batches[0]!.bytes);
    const reference = Buffer.from(ProtobufLogsSerializer.serializeRequest(sdkRecords)!);
    if (!ours.equals(reference)) {
      // Say which record differs, decoded, before failing on the bytes.
      const a = decodeOtlp('logs', ours, 'application/x-protobuf').resourceLogs[0].scopeLogs[0].logRecords;
      const b = decodeOtlp('logs', reference, 'application/x-protobuf').resourceLogs[0].scopeLogs[0].logRecords;
      expect(a).toEqual(b);
    }
    expect(ours.equals(reference)).toBe(true);
    // What the comparison covered: redaction, the limit, trace context, the request id once.
    const decoded = decodeOtlp('logs', ours, 'application/x-protobuf').resourceLogs[0].scopeLogs[0].logRecords;
    expect(JSON.stringify(decoded)).not.toMatch(/hunter2|pw-secret|p1|a@example\.com/);
    const many = decoded.find((r: any) => r.body?.stringValue === 'many attributes');
    expect([many.attributes.length, many.droppedAttributesCount]).toEqual([128, 140 + 3 - 128]);
    expect(decoded.filter((r: any) => r.traceId).length).toBe(10);
  });

  it('goes through the SDK path while a plugin has a log processor', () => {
    const before = batches.length;
    pluginActive = true;
    try {
      pino({}, sink).info('to a plugin');
    } finally {
      pluginActive = false;
    }
    expect(viaFallback).toBe(1);
    expect(batches.length).toBe(before);
  });

  it('leaves out the line\'s request_id when it is the context\'s request id, and only then', async () => {
    const log = pino({}, sink);
    batches.length = 0;
    api.context.with(api.ROOT_CONTEXT.setValue(REQUEST_ID_KEY, 'r-1'), () => {
      log.info({ request_id: 'r-1' }, 'logHook field');
      log.info({ request_id: 'other' }, 'app field');
    });
    await emitter.forceFlush();
    const decoded = decodeOtlp('logs', Buffer.from(batches[0]!.bytes), 'application/x-protobuf').resourceLogs[0].scopeLogs[0].logRecords;
    const keys = (r: any) => r.attributes.map((a: any) => `${a.key}=${a.value.stringValue ?? ''}`);
    expect(keys(decoded[0])).toEqual(['otel_monitor.request.id=r-1', 'service.version=1.2.3', 'deployment.environment.name=test']);
    expect(keys(decoded[1])).toEqual(['request_id=other', 'otel_monitor.request.id=r-1', 'service.version=1.2.3', 'deployment.environment.name=test']);
  });

  it('keeps a `__proto__` field as an attribute, redacted (the SDK path sets it as the prototype: listed difference)', async () => {
    batches.length = 0;
    sdkRecords.length = 0;
    pino({}, sink).info(JSON.parse('{"__proto__": {"password": "p1"}, "ok": 1}'), 'proto key');
    await emitter.forceFlush();
    const ours = decodeOtlp('logs', Buffer.from(batches[0]!.bytes), 'application/x-protobuf').resourceLogs[0].scopeLogs[0].logRecords[0];
    const sdk = decodeOtlp('logs', Buffer.from(ProtobufLogsSerializer.serializeRequest(sdkRecords)!), 'application/x-protobuf').resourceLogs[0].scopeLogs[0].logRecords[0];
    const keys = (r: any) => r.attributes.map((a: any) => a.key);
    expect(keys(ours)).toEqual(['__proto__', 'ok', 'service.version', 'deployment.environment.name']);
    expect(JSON.stringify(ours)).not.toContain('p1');
    // LogRecordImpl assigns attributes[key]: the field became the attributes' prototype, and the
    // redaction processor's for-in then found its `password` and set it as an own attribute.
    expect(keys(sdk)).toEqual(['ok', 'service.version', 'deployment.environment.name', 'password']);
  });

  it('applies the attribute count limit as LogRecordImpl does', () => {
    expect(limitAttributes({ a: 1, b: 2 }, 2)).toEqual({ attributes: { a: 1, b: 2 }, dropped: 0 });
    expect(limitAttributes({ a: 1, '': 0, b: 2, c: 3 }, 2)).toEqual({ attributes: { a: 1, b: 2 }, dropped: 1 });
  });
});
