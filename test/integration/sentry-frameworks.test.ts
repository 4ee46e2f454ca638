// A framework error turned into a 500 is one Sentry event, handled: true, with the route, method,
// release, environment and the OTel trace and span ids: Express 4 and 5, Fastify, Koa.
// Express 4 and Koa are not dependencies of the package: test/fixtures/frameworks has its own
// package.json, installed here with npm ci when missing.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { startSentryReceiver, type SentryReceiver } from '../helpers/sentry-receiver.js';
import { ROOT, startApp } from '../helpers/app.js';
import { stopAll, waitFor } from '../helpers/process.js';

const DIR = join(ROOT, 'test/fixtures/frameworks');
let otlp: OtlpReceiver;
let sentry: SentryReceiver;

beforeAll(async () => {
  if (!existsSync(join(DIR, 'node_modules/koa'))) {
    execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: DIR, stdio: 'inherit' });
  }
  otlp = await startOtlpReceiver();
  sentry = await startSentryReceiver();
}, 300_000);
afterEach(async () => {
  await stopAll();
  sentry.clear();
});
afterAll(async () => {
  await otlp.close();
  await sentry.close();
});

const cases = [
  // Express 5 (with a channel-publishing router) is installed further up: Express 4 must still be traced.
  { name: 'Express 4', script: 'test/fixtures/frameworks/express4-app.mjs', paths: ['/orders/1', '/async/2'], messages: ['express4 sync failure', 'express4 async failure'], routes: ['/orders/:id', '/async/:id'] },
  { name: 'Express 5', script: 'test/fixtures/crash-app.mjs', paths: ['/orders/1'], messages: ['order lookup failed'], routes: ['/orders/:id'] },
  { name: 'Fastify', script: 'test/fixtures/frameworks/fastify-app.mjs', paths: ['/orders/1'], messages: ['fastify handler failure'], routes: ['/orders/:id'] },
  { name: 'Koa', script: 'test/fixtures/frameworks/koa-app.mjs', paths: ['/orders/1'], messages: ['koa handler failure'], routes: ['/orders/:id'] },
];

describe('framework errors in Sentry', () => {
  for (const c of cases) {
    it(`${c.name}: one handled event per error with route, method, release, environment, trace and span ids`, async () => {
      const app = await startApp({
        script: c.script,
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, SENTRY_DSN: sentry.dsn, OTEL_MONITOR_RELEASE: 'fw@1.0.0', OTEL_MONITOR_ENVIRONMENT: 'test' },
      });
      for (const p of c.paths) expect((await app.get(`${p}?password=S3CRET`)).status).toBe(500);
      await app.stop('SIGTERM');
      for (const [i, message] of c.messages.entries()) {
        const events = sentry.events().filter((e) => e.exception?.values?.[0]?.value === message);
        expect(events, `${message}: ${JSON.stringify(sentry.events().map((e) => e.exception?.values?.[0]?.value))}`).toHaveLength(1);
        const [event] = events;
        expect(event.exception.values[0].mechanism).toMatchObject({ type: 'otel-monitor.http', handled: true });
        expect(event.release).toBe('fw@1.0.0');
        expect(event.environment).toBe('test');
        expect(event.tags['http.route']).toBe(c.routes[i]);
        expect(event.tags['http.request.method']).toBe('GET');
        expect(event.transaction).toBe(`GET ${c.routes[i]}`);
        const server = await waitFor(() => otlp.spans().find((s) => s.kind === 2 && s.traceId === event.contexts.trace.trace_id));
        expect(server.resource['service.version']).toBe('fw@1.0.0');
        // Seen once in CI (Koa): the event's span missing while its server span had arrived. The
        // message says what the trace held and what the app printed, to tell a lost export from a
        // wrong span id if it happens again.
        const trace = otlp.spans().filter((s) => s.traceId === event.contexts.trace.trace_id);
        const seen = JSON.stringify({ event: event.contexts.trace, trace: trace.map((s) => [s.name, s.spanId, s.parentSpanId]), rejected: otlp.rejected, output: app.output() });
        expect(trace.some((s) => s.spanId === event.contexts.trace.span_id), seen).toBe(true);
      }
      expect(JSON.stringify(sentry.envelopes)).not.toContain('S3CRET');
      expect(sentry.items().map((i) => i.type)).not.toContain('transaction');
      // Sentry's own envelope requests are not the app's traffic (they were POST spans in its traces).
      const envelopePosts = otlp.spans().filter((s) => String(s.attributes['url.full'] ?? '').includes('/envelope/'));
      expect(envelopePosts.map((s) => s.name)).toEqual([]);
    }, 60_000);
  }
});

describe('OTEL_MONITOR_PROFILING=sentry', () => {
  it('sends profile chunks from @sentry/profiling-node installed in the app, and still no transaction', async () => {
    const app = await startApp({
      script: 'test/fixtures/frameworks/profile-app.mjs',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, SENTRY_DSN: sentry.dsn, OTEL_MONITOR_PROFILING: 'sentry' },
    });
    for (let i = 0; i < 3; i++) expect((await app.get('/')).status).toBe(200);
    await app.stop('SIGTERM');
    expect(app.output()).not.toContain('profiling is off');
    const chunks = sentry.items('profile_chunk');
    expect(chunks.length, `items: ${sentry.items().map((i) => i.type).join(', ')}`).toBeGreaterThan(0);
    expect(chunks[0].payload.profile.samples.length).toBeGreaterThan(0);
    expect(sentry.items().map((i) => i.type)).not.toContain('transaction');
  }, 60_000);

  it('without the package installed: one warning, the app runs', async () => {
    const app = await startApp({
      script: 'test/fixtures/crash-app.mjs',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, SENTRY_DSN: sentry.dsn, OTEL_MONITOR_PROFILING: 'sentry' },
    });
    expect((await app.get('/ok')).status).toBe(200);
    await app.stop('SIGTERM');
    expect(app.output().match(/OTEL_MONITOR_PROFILING=sentry but @sentry\/profiling-node is not installed: profiling is off/g)).toHaveLength(1);
    expect(sentry.items('profile_chunk')).toEqual([]);
  }, 60_000);
});
