// Golden test of the lean histograms (src/instrumentation/lean-histogram.ts, lean-metrics.ts): the
// same records, at the same (fake) times, through the SDK's histogram and through ours, each in a
// real MeterProvider with sdk.ts's view, collected by real MetricReaders; every field of every
// collection compared. A difference not in docs/ARCHITECTURE.md's lean-histogram-golden table fails
// the test, and so does a row of that table no case shows any more.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, MeterProvider, MetricReader, type CollectionResult, type MetricReaderOptions } from '@opentelemetry/sdk-metrics';
import { CARDINALITY_LIMIT, METRIC_ATTRIBUTES, METRIC_VIEWS } from '../../src/sdk.js';
import { keyedHistogram, LeanMetrics } from '../../src/instrumentation/lean-metrics.js';
import { hashAttributes, LeanHistogram, SdkKeyedHistogram, type KeyedHistogram } from '../../src/instrumentation/lean-histogram.js';
import { HTTP_DURATION_BUCKETS } from '../../src/instrumentation/http-semconv.js';
import { SeriesKeys } from '../../src/instrumentation/series-keys.js';

const ROOT = join(import.meta.dirname, '..', '..');
const T0 = Date.UTC(2026, 11, 7, 0, 0, 0);

class Reader extends MetricReader {
  constructor(options?: MetricReaderOptions) {
    super(options);
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** The three instruments as our tracers create them (http-server.ts, undici/tracer.ts, pg/instrumentation.ts). */
const INSTRUMENTS = {
  server: { scope: '@org/otel-monitor/http-server', name: 'http.server.request.duration', options: { description: 'Duration of HTTP server requests.', unit: 's', advice: { explicitBucketBoundaries: HTTP_DURATION_BUCKETS } } },
  client: { scope: '@org/otel-monitor/undici', name: 'http.client.request.duration', options: { description: 'Measures the duration of outbound HTTP requests.', unit: 's', valueType: api.ValueType.DOUBLE, advice: { explicitBucketBoundaries: HTTP_DURATION_BUCKETS } } },
  db: { scope: '@org/otel-monitor/pg', name: 'db.client.operation.duration', options: { description: 'Duration of database client operations.', unit: 's', valueType: api.ValueType.DOUBLE, advice: { explicitBucketBoundaries: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10] } } },
} as const;
type Instrument = keyof typeof INSTRUMENTS;

/** One step of a case: a record (keyed as a call site keys it, or hashed per call), a collection, a gauge. */
type Step =
  | { at: number; record: Instrument; value: number; attributes: api.Attributes; key?: unknown[] }
  | { at: number; collect: number }
  | { at: number; gauge: Instrument; advance: number };

/** One side: the SDK's histograms (plain SDK meters), or ours (LeanMetrics on every reader). */
class Side {
  readonly readers: Reader[];
  private readonly meters: api.MeterProvider;
  private readonly sdkHistograms = new Map<Instrument, api.Histogram>();
  private readonly keyed = new Map<Instrument, KeyedHistogram>();

  constructor(
    readonly lean: boolean,
    readerCount: number,
  ) {
    const resource = resourceFromAttributes({ 'service.name': 'golden' });
    const producer = lean ? new LeanMetrics({ resource, processor: METRIC_ATTRIBUTES, cardinalityLimit: CARDINALITY_LIMIT, millisToHrTime, diag: api.diag }) : undefined;
    this.readers = Array.from({ length: readerCount }, () => (producer ? producer.reader((metricProducers) => new Reader({ metricProducers })) : new Reader()));
    expect(producer?.decide(this.readers) ?? 'lean').toBe('lean');
    const provider = new MeterProvider({ resource, readers: this.readers, views: METRIC_VIEWS });
    this.meters = producer ? producer.meterProvider(provider) : provider;
  }

  private meter(i: Instrument): api.Meter {
    return this.meters.getMeter(INSTRUMENTS[i].scope, '1.2.3');
  }

  record(i: Instrument, value: number, attributes: api.Attributes, key: unknown[] | undefined): void {
    const { name, options } = INSTRUMENTS[i];
    if (!this.lean) {
      // The SDK side is the upstream path itself: a fresh attribute set per record.
      if (!this.sdkHistograms.has(i)) this.sdkHistograms.set(i, this.meter(i).createHistogram(name, options));
      this.sdkHistograms.get(i)!.record(value, { ...attributes });
      return;
    }
    if (!this.keyed.has(i)) this.keyed.set(i, keyedHistogram(this.meter(i), name, options));
    const h = this.keyed.get(i)!;
    expect(h).toBeInstanceOf(LeanHistogram);
    if (key === undefined) h.record(value, { ...attributes });
    // As the call sites: the parts name the set, which is built only when they are new (pg: the cached set itself).
    else (h.get(...key) ?? h.bind(typeof key[0] === 'object' ? (key[0] as api.Attributes) : { ...attributes }, ...key)).record(value);
  }

  /** A pool-usage-like gauge in the instrument's scope, whose callback takes `advance` ms of the clock. */
  gauge(i: Instrument, advance: number): void {
    this.meter(i)
      .createObservableGauge('golden.slow.gauge')
      .addCallback((r) => {
        vi.setSystemTime(Date.now() + advance);
        r.observe(1);
      });
  }
}

/** A collection as flat facts: `path.field` → value, without spaces. */
function facts(result: CollectionResult): Map<string, string> {
  const out = new Map<string, string>();
  const scopes = new Map<string, number>();
  for (const sm of result.resourceMetrics.scopeMetrics) {
    const scope = `${sm.scope.name}@${sm.scope.version ?? ''}@${sm.scope.schemaUrl ?? ''}`;
    scopes.set(scope, (scopes.get(scope) ?? 0) + 1);
    for (const m of sm.metrics) {
      const metric = `${sm.scope.name}/${m.descriptor.name}`;
      out.set(`metric:${metric}.descriptor`, JSON.stringify(m.descriptor));
      out.set(`metric:${metric}.temporality`, String(m.aggregationTemporality));
      out.set(`metric:${metric}.dataPointType`, String(m.dataPointType));
      const hashes = m.dataPoints.map((p) => hashAttributes(p.attributes).replace(/ /g, '_'));
      out.set(`metric:${metric}.order`, hashes.join('|'));
      m.dataPoints.forEach((p, n) => {
        const point = `point:${metric}/${hashes[n]}`;
        const v = p.value as number | { min?: number; max?: number; sum?: number; count: number; buckets: { boundaries: number[]; counts: number[] } };
        const value = typeof v === 'number' ? { value: v } : { count: v.count, sum: v.sum, min: v.min, max: v.max, boundaries: v.buckets.boundaries, counts: v.buckets.counts };
        const fields = { attributes: p.attributes, startTime: p.startTime, endTime: p.endTime, ...value };
        for (const [field, value] of Object.entries(fields)) out.set(`${point}.${field}`, JSON.stringify(value) ?? 'undefined');
      });
    }
  }
  for (const [scope, count] of scopes) out.set(`scope:${scope}.count`, String(count));
  out.set('errors', String(result.errors.length));
  return out;
}

/** `<case> <path> sdk-only|ours-only|differs`; a data point on one side only is one difference, not one per field. */
function differences(name: string, sdk: Map<string, string>, ours: Map<string, string>): string[] {
  const found = new Set<string>();
  const owner = (key: string) => (key.startsWith('point:') ? key.slice(0, key.lastIndexOf('.')) : key);
  for (const key of new Set([...sdk.keys(), ...ours.keys()])) {
    if (!ours.has(key)) found.add(`${name} ${owner(key)} sdk-only`);
    else if (!sdk.has(key)) found.add(`${name} ${owner(key)} ours-only`);
    else if (sdk.get(key) !== ours.get(key)) found.add(`${name} ${key} differs`);
  }
  return [...found];
}

/** Runs the steps on both sides at the same fake times; the differences of every collection. */
async function runCase(name: string, steps: Step[], readerCount = 1): Promise<{ found: string[]; collections: number }> {
  const sides = [new Side(false, readerCount), new Side(true, readerCount)] as const;
  const found: string[] = [];
  let collections = 0;
  for (const step of steps) {
    if ('collect' in step) {
      const results: CollectionResult[] = [];
      for (const side of sides) {
        vi.setSystemTime(T0 + step.at);
        results.push(await side.readers[step.collect]!.collect());
      }
      collections++;
      found.push(...differences(`${name}#${collections}`, facts(results[0]!), facts(results[1]!)));
      continue;
    }
    for (const side of sides) {
      vi.setSystemTime(T0 + step.at);
      if ('gauge' in step) side.gauge(step.gauge, step.advance);
      else side.record(step.record, step.value, step.attributes, step.key);
    }
  }
  return { found: found.map((f) => f.replace(/#\d+ /, ' ')), collections };
}

/** mulberry32: the seeded simulation's random numbers. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Every boundary, just below and above each, zero, far above the last, NaN; negatives are dropped.
const VALUES = [...HTTP_DURATION_BUCKETS, 0.001, 0.5, 10].flatMap((b) => [b, b - 1e-9, b + 1e-9]).concat([0, 1e9, Number.NaN, -1]);

/** Many attribute sets of the three instruments, keyed as the call sites key them, with error series. */
function mixedSteps(): Step[] {
  const next = random(19);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const dbSets = ['SELECT', 'INSERT', 'UPDATE'].map((op) => ({ 'db.system.name': 'postgresql', 'db.operation.name': op, 'db.namespace': 'app', 'server.address': 'db', 'server.port': 5432 }));
  const steps: Step[] = [];
  for (let n = 0; n < 600; n++) {
    const at = n * 10;
    const value = n < VALUES.length ? VALUES[n]! : pick(VALUES);
    const kind = pick(['server', 'server', 'client', 'db'] as const);
    if (kind === 'db') {
      const set = pick(dbSets);
      steps.push(next() < 0.1 ? { at, record: 'db', value, attributes: { ...set, 'error.type': pick(['42P01', '57014']) } } : { at, record: 'db', value, attributes: set, key: [set] });
      continue;
    }
    const status = pick([200, 200, 201, 404, 500, 503]);
    const method = pick(['GET', 'POST', '_OTHER']);
    const attributes: api.Attributes = { 'http.request.method': method, 'url.scheme': 'http', 'http.response.status_code': status };
    let key: unknown[];
    if (kind === 'server') {
      const protocol = pick(['1.1', '1.0']);
      const route = pick([undefined, '/users/:id', '/', '']);
      const errorType = status >= 500 ? String(status) : next() < 0.05 ? 'aborted' : undefined;
      Object.assign(attributes, { 'network.protocol.version': protocol });
      if (route !== undefined) attributes['http.route'] = route;
      if (errorType !== undefined) attributes['error.type'] = errorType;
      // An unbounded key the view removes: ours must drop it too (the same series, whatever its value).
      if (next() < 0.1) attributes['url.path'] = `/users/${n}`;
      key = [method, 'http', protocol, status, route, errorType];
    } else {
      const [address, port] = [pick(['api.example.com', '127.0.0.1']), pick([443, 8080])];
      const errorType = status >= 400 ? String(status) : undefined;
      Object.assign(attributes, { 'server.address': address, 'server.port': port, 'network.protocol.version': '1.1' });
      if (errorType !== undefined) attributes['error.type'] = errorType;
      key = [method, `http://${address}:${port}`, status, '1.1', errorType];
    }
    steps.push({ at, record: kind, value, attributes, key });
    if (n % 200 === 199) steps.push({ at: at + 5, collect: 0 });
  }
  return steps;
}

/** More attribute sets than the limit: the first collection (equal), then new sets after it (the SDK starts over). */
function overflowSteps(): Step[] {
  const record = (at: number, route: string, value: number): Step => ({ at, record: 'server', value, attributes: { 'http.request.method': 'GET', 'http.route': route, 'http.response.status_code': 200 }, key: [route] });
  const steps: Step[] = [];
  for (let n = 0; n < CARDINALITY_LIMIT + 100; n++) steps.push(record(n, `/r${n}`, (n % 50) / 10));
  steps.push(record(CARDINALITY_LIMIT + 200, '/r5', 0.3), { at: CARDINALITY_LIMIT + 300, collect: 0 });
  return steps;
}

function laterOverflowSteps(): Step[] {
  const steps = overflowSteps();
  for (let n = 0; n < 30; n++) steps.push({ at: 10_000 + n, record: 'server', value: 0.2, attributes: { 'http.request.method': 'GET', 'http.route': `/later${n}`, 'http.response.status_code': 200 }, key: [`/later${n}`] });
  steps.push({ at: 20_000, collect: 0 });
  return steps;
}

/** Two readers collecting in turn: each reader's total is the SDK's sum of its own intervals. */
function twoReaderSteps(): Step[] {
  const record = (at: number, value: number): Step => ({ at, record: 'client', value, attributes: { 'http.request.method': 'GET', 'server.address': 'x', 'url.scheme': 'http' }, key: ['x'] });
  return [record(1, 0.1), { at: 2, collect: 0 }, record(3, 0.2), { at: 4, collect: 1 }, record(5, 0.3), { at: 6, collect: 0 }, { at: 7, collect: 1 }];
}

/** A slow observable callback in the same collection: our producer runs after it. */
function slowCollectSteps(): Step[] {
  return [{ at: 0, gauge: 'client', advance: 7 }, { at: 1, record: 'server', value: 0.2, attributes: { 'http.request.method': 'GET' }, key: ['g'] }, { at: 2, collect: 0 }];
}

/** The pg scope with its pool gauges (pg/pool.ts) and the histogram. */
function pgScopeSteps(): Step[] {
  const set = { 'db.system.name': 'postgresql', 'db.operation.name': 'SELECT' };
  return [{ at: 0, gauge: 'db', advance: 0 }, { at: 1, record: 'db', value: 0.02, attributes: set, key: [set] }, { at: 2, collect: 0 }];
}

/** The allowed differences: `| \`pattern\` | reason |` rows between the lean-histogram-golden markers. */
function allowedDifferences(): { row: string; re: RegExp }[] {
  const doc = readFileSync(join(ROOT, 'docs', 'ARCHITECTURE.md'), 'utf8');
  const table = /<!-- lean-histogram-golden -->([\s\S]*?)<!-- \/lean-histogram-golden -->/.exec(doc)?.[1];
  if (!table) throw new Error('docs/ARCHITECTURE.md has no <!-- lean-histogram-golden --> table');
  return [...table.matchAll(/^ *\| `([^`]+)` \|/gm)].map(([, p]) => ({ row: p!, re: new RegExp(`^${p!.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^ ]*')}$`) }));
}

describe('lean histograms against the SDK histogram', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('golden: every field of every collection equal, but for the differences ARCHITECTURE.md lists', async () => {
    const cases = {
      mixed: await runCase('mixed', mixedSteps()),
      overflow: await runCase('overflow', overflowSteps()),
      'overflow-later': await runCase('overflow-later', laterOverflowSteps()),
      'two-readers': await runCase('two-readers', twoReaderSteps(), 2),
      'slow-collect': await runCase('slow-collect', slowCollectSteps()),
      'pg-scope': await runCase('pg-scope', pgScopeSteps()),
    };
    // Equal where nothing is listed: the mixed records over three collections, and overflow in the first.
    expect(cases.mixed.found).toEqual([]);
    expect(cases.mixed.collections).toBe(3);
    expect(cases.overflow.found).toEqual([]);
    const allowed = allowedDifferences();
    const found = [...new Set(Object.values(cases).flatMap((c) => c.found))];
    expect(found.filter((d) => !allowed.some((a) => a.re.test(d)))).toEqual([]);
    expect(allowed.filter((a) => !found.some((d) => a.re.test(d))).map((a) => a.row)).toEqual([]);
  });

  it('the mixed case exercised what it claims: every bucket, NaN, the overflow series, the denied key', async () => {
    const side = new Side(true, 1);
    for (const step of mixedSteps()) if ('record' in step) side.record(step.record, step.value, step.attributes, step.key);
    const { resourceMetrics } = await side.readers[0]!.collect();
    const server = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'http.server.request.duration')!;
    const counts = server.dataPoints.reduce((sum: number[], p) => (p.value as { buckets: { counts: number[] } }).buckets.counts.map((c, n) => c + (sum[n] ?? 0)), []);
    expect(counts.every((c) => c > 0)).toBe(true);
    expect(server.dataPoints.some((p) => 'error.type' in p.attributes)).toBe(true);
    expect(server.dataPoints.some((p) => 'url.path' in p.attributes)).toBe(false);
    expect(server.descriptor).toMatchObject({ name: 'http.server.request.duration', unit: 's', valueType: api.ValueType.DOUBLE });
    expect(server.aggregationTemporality).toBe(AggregationTemporality.CUMULATIVE);

    const over = new Side(true, 1);
    for (const step of overflowSteps()) if ('record' in step) over.record(step.record, step.value, step.attributes, step.key);
    const points = (await over.readers[0]!.collect()).resourceMetrics.scopeMetrics[0]!.metrics[0]!.dataPoints;
    expect(points).toHaveLength(CARDINALITY_LIMIT);
    expect(points.find((p) => p.attributes['otel.metric.overflow'] === true)?.value).toMatchObject({ count: 101 });
  });
});

describe('lean metrics: decided once, never throwing, bounded', () => {
  const resource = resourceFromAttributes({});
  const make = () => new LeanMetrics({ resource, processor: METRIC_ATTRIBUTES, cardinalityLimit: 10, millisToHrTime, diag: api.diag });

  it('a reader built without the producer (a plugin\'s own) or asking for DELTA histograms selects the SDK histogram', () => {
    const own = make();
    expect(own.decide([own.reader((p) => new Reader({ metricProducers: p })), new Reader()])).toBe('sdk-for-plugin-readers');
    const delta = make();
    expect(delta.decide([delta.reader((p) => new Reader({ metricProducers: p, aggregationTemporalitySelector: () => AggregationTemporality.DELTA }))])).toBe('sdk-for-delta');
    const provider = new MeterProvider({ readers: [] });
    // The SDK's own meters: keyedHistogram gives the SDK histogram behind the keyed calls.
    expect(keyedHistogram(delta.meterProvider(provider).getMeter('x'), 'h', {})).toBeInstanceOf(SdkKeyedHistogram);
    const lean = make();
    expect(lean.decide([lean.reader((p) => new Reader({ metricProducers: p }))])).toBe('lean');
    // decided once: a later call with other readers changes nothing
    expect(lean.decide([new Reader()])).toBe('lean');
    expect(keyedHistogram(lean.meterProvider(provider).getMeter('x'), 'h', {})).toBeInstanceOf(LeanHistogram);
    // An INT histogram stays the SDK's (its truncation is not reproduced).
    expect(keyedHistogram(lean.meterProvider(provider).getMeter('x'), 'i', { valueType: api.ValueType.INT })).toBeInstanceOf(SdkKeyedHistogram);
  });

  it('collect never rejects: a failing histogram becomes an error of the collection', async () => {
    const lean = make();
    lean.decide([]);
    const h = keyedHistogram(lean.meterProvider(new MeterProvider()).getMeter('x'), 'h', {}) as LeanHistogram;
    h.record(1, {});
    vi.spyOn(h, 'collect').mockImplementation(() => {
      throw new Error('broken');
    });
    const result = await lean.collect();
    expect(result.errors).toHaveLength(1);
    expect(result.resourceMetrics.scopeMetrics).toEqual([]);
  });

  it('memory stays bounded: call-site keys past the limit are not kept, and their records still count', async () => {
    const lean = make();
    lean.decide([]);
    const h = keyedHistogram(lean.meterProvider(new MeterProvider()).getMeter('x'), 'h', {});
    for (let n = 0; n < 1000; n++) (h.get('GET', n) ?? h.bind({ n }, 'GET', n)).record(1);
    expect(h.get('GET', 9)).toBeDefined();
    expect(h.get('GET', 10)).toBeUndefined();
    const points = (await lean.collect()).resourceMetrics.scopeMetrics[0]!.metrics[0]!.dataPoints;
    expect(points).toHaveLength(10);
    expect(points.reduce((sum, p) => sum + (p.value as { count: number }).count, 0)).toBe(1000);
  });
});

describe('series keys', () => {
  it('tells undefined from an empty string and 200 from "200"; an object is a whole key; counted keys are bounded', () => {
    const keys = new SeriesKeys<string>(3);
    keys.set('route-undefined', 'GET', 200, undefined);
    keys.set('route-empty', 'GET', 200, '');
    keys.set('status-string', 'GET', '200', undefined);
    expect([keys.get('GET', 200, undefined), keys.get('GET', 200, ''), keys.get('GET', '200'), keys.get('GET', 201)]).toEqual(['route-undefined', 'route-empty', 'status-string', undefined]);
    keys.set('over the bound', 'POST');
    expect(keys.get('POST')).toBeUndefined();
    const set = { 'db.operation.name': 'SELECT' };
    keys.set('object', set, 'ignored');
    expect([keys.get(set), keys.get({ ...set })]).toEqual(['object', undefined]);
  });
});
