// pino records encoded at emit leave on every exit path (their bytes queue flushes and shuts down
// with the providers, sdk.ts flushAll), with a batch delay long enough that only the exit can send
// them: a process that runs out of work, SIGTERM with no handler of the app's, an app that drains
// and calls process.exit itself; and against a dead Collector the process still exits within the
// shutdown timeout, its one line on stderr counting the log records it could not deliver.
import { afterEach, describe, expect, it } from 'vitest';
import { withReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { startApp, ROOT, NODE24 } from '../helpers/app.js';
import { freePort, spawnTracked, stopAll, waitFor } from '../helpers/process.js';

afterEach(() => stopAll());

const LINES = 50;
const env = (endpoint: string) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
  OTEL_BLRP_SCHEDULE_DELAY: '60000',
  OTEL_METRICS_EXPORTER: 'none',
  OTEL_MONITOR_HOST_METRICS: 'false',
  LINES: String(LINES),
});
const exitLines = (r: OtlpReceiver) => r.logRecords().filter((l) => l.body === 'exit line' && l.scope === '@org/otel-monitor/pino');

function runToEnd(endpoint: string, extra: Record<string, string> = {}) {
  const t = spawnTracked(NODE24, ['--import', '@org/otel-monitor', 'test/fixtures/pino-exit-app.mjs'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', OTEL_LOG_LEVEL: 'warn', MODE: 'natural', ...env(endpoint), ...extra },
  });
  const code = Promise.race([t.exited, new Promise((ok) => setTimeout(() => ok('still running'), 60_000))]);
  return { t, code };
}

describe('pino records encoded at emit, at exit', () => {
  it('a process that runs out of work: every line delivered, exit code 0', async () => {
    await withReceiver(async (r) => {
      const { t, code } = runToEnd(r.url);
      expect(await code, t.output()).toBe(0);
      expect(exitLines(r)).toHaveLength(LINES);
    });
  });

  it('SIGTERM, the app has no handler: every line delivered, then the signal', async () => {
    await withReceiver(async (r) => {
      const app = await startApp({ script: 'test/fixtures/pino-exit-app.mjs', env: env(r.url) });
      expect((await app.get('/')).status).toBe(200);
      expect(await app.stop('SIGTERM')).toBe('SIGTERM');
      expect(exitLines(r)).toHaveLength(LINES);
    });
  });

  it('SIGTERM, the app drains and calls process.exit(42): every line delivered, its exit code kept', async () => {
    await withReceiver(async (r) => {
      const app = await startApp({ script: 'test/fixtures/pino-exit-app.mjs', env: { ...env(r.url), OWN_SIGTERM_HANDLER: '1' } });
      expect((await app.get('/')).status).toBe(200);
      expect(await app.stop('SIGTERM')).toBe(42);
      await waitFor(() => exitLines(r).length === LINES, { timeoutMs: 5000, what: 'every line' });
    });
  });

  it('a dead Collector: exits within the shutdown timeout, one line counting the log records lost', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const { t, code } = runToEnd(dead, { OTEL_MONITOR_SHUTDOWN_TIMEOUT: '1000', OTEL_EXPORTER_OTLP_TIMEOUT: '30000' });
    expect(await code).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
    const stderr = t.output().split('\n').filter((l) => l && !l.startsWith('done '));
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toMatch(new RegExp(`^\\[otel-monitor\\] warn: telemetry not delivered at exit: dropped (\\d+ spans, )?${LINES} log records`));
  });
});
