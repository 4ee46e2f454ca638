// Every kind of error a server has, once each in Sentry with `handled` telling the truth, request
// sessions counting them, the crashing process delivering its own telemetry, and never a Sentry
// transaction or span (OpenTelemetry owns tracing).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { startSentryReceiver, type SentryReceiver } from '../helpers/sentry-receiver.js';
import { startApp } from '../helpers/app.js';
import { stopAll, waitFor } from '../helpers/process.js';

const SCRIPT = 'test/fixtures/crash-app.mjs';
let otlp: OtlpReceiver;
let sentry: SentryReceiver;

beforeAll(async () => {
  otlp = await startOtlpReceiver();
  sentry = await startSentryReceiver();
});
afterEach(async () => {
  await stopAll();
  // No duplicate tracing, whatever happened in the test: errors, crashes, shutdown.
  expect(sentry.items().map((i) => i.type)).not.toContain('transaction');
  expect(sentry.items().map((i) => i.type)).not.toContain('span');
  expect(sentry.rejected).toEqual([]);
  sentry.clear();
});
afterAll(async () => {
  await otlp.close();
  await sentry.close();
});

const env = (extra: Record<string, string> = {}) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
  SENTRY_DSN: sentry.dsn,
  OTEL_MONITOR_RELEASE: 'shop@3.1.4',
  OTEL_MONITOR_ENVIRONMENT: 'staging',
  ...extra,
});

/** Sums the aggregate session counts Sentry received. */
function sessionTotals(): { exited: number; errored: number; crashed: number; releases: string[] } {
  const out = { exited: 0, errored: 0, crashed: 0, releases: [] as string[] };
  for (const s of sentry.items('sessions').map((i) => i.payload)) {
    out.releases.push(s.attrs?.release);
    for (const a of s.aggregates ?? []) {
      out.exited += a.exited ?? 0;
      out.errored += a.errored ?? 0;
      out.crashed += a.crashed ?? 0;
    }
  }
  return out;
}

const byValue = (value: string) => sentry.events().find((e) => e.exception?.values?.[0]?.value === value);

describe('Sentry: errors once each, handled truthfully, sessions per request', () => {
  it('a framework 500 is handled:true with route, method, ids and request; a pino error is an event; 5xx and errors count as errored', async () => {
    const app = await startApp({ script: SCRIPT, env: env() });
    expect((await app.get('/ok')).status).toBe(200);
    expect((await app.get('/orders/42?token=qs-S3CRET', { authorization: 'Bearer hdr-S3CRET' })).status).toBe(500);
    expect((await app.get('/log-error')).status).toBe(200);

    await waitFor(() => byValue('order lookup failed') && byValue('payment provider timed out'), { timeoutMs: 15_000, what: 'both events' });
    const http = byValue('order lookup failed');
    const ex = http.exception.values[0];
    expect(ex.mechanism).toMatchObject({ type: 'otel-monitor.http', handled: true });
    expect(ex.stacktrace.frames.length).toBeGreaterThan(0);
    expect(http.release).toBe('shop@3.1.4');
    expect(http.environment).toBe('staging');
    expect(http.tags['http.route']).toBe('/orders/:id');
    expect(http.tags['http.request.method']).toBe('GET');
    expect(http.request.url).toContain('/orders/42');
    const server = await waitFor(() => otlp.spans().find((s) => s.kind === 2 && s.attributes['http.route'] === '/orders/:id'));
    expect(server.resource['service.version']).toBe(http.release);
    expect(http.contexts.trace.trace_id).toBe(server.traceId);
    const handler = otlp.spans().find((s) => s.traceId === server.traceId && s.spanId === http.contexts.trace.span_id);
    expect(handler, 'the event names the span the error was recorded on').toBeDefined();

    const logged = byValue('payment provider timed out');
    expect(logged.exception.values[0].mechanism).toMatchObject({ type: 'auto.log.pino', handled: true });
    expect(logged.breadcrumbs?.some((b: { message?: string }) => b.message === 'about to fail quietly')).toBe(true);

    await app.stop('SIGTERM');
    // One event per error, never one per span that recorded it.
    expect(sentry.events().filter((e) => e.exception?.values?.[0]?.value === 'order lookup failed')).toHaveLength(1);
    const totals = await waitFor(() => sentry.items('sessions').length > 0 && sessionTotals(), { timeoutMs: 15_000, what: 'sessions' });
    expect(totals).toMatchObject({ exited: 1, errored: 2, crashed: 0 });
    expect(totals.releases.every((r) => r === 'shop@3.1.4')).toBe(true);
    expect(JSON.stringify(sentry.envelopes)).not.toMatch(/S3CRET/);
  });

  it('an uncaught exception: handled:false event, crashed session, own spans/logs/metrics flushed, exit 1 with the stack on stderr', async () => {
    const app = await startApp({ script: SCRIPT, env: env() });
    expect((await app.get('/ok')).status).toBe(200);
    await app.get('/crash').catch(() => undefined); // the process dies before it answers
    expect(await app.exited).toBe(1);
    expect(app.output()).toMatch(/Error: crash inside a request\n\s+at /);

    const crash = byValue('crash inside a request');
    expect(crash, 'the event was delivered before the exit').toBeDefined();
    expect(crash.level).toBe('fatal');
    expect(crash.exception.values[0].mechanism).toMatchObject({ type: 'auto.node.onuncaughtexception', handled: false });
    expect(crash.release).toBe('shop@3.1.4');
    expect(sessionTotals()).toMatchObject({ exited: 1, crashed: 1, errored: 0 });

    // The process's own telemetry up to the crash: the span the error was raised in (ended with it),
    // the /ok request's server span, its log records and metrics.
    const crashed = otlp.spans().find((s) => s.traceId === crash.contexts.trace.trace_id);
    expect(crashed?.status.code).toBe(2);
    expect(crashed?.events.some((e) => e.name === 'exception')).toBe(true);
    const pid = String(app.child.pid);
    expect(otlp.spans().some((s) => s.attributes['http.route'] === '/ok' && String(s.resource['process.pid']) === pid)).toBe(true);
    expect(otlp.metrics().some((m) => m.name === 'http.server.request.duration' && String(m.resource['process.pid']) === pid)).toBe(true);
    expect(otlp.logRecords().some((l) => l.body === 'crashing soon' && String(l.resource['process.pid']) === pid)).toBe(true);
    // Captured once, although the span it ended on recorded it too.
    expect(sentry.events().filter((e) => e.exception?.values?.[0]?.value === 'crash inside a request')).toHaveLength(1);
  });

  it("the app's own uncaughtException handler keeps working: the process lives on, the error is still reported", async () => {
    const app = await startApp({ script: SCRIPT, env: env({ APP_HANDLES_UNCAUGHT: '1' }) });
    const res = await app.get('/crash');
    expect(await res.json()).toEqual({ survived: true });
    await waitFor(() => app.output().includes('app handler caught: crash inside a request'));
    const ev = await waitFor(() => byValue('crash inside a request'));
    expect(ev.exception.values[0].mechanism.handled).toBe(false);
    expect((await app.get('/ok')).status).toBe(200);
    expect(app.child.exitCode).toBeNull();
  });

  it('an unhandled rejection in the default (throw) mode ends the process like Node, captured handled:false', async () => {
    const app = await startApp({ script: SCRIPT, env: env() });
    await app.get('/reject').catch(() => undefined);
    expect(await app.exited).toBe(1);
    expect(app.output()).toContain('Error: rejection nobody awaited');
    const ev = byValue('rejection nobody awaited');
    expect(ev?.exception.values[0].mechanism).toMatchObject({ type: 'auto.node.onunhandledrejection', handled: false });
    expect(sessionTotals().crashed).toBe(1);
  });

  for (const mode of ['breadcrumbs', 'off'] as const) {
    it(`OTEL_MONITOR_SENTRY_LOGS=${mode}: a pino error is no event; lower records are ${mode === 'off' ? 'not ' : ''}breadcrumbs`, async () => {
      const app = await startApp({ script: SCRIPT, env: env({ OTEL_MONITOR_SENTRY_LOGS: mode }) });
      expect((await app.get('/log-error')).status).toBe(200);
      expect((await app.get('/warn-then-fail')).status).toBe(500);
      const ev = await waitFor(() => byValue('inventory exhausted'));
      const crumbs = (ev.breadcrumbs ?? []).filter((b: { category?: string }) => b.category === 'pino');
      if (mode === 'off') expect(crumbs).toEqual([]);
      else expect(crumbs.map((b: { message?: string; level?: string }) => `${b.level}:${b.message}`)).toContain('warning:inventory low');
      await app.stop('SIGTERM');
      expect(byValue('payment provider timed out')).toBeUndefined();
    });
  }

  it("without Sentry, a crash still flushes the process's own spans and exits like Node", async () => {
    const app = await startApp({ script: SCRIPT, env: env({ SENTRY_DSN: '' }) });
    await app.get('/crash').catch(() => undefined);
    expect(await app.exited).toBe(1);
    expect(app.output()).toMatch(/Error: crash inside a request\n\s+at /);
    const pid = String(app.child.pid);
    const ended = otlp.spans().find((s) => String(s.resource['process.pid']) === pid && s.events.some((e) => e.attributes['exception.message'] === 'crash inside a request'));
    expect(ended?.status.code).toBe(2);
    expect(sentry.items()).toEqual([]);
  });

  it("the app's own unhandledRejection handler: Node does not throw, neither do we; still captured once", async () => {
    const app = await startApp({ script: SCRIPT, env: env({ APP_HANDLES_REJECTION: '1' }) });
    expect(await (await app.get('/reject')).json()).toEqual({ survived: true });
    await waitFor(() => app.output().includes('app rejection handler: rejection nobody awaited'));
    await app.stop('SIGTERM');
    expect(sentry.events().filter((e) => e.exception?.values?.[0]?.value === 'rejection nobody awaited')).toHaveLength(1);
  });

  it('--unhandled-rejections=strict: the process ends even with a rejection handler, captured once', async () => {
    const app = await startApp({ script: SCRIPT, env: env({ APP_HANDLES_REJECTION: '1' }), preload: ['--unhandled-rejections=strict', '--import', '@org/otel-monitor'] });
    await app.get('/reject').catch(() => undefined);
    expect(await app.exited).toBe(1);
    expect(app.output()).toContain('Error: rejection nobody awaited');
    const events = sentry.events().filter((e) => e.exception?.values?.[0]?.value === 'rejection nobody awaited');
    expect(events).toHaveLength(1);
    expect(events[0].exception.values[0].mechanism.handled).toBe(false);
  });

  it('--unhandled-rejections=warn: Node warns and goes on, the rejection is still captured', async () => {
    const app = await startApp({ script: SCRIPT, env: env(), preload: ['--unhandled-rejections=warn', '--import', '@org/otel-monitor'] });
    const res = await app.get('/reject');
    expect(await res.json()).toEqual({ survived: true });
    const ev = await waitFor(() => byValue('rejection nobody awaited'));
    expect(ev.exception.values[0].mechanism).toMatchObject({ type: 'auto.node.onunhandledrejection', handled: false });
    await waitFor(() => app.output().includes('rejection nobody awaited'), { what: "Node's warning on stderr" });
    expect(app.child.exitCode).toBeNull();
  });
});
