// The encoded queue with the real OTLP/HTTP transport (otlp-exporter-base) against a local receiver:
// a burst that fills every in-flight slot and the queue is delivered in full once the exporter
// catches up. The transport forgets a finished request a microtask after its callback; the queue,
// sending the next batch from that callback's settlement, was refused by the transport's own
// concurrency limit when both limits were equal, and those records were lost. Drops and exports are
// read from the pipeline counters (pipeline-counters.ts), what the app's otel.sdk.* metrics report.
import { describe, expect, it } from 'vitest';
import * as api from '@opentelemetry/api';
import { suppressTracing, timeInputToHrTime } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { EncodedQueue, createEncodedExporter, lazyEncodedExporter } from '../../src/exporters/encoded-queue.js';
import { counters, resetCounters } from '../../src/exporters/pipeline-counters.js';
import { encodeLogRecord } from '../../src/exporters/otlp-log-encoding.js';
import { withReceiver } from '../helpers/otlp-receiver.js';

describe('EncodedQueue with the OTLP/HTTP transport', () => {
  it('delivers a burst that fills all 4 request slots and the queue, every record once', async () => {
    resetCounters();
    await withReceiver(async (r) => {
      const signal = { exporter: 'otlp' as const, endpoint: `${r.url}/v1/logs`, protocol: 'http/protobuf' as const, headers: {}, timeoutMs: 10_000, compression: 'gzip' as const };
      const queue = new EncodedQueue(api, suppressTracing, lazyEncodedExporter('logs', signal), { maxQueueSize: 100, maxExportBatchSize: 10, scheduledDelayMillis: 60_000 }, {
        one: 'log record',
        many: 'log records',
        exporter: 'logs',
        signal: 'log',
      });
      const resource = resourceFromAttributes({ 'service.name': 'burst' });
      const scope = { name: 'burst' };
      const now = timeInputToHrTime(Date.now());
      for (let i = 0; i < 200; i++) {
        queue.add(resource as never, scope, i, (w, n) => encodeLogRecord(w, { time: now, observedTime: now, body: `line ${n}`, attributes: {}, droppedAttributesCount: 0 }));
      }
      // 4 requests of 10 in flight and 100 waiting: 140 taken, 60 dropped as queue_full.
      expect(counters.log.dropped).toEqual({ queue_full: 60 });
      await queue.forceFlush();
      await queue.shutdown();
      const bodies = r.logRecords().map((l) => l.body);
      expect(bodies).toHaveLength(140);
      expect(new Set(bodies).size).toBe(140);
      // The pipeline's own counts say the same: 140 exported, none failed, nothing left in flight.
      expect(counters.log).toMatchObject({ processed: 140, exported: 140, failed: {}, inflight: 0, dropped: { queue_full: 60 } });
    });
  });
});

describe('EncodedQueue when a request cannot be built', () => {
  // pending: the detectors still run, so the request is built later from copied bytes; settled: it
  // is built at once from the writers' bytes in place.
  it.each([
    ['after the resource attributes settle', true],
    ['with the resource already settled', false],
  ])('%s: the records are counted encoding_failed, the slot is freed, nothing is thrown', async (_name, pendingAttributes) => {
    await withReceiver(async (r) => {
      const signal = { exporter: 'otlp' as const, endpoint: `${r.url}/v1/logs`, protocol: 'http/protobuf' as const, headers: {}, timeoutMs: 10_000, compression: 'none' as const };
      const names = { one: 'log record', many: 'log records', exporter: 'logs', signal: 'log' as const };
      const queue = new EncodedQueue(api, suppressTracing, createEncodedExporter('logs', signal), { maxQueueSize: 100, maxExportBatchSize: 5, scheduledDelayMillis: 60_000 }, names);
      // A resource whose detectors finish after start-up and whose attributes then fail to read.
      const broken = {
        asyncAttributesPending: pendingAttributes,
        waitForAsyncAttributes: () => Promise.resolve(),
        get attributes(): never {
          throw new Error('detector blew up');
        },
      };
      const unhandled: unknown[] = [];
      const onUnhandled = (e: unknown) => unhandled.push(e);
      process.on('unhandledRejection', onUnhandled);
      const before = counters.log.dropped.encoding_failed ?? 0;
      try {
        const now = timeInputToHrTime(Date.now());
        for (let i = 0; i < 5; i++) queue.add(broken as never, { name: 'b' }, i, (w, n) => encodeLogRecord(w, { time: now, observedTime: now, body: `line ${n}`, attributes: {}, droppedAttributesCount: 0 }));
        await queue.forceFlush();
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
      expect(unhandled).toEqual([]);
      expect((counters.log.dropped.encoding_failed ?? 0) - before).toBe(5);
      expect(r.logRecords()).toHaveLength(0);
    });
  });
});
