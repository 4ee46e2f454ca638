// Proven against a real Sentry-compatible server: Bugsink (PyPI) on loopback receives a handled
// error, an Express error and a crash from instrumented apps; we read them back through its API and
// check release, environment, stack frames and that the trace id is the one of an OTel span the
// Collector received.
import { readFileSync, existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBugsink, type Bugsink } from '../helpers/bugsink.js';
import { startCollector, type RunningCollector } from '../helpers/stack.js';
import { startApp } from '../helpers/app.js';
import { stopAll, waitFor } from '../helpers/process.js';

let bugsink: Bugsink;
let collector: RunningCollector;

beforeAll(async () => {
  [bugsink, collector] = await Promise.all([
    startBugsink(),
    startCollector({ env: { OTELCOL_TRACES_EXPORTERS: '[file]', OTELCOL_LOGS_EXPORTERS: '[debug]', OTELCOL_METRICS_EXPORTERS: '[debug]' } }),
  ]);
}, 300_000);
afterAll(async () => {
  await stopAll();
});

/** Trace ids of the spans the Collector wrote with its file exporter. */
function collectorTraceIds(): Set<string> {
  const file = collector.env.OTELCOL_FILE_EXPORT_PATH!;
  const ids = new Set<string>();
  if (!existsSync(file)) return ids;
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    for (const rs of JSON.parse(line).resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) ids.add(s.traceId);
  }
  return ids;
}

describe('Sentry against Bugsink', () => {
  it('stores a handled error, an Express error and a crash with release, environment, frames and the OTel trace id', async () => {
    const env = {
      SENTRY_DSN: bugsink.dsn,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttp,
      OTEL_MONITOR_RELEASE: 'shop@4.0.0',
      OTEL_MONITOR_ENVIRONMENT: 'production',
    };
    const app = await startApp({ script: 'test/fixtures/crash-app.mjs', env });
    expect((await app.get('/orders/7')).status).toBe(500);
    expect((await app.get('/log-error')).status).toBe(200);
    await app.get('/crash').catch(() => undefined);
    expect(await app.exited).toBe(1);

    const events = await waitFor(async () => {
      const all = await bugsink.events();
      return all.length >= 3 ? all : undefined;
    }, { timeoutMs: 30_000, what: 'three events in Bugsink' });
    const byValue = (v: string) => events.find((e) => e.exception?.values?.[0]?.value === v);
    const express = byValue('order lookup failed');
    const logged = byValue('payment provider timed out');
    const crash = byValue('crash inside a request');
    for (const [event, handled] of [[express, true], [logged, true], [crash, false]] as const) {
      expect(event.release).toBe('shop@4.0.0');
      expect(event.environment).toBe('production');
      const ex = event.exception.values[0];
      expect(ex.mechanism.handled).toBe(handled);
      expect(ex.stacktrace.frames.some((f: { filename?: string }) => f.filename?.endsWith('crash-app.mjs'))).toBe(true);
    }
    expect(express.exception.values[0].mechanism.type).toBe('otel-monitor.http');
    expect(express.transaction).toBe('GET /orders/:id');
    expect(crash.level).toBe('fatal');

    // Each event's trace id is a trace the Collector received from the same process.
    const traceIds = await waitFor(() => {
      const ids = collectorTraceIds();
      return [express, logged, crash].every((e) => ids.has(e.contexts.trace.trace_id)) ? ids : undefined;
    }, { timeoutMs: 20_000, what: 'the events\' traces in the Collector\'s file export' });
    expect(traceIds.size).toBeGreaterThanOrEqual(3);
  }, 120_000);
});
