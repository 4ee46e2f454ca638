// The tracer our channel tracers start their spans from: the SDK Tracer's own decisions (suppressed
// tracing, parent, ids, the provider's sampler, its span limits, resource and processor chain), read
// from the SDK Tracer it stands beside, with a LeanSpan (lean-span.ts) in place of SpanImpl.
// Anything it does not do itself (options with attributes, links or a start time, startActiveSpan)
// goes to that SDK Tracer, so it is a full Tracer either way.
//   leanTracer(sdkTracer, api, core, options) -> Tracer, or undefined if the SDK Tracer is not the kind it reads
// Not recorded: the SDK's own otel.sdk.span.* metrics, which our TracerProvider has no meter for.
import type * as Api from '@opentelemetry/api';
import type * as Core from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { Sampler, SpanLimits, SpanProcessor } from '@opentelemetry/sdk-trace';
import { LeanSpan, type LeanSpanShared } from './lean-span.js';
import { IdPool, isSdkRandomIdGenerator } from './id-pool.js';
import { processorChain } from './processor-chain.js';

const RECORD_AND_SAMPLED = 2; // SamplingDecision
const NOT_RECORD = 0;
const SAMPLED: Api.SamplingResult = { decision: RECORD_AND_SAMPLED };

export interface LeanTracerOptions {
  /**
   * The provider's sampler is ParentBased(AlwaysOn) (sampler.ts samplesUnderSampledParents): a span
   * with no parent or a sampled one is sampled without asking it (what it would answer, with
   * AlwaysOn's empty result); only a span under an unsampled parent goes to the sampler, which may
   * still record it (task runs). Measured: the sampler call was ~1 µs of a hello-world request.
   */
  samplesUnderSampledParents?: boolean;
}

/** The SDK Tracer's fields this reads (sdk-trace 2.x/3.x Tracer). */
interface SdkTracerInternals {
  _sampler?: Sampler;
  _spanLimits?: Required<SpanLimits>;
  _idGenerator?: { generateTraceId(): string; generateSpanId(): string };
  _resource?: Resource;
  _spanProcessor?: SpanProcessor;
  instrumentationScope?: Core.InstrumentationScope;
}

export class LeanTracer implements Api.Tracer {
  private readonly shared: LeanSpanShared;

  constructor(
    private readonly sdk: Api.Tracer,
    private readonly api: typeof Api,
    private readonly core: typeof Core,
    private readonly sampler: Sampler,
    private readonly ids: { generateTraceId(): string; generateSpanId(): string },
    shared: Omit<LeanSpanShared, 'core' | 'diag'>,
    private readonly options: LeanTracerOptions = {},
  ) {
    this.shared = { ...shared, core: core as unknown as LeanSpanShared['core'], diag: api.diag };
  }

  startSpan(name: string, options?: Api.SpanOptions, context?: Api.Context): Api.Span {
    if (options !== undefined && (options.attributes !== undefined || options.links !== undefined || options.startTime !== undefined)) {
      return this.sdk.startSpan(name, options, context);
    }
    const { api } = this;
    let ctx = context ?? api.context.active();
    if (options?.root) ctx = api.trace.deleteSpan(ctx);
    if (this.core.isTracingSuppressed(ctx)) return api.trace.wrapSpanContext(api.INVALID_SPAN_CONTEXT);
    const parentSpan = api.trace.getSpan(ctx);
    const parent = parentSpan?.spanContext();
    // A lean parent's ids came from the id generator or from a parent checked here: valid by
    // construction, so the API's two regular-expression tests are skipped for it.
    const valid = parent !== undefined && (parentSpan instanceof LeanSpan || api.trace.isSpanContextValid(parent)) ? parent : undefined;
    // In SpanImpl's order (span id first), so a deterministic generator gives both the same ids.
    const spanId = this.ids.generateSpanId();
    const traceId = valid ? valid.traceId : this.ids.generateTraceId();
    const kind = options?.kind ?? 0;
    const result =
      this.options.samplesUnderSampledParents && (valid === undefined || (valid.traceFlags & 1) === 1)
        ? SAMPLED
        : this.sampler.shouldSample(ctx, traceId, name, kind, {}, []);
    const spanContext: Api.SpanContext = {
      traceId,
      spanId,
      traceFlags: result.decision === RECORD_AND_SAMPLED ? 1 : 0,
      traceState: result.traceState ?? valid?.traceState,
    };
    if (result.decision === NOT_RECORD) return api.trace.wrapSpanContext(spanContext);
    const span = new LeanSpan(this.shared, spanContext, name, kind, valid);
    if (result.attributes) span.setAttributes(result.attributes);
    this.shared.processor.onStart(span as never, ctx);
    return span;
  }

  startActiveSpan: Api.Tracer['startActiveSpan'] = ((...args: unknown[]) =>
    (this.sdk.startActiveSpan as (...a: unknown[]) => unknown)(...args)) as Api.Tracer['startActiveSpan'];
}

let idPool: IdPool | undefined;
/** One pool for every lean tracer of the process. */
function sharedIdPool(): IdPool {
  return (idPool ??= new IdPool());
}

/** Our tracer to start spans from, given the SDK Tracer of its scope (sdk.ts decides lean or not). */
export type LeanOf = (sdk: Api.Tracer) => Api.Tracer;

/** A LeanTracer beside `sdk`, or undefined when `sdk` lacks what it reads (another SDK version). */
export function leanTracer(sdk: Api.Tracer, api: typeof Api, core: typeof Core, options?: LeanTracerOptions): LeanTracer | undefined {
  const t = sdk as Api.Tracer & SdkTracerInternals;
  if (!t._sampler || !t._spanLimits || !t._idGenerator || !t._resource || !t._spanProcessor || !t.instrumentationScope) return undefined;
  // The SDK's generator and processor list are stood in for (id-pool.ts, processor-chain.ts); an
  // app's own IdGenerator or processor is used as it is.
  const ids = isSdkRandomIdGenerator(t._idGenerator) ? sharedIdPool() : t._idGenerator;
  return new LeanTracer(sdk, api, core, t._sampler, ids, {
    processor: processorChain(t._spanProcessor),
    resource: t._resource,
    scope: t.instrumentationScope,
    limits: t._spanLimits,
  }, options);
}
