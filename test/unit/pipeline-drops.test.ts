// The drop counts `summary` and `doctor` show: one row per service and release, reasons summed.
import { describe, expect, it } from 'vitest';
import { dropsQuery, dropsText, renderDoctorDrops, telemetryDrops } from '../../src/cli/shared/pipeline-drops.js';
import type { PrometheusClient, Sample } from '../../src/cli/prometheus.js';

const fake = (samples: Sample[]) => ({ query: async () => samples }) as unknown as PrometheusClient;

describe('pipeline drops', () => {
  it('groups Prometheus samples per service and release, reasons summed, zero rows left out', async () => {
    const rows = await telemetryDrops(fake([
      { labels: { job: 'shop', service_version: '1.0', error_type: 'queue_full' }, value: 10 },
      { labels: { job: 'shop', service_version: '1.0', error_type: 'ECONNREFUSED' }, value: 2.0000001 },
      { labels: { job: 'api', service_version: '2.0', error_type: 'queue_full' }, value: 0 },
    ]), '1h', 0);
    expect(rows).toEqual([{ service: 'shop', release: '1.0', total: 12, reasons: { queue_full: 10, ECONNREFUSED: 2 } }]);
    expect(dropsText(rows[0])).toBe('12 (queue_full 10, ECONNREFUSED 2)');
    expect(dropsText({ total: 0, reasons: {} })).toBe('0');
    expect(renderDoctorDrops({ services: rows })).toMatch(/\n {2}shop 1\.0: 12 \(queue_full 10, ECONNREFUSED 2\)$/);
    expect(renderDoctorDrops({ error: 'cannot reach Prometheus' })).toMatch(/unknown: cannot reach Prometheus$/);
  });

  it('counts growth over the window with the extra label matchers inside the selector', () => {
    const q = dropsQuery('1h', ['job="shop"']);
    expect(q).toContain('error_type!="", job="shop"}[1h] offset 1h');
    expect(q.startsWith('sum by (job, service_version, error_type) (last_over_time({__name__=~"otel_sdk_')).toBe(true);
  });
});
