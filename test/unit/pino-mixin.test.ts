// Our pino mixin (src/instrumentation/pino-mixin.ts) against instrumentation-pino's own, in one
// process: for every kind of active span and every option the mixin reads, both give the same fields.
import { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import * as api from '@opentelemetry/api';
import * as core from '@opentelemetry/core';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { useOwnPinoMixin } from '../../src/instrumentation/pino-mixin.js';
import { leanTracer } from '../../src/instrumentation/lean-tracer.js';

type Mixin = (ctx: object, level: number) => Record<string, unknown>;

const manager = new AsyncLocalStorageContextManager();
api.context.setGlobalContextManager(manager);
// The store behind the global context manager, as load-instrumentations.ts hands it over.
const store = (manager as unknown as { _asyncLocalStorage: AsyncLocalStorage<api.Context> })._asyncLocalStorage;
afterAll(() => api.context.disable());

function pair(config: ConstructorParameters<typeof PinoInstrumentation>[0]): { upstream: Mixin; ours: Mixin; inst: PinoInstrumentation } {
  const inst = new PinoInstrumentation({ ...config, enabled: false });
  inst.enable();
  const upstream = (inst as unknown as { _getMixinFunction(): Mixin })._getMixinFunction();
  expect(useOwnPinoMixin(inst, api, store)).toBe(true);
  const ours = (inst as unknown as { _getMixinFunction(): Mixin })._getMixinFunction();
  expect(ours).not.toBe(upstream);
  return { upstream, ours, inst };
}

const tp = new TracerProvider({});
const sdk = tp.getTracer('t');
const lean = leanTracer(sdk, api, core)!;
const contexts: Record<string, () => api.Context> = {
  none: () => api.ROOT_CONTEXT,
  'lean span': () => api.trace.setSpan(api.ROOT_CONTEXT, lean.startSpan('s')),
  'SDK span': () => api.trace.setSpan(api.ROOT_CONTEXT, sdk.startSpan('s')),
  'unsampled remote parent': () => api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 0, isRemote: true }),
  'flags 3': () => api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 3 }),
  'invalid ids': () => api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: 'not-hex', spanId: '00f067aa0ba902b7', traceFlags: 1 }),
  'all-zero trace id': () => api.trace.setSpan(api.ROOT_CONTEXT, api.trace.wrapSpanContext(api.INVALID_SPAN_CONTEXT)),
};

function both(m: { upstream: Mixin; ours: Mixin }, ctx: api.Context, level = 30): [unknown, unknown] {
  return api.context.with(ctx, () => [m.upstream({}, level), m.ours({}, level)]);
}

describe('our pino mixin', () => {
  it('writes what instrumentation-pino writes, for every kind of active span', () => {
    const m = pair({});
    for (const [name, ctx] of Object.entries(contexts)) {
      const [a, b] = both(m, ctx());
      expect(b, name).toEqual(a);
      expect(JSON.stringify(b), name).toBe(JSON.stringify(a)); // key order too: it is the line's
    }
    expect(both(m, contexts['lean span']!())[1]).toMatchObject({ trace_flags: '01' });
  });

  it('follows logKeys, the log hook (a throwing one included), disableLogCorrelation and disable()', () => {
    const hook = (span: api.Span, record: Record<string, unknown>, level?: number) => {
      record['request_id'] = `${span.spanContext().spanId}-${level}`;
    };
    const cases = [
      pair({ logKeys: { traceId: 'tid', spanId: 'sid', traceFlags: 'flags' } }),
      pair({ logHook: hook }),
      pair({
        logHook: () => {
          throw new Error('hook broke');
        },
      }),
      pair({ disableLogCorrelation: true }),
    ];
    for (const m of cases) {
      for (const [name, ctx] of Object.entries(contexts)) {
        const c = ctx();
        const [a, b] = both(m, c, 40);
        expect(JSON.stringify(b), name).toBe(JSON.stringify(a));
      }
    }
    const off = pair({});
    off.inst.disable();
    expect(both(off, contexts['lean span']!())).toEqual([{}, {}]);
  });

  it('leaves an instrumentation without the method it replaces alone', () => {
    expect(useOwnPinoMixin({ getConfig: () => ({}) }, api, store)).toBe(false);
    expect(useOwnPinoMixin(new PinoInstrumentation({ enabled: false }), api, undefined)).toBe(false);
  });
});
