import { SpanStatusCode, trace } from '@opentelemetry/api';
import ts from 'typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { monitorTask, taskWithStatusReport } from '../../src/api/tasks.js';
import { ATTR_ERROR_TYPE, ATTR_TASK_NAME, ATTR_TASK_SCHEDULE } from '../../src/semconv.js';
import { startTestOtel, type TestOtel } from './tasks-otel.js';

let otel: TestOtel;
beforeEach(() => {
  otel = startTestOtel();
});
afterEach(async () => {
  await otel.shutdown();
});

const ended = () => otel.spans.getFinishedSpans();

describe('monitorTask', () => {
  it('returns a sync value unchanged and marks the span ok', () => {
    const value = { a: 1 };
    expect(monitorTask('sync_ok', () => value)).toBe(value);
    const [span] = ended();
    expect(span?.name).toBe('task sync_ok');
    expect(span?.attributes[ATTR_TASK_NAME]).toBe('sync_ok');
    expect(span?.status.code).toBe(SpanStatusCode.OK);
  });

  it('rethrows the same sync error and records it on the span', () => {
    class PriceFeedDown extends Error {}
    const err = new PriceFeedDown('feed down');
    let caught: unknown;
    try {
      monitorTask('sync_fail', () => {
        throw err;
      });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(err);
    const [span] = ended();
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'feed down' });
    expect(span?.attributes[ATTR_ERROR_TYPE]).toBe('PriceFeedDown');
    expect(span?.events[0]?.name).toBe('exception');
    expect(span?.events[0]?.attributes?.['exception.message']).toBe('feed down');
  });

  it('passes through non-Error throws', () => {
    expect(() =>
      monitorTask('throws_string', () => {
        throw 'plain string';
      }),
    ).toThrow('plain string');
    expect(ended()[0]?.attributes[ATTR_ERROR_TYPE]).toBe('_OTHER');
  });

  it('resolves async values unchanged and ends the span only when settled', async () => {
    let release!: (v: number) => void;
    const p = monitorTask('async_ok', () => new Promise<number>((r) => (release = r)));
    await Promise.resolve();
    expect(ended()).toHaveLength(0);
    release(42);
    await expect(p).resolves.toBe(42);
    expect(ended()[0]?.status.code).toBe(SpanStatusCode.OK);
  });

  it('rejects with the same error for async failures', async () => {
    const err = new TypeError('bad');
    await expect(
      monitorTask('async_fail', async () => {
        throw err;
      }),
    ).rejects.toBe(err);
    expect(ended()[0]?.status.code).toBe(SpanStatusCode.ERROR);
    expect(ended()[0]?.attributes[ATTR_ERROR_TYPE]).toBe('TypeError');
  });

  it('makes the task span the active span, also across await', async () => {
    await monitorTask('ctx', async (span) => {
      expect(trace.getActiveSpan()).toBe(span);
      await new Promise((r) => setTimeout(r, 1));
      expect(trace.getActiveSpan()).toBe(span);
    });
  });

  it('stores the Sentry monitor options as span attributes', () => {
    monitorTask('scheduled', () => 1, { schedule: '0 * * * *', attributes: { 'app.batch': 3 } });
    expect(ended()[0]?.attributes[ATTR_TASK_SCHEDULE]).toBe('0 * * * *');
    expect(ended()[0]?.attributes['app.batch']).toBe(3);
  });

  it('rejects an empty task name', () => {
    expect(() => monitorTask('', () => 1)).toThrow(TypeError);
  });

  it('is a no-op wrapper without an SDK', async () => {
    await otel.shutdown();
    expect(monitorTask('no_sdk', () => 'x')).toBe('x');
    await expect(monitorTask('no_sdk', async () => 'y')).resolves.toBe('y');
    otel = startTestOtel();
  });
});

// Vitest's transformer does not lower standard decorators, so the decorated class is compiled by
// the TypeScript compiler itself (ES2022 target, experimentalDecorators off): exactly what users
// of the published package get from `tsc`.
function compileDecorated(source: string): Record<string, any> {
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, experimentalDecorators: false },
  });
  const module = { exports: {} as Record<string, any> };
  new Function('module', 'exports', 'require', outputText)(module, module.exports, (id: string) => {
    if (id === 'otel-monitor-api') return { taskWithStatusReport };
    throw new Error(`unexpected require ${id}`);
  });
  return module.exports;
}

const decorated = compileDecorated(`
  import { taskWithStatusReport } from 'otel-monitor-api';
  export class Jobs {
    prices = [1, 2];
    @taskWithStatusReport()
    importPrices(extra: number) { return [...this.prices, extra]; }
    @taskWithStatusReport('pluginA_myFunction')
    async myFunction() { await new Promise((r) => setTimeout(r, 1)); return this.prices.length; }
    @taskWithStatusReport()
    failing() { throw new RangeError('out of range: ' + this.prices.length); }
    @taskWithStatusReport
    bare() { return this; }
    @taskWithStatusReport()
    static cleanup() { return this.name; }
    @taskWithStatusReport()
    #secret() { return 's'; }
    callSecret() { return this.#secret(); }
  }
`);

describe('@taskWithStatusReport (standard decorators, compiled by tsc)', () => {
  it('keeps this, arguments and return value; names the task after the method', () => {
    const jobs = new decorated.Jobs();
    expect(jobs.importPrices(3)).toEqual([1, 2, 3]);
    expect(ended()[0]?.attributes[ATTR_TASK_NAME]).toBe('importPrices');
    expect(jobs.importPrices.name).toBe('importPrices');
  });

  it('uses a custom name and awaits async methods', async () => {
    await expect(new decorated.Jobs().myFunction()).resolves.toBe(2);
    expect(ended()[0]?.attributes[ATTR_TASK_NAME]).toBe('pluginA_myFunction');
    expect(ended()[0]?.status.code).toBe(SpanStatusCode.OK);
  });

  it('rethrows the same error with this intact', () => {
    expect(() => new decorated.Jobs().failing()).toThrow(new RangeError('out of range: 2'));
    expect(ended()[0]?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('works bare, on static methods and on private methods', () => {
    const jobs = new decorated.Jobs();
    expect(jobs.bare()).toBe(jobs);
    expect(decorated.Jobs.cleanup()).toBe('Jobs');
    expect(jobs.callSecret()).toBe('s');
    expect(ended().map((s) => s.attributes[ATTR_TASK_NAME])).toEqual(['bare', 'cleanup', 'secret']);
  });

  it('refuses to decorate a getter', () => {
    expect(() => compileDecorated(`
      import { taskWithStatusReport } from 'otel-monitor-api';
      export class X { @taskWithStatusReport() get y() { return 1; } }
    `)).toThrow(/only decorate class methods/);
  });
});
