// The span and log-record processor chains startSdk installs, for each exporter choice.
import * as api from '@opentelemetry/api';
import * as core from '@opentelemetry/core';
import * as logs from '@opentelemetry/sdk-logs';
import * as trace from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config.js';
import { EncodingSpanProcessor } from '../../src/exporters/encoding-span-processor.js';
import { logProcessorChain, spanProcessorChain } from '../../src/processors/chain.js';
import { RedactionLogProcessor, RedactionSpanProcessor, Redactor } from '../../src/processors/redaction.js';
import { ReleaseTagLogProcessor, ReleaseTagSpanProcessor } from '../../src/processors/release-tags.js';
import { TaskStatusSpanProcessor } from '../../src/processors/task-status.js';
import { RequestIdLogProcessor } from '../../src/instrumentation/request-id.js';
import { LogCountingProcessor, LogExportGate, SpanCountingProcessor } from '../../src/exporters/counting-processors.js';

const started: Array<{ shutdown(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.shutdown()));
});

function spans(env: Record<string, string>, plugin?: trace.SpanProcessor) {
  const { config, warnings } = readConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', ...env });
  expect(warnings).toEqual([]);
  const chain = spanProcessorChain({ api, core, trace, config, tags: { release: 'r1' }, redactor: new Redactor(config.redactKeys), meter: api.metrics.getMeter('t'), plugin });
  started.push(...chain);
  return chain.map((p) => p.constructor);
}

function logChain(env: Record<string, string>) {
  const { config } = readConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', ...env });
  const chain = logProcessorChain({ logs, config, tags: {}, redactor: new Redactor(config.redactKeys) });
  started.push(...chain.processors);
  return chain;
}

const FIRST = [SpanCountingProcessor, ReleaseTagSpanProcessor, TaskStatusSpanProcessor, RedactionSpanProcessor];

describe('span processor chain', () => {
  it('OTLP protobuf (the default): spans encoded as they end, by the EncodingSpanProcessor, last', () => {
    expect(spans({})).toEqual([...FIRST, EncodingSpanProcessor]);
    expect(spans({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })).toEqual([...FIRST, EncodingSpanProcessor]);
  });

  it('OTLP JSON and console: the SDK BatchSpanProcessor', () => {
    expect(spans({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toEqual([...FIRST, trace.BatchSpanProcessor]);
    expect(spans({ OTEL_TRACES_EXPORTER: 'console' })).toEqual([...FIRST, trace.BatchSpanProcessor]);
  });

  it('none: no exporting processor, the tags, task status and redaction still run', () => {
    expect(spans({ OTEL_TRACES_EXPORTER: 'none' })).toEqual(FIRST);
  });

  it("a plugin's processor runs after redaction and before the exporting one", () => {
    class PluginProcessor implements trace.SpanProcessor {
      onStart() {}
      onEnd() {}
      forceFlush = async () => {};
      shutdown = async () => {};
    }
    expect(spans({}, new PluginProcessor())).toEqual([...FIRST, PluginProcessor, EncodingSpanProcessor]);
  });
});

describe('log record processor chain', () => {
  it('counting, request id, tags, redaction, then the batch processor (behind its counting gate) it returns apart', () => {
    const chain = logChain({});
    expect(chain.processors.map((p) => p.constructor)).toEqual([LogCountingProcessor, RequestIdLogProcessor, ReleaseTagLogProcessor, RedactionLogProcessor, LogExportGate]);
    expect(chain.exporting).toBeInstanceOf(logs.BatchLogRecordProcessor);
  });

  it('none and no request id: only tags and redaction', () => {
    const chain = logChain({ OTEL_LOGS_EXPORTER: 'none', OTEL_MONITOR_REQUEST_ID: 'false' });
    expect(chain.processors.map((p) => p.constructor)).toEqual([LogCountingProcessor, ReleaseTagLogProcessor, RedactionLogProcessor]);
    expect(chain.exporting).toBeUndefined();
  });
});
