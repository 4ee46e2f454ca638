// The exit-aware retry policy: upstream's schedule while running, no retries once exiting, a batch
// waiting for its retry sent at once when the exit begins; and it really replaces upstream's policy
// in each exporter this distribution builds (the pinned otlp-exporter-base shape).
import { afterEach, describe, expect, it } from 'vitest';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ExitAwareRetryingTransport, useExitAwareRetries, type Transport } from '../../src/exporters/retrying-transport.js';
import { createEncodedExporter } from '../../src/exporters/encoded-queue.js';
import { beginExit, resetExitMode } from '../../src/exporters/exit-mode.js';
import { useBuiltinRequest } from '../../src/exporters/builtin-request.js';

type Response = Awaited<ReturnType<Transport['send']>>;

function scripted(responses: Response[]) {
  const calls: number[] = [];
  const inner: Transport = {
    send: async () => {
      calls.push(Date.now());
      return responses.shift() ?? { status: 'success' };
    },
    shutdown: () => {},
  };
  return { inner, calls };
}

afterEach(() => resetExitMode());

describe('ExitAwareRetryingTransport', () => {
  it('retries a retryable answer while running, honouring Retry-After', async () => {
    const { inner, calls } = scripted([
      { status: 'retryable', retryInMillis: 20 },
      { status: 'retryable', retryInMillis: 20 },
    ]);
    const result = await new ExitAwareRetryingTransport(inner).send(new Uint8Array(), 5000);
    expect(result.status).toBe('success');
    expect(calls).toHaveLength(3);
  });

  it('gives up when the next attempt would be past the export timeout', async () => {
    const { inner, calls } = scripted([{ status: 'retryable', retryInMillis: 10_000 }]);
    const result = await new ExitAwareRetryingTransport(inner).send(new Uint8Array(), 1000);
    expect(result.status).toBe('retryable');
    expect(calls).toHaveLength(1);
  });

  it('retries nothing once the process is exiting', async () => {
    beginExit();
    const { inner, calls } = scripted([{ status: 'retryable', retryInMillis: 1 }]);
    const result = await new ExitAwareRetryingTransport(inner).send(new Uint8Array(), 5000);
    expect(result.status).toBe('retryable');
    expect(calls).toHaveLength(1);
  });

  it('sends a batch waiting for its retry at once when the exit begins, a last time', async () => {
    const { inner, calls } = scripted([
      { status: 'retryable', retryInMillis: 4000 },
      { status: 'retryable', retryInMillis: 1 },
    ]);
    const started = Date.now();
    const sending = new ExitAwareRetryingTransport(inner).send(new Uint8Array(), 10_000);
    await new Promise((r) => setTimeout(r, 30));
    beginExit();
    const result = await sending;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result.status).toBe('retryable');
    expect(calls).toHaveLength(2);
  });
});

describe('useExitAwareRetries', () => {
  const url = 'http://127.0.0.1:1/v1/x';
  const signal = { exporter: 'otlp' as const, endpoint: url, protocol: 'http/protobuf' as const, headers: {}, timeoutMs: 1000, compression: 'none' as const };
  for (const [name, make] of [
    ['OTLPMetricExporter (proto)', () => new OTLPMetricExporter({ url })],
    ['OTLPLogExporter (proto)', () => new OTLPLogExporter({ url })],
    ['OTLPTraceExporter (json)', () => new OTLPTraceExporter({ url })],
    ['the encoded trace exporter', () => createEncodedExporter('traces', signal)],
    ['the encoded log exporter', () => createEncodedExporter('logs', signal)],
  ] as const) {
    it(`replaces upstream's retry policy in ${name}`, () => {
      const exporter = useExitAwareRetries(make() as object) as { _delegate: { _transport: unknown } };
      expect(exporter._delegate._transport).toBeInstanceOf(ExitAwareRetryingTransport);
    });
    it(`gives ${name}'s HTTP transport node:http's request without an import, and its factory's agent`, async () => {
      const exporter = useExitAwareRetries(make() as object) as { _delegate: { _transport: { inner: Record<string, unknown> } } };
      const http = exporter._delegate._transport.inner;
      // Replaced on the instance (builtin-request.ts), not the class's own, which imports "http".
      expect(Object.hasOwn(http, '_loadUtils')).toBe(true);
      const utils = await (http._loadUtils as () => Promise<{ agent: unknown; request: unknown }>)();
      expect(utils.request).toBe(process.getBuiltinModule('node:http').request);
      expect(utils.agent).toBeInstanceOf(process.getBuiltinModule('node:http').Agent);
    });
  }
  it("takes node:https's request and agent for an https endpoint", async () => {
    const exporter = useExitAwareRetries(createEncodedExporter('traces', { ...signal, endpoint: 'https://127.0.0.1:1/v1/traces' })) as unknown as { _delegate: { _transport: { inner: Record<string, unknown> } } };
    const utils = await (exporter._delegate._transport.inner._loadUtils as () => Promise<{ agent: unknown; request: unknown }>)();
    expect(utils.request).toBe(process.getBuiltinModule('node:https').request);
    expect(utils.agent).toBeInstanceOf(process.getBuiltinModule('node:https').Agent);
  });
  it('leaves a transport of another shape as it is', () => {
    const other = { _utils: null, _loadUtils: () => Promise.resolve({}) };
    useBuiltinRequest(other);
    useBuiltinRequest({});
    expect(Object.hasOwn(other, '_parameters')).toBe(false);
    expect(other._loadUtils.name).toBe('_loadUtils');
  });
});
