// Our `logger` and the app's own pino, end to end under `node --import @org/otel-monitor`: every
// destination (stdout, OTLP, rotating file) receives the records with their trace and request
// ids, and the secret corpus reaches none of them. Needs `npm run build`.
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startApp, type RunningApp } from '../helpers/app.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { stopAll, waitFor } from '../helpers/process.js';

const SECRETS = Array.from({ length: 11 }, (_, i) => `S3cret-${i + 1}`);
let receiver: OtlpReceiver;
let app: RunningApp;
let optOut: RunningApp;
let pretty: RunningApp;
let dir: string;
/** The log file(s) before rotation removed the oldest ones. */
let fileAtStart = '';

const lines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  receiver = await startOtlpReceiver();
  dir = mkdtempSync(join(tmpdir(), 'otel-monitor-logs-'));
  const env = (service: string, extra: Record<string, string>) => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_SERVICE_NAME: service,
    OTEL_RESOURCE_ATTRIBUTES: 'service.version=9.9.9',
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_METRICS_EXPORTER: 'none',
    ...extra,
  });
  [app, optOut, pretty] = await Promise.all([
    startApp({
      script: 'test/fixtures/logs-app.mjs',
      env: env('logs-app', { OTEL_MONITOR_LOGGER_FILE: join(dir, 'app.log'), OTEL_MONITOR_LOGGER_FILE_SIZE: '4k', OTEL_MONITOR_LOGGER_FILE_COUNT: '3' }),
    }),
    startApp({ script: 'test/fixtures/logs-app.mjs', env: env('logs-optout', { OTEL_MONITOR_REDACT_APP_LOGS: 'false', OTEL_MONITOR_LOGGER_DESTINATIONS: 'stdout' }) }),
    startApp({ script: 'test/fixtures/logs-app.mjs', env: env('logs-pretty', { OTEL_MONITOR_LOGGER_PRETTY: 'true', OTEL_MONITOR_LOGGER_DESTINATIONS: 'stdout' }) }),
  ]);
  expect((await app.get('/log', { 'x-request-id': 'logs-req-1' })).status).toBe(200);
  expect((await optOut.get('/log')).status).toBe(200);
  expect((await pretty.get('/log')).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await stopAll();
  await receiver?.close();
});

describe('logger', () => {
  it('stdout: JSON with trace id, span id, request id, service and release, secrets redacted', async () => {
    const corpus = await waitFor(() => lines(app.output()).find((l) => l.msg === 'corpus'), { what: 'the corpus line' });
    expect(corpus).toMatchObject({
      service: 'logs-app',
      release: '9.9.9',
      request_id: 'logs-req-1',
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
      password: '[REDACTED]',
      headers: { authorization: '[REDACTED]', Cookie: '[REDACTED]' },
      user: { profile: { token: '[REDACTED]' } },
      db: 'postgres://app:[REDACTED]@db/app',
      callback: 'https://x.example/cb?token=[REDACTED]&ok=1',
    });
    const failed = lines(app.output()).find((l) => l.msg === 'failed')!;
    expect(failed.err.message).toBe('login failed for postgres://app:[REDACTED]@db/app with api_key=[REDACTED]');
  });

  it('OTLP: the records with their trace context and request id, redacted', async () => {
    const records = await waitFor(
      () => {
        const r = receiver.logRecords().filter((l) => l.resource['service.name'] === 'logs-app');
        return r.some((l) => l.body === 'corpus') && r.some((l) => l.body === 'app corpus') ? r : undefined;
      },
      { timeoutMs: 20_000, what: 'the OTLP log records' },
    );
    const corpus = records.find((l) => l.body === 'corpus' && l.scope === '@org/otel-monitor/logger')!;
    expect(corpus.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(corpus.attributes).toMatchObject({ 'otel_monitor.request.id': 'logs-req-1', password: '[REDACTED]' });
    expect(corpus.resource['service.version']).toBe('9.9.9');
    // One record per log call: the pino instrumentation does not send our logger's lines a second time.
    expect(records.filter((l) => l.body === 'corpus')).toHaveLength(1);
    const failed = records.find((l) => l.body === 'failed')!;
    expect(failed.severityText).toBe('ERROR');
    expect(failed.attributes['exception.message']).toContain('[REDACTED]');
  });

  it('file: the corpus record, redacted, with its request id', async () => {
    fileAtStart = await waitFor(
      () => {
        const all = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
        return all.includes('"msg":"failed"') ? all : undefined;
      },
      { timeoutMs: 10_000, what: 'the corpus in the log file' },
    );
    expect(lines(fileAtStart).find((l) => l.msg === 'corpus')).toMatchObject({ request_id: 'logs-req-1', password: '[REDACTED]', service: 'logs-app' });
  });

  it('file: the records in a file rotated at the configured size', async () => {
    // Separate requests, apart in time: pino-roll checks the size after each write it receives.
    for (let i = 0; i < 12; i++) {
      expect((await app.get('/bulk?n=10')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 150));
    }
    const files = await waitFor(
      () => {
        const f = readdirSync(dir).filter((n) => n.startsWith('app'));
        return f.length >= 3 ? f : undefined;
      },
      { timeoutMs: 10_000, what: 'rotated log files' },
    );
    const all = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    expect(lines(all).filter((l) => l.msg === 'bulk').length).toBeGreaterThan(20);
    // Each rolled file was closed once it had reached 4 KiB, one ~3 KiB burst at most beyond it.
    const numbered = files.map((f) => ({ f, n: Number(/(\d+)/.exec(f)?.[1]), size: statSync(join(dir, f)).size })).sort((a, b) => a.n - b.n);
    for (const { f, size } of numbered.slice(0, -1)) {
      expect(size, f).toBeGreaterThanOrEqual(4096);
      expect(size, f).toBeLessThan(4096 + 4096);
    }
    // At most OTEL_MONITOR_LOGGER_FILE_COUNT files are kept (pino-roll's limit.count).
    expect(files.length, files.join(' ')).toBeLessThanOrEqual(4);
  });
});

describe('logger, pretty', () => {
  it('OTEL_MONITOR_LOGGER_PRETTY=true: pino-pretty lines from the already redacted record', async () => {
    await waitFor(() => pretty.output().includes('failed'), { what: 'the pretty lines' });
    const out = pretty.output();
    expect(out).toMatch(/INFO.*corpus/);
    expect(out).toMatch(/password: "\[REDACTED\]"/);
    expect(out).toContain('postgres://app:[REDACTED]@db/app');
    expect(lines(out).find((l) => l.msg === 'corpus')).toBeUndefined();
    for (const secret of SECRETS) expect(out.includes(secret), secret).toBe(false);
  });
});

describe("the app's own pino", () => {
  it('gets the redaction keys (top level and credential headers), with its trace and request ids; OTEL_MONITOR_REDACT_APP_LOGS=false opts out', async () => {
    const line = await waitFor(() => lines(app.output()).find((l) => l.msg === 'app corpus'), { what: "the app's line" });
    expect(line).toMatchObject({ password: '[REDACTED]', req: { headers: { authorization: '[REDACTED]' } }, userId: 7, request_id: 'logs-req-1' });
    const clear = await waitFor(() => lines(optOut.output()).find((l) => l.msg === 'app corpus'), { what: "the opted-out app's line" });
    expect(clear).toMatchObject({ password: 'app-S3cret-9', req: { headers: { authorization: 'Bearer app-S3cret-10' } } });
  });
});

describe('the secret corpus', () => {
  it('appears in no destination: stdout/stderr, file, OTLP', async () => {
    await waitFor(() => receiver.logRecords().some((l) => l.body === 'bulk'), { timeoutMs: 20_000, what: 'the bulk records exported' });
    const file = [fileAtStart, ...readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8'))].join('\n');
    const otlp = JSON.stringify(receiver.logRecords().filter((l) => l.resource['service.name'] === 'logs-app'));
    const spans = JSON.stringify(receiver.spans());
    for (const [where, text] of Object.entries({ stdout: app.output(), file, otlp, spans })) {
      for (const secret of SECRETS) {
        const at = text.indexOf(secret);
        expect(at === -1 ? '' : text.slice(Math.max(0, at - 300), at + 50), `${secret} in ${where}`).toBe('');
      }
    }
    expect(file).toContain('corpus');
    expect(otlp).toContain('corpus');
  });
});
