// The instrumented libraries behave under the preload as they do without it (issue 11). Each case
// is distilled from a test of the library's own suite that failed under --import.
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, NODE24 } from '../helpers/app.js';
import { spawnTracked, stopAll, waitFor } from '../helpers/process.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';

afterEach(async () => {
  await stopAll();
});

const QUIET = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' };

/** Runs a fixture once bare and once under the preload; returns the last stdout line of each, parsed. */
async function bareAndPreloaded<T>(script: string, env: Record<string, string> = {}, viaNodeOptions = false): Promise<{ bare: T; preloaded: T; log: string }> {
  const run = async (preload: string[]) => {
    const args = viaNodeOptions ? [script] : [...preload, script];
    const nodeOptions: Record<string, string> = viaNodeOptions && preload.length ? { NODE_OPTIONS: preload.join(' ') } : {};
    const p = spawnTracked(NODE24, args, { cwd: ROOT, env: { ...QUIET, ...env, ...nodeOptions } });
    const code = await p.exited;
    const out = p.output();
    expect(code, out).toBe(0);
    const line = out.split('\n').filter((l) => l.startsWith('{')).pop();
    return { value: JSON.parse(line ?? 'null') as T, out };
  };
  const bare = await run([]);
  const preloaded = await run(['--import', '@org/otel-monitor']);
  return { bare: bare.value, preloaded: preloaded.value, log: preloaded.out };
}

describe('Koa under the preload', () => {
  it('lets Koa validate app.use arguments itself: null, {} and strings are rejected with its own TypeError', async () => {
    type Out = Record<'wrapped' | 'null' | 'object' | 'string' | 'fn', string | boolean>;
    const { bare, preloaded, log } = await bareAndPreloaded<Out>('test/fixtures/koa-use.mjs');
    expect(bare.wrapped).toBe(false);
    // The instrumentation really engaged, or this test would prove nothing.
    expect(preloaded.wrapped, log).toBe(true);
    expect(bare.null).toMatch(/^TypeError: middleware must be a function/);
    expect(preloaded).toEqual({ ...bare, wrapped: true });
  });
});

describe('worker threads under the preload', () => {
  type Out = { mainSdk: boolean; appWorkerSdk: boolean; transportSdk: boolean; logged: string };
  const startedLines = (log: string) => log.split('\n').filter((l) => l.startsWith('[otel-monitor] info: started')).length;

  it("starts no SDK in a pino transport's worker, and keeps it in the app's own worker", async () => {
    // NODE_OPTIONS reaches every worker (pino only strips a preload from the transport's execArgv).
    const { bare, preloaded, log } = await bareAndPreloaded<Out>('test/fixtures/pino-worker-app.mjs', {}, true);
    expect(bare).toEqual({ mainSdk: false, appWorkerSdk: false, transportSdk: false, logged: 'hello from main' });
    expect(preloaded, log).toEqual({ mainSdk: true, appWorkerSdk: true, transportSdk: false, logged: 'hello from main' });
    // One start-up line for the main thread and one for the app's worker; none from the transport.
    expect(startedLines(log), log).toBe(2);
  });

  it('starts no SDK in any worker thread with OTEL_MONITOR_WORKERS=false', async () => {
    const { preloaded, log } = await bareAndPreloaded<Out>('test/fixtures/pino-worker-app.mjs', { OTEL_MONITOR_WORKERS: 'false' }, true);
    expect(preloaded, log).toEqual({ mainSdk: true, appWorkerSdk: false, transportSdk: false, logged: 'hello from main' });
    expect(startedLines(log), log).toBe(1);
  });
});

describe('Fastify 5 under the preload', () => {
  type Out = { hooks: unknown; thrown: Record<string, string>; onRoute: unknown; sameShape: unknown; sameShapeMs: number };
  let fastifyRuns: { bare: Out; preloaded: Out; log: string } | undefined;
  const runs = async () => (fastifyRuns ??= await bareAndPreloaded<Out>('test/fixtures/fastify-checks.mjs'));

  it('keeps hook validation, thrown null/undefined/symbol, onRoute options and the plugin list as they are', async () => {
    const { bare, preloaded, log } = await runs();
    expect(log).toMatch(/instrumentations=[^ ]*fastify/);
    expect(bare.hooks).toMatchObject({ invalidHook: 'FST_ERR_HOOK_INVALID_HANDLER', asyncWithCallback: 'FST_ERR_HOOK_INVALID_ASYNC_HANDLER', plugins: false });
    expect(bare.thrown['/null']).toBe('500 null');
    expect(preloaded.hooks).toEqual(bare.hooks);
    expect(preloaded.thrown).toEqual(bare.thrown);
    expect(preloaded.onRoute).toEqual(bare.onRoute);
  });

  it('stores nothing on the request, so deepStrictEqual of two requests stays fast', async () => {
    const { bare, preloaded } = await runs();
    expect(preloaded.sameShape).toEqual(bare.sameShape);
    // Generous: the comparison took 0.3 s bare and 6-50 s with a span and a context on each request.
    expect(preloaded.sameShapeMs).toBeLessThan(Math.max(3000, bare.sameShapeMs * 4));
  });
});

describe('pino under the preload', () => {
  type Line = { msg: string; level: number; order?: number; note?: string; component?: string; correlated: boolean };
  type Out = { sameStream: boolean; lines: Line[] };

  it("keeps the app's destination, adds only trace_id/span_id/trace_flags inside a span, and still sends the lines", async () => {
    const r = await startOtlpReceiver();
    try {
      const { bare, preloaded, log } = await bareAndPreloaded<Out>('test/fixtures/pino-destination.mjs', {
        OTEL_LOGS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: r.url,
      });
      expect(bare.sameStream).toBe(true);
      expect(preloaded.sameStream, log).toBe(true);
      // Log correlation is the one intended change: the line inside the span carries the trace id.
      expect(preloaded.lines).toEqual(bare.lines.map((l) => ({ ...l, correlated: l.msg === 'inside a span' })));
      expect(bare.lines[0]).toMatchObject({ order: 7, note: '***', component: 'billing' });

      const sent = await waitFor(() => r.logRecords().find((l) => l.body === 'inside a span'), { what: 'pino log record' });
      expect(sent.severityText).toBe('warn');
      expect(sent.attributes).toMatchObject({ order: 7, note: '***', component: 'billing' });
      expect(sent.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(Object.keys(sent.attributes)).not.toContain('trace_id');
      expect(r.logRecords().find((l) => l.body === 'outside')?.severityText).toBe('info');
    } finally {
      await r.close();
    }
  });

  it('with OTEL_MONITOR_LOG_CORRELATION=false, writes the lines exactly as bare, and the records still carry the trace', async () => {
    const r = await startOtlpReceiver();
    try {
      const env = { OTEL_LOGS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_MONITOR_LOG_CORRELATION: 'false' };
      const { bare, preloaded, log } = await bareAndPreloaded<Out>('test/fixtures/pino-destination.mjs', env);
      expect(preloaded, log).toEqual(bare);
      const sent = await waitFor(() => r.logRecords().find((l) => l.body === 'inside a span'), { what: 'pino log record' });
      expect(sent.traceId).toMatch(/^[0-9a-f]{32}$/);
    } finally {
      await r.close();
    }
  });
});
