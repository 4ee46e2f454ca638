// The instrumented libraries behave under the preload as they do without it (issue 11). Each case
// is distilled from a test of the library's own suite that failed under --import.
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, NODE24 } from '../helpers/app.js';
import { spawnTracked, stopAll } from '../helpers/process.js';

afterEach(async () => {
  await stopAll();
});

const QUIET = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' };

/** Runs a fixture once bare and once under the preload; returns the last stdout line of each, parsed. */
async function bareAndPreloaded<T>(script: string, env: Record<string, string> = {}): Promise<{ bare: T; preloaded: T; log: string }> {
  const run = async (preload: string[]) => {
    const p = spawnTracked(NODE24, [...preload, script], { cwd: ROOT, env: { ...QUIET, ...env } });
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
