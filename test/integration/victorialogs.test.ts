// A real log store behind the real Collector: the logs app's records go app → OTLP → our Collector
// (its otlp_http/victorialogs exporter, OTELCOL_LOGS_EXPORTERS) → VictoriaLogs, and come back by
// LogsQL with their trace and span ids, release tags, severity and request id, with no secret of
// the leak corpus anywhere in the store. The Loki stand-in (logs.test.ts, dashboards.test.ts)
// stays for Loki's own path, labels and payload contract. Needs `npm run build`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startApp, type RunningApp } from '../helpers/app.js';
import { stopAll, waitFor } from '../helpers/process.js';
import { startCollector } from '../helpers/stack.js';
import { startVictoriaLogs, type RunningVictoriaLogs } from '../helpers/victorialogs.js';

const SERVICE = 'vl-logs-app';
const SECRETS = Array.from({ length: 11 }, (_, i) => `S3cret-${i + 1}`);
let vl: RunningVictoriaLogs;
let app: RunningApp;

const ofService = `"service.name":="${SERVICE}"`;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  vl = await startVictoriaLogs();
  const collector = await startCollector({
    env: { VICTORIALOGS_ENDPOINT: vl.url, OTELCOL_LOGS_EXPORTERS: '[otlp_http/victorialogs]', OTELCOL_TRACES_EXPORTERS: '[debug]' },
  });
  app = await startApp({
    script: 'test/fixtures/logs-app.mjs',
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttp,
      OTEL_SERVICE_NAME: SERVICE,
      OTEL_RESOURCE_ATTRIBUTES: 'service.version=9.9.9,deployment.environment.name=staging',
      OTEL_METRICS_EXPORTER: 'none',
    },
  });
  expect((await app.get('/log', { 'x-request-id': 'vl-req-1' })).status).toBe(200);
  // Records are searchable once VictoriaLogs has flushed them (about a second after ingestion).
  await waitFor(async () => (await vl.query(`${ofService} _msg:="app corpus"`)).length > 0 && (await vl.query(`${ofService} _msg:="failed"`)).length > 0, {
    timeoutMs: 60_000,
    intervalMs: 1000,
    what: 'the logs app records in VictoriaLogs',
  }).catch((err: Error) => {
    throw new Error(`${err.message}\nVictoriaLogs:\n${vl.proc.output().split("goroutine ")[0]!.slice(-4000)}\nCollector:\n${collector.proc.output().slice(-3000)}`);
  });
}, 180_000);

afterAll(() => stopAll());

describe('VictoriaLogs through the real Collector', () => {
  it('our logger: trace and span ids, release tags, severity and request id, by LogsQL', async () => {
    const [corpus] = await vl.query(`${ofService} _msg:="corpus"`);
    expect(corpus).toMatchObject({
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
      'service.version': '9.9.9',
      'deployment.environment.name': 'staging',
      severity_text: 'INFO',
      severity_number: '9',
      'otel_monitor.request.id': 'vl-req-1',
      // Redacted by the app ([REDACTED]), and the key masked again by the Collector's redaction processor.
      password: '****',
      'headers.authorization': '[REDACTED]',
    });
    // The same request: the app's own pino line and our logger's error carry the same trace.
    const [failed] = await vl.query(`${ofService} _msg:="failed"`);
    expect(failed).toMatchObject({ severity_text: 'ERROR', severity_number: '17', trace_id: corpus!.trace_id, 'otel_monitor.request.id': 'vl-req-1' });
    const byTrace = await vl.query(`trace_id:="${corpus!.trace_id}"`);
    expect(byTrace.map((r) => r._msg).sort()).toEqual(expect.arrayContaining(['app corpus', 'corpus', 'failed']));
    // The service is the log stream; the release a field within it.
    expect((await vl.query(`{"service.name"="${SERVICE}"} "service.version":="9.9.9"`)).length).toBeGreaterThanOrEqual(4);
    expect(await vl.query(`{"service.name"="${SERVICE}"} "service.version":="0.0.0"`)).toEqual([]);
  });

  it('severity filters by level, as a dashboard would', async () => {
    const errors = await vl.query(`${ofService} severity_number:>=17`);
    expect(errors.map((r) => r._msg)).toEqual(['failed']);
    const warnings = await vl.query(`${ofService} severity_text:=WARN`);
    expect(warnings.map((r) => r._msg)).toHaveLength(1);
    // The app redacted the token; the Collector's redaction masks the credential-looking rest.
    expect(warnings[0]!._msg).toMatch(/^message with \?\*{4}/);
  });

  it('no secret of the leak corpus is stored, in any field of any record', async () => {
    const all = await vl.query(`${ofService}`);
    expect(all.length).toBeGreaterThanOrEqual(4);
    const text = JSON.stringify(all);
    for (const secret of SECRETS) {
      const at = text.indexOf(secret);
      expect(at === -1 ? '' : text.slice(Math.max(0, at - 200), at + 50), secret).toBe('');
    }
    // And a full-text search of the store for each one finds nothing.
    for (const secret of SECRETS) expect(await vl.query(`"${secret}"`), secret).toEqual([]);
  });
});
