// OTEL_MONITOR_LEAN_METRICS, one variable away: the Express example under the preload, with our
// lean duration histograms (the default) and with the SDK's (false), exports the same
// http.server.request.duration and http.client.request.duration series (scope, unit, type,
// attributes, counts) to a real OTLP receiver, and the start-up line says which ran. A plugin's
// metric exporter reads them too: its reader carries the lean producer like ours.
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { withReceiver, type MetricRecord } from '../helpers/otlp-receiver.js';
import { startApp, ROOT } from '../helpers/app.js';
import { stopAll, waitFor } from '../helpers/process.js';

afterEach(async () => {
  await stopAll();
});

const NAMES = ['http.server.request.duration', 'http.client.request.duration'];

/** The last exported value of each series of the two histograms (cumulative: the last is the total). */
function series(metrics: MetricRecord[]): Record<string, { scope: string; unit: string; type: string; count?: number }> {
  const out: Record<string, { scope: string; unit: string; type: string; count?: number }> = {};
  for (const m of metrics.filter((x) => NAMES.includes(x.name))) {
    for (const p of m.dataPoints) {
      // The fetch's server.port is the app's random port: the same within a run, not across runs.
      const { 'server.port': _port, ...attributes } = p.attributes;
      const key = `${m.name} ${JSON.stringify(Object.entries(attributes).sort())}`;
      out[key] = { scope: m.scope, unit: m.unit, type: m.type, count: p.count };
    }
  }
  return out;
}

const run = (env: Record<string, string>) =>
  withReceiver(async (r) => {
    const app = await startApp({ script: 'examples/app.js', env: { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_SERVICE_NAME: 'lean-metrics', OTEL_METRIC_EXPORT_INTERVAL: '500', ...env } });
    for (const path of ['/users/7', '/users/8', '/upstream', '/fail', '/nowhere']) await app.get(path);
    // 6 server requests (the fetch's own included) and 1 client request, counted in a later export.
    const seen = await waitFor(
      () => {
        const s = series(r.metrics());
        const count = (name: string) => Object.entries(s).reduce((n, [k, v]) => n + (k.startsWith(`${name} `) ? (v.count ?? 0) : 0), 0);
        return count(NAMES[0]!) >= 6 && count(NAMES[1]!) >= 1 ? s : undefined;
      },
      { what: 'both duration histograms with every request', timeoutMs: 30_000 },
    );
    return { series: seen, line: /metrics=(\S+)/.exec(app.output())?.[1] };
  });

describe('lean duration histograms, one variable away', () => {
  it('OTEL_MONITOR_LEAN_METRICS=false exports the same series from the SDK histogram', async () => {
    const [lean, sdk] = await Promise.all([run({}), run({ OTEL_MONITOR_LEAN_METRICS: 'false' })]);
    expect([lean.line, sdk.line]).toEqual(['lean', 'sdk']);
    expect(Object.keys(lean.series).length).toBeGreaterThanOrEqual(5);
    expect(lean.series).toEqual(sdk.series);
    expect(lean.series[`http.server.request.duration ${JSON.stringify(Object.entries({ 'error.type': '500', 'http.request.method': 'GET', 'http.response.status_code': 500, 'http.route': '/fail', 'network.protocol.version': '1.1', 'url.scheme': 'http' }).sort())}`]).toEqual({
      scope: '@org/otel-monitor/http-server',
      unit: 's',
      type: 'histogram',
      count: 1,
    });
  });

  it("a plugin's metric exporter gets the lean series through its reader, and they stay lean", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lean-metrics-')), 'plugin.jsonl');
    const result = await run({ OTEL_MONITOR_PLUGINS: join(ROOT, 'test/fixtures/plugins/recorder.mjs'), PLUGIN_OUT: file });
    expect(result.line).toBe('lean');
    const names = await waitFor(
      () => {
        if (!existsSync(file)) return undefined;
        const exported = readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { event: string; names?: string[] })
          .flatMap((e) => (e.event === 'metrics' ? (e.names ?? []) : []));
        return NAMES.every((n) => exported.includes(n)) ? exported : undefined;
      },
      { what: "the plugin's export of both histograms", timeoutMs: 30_000 },
    );
    expect(names).toEqual(expect.arrayContaining(NAMES));
  });
});
