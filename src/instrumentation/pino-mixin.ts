// The trace ids in the app's own pino lines (log correlation: trace_id, span_id, trace_flags and,
// through the log hook, request_id) from our mixin instead of instrumentation-pino's `otelMixin`.
// Upstream's, on every line: the global context manager looked up through the API, both ids checked
// with the API's regular expressions, the record built with computed keys, and the hook called
// through safeExecuteInTheMiddle (two closures). Ours reads the context store directly, skips the
// id check for our lean spans (valid by construction), and builds the record with fixed keys when
// the default keys are in use. The lines are the same (test/integration/pino-emit-golden.test.ts
// compares them with upstream's); OTEL_MONITOR_UPSTREAM_INSTRUMENTATIONS=pino keeps upstream's.
// instrumentation-pino asks `_getMixinFunction()` for the mixin of each logger it patches; that
// method is what is replaced, on our instance only.
import type * as Api from '@opentelemetry/api';
import type { ContextStore } from './pg/context.js';
import { LeanSpan } from './lean-span.js';

type LogHook = (span: Api.Span, record: Record<string, unknown>, level?: number) => void;

interface PinoInstrumentationLike {
  isEnabled(): boolean;
  getConfig(): { disableLogCorrelation?: boolean; logKeys?: { traceId: string; spanId: string; traceFlags: string }; logHook?: LogHook };
  _getMixinFunction?: () => unknown;
}

/** `0` and the flags in hex, as upstream writes them (`01` when sampled). */
const flagsText = (flags: number) => (flags === 1 ? '01' : flags === 0 ? '00' : `0${flags.toString(16)}`);

function recordFor(keys: { traceId: string; spanId: string; traceFlags: string } | undefined, ctx: Api.SpanContext): Record<string, unknown> {
  if (keys === undefined) return { trace_id: ctx.traceId, span_id: ctx.spanId, trace_flags: flagsText(ctx.traceFlags) };
  return { [keys.traceId]: ctx.traceId, [keys.spanId]: ctx.spanId, [keys.traceFlags]: flagsText(ctx.traceFlags) };
}

function ownMixin(inst: PinoInstrumentationLike, api: typeof Api, store: ContextStore) {
  return function otelMixin(_context: unknown, level: number): Record<string, unknown> {
    const config = inst.getConfig();
    if (!inst.isEnabled() || config.disableLogCorrelation) return {};
    const span = api.trace.getSpan(store.getStore() ?? api.ROOT_CONTEXT);
    if (!span) return {};
    const ctx = span.spanContext();
    if (!(span instanceof LeanSpan) && !api.isSpanContextValid(ctx)) return {};
    const record = recordFor(config.logKeys, ctx);
    if (config.logHook) {
      try {
        config.logHook(span, record, level);
      } catch (err) {
        api.diag.error('pino instrumentation: error calling logHook', err);
      }
    }
    return record;
  };
}

/** Gives instrumentation-pino our mixin for the loggers it patches; false if it has no such method (another version). */
export function useOwnPinoMixin(instance: unknown, api: typeof Api, store: ContextStore | undefined): boolean {
  const inst = instance as PinoInstrumentationLike;
  if (!store || typeof inst._getMixinFunction !== 'function' || typeof inst.getConfig !== 'function') return false;
  const mixin = ownMixin(inst, api, store);
  inst._getMixinFunction = () => mixin;
  return true;
}
