import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { startSentryReceiver } from '../helpers/sentry-receiver.js';
import { startApp } from '../helpers/app.js';
import { stopAll, waitFor } from '../helpers/process.js';

afterEach(() => stopAll());

describe('Sentry (errors and release health)', () => {
  it('sends a handled-by-express error with the release, the OTel trace id and no secrets; sessions on shutdown', async () => {
    const otlp = await startOtlpReceiver();
    const sentry = await startSentryReceiver();
    try {
      const app = await startApp({
        script: 'examples/app.js',
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
          SENTRY_DSN: sentry.dsn,
          OTEL_MONITOR_RELEASE: 'shop@2.0.0',
          OTEL_MONITOR_ENVIRONMENT: 'production',
        },
      });
      expect(app.output()).not.toContain(sentry.dsn);
      await app.get('/users/1');
      expect((await app.get('/fail?token=qs-S3CRET', { authorization: 'Bearer hdr-S3CRET', cookie: 'sid=ck-S3CRET' })).status).toBe(500);

      const [event] = await sentry.waitForItems('event', (e) => e.length > 0, 20_000);
      expect(event.release).toBe('shop@2.0.0');
      expect(event.environment).toBe('production');
      const ex = event.exception.values[0];
      expect(ex.value).toBe('deliberate failure for monitoring checks');
      expect(ex.stacktrace.frames.length).toBeGreaterThan(0);
      const server = await waitFor(() => otlp.spans().find((s) => s.kind === 2 && s.attributes['http.route'] === '/fail'));
      expect(event.contexts.trace.trace_id).toBe(server.traceId);
      expect(JSON.stringify(sentry.envelopes)).not.toMatch(/S3CRET/);
      // Sentry's envelope POSTs are the distribution's own traffic: no client span, and no point in
      // the app's http.client.request.duration (instrumentation-http records it even untraced).
      const sentryPort = Number(new URL(sentry.dsn).port);
      const metricsAfterEvent = otlp.metrics().length;
      await waitFor(() => otlp.metrics().length > metricsAfterEvent + 1, { what: 'two metric exports after the event' });
      const toSentry = otlp.points('http.client.request.duration').filter((p) => p.attributes['server.port'] === sentryPort);
      expect(toSentry).toEqual([]);
      expect(otlp.spans().filter((s) => s.kind === 3 && s.attributes['server.port'] === sentryPort)).toEqual([]);

      await app.stop('SIGTERM');
      // Server-mode release health: request sessions aggregated per release.
      const sessions = await waitFor(() => sentry.sessions().length > 0 && sentry.sessions(), { timeoutMs: 15_000, what: 'sessions' });
      expect(JSON.stringify(sessions)).toContain('shop@2.0.0');
      expect(sentry.rejected).toEqual([]);
    } finally {
      await otlp.close();
      await sentry.close();
    }
  });
});
