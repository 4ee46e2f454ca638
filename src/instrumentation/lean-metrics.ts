// Where the lean histograms (lean-histogram.ts) meet the SDK: they are exported through the SDK's
// own extension point, a MetricProducer every MetricReader is built with (sdk.ts, plugins/index.ts),
// so the readers merge their series into each collection beside the SDK's. Our tracers opt in per
// instrument with keyedHistogram(); the meters they get come from meterProvider(), which marks them.
//
// Decided once, at start-up, before any instrument exists (decide()): lean series only when every
// reader was built with this producer and asks for cumulative histograms. A plugin's own reader
// cannot be given a producer through a public API, and DELTA temporality would need per-reader
// state the SDK keeps and we do not: either selects the SDK histogram, and so does
// OTEL_MONITOR_LEAN_METRICS=false (sdk.ts then makes no LeanMetrics at all).
import type * as Api from '@opentelemetry/api';
import type { CollectionResult, IAttributesProcessor, IMetricReader, InstrumentType, MetricProducer, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';
import { LeanHistogram, SdkKeyedHistogram, type HistogramDescriptor, type KeyedHistogram } from './lean-histogram.js';

export type LeanMetricsMode = 'lean' | 'sdk' | 'sdk-for-plugin-readers' | 'sdk-for-delta';

const HISTOGRAM = 'HISTOGRAM' as InstrumentType;
const CUMULATIVE = 1; // AggregationTemporality.CUMULATIVE
const DOUBLE = 1; // ValueType.DOUBLE
// Keys an SDK-backed histogram keeps (the SDK's default cardinality limit).
const SDK_MAX_KEYS = 2000;

export interface LeanMetricsDeps {
  resource: Resource;
  /** The attributes processor of the view sdk.ts installs for every instrument. */
  processor: IAttributesProcessor;
  /** The view's cardinality limit. */
  cardinalityLimit: number;
  /** core's millisToHrTime: the SDK's conversion of Date.now() for start and end times. */
  millisToHrTime(ms: number): Api.HrTime;
  diag: Pick<Api.DiagLogger, 'warn'>;
}

interface Scope {
  scope: { name: string; version: string; schemaUrl: string | undefined };
  histograms: Map<string, LeanHistogram>;
}

export class LeanMetrics implements MetricProducer {
  private readonly scopes = new Map<string, Scope>();
  private readonly fed = new WeakSet<object>();
  private chosen: LeanMetricsMode | undefined;

  constructor(private readonly deps: LeanMetricsDeps) {}

  /** A reader built with this producer (`build` gets the `metricProducers` option). */
  reader<R extends IMetricReader>(build: (metricProducers: MetricProducer[]) => R): R {
    const reader = build([this]);
    this.fed.add(reader);
    return reader;
  }

  /** What decide() chose ('sdk' before it ran). */
  get mode(): LeanMetricsMode {
    return this.chosen ?? 'sdk';
  }

  /** Lean series only if every reader carries this producer and asks for cumulative histograms; once. */
  decide(readers: readonly IMetricReader[]): LeanMetricsMode {
    if (this.chosen) return this.chosen;
    if (readers.some((r) => !this.fed.has(r))) this.chosen = 'sdk-for-plugin-readers';
    else if (readers.some((r) => r.selectAggregationTemporality(HISTOGRAM) !== CUMULATIVE)) this.chosen = 'sdk-for-delta';
    else this.chosen = 'lean';
    return this.chosen;
  }

  /** The provider our tracers get meters from (after decide()): the SDK's, whose meters keyedHistogram() can make lean. */
  meterProvider(sdk: Api.MeterProvider): Api.MeterProvider {
    if (this.chosen !== 'lean') return sdk;
    return {
      getMeter: (name, version = '', options = {}) => {
        const meter = sdk.getMeter(name, version, options);
        // The SDK's scope id (instrumentationScopeId) and the scope object its MeterSharedState keeps.
        const id = `${name}:${version}:${options.schemaUrl ?? ''}`;
        let scope = this.scopes.get(id);
        if (!scope) this.scopes.set(id, (scope = { scope: { name, version, schemaUrl: options.schemaUrl }, histograms: new Map() }));
        return new LeanMeter(meter, (n, o) => this.histogram(scope, n, o));
      },
    };
  }

  /** The scope's histogram of that name (one per name, as the SDK reuses a compatible storage). */
  private histogram(scope: Scope, name: string, options: Api.MetricOptions): LeanHistogram | undefined {
    if ((options.valueType ?? DOUBLE) !== DOUBLE) return undefined; // INT truncation: the SDK's
    const found = scope.histograms.get(name);
    if (found) return found.descriptor.unit === (options.unit ?? '') ? found : undefined;
    const descriptor: HistogramDescriptor = {
      name,
      description: options.description ?? '',
      type: 'HISTOGRAM',
      unit: options.unit ?? '',
      valueType: DOUBLE,
      advice: options.advice ?? {},
    };
    const { processor, cardinalityLimit, millisToHrTime, diag } = this.deps;
    const histogram = new LeanHistogram(descriptor, { processor, cardinalityLimit, now: () => millisToHrTime(Date.now()), warn: (m) => diag.warn(m) });
    scope.histograms.set(name, histogram);
    return histogram;
  }

  /** Called by every reader's collect, beside the SDK's own producer. Never rejects. */
  collect(): Promise<CollectionResult> {
    const scopeMetrics: ScopeMetrics[] = [];
    const errors: unknown[] = [];
    try {
      const endTime = this.deps.millisToHrTime(Date.now());
      for (const { scope, histograms } of this.scopes.values()) {
        const metrics = [];
        for (const h of histograms.values()) {
          const data = h.collect(endTime);
          if (data) metrics.push(data);
        }
        if (metrics.length > 0) scopeMetrics.push({ scope, metrics });
      }
    } catch (err) {
      errors.push(err);
    }
    return Promise.resolve({ resourceMetrics: { resource: this.deps.resource, scopeMetrics }, errors });
  }
}

type LeanHistogramOf = (name: string, options: Api.MetricOptions) => LeanHistogram | undefined;

/** The SDK's meter for everything, plus the lean histogram keyedHistogram() asks for. */
class LeanMeter implements Api.Meter {
  constructor(
    private readonly sdk: Api.Meter,
    readonly leanHistogram: LeanHistogramOf,
  ) {}
  createGauge: Api.Meter['createGauge'] = (n, o) => this.sdk.createGauge(n, o);
  createHistogram: Api.Meter['createHistogram'] = (n, o) => this.sdk.createHistogram(n, o);
  createCounter: Api.Meter['createCounter'] = (n, o) => this.sdk.createCounter(n, o);
  createUpDownCounter: Api.Meter['createUpDownCounter'] = (n, o) => this.sdk.createUpDownCounter(n, o);
  createObservableGauge: Api.Meter['createObservableGauge'] = (n, o) => this.sdk.createObservableGauge(n, o);
  createObservableCounter: Api.Meter['createObservableCounter'] = (n, o) => this.sdk.createObservableCounter(n, o);
  createObservableUpDownCounter: Api.Meter['createObservableUpDownCounter'] = (n, o) => this.sdk.createObservableUpDownCounter(n, o);
  addBatchObservableCallback: Api.Meter['addBatchObservableCallback'] = (c, o) => this.sdk.addBatchObservableCallback(c, o);
  removeBatchObservableCallback: Api.Meter['removeBatchObservableCallback'] = (c, o) => this.sdk.removeBatchObservableCallback(c, o);
}

/** A duration histogram for a per-request call site: lean on a meter from LeanMetrics.meterProvider, else the SDK's. */
export function keyedHistogram(meter: Api.Meter, name: string, options: Api.MetricOptions): KeyedHistogram {
  const lean = meter instanceof LeanMeter ? meter.leanHistogram(name, options) : undefined;
  return lean ?? new SdkKeyedHistogram(meter.createHistogram(name, options), SDK_MAX_KEYS);
}
