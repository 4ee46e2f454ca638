import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Attributes } from '@opentelemetry/api';
import { MeterProvider, MetricReader, createDenyListAttributesProcessor, type DataPoint } from '@opentelemetry/sdk-metrics';
import { denyMetricAttributes } from '../../src/processors/metric-attributes.js';

const DENIED = ['url.full', 'url.path', 'client.address', 'network.peer.port'];

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

describe('denyMetricAttributes', () => {
  it('hands back the same set when nothing is denied, and a copy without the denied keys otherwise', () => {
    const p = denyMetricAttributes(DENIED);
    const clean = { 'http.request.method': 'GET', 'http.response.status_code': 200 };
    expect(p.process(clean)).toBe(clean);
    const dirty = { 'http.request.method': 'GET', 'url.path': '/users/42', 'client.address': '10.0.0.1' };
    const out = p.process(dirty);
    expect(out).toEqual({ 'http.request.method': 'GET' });
    expect(dirty).toEqual({ 'http.request.method': 'GET', 'url.path': '/users/42', 'client.address': '10.0.0.1' }); // not written to
    // An inherited key is not the set's own: the SDK's processor ignores it too.
    const inherited = Object.create({ 'url.path': '/x' }) as Attributes;
    inherited['a'] = 1;
    expect(p.process(inherited)).toBe(inherited);
  });

  it('keeps exactly what the SDK deny-list processor keeps, on random attribute sets', () => {
    const ours = denyMetricAttributes(DENIED);
    const sdk = createDenyListAttributesProcessor(DENIED);
    const key = fc.oneof(fc.constantFrom(...DENIED, 'http.route', 'db.system.name'), fc.string({ maxLength: 8 }));
    const value = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.array(fc.string(), { maxLength: 3 }));
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 8 }), (attrs) => {
        expect(ours.process(attrs)).toEqual(sdk.process(attrs));
      }),
      { numRuns: 2000, seed: 15 },
    );
  });

  it('as the view of a real MeterProvider: denied keys never become dimensions, the series merge', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader], views: [{ instrumentName: '*', attributesProcessors: [denyMetricAttributes(DENIED)] }] });
    const counter = provider.getMeter('m').createCounter('requests');
    counter.add(1, { 'http.route': '/users/:id', 'url.path': '/users/1' });
    counter.add(2, { 'http.route': '/users/:id', 'url.path': '/users/2' });
    counter.add(5, { 'http.route': '/health' });
    const { resourceMetrics } = await reader.collect();
    const points = resourceMetrics.scopeMetrics[0]!.metrics[0]!.dataPoints as DataPoint<number>[];
    expect(points.map((p) => [p.attributes, p.value])).toEqual([
      [{ 'http.route': '/users/:id' }, 3],
      [{ 'http.route': '/health' }, 5],
    ]);
    await provider.shutdown();
  });
});
