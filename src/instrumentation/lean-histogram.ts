// Our own explicit-bucket histogram for the three per-request duration instruments (issue 19):
// http.server.request.duration, http.client.request.duration and db.client.operation.duration.
// The SDK's Histogram.record, per call, hashes the attribute set (Object.keys + sort +
// JSON.stringify: 1.3 µs of an Express request's 2.5 µs in sdk-metrics), runs the view's attributes
// processor, reads Date.now() and looks the set up in two maps. Here a call site names its series
// by the few values of its attributes (or an attribute set it already caches: series-keys.ts), so a
// record is a few Map probes, a binary search over the boundaries and four additions, with nothing
// allocated. The SDK's work (the processor, the hash) runs once per key.
//
// What is exported is what the SDK would export for the same records (lean-metrics.ts collects it
// through the SDK's MetricProducer extension point), proven by test/unit/lean-histogram.test.ts;
// the differences it allows are listed in docs/ARCHITECTURE.md ("Lean histograms: differences").
import type { Attributes, Histogram, HrTime, MetricAdvice } from '@opentelemetry/api';
import type { HistogramMetricData, IAttributesProcessor, MetricDescriptor } from '@opentelemetry/sdk-metrics';
import { SeriesKeys } from './series-keys.js';

/** The descriptor the SDK builds (createInstrumentDescriptorWithView), which MetricDescriptor's type only partly names. */
export type HistogramDescriptor = MetricDescriptor & { readonly type: 'HISTOGRAM'; readonly advice: MetricAdvice };

/** One series as the call sites see it. */
export interface DurationSeries {
  record(value: number): void;
}

/**
 * A duration histogram keyed by the call site: ours (lean) or the SDK's behind the same calls. The
 * key is up to six parts (series-keys.ts): the attribute values themselves, or an attribute set
 * the caller caches.
 */
export interface KeyedHistogram {
  /** The series the parts name, once `bind` has seen them. */
  get(a: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, f?: unknown): DurationSeries | undefined;
  /** Binds the parts to the series of `attributes` (the set the parts stand for). */
  bind(attributes: Attributes, a: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, f?: unknown): DurationSeries;
  /** Any attribute set, hashed per call as the SDK does: for rare paths (a failed query). */
  record(value: number, attributes: Attributes): void;
}

/** What a LeanHistogram shares with its producer (lean-metrics.ts). */
export interface LeanHistogramDeps {
  /** The view's processor (sdk.ts: denyMetricAttributes, which reads no context, so none is given). */
  processor: IAttributesProcessor;
  /** The SDK's limit: limit − 1 series of their own, the rest in one overflow series. */
  cardinalityLimit: number;
  now(): HrTime;
  warn(message: string): void;
}

// The SDK's HistogramAggregation default, for an instrument without advice.
const DEFAULT_BOUNDARIES = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];
const OVERFLOW: Attributes = { 'otel.metric.overflow': true };
// Call-site keys kept: the call sites have one key per attribute set, so more keys than the limit
// means sets beyond it, whose records then hash per call.

/** sdk-metrics' hashAttributes, so two sets are one series exactly when they are for the SDK. */
export function hashAttributes(attributes: Attributes): string {
  const keys = Object.keys(attributes);
  if (keys.length === 0) return '';
  return JSON.stringify(keys.sort().map((key) => [key, attributes[key]]));
}

/** ExplicitBucketHistogramAggregation's boundaries: a sorted copy without the infinities. */
export function bucketBoundaries(advice: readonly number[] | undefined): number[] {
  if (!advice) return DEFAULT_BOUNDARIES;
  const sorted = [...advice].sort((a, b) => a - b);
  const infinity = sorted.indexOf(Infinity);
  return sorted.slice(sorted.lastIndexOf(-Infinity) + 1, infinity === -1 ? undefined : infinity);
}

/**
 * One attribute set's counts. The sum is kept as the SDK's cumulative reader builds it: values
 * summed per collection interval, and the interval's sum added to the total at each collection.
 */
class Cell {
  count = 0;
  total = 0;
  interval = 0;
  min = Infinity;
  max = -Infinity;
  readonly counts: number[];
  constructor(
    readonly attributes: Attributes,
    readonly startTime: HrTime,
    private readonly boundaries: readonly number[],
  ) {
    this.counts = new Array<number>(boundaries.length + 1).fill(0);
  }

  add(value: number): void {
    if (value !== value) return; // NaN: the SDK's accumulation ignores it (its series exists all the same)
    this.count++;
    this.interval += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    // sdk-metrics' binarySearchUB: the first boundary >= value, else the last bucket.
    const b = this.boundaries;
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (b[mid]! < value) lo = mid + 1;
      else hi = mid;
    }
    this.counts[lo]!++;
  }
}

/** A call-site key's series: the cell is opened at the first record, as the SDK opens its accumulation. */
class Handle implements DurationSeries {
  cell: Cell | undefined = undefined;
  constructor(
    private readonly histogram: LeanHistogram,
    private readonly hash: string,
    private readonly attributes: Attributes,
  ) {}

  record(value: number): void {
    if (value < 0) return this.histogram.negative(value);
    (this.cell ??= this.histogram.open(this.hash, this.attributes)).add(value);
  }
}

export class LeanHistogram implements KeyedHistogram {
  private readonly cells = new Map<string, Cell>();
  private readonly keys: SeriesKeys<Handle>;
  private readonly boundaries: number[];

  constructor(
    readonly descriptor: HistogramDescriptor,
    private readonly deps: LeanHistogramDeps,
  ) {
    this.boundaries = bucketBoundaries(descriptor.advice.explicitBucketBoundaries);
    this.keys = new SeriesKeys(deps.cardinalityLimit);
  }

  get(a: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, f?: unknown): DurationSeries | undefined {
    return this.keys.get(a, b, c, d, e, f);
  }

  bind(attributes: Attributes, a: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, f?: unknown): DurationSeries {
    const processed = this.deps.processor.process(attributes);
    const handle = new Handle(this, hashAttributes(processed), processed);
    this.keys.set(handle, a, b, c, d, e, f);
    return handle;
  }

  record(value: number, attributes: Attributes): void {
    if (value < 0) return this.negative(value);
    const processed = this.deps.processor.process(attributes);
    const hash = hashAttributes(processed);
    (this.cells.get(hash) ?? this.open(hash, processed)).add(value);
  }

  /** The SDK's HistogramInstrument drops a negative value with this warning. */
  negative(value: number): void {
    this.deps.warn(`negative value provided to histogram ${this.descriptor.name}: ${value}`);
  }

  /**
   * The set's cell, opened now if new. Past limit − 1 sets, records go to the overflow series, as
   * in the SDK's first collection interval; unlike the SDK, for the process's life (memory bounded).
   */
  open(hash: string, attributes: Attributes): Cell {
    const found = this.cells.get(hash);
    if (found) return found;
    if (this.cells.size >= this.deps.cardinalityLimit - 1) return this.overflow();
    const cell = new Cell(attributes, this.deps.now(), this.boundaries);
    this.cells.set(hash, cell);
    return cell;
  }

  private overflow(): Cell {
    const hash = hashAttributes(OVERFLOW);
    let cell = this.cells.get(hash);
    if (!cell) this.cells.set(hash, (cell = new Cell(OVERFLOW, this.deps.now(), this.boundaries)));
    return cell;
  }

  /** Cumulative data points, as the SDK's HistogramAggregator.toMetricData writes them; undefined without any. */
  collect(endTime: HrTime): HistogramMetricData | undefined {
    if (this.cells.size === 0) return undefined;
    const dataPoints: HistogramMetricData['dataPoints'] = [];
    for (const cell of this.cells.values()) {
      cell.total += cell.interval;
      cell.interval = 0;
      const any = cell.count > 0;
      dataPoints.push({
        attributes: cell.attributes,
        startTime: cell.startTime,
        endTime,
        value: {
          min: any ? cell.min : undefined,
          max: any ? cell.max : undefined,
          sum: cell.total,
          buckets: { boundaries: this.boundaries, counts: cell.counts.slice() },
          count: cell.count,
        },
      });
    }
    return { descriptor: this.descriptor, aggregationTemporality: 1, dataPointType: 0, dataPoints };
  }
}

/**
 * The SDK's histogram behind the same calls (OTEL_MONITOR_LEAN_METRICS=false, or a reader lean
 * series cannot reach): each key keeps its attribute set, and every record goes through the SDK.
 */
export class SdkKeyedHistogram implements KeyedHistogram {
  private readonly keys: SeriesKeys<DurationSeries>;

  constructor(
    private readonly histogram: Histogram,
    maxKeys: number,
  ) {
    this.keys = new SeriesKeys(maxKeys);
  }

  get(a: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, f?: unknown): DurationSeries | undefined {
    return this.keys.get(a, b, c, d, e, f);
  }

  bind(attributes: Attributes, a: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, f?: unknown): DurationSeries {
    const histogram = this.histogram;
    const series = { record: (value: number) => histogram.record(value, attributes) };
    this.keys.set(series, a, b, c, d, e, f);
    return series;
  }

  record(value: number, attributes: Attributes): void {
    this.histogram.record(value, attributes);
  }
}
